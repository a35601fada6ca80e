#!/usr/bin/env python3
"""INT8 throughput: Fulcrum FP32 vs Fulcrum INT8 vs ONNX Runtime on the same quantization
(our `fulcrum export-qdq` model) and ONNX Runtime FP32, interleaved (issue 4, acceptance 2).

    .venv/bin/python bench/int8.py [--models resnet50,bert_base_opset13] [--batches 1,8]
        [--threads 2] [--reps 5] [--duration 3] [--fulcrum build/fulcrum]
        [--calib-samples 32] [--cache-dir ~/.cache/fulcrum/int8-bench] [--out docs/benchmarks.md] [--quick]

Each model is calibrated once (entropy) and the cache kept under --cache-dir, on inputs
generated as models.py generates the bench's (speed does not depend on which samples set
the scales). The INT8 engine is built once from that cache (`fulcrum build
--int8 --calib-cache`), and ONNX Runtime runs `fulcrum export-qdq` of the same cache.
Timing reuses compare.py's harness (runner.py: one child process per run, `fulcrum bench
--json` / peer.py, wait4 RSS) and the same inputs (models.py). The report is written
between markers in --out, leaving the rest of the file (compare.py's FP32 report) alone,
with a chart next to it (benchmarks_int8.png). --quick: batch 1, one short rep, temp output.
"""
import argparse
import datetime
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import models  # noqa: E402  (sibling modules of this script)
import report  # noqa: E402
from compare import default_zoo, machine, order, progress, versions, write_inputs  # noqa: E402
from measure import load_text, measure, replace_section  # noqa: E402
from runner import Job, run_one  # noqa: E402

BEGIN, END = report.INT8_BEGIN, "<!-- END bench/int8.py -->"  # report.py keeps this section
DEFAULT_MODELS = ("resnet50", "bert_base_opset13")
# variant -> (runtime in runner.py, label)
VARIANTS = {
    "fulcrum_fp32": ("fulcrum", "Fulcrum FP32"),
    "fulcrum_int8": ("fulcrum", "Fulcrum INT8"),
    "ort_qdq": ("ort", "ORT on export-qdq"),
    "ort_fp32": ("ort", "ORT FP32"),
}
# (numerator, denominator, acceptance bound per model, or None)
RATIOS = (
    ("fulcrum_int8", "fulcrum_fp32", {"resnet50": 2.0, "bert_base_opset13": 1.5, "bert_base_opset17": 1.5}),
    ("fulcrum_int8", "ort_qdq", {"resnet50": 1.3}),
    ("fulcrum_fp32", "ort_fp32", {}),
)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0, help="timed seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    ap.add_argument("--fulcrum", default=str(ROOT / "build" / "fulcrum"), help="the fulcrum binary")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="subset of " + ",".join(VARIANTS))
    ap.add_argument("--zoo", default=default_zoo())
    ap.add_argument("--calib-samples", type=int, default=32, help="calibration samples per model")
    ap.add_argument("--cache-dir", help="calibration caches, kept across runs "
                    "(default ~/.cache/fulcrum/int8-bench; --quick: a temp dir, so it always calibrates)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one child is killed")
    ap.add_argument("--quick", action="store_true", help="smoke run: batch 1, one short rep, temp output")
    a = ap.parse_args(argv)
    if a.quick:
        a.batches, a.reps, a.duration, a.warmup = "1", 1, 1.0, 0.3
        a.calib_samples = min(a.calib_samples, 2)
        quick_dir = Path(tempfile.mkdtemp(prefix="fulcrum-int8-quick-"))
        a.out = str(quick_dir / "benchmarks.md")
        a.cache_dir = a.cache_dir or str(quick_dir / "calib")
    a.cache_dir = a.cache_dir or str(Path("~/.cache/fulcrum/int8-bench").expanduser())
    a.models = [m for m in a.models.split(",") if m]
    a.batches = [int(b) for b in a.batches.split(",") if b]
    a.variants = [v for v in a.variants.split(",") if v]
    if [v for v in a.variants if v not in VARIANTS] or a.reps < 1 or a.threads < 1 or a.duration <= 0:
        ap.error(f"--variants from {','.join(VARIANTS)}; --reps, --threads >= 1; --duration > 0")
    return a


