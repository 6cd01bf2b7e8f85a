"""``realsr evaluate``: PSNR / SSIM (and NIQE) of a model on benchmark folders.

Protocol of the published super-resolution tables (EDSR, RCAN): the HR image is modcropped to a
multiple of the scale, the LR is MATLAB's bicubic ``imresize`` of it on 8-bit data (each pass
rounded, as MATLAB does on ``uint8``), and PSNR / SSIM are computed on the Y channel of MATLAB's
``rgb2ycbcr`` (unrounded), with ``scale`` border pixels cropped. Gray images are scored on their
single channel.

LR sources, per HR folder:

* default: MATLAB bicubic downscaling as above;
* ``--preset NAME --seed S``: a degradation pipeline of :mod:`degrade.presets`; image ``name`` gets
  the key ``derive_seed(0, name, 0)`` (as ``degrade generate`` keys its pairs), the result is
  rounded to 8 bits; gray images are replicated to RGB (HR too) as ``degrade generate`` does;
* ``--lq DIR``: paired LR files, matched by stem (``baby.png``, ``babyx4.png``, ``baby_x4.png``).

Models: ``bicubic`` (MATLAB bicubic upscaling of the 8-bit LR, each pass rounded), or a
checkpoint file / model-zoo name, loaded through :func:`realsr.infer.build_upscaler` (which uses
:func:`realsr.load_model` and :func:`realsr.zoo.resolve_model_name`; a model whose ``hparams``
hold ``input_upsampling: "bicubic"`` gets the LR upsampled by MATLAB bicubic first).

Results: a table of per-folder means on stdout; ``<out>/<tag>.csv`` (one row per image) and
``<out>/<tag>.json`` (means and settings), both written atomically. A file that cannot be read or
scored is reported on one line and skipped; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from degrade.devices import default_device, device_argument
from degrade.functional.imresize import imresize
from degrade.io import ImageReadError, list_images, read_image, write_bytes_atomic
from realsr.metrics.niqe import niqe
from realsr.metrics.psnr_ssim import modcrop, psnr, ssim

SR = Callable[[Tensor], Tensor]


@dataclass
class ImageScore:
    """Scores of one image (``error`` set, metrics NaN, when it could not be scored)."""

    folder: str
    image: str
    psnr: float = math.nan
    ssim: float = math.nan
    niqe: float = math.nan
    error: str = ""


@dataclass
class FolderSummary:
    """Means over the scored images of one folder."""

    folder: str
    path: str
    images: int
    failed: int
    psnr: float
    ssim: float
    niqe: float | None = None


@dataclass
class EvaluationResult:
    """Per-image scores and per-folder means of one run."""

    settings: dict[str, Any]
    scores: list[ImageScore] = field(default_factory=list)
    folders: list[FolderSummary] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Number of images that could not be scored."""
        return sum(1 for s in self.scores if s.error)


def folder_label(path: Path) -> str:
    """A folder's display name: ``Set5`` for ``.../Set5/HR``, else the folder's own name."""
    path = Path(path)
    if path.name.upper() in ("HR", "GT", "HR_IMAGES") and path.parent.name:
        return path.parent.name
    return path.name or str(path)


def bicubic_downscale(hr: Tensor, scale: int) -> Tensor:
    """MATLAB ``imresize(modcrop(hr, scale), 1/scale)`` on 8-bit data (each pass rounded).

    Shape:
        hr: ``(1, C, H, W)`` float in [0, 1]; returns ``(1, C, H // scale, W // scale)``.
    """
    return imresize(modcrop(hr, scale), scale=1 / scale, round_each_pass=True)


def bicubic_upscale(lr: Tensor, scale: int) -> Tensor:
    """MATLAB ``imresize(lr, scale)`` on 8-bit data (each pass rounded): the bicubic baseline."""
    return imresize(lr, scale=scale, round_each_pass=True)


def _ensemble(sr: SR) -> SR:
    from realsr.infer import ensemble8

    return ensemble8(sr)


