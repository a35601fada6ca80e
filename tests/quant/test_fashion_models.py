"""The committed Fashion-MNIST models (models/fashion) still load and reach their recorded FP32
top-1 with onnxruntime: the baseline the INT8 and FP16 accuracy tests compare against."""
import importlib.util
import os

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models", "fashion")

ort = pytest.importorskip("onnxruntime")
# models/fashion/data.py by path: "data" is too common a module name to import by name.
_spec = importlib.util.spec_from_file_location("fashion_data", os.path.join(MODELS, "data.py"))
data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(data)


@pytest.fixture(scope="module")
def test_set():
    if not os.path.exists(os.path.join(data.DATA, "t10k-images-idx3-ubyte.gz")):
        pytest.skip(f"Fashion-MNIST not found in {data.DATA} (Debian package dataset-fashion-mnist)")
    return data.load("t10k")


# Recorded in models/fashion/README.md (onnxruntime, 10,000 test images).
@pytest.mark.parametrize("model,expected", [("cnn", 0.9390), ("vit", 0.9092)])
def test_fp32_top1(test_set, model, expected):
    images, labels = test_set
    session = ort.InferenceSession(os.path.join(MODELS, f"{model}.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "image"
    predictions = np.concatenate([session.run(None, {"image": images[i:i + 1000]})[0].argmax(1)
                                  for i in range(0, len(images), 1000)])
    assert (predictions == labels).mean() == pytest.approx(expected, abs=5e-5)
