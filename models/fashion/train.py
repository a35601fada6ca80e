"""Trains the two Fashion-MNIST models of issue 4 (INT8 accuracy data) and exports them to ONNX.

    nice -n 19 /usr/bin/python3 models/fashion/train.py --model cnn   # -> models/fashion/cnn.onnx
    nice -n 19 /usr/bin/python3 models/fashion/train.py --model vit   # -> models/fashion/vit.onnx

Fixed seed; on the CPU one thread (the development machine is shared). Training can also run
on a GPU and the export on Debian's torch 1.13 (the exporter the rest of the zoo uses):

    python train.py --model cnn --device cuda --weights-out cnn.npz        # GPU machine
    /usr/bin/python3 models/fashion/train.py --model cnn --weights-in cnn.npz   # export only

Input `image` (N x 1 x 28 x 28 float32, pixels / 255), output `logits` (N x 10); the batch
axis is dynamic. Prints the torch top-1 on the 10,000 test images; eval.py measures the
exported file with onnxruntime (the number in README.md).

- cnn: a ResNet-style network: 3x3 stem, three stages of two basic residual blocks
  (16, 32, 64 channels at 28, 14, 7 pixels; a 1x1 strided projection where the shape changes),
  global average pooling, a linear classifier. BatchNorm, ReLU, residual Add: the layers an INT8
  engine must keep in INT8 across.
- vit: a small Vision Transformer: 4x4 patches (49 tokens) plus a class token, width 64,
  4 pre-norm encoder layers of 4 heads, MLP 128 with GELU. Attention is written out in plain
  MatMul/Softmax so the graph is the one a BERT-style INT8 path sees.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks += [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        n, t, d = x.shape
        qkv = self.qkv(x).reshape(n, t, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim)), dim=-1)
        return self.proj(torch.matmul(att, v).transpose(1, 2).reshape(n, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, mlp):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp), nn.GELU(), nn.Linear(mlp, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, patch=4, dim=64, depth=4, heads=4, mlp=128, classes=10):
        super().__init__()
        tokens = (28 // patch) ** 2
        self.embed = nn.Conv2d(1, dim, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.layers = nn.Sequential(*[EncoderLayer(dim, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.embed(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = self.norm(self.layers(x))
        return self.head(x[:, 0])


CONFIGS = {
    # model factory, epochs, peak learning rate, weight decay, augment (random shift)
    "cnn": (ResNet, 20, 4e-3, 5e-4, True),
    "vit": (ViT, 40, 2e-3, 5e-2, True),
}


def augment_batch(x, pixels=2):
    """Per image: a random translation by up to `pixels` (pad and crop) and a random horizontal flip."""
    n = x.shape[0]
    padded = F.pad(x, (pixels,) * 4)
    offsets = torch.randint(0, 2 * pixels + 1, (2, n), device=x.device)
    grid = torch.arange(28, device=x.device)
    rows = (offsets[0][:, None] + grid)[:, :, None]
    cols = (offsets[1][:, None] + grid)[:, None, :]
    out = padded[torch.arange(n, device=x.device)[:, None, None], 0, rows, cols].unsqueeze(1)
    flip = torch.rand(n, device=x.device) < 0.5
    return torch.where(flip[:, None, None, None], out.flip(3), out)


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])
    return (pred == y).float().mean().item()


def train(model, args, epochs, lr, wd, augment, x_train, y_train, x_test, y_test):
    batch = 128
    steps = epochs * math.ceil(len(x_train) / batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.15)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(x_train), device=x_train.device)
        for i in range(0, len(x_train), batch):
            idx = perm[i:i + batch]
            xb = augment_batch(x_train[idx]) if augment else x_train[idx]
            loss = F.cross_entropy(model(xb), y_train[idx], label_smoothing=0.05)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, test top-1 {accuracy(model, x_test, y_test):.4f}, "
              f"{time.time() - start:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(CONFIGS), required=True)
    parser.add_argument("--epochs", type=int, help="override the model's default")
    parser.add_argument("--device", default="cpu", help="torch device to train on (cpu, cuda)")
    parser.add_argument("--weights-out", help="also save the trained weights as .npz (portable across torch versions)")
    parser.add_argument("--weights-in", help="skip training: load these .npz weights and export")
    parser.add_argument("--no-export", action="store_true", help="train only (e.g. on a GPU machine)")
    parser.add_argument("--out", help="ONNX path (default models/fashion/<model>.onnx)")
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    factory, epochs, lr, wd, augment = CONFIGS[args.model]
    device = torch.device(args.device)
    x_train, y_train = (torch.from_numpy(a).to(device) for a in data.load("train"))
    x_test, y_test = (torch.from_numpy(a).to(device) for a in data.load("t10k"))
    model = factory().to(device)
    if args.weights_in:
        weights = np.load(args.weights_in)
        model.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files})
    else:
        train(model, args, args.epochs or epochs, lr, wd, augment, x_train, y_train, x_test, y_test)
    if args.weights_out:
        np.savez(args.weights_out, **{k: v.detach().cpu().numpy() for k, v in model.state_dict().items()})
    print(f"torch test top-1 {accuracy(model, x_test, y_test):.4f}")
    if args.no_export:
        return
    model = model.cpu().eval()
    out = args.out or os.path.join(HERE, f"{args.model}.onnx")
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), out, input_names=["image"], output_names=["logits"],
                      opset_version=17, do_constant_folding=True,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
