#!/usr/bin/env bash
# Create (or reuse) .venv, install realsr, and run the demo on the bundled images:
#   1. a contact sheet of the realesrgan_x4plus degradation;
#   2. train a small blind x4 model on the CPU (options/demo_x4_cpu.yml; a few minutes);
#   3. score it against MATLAB bicubic on held-out images degraded like its training data;
#   4. upscale degraded held-out images with it: bicubic "before", model "after".
# Everything is written under demo_out/. Running it again reuses the finished training run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet -e .
mkdir -p demo_out

echo "== 1/4 degradation contact sheet"
.venv/bin/degrade preview examples/images/*.png --preset realesrgan_x4plus --samples 3 --crop 256 --seed 0 \
    --out demo_out/contact_sheet.png

echo "== 2/4 training (options/demo_x4_cpu.yml)"
.venv/bin/realsr train -opt options/demo_x4_cpu.yml --auto-resume
model=demo_out/demo_x4_cpu/models/net_g_latest.pth

echo "== 3/4 held-out PSNR: our model vs MATLAB bicubic"
.venv/bin/python scripts/evaluate_demo.py --model "$model" --json demo_out/heldout_psnr.json

echo "== 4/4 before/after on degraded held-out images"
(cd examples/heldout && ls -1 -- *.png) >demo_out/heldout_list.txt
.venv/bin/degrade generate --input demo_out/heldout_list.txt --input-root examples/heldout \
    --output demo_out/heldout_degraded --preset realesrgan_x4plus --seed 1 --crop 0 --variants 1 \
    --no-gt-usm --format png --quiet
.venv/bin/realsr infer -i demo_out/heldout_degraded/lq -o demo_out/after -m "$model" --suffix model --quiet
.venv/bin/python - <<'PY'
# before = MATLAB bicubic upscaling of the same inputs; side by side: before | after | HR
from pathlib import Path

import torch

from degrade.io import list_images, read_image, write_image
from realsr.evaluate import bicubic_upscale

out = Path("demo_out")
for path in list_images(out / "heldout_degraded" / "lq"):
    before = bicubic_upscale(read_image(path), 4).clamp(0, 1)
    write_image(out / "before" / f"{path.stem}_bicubic.png", before)
    after = read_image(out / "after" / f"{path.stem}_model.png")
    hr = read_image(out / "heldout_degraded" / "gt" / path.name)
    write_image(out / "before_after" / path.name, torch.cat([before, after, hr], dim=-1))
PY

echo "demo finished:"
echo "  demo_out/contact_sheet.png          the degradation, op by op"
echo "  demo_out/demo_x4_cpu/               the training run (train.log, models/)"
echo "  demo_out/heldout_psnr.json          the scores printed above"
echo "  demo_out/heldout_degraded/lq/       degraded held-out inputs (4x smaller)"
echo "  demo_out/before/, demo_out/after/   bicubic vs model upscaling of those inputs"
echo "  demo_out/before_after/              bicubic | model | HR, side by side"
