"""ONNX Runtime's static quantizer (`quantize_static`) on a .npy of calibration samples, in a
process of its own so that the harness can time it and read its peak RSS.

    python bench/ort_quant.py MODEL.onnx CALIB.npy OUT.onnx [--method minmax|entropy]
        [--batch 8] [--max-samples N]

Settings as close to Fulcrum's (TensorRT's) scheme as the quantizer allows: QDQ format,
int8 weights per output channel, symmetric int8 activations (ActivationSymmetric,
WeightSymmetric). The calibration method is ONNX Runtime's MinMax (its default) or Entropy.
Samples are read from the .npy memory-mapped, `--batch` at a time, as Fulcrum reads them.
"""
import argparse
import sys

import numpy as np
import onnx
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

METHODS = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy}


class NpyReader(CalibrationDataReader):
    """Batches of one model input cut from the leading axis of a memory-mapped .npy."""

    def __init__(self, input_name, path, batch, limit):
        self.name, self.batch = input_name, batch
        self.data = np.load(path, mmap_mode="r")
        self.count = min(len(self.data), limit) if limit else len(self.data)
        self.pos = 0

    def get_next(self):
        if self.pos >= self.count:
            return None
        end = min(self.pos + self.batch, self.count)
        chunk = np.ascontiguousarray(self.data[self.pos:end], dtype=np.float32)
        self.pos = end
        return {self.name: chunk}

    def rewind(self):
        self.pos = 0


def single_input(model_path):
    graph = onnx.load(model_path, load_external_data=False).graph
    inits = {i.name for i in graph.initializer}
    names = [i.name for i in graph.input if i.name not in inits]
    if len(names) != 1:
        raise SystemExit(f"error: {model_path}: expected one input, found {names}")
    return names[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("calib", help=".npy of preprocessed samples, N x input shape")
    ap.add_argument("output")
    ap.add_argument("--method", choices=sorted(METHODS), default="minmax")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-samples", type=int, default=0, help="0: all")
    a = ap.parse_args(argv)
    reader = NpyReader(single_input(a.model), a.calib, a.batch, a.max_samples)
    quantize_static(a.model, a.output, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    calibrate_method=METHODS[a.method],
                    extra_options={"ActivationSymmetric": True, "WeightSymmetric": True})
    print(f"wrote {a.output} ({a.method}, {reader.count} samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
