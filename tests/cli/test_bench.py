"""`fulcrum bench`: generated inputs, batch and shape handling, the JSON report, and that
--duration / --iterations bound the run. These check behaviour on tiny models, not speed."""
import json
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import expect_error, run_fulcrum


def save_model(path, nodes, inputs, outputs, initializers=()):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return str(path)


@pytest.fixture
def matmul_model(tmp_path):
    """y[batch, 3] = x[batch, 4] @ w"""
    w = numpy_helper.from_array(np.ones((4, 3), np.float32), "w")
    return save_model(tmp_path / "matmul.onnx", [helper.make_node("MatMul", ["x", "w"], ["y"])],
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])], [w])


@pytest.fixture
def seq_model(tmp_path):
    """y = x + float(mask), both [batch, seq]: a second symbolic dimension, shared by two inputs."""
    nodes = [helper.make_node("Cast", ["mask"], ["maskf"], to=TensorProto.FLOAT),
             helper.make_node("Add", ["x", "maskf"], ["y"])]
    return save_model(tmp_path / "seq.onnx", nodes,
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq"]),
                       helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "seq"])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "seq"])])


def bench(fulcrum_bin, tmp_path, model, *args):
    """Runs `fulcrum bench` with a JSON report; returns (result, report or None)."""
    report = tmp_path / "bench.json"
    if report.exists():
        report.unlink()
    r = run_fulcrum(fulcrum_bin, "bench", model, "--json", str(report), *args, timeout=120)
    return r, (json.loads(report.read_text()) if r.returncode == 0 else None)


def test_smoke_json_report(fulcrum_bin, tmp_path, matmul_model):
    r, j = bench(fulcrum_bin, tmp_path, matmul_model, "--iterations", "5", "--warmup", "0", "--threads", "1")
    assert r.returncode == 0, r.stderr
    for key in ("model", "backend", "threads", "batch", "runs", "build_ms", "throughput_qps", "samples_per_s",
                "latency_ms", "peak_rss_mb"):
        assert key in j, key
    assert j["model"] == matmul_model and j["backend"] == "cpu" and j["threads"] == 1
    assert j["runs"] == 5 and j["batch"] == 1
    assert j["warmup_runs"] >= 1
    lat = j["latency_ms"]
    assert 0 < lat["min"] <= lat["median"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"]
    assert j["throughput_qps"] > 0 and j["samples_per_s"] == pytest.approx(j["throughput_qps"])
    # Five runs cannot take less time than their latencies add up to.
    assert j["throughput_qps"] <= 5 / (5 * lat["min"] / 1000) * 1.001
    assert j["peak_rss_mb"] > 1 and j["build_ms"] >= 0
    assert j["inputs"] == [{"name": "x", "dtype": "float32", "shape": [1, 4], "generated": True}]
    for line in ("batch:", "runs:        5", "throughput:", "samples/s", "median", "p99", "threads:     1",
                 "backend:     cpu"):
        assert line in r.stdout, f"'{line}' not in:\n{r.stdout}"


def test_batch_sets_the_symbolic_dimension(fulcrum_bin, tmp_path, matmul_model):
    r, j = bench(fulcrum_bin, tmp_path, matmul_model, "--batch", "8", "--iterations", "3", "--warmup", "0")
    assert r.returncode == 0, r.stderr
    assert j["batch"] == 8 and j["inputs"][0]["shape"] == [8, 4]
    assert j["samples_per_s"] == pytest.approx(8 * j["throughput_qps"])


def test_batch_on_a_model_with_a_fixed_batch_is_refused(fulcrum_bin, tmp_path):
    model = save_model(tmp_path / "fixed.onnx", [helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    r, _ = bench(fulcrum_bin, tmp_path, model, "--batch", "4", "--iterations", "1")
    expect_error(r, "--batch 4", "symbolic batch dimension")


def test_missing_symbolic_dim_names_the_input(fulcrum_bin, tmp_path, seq_model):
    r, _ = bench(fulcrum_bin, tmp_path, seq_model, "--iterations", "1")
    expect_error(r, "input 'x'", "dimension 1 ('seq')", "--shapes x:1xN")


def test_shapes_fill_shared_symbolic_dims(fulcrum_bin, tmp_path, seq_model):
    r, j = bench(fulcrum_bin, tmp_path, seq_model, "--shapes", "x:3x5", "--iterations", "2", "--warmup", "0")
    assert r.returncode == 0, r.stderr
    # mask shares 'batch' and 'seq' with x; generated integers are zeros, floats in [-1, 1).
    assert [i["shape"] for i in j["inputs"]] == [[3, 5], [3, 5]]
    assert [i["dtype"] for i in j["inputs"]] == ["float32", "int64"]
    assert j["batch"] == 3


def test_given_input_is_used(fulcrum_bin, tmp_path, matmul_model):
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 4), np.float32))
    r, j = bench(fulcrum_bin, tmp_path, matmul_model, "--input", f"x={x}", "--iterations", "2", "--warmup", "0")
    assert r.returncode == 0, r.stderr
    assert j["inputs"] == [{"name": "x", "dtype": "float32", "shape": [2, 4], "generated": False}]
    assert j["batch"] == 2