def build_model_sr(
    model: str,
    *,
    scale: int,
    device: str = "cpu",
    weights_dir: str | None = None,
    self_ensemble: bool = False,
) -> SR:
    """A function mapping an LR ``(1, C, h, w)`` in [0, 1] to the SR output, for ``model``.

    Args:
        model: ``"bicubic"``, a checkpoint file, or a model-zoo name.
        scale: the evaluation scale; a model of another scale is an error.
        device: where the model runs.
        weights_dir: folder of zoo weights (default ``$REALSR_WEIGHTS``).
        self_ensemble: average the x8 flips / rotations.

    Raises:
        ValueError: unknown model, or a model scale different from ``scale``.
        FileNotFoundError: the checkpoint (or the zoo model's file) is absent.
    """
    if model == "bicubic":

        def bicubic(lr: Tensor) -> Tensor:
            return bicubic_upscale(lr, scale)

        return _ensemble(bicubic) if self_ensemble else bicubic

    from realsr.infer import build_upscaler

    if Path(model).is_file():
        upscaler = build_upscaler(
            model_path=model, device=device, self_ensemble=self_ensemble, pre_pad=0
        )
    else:
        from realsr.zoo import ZOO

        if model not in ZOO:
            raise ValueError(
                f"--model {model!r}: not a file, not 'bicubic' and not a model-zoo name "
                f"({', '.join(sorted(ZOO.names()))})"
            )
        upscaler = build_upscaler(
            model_name=model,
            weights_dir=weights_dir,
            device=device,
            self_ensemble=self_ensemble,
            pre_pad=0,
        )
    if upscaler.scale != scale:
        raise ValueError(f"--model {model}: the model upscales x{upscaler.scale}, not x{scale}")

    def run(lr: Tensor) -> Tensor:
        planes = lr[0].permute(1, 2, 0).cpu().numpy()
        out = upscaler.upscale_planes(planes)
        return torch.from_numpy(np.ascontiguousarray(out.transpose(2, 0, 1)))[None].clamp(0, 1)

    return run


def find_lq(lq_dir: Path, stem: str, scale: int) -> Path:
    """The LR file of ``stem`` in ``lq_dir``: ``stem``, ``stem x{s}`` or ``stem_x{s}``, any suffix."""
    by_stem = {p.stem: p for p in list_images(lq_dir)}
    for candidate in (stem, f"{stem}x{scale}", f"{stem}_x{scale}", f"{stem}_X{scale}"):
        if candidate in by_stem:
            return by_stem[candidate]
    raise ImageReadError(f"{lq_dir}: no LR file for {stem!r} (tried {stem}, {stem}x{scale})")


def _to_rgb(x: Tensor) -> Tensor:
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


def _quantize(x: Tensor) -> Tensor:
    return (x.clamp(0, 1) * 255).round() / 255


def evaluate(
    sr: SR,
    data_dirs: Sequence[str | Path],
    *,
    scale: int,
    lq_dirs: Sequence[str | Path] | None = None,
    preset: str | None = None,
    seed: int = 0,
    crop_border: int | None = None,
    with_niqe: bool = False,
    settings: dict[str, Any] | None = None,
    log: Callable[[str], None] | None = None,
) -> EvaluationResult:
    """Score ``sr`` on HR folders.

    Args:
        sr: LR ``(1, C, h, w)`` -> SR ``(1, C, h*scale, w*scale)``, float in [0, 1].
        data_dirs: HR folders.
        scale: the upscaling factor.
        lq_dirs: paired LR folders, one per HR folder (else LR is synthesised).
        preset: a degradation preset for the LR (else MATLAB bicubic).
        seed: the preset's seed.
        crop_border: border pixels ignored by the metrics (default: ``scale``).
        with_niqe: also compute NIQE of the SR images.
        settings: recorded in the result as given.
        log: where to report unreadable or unscorable files (default: stderr).

    Returns:
        Per-image scores and per-folder means.
    """
    if scale < 1:
        raise ValueError(f"--scale must be >= 1, got {scale}")
    if lq_dirs is not None and len(lq_dirs) != len(data_dirs):
        raise ValueError(
            f"--lq needs one folder per --data folder: {len(lq_dirs)} vs {len(data_dirs)}"
        )
    if lq_dirs is not None and preset is not None:
        raise ValueError("--lq and --preset are exclusive")
    border = scale if crop_border is None else crop_border

    def default_log(message: str) -> None:
        print(message, file=sys.stderr)

    report = log or default_log
    pipeline = None
    if preset is not None:
        from degrade.presets import load_pipeline
        from degrade.seeding import derive_seed

        pipeline = load_pipeline(preset, scale=scale)

    result = EvaluationResult(settings=dict(settings or {}))
    for i, data_dir in enumerate(data_dirs):
        data_path = Path(data_dir)
        label = folder_label(data_path)
        try:
            files = list_images(data_path)
        except NotADirectoryError as exc:
            report(f"realsr evaluate: {exc}")
            result.scores.append(ImageScore(label, str(data_path), error=str(exc)))
            continue
        if not files:
            report(f"realsr evaluate: {data_path}: no images")
        folder_scores: list[ImageScore] = []
        for path in files:
            score = ImageScore(label, path.name)
            try:
                hr = modcrop(read_image(path), scale)
                if lq_dirs is not None:
                    lr = read_image(find_lq(Path(lq_dirs[i]), path.stem, scale))
                    if lr.shape[-2] * scale != hr.shape[-2] or lr.shape[-1] * scale != hr.shape[-1]:
                        raise ValueError(
                            f"LR size {tuple(lr.shape[-2:])} x{scale} does not match the HR "
                            f"{tuple(hr.shape[-2:])} after modcrop"
                        )
                elif pipeline is not None:
                    hr = _to_rgb(hr)
                    key = torch.tensor([derive_seed(0, path.name, 0)], dtype=torch.int64)
                    lr = _quantize(pipeline(hr, key, seed=seed))
                else:
                    lr = bicubic_downscale(hr, scale)
                with torch.no_grad():
                    out = sr(lr).to(torch.float32).cpu()
                if out.shape[1] != hr.shape[1]:
                    raise ValueError(f"SR has {out.shape[1]} channels, HR {hr.shape[1]}")
                if out.shape[-2:] != hr.shape[-2:]:
                    raise ValueError(
                        f"SR size {tuple(out.shape[-2:])} differs from the HR {tuple(hr.shape[-2:])}"
                    )
                score.psnr = float(psnr(out, hr, crop_border=border)[0])
                score.ssim = float(ssim(out, hr, crop_border=border)[0])
                if with_niqe:
                    try:
                        score.niqe = float(niqe(out, crop_border=border)[0])
                    except ValueError as exc:
                        report(f"realsr evaluate: {path}: NIQE not computed ({exc})")
            except (OSError, ValueError, RuntimeError) as exc:
                message = " ".join(str(exc).split())
                score.error = message if str(path) in message else f"{path}: {message}"
                report(f"realsr evaluate: skipped {score.error}")
            folder_scores.append(score)
        result.scores.extend(folder_scores)
        good = [s for s in folder_scores if not s.error]
        niqe_values = [s.niqe for s in good if not math.isnan(s.niqe)]
        result.folders.append(
            FolderSummary(
                folder=label,
                path=str(data_path),
                images=len(good),
                failed=len(folder_scores) - len(good),
                psnr=float(np.mean([s.psnr for s in good])) if good else math.nan,
                ssim=float(np.mean([s.ssim for s in good])) if good else math.nan,
                niqe=float(np.mean(niqe_values)) if with_niqe and niqe_values else None,
            )
        )
    return result


