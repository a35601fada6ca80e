"""Launching one benchmark run of one runtime as a child process and reading its result.

Every runtime runs in a fresh process so that its peak RSS is its own: the harness reads
the child's ru_maxrss from wait4(), the same way for the Fulcrum binary and for the Python
peers (whose figure therefore includes the interpreter and numpy, as a user of their
Python API pays).
"""
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNTIMES = ("ort", "fulcrum", "openvino")
LABELS = {"fulcrum": "Fulcrum", "ort": "ONNX Runtime", "openvino": "OpenVINO"}


@dataclass
class Job:
    model: str
    model_path: Path
    batch: int
    inputs: dict  # input name -> .npy path
    threads: int
    warmup: float
    duration: float
    fulcrum: str
    backend: str | None
    timeout: float


@dataclass
class RunResult:
    runtime: str
    ok: bool
    result: dict = field(default_factory=dict)  # the JSON the run wrote
    rss_mb: float = 0.0  # child's peak RSS from wait4
    error: str = ""


def command(runtime, job, json_path):
    feeds = [f"{name}={path}" for name, path in job.inputs.items()]
    common = ["--threads", str(job.threads), "--warmup", str(job.warmup), "--duration", str(job.duration),
              "--json", str(json_path)]
    if runtime == "fulcrum":
        cmd = [job.fulcrum, "bench", str(job.model_path), "--batch", str(job.batch), *common]
        if job.backend:
            cmd += ["--backend", job.backend]
        for f in feeds:
            cmd += ["--input", f]
        return cmd
    cmd = [sys.executable, str(HERE / "peer.py"), runtime, str(job.model_path), *common]
    for f in feeds:
        cmd += ["--input", f]
    return cmd


def _wait(proc, timeout):
    """wait4() the child (for its own rusage); kill its process group past `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024, False  # KiB on Linux
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_maxrss / 1024, True
        time.sleep(0.02)


def floor_rss_mb():
    """ru_maxrss of a child that does nothing: the least any run can report, because Linux
    carries this process's RSS high-water mark into its children across fork and exec."""
    proc = subprocess.Popen(["true"])
    return _wait(proc, 30)[0]


def run_one(runtime, job, work_dir):
    """Runs `runtime` on `job`; never raises for a failing child, reports it instead."""
    tag = f"{job.model}_b{job.batch}_{runtime}"
    json_path, log_path = Path(work_dir) / f"{tag}.json", Path(work_dir) / f"{tag}.log"
    json_path.unlink(missing_ok=True)
    cmd = command(runtime, job, json_path)
    try:
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            rss, timed_out = _wait(proc, job.timeout)
    except OSError as e:
        return RunResult(runtime, False, error=f"cannot start {cmd[0]}: {e}")
    tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
    if timed_out:
        return RunResult(runtime, False, rss_mb=rss, error=f"timed out after {job.timeout:.0f} s")
    if proc.returncode != 0 or not json_path.exists():
        why = f"exit {proc.returncode}" if proc.returncode else f"no JSON written to {json_path}"
        return RunResult(runtime, False, rss_mb=rss, error=f"{why}: " + " | ".join(tail))
    try:
        result = json.loads(json_path.read_text())
        float(result["throughput_qps"]), float(result["latency_ms"]["median"])
    except (ValueError, KeyError, TypeError) as e:
        return RunResult(runtime, False, rss_mb=rss, error=f"bad JSON in {json_path}: {e!r}")
    return RunResult(runtime, True, result=result, rss_mb=rss)
