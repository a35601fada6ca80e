"""Weights are held once: importing BERT-base (a 440 MB ONNX file) must not double memory."""
import os
import subprocess
import sys

from test_zoo import cache_dir


def peak_rss_bytes(cmd):
    """Peak RSS of `cmd`, measured in a fresh Python process so no other child counts."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
    rc, kib = out.stdout.split()
    assert rc == "0", f"{cmd} failed"
    return int(kib) * 1024


def test_bert_import_holds_weights_once(fulcrum_bin):
    model = os.path.join(cache_dir(), "bert_base_opset17", "model.onnx")
    assert os.path.exists(model), f"{model} is missing: run scripts/test.sh"
    size = os.path.getsize(model)
    peak = peak_rss_bytes([fulcrum_bin, "inspect", model])
    print(f"model file {size / 2**20:.0f} MiB, peak RSS of inspect {peak / 2**20:.0f} MiB")
    # One copy of the weights plus the program and ONNX's schema tables; a second copy would be ~2x.
    assert peak < 1.2 * size + 64 * 2**20
