"""The model zoo end to end: every model runs through `fulcrum run` and each output matches
the independent reference (torch for exported models, ONNX Runtime for PP-OCR) within the
relative L2 error its meta.json sets (1e-4), with every value finite.

Both the reference backend (the oracle) and the optimized CPU backend (build passes +
oneDNN kernels) are checked. The zoo is exported by models/zoo.py and models/ocr.py into $FULCRUM_MODEL_CACHE (scripts/test.sh
does this); a model missing from the cache fails rather than skips."""
import json
import os

import numpy as np
import pytest

from conftest import run_fulcrum

ZOO = ["resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2",
       "convnext_tiny", "densenet121", "bert_base_opset13", "bert_base_opset17", "yolov5s",
       "vit_small", "ppocr_det", "ppocr_rec", "ppocr_cls"]


def cache_dir():
    return os.environ.get("FULCRUM_MODEL_CACHE", os.path.expanduser("~/.cache/fulcrum/models"))


def rel_l2(y, ref):
    y, ref = y.astype(np.float64), ref.astype(np.float64)
    return float(np.linalg.norm(y - ref) / max(np.linalg.norm(ref), 1e-30))


@pytest.mark.parametrize("name", ZOO)
@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_model_matches_reference(fulcrum_bin, tmp_path, backend, name):
    model_dir = os.path.join(cache_dir(), name)
    meta_path = os.path.join(model_dir, "meta.json")
    assert os.path.exists(meta_path), f"{name} is not in the model cache {cache_dir()}: run scripts/test.sh"
    meta = json.load(open(meta_path))
    args = ["run", os.path.join(model_dir, "model.onnx"), "--output-dir", str(tmp_path), "--backend", backend]
    for f in sorted(os.listdir(os.path.join(model_dir, "inputs"))):
        args += ["--input", f"{f[:-4]}={os.path.join(model_dir, 'inputs', f)}"]
    r = run_fulcrum(fulcrum_bin, *args)
    assert r.returncode == 0, r.stderr
    tol = meta.get("tolerance_rel_l2", 1e-4)
    refs = sorted(os.listdir(os.path.join(model_dir, "ref")))
    assert refs, f"{name}: no reference outputs"
    for f in refs:
        ref = np.load(os.path.join(model_dir, "ref", f))
        out_path = tmp_path / f
        assert out_path.exists(), f"{name}: fulcrum wrote no {f}"
        y = np.load(out_path)
        assert y.shape == ref.shape, f"{name}/{f}: shape {y.shape} != {ref.shape}"
        assert np.isfinite(y).all(), f"{name}/{f}: non-finite values"
        err = rel_l2(y, ref)
        print(f"{name}/{f} on {backend}: rel L2 {err:.2e}, max abs {np.abs(y.astype(np.float64) - ref).max():.2e}")
        assert err <= tol, f"{name}/{f}: rel L2 {err:.3e} > {tol:.0e}"