def test_given_input_of_the_wrong_shape(fulcrum_bin, tmp_path, matmul_model):
    x = tmp_path / "x.npy"
    np.save(x, np.ones((2, 5), np.float32))
    r, _ = bench(fulcrum_bin, tmp_path, matmul_model, "--input", f"x={x}", "--iterations", "1")
    expect_error(r, "input 'x'", "got [2, 5]")


@pytest.mark.parametrize("spec,needle", [
    ("x", "NAME:D0xD1x"),
    ("x:", "dimension '' is not a non-negative integer"),
    ("x:3xa", "dimension 'a' is not a non-negative integer"),
    ("x:3x-5", "dimension '-5' is not"),
    ("x:3x5,", "NAME:D0xD1x"),
    (":3x5", "NAME:D0xD1x"),
    ("z:3x5", "'z' is not an input of the model (its inputs: x, mask)"),
    ("x:3x5,x:3x5", "input 'x' twice"),
])
def test_bad_shapes(fulcrum_bin, tmp_path, seq_model, spec, needle):
    r, _ = bench(fulcrum_bin, tmp_path, seq_model, "--shapes", spec, "--iterations", "1")
    expect_error(r, needle)


def test_duration_stops_in_time(fulcrum_bin, tmp_path, matmul_model):
    start = time.monotonic()
    r, j = bench(fulcrum_bin, tmp_path, matmul_model, "--duration", "1.5", "--warmup", "0.2")
    elapsed = time.monotonic() - start
    assert r.returncode == 0, r.stderr
    assert 1.5 <= j["duration_s"] < 2.0, j["duration_s"]
    assert elapsed < 6, f"took {elapsed:.1f} s"
    assert j["runs"] > 10
    # Not a terminal: a progress line every second, on stderr, never on stdout.
    assert "running:" in r.stderr and "\r" not in r.stderr
    assert "running:" not in r.stdout


def test_iterations_and_duration_exclude_each_other(fulcrum_bin, tmp_path, matmul_model):
    r, _ = bench(fulcrum_bin, tmp_path, matmul_model, "--duration", "1", "--iterations", "3")
    assert r.returncode > 0 and "excludes" in r.stderr


@pytest.mark.parametrize("args", [["--threads", "-1"], ["--backend", "nope"], ["--batch", "0"]])
def test_bad_engine_options(fulcrum_bin, tmp_path, matmul_model, args):
    r, _ = bench(fulcrum_bin, tmp_path, matmul_model, "--iterations", "1", *args)
    assert r.returncode > 0 and args[0] in r.stderr, r.stderr


def test_run_takes_threads_and_backend(fulcrum_bin, tmp_path, matmul_model):
    x = tmp_path / "x.npy"
    np.save(x, np.arange(8, dtype=np.float32).reshape(2, 4))
    out = tmp_path / "out"
    r = run_fulcrum(fulcrum_bin, "run", matmul_model, "--input", f"x={x}", "--output-dir", str(out),
                    "--threads", "1", "--backend", "reference")
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(out / "y.npy"), np.load(x) @ np.ones((4, 3), np.float32))
    r = run_fulcrum(fulcrum_bin, "run", matmul_model, "--input", f"x={x}", "--output-dir", str(out), "--threads", "-2")
    assert r.returncode > 0 and "--threads" in r.stderr
