"""Precision control in `fulcrum build` / `inspect`: --int8 with a calibration cache (calibrating
first when it does not exist), a hand-written TensorRT cache used as is, --layer-precisions with
`obey` (fails naming the layers) and `prefer` (falls back), per-layer precision and reasons in the
engine file, FP16 storage halving the file, and the errors a user meets first."""
import os
import re
import struct

import numpy as np
import pytest

from conftest import ROOT, expect_error, run_fulcrum
from test_calibrate import calib_npy  # noqa: F401  (fixture)

CNN = os.path.join(ROOT, "models", "fashion", "cnn.onnx")
VIT = os.path.join(ROOT, "models", "fashion", "vit.onnx")


def engine_layers(fulcrum_bin, engine):
    """(name, op, precision, reason) per layer of an engine file, from `inspect --layers`."""
    out = run_fulcrum(fulcrum_bin, "inspect", engine, "--layers")
    assert out.returncode == 0, out.stderr
    layers, lines = [], out.stdout.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s+(\S+)\s+(\S+)\s+(fp32|fp16|int8)\s+\(", line)
        if m:
            why = lines[i + 1].split("why:", 1)[1].strip() if i + 1 < len(lines) and "why:" in lines[i + 1] else ""
            layers.append((m.group(1), m.group(2), m.group(3), why))
    assert layers, out.stdout
    return layers


@pytest.fixture(scope="module")
def cnn_cache(fulcrum_bin, calib_npy, tmp_path_factory):  # noqa: F811
    """Built with --calib-data and a cache path that does not exist yet: the build calibrates."""
    d = tmp_path_factory.mktemp("int8")
    cache, engine = str(d / "cnn.calib"), str(d / "cnn8.fulcrum")
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--calib-data", calib_npy, "--calib-cache", cache,
                      "--calib-batch", "100", "--no-int8-timing", "-o", engine)
    assert out.returncode == 0, out.stderr
    assert "calibrate: batch 5/5" in out.stderr
    assert os.path.exists(cache) and os.path.exists(cache + ".json")
    return cache, engine


def test_int8_build_calibrates_once_then_reuses_the_cache(fulcrum_bin, cnn_cache, tmp_path):
    cache, engine = cnn_cache
    layers = engine_layers(fulcrum_bin, engine)
    convs = [l for l in layers if l[1] in ("fulcrum.QConv", "fulcrum.QMatMul")]
    assert len(convs) == 16, layers
    for name, op, precision, why in convs:
        assert precision == "int8" and "calibrated input scale" in why, (name, why)
    mean = [l for l in layers if l[1] == "ReduceMean"]
    assert mean and mean[0][2] == "fp32" and "no INT8 kernel for ReduceMean" in mean[0][3]
    # A second build reads the cache: no calibration, same scales.
    before = open(cache).read()
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--calib-cache", cache, "-o", str(tmp_path / "b.fulcrum"))
    assert out.returncode == 0, out.stderr
    assert "calibrate:" not in out.stderr
    assert open(cache).read() == before


def test_int8_is_timed_against_fp32_per_layer(fulcrum_bin, cnn_cache, tmp_path):
    # Which way each layer goes depends on the machine; that every one was measured does not.
    cache, _ = cnn_cache
    engine = str(tmp_path / "timed.fulcrum")
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--calib-cache", cache, "-o", engine)
    assert out.returncode == 0, out.stderr
    timed = [l for l in engine_layers(fulcrum_bin, engine) if "Conv" in l[0] or "Gemm" in l[0]]
    assert len(timed) == 16
    for name, op, precision, why in timed:
        assert re.search(r"measured INT8 [0-9.]+ ms vs FP32 [0-9.]+ ms", why), (name, why)
        assert (precision == "int8") != ("not faster here" in why), (name, precision, why)


def write_trt_cache(path, scales):
    with open(path, "w") as f:
        f.write("TRT-8601-EntropyCalibration2\n")
        for name, scale in scales.items():
            f.write(f"{name}: {struct.pack('>f', scale).hex()}\n")


def test_hand_written_tensorrt_cache_is_used_as_is(fulcrum_bin, tmp_path):
    # Scales for the stem conv's input and output only: the stem conv and the conv reading its
    # output can be INT8; the one after cannot (its input has no scale), and says so.
    cache = tmp_path / "hand.calib"
    write_trt_cache(cache, {"image": 2.0 / 127, "/stem/stem.2/Relu_output_0": 4.0 / 127})
    engine = str(tmp_path / "hand.fulcrum")
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--no-int8-timing", "--calib-cache", str(cache), "-o",
                      engine)
    assert out.returncode == 0, out.stderr
    layers = {l[0]: l for l in engine_layers(fulcrum_bin, engine)}
    assert layers["/stem/stem.0/Conv"][2] == "int8"
    assert layers["/blocks/blocks.0/conv1/Conv"][2] == "int8"
    after = layers["/blocks/blocks.0/conv2/Conv"]
    assert after[2] == "fp32" and "no INT8 scale for its input '/blocks/blocks.0/Relu_output_0'" in after[3], after


