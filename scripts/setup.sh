#!/usr/bin/env bash
# Sets Fulcrum up on a fresh Debian 12 machine and runs the bundled example end to end:
# Debian packages, a Python venv for the tools (.venv), a Release build (build/), then
# `fulcrum inspect` and `fulcrum run` on a small Fashion-MNIST classifier.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake git python3-venv clang-format
  libonnx-dev libprotobuf-dev protobuf-compiler libdnnl-dev ocl-icd-opencl-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libstb-dev zlib1g-dev libflatbuffers-dev
  libgtest-dev libgmock-dev libbenchmark-dev pybind11-dev
  libonnx-testdata dataset-fashion-mnist python3-torch python3-torchvision python3-onnx
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ] || ! cmp -s requirements.txt .venv/requirements.txt; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  cp requirements.txt .venv/requirements.txt
fi

echo "== building (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DFULCRUM_PYTHON="$PWD/.venv/bin/python" >/dev/null
cmake --build build -j"$(nproc)"

echo "== example: a Fashion-MNIST classifier"
build/fulcrum inspect examples/fashion_cnn.onnx
build/fulcrum run examples/fashion_cnn.onnx --input image=examples/fashion_images.npy --output-dir build/example
.venv/bin/python examples/show_predictions.py build/example/logits.npy examples/fashion_labels.txt
