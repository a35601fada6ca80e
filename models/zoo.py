#!/usr/bin/env python3
"""Export the torch part of Fulcrum's model zoo to ONNX, with reference outputs.

    /usr/bin/python3 models/zoo.py --out DIR [--only NAME[,NAME...]] [--force]

Each model lands in DIR/<name>/: model.onnx, inputs/<input>.npy, ref/<output>.npy (torch
eval-mode outputs on exactly those inputs, computed in float64 and stored as float32) and
meta.json. No pretrained weights can be
downloaded, so every model is randomly initialised with fixed seeds; the init is then
adjusted so that every layer matters to the output (see perturb_norms, calibrate_bn and
the per-model fixups), otherwise a broken kernel could hide under the tolerance.
"""
import argparse
import hashlib
import json
import shutil
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch
import torchvision
from torch import nn
from torchvision.models.convnext import CNBlock
from torchvision.models.vision_transformer import VisionTransformer

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bert  # noqa: E402  (sibling modules of this script)
from compare import rel_l2, safe  # noqa: E402
import yolo  # noqa: E402

# What the cache key covers: the files that define the models and data. compare.py is
# left out on purpose (its safe() naming rule is fixed by the layout; editing its messages
# should not force a 1.3 GB rebuild).
SCRIPTS = ("zoo.py", "bert.py", "yolo.py")
SEED = 0
TOLERANCE = 1e-4
YOLO_SIZE = 320  # 640 is one edit away; 320 keeps engine model tests ~4x cheaper
warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)


def script_sha256():
    h = hashlib.sha256()
    for f in SCRIPTS:
        h.update(f.encode() + b"\0" + (HERE / f).read_bytes())
    return h.hexdigest()


# ---- making random weights behave like trained ones ---------------------------------

