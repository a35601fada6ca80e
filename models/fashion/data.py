"""Fashion-MNIST from Debian's dataset-fashion-mnist package, as float32 arrays and .npy files.

Used by train.py (torch) and by the accuracy tests (numpy only, any python):

    python models/fashion/data.py --out DIR

writes DIR/test_images.npy (10000 x 1 x 28 x 28 float32, pixels / 255), DIR/test_labels.npy
(10000 int64) and DIR/calib_images.npy (the first 500 training images, same layout): the
calibration set of issue 4. Preprocessing is exactly the models' (`unit`: x / 255, no mean/std).
"""
import argparse
import gzip
import os

import numpy as np

DATA = os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
CALIB_COUNT = 500


def load(kind):
    """Returns (images N x 1 x 28 x 28 float32 in [0, 1], labels N int64); kind is 'train' or 't10k'."""
    with gzip.open(f"{DATA}/{kind}-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/{kind}-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.astype(np.float32) / 255.0, labels.astype(np.int64)


def write_npy(out):
    os.makedirs(out, exist_ok=True)
    x_test, y_test = load("t10k")
    x_train, _ = load("train")
    np.save(os.path.join(out, "test_images.npy"), x_test)
    np.save(os.path.join(out, "test_labels.npy"), y_test)
    np.save(os.path.join(out, "calib_images.npy"), np.ascontiguousarray(x_train[:CALIB_COUNT]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="directory for the .npy files")
    write_npy(parser.parse_args().out)
