"""Score the demo model against MATLAB bicubic on held-out images degraded like its training data.

Every image of ``--data`` is degraded ``--variants`` times with the degradation pipeline of the
options file (image ``name``, variant ``v`` gets the key ``derive_seed(seed, "heldout", name, v)``;
the LR is rounded to 8 bits), then upscaled by the model and by MATLAB's bicubic ``imresize`` (each
pass rounded, as ``realsr evaluate -m bicubic``); PSNR is on the Y channel with ``scale`` border
pixels cropped, against the plain HR. The margin is the mean PSNR of the model minus that of
bicubic over all (image, variant) pairs.

Usage (from the repository root, after ``realsr train -opt options/demo_x4_cpu.yml``)::

    python scripts/evaluate_demo.py [--options options/demo_x4_cpu.yml] [--model CHECKPOINT]
                                    [--data examples/heldout] [--variants 4] [--seed 0]
                                    [--min-margin 0.3] [--json FILE]

Exit status: 0, or 1 when ``--min-margin`` is given and the margin is below it (2: bad input).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OPTIONS = REPO_ROOT / "options" / "demo_x4_cpu.yml"
DEFAULT_DATA = REPO_ROOT / "examples" / "heldout"


@dataclass(frozen=True)
class Score:
    """PSNR (dB) of one degraded variant of one image."""

    image: str
    variant: int
    model: float
    bicubic: float


@dataclass(frozen=True)
class DemoResult:
    """All scores and their means."""

    scores: list[Score]
    model: float
    bicubic: float

    @property
    def margin(self) -> float:
        """Mean PSNR of the model minus that of bicubic (dB)."""
        return self.model - self.bicubic


def evaluate_heldout(
    model: str | os.PathLike[str],
    options: str | os.PathLike[str] = DEFAULT_OPTIONS,
    data: str | os.PathLike[str] = DEFAULT_DATA,
    *,
    variants: int = 4,
    seed: int = 0,
) -> DemoResult:
    """PSNR of ``model`` and of MATLAB bicubic on the degraded images of ``data``.

    Args:
        model: a checkpoint written by ``realsr train`` (or any file ``realsr.load_model`` reads).
        options: the training options file; its ``degradation`` pipeline and ``scale`` are used.
        data: a folder of HR images.
        variants: degraded versions per image.
        seed: the seed of the degradation draws.

    Returns:
        Per-variant scores and the means.

    Raises:
        ValueError: the options file has no degradation pipeline, or ``variants < 1``.
    """
    from degrade import load_pipeline
    from degrade.functional import usm_sharp
    from degrade.io import list_images, read_image
    from degrade.seeding import derive_seed
    from realsr.config import load_options
    from realsr.evaluate import bicubic_upscale, build_model_sr
    from realsr.metrics.psnr_ssim import modcrop, psnr

    if variants < 1:
        raise ValueError(f"--variants must be >= 1, got {variants}")
    opts = load_options(options)
    if opts.degradation.spec is None:
        raise ValueError(f"{options}: the options make no degradation pipeline")
    scale = int(opts.scale)
    pipeline = load_pipeline(opts.degradation.spec)
    upscale = build_model_sr(str(model), scale=scale)
    scores: list[Score] = []
    for path in list_images(data):
        hr = modcrop(read_image(path), scale)
        if hr.shape[1] == 1:
            hr = hr.expand(-1, 3, -1, -1).contiguous()
        source = usm_sharp(hr) if pipeline.gt_usm else hr
        for v in range(variants):
            key = torch.tensor([derive_seed(seed, "heldout", path.name, v)], dtype=torch.int64)
            with torch.no_grad():
                lq = (pipeline(source, key, seed=seed).clamp(0, 1) * 255).round() / 255
                ours = upscale(lq).float()
                bicubic = bicubic_upscale(lq, scale).clamp(0, 1)
            scores.append(
                Score(
                    image=path.name,
                    variant=v,
                    model=float(psnr(ours, hr, crop_border=scale)[0]),
                    bicubic=float(psnr(bicubic, hr, crop_border=scale)[0]),
                )
            )
    if not scores:
        raise ValueError(f"{data}: no images")
    n = len(scores)
    return DemoResult(
        scores=scores,
        model=sum(s.model for s in scores) / n,
        bicubic=sum(s.bicubic for s in scores) / n,
    )


def format_result(result: DemoResult) -> str:
    """A per-image table (means over variants) and the overall means and margin."""
    lines = [
        f"{'image':<20} {'model':>8} {'bicubic':>8} {'gain':>7}  (PSNR dB, Y, mean of variants)"
    ]
    for name in dict.fromkeys(s.image for s in result.scores):
        rows = [s for s in result.scores if s.image == name]
        model = sum(s.model for s in rows) / len(rows)
        bicubic = sum(s.bicubic for s in rows) / len(rows)
        lines.append(f"{name:<20} {model:>8.3f} {bicubic:>8.3f} {model - bicubic:>+7.3f}")
    lines.append(
        f"{'mean':<20} {result.model:>8.3f} {result.bicubic:>8.3f} {result.margin:>+7.3f}"
        f"  ({len(result.scores)} degraded images)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--options", default=str(DEFAULT_OPTIONS), help="training options file")
    parser.add_argument(
        "--model",
        default=None,
        help="checkpoint (default: models/net_g_latest.pth of the options' experiment folder)",
    )
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder of held-out HR images")
    parser.add_argument("--variants", type=int, default=4, help="degraded versions per image")
    parser.add_argument("--seed", type=int, default=0, help="seed of the degradation draws")
    parser.add_argument("--min-margin", type=float, default=None, help="fail below this gain (dB)")
    parser.add_argument("--json", default=None, help="also write the scores to this JSON file")
    args = parser.parse_args(argv)

    from realsr.config import ConfigError, load_options

    try:
        model = args.model
        if model is None:
            model = str(load_options(args.options).experiment_dir / "models" / "net_g_latest.pth")
        if not Path(model).is_file():
            raise FileNotFoundError(f"{model}: no such checkpoint (train the model first)")
        result = evaluate_heldout(
            model, args.options, args.data, variants=args.variants, seed=args.seed
        )
    except (ConfigError, OSError, ValueError) as exc:
        print(f"evaluate_demo: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print(format_result(result))
    if args.json:
        payload = {
            "model": str(model),
            "options": str(args.options),
            "variants": args.variants,
            "seed": args.seed,
            "psnr_model": result.model,
            "psnr_bicubic": result.bicubic,
            "margin": result.margin,
            "scores": [asdict(s) for s in result.scores],
        }
        target = Path(args.json)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        os.replace(tmp, target)
    if args.min_margin is not None and result.margin < args.min_margin:
        print(
            f"evaluate_demo: the model beats bicubic by {result.margin:+.3f} dB, "
            f"less than the required {args.min_margin:.3f} dB",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
