"""Activation memory on real models. The arena: `fulcrum run --repeat 3` on the CPU backend plans
the arena in the first run and takes every planned intermediate from it in the next two, so
the outputs written (the third run's) match the reference only if the plan never gave two
tensors live at once the same bytes, and kept what views (Reshape, Flatten...) read alive.
And the whole: ResNet-50 at batch 8 holds its weights once (packed) plus one arena."""
import json
import os

import numpy as np
import pytest

from conftest import run_fulcrum
from test_memory import peak_rss_bytes
from test_zoo import ZOO, cache_dir, rel_l2


@pytest.mark.parametrize("name", ZOO)
def test_planned_runs_match_reference(fulcrum_bin, tmp_path, name):
    model_dir = os.path.join(cache_dir(), name)
    assert os.path.isdir(model_dir), f"{name} is not in the model cache {cache_dir()}: run scripts/test.sh"
    args = ["run", os.path.join(model_dir, "model.onnx"), "--output-dir", str(tmp_path), "--backend", "cpu",
            "--repeat", "3"]
    for f in sorted(os.listdir(os.path.join(model_dir, "inputs"))):
        args += ["--input", f"{f[:-4]}={os.path.join(model_dir, 'inputs', f)}"]
    r = run_fulcrum(fulcrum_bin, *args)
    assert r.returncode == 0, r.stderr
    tol = json.load(open(os.path.join(model_dir, "meta.json"))).get("tolerance_rel_l2", 1e-4)
    for f in sorted(os.listdir(os.path.join(model_dir, "ref"))):
        ref, y = np.load(os.path.join(model_dir, "ref", f)), np.load(tmp_path / f)
        assert y.shape == ref.shape, f"{name}/{f}: shape {y.shape} != {ref.shape}"
        err = rel_l2(y, ref)
        assert np.isfinite(y).all() and err <= tol, f"{name}/{f}: rel L2 {err:.3e} after planned runs"


def test_resnet50_batch8_holds_weights_once(fulcrum_bin):
    model = os.path.join(cache_dir(), "resnet50", "model.onnx")
    assert os.path.exists(model), f"{model} is missing: run scripts/test.sh"
    size = os.path.getsize(model)  # the weights, as stored
    peak = peak_rss_bytes([fulcrum_bin, "bench", model, "--backend", "cpu", "--threads", "2", "--batch", "8",
                           "--iterations", "2"])
    print(f"model file {size / 2**20:.0f} MiB, peak RSS of bench --batch 8 {peak / 2**20:.0f} MiB")
    # While building, the imported weights and the packed copy (~2x); while running, the
    # packed copy and the arena (~1.6x at batch 8), plus the program, plus ~64 MiB for the
    # Winograd 3x3 convs (their transformed weights, 4x W at batch 8, beside W itself; see
    # cpu/conv.cc). Holding all the weights twice while running (the optimized graph pinning
    # them, +97 MiB) or activations past the live set (a fresh allocation per run, a heap
    # kept beside the arena) goes over.
    assert peak < 2.2 * size + 128 * 2**20
