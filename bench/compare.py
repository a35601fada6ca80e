#!/usr/bin/env python3
"""Side-by-side throughput of Fulcrum, ONNX Runtime and OpenVINO on the model zoo.

    .venv/bin/python bench/compare.py [--models resnet50,mobilenet_v2,bert_base_opset17,yolov5s]
        [--batches 1,8] [--threads 2] [--reps 5] [--duration 3] [--fulcrum build/fulcrum]
        [--backend reference] [--out docs/benchmarks.md] [--smoke]

Writes a ratio table to --out and a bar chart next to it (same name, .png). Exits non-zero
if any runtime failed on any model (the report is written regardless, failures listed).
--smoke: mobilenet_v2 batch 1, one short rep, report to a temp dir: the CI check.
"""
import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import models  # noqa: E402  (sibling modules of this script)
import report  # noqa: E402
from runner import LABELS, RUNTIMES, Job, RunResult, floor_rss_mb, run_one  # noqa: E402

ROOT = HERE.parent


def default_zoo():
    """Where scripts/test.sh exports the zoo; else the CI cache."""
    if "FULCRUM_MODEL_CACHE" in os.environ:
        return os.environ["FULCRUM_MODEL_CACHE"]
    home = Path("~/.cache/fulcrum/models").expanduser()
    return str(home if home.is_dir() else Path("/tmp/ci-cache"))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=",".join(models.DEFAULT_MODELS),
                    help="comma-separated zoo names: " + ",".join(models.MODELS))
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0, help="timed seconds per run")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run")
    ap.add_argument("--fulcrum", default=str(ROOT / "build" / "fulcrum"), help="the fulcrum binary")
    ap.add_argument("--backend", help="passed to `fulcrum bench --backend` (default: Fulcrum's own choice)")
    ap.add_argument("--runtimes", default=",".join(RUNTIMES), help="subset of " + ",".join(RUNTIMES))
    ap.add_argument("--zoo", default=default_zoo(), help="zoo export dir (models/zoo.py --out), default %(default)s")
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--timeout", type=float, default=600, help="seconds before one run is killed")
    ap.add_argument("--smoke", action="store_true", help="CI check: one model, one short rep, temp output")
    a = ap.parse_args(argv)
    if a.smoke:
        a.models, a.batches, a.reps, a.duration, a.warmup = "mobilenet_v2", "1", 1, 0.3, 0.1
        a.out = str(Path(tempfile.mkdtemp(prefix="fulcrum-bench-smoke-")) / "benchmarks.md")
    a.models = [m for m in a.models.split(",") if m]
    a.batches = [int(b) for b in a.batches.split(",") if b]
    a.runtimes = [r for r in a.runtimes.split(",") if r]
    bad = [r for r in a.runtimes if r not in RUNTIMES]
    if bad or not a.runtimes:
        ap.error(f"unknown runtime(s) {bad}; known: {', '.join(RUNTIMES)}")
    if a.reps < 1 or a.threads < 1 or a.duration <= 0 or any(b < 1 for b in a.batches):
        ap.error("--reps, --threads, --batches must be >= 1 and --duration > 0")
    return a


def machine():
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return cpu, os.cpu_count()


def versions(a):
    out = []
    if "fulcrum" in a.runtimes:
        try:
            v = subprocess.run([a.fulcrum, "--version"], capture_output=True, text=True, timeout=30)
            out.append(v.stdout.strip() or "fulcrum (unknown version)")
        except (OSError, subprocess.TimeoutExpired) as e:
            out.append(f"fulcrum (not runnable: {e})")
    for rt, pkg in (("ort", "onnxruntime"), ("openvino", "openvino")):
        if rt in a.runtimes:
            try:
                out.append(f"{pkg} {importlib.metadata.version(pkg)}")
            except importlib.metadata.PackageNotFoundError:
                out.append(f"{pkg} (not installed)")
    out.append(f"Python {platform.python_version()}")
    return ", ".join(out)


def order(rep, runtimes):
    """Rep r starts r places further along, so no runtime always goes first."""
    k = rep % len(runtimes)
    return runtimes[k:] + runtimes[:k]


def progress(msg):
    print(msg, flush=True)


def write_inputs(zoo, name, batch, out_dir):
    """models.write_inputs in a child process, to keep this one's RSS small (see models.py)."""
    cmd = [sys.executable, str(HERE / "models.py"), str(zoo), name, str(batch), str(out_dir)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise models.ModelError(r.stderr.strip().removeprefix("error: ") or f"{cmd} failed")
    return json.loads(r.stdout)


def bench_cell(a, name, batch, work):
    """All reps of all runtimes for one model and batch -> {runtime: [RunResult]}."""
    runs = {rt: [] for rt in a.runtimes}
    try:
        path = models.model_path(a.zoo, name)
        inputs = write_inputs(a.zoo, name, batch, work / f"{name}_b{batch}_inputs")
    except models.ModelError as e:
        progress(f"  {name} batch {batch}: skipped: {e}")
        for rt in a.runtimes:
            runs[rt].append(RunResult(rt, False, error=str(e)))
        return runs
    job = Job(name, path, batch, inputs, a.threads, a.warmup, a.duration, a.fulcrum, a.backend, a.timeout)
    for rep in range(a.reps):
        for rt in order(rep, a.runtimes):
            progress(f"  {name} batch {batch} rep {rep + 1}/{a.reps}: {LABELS[rt]} ...")
            r = run_one(rt, job, work)
            runs[rt].append(r)
            if r.ok:
                q, lat = r.result["throughput_qps"], r.result["latency_ms"]["median"]
                progress(f"    {q:.3f} qps, median {lat:.1f} ms, peak RSS {r.rss_mb:.0f} MB")
            else:
                progress(f"    FAILED: {r.error}")
    return runs


def main(argv=None):
    a = parse_args(argv)
    cpu, nproc = machine()
    info = {"cpu": cpu, "nproc": nproc, "date": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"), "versions": versions(a), "backend": a.backend or "default",
            "threads": a.threads, "reps": a.reps, "duration": a.duration, "warmup": a.warmup,
            "runtimes": a.runtimes, "load": [os.getloadavg()[0], 0.0],
            "command": " ".join(shlex.quote(x) for x in ["bench/compare.py", *(argv or sys.argv[1:])])}
    progress(f"bench: {cpu} x{nproc}; {info['versions']}")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="fulcrum-bench-") as tmp:
        for name in a.models:
            for batch in a.batches:
                rows[(name, batch)] = bench_cell(a, name, batch, Path(tmp))
    info["floor_rss"], info["load"][1] = floor_rss_mb(), os.getloadavg()[0]
    cells = report.aggregate(rows)
    md, png = report.write(cells, info, a.out)
    print()
    print(report.table(cells, a.runtimes))
    print(f"\nwrote {md}" + (f" and {png}" if png else ""))
    fails = report.failures(cells)
    if fails:
        print("\n".join(["failures:", *fails]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
