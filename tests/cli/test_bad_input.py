"""Bad input to the CLI ends in one clear message naming the file, node or tensor, and a
non-zero exit -- never a crash (a negative return code is a signal) and never a partial result."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import expect_error, run_fulcrum


def make_add_model(path, op="Add", domain="", opset=17, external=False):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "w")
    node = helper.make_node(op, ["x", "w"], ["y"], name="the_node", domain=domain)
    graph = helper.make_graph([node], "g", [x], [y], [w])
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    model = helper.make_model(graph, opset_imports=imports, ir_version=8)
    if external:
        onnx.save(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                  location="weights.bin", size_threshold=0)
    else:
        onnx.save(model, path)
    return path


@pytest.fixture
def model(tmp_path):
    return make_add_model(str(tmp_path / "add.onnx"))


@pytest.fixture
def x_npy(tmp_path):
    p = str(tmp_path / "x.npy")
    np.save(p, np.ones((2, 3), np.float32))
    return p


def test_runs_a_good_model(fulcrum_bin, model, x_npy, tmp_path):
    out = tmp_path / "out"
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"x={x_npy}", "--output-dir", str(out))
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(out / "y.npy"), 1 + np.arange(6, dtype=np.float32).reshape(2, 3))


@pytest.mark.parametrize("cut", [10, 100])
def test_truncated_model(fulcrum_bin, model, tmp_path, cut):
    data = open(model, "rb").read()
    bad = tmp_path / "truncated.onnx"
    bad.write_bytes(data[: len(data) - cut])
    for cmd in ("inspect", "run"):
        args = [cmd, str(bad)] + (["--output-dir", str(tmp_path / "o")] if cmd == "run" else [])
        expect_error(run_fulcrum(fulcrum_bin, *args), str(bad))
    assert not (tmp_path / "o").exists()


def test_not_an_onnx_file(fulcrum_bin, tmp_path):
    bad = tmp_path / "notes.onnx"
    bad.write_text("these are not the weights you are looking for\n")
    expect_error(run_fulcrum(fulcrum_bin, "inspect", str(bad)), str(bad), "not a valid ONNX model")


def test_missing_model_file(fulcrum_bin, tmp_path):
    expect_error(run_fulcrum(fulcrum_bin, "inspect", str(tmp_path / "nope.onnx")), "nope.onnx", "no such file")


def test_unknown_op_in_default_domain_names_the_node(fulcrum_bin, tmp_path):
    path = make_add_model(str(tmp_path / "unknown.onnx"), op="FrobnicateTensor")
    expect_error(run_fulcrum(fulcrum_bin, "inspect", path), "unknown.onnx", "FrobnicateTensor", "the_node")


def test_unsupported_custom_op_is_listed_by_inspect_and_rejected_by_run(fulcrum_bin, tmp_path, x_npy):
    path = make_add_model(str(tmp_path / "custom.onnx"), op="FancyAdd", domain="com.example")
    r = run_fulcrum(fulcrum_bin, "inspect", path)
    assert r.returncode == 0, r.stderr
    assert "com.example.FancyAdd: 1 node: the_node" in r.stdout
    r = run_fulcrum(fulcrum_bin, "run", path, "--input", f"x={x_npy}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, "com.example.FancyAdd", "the_node")


def test_missing_input(fulcrum_bin, model, tmp_path):
    r = run_fulcrum(fulcrum_bin, "run", model, "--output-dir", str(tmp_path / "o"))
    expect_error(r, "input 'x'", "not given")
    assert not (tmp_path / "o").exists()


def test_unknown_input_name(fulcrum_bin, model, x_npy, tmp_path):
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"z={x_npy}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, "'z' is not an input", "x")


@pytest.mark.parametrize("array,needle", [
    (np.ones((2, 4), np.float32), "must have shape [2, 3], got [2, 4]"),
    (np.ones((6,), np.float32), "must have shape [2, 3], got [6]"),
    (np.ones((2, 3), np.float64), "must be float32, got float64"),
    (np.ones((2, 3), np.int64), "must be float32, got int64"),
])
def test_wrong_shape_or_dtype(fulcrum_bin, model, tmp_path, array, needle):
    p = tmp_path / "bad.npy"
    np.save(p, array)
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"x={p}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, "input 'x'", needle)


@pytest.mark.parametrize("content,needle", [
    (b"garbage, not numpy", "not a .npy file"),
    (b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", "truncated"),
])
def test_npy_that_does_not_parse(fulcrum_bin, model, tmp_path, content, needle):
    p = tmp_path / "bad.npy"
    p.write_bytes(content)
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"x={p}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, str(p), needle)


def test_npy_with_truncated_data(fulcrum_bin, model, tmp_path):
    p = tmp_path / "short.npy"
    np.save(p, np.ones((2, 3), np.float32))
    data = p.read_bytes()
    p.write_bytes(data[:-8])
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"x={p}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, str(p), "truncated")


def test_fortran_order_npy_is_refused(fulcrum_bin, model, tmp_path):
    p = tmp_path / "fortran.npy"
    np.save(p, np.asfortranarray(np.ones((2, 3), np.float32)))
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", f"x={p}", "--output-dir", str(tmp_path / "o"))
    expect_error(r, str(p), "Fortran")


def test_external_data_weights(fulcrum_bin, tmp_path, x_npy):
    path = make_add_model(str(tmp_path / "ext.onnx"), external=True)
    assert os.path.exists(tmp_path / "weights.bin")
    r = run_fulcrum(fulcrum_bin, "run", path, "--input", f"x={x_npy}", "--output-dir", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "y.npy"), 1 + np.arange(6, dtype=np.float32).reshape(2, 3))


def test_missing_external_data_file_is_named(fulcrum_bin, tmp_path):
    path = make_add_model(str(tmp_path / "ext.onnx"), external=True)
    os.remove(tmp_path / "weights.bin")
    expect_error(run_fulcrum(fulcrum_bin, "inspect", path), "weights.bin")


def test_short_external_data_file_is_named(fulcrum_bin, tmp_path):
    path = make_add_model(str(tmp_path / "ext.onnx"), external=True)
    (tmp_path / "weights.bin").write_bytes(b"\0" * 8)
    expect_error(run_fulcrum(fulcrum_bin, "inspect", path), "'w'")


def test_bad_input_spec(fulcrum_bin, model, tmp_path):
    r = run_fulcrum(fulcrum_bin, "run", model, "--input", "x", "--output-dir", str(tmp_path / "o"))
    expect_error(r, "NAME=FILE.npy")


def test_implicit_einsum_does_not_crash_shape_inference(fulcrum_bin, tmp_path):
    # libonnx 1.12's shape inference aborts on this equation; the importer must avoid it.
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    node = helper.make_node("Einsum", ["x"], ["y"], equation="Yc")
    model = helper.make_model(helper.make_graph([node], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    path = tmp_path / "einsum.onnx"
    onnx.save(model, path)
    xs = tmp_path / "x.npy"
    np.save(xs, np.arange(6, dtype=np.float32).reshape(2, 3))
    r = run_fulcrum(fulcrum_bin, "run", str(path), "--input", f"x={xs}", "--output-dir", str(tmp_path / "o"))
    assert r.returncode == 0, r.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "o" / "y.npy"), np.load(xs))
