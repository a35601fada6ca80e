"""Zoo models through the engine file: `fulcrum build` then `fulcrum run MODEL.fulcrum` gives
bit for bit the outputs of `fulcrum run MODEL.onnx` on the same backend (the file stores the
optimized graph; loading creates the same kernels), and those match the reference. Prints
the file size and the load time of each path."""
import json
import os

import numpy as np
import pytest

from conftest import run_fulcrum
from test_zoo import cache_dir, rel_l2

MODELS = ["resnet50", "bert_base_opset17"]


def input_args(model_dir):
    args = []
    for f in sorted(os.listdir(os.path.join(model_dir, "inputs"))):
        args += ["--input", f"{f[:-4]}={os.path.join(model_dir, 'inputs', f)}"]
    return args


def bench_load_ms(fulcrum_bin, model, inputs, json_path):
    r = run_fulcrum(fulcrum_bin, "bench", model, *inputs, "--iterations", "1", "--warmup", "0", "--json", json_path)
    assert r.returncode == 0, r.stderr
    report = json.load(open(json_path))
    return report["load_ms"] + report["build_ms"], report["engine_file"]


@pytest.mark.parametrize("name", MODELS)
def test_engine_file_matches_onnx_path(fulcrum_bin, tmp_path, name):
    model_dir = os.path.join(cache_dir(), name)
    onnx_path = os.path.join(model_dir, "model.onnx")
    assert os.path.exists(onnx_path), f"{name} is not in the model cache {cache_dir()}: run scripts/test.sh"
    engine = str(tmp_path / f"{name}.fulcrum")
    r = run_fulcrum(fulcrum_bin, "build", onnx_path, "-o", engine)
    assert r.returncode == 0, r.stderr
    inputs = input_args(model_dir)
    for model, out in [(onnx_path, tmp_path / "onnx"), (engine, tmp_path / "engine")]:
        r = run_fulcrum(fulcrum_bin, "run", model, *inputs, "--output-dir", str(out))
        assert r.returncode == 0, r.stderr
    tol = json.load(open(os.path.join(model_dir, "meta.json"))).get("tolerance_rel_l2", 1e-4)
    for f in sorted(os.listdir(os.path.join(model_dir, "ref"))):
        a, b = np.load(tmp_path / "onnx" / f), np.load(tmp_path / "engine" / f)
        np.testing.assert_array_equal(b, a, err_msg=f"{name}/{f}: engine file and ONNX path differ")
        assert rel_l2(b, np.load(os.path.join(model_dir, "ref", f))) <= tol
    onnx_ms, _ = bench_load_ms(fulcrum_bin, onnx_path, inputs, str(tmp_path / "onnx.json"))
    engine_ms, is_engine = bench_load_ms(fulcrum_bin, engine, inputs, str(tmp_path / "engine.json"))
    assert is_engine
    print(f"{name}: .onnx {os.path.getsize(onnx_path) / 2**20:.1f} MiB, parse+build {onnx_ms:.0f} ms; "
          f".fulcrum {os.path.getsize(engine) / 2**20:.1f} MiB, load {engine_ms:.0f} ms")