def perturb_norms(model):
    """Default norm affine params are 1 and 0, which hides a kernel that ignores them."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)) and m.weight is not None:
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0.0, 0.1)


@torch.no_grad()
def calibrate_bn(model, size, passes=4, batch=8):
    """Give BatchNorm realistic running stats (the defaults 0/1 make eval-mode BN nearly
    an identity and let activations drift). momentum=None makes them an exact average
    over the passes, so a few batches are enough."""
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not bns:
        return
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    for _ in range(passes):
        model(torch.randn(batch, 3, size, size))
    model.eval()


def fix_convnext(model):
    # torchvision inits layer_scale to 1e-6 and Linear with std 0.02, so each block adds
    # ~1e-7 of the residual stream: the blocks would be invisible in the reference.
    for m in model.modules():
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, std=m.in_features ** -0.5)
        if isinstance(m, CNBlock):
            m.layer_scale.data.uniform_(0.1, 0.5)


def vit_small():
    m = VisionTransformer(image_size=224, patch_size=16, num_layers=6, num_heads=6,
                          hidden_dim=384, mlp_dim=1536, num_classes=10)
    # torchvision zero-inits the head (and class token), which would make logits all 0.
    nn.init.normal_(m.heads.head.weight, std=384 ** -0.5)
    nn.init.normal_(m.class_token, std=0.02)
    return m


# ---- the zoo ------------------------------------------------------------------------

def batch_axes(*names):
    """A symbolic batch dim 0, so one export serves batch 1 and batch 8 (bench/compare.py)."""
    return {n: {0: "batch"} for n in names}


def image_model(ctor, opset, fixup=None, size=224, dynamic_batch=False):
    def build(rng):
        model = ctor()
        if fixup:
            fixup(model)
        perturb_norms(model)
        calibrate_bn(model, size)
        x = rng.standard_normal((1, 3, size, size)).astype(np.float32)
        axes = batch_axes("input", "logits") if dynamic_batch else None
        return dict(model=model, inputs={"input": x}, outputs=["logits"], opset=opset,
                    dynamic_axes=axes)
    return build


def bert_model(opset):
    def build(rng):
        seq = {0: "batch", 1: "sequence"}
        axes = {n: seq for n in ("input_ids", "attention_mask", "token_type_ids",
                                 "last_hidden_state")}
        axes["pooler_output"] = {0: "batch"}
        # torch 1.13 exports nn.LayerNorm as LayerNormalization only from opset 17;
        # below that it decomposes (ReduceMean/Sub/Pow/Sqrt/Div). Check both ways.
        ln = ["LayerNormalization"]
        return dict(model=bert.Bert(), inputs=bert.example_inputs(rng), opset=opset,
                    outputs=["last_hidden_state", "pooler_output"], dynamic_axes=axes,
                    must=["Where", "Expand", "Unsqueeze", "Cast", "Erf"]
                    + (ln if opset >= 17 else ["ReduceMean", "Sqrt"]),
                    never=[] if opset >= 17 else ln)
    return build


def yolo_model(rng):
    model = yolo.YoloV5s(YOLO_SIZE)
    perturb_norms(model)
    calibrate_bn(model, YOLO_SIZE, passes=3, batch=4)
    x = rng.standard_normal((1, 3, YOLO_SIZE, YOLO_SIZE)).astype(np.float32)
    # Batch stays symbolic: the Detect head's Reshapes then take their batch from Shape
    # ops (as ultralytics' dynamic export does) instead of a baked-in 1.
    return dict(model=model, inputs={"images": x}, outputs=["output0"], opset=12,
                dynamic_axes=batch_axes("images", "output0"),
                must=["Resize", "Split", "MaxPool", "Concat", "Sigmoid"])


def vit_model(rng):
    build = image_model(vit_small, 14)
    return dict(build(rng), must=["Softmax", "Erf", "MatMul"])


tv = torchvision.models
MODELS = {
    "resnet50": image_model(tv.resnet50, 11, dynamic_batch=True),
    "mobilenet_v2": image_model(tv.mobilenet_v2, 13, dynamic_batch=True),
    "mobilenet_v3_small": image_model(tv.mobilenet_v3_small, 13),
    "efficientnet_b0": image_model(tv.efficientnet_b0, 13),
    "shufflenet_v2": image_model(tv.shufflenet_v2_x1_0, 13),
    "convnext_tiny": image_model(tv.convnext_tiny, 14, fixup=fix_convnext),
    "densenet121": image_model(tv.densenet121, 12),
    "bert_base_opset13": bert_model(13),
    "bert_base_opset17": bert_model(17),
    "yolov5s": yolo_model,
    "vit_small": vit_model,
}


# ---- export -------------------------------------------------------------------------

def export(name, root, sha, force):
    out = root / name
    meta_path = out / "meta.json"
    if not force and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("script_sha256") == sha:
            print(f"{name}: cached (ops: {' '.join(meta.get('op_types', []))})", flush=True)
            return
    t0 = time.time()
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    spec = MODELS[name](np.random.RandomState(SEED))
    model, inputs, opset = spec["model"].eval(), spec["inputs"], spec["opset"]
    args = tuple(torch.from_numpy(v) for v in inputs.values())

    if out.exists():  # start clean: stale inputs/refs must not survive a re-export
        shutil.rmtree(out)
    (out / "inputs").mkdir(parents=True)
    (out / "ref").mkdir()
    # Export with autograd on: under no_grad torch 1.13's nn.MultiheadAttention (ViT)
    # takes its fused fast path, aten::_native_multi_head_attention, which has no ONNX
    # symbolic. With grad on it traces the plain MatMul/Softmax path.
    torch.onnx.export(model, args, str(out / "model.onnx"), opset_version=opset,
                      input_names=list(inputs), output_names=spec["outputs"],
                      dynamic_axes=spec.get("dynamic_axes"), do_constant_folding=True)
    g = onnx.load(str(out / "model.onnx"))
    onnx.checker.check_model(g, full_check=True)
    ops = sorted({n.op_type for n in g.graph.node})
    missing = set(spec.get("must", [])) - set(ops)
    banned = set(spec.get("never", [])) & set(ops)
    if missing or banned:
        raise RuntimeError(f"{name}: expected ops missing {missing}, unexpected {banned}")

    refs, fp32_err = reference(model, args)
    for oname, r in zip(spec["outputs"], refs):
        if not np.isfinite(r).all():
            raise RuntimeError(f"{name}: torch output {oname} is not finite")
        np.save(out / "ref" / f"{safe(oname)}.npy", r)
    for iname, v in inputs.items():
        np.save(out / "inputs" / f"{safe(iname)}.npy", v)
    meta = {"name": name, "source": f"torch {torch.__version__}", "opset": opset,
            "inputs": list(inputs), "outputs": spec["outputs"], "script_sha256": sha,
            "tolerance_rel_l2": TOLERANCE, "op_types": ops,
            "torch_fp32_rel_l2": float(f"{fp32_err:.3g}")}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # last: marks the dir complete
    mb = (out / "model.onnx").stat().st_size / 1e6
    shapes = ", ".join(f"{k}{list(v.shape)}" for k, v in inputs.items())
    print(f"{name}: {time.time() - t0:.1f} s, {mb:.1f} MB, opset {opset}, {shapes}, "
          f"torch fp32 rel_l2 {fp32_err:.1e}\n  ops: {' '.join(ops)}", flush=True)


@torch.no_grad()
def reference(model, args):
    """Eval-mode outputs computed in float64 (weights and float inputs widened exactly),
    stored as float32. A float32 reference would carry torch's own rounding error (up to
    ~1.5e-5 rel L2 on resnet50, a sixth of the tolerance) into every comparison; this way
    an engine is judged against the true value. Also returns torch fp32's own error."""
    def run(m, a):
        y = m(*a)
        return y if isinstance(y, tuple) else (y,)
    y32 = run(model, args)
    wide = tuple(a.double() if a.is_floating_point() else a for a in args)
    y64 = run(model.double(), wide)
    model.float()
    err = max(rel_l2(a.numpy(), b.numpy()) for a, b in zip(y32, y64))
    return [y.float().numpy() for y in y64], err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--only", help="comma-separated model names: " + ",".join(MODELS))
    ap.add_argument("--force", action="store_true", help="re-export even if cached")
    a = ap.parse_args()
    names = a.only.split(",") if a.only else list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    sha, t0 = script_sha256(), time.time()
    for name in names:
        export(name, a.out, sha, a.force)
    print(f"done: {len(names)} model(s) in {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
