"""An independent numpy implementation of the calibration algorithms of src/quant, to cross-check
the C++ (test_entropy_numpy.py). Written from the published descriptions, not from our C++:

- the histogram: 2048 bins of |x| over [0, R), R the smallest power of two strictly above max|x|
  (our streaming histogram's range; then binning is exact and order-independent);
- EntropyCalibration2 as NVIDIA's pytorch-quantization computes it (calib/histogram.py,
  _compute_amax_entropy): bin 0 takes bin 1's count; for i in [128, last non-empty bin]:
  P = bins[:i] with the tail added to P[i-1]; Q = bins[:i] merged into 128 levels
  (np.linspace / np.digitize), each level spread evenly over its non-empty bins; KL(P || Q) as
  scipy.stats.entropy; the largest i of least divergence; amax = i * bin width.
"""
import numpy as np


def histogram(batches, bins=2048):
    max_abs = max(float(np.max(np.abs(b))) for b in batches)
    if max_abs == 0.0:
        return np.zeros(bins, np.int64), 0.0
    _, exponent = np.frexp(max_abs)
    rng = float(np.ldexp(1.0, exponent))
    counts = np.zeros(bins, np.int64)
    for b in batches:
        idx = np.floor(np.abs(b.astype(np.float64)).ravel() * (bins / rng)).astype(np.int64)
        counts += np.bincount(idx, minlength=bins)
    return counts, rng


def kl_divergence(p, q):
    """scipy.stats.entropy(p, q): both normalised, sum of rel_entr."""
    p = p / p.sum()
    q = q / q.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, np.where(q > 0, p * np.log(p / q), np.inf), 0.0)
    return float(terms.sum())


def entropy2_amax(counts, rng, start_bin=128, num_quantized_bins=128):
    width = rng / len(counts)
    nonzero = np.nonzero(counts)[0]
    stop = int(nonzero[-1]) + 1 if len(nonzero) else 0
    if stop <= start_bin:
        return stop * width, []
    bins = counts[:stop].astype(np.float64).copy()
    bins[0] = bins[1]
    divergences = []
    for i in range(start_bin, stop + 1):
        space = np.linspace(0, i, num=num_quantized_bins + 1)
        levels = np.digitize(np.arange(i), space) - 1
        levels[bins[:i] == 0] = -1
        q = np.zeros(i)
        for level in np.unique(levels[levels >= 0]):
            members = levels == level
            q[members] = bins[:i][members].sum() / members.sum()
        p = bins[:i].copy()
        p[-1] += bins[i:].sum()
        divergences.append(kl_divergence(p, q))
    divergences = np.array(divergences)
    best = len(divergences) - 1 - int(np.argmin(divergences[::-1]))  # the last minimum
    return (best + start_bin) * width, divergences
