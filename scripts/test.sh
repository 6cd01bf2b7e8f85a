#!/usr/bin/env bash
# Create or update .venv with the test, reference, onnx, notebook and train extras, then run lint, types
# and every test tier.
#   bash scripts/test.sh           all tiers (default + slow)
#   bash scripts/test.sh --fast    default tier only (skips tests marked slow)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e '.[test,reference,onnx,notebook,train]'
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
marker=()
if [ "${1:-}" = "--fast" ]; then marker=(-m "not slow"); fi
.venv/bin/python -m pytest "${marker[@]}" --durations=15
