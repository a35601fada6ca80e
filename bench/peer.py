"""Runs one peer runtime (ONNX Runtime or OpenVINO) on one model, in its own process.

    python bench/peer.py {ort,openvino} MODEL.onnx --input NAME=FILE.npy ... --threads T
        [--warmup S] [--duration S] --json FILE

Writes the same JSON as `fulcrum bench --json`: batch, throughput_qps, samples_per_s,
latency_ms {min, mean, median, p90, p95, p99}, peak_rss_mb, plus the runtime's version.
One synchronous request at a time, as `fulcrum bench` runs, so the numbers compare.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np


def ort_runner(model, feeds, threads):
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
    return (lambda: sess.run(None, feeds)), ort.__version__


def openvino_runner(model, feeds, threads):
    import openvino as ov
    core = ov.Core()
    net = core.read_model(model)
    # Static shapes for the batch being measured, as benchmark_app's -shape does: a dynamic
    # model would make OpenVINO pick slower shape-agnostic kernels.
    net.reshape({name: list(arr.shape) for name, arr in feeds.items()})
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1,
              "INFERENCE_PRECISION_HINT": "f32"}
    compiled = core.compile_model(net, "CPU", config)
    request = compiled.create_infer_request()
    return (lambda: request.infer(feeds)), ov.__version__


RUNNERS = {"ort": ort_runner, "openvino": openvino_runner}


def measure(step, warmup, duration):
    """Warm up for `warmup` s (at least one run), then time runs for `duration` s."""
    end = time.perf_counter() + warmup
    step()
    while time.perf_counter() < end:
        step()
    lat = []
    start = time.perf_counter()
    while not lat or time.perf_counter() - start < duration:
        t0 = time.perf_counter()
        step()
        lat.append(time.perf_counter() - t0)
    return np.array(lat) * 1e3, time.perf_counter() - start


def summary(lat_ms, wall_s, batch):
    qps = len(lat_ms) / wall_s
    pct = {f"p{p}": float(np.percentile(lat_ms, p)) for p in (90, 95, 99)}
    return {"batch": batch, "iterations": len(lat_ms), "throughput_qps": qps, "samples_per_s": qps * batch,
            "latency_ms": {"min": float(lat_ms.min()), "mean": float(lat_ms.mean()),
                           "median": float(np.median(lat_ms)), **pct},
            # ru_maxrss is in KiB on Linux
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runtime", choices=sorted(RUNNERS))
    ap.add_argument("model")
    ap.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--warmup", type=float, default=1.0)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--json", required=True)
    a = ap.parse_args()
    feeds = {}
    for item in a.input:
        name, sep, path = item.partition("=")
        if not sep:
            ap.error(f"--input {item!r}: expected NAME=FILE.npy")
        feeds[name] = np.load(path)
    if not feeds:
        ap.error("no --input given")
    step, version = RUNNERS[a.runtime](a.model, feeds, a.threads)
    lat_ms, wall_s = measure(step, a.warmup, a.duration)
    batch = next(iter(feeds.values())).shape[0]
    result = dict(summary(lat_ms, wall_s, batch), runtime=a.runtime, version=version, threads=a.threads)
    with open(a.json, "w") as f:
        json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
