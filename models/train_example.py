"""Trains the small Fashion-MNIST CNN bundled as the README's example.

Run with Debian's python3 (torch 1.13):  /usr/bin/python3 models/train_example.py
Writes examples/fashion_cnn.onnx, examples/fashion_images.npy (8 test images, N x 1 x 28 x 28,
pixels / 255) and examples/fashion_labels.txt (their true classes). Deterministic: fixed seed,
one thread.
"""
import gzip
import os

import numpy as np
import torch
import torch.nn as nn

DATA = "/usr/share/datasets/fashion-mnist"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load(kind):
    with gzip.open(f"{DATA}/{kind}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{kind}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    x_train, y_train = load("train")
    x_test, y_test = load("t10k")
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 5 * 5, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
    for epoch in range(2):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(model(xt[idx]), yt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(x_test)).argmax(1).numpy() == y_test).mean()
    print(f"test accuracy: {acc:.4f}")

    os.makedirs(OUT, exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), os.path.join(OUT, "fashion_cnn.onnx"),
                      input_names=["image"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    np.save(os.path.join(OUT, "fashion_images.npy"), np.ascontiguousarray(x_test[:8]))
    with open(os.path.join(OUT, "fashion_labels.txt"), "w") as f:
        f.write("\n".join(CLASSES[c] for c in y_test[:8]) + "\n")


if __name__ == "__main__":
    main()
