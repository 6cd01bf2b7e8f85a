#!/usr/bin/env bash
# Create (or reuse) .venv, install realsr, and run the demo on the bundled images.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e .
mkdir -p demo_out
.venv/bin/degrade preview examples/images/*.png --preset realesrgan_x4plus --samples 3 --crop 256 --seed 0 \
    --out demo_out/contact_sheet.png
echo "demo finished: open demo_out/contact_sheet.png"
