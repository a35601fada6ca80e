#!/usr/bin/env python3
"""Add the PaddleOCR models shipped in the rapidocr_onnxruntime wheel to the model zoo.

    PY models/ocr.py --out DIR [--force]      (PY: a python with onnxruntime and
                                               rapidocr_onnxruntime, e.g. .venv/bin/python)

These are real trained networks (PP-OCRv4 detection and recognition, PP-OCR v2.0 angle
classifier), exported from Paddle by paddle2onnx, so they exercise an exporter other than
torch. Each lands in DIR/ppocr_{det,rec,cls}/ with the zoo layout (model.onnx, inputs/,
ref/, meta.json); references come from onnxruntime on the CPU. Inputs are a synthetic
image of dark text on a light page, preprocessed as PaddleOCR does, so the outputs are
meaningful (text probability map, character logits) rather than noise responses.
"""
import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare import safe  # noqa: E402

SEED = 0
TOLERANCE = 1e-4
LINES = ["Fulcrum inference 2024", "INVOICE No. 20481-B", "Total: 1,234.56 EUR",
         "ONNX opset 12 / PP-OCRv4", "The quick brown fox jumps", "over the lazy dog 0123"]
# name: (file in the wheel, (height, width), normalisation, text). rec and cls see one
# cropped text line, sized to fit their fixed width as PaddleOCR's resize would.
MODELS = {
    "ppocr_det": ("ch_PP-OCRv4_det_infer.onnx", (320, 320), "imagenet", LINES),
    "ppocr_rec": ("ch_PP-OCRv4_rec_infer.onnx", (48, 320), "half", ["INVOICE No. 20481-B"]),
    "ppocr_cls": ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (48, 192), "half", ["No. 20481-B"]),
}


def script_sha256():
    h = hashlib.sha256()
    for f in ("ocr.py",):  # compare.py left out, as in zoo.py
        h.update(f.encode() + b"\0" + (HERE / f).read_bytes())
    return h.hexdigest()


def render(rng, h, w, lines):
    """uint8 HxWx3 RGB page: light, slightly noisy paper with dark lines of text.

    Uses Pillow's built-in font when it can scale it (Pillow >= 10.1 with FreeType, a
    rapidocr dependency); otherwise falls back to random bar 'glyphs' drawn in numpy."""
    page = rng.uniform(215, 250, size=3)
    img = np.clip(page + rng.normal(0, 4, size=(h, w, 3)), 0, 255).astype(np.uint8)
    size = 30 if h <= 64 else 24
    step = h if h <= 64 else size + 14
    try:
        from PIL import Image, ImageDraw, ImageFont
        font = ImageFont.load_default(size=size)
    except (ImportError, TypeError, OSError):
        font = None
    if font is not None:
        pil = Image.fromarray(img)
        draw = ImageDraw.Draw(pil)
        for i, text in enumerate(lines):
            ink = tuple(int(c) for c in rng.randint(0, 70, size=3))
            draw.text((int(rng.randint(4, 16)), 8 + i * step - (8 if h <= 64 else 0)),
                      text, fill=ink, font=font)
        return np.asarray(pil)
    for i, text in enumerate(lines):  # fallback: 3 random bars per character
        y0, ink = 6 + i * step, rng.randint(0, 70)
        gh = min(size, h - y0 - 2)
        for k, ch in enumerate(text[: (w - 24) // 14]):
            x0 = 8 + 14 * k
            for _ in range(3 if ch != " " else 0):
                if rng.rand() < 0.5:
                    x = x0 + rng.randint(0, 9)
                    img[y0:y0 + gh, x:x + 2] = ink
                else:
                    y = y0 + rng.randint(0, gh - 2)
                    img[y:y + 2, x0:x0 + 10] = ink
    return img


def preprocess(img, norm):
    """HWC uint8 -> 1xCxHxW float32, as PaddleOCR normalises each model's input."""
    x = img.astype(np.float32) / 255.0
    if norm == "imagenet":  # det: PaddleOCR's NormalizeImage on a cv2 (BGR) image;
        # rapidocr uses 0.5/0.5 here instead; either is a realistic input distribution.
        x = x[..., ::-1]
        x = (x - np.array([0.485, 0.456, 0.406], np.float32)) / \
            np.array([0.229, 0.224, 0.225], np.float32)
    else:  # rec / cls: (pixel / 255 - 0.5) / 0.5
        x = (x - 0.5) / 0.5
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def model_opset(path):
    """Default-domain opset, for meta.json; onnx is optional here (ORT doesn't say)."""
    try:
        import onnx
    except ImportError:
        return None
    m = onnx.load(str(path), load_external_data=False)
    return next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))


def session(path):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def export(name, src_dir, root, sha, force, wheel):
    fname, (h, w), norm, lines = MODELS[name]
    out = root / name
    meta_path = out / "meta.json"
    if not force and meta_path.exists() and \
            json.loads(meta_path.read_text()).get("script_sha256") == sha:
        print(f"{name}: cached", flush=True)
        return
    t0 = time.time()
    if out.exists():  # start clean: stale inputs/refs must not survive
        shutil.rmtree(out)
    (out / "inputs").mkdir(parents=True)
    (out / "ref").mkdir()
    shutil.copyfile(src_dir / fname, out / "model.onnx")

    rng = np.random.RandomState(SEED)
    x = preprocess(render(rng, h, w, lines), norm)
    sess = session(out / "model.onnx")
    (inp,), outs = sess.get_inputs(), [o.name for o in sess.get_outputs()]
    ys = sess.run(outs, {inp.name: x})
    for o, y in zip(outs, ys):
        if not np.isfinite(y).all():
            raise RuntimeError(f"{name}: output {o} is not finite")
        np.save(out / "ref" / f"{safe(o)}.npy", y.astype(np.float32))
    np.save(out / "inputs" / f"{safe(inp.name)}.npy", x)

    opset = model_opset(out / "model.onnx")
    meta = {"name": name, "source": f"onnxruntime {ort.__version__}", "opset": opset,
            "inputs": [inp.name], "outputs": outs, "script_sha256": sha,
            "tolerance_rel_l2": TOLERANCE, "origin": f"{wheel}/models/{fname}"}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # last: marks the dir complete
    mb = (out / "model.onnx").stat().st_size / 1e6
    shapes = ", ".join(f"{o}{list(y.shape)}" for o, y in zip(outs, ys))
    print(f"{name}: {time.time() - t0:.1f} s, {mb:.1f} MB, opset {opset}, "
          f"{inp.name}{list(x.shape)} (model: {inp.shape}) -> {shapes}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--force", action="store_true", help="redo even if cached")
    a = ap.parse_args()
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None:
        sys.exit(f"rapidocr_onnxruntime is not installed for {sys.executable}")
    src_dir = Path(spec.origin).parent / "models"
    wheel = f"rapidocr_onnxruntime {importlib.metadata.version('rapidocr_onnxruntime')}"
    sha, t0 = script_sha256(), time.time()
    for name in MODELS:
        export(name, src_dir, a.out, sha, a.force, wheel)
    print(f"done: {len(MODELS)} model(s) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