def calib_data(a, name, path, out):
    """--calib-samples samples for `name` as a .npz named after its inputs: models.py's generated
    inputs (seed 0; BERT: random ids, attention mask ones), the distribution the bench runs on.
    Not the BERT zoo sample: its padded attention mask turns `(1 - mask) * -FLT_MAX` into a
    tensor whose calibrated scale is infinite, which `fulcrum calibrate` rejects."""
    code = (f"import sys, numpy as np; sys.path.insert(0, {str(HERE)!r}); import models; "
            f"np.savez({str(out)!r}, **models.make_inputs({name!r}, "
            f"models.input_specs({str(path)!r}, {name!r}, {a.calib_samples})))")
    # A child, as compare.py does, so this process never holds numpy arrays (see models.py).
    subprocess.run([sys.executable, "-c", code], check=True)


def prepare(a, name, work):
    """-> {variant: model path} for `name`; calibrates and exports once, cached in --cache-dir."""
    path = models.model_path(a.zoo, name)
    cache_dir = Path(a.cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache = cache_dir / f"{name}.entropy.n{a.calib_samples}.calib"
    if not cache.exists():
        data = Path(work) / f"{name}_calib.npz"
        calib_data(a, name, path, data)
        progress(f"  {name}: calibrating on {a.calib_samples} samples (cached as {cache}) ...")
        m = measure([a.fulcrum, "calibrate", path, "--calib-data", data, "-o", cache],
                    Path(work) / f"{name}_calibrate.log", a.timeout)
        if not m.ok:
            cache.unlink(missing_ok=True)
            raise models.ModelError(f"fulcrum calibrate failed: {m.error}")
        progress(f"    {m.wall_s:.1f} s, peak RSS {m.rss_mb:.0f} MB")
    paths = {"fulcrum_fp32": path, "ort_fp32": path}
    steps = [("fulcrum_int8", Path(work) / f"{name}.int8.fulcrum", ["build", path, "--int8"]),
             # uint8 activations (zero point 128, the same symmetric grid): the form ONNX Runtime 1.30
             # fuses fully into QLinearConv on x86; with int8 it keeps about half the convs in float.
             ("ort_qdq", Path(work) / f"{name}.qdq.onnx", ["export-qdq", path, "--all-ops", "--uint8-activations"])]
    for variant, out, args in steps:
        if variant not in a.variants:
            continue
        m = measure([a.fulcrum, *args, "--calib-cache", cache, "-o", out], Path(work) / f"{name}_{variant}.log",
                    a.timeout)
        if not m.ok:
            raise models.ModelError(f"{' '.join(args[:1])} failed: {m.error}")
        paths[variant] = out
    return paths


def bench_cell(a, name, batch, paths, work):
    """All reps of all variants for one model and batch -> {variant: [RunResult]}."""
    runs = {v: [] for v in a.variants}
    inputs = write_inputs(a.zoo, name, batch, work / f"{name}_b{batch}_inputs")
    for rep in range(a.reps):
        for v in order(rep, a.variants):
            runtime, label = VARIANTS[v]
            job = Job(f"{name}-{v}", paths[v], batch, inputs, a.threads, a.warmup, a.duration, a.fulcrum, None,
                      a.timeout)
            progress(f"  {name} batch {batch} rep {rep + 1}/{a.reps}: {label} ...")
            r = run_one(runtime, job, work)
            runs[v].append(r)
            if r.ok:
                progress(f"    {r.result['throughput_qps']:.3f} qps, median {r.result['latency_ms']['median']:.1f} ms, "
                         f"peak RSS {r.rss_mb:.0f} MB")
            else:
                progress(f"    FAILED: {r.error}")
    return runs


def paired(cell, num, den):
    """num / den within each repetition (back to back, so slow load drift cancels)."""
    n, d = cell["rt"].get(num, {}), cell["rt"].get(den, {})
    return [x / y for x, y in zip(n.get("by_rep", []), d.get("by_rep", [])) if x and y]


def ratio_text(cell, num, den, bound):
    r = paired(cell, num, den)
    if not r:
        return "—"
    med = statistics.median(r)
    spread = f" ({min(r):.2f}–{max(r):.2f})" if len(r) > 1 else ""
    verdict = "" if bound is None else (" ✓" if med >= bound else f" ✗ (< {bound})")
    return f"{med:.2f}{spread}{verdict}"


def table(cells, variants):
    vs = [v for v in VARIANTS if v in variants]
    ratios = [(n, d, b) for n, d, b in RATIOS if n in vs and d in vs]
    head = ["Model", "Batch", *(f"{VARIANTS[v][1]} qps" for v in vs)]
    head += [f"{VARIANTS[n][1]} / {VARIANTS[d][1]}" for n, d, _ in ratios]
    head += ["Median latency ms (" + " / ".join(VARIANTS[v][1] for v in vs) + ")",
             "Peak RSS MB (" + " / ".join(VARIANTS[v][1] for v in vs) + ")"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for c in cells:
        row = [c["model"], str(c["batch"])]
        row += [_get(c, v, "qps", ".2f") for v in vs]
        row += [ratio_text(c, n, d, b.get(c["model"])) for n, d, b in ratios]
        row += [" / ".join(_get(c, v, "lat", ".1f") for v in vs), " / ".join(_get(c, v, "rss", ".0f") for v in vs)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _get(cell, v, key, spec):
    x = cell["rt"].get(v, {}).get(key)
    return "—" if x is None else format(x, spec)


def failures(cells):
    out = []
    for c in cells:
        for v, r in c["rt"].items():
            if "error" in r:
                out.append(f"- {c['model']} batch {c['batch']}, {VARIANTS[v][1]}: `{r['error'][:300]}`")
            elif r["failed"]:
                out.append(f"- {c['model']} batch {c['batch']}, {VARIANTS[v][1]}: {r['failed']} rep(s) failed")
    return out


def chart(cells, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    pairs = [(n, d) for n, d, _ in RATIOS if any(paired(c, n, d) for c in cells)]
    if not pairs:
        return False
    labels = [f"{c['model']}\nbatch {c['batch']}" for c in cells]
    fig, ax = plt.subplots(figsize=(max(7, 1.6 * len(cells)), 4.5), dpi=110)
    width = 0.8 / len(pairs)
    top = 1.0
    for i, (n, d) in enumerate(pairs):
        vals = [statistics.median(paired(c, n, d)) if paired(c, n, d) else 0 for c in cells]
        top = max(top, *vals)
        xs = [j + (i - (len(pairs) - 1) / 2) * width for j in range(len(cells))]
        bars = ax.bar(xs, vals, width, label=f"{VARIANTS[n][1]} / {VARIANTS[d][1]}")
        ax.bar_label(bars, labels=[f"{v:.2f}" if v else "n/a" for v in vals], fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, top * 1.15)
    ax.set_xticks(range(len(cells)), labels, fontsize=8)
    ax.set_ylabel("throughput ratio")
    ax.set_title("INT8 throughput ratios (CPU; ONNX Runtime runs the same Q/DQ scales)", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return True


def section(a, cells, info, png_name):
    parts = [
        "## INT8: Fulcrum FP32 vs Fulcrum INT8 vs ONNX Runtime on the same quantization",
        "",
        "Generated by `bench/int8.py`; do not edit by hand (compare.py leaves this section alone).",
        "",
        f"- Machine: {info['cpu']}, {info['nproc']} logical CPUs; date {info['date']}",
        f"- Versions: {info['versions']}",
        f"- Threads: {a.threads}; {a.reps} repetitions of {a.duration} s (after {a.warmup} s warm-up) per "
        "variant, interleaved in rotated order",
        f"- Load average at start / end: {info['load'][0]} / {info['load'][1]}",
        f"- Command: `{info['command']}`",
        "",
        table(cells, a.variants),
        "",
        "Ratios are medians of per-repetition ratios (range in parentheses); ✓/✗ against issue 4's "
        "acceptance 2 (ResNet-50 INT8 ≥ 2× Fulcrum FP32 and ≥ 1.3× ONNX Runtime on the same Q/DQ model; "
        "BERT INT8 ≥ 1.5× Fulcrum FP32). "
        f"Scales: `fulcrum calibrate` (entropy) on {a.calib_samples} samples generated like the bench "
        "inputs below (throughput does not depend on which samples set the scales). "
        "Fulcrum INT8: `fulcrum build --int8 --calib-cache` to an engine file, then `fulcrum bench`. "
        "ORT on export-qdq: ONNX Runtime 1.30 (CPU EP, as in the FP32 table) on `fulcrum export-qdq` "
        "--all-ops --uint8-activations of the same cache (every op ONNX Runtime's quantizer takes, the form it fuses most): per-channel int8 weights, per-tensor symmetric activations "
        "as uint8 with zero point 128 (the int8 grid shifted; ONNX Runtime 1.30 fuses this form into "
        "QLinearConv/QLinearMatMul on x86, and only half the convs of the int8 form). Inputs, "
        "processes and RSS as in the FP32 table above.",
        "",
    ]
    if png_name:
        parts += [f"![INT8 throughput ratios]({png_name})", ""]
    fails = failures(cells) + info["setup_failures"]
    if fails:
        parts += ["Failures:", "", *fails, ""]
    parts += ["<details><summary>INT8: throughput of every repetition</summary>", "",
              "| Model | Batch | Variant | qps per rep |", "|---|---|---|---|"]
    for c in cells:
        for v, r in c["rt"].items():
            if "reps" in r:
                parts.append(f"| {c['model']} | {c['batch']} | {VARIANTS[v][1]} | "
                             + ", ".join(f"{q:.3f}" for q in r["reps"]) + " |")
    parts += ["", "</details>"]
    return "\n".join(parts)


def main(argv=None):
    a = parse_args(argv)
    cpu, nproc = machine()
    info = {"cpu": cpu, "nproc": nproc, "versions": versions(argparse.Namespace(runtimes=["fulcrum", "ort"],
                                                                                fulcrum=a.fulcrum)),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load": [load_text(), None], "setup_failures": [],
            "command": " ".join(shlex.quote(x) for x in ["bench/int8.py", *(argv or sys.argv[1:])])}
    progress(f"int8 bench: {cpu} x{nproc}; {info['versions']}; load {info['load'][0]}")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="fulcrum-int8-") as tmp:
        work = Path(tmp)
        for name in a.models:
            try:
                paths = prepare(a, name, work)
            except (models.ModelError, subprocess.CalledProcessError) as e:
                progress(f"  {name}: skipped: {e}")
                info["setup_failures"].append(f"- {name}: {e}")
                continue
            for batch in a.batches:
                try:
                    rows[(name, batch)] = bench_cell(a, name, batch, paths, work)
                except models.ModelError as e:
                    info["setup_failures"].append(f"- {name} batch {batch}: {e}")
    info["load"][1] = load_text()
    cells = report.aggregate(rows)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    png = out.with_name(out.stem + "_int8.png")
    png_name = png.name if chart(cells, png) else None
    replace_section(out, BEGIN, END, section(a, cells, info, png_name))
    print()
    print(table(cells, a.variants))
    print(f"\nwrote the INT8 section of {out}" + (f" and {png}" if png_name else ""))
    fails = failures(cells) + info["setup_failures"]
    if fails:
        print("\n".join(["failures:", *fails]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
