"""`fulcrum build` and the engine file: a built engine runs, benches and inspects like the ONNX
model it came from, with the same outputs; a damaged or foreign engine file is one clear error."""
import re
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import expect_error, run_fulcrum


def make_resnet_block_model(path):
    """A ResNet-style block and head: Conv-BN-Relu, Conv-BN, residual Add, Relu, global pool,
    Gemm. The build folds the batch norms and fuses the convolutions with their epilogues."""
    rng = np.random.default_rng(0)

    def const(name, *shape, scale=0.3):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits, nodes = [], []
    for i in (1, 2):
        inits += [const(f"w{i}", 8, 8, 3, 3), const(f"b{i}", 8),
                  numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), f"g{i}"),
                  const(f"beta{i}", 8), const(f"mean{i}", 8),
                  numpy_helper.from_array(rng.uniform(0.5, 1.5, 8).astype(np.float32), f"var{i}")]
    inits += [const("stem", 8, 3, 3, 3), const("fc_w", 8, 10), const("fc_b", 10)]
    nodes += [helper.make_node("Conv", ["x", "stem"], ["s"], pads=[1, 1, 1, 1], name="stem_conv"),
              helper.make_node("Relu", ["s"], ["s_relu"], name="stem_relu")]
    prev = "s_relu"
    for i in (1, 2):
        nodes += [helper.make_node("Conv", [prev, f"w{i}", f"b{i}"], [f"c{i}"], pads=[1, 1, 1, 1], name=f"conv{i}"),
                  helper.make_node("BatchNormalization", [f"c{i}", f"g{i}", f"beta{i}", f"mean{i}", f"var{i}"],
                                   [f"bn{i}"], name=f"bn{i}")]
        if i == 1:
            nodes.append(helper.make_node("Relu", ["bn1"], ["r1"], name="relu1"))
            prev = "r1"
    nodes += [helper.make_node("Add", ["bn2", "s_relu"], ["res"], name="residual"),
              helper.make_node("Relu", ["res"], ["res_relu"], name="relu2"),
              helper.make_node("GlobalAveragePool", ["res_relu"], ["pool"], name="pool"),
              helper.make_node("Flatten", ["pool"], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], name="fc")]
    graph = helper.make_graph(nodes, "resnet_block", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                                     ["N", 3, 16, 16])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), path)
    return str(path)


def fnv1a64(data):
    h = 14695981039346656037
    for b in data:
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


@pytest.fixture
def model(tmp_path):
    return make_resnet_block_model(tmp_path / "block.onnx")


@pytest.fixture
def x_npy(tmp_path):
    p = str(tmp_path / "x.npy")
    np.save(p, np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32))
    return p


def build(fulcrum_bin, model, engine, *args):
    r = run_fulcrum(fulcrum_bin, "build", model, "-o", str(engine), *args)
    assert r.returncode == 0, r.stderr
    return r


def run_model(fulcrum_bin, model, x_npy, out_dir, *args):
    r = run_fulcrum(fulcrum_bin, "run", str(model), "--input", f"x={x_npy}", "--output-dir", str(out_dir), *args)
    assert r.returncode == 0, r.stderr
    return np.load(out_dir / "logits.npy")


@pytest.mark.parametrize("backend", ["cpu", "reference"])
def test_engine_runs_like_the_onnx_model(fulcrum_bin, model, x_npy, tmp_path, backend):
    engine = tmp_path / "block.fulcrum"
    r = build(fulcrum_bin, model, engine, "--backend", backend, "--verbose")
    imported, built = map(int, re.search(r"nodes:\s+(\d+) imported -> (\d+) built", r.stdout).groups())
    assert imported == 12
    if backend == "cpu":
        assert built < imported, r.stdout  # batch norms folded, epilogues fused
    assert "BatchNormalization" in r.stdout  # --verbose: the op table
    from_onnx = run_model(fulcrum_bin, model, x_npy, tmp_path / "onnx", "--backend", backend)
    from_engine = run_model(fulcrum_bin, engine, x_npy, tmp_path / "engine")
    np.testing.assert_array_equal(from_engine, from_onnx)


def test_engine_is_recognized_by_content_and_threads_override(fulcrum_bin, model, x_npy, tmp_path):
    engine = tmp_path / "block.fulcrum"
    build(fulcrum_bin, model, engine, "--threads", "2")
    renamed = tmp_path / "engine.onnx"  # the name says ONNX; the magic says engine
    shutil.copy(engine, renamed)
    want = run_model(fulcrum_bin, model, x_npy, tmp_path / "onnx", "--backend", "cpu")
    got = run_model(fulcrum_bin, renamed, x_npy, tmp_path / "engine", "--threads", "1")
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inspect_shows_origin_and_layers(fulcrum_bin, model, tmp_path):
    engine = tmp_path / "block.fulcrum"
    build(fulcrum_bin, model, engine, "--threads", "3")
    r = run_fulcrum(fulcrum_bin, "inspect", str(engine), "--layers")
    assert r.returncode == 0, r.stderr
    data = open(model, "rb").read()
    assert f"source: block.onnx ({len(data)} bytes, fnv1a64:{fnv1a64(data):016x})" in r.stdout
    assert "config: backend cpu, threads 3" in r.stdout
    assert "format: version 1, built by Fulcrum" in r.stdout
    assert re.search(r"x\s+float32\[N, 3, 16, 16\]", r.stdout)
    assert "BatchNormalization" not in r.stdout  # folded at build time
    assert re.search(r"^\s+conv1\s", r.stdout, re.M)  # fused layers keep their anchor's ONNX name