PUBLISHED_BICUBIC: dict[str, dict[int, tuple[float, float]]] = {
    "Set5": {2: (33.66, 0.9299), 3: (30.39, 0.8682), 4: (28.42, 0.8104)},
    "Set14": {2: (30.24, 0.8688), 3: (27.55, 0.7742), 4: (26.00, 0.7027)},
    "BSD100": {2: (29.56, 0.8431), 3: (27.21, 0.7385), 4: (25.96, 0.6675)},
}
"""Published bicubic PSNR (dB) / SSIM on the classic sets (EDSR 2017 Table 6, RCAN 2018 Table 3)."""


def published_bicubic(folder: str, scale: int) -> tuple[float, float] | None:
    """The published bicubic PSNR/SSIM for a benchmark folder name (B100 = BSD100), if any."""
    name = "BSD100" if folder.upper() in ("B100", "BSD100") else folder
    return PUBLISHED_BICUBIC.get(name, {}).get(scale)


def format_table(result: EvaluationResult) -> str:
    """The per-folder means as a plain-text table.

    For ``--model bicubic`` on MATLAB-bicubic LR of Set5, Set14 or BSD100 at x2-x4, the published
    bicubic values are printed next to ours.
    """
    settings = result.settings
    compare = (
        settings.get("model") == "bicubic" and not settings.get("lq") and not settings.get("preset")
    )
    with_niqe = any(f.niqe is not None for f in result.folders)
    head = f"{'folder':<16} {'images':>6} {'PSNR':>9} {'SSIM':>8}" + (
        f" {'NIQE':>8}" if with_niqe else ""
    )
    lines = [head, "-" * len(head)]
    for f in result.folders:
        line = f"{f.folder:<16} {f.images:>6} {f.psnr:>9.4f} {f.ssim:>8.4f}"
        if with_niqe:
            line += f" {f.niqe:>8.4f}" if f.niqe is not None else f" {'-':>8}"
        published = published_bicubic(f.folder, int(settings.get("scale", 0))) if compare else None
        if published is not None:
            line += f"  (published bicubic: {published[0]:.2f} / {published[1]:.4f})"
        if f.failed:
            line += f"  ({f.failed} failed)"
        lines.append(line)
    return "\n".join(lines)


