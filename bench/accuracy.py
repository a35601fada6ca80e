#!/usr/bin/env python3
"""Top-1 of the Fashion-MNIST models per precision and calibrator, and what calibration costs,
Fulcrum vs ONNX Runtime's quantize_static (issue 4, acceptance 1, 2, 4 and 5).

    .venv/bin/python bench/accuracy.py [--fulcrum build/fulcrum] [--models cnn,vit]
        [--out docs/accuracy.md] [--work DIR] [--quick]

Accuracy: Fashion CNN and ViT on the 10,000 test images: FP32, FP16, FP16 numerics, INT8 with
each calibrator (calibrated on the 500 calibration images of models/fashion/data.py), ONNX
Runtime on `fulcrum export-qdq` of the entropy cache, ONNX Runtime's own quantize_static
(MinMax, Entropy) on the same 500 images, and ONNX Runtime FP32 as the reference.
Cost: wall time and peak RSS of `fulcrum calibrate` (entropy) vs quantize_static on the same
samples for the Fashion CNN and ResNet-50, and ResNet-50's FP32 inference peak RSS (batch 1).
Writes --out and a bar chart next to it (.png). Exits non-zero when any step failed (the
report lists it). --quick: 2,000 test images, ResNet-50 on 50 samples, report to the work dir.
"""
import argparse
import datetime
import importlib.metadata
import importlib.util
import os
import shlex
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FASHION = ROOT / "models" / "fashion"
sys.path.insert(0, str(HERE))
from compare import default_zoo, machine, progress  # noqa: E402  (bench/compare.py's helpers)
from measure import Measured, fulcrum_version, load_text, measure, rss_note  # noqa: E402

CALIBRATORS = ("entropy", "minmax", "percentile=99.99", "mse")
ORT_METHODS = ("minmax", "entropy")
# quantize_static's Entropy calibrator stacks the per-batch outputs with np.asarray and fails on
# a ragged last batch, so every calibration here uses a batch that divides the sample count.
CALIB_BATCH = 10
CHUNK = 2500  # test images per `fulcrum run` (bounds the activation arena of the FP32 CNN)
RESNET_SAMPLES = 500


