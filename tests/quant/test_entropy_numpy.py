"""Cross-checks src/quant's histogram and EntropyCalibration2 against the independent numpy
implementation in entropy_reference.py, on the same data: the C++ runs in the small
quant_calibrate_npy executable (QUANT_CALIBRATE_NPY, built with the unit tests)."""
import os
import subprocess

import numpy as np
import pytest

import entropy_reference as ref

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def calibrate_bin():
    path = os.environ.get("QUANT_CALIBRATE_NPY", os.path.join(ROOT, "build", "tests", "quant_calibrate_npy"))
    if not os.path.exists(path):
        pytest.fail(f"{path} does not exist: build the quant_calibrate_npy target")
    return path


def run_cpp(binary, spec, batches, tmp_path):
    files = []
    for i, b in enumerate(batches):
        files.append(str(tmp_path / f"batch{i}.npy"))
        np.save(files[-1], b)
    out = subprocess.run([binary, spec, *files], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    fields = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    counts = np.array(fields["counts"].split(), np.int64) if "counts" in fields else None
    return np.float32(float(fields["amax"])), float(fields.get("range", "nan")), counts


def distributions():
    rs = np.random.RandomState(1234)
    f32 = np.float32
    yield "gaussian", [rs.randn(40000).astype(f32) for _ in range(3)]
    yield "relu_gaussian", [np.maximum(rs.randn(50000), 0).astype(f32) for _ in range(2)]
    yield "student_t3", [rs.standard_t(3, 60000).astype(f32)]
    yield "uniform", [rs.uniform(-2, 2, 30000).astype(f32)]
    yield "laplace_with_outliers", [np.concatenate([rs.laplace(0, 0.3, 50000), [25.0, -40.0]]).astype(f32)]
    # The range grows over the batches (1/64 to 8): the streamed histogram re-bins twice.
    yield "growing_range", [(rs.randn(20000) * s).astype(f32) for s in (0.01, 0.3, 2.0)]
    yield "nchw_activation", [np.abs(rs.randn(4, 16, 7, 7)).astype(f32) * rs.gamma(2, 1, (4, 16, 1, 1)).astype(f32)]


@pytest.mark.parametrize("name,batches", list(distributions()), ids=[d[0] for d in distributions()])
def test_entropy2_matches_numpy(calibrate_bin, tmp_path, name, batches):
    amax, rng, counts = run_cpp(calibrate_bin, "entropy", batches, tmp_path)
    ref_counts, ref_range = ref.histogram(batches)
    assert rng == ref_range
    np.testing.assert_array_equal(counts, ref_counts)
    ref_amax, divergences = ref.entropy2_amax(ref_counts, ref_range)
    print(f"{name}: C++ amax {amax}, numpy {ref_amax}")
    if amax != np.float32(ref_amax):
        # Only a near-tie between two thresholds may resolve differently in the last bits of
        # the sums; anything else is a real disagreement.
        width = ref_range / 2048
        ours = divergences[int(round(amax / width)) - 128]
        best = divergences.min()
        assert ours == pytest.approx(best, rel=1e-9, abs=1e-12), f"{name}: C++ {amax}, numpy {ref_amax}"
    assert 0 < amax <= ref_range


def test_minmax_and_percentile_bounds(calibrate_bin, tmp_path):
    rs = np.random.RandomState(7)
    batches = [rs.randn(100000).astype(np.float32)]
    minmax, _, _ = run_cpp(calibrate_bin, "minmax", batches, tmp_path)
    assert minmax == np.abs(batches[0]).max()
    pct, rng, counts = run_cpp(calibrate_bin, "percentile=99.9", batches, tmp_path)
    # Ours is the upper edge of the bin holding the smallest |x| whose CDF reaches p (numpy's
    # inverted_cdf method): at most one bin above it.
    exact = np.percentile(np.abs(batches[0]), 99.9, method="inverted_cdf")
    assert 0 <= pct - exact <= rng / 2048


def test_nan_is_an_error_naming_the_tensor(calibrate_bin, tmp_path):
    path = tmp_path / "nan.npy"
    np.save(path, np.array([1.0, np.nan], np.float32))
    out = subprocess.run([calibrate_bin, "entropy", str(path)], capture_output=True, text=True, check=False)
    assert out.returncode == 1
    assert "'t': NaN at element 1" in out.stderr