def test_bench_takes_an_engine_file(fulcrum_bin, model, tmp_path):
    engine = tmp_path / "block.fulcrum"
    build(fulcrum_bin, model, engine)
    r = run_fulcrum(fulcrum_bin, "bench", str(engine), "--iterations", "3", "--warmup", "0", "--batch", "2")
    assert r.returncode == 0, r.stderr
    assert "(engine file" in r.stdout
    assert "runs:        3" in r.stdout


# --- bad input ------------------------------------------------------------------------------


@pytest.fixture
def engine(fulcrum_bin, model, tmp_path):
    path = tmp_path / "block.fulcrum"
    build(fulcrum_bin, model, path)
    return path


@pytest.mark.parametrize("command", ["run", "inspect", "bench"])
def test_truncated_engine(fulcrum_bin, engine, x_npy, tmp_path, command):
    bad = tmp_path / "truncated.fulcrum"
    bad.write_bytes(engine.read_bytes()[:-100])
    extra = {"run": ["--input", f"x={x_npy}", "--output-dir", str(tmp_path / "out")],
             "bench": ["--iterations", "1"], "inspect": []}[command]
    expect_error(run_fulcrum(fulcrum_bin, command, str(bad), *extra), str(bad), "truncated")


def test_engine_of_another_format_version(fulcrum_bin, engine, tmp_path):
    data = bytearray(engine.read_bytes())
    data[8] = 99
    bad = tmp_path / "future.fulcrum"
    bad.write_bytes(bytes(data))
    expect_error(run_fulcrum(fulcrum_bin, "inspect", str(bad)), str(bad), "format version 99", "fulcrum build")


def test_corrupt_graph_section(fulcrum_bin, engine, x_npy, tmp_path):
    data = bytearray(engine.read_bytes())
    data[200] ^= 0xFF  # inside the checksummed sections
    bad = tmp_path / "corrupt.fulcrum"
    bad.write_bytes(bytes(data))
    r = run_fulcrum(fulcrum_bin, "run", str(bad), "--input", f"x={x_npy}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, str(bad), "corrupt")


def test_not_an_engine_with_the_extension(fulcrum_bin, tmp_path):
    bad = tmp_path / "random.fulcrum"
    bad.write_bytes(bytes(range(256)) * 4)
    expect_error(run_fulcrum(fulcrum_bin, "inspect", str(bad)), str(bad))


def test_build_refuses_an_engine_and_a_missing_output(fulcrum_bin, engine, model, tmp_path):
    expect_error(run_fulcrum(fulcrum_bin, "build", str(engine), "-o", str(tmp_path / "again.fulcrum")),
                 "already an engine file")
    r = run_fulcrum(fulcrum_bin, "build", model, "-o", str(tmp_path / "no_such_dir" / "x.fulcrum"))
    expect_error(r, "no_such_dir")


def test_backend_is_fixed_at_build(fulcrum_bin, engine, x_npy, tmp_path):
    r = run_fulcrum(fulcrum_bin, "run", str(engine), "--backend", "reference", "--input", f"x={x_npy}",
                    "--output-dir", str(tmp_path / "o"))
    expect_error(r, "built for the cpu backend", "fulcrum build --backend reference")


def test_inspect_model_lists_engine_layers_and_backends(fulcrum_bin, model):
    r = run_fulcrum(fulcrum_bin, "inspect", model, "--backend", "cpu", "--layers")
    assert r.returncode == 0, r.stderr
    engine_part = r.stdout.split("engine layers (after the build passes):")[1]
    # conv1+bn1+relu1 and conv2+bn2+residual+relu2 are each one fused layer on the CPU backend,
    # named after the conv they are anchored on; nothing of the folded or fused nodes is left.
    # Each layer also says its precision and why.
    for conv in ("conv1", "conv2"):
        assert re.search(rf"^\s+{conv}\s+fulcrum\.FusedConv\s+cpu\s+fp32\s+no lower precision permitted$", engine_part,
                         re.M), engine_part
    for gone in ("bn1", "relu1", "residual", "relu2"):
        assert not re.search(rf"^\s+{gone}\s", engine_part, re.M), engine_part
    assert "peak activations:" in r.stdout