def _json_number(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


def write_results(result: EvaluationResult, out_dir: Path, tag: str) -> tuple[Path, Path]:
    """Write ``<tag>.csv`` (per image) and ``<tag>.json`` (means) atomically; return their paths."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["folder", "image", "psnr", "ssim", "niqe", "error"])
    for s in result.scores:
        writer.writerow(
            [s.folder, s.image]
            + ["" if math.isnan(v) else f"{v:.6f}" for v in (s.psnr, s.ssim, s.niqe)]
            + [s.error]
        )
    csv_path = out_dir / f"{tag}.csv"
    write_bytes_atomic(csv_path, buffer.getvalue().encode())
    summary = {
        "settings": result.settings,
        "folders": {
            f.folder: {
                k: _json_number(v) if isinstance(v, float) or v is None else v
                for k, v in asdict(f).items()
                if k != "folder"
            }
            for f in result.folders
        },
        "failed": [s.error for s in result.scores if s.error],
    }
    json_path = out_dir / f"{tag}.json"
    write_bytes_atomic(json_path, (json.dumps(summary, indent=2) + "\n").encode())
    return csv_path, json_path


def result_tag(model: str, scale: int, preset: str | None) -> str:
    """File-name stem of a run: the model's name, the scale and the preset."""
    name = Path(model).stem if Path(model).suffix else model
    tag = f"{name}_x{scale}" + (f"_{preset}" if preset else "")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", tag)


def run_evaluate(args: argparse.Namespace) -> int:
    """Run ``realsr evaluate`` from parsed arguments; returns the exit status."""
    settings = {
        "model": args.model,
        "scale": args.scale,
        "lq": args.lq,
        "preset": args.preset,
        "seed": args.seed if args.preset else None,
        "self_ensemble": args.self_ensemble,
        "crop_border": args.scale if args.crop_border is None else args.crop_border,
        "y_channel": True,
    }
    try:
        sr = build_model_sr(
            args.model,
            scale=args.scale,
            device=args.device,
            weights_dir=args.weights_dir,
            self_ensemble=args.self_ensemble,
        )
        result = evaluate(
            sr,
            args.data,
            scale=args.scale,
            lq_dirs=args.lq,
            preset=args.preset,
            seed=args.seed,
            crop_border=args.crop_border,
            with_niqe=args.niqe,
            settings=settings,
        )
    except (OSError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"realsr evaluate: {message}", file=sys.stderr)
        return 2
    print(format_table(result))
    tag = result_tag(args.model, args.scale, args.preset)
    csv_path, json_path = write_results(result, Path(args.out), tag)
    print(f"per-image scores: {csv_path}\nmeans: {json_path}")
    if result.failed:
        print(f"realsr evaluate: {result.failed} image(s) failed", file=sys.stderr)
        return 1
    return 0


def register(sub: Any) -> None:
    """Add ``realsr evaluate`` to the command's subparsers."""
    p = sub.add_parser(
        "evaluate",
        help="PSNR/SSIM (and NIQE) of a model on benchmark folders",
        description=(
            "Score a model on HR folders: LR by MATLAB bicubic (default), a degradation preset, "
            "or paired --lq folders; PSNR/SSIM on Y with the scale cropped."
        ),
    )
    p.add_argument(
        "-m", "--model", required=True, help="'bicubic', a checkpoint file or a model-zoo name"
    )
    p.add_argument("-s", "--scale", type=int, required=True, help="upscaling factor")
    p.add_argument("--data", nargs="+", required=True, metavar="DIR", help="HR folders")
    p.add_argument(
        "--lq", nargs="+", default=None, metavar="DIR", help="paired LR folders (one per --data)"
    )
    p.add_argument("--preset", default=None, help="degradation preset making the LR")
    p.add_argument("--seed", type=int, default=0, help="seed of the preset's draws")
    p.add_argument("--self-ensemble", action="store_true", help="x8 geometric self-ensemble")
    p.add_argument("--niqe", action="store_true", help="also compute NIQE of the outputs")
    p.add_argument(
        "--crop-border",
        type=int,
        default=None,
        help="border ignored by the metrics (default: scale)",
    )
    p.add_argument("-o", "--out", default="results", help="folder for the CSV and JSON files")
    p.add_argument(
        "--weights-dir", default=None, help="folder of zoo weights (default $REALSR_WEIGHTS)"
    )
    p.add_argument(
        "--device",
        type=device_argument,
        default=default_device(),
        help="cpu, cuda, cuda:1, ... (default: cuda if available, else cpu)",
    )
    p.set_defaults(run=run_evaluate)


__all__ = [
    "EvaluationResult",
    "FolderSummary",
    "ImageScore",
    "bicubic_downscale",
    "bicubic_upscale",
    "build_model_sr",
    "evaluate",
    "find_lq",
    "format_table",
    "register",
    "result_tag",
    "run_evaluate",
    "write_results",
]
