"""Top-1 of the exported Fashion-MNIST models on the 10,000 test images, with onnxruntime.

    .venv/bin/python models/fashion/eval.py                 # both models
    .venv/bin/python models/fashion/eval.py models/fashion/cnn.onnx

The numbers in README.md come from this script.
"""
import os
import sys

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def top1(model_path, images, labels, batch=1000):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    predictions = np.concatenate([session.run(None, {name: images[i:i + batch]})[0].argmax(1)
                                  for i in range(0, len(images), batch)])
    return float((predictions == labels).mean())


def main(paths):
    images, labels = data.load("t10k")
    for path in paths or [os.path.join(HERE, "cnn.onnx"), os.path.join(HERE, "vit.onnx")]:
        print(f"{os.path.basename(path)}: top-1 {top1(path, images, labels):.4f} on {len(labels)} test images")


if __name__ == "__main__":
    main(sys.argv[1:])