def _load_by_path(name, path):
    """models/fashion/{data,eval}.py by path: both names are too common to import by name."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fashion_data = _load_by_path("fashion_data", FASHION / "data.py")
fashion_eval = _load_by_path("fashion_eval", FASHION / "eval.py")


@dataclass
class Row:
    """One accuracy result: a precision / calibrator / runtime on one model."""
    label: str
    top1: dict = field(default_factory=dict)  # model -> top-1 in [0, 1]
    errors: dict = field(default_factory=dict)  # model -> message
    same_as_fp32: list = field(default_factory=list)  # models whose logits equal FP32's bit for bit


@dataclass
class Cost:
    model: str
    tool: str
    samples: int
    m: Measured
    top1: float | None = None


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fulcrum", default=str(ROOT / "build" / "fulcrum"), help="the fulcrum binary")
    ap.add_argument("--models", default="cnn,vit", help="Fashion models (models/fashion/NAME.onnx)")
    ap.add_argument("--zoo", default=default_zoo(), help="zoo export dir holding resnet50/model.onnx")
    ap.add_argument("--out", default=str(ROOT / "docs" / "accuracy.md"))
    ap.add_argument("--work", help="work dir (kept); default: a temp dir, removed")
    ap.add_argument("--test-images", type=int, default=10000, help="first N test images")
    ap.add_argument("--resnet-samples", type=int, default=RESNET_SAMPLES, help="0: skip ResNet-50")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--quick", action="store_true", help="smoke run: 2,000 test images, ResNet-50 on 50 samples")
    a = ap.parse_args(argv)
    if a.quick:
        a.test_images, a.resnet_samples = min(a.test_images, 2000), min(a.resnet_samples, 50)
        if a.out == str(ROOT / "docs" / "accuracy.md"):
            a.out = None  # set to the work dir once it exists
    a.models = [m for m in a.models.split(",") if m]
    return a


class Bench:
    def __init__(self, a, work):
        self.a, self.work = a, Path(work)
        self.failures = []

    def step(self, what, cmd):
        """Runs one measured child; a failure is recorded, not raised."""
        tag = "".join(c if c.isalnum() or c in "._-" else "_" for c in what)
        m = measure(cmd, self.work / f"{tag}.log", self.a.timeout)
        status = f"{m.wall_s:.1f} s, peak RSS {m.rss_mb:.0f} MB" if m.ok else f"FAILED: {m.error}"
        progress(f"  {what}: {status}")
        if not m.ok:
            self.failures.append(f"{what}: {m.error}")
        return m

    def fulcrum(self, *args):
        return [self.a.fulcrum, *args]

    def python(self, *args):
        return [sys.executable, *args]


def prepare_fashion(bench):
    """The .npy files of models/fashion/data.py, and the first --test-images cut into chunks."""
    out = bench.work / "fashion"
    fashion_data.write_npy(str(out))
    images = np.load(out / "test_images.npy")[:bench.a.test_images]
    labels = np.load(out / "test_labels.npy")[:bench.a.test_images]
    chunks = []
    for i in range(0, len(images), CHUNK):
        chunks.append(out / f"test_{i:05d}.npy")
        np.save(chunks[-1], images[i:i + CHUNK])
    return out / "calib_images.npy", images, labels, chunks


def fulcrum_logits(bench, model, tag, flags, chunks):
    """Builds an engine once with `flags`, runs it over the test chunks; logits or None."""
    engine = bench.work / f"{model.stem}.{tag}.fulcrum"
    if not bench.step(f"{model.stem} {tag}: build", bench.fulcrum("build", model, *flags, "-o", engine)).ok:
        return None
    logits = []
    for i, chunk in enumerate(chunks):
        out = bench.work / f"{model.stem}.{tag}.out{i}"
        m = bench.step(f"{model.stem} {tag}: run {chunk.name}",
                       bench.fulcrum("run", engine, "--input", f"image={chunk}", "--output-dir", out))
        if not m.ok:
            return None
        logits.append(np.load(out / "logits.npy"))
    return np.concatenate(logits)


def ort_top1(bench, onnx_path, images, labels, what):
    try:
        return fashion_eval.top1(str(onnx_path), images, labels)
    except Exception as e:  # noqa: BLE001  (any ORT failure becomes a row in the report)
        bench.failures.append(f"{what}: ONNX Runtime: {e}")
        progress(f"  {what}: ONNX Runtime FAILED: {e}")
        return None


def calibrate(bench, name, model, calib, calibrator, batch=CALIB_BATCH):
    cache = bench.work / f"{name}.{calibrator.replace('=', '')}.b{batch}.calib"
    cmd = bench.fulcrum("calibrate", model, "--calib-data", calib, "--calibrator", calibrator,
                        "--batch", batch, "-o", cache)
    return cache, bench.step(f"{name} fulcrum calibrate {calibrator} batch {batch}", cmd)


def ort_quantize(bench, name, model, calib, method, samples=0):
    out = bench.work / f"{name}.ort-{method}.onnx"
    cmd = bench.python(HERE / "ort_quant.py", model, calib, out, "--method", method, "--batch", CALIB_BATCH)
    if samples:
        cmd += ["--max-samples", samples]
    return out, bench.step(f"{name} ORT quantize_static {method}", cmd)


def same_scales(a, b):
    """Whether two QDQ models hold the same quantization scales (initializers named *_scale)."""
    import onnx
    from onnx import numpy_helper

    def scales(path):
        return {i.name: numpy_helper.to_array(i) for i in onnx.load(str(path)).graph.initializer
                if i.name.endswith("_scale")}
    sa, sb = scales(a), scales(b)
    return sa.keys() == sb.keys() and all(np.array_equal(sa[k], sb[k]) for k in sa)


def fashion_model(bench, name, data, rows, costs, notes):
    calib, images, labels, chunks = data
    model = FASHION / f"{name}.onnx"
    progress(f"{name}:")

    def put(label, value, error="failed (see Failures)"):
        row = rows.setdefault(label, Row(label))
        if value is None:
            row.errors[name] = error
        else:
            row.top1[name] = value
        return value

    fp32 = None

    def fulcrum(label, tag, flags):
        nonlocal fp32
        logits = fulcrum_logits(bench, model, tag, flags, chunks)
        put(label, None if logits is None else float((logits.argmax(1) == labels).mean()))
        if fp32 is None:
            fp32 = logits
        elif logits is not None and np.array_equal(logits, fp32):
            rows[label].same_as_fp32.append(name)  # the flag changed nothing: worth saying
        return rows[label].top1.get(name)

    put("FP32 (ONNX Runtime)", ort_top1(bench, model, images, labels, f"{name} FP32"))
    fulcrum("FP32", "fp32", [])
    fulcrum("FP16", "fp16", ["--fp16"])
    fulcrum("FP16 numerics", "fp16num", ["--fp16", "--fp16-numerics"])
    caches = {}
    for c in CALIBRATORS:
        cache, m = calibrate(bench, name, model, calib, c)
        caches[c] = cache if m.ok else None
        if m.ok:
            top1 = fulcrum(f"INT8 {c}", f"int8-{c.replace('=', '')}", ["--int8", "--calib-cache", cache])
        else:
            top1 = put(f"INT8 {c}", None)
        if c == "entropy" and name == "cnn":
            costs.append(Cost(name, "fulcrum calibrate (entropy)", fashion_data.CALIB_COUNT, m, top1))
    top1 = None
    if caches["entropy"]:
        qdq = bench.work / f"{name}.qdq.onnx"
        if bench.step(f"{name} export-qdq", bench.fulcrum("export-qdq", model, "--calib-cache", caches["entropy"],
                                                          "-o", qdq)).ok:
            top1 = ort_top1(bench, qdq, images, labels, f"{name} export-qdq")
    put("INT8 entropy, export-qdq in ONNX Runtime", top1)
    ort_models = {}
    for method in ORT_METHODS:
        out, m = ort_quantize(bench, name, model, calib, method)
        top1 = ort_top1(bench, out, images, labels, f"{name} ORT {method}") if m.ok else None
        put(f"ONNX Runtime quantize_static ({method})", top1)
        if m.ok:
            ort_models[method] = out
        if name == "cnn":
            costs.append(Cost(name, f"ORT quantize_static ({method})", fashion_data.CALIB_COUNT, m, top1))
    if len(ort_models) == 2 and same_scales(ort_models["minmax"], ort_models["entropy"]):
        # quantize_static passes no bin counts to its EntropyCalibrater, whose defaults (128 bins,
        # 128 quantized bins) leave the KL search one candidate: the whole range, i.e. MinMax.
        notes.append(f"{name}: ONNX Runtime's Entropy and MinMax models hold identical scales: quantize_static "
                     "gives its Entropy calibrator no bin counts, and the defaults (128 histogram bins, 128 "
                     "quantized bins) leave the KL search a single candidate, the whole range.")


def resnet_costs(bench, costs):
    """fulcrum calibrate (entropy) vs quantize_static on the same samples, and FP32 inference RSS."""
    n = bench.a.resnet_samples
    model = Path(bench.a.zoo) / "resnet50" / "model.onnx"
    if not n:
        return None
    if not model.exists():
        bench.failures.append(f"resnet50: {model} not found (models/zoo.py --out {bench.a.zoo} --only resnet50)")
        return None
    progress(f"resnet50 ({n} random-normal samples):")
    calib = bench.work / "resnet50_calib.npy"
    arr = np.lib.format.open_memmap(calib, mode="w+", dtype=np.float32, shape=(n, 3, 224, 224))
    rng = np.random.default_rng(0)
    for i in range(0, n, 50):  # a few MB at a time: this process's RSS is no child's business
        arr[i:i + 50] = rng.standard_normal((min(50, n - i), 3, 224, 224), dtype=np.float32)
    arr.flush()
    del arr
    _, m = calibrate(bench, "resnet50", model, calib, "entropy")
    costs.append(Cost("resnet50", "fulcrum calibrate (entropy)", n, m))
    # Acceptance 4 compares with inference at batch 1, so calibrate at batch 1 too.
    _, m = calibrate(bench, "resnet50", model, calib, "entropy", batch=1)
    costs.append(Cost("resnet50", "fulcrum calibrate (entropy), batch 1", n, m))
    _, m = ort_quantize(bench, "resnet50", model, calib, "minmax")
    costs.append(Cost("resnet50", "ORT quantize_static (minmax)", n, m))
    # quantize_static's Entropy calibrator keeps every intermediate tensor of every batch until
    # the end (calibrate.py HistogramCalibrater.collect_data), tens of MB per ResNet-50 image, so
    # it runs on at most 40 samples here (whole batches) and its RSS is reported for that count.
    few = max(CALIB_BATCH, min(n, 40) // CALIB_BATCH * CALIB_BATCH)
    _, m = ort_quantize(bench, "resnet50", model, calib, "entropy", few)
    costs.append(Cost("resnet50", "ORT quantize_static (entropy)", few, m))
    inputs = Path(bench.a.zoo) / "resnet50" / "inputs" / "input.npy"
    return bench.step("resnet50 FP32 inference (fulcrum run, batch 1)",
                      bench.fulcrum("run", model, "--input", f"input={inputs}", "--output-dir",
                                    bench.work / "resnet50_fp32_out"))


def _pct(v):
    return "—" if v is None else f"{100 * v:.2f}"


def accuracy_table(rows, models_):
    head = ["Precision / calibrator", *(f"{m} top-1 %" for m in models_), *(f"{m} Δ vs FP32" for m in models_)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = rows.get("FP32", Row("FP32")).top1
    for row in rows.values():
        cells = [row.label + (" ‡" if row.same_as_fp32 else "")]
        cells += [_pct(row.top1.get(m)) if m in row.top1 else "failed" for m in models_]
        for m in models_:
            v, b = row.top1.get(m), base.get(m)
            cells.append("—" if v is None or b is None else f"{100 * (v - b):+.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    same = [f"{r.label} ({', '.join(r.same_as_fp32)})" for r in rows.values() if r.same_as_fp32]
    if same:
        lines += ["", "‡ Logits bit-identical to Fulcrum FP32 on every test image, so the precision flag "
                  "changed nothing in this build: " + "; ".join(same) + "."]
    return "\n".join(lines)


def cost_table(costs):
    lines = ["| Model | Tool (calibrator) | Samples | Wall s | Peak RSS MB | Top-1 % |", "|---|---|---|---|---|---|"]
    for c in costs:
        wall, rss = (f"{c.m.wall_s:.1f}", f"{c.m.rss_mb:.0f}") if c.m.ok else ("failed", "—")
        lines.append(f"| {c.model} | {c.tool} | {c.samples} | {wall} | {rss} | {_pct(c.top1)} |")
    return "\n".join(lines)


def acceptance4(costs, infer):
    cal = next((c for c in costs if c.model == "resnet50" and c.tool.endswith("batch 1")), None)
    if not cal or not infer or not cal.m.ok or not infer.ok:
        return "ResNet-50 calibration RSS vs FP32 inference RSS: not measured (see Failures)."
    ratio = cal.m.rss_mb / infer.rss_mb
    return (f"ResNet-50: `fulcrum calibrate` (entropy, {cal.samples} samples, batch 1) peak RSS "
            f"{cal.m.rss_mb:.0f} MB vs FP32 inference (`fulcrum run`, batch 1) {infer.rss_mb:.0f} MB: "
            f"**{ratio:.2f}×** (acceptance 4: < 2×) {_check(ratio < 2)}")


def _check(ok):
    return "✓" if ok else "✗"


def acceptance(rows, models_, costs, infer):
    """Issue 4's acceptance items this report measures, each with its verdict."""
    def top1(label, m):
        return rows[label].top1.get(m) if label in rows else None

    out = []
    for m in models_:
        base = top1("FP32", m)
        if base is None:
            continue
        for label, bound, item in (("INT8 entropy", 0.5, 1), ("FP16 numerics", 0.1, 1)):
            v = top1(label, m)
            if v is not None:
                noop = " (but the flag changed no output: ‡)" if m in rows[label].same_as_fp32 else ""
                out.append(f"- {item}. {m}: {label} {100 * (v - base):+.2f} points vs FP32 (bound {bound}): "
                           f"{_check(abs(v - base) * 100 <= bound)}{noop}")
        ours, qdq = top1("INT8 entropy", m), top1("INT8 entropy, export-qdq in ONNX Runtime", m)
        if ours is not None and qdq is not None:
            out.append(f"- 5. {m}: export-qdq in ONNX Runtime {100 * (qdq - ours):+.2f} points vs Fulcrum INT8 "
                       f"entropy (bound 0.2): {_check(abs(qdq - ours) * 100 <= 0.2)}")
    ours = next((c for c in costs if c.model == "cnn" and c.tool.startswith("fulcrum")), None)
    for c in (c for c in costs if c.model == "cnn" and c.tool.startswith("ORT")):
        if ours and ours.m.ok and c.m.ok and ours.top1 is not None and c.top1 is not None:
            out.append(f"- 2. cnn: `fulcrum calibrate` vs {c.tool}: time {ours.m.wall_s / c.m.wall_s:.2f}× "
                       f"{_check(ours.m.wall_s < c.m.wall_s)}, peak RSS {ours.m.rss_mb / c.m.rss_mb:.2f}× "
                       f"{_check(ours.m.rss_mb < c.m.rss_mb)}, top-1 {100 * (ours.top1 - c.top1):+.2f} points "
                       f"{_check(ours.top1 >= c.top1)}")
    out.append("- 4. " + acceptance4(costs, infer))
    return "\n".join(out)


