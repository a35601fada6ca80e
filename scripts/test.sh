#!/usr/bin/env bash
# Runs the whole test suite: formatting, unit and op tests, ONNX conformance, the model zoo
# end to end against independent references, and the CLI's bad-input cases.
# Expects scripts/setup.sh to have run. The zoo is exported once into $FULCRUM_MODEL_CACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
export FULCRUM_MODEL_CACHE=${FULCRUM_MODEL_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/fulcrum/models}

echo "== clang-format"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

echo "== build"
cmake --build build -j"$(nproc)"

echo "== model zoo (cached in $FULCRUM_MODEL_CACHE)"
/usr/bin/python3 models/zoo.py --out "$FULCRUM_MODEL_CACHE"
.venv/bin/python models/ocr.py --out "$FULCRUM_MODEL_CACHE"

echo "== tests"
ctest --test-dir build --output-on-failure -j"$(nproc)"
