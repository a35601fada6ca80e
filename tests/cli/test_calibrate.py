"""`fulcrum calibrate`: the fashion CNN calibrated on its 500 calibration images gives a TensorRT
cache with one finite, positive scale per float activation of the model (exact for MinMax on the
input), and bad calibration data is one clear error that leaves no cache behind."""
import importlib.util
import os
import re
import struct

import numpy as np
import onnx
import pytest

from conftest import ROOT, run_fulcrum

CNN = os.path.join(ROOT, "models", "fashion", "cnn.onnx")


def load_fashion_data():
    spec = importlib.util.spec_from_file_location("fashion_data", os.path.join(ROOT, "models", "fashion", "data.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def calib_npy(tmp_path_factory):
    data = load_fashion_data()
    if not os.path.exists(os.path.join(data.DATA, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST not found in {data.DATA}")
    images, _ = data.load("train")
    path = str(tmp_path_factory.mktemp("calib") / "calib_images.npy")
    np.save(path, np.ascontiguousarray(images[:data.CALIB_COUNT]))
    return path


def float_activations(model_path):
    """Graph inputs and node outputs of type float32, Constant outputs excepted."""
    model = onnx.shape_inference.infer_shapes(onnx.load(model_path))
    g = model.graph
    types = {v.name: v.type.tensor_type.elem_type for v in list(g.input) + list(g.value_info) + list(g.output)}
    initializers = {i.name for i in g.initializer}
    names = [i.name for i in g.input if i.name not in initializers]
    for node in g.node:
        if node.op_type != "Constant":
            names += [o for o in node.output if o]
    return {n for n in names if types.get(n) == onnx.TensorProto.FLOAT}


def read_cache(path):
    with open(path) as f:
        lines = f.read().splitlines()
    scales = {}
    for line in lines[1:]:
        name, sep, hexbits = line.rpartition(": ")
        assert sep and re.fullmatch(r"[0-9a-f]{8}", hexbits), line
        scales[name] = struct.unpack(">f", bytes.fromhex(hexbits))[0]
    return lines[0], scales


def calibrate(fulcrum_bin, data, out, *extra):
    return run_fulcrum(fulcrum_bin, "calibrate", CNN, "--calib-data", data, "-o", out, *extra)


@pytest.mark.parametrize("calibrator,algorithm", [("entropy", "EntropyCalibration2"), ("minmax", "MinMaxCalibration")])
def test_cnn_cache(fulcrum_bin, calib_npy, tmp_path, calibrator, algorithm):
    out = str(tmp_path / "cnn.calib")
    r = calibrate(fulcrum_bin, calib_npy, out, "--calibrator", calibrator, "--batch", "64")
    assert r.returncode == 0, r.stderr
    assert "calibrate: batch 8/8 (500/500 samples)" in r.stderr
    header, scales = read_cache(out)
    assert re.fullmatch(rf"TRT-\d+-{algorithm}", header)
    assert set(scales) == float_activations(CNN)
    assert all(np.isfinite(s) and s > 0 for s in scales.values())
    record = out + ".json"
    assert os.path.exists(record) and f'"calibrator": "{calibrator}"' in open(record).read()
    assert not any(p.endswith(".tmp") for p in os.listdir(tmp_path))
    if calibrator == "minmax":
        x = np.load(calib_npy)
        input_name = onnx.load(CNN).graph.input[0].name
        expected = np.float32(np.abs(x).max()) / np.float32(127)
        assert scales[input_name] == pytest.approx(float(expected), rel=1e-6)


def test_max_samples_and_progress(fulcrum_bin, calib_npy, tmp_path):
    r = calibrate(fulcrum_bin, calib_npy, str(tmp_path / "c.calib"), "--max-samples", "20", "--batch", "8")
    assert r.returncode == 0, r.stderr
    assert re.findall(r"calibrate: batch \d+/\d+ \(\d+/\d+ samples\)", r.stderr) == [
        "calibrate: batch 1/3 (8/20 samples)", "calibrate: batch 2/3 (16/20 samples)",
        "calibrate: batch 3/3 (20/20 samples)"]


def assert_fails_cleanly(r, tmp_path, *mentions):
    assert r.returncode == 1, r.stderr
    assert r.stderr.startswith("error: ")
    for m in mentions:
        assert m in r.stderr, r.stderr
    leftovers = [p for p in os.listdir(tmp_path) if p.endswith((".calib", ".json", ".tmp"))]
    assert leftovers == []


def test_missing_data(fulcrum_bin, tmp_path):
    missing = str(tmp_path / "nowhere.npy")
    assert_fails_cleanly(calibrate(fulcrum_bin, missing, str(tmp_path / "c.calib")), tmp_path, missing)


def test_wrong_shape(fulcrum_bin, tmp_path):
    bad = str(tmp_path / "bad.npy")
    np.save(bad, np.zeros((4, 1, 27, 27), np.float32))
    assert_fails_cleanly(calibrate(fulcrum_bin, bad, str(tmp_path / "c.calib")), tmp_path, bad)


def test_wrong_dtype(fulcrum_bin, tmp_path):
    bad = str(tmp_path / "bad.npy")
    np.save(bad, np.zeros((4, 1, 28, 28), np.float64))
    assert_fails_cleanly(calibrate(fulcrum_bin, bad, str(tmp_path / "c.calib")), tmp_path, bad)


def test_nan_in_data(fulcrum_bin, tmp_path):
    bad = str(tmp_path / "nan.npy")
    x = np.zeros((4, 1, 28, 28), np.float32)
    x[2, 0, 3, 4] = np.nan
    np.save(bad, x)
    assert_fails_cleanly(calibrate(fulcrum_bin, bad, str(tmp_path / "c.calib")), tmp_path, bad)


def test_failure_keeps_older_cache(fulcrum_bin, calib_npy, tmp_path):
    out = str(tmp_path / "c.calib")
    assert calibrate(fulcrum_bin, calib_npy, out, "--max-samples", "8").returncode == 0
    before = open(out).read()
    r = calibrate(fulcrum_bin, str(tmp_path / "nowhere.npy"), out)
    assert r.returncode == 1 and open(out).read() == before
    assert not any(p.endswith(".tmp") for p in os.listdir(tmp_path))


def test_bad_calibrator(fulcrum_bin, calib_npy, tmp_path):
    r = calibrate(fulcrum_bin, calib_npy, str(tmp_path / "c.calib"), "--calibrator", "percentile=120")
    assert_fails_cleanly(r, tmp_path, "120")


def write_gray_bmp(path, pixels):
    """An uncompressed 24-bit BMP with r = g = b = pixels (uint8, H x W, W * 3 a multiple of 4)."""
    h, w = pixels.shape
    rows = np.repeat(pixels[::-1, :, None], 3, axis=2).astype(np.uint8).tobytes()
    header = b"BM" + struct.pack("<IHHI", 54 + len(rows), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0)
    with open(path, "wb") as f:
        f.write(header + info + rows)


def test_image_folder_needs_a_preset(fulcrum_bin, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        write_gray_bmp(str(folder / f"{i}.bmp"), rng.integers(0, 200, (28, 28)))
    write_gray_bmp(str(folder / "3.bmp"), np.full((28, 28), 200))
    out = str(tmp_path / "c.calib")
    assert_fails_cleanly(calibrate(fulcrum_bin, str(folder), out), tmp_path, str(folder), "--preset")

    r = calibrate(fulcrum_bin, str(folder), out, "--preset", "unit", "--calibrator", "minmax")
    assert r.returncode == 0, r.stderr
    _, scales = read_cache(out)
    input_name = onnx.load(CNN).graph.input[0].name
    assert scales[input_name] == pytest.approx(200 / 255 / 127, rel=1e-6)
    assert '"preprocessing": "unit' in open(out + ".json").read()


# INT8 suitability warnings (src/quant/suitability.h) on the fashion ViT, which has Softmax.
VIT = os.path.join(ROOT, "models", "fashion", "vit.onnx")


def record_warnings(cache):
    import json
    with open(cache + ".json") as f:
        return json.load(f)["warnings"]


def test_suitability_clean_on_real_data(fulcrum_bin, calib_npy, tmp_path):
    """The trained ViT on its own calibration images: attention logits within +-9, no outliers
    or clipping, so the summary says so and the record holds an empty list."""
    out = str(tmp_path / "vit.calib")
    r = run_fulcrum(fulcrum_bin, "calibrate", VIT, "--calib-data", calib_npy, "-o", out, "--max-samples", "200",
                    "--batch", "100")
    assert r.returncode == 0, r.stderr
    assert "INT8 suitability: no warnings" in r.stdout
    assert "INT8 suitability" not in r.stderr
    assert record_warnings(out) == []


@pytest.mark.parametrize("calibrator", ["entropy", "minmax"])
def test_suitability_names_an_outlier_input(fulcrum_bin, calib_npy, tmp_path, calibrator):
    """One corrupt pixel (1000 where pixels are in [0, 1]) in 100 images: the input tensor is named,
    in the log, the summary and the record, whichever calibrator (MinMax keeps no histogram of
    its own: calibrate pairs it with one)."""
    x = np.load(calib_npy)[:100].copy()
    x[3, 0, 5, 5] = 1000.0
    data = str(tmp_path / "corrupt.npy")
    np.save(data, x)
    out = str(tmp_path / "vit.calib")
    r = run_fulcrum(fulcrum_bin, "calibrate", VIT, "--calib-data", data, "-o", out, "--batch", "50",
                    "--calibrator", calibrator)
    assert r.returncode == 0, r.stderr
    input_name = onnx.load(VIT).graph.input[0].name
    logged = [line for line in r.stderr.splitlines() if line.startswith("warning: INT8 suitability: ")]
    assert len(logged) == 1, r.stderr
    assert f"tensor '{input_name}': outliers: max |x| 1000 is" in logged[0]
    assert "1 warning(s), kept in the record" in r.stdout
    assert record_warnings(out) == [logged[0].removeprefix("warning: INT8 suitability: ")]
    assert "the calibrated amax 1000 keeps them" in logged[0]  # neither clips a lone outlier here


def test_suitability_names_saturated_softmax_input(fulcrum_bin, tmp_path):
    """A two-node model Scale -> Softmax calibrated on logits up to ~40: the Softmax input is named
    with its INT8 step; the same model on logits within +-3 draws nothing."""
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 16])
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [1.0])
    graph = helper.make_graph([helper.make_node("Mul", ["x", "scale"], ["logits"], name="scale_logits"),
                               helper.make_node("Softmax", ["logits"], ["y"], name="softmax", axis=-1)],
                              "softmax", [x], [y], [scale])
    model = str(tmp_path / "softmax.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), model)
    rng = np.random.default_rng(0)
    for sigma, expect_warning in [(10.0, True), (1.0, False)]:
        data = str(tmp_path / f"logits_{sigma}.npy")
        np.save(data, (rng.standard_normal((256, 16)) * sigma).astype(np.float32))
        out = str(tmp_path / f"softmax_{sigma}.calib")
        r = run_fulcrum(fulcrum_bin, "calibrate", model, "--calib-data", data, "-o", out)
        assert r.returncode == 0, r.stderr
        named = [w for w in record_warnings(out) if w.startswith("tensor 'logits': Softmax input with amax")]
        assert bool(named) == expect_warning, record_warnings(out)
