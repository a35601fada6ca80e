"""The benchmark's models and the inputs every runtime is fed.

Models come from the zoo cache (models/zoo.py exports them to <zoo>/<name>/model.onnx).
Inputs are generated once per (model, batch) with a fixed seed and written as .npy files,
so Fulcrum (through `--input NAME=FILE.npy`), ONNX Runtime and OpenVINO all run on exactly
the same bytes.

    python bench/models.py ZOO NAME BATCH OUT_DIR   # writes the inputs, prints {name: path} as JSON

compare.py runs that in a child process and never imports numpy or onnx itself: Linux
carries a parent's RSS high-water mark into its children's ru_maxrss across fork and exec,
so a harness that had loaded a 100 MB model would inflate every runtime's peak RSS.
"""
import json
import sys
from pathlib import Path

SEED = 0
BERT_SEQ = 128
BERT_VOCAB = 30522  # models/bert.py VOCAB

# name -> sizes for the symbolic dims other than the batch (dim 0)
MODELS = {
    "resnet50": {},
    "mobilenet_v2": {},
    "bert_base_opset17": {"sequence": BERT_SEQ},
    "bert_base_opset13": {"sequence": BERT_SEQ},
    "yolov5s": {},
}
DEFAULT_MODELS = ("resnet50", "mobilenet_v2", "bert_base_opset17", "yolov5s")

# ONNX TensorProto element types -> numpy dtype names
_NP_DTYPES = {1: "float32", 7: "int64", 6: "int32", 9: "bool"}


class ModelError(Exception):
    """A model the benchmark cannot use as asked (missing, or a fixed batch != requested)."""


def model_path(zoo, name):
    path = Path(zoo) / name / "model.onnx"
    if not path.exists():
        raise ModelError(f"{name}: {path} not found; export it with "
                         f"`/usr/bin/python3 models/zoo.py --out {zoo} --only {name}`")
    return path


def input_specs(path, name, batch):
    """[(input name, numpy dtype name, concrete shape)] for `batch`, from the ONNX graph inputs."""
    import onnx
    graph = onnx.load(str(path), load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    sizes, specs = MODELS.get(name, {}), []
    for value in graph.input:
        if value.name in inits:
            continue
        tt = value.type.tensor_type
        if tt.elem_type not in _NP_DTYPES:
            raise ModelError(f"{name}: input {value.name} has unsupported element type {tt.elem_type}")
        shape = []
        for axis, dim in enumerate(tt.shape.dim):
            if axis == 0:
                if dim.dim_param or dim.dim_value in (0, batch):
                    shape.append(batch)
                    continue
                raise ModelError(f"{name}: input {value.name} has a fixed batch of {dim.dim_value}, "
                                 f"cannot run batch {batch} (re-export with a dynamic batch dim)")
            if dim.dim_param:
                if dim.dim_param not in sizes:
                    raise ModelError(f"{name}: input {value.name} dim {axis} '{dim.dim_param}' has no size")
                shape.append(sizes[dim.dim_param])
            else:
                shape.append(dim.dim_value)
        specs.append((value.name, _NP_DTYPES[tt.elem_type], tuple(shape)))
    return specs


def make_inputs(name, specs):
    """Deterministic inputs: floats uniform in [-1, 1); BERT ids in the vocab, mask ones,
    token types zeros; other integer inputs zeros (as `fulcrum bench` generates them)."""
    import numpy as np
    rng = np.random.default_rng(SEED)
    out = {}
    for iname, dtype, shape in specs:
        dtype = np.dtype(dtype)
        if np.issubdtype(dtype, np.floating):
            out[iname] = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
        elif iname == "input_ids":
            out[iname] = rng.integers(1000, BERT_VOCAB, size=shape).astype(dtype)
        elif iname == "attention_mask":
            out[iname] = np.ones(shape, dtype)
        else:
            out[iname] = np.zeros(shape, dtype)
    return out


def safe(name):
    """A file name for a tensor name (ONNX names may hold '/' or ':')."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def write_inputs(zoo, name, batch, out_dir):
    """Generate and save the inputs; returns {input name: .npy path}."""
    import numpy as np
    specs = input_specs(model_path(zoo, name), name, batch)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for iname, arr in make_inputs(name, specs).items():
        files[iname] = out_dir / f"{safe(iname)}.npy"
        np.save(files[iname], arr)
    return files


def main(argv):
    if len(argv) != 4:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    zoo, name, batch, out_dir = argv
    try:
        files = write_inputs(zoo, name, int(batch), out_dir)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(json.dumps({k: str(v) for k, v in files.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