def chart(rows, models_, png, n_images):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [r.label for r in rows.values()]
    fig, ax = plt.subplots(figsize=(10, 4.8), dpi=110)
    width = 0.8 / len(models_)
    vals_all = []
    for i, m in enumerate(models_):
        vals = [100 * r.top1[m] if m in r.top1 else 0 for r in rows.values()]
        vals_all += [v for v in vals if v]
        xs = [j + (i - (len(models_) - 1) / 2) * width for j in range(len(labels))]
        bars = ax.bar(xs, vals, width, label=f"Fashion {m}")
        ax.bar_label(bars, labels=[f"{v:.2f}" if v else "n/a" for v in vals], fontsize=6, rotation=90, padding=2)
    if vals_all:
        ax.set_ylim(max(0, min(vals_all) - 2), min(100, max(vals_all) + 1.5))
    ax.set_xticks(range(len(labels)), [lb.replace(", ", ",\n").replace(" (", "\n(") for lb in labels],
                  fontsize=6.5, rotation=30, ha="right")
    ax.set_ylabel(f"top-1 % ({n_images:,} test images)")
    ax.set_title("Fashion-MNIST top-1 per precision and calibrator (y axis zoomed)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)


def markdown(a, info, rows, costs, infer, png_name, notes):
    n = a.test_images
    parts = [
        "# Accuracy: Fashion-MNIST per precision and calibrator; calibration cost",
        "",
        "Generated by `bench/accuracy.py`; do not edit by hand.",
        "",
        f"- Machine: {info['cpu']}, {info['nproc']} logical CPUs",
        f"- Date: {info['date']}",
        f"- Versions: {info['versions']}",
        f"- Load average at start / end: {info['load'][0]} / {info['load'][1]} (times below are wall clock "
        "on that machine: on a shared one, compare rows with each other, not with other runs)",
        f"- Command: `{info['command']}`",
        "",
        "## Issue 4 acceptance, as measured here",
        "",
        acceptance(rows, a.models, costs, infer),
        "",
        f"## Top-1 on {n:,} Fashion-MNIST test images",
        "",
        accuracy_table(rows, a.models),
        "",
        "Δ is in percentage points against Fulcrum FP32. INT8 rows: `fulcrum calibrate --calibrator C` on "
        "the 500 calibration images (the first 500 training images, pixels / 255), then "
        "`fulcrum build --int8 --calib-cache`; FP16 rows: `--fp16` and `--fp16 --fp16-numerics`. "
        "*export-qdq in ONNX Runtime*: the entropy cache written as a Q/DQ model by `fulcrum export-qdq` "
        "and run by ONNX Runtime (acceptance 5: within 0.2 points of Fulcrum's INT8 entropy). "
        "*ONNX Runtime quantize_static*: its own calibration on the same 500 images, QDQ, int8 weights per "
        "channel, symmetric int8 activations (`bench/ort_quant.py`).",
        "",
        *(f"- {n}" for n in notes),
        *([""] if notes else []),
    ]
    if png_name:
        parts += [f"![top-1 per precision]({png_name})", ""]
    parts += [
        "## Calibration cost: `fulcrum calibrate` vs ONNX Runtime `quantize_static`",
        "",
        cost_table(costs),
        "",
        f"Same samples for both tools, {CALIB_BATCH} per batch (ONNX Runtime's Entropy calibrator fails on a "
        "ragged last batch), every core. ResNet-50 samples are standard-normal 3×224×224 arrays (no "
        "photographs on the machine; calibration cost does not depend on the pixels). "
        "quantize_static's Entropy calibrator keeps every intermediate tensor of every batch in memory until "
        "the end (onnxruntime/quantization/calibrate.py, HistogramCalibrater.collect_data), so its memory "
        "grows with the sample count: on ResNet-50 it runs on at most 40 samples and its row is for that count. The *batch 1* row is for acceptance 4, which compares with FP32 "
        "inference at batch 1 (calibrating 10 samples per batch holds 10 samples' activations). "
        "Wall time includes process start and model loading; "
        "quantize_static's also includes writing the quantized model, `fulcrum calibrate`'s writing the "
        f"cache. {rss_note()} quantize_static runs in Python, so its figure includes the interpreter, numpy "
        "and onnx, as its users pay.",
        "",
    ]
    if info["failures"]:
        parts += ["## Failures", "", *(f"- {f}" for f in info["failures"]), ""]
    return "\n".join(parts)


def versions(a):
    out = [fulcrum_version(a.fulcrum)]
    out += [f"{p} {importlib.metadata.version(p)}" for p in ("onnxruntime", "onnx", "numpy")]
    return ", ".join(out)


def run(a, work):
    cpu, nproc = machine()
    info = {"cpu": cpu, "nproc": nproc, "versions": versions(a), "load": [load_text(), None],
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(shlex.quote(x) for x in ["bench/accuracy.py", *(sys.argv[1:])])}
    progress(f"accuracy: {cpu} x{nproc}; {info['versions']}; load {info['load'][0]}")
    bench = Bench(a, work)
    data = prepare_fashion(bench)
    rows, costs, notes = {}, [], []
    for name in a.models:
        fashion_model(bench, name, data, rows, costs, notes)
    infer = resnet_costs(bench, costs)
    info["load"][1], info["failures"] = load_text(), bench.failures
    out = Path(a.out or Path(work) / "accuracy.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_suffix(".png")
    chart(rows, a.models, png, a.test_images)
    out.write_text(markdown(a, info, rows, costs, infer, png.name, notes))
    print()
    print(accuracy_table(rows, a.models))
    print()
    print(cost_table(costs))
    print()
    print(acceptance(rows, a.models, costs, infer))
    print(f"\nwrote {out} and {png}")
    if bench.failures:
        print("\n".join(["failures:", *bench.failures]), file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    a = parse_args(argv)
    if a.work:
        Path(a.work).mkdir(parents=True, exist_ok=True)
        return run(a, a.work)
    if a.quick:  # keep the smoke run's report and logs to look at
        return run(a, tempfile.mkdtemp(prefix="fulcrum-accuracy-"))
    with tempfile.TemporaryDirectory(prefix="fulcrum-accuracy-") as work:
        return run(a, work)


if __name__ == "__main__":
    sys.exit(main())
