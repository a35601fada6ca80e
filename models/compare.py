#!/usr/bin/env python3
"""Compare a run's outputs with a zoo model's references (numpy only; used by tests).

    compare.py REF_DIR OUT_DIR

REF_DIR is DIR/<model>/ref; its parent holds meta.json with "tolerance_rel_l2". Every
ref/<name>.npy must have a same-named file in OUT_DIR with the same shape, finite values
and rel L2 = ||y - ref|| / ||ref|| within the tolerance. Exit status 1 otherwise.
"""
import json
import re
import sys
from pathlib import Path

import numpy as np


def safe(name):
    """File stem for a tensor name: ONNX names may hold '/', ':' and the like."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def rel_l2(y, ref):
    """||y - ref|| / ||ref||, in float64 so the norm itself adds no error."""
    y, ref = np.asarray(y, np.float64), np.asarray(ref, np.float64)
    den = np.linalg.norm(ref)
    num = np.linalg.norm(y - ref)
    return num / den if den > 0 else num  # all-zero ref: fall back to absolute


def compare(ref_dir, outputs, tolerance=None):
    """Check `outputs` (file stem -> array, or a directory of .npy) against ref_dir.

    Prints one line per output and returns True if all pass."""
    ref_dir = Path(ref_dir)
    if tolerance is None:
        tolerance = json.loads((ref_dir.parent / "meta.json").read_text())["tolerance_rel_l2"]
    refs = sorted(ref_dir.glob("*.npy"))
    if not refs:
        print(f"FAIL no references in {ref_dir}")
        return False
    ok = True
    for path in refs:
        ref, name = np.load(path), path.stem
        if isinstance(outputs, dict):
            y = outputs.get(name)
        else:
            f = Path(outputs) / path.name
            y = np.load(f) if f.exists() else None
        if y is None:
            print(f"FAIL {name}: missing")
            ok = False
        elif y.shape != ref.shape:
            print(f"FAIL {name}: shape {list(y.shape)} != ref {list(ref.shape)}")
            ok = False
        elif not np.isfinite(y).all():
            print(f"FAIL {name}: {np.size(y) - np.isfinite(y).sum()} non-finite values")
            ok = False
        else:
            err = rel_l2(y, ref)
            diff = np.abs(y.astype(np.float64) - ref).max() if y.size else 0.0
            good = err <= tolerance
            ok = ok and bool(good)
            print(f"{'ok  ' if good else 'FAIL'} {name}: rel_l2 {err:.3e} "
                  f"(tol {tolerance:.0e}), max_abs {diff:.3e}, shape {list(ref.shape)}")
    return ok


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(0 if compare(sys.argv[1], sys.argv[2]) else 1)


if __name__ == "__main__":
    main()
