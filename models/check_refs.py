#!/usr/bin/env python3
"""Check a zoo's references against onnxruntime: proves the exported ONNX graphs compute
what torch computed, so the references are fit to judge Fulcrum by.

    PY models/check_refs.py DIR [NAME ...]     (PY: a python with onnxruntime)

Runs every DIR/<name>/model.onnx (those with a meta.json) on its saved inputs and compares
with ref/ via compare.py. For the OCR models the refs come from onnxruntime itself, so
this only re-checks them. Exit status 1 if any model fails.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare import compare, safe  # noqa: E402


def run_model(d):
    meta = json.loads((d / "meta.json").read_text())
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(str(d / "model.onnx"), so, providers=["CPUExecutionProvider"])
    feeds = {n: np.load(d / "inputs" / f"{safe(n)}.npy") for n in meta["inputs"]}
    t0 = time.time()
    ys = sess.run(meta["outputs"], feeds)
    return {safe(n): y for n, y in zip(meta["outputs"], ys)}, time.time() - t0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = Path(sys.argv[1])
    names = sys.argv[2:] or sorted(p.parent.name for p in root.glob("*/meta.json"))
    failed = []
    for name in names:
        d = root / name
        outputs, secs = run_model(d)
        print(f"{name} (onnxruntime {ort.__version__}, {secs:.2f} s):")
        if not compare(d / "ref", outputs):
            failed.append(name)
    print(f"{len(names) - len(failed)}/{len(names)} models match their references"
          + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