def test_obey_fails_naming_the_layers_it_cannot_honour(fulcrum_bin, tmp_path, calib_npy):  # noqa: F811
    cache = str(tmp_path / "vit.calib")
    assert run_fulcrum(fulcrum_bin, "calibrate", VIT, "--calib-data", calib_npy, "--batch", "100", "--max-samples",
                       "100", "-o", cache).returncode == 0
    # Attention's two activation MatMuls have no constant weights: no INT8 kernel takes them.
    out = run_fulcrum(fulcrum_bin, "build", VIT, "--layer-precisions", "*:int8", "--precision-constraints", "obey",
                      "--calib-cache", cache, "-o", str(tmp_path / "v.fulcrum"))
    # One error, listing every such layer on its own line.
    assert out.returncode == 1 and out.stderr.startswith("error:"), out.stderr
    assert "cannot be honoured" in out.stderr and out.stderr.count("B is not a constant") == 8, out.stderr
    assert not os.path.exists(tmp_path / "v.fulcrum")
    # prefer: the same request falls back, with a warning per layer, and builds.
    out = run_fulcrum(fulcrum_bin, "build", VIT, "--layer-precisions", "*:int8", "--precision-constraints", "prefer",
                      "--calib-cache", cache, "--no-int8-timing", "-o", str(tmp_path / "v.fulcrum"))
    assert out.returncode == 0, out.stderr
    assert "falling back" in out.stderr
    precisions = {l[2] for l in engine_layers(fulcrum_bin, str(tmp_path / "v.fulcrum"))}
    assert precisions == {"int8", "fp32"}


def test_later_requests_win_and_obey_honours_them(fulcrum_bin, cnn_cache, tmp_path):
    cache, _ = cnn_cache
    engine = str(tmp_path / "mixed.fulcrum")
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--best", "--layer-precisions", "*:int8,/stem/*:fp32,/fc/*:fp16",
                      "--precision-constraints", "obey", "--calib-cache", cache, "-o", engine)
    assert out.returncode == 0, out.stderr
    layers = {l[0]: l for l in engine_layers(fulcrum_bin, engine)}
    assert layers["/stem/stem.0/Conv"][2] == "fp32" and "requested fp32 ('/stem/*')" in layers["/stem/stem.0/Conv"][3]
    assert layers["/fc/Gemm"][2] == "fp16"
    assert layers["/blocks/blocks.0/conv1/Conv"][2] == "int8"
    assert "requested int8 ('*')" in layers["/blocks/blocks.0/conv1/Conv"][3]


def test_fp16_engine_file_is_half_the_size_and_as_accurate(fulcrum_bin, tmp_path):
    sizes = {}
    for flag in ("", "--fp16"):
        engine = str(tmp_path / f"cnn{flag}.fulcrum")
        out = run_fulcrum(fulcrum_bin, "build", CNN, *([flag] if flag else []), "-o", engine)
        assert out.returncode == 0, out.stderr
        sizes[flag] = os.path.getsize(engine)
    assert sizes["--fp16"] < 0.6 * sizes[""], sizes
    layers = engine_layers(fulcrum_bin, str(tmp_path / "cnn--fp16.fulcrum"))
    assert sum(l[2] == "fp16" for l in layers) >= 15


def test_int8_needs_scales(fulcrum_bin, tmp_path):
    expect_error(run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "-o", str(tmp_path / "x.fulcrum")), "INT8 needs scales")
    missing = str(tmp_path / "missing.calib")
    expect_error(run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--calib-cache", missing, "-o",
                             str(tmp_path / "x.fulcrum")), missing, "does not exist")


def test_cache_of_another_model_is_refused(fulcrum_bin, tmp_path):
    cache = tmp_path / "other.calib"
    write_trt_cache(cache, {"input.1": 0.01, "conv1_output": 0.02, "fc_output": 0.03})
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--int8", "--calib-cache", str(cache), "-o", str(tmp_path / "x.fulcrum"))
    # A TensorRT cache has no calibration record (a warning says so); then the error.
    assert out.returncode == 1, out.stderr
    error = out.stderr.strip().splitlines()[-1]
    assert error.startswith("error:") and str(cache) in error and "another model" in error, out.stderr
    assert not os.path.exists(tmp_path / "x.fulcrum")


def test_bad_layer_precision_spec(fulcrum_bin, tmp_path):
    out = run_fulcrum(fulcrum_bin, "build", CNN, "--layer-precisions", "conv:int4", "--precision-constraints", "obey",
                      "-o", str(tmp_path / "x.fulcrum"))
    assert out.returncode != 0 and "conv:int4" in out.stderr
