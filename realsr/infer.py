"""``realsr infer``: upscale images with any supported model, tiled and memory-bounded.

The :class:`Upscaler` wraps a model with everything inference needs: device and precision (fp16 /
bf16 autocast with a check that falls back to fp32 when the half-precision output is broken),
Real-ESRGAN's ``pre_pad``, mod-padding for pixel-unshuffle models, seamless tiling
(:mod:`realsr.tiling`), the optional x8 self-ensemble, gray and alpha handling, and a final Lanczos
resize to a non-integer ``outscale``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm import tqdm

from degrade.devices import default_device, device_argument
from realsr.image_io import ImageFileError, load_image, save_image
from realsr.tiling import upscale_tiled

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def ensemble8(model: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """Wrap ``model`` in the x8 geometric self-ensemble (4 rotations x 2 flips, averaged)."""

    def run(x: Tensor) -> Tensor:
        total: Tensor | None = None
        for flip in (False, True):
            xf = x.flip(-1) if flip else x
            for k in range(4):
                y = model(torch.rot90(xf, k, dims=(-2, -1)))
                y = torch.rot90(y, -k, dims=(-2, -1))
                y = y.flip(-1) if flip else y
                total = y.float() if total is None else total + y.float()
        assert total is not None
        return total / 8

    return run


@dataclass
class Upscaler:
    """A model ready for inference on whole images.

    Args:
        model: maps ``(1, C_in, h, w)`` to ``(1, C_out, h*scale, w*scale)`` (pre-upsampling models
            such as SRCNN/VDSR are given ``input_upsampling="bicubic"`` and a model scale of 1).
        scale: the output/input size ratio.
        in_channels: channels the model takes (1 or 3).
        multiple: sizes the model needs its input divisible by (pixel-unshuffle models).
        device: where the model runs.
        precision: "fp32", "fp16" or "bf16" (autocast; checked, with fp32 fallback).
        tile: tile size in input pixels (0: whole image in one pass).
        tile_overlap: overlap of adjacent tiles (blended).
        tile_pad: context around each tile.
        pre_pad: reflect padding added at the bottom and right of the whole input and cropped
            from the output, as Real-ESRGAN's ``pre_pad``.
        self_ensemble: average the 8 flips/rotations.
        input_upsampling: "bicubic" to upsample the input by ``scale`` with MATLAB bicubic first.
    """

    model: nn.Module
    scale: int
    in_channels: int = 3
    multiple: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    precision: str = "fp32"
    tile: int = 0
    tile_overlap: int = 16
    tile_pad: int = 16
    pre_pad: int = 0
    self_ensemble: bool = False
    input_upsampling: str | None = None

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be one of {sorted(PRECISIONS)}, got {self.precision!r}"
            )
        # Channels-last lets oneDNN (CPU) and cuDNN pick their fast bf16/fp16 convolution kernels.
        self.model = self.model.eval().to(self.device).to(memory_format=torch.channels_last)
        self._checked = self.precision == "fp32"

    def _forward(self, precision: str) -> Callable[[Tensor], Tensor]:
        dtype = PRECISIONS[precision]

        def run(x: Tensor) -> Tensor:
            x = x.float().contiguous(memory_format=torch.channels_last)
            with torch.no_grad():
                if dtype == torch.float32:
                    return self.model(x).contiguous()
                with torch.autocast(device_type=self.device.type, dtype=dtype):
                    return self.model(x).float().contiguous()

        return ensemble8(run) if self.self_ensemble else run

    def _model_scale(self) -> int:
        return 1 if self.input_upsampling else self.scale

    def _run(self, x: Tensor, precision: str, out_dtype: type = np.float32) -> np.ndarray:
        """``(1, C, H, W)`` CPU float -> ``(H*s, W*s, C_out)`` array of ``out_dtype``."""
        if self.input_upsampling:
            from degrade.functional.imresize import imresize

            x = imresize(x, scale=self.scale).clamp(0, 1)
        pad = self.pre_pad
        if pad:
            mode = "reflect" if pad < min(x.shape[-2:]) else "replicate"
            x = F.pad(x, (0, pad, 0, pad), mode=mode)
        s = self._model_scale()
        height, width = x.shape[-2:]
        tile = self.tile if self.tile > 0 else max(height, width)
        out = upscale_tiled(
            self._forward(precision),
            x,
            scale=s,
            tile=tile,
            overlap=min(self.tile_overlap, tile - 1),
            pad=self.tile_pad,
            multiple=self.multiple,
            device=self.device,
            dtype=torch.float32,
            out_dtype=out_dtype,
        )
        if pad:
            out = out[: (height - pad) * s, : (width - pad) * s]
        return out

    def _broken(self, out: np.ndarray, x: Tensor) -> str | None:
        """Why a reduced-precision output is unusable, or None."""
        if not np.isfinite(out).all():
            return "non-finite values"
        if out.max() <= 0.5 / 255:
            crop = x[..., :64, :64]
            probe = Upscaler(
                self.model,
                self.scale,
                self.in_channels,
                self.multiple,
                self.device,
                "fp32",
                input_upsampling=self.input_upsampling,
            )._run(crop, "fp32")
            if probe.max() > 0.5 / 255:
                return "an all-black output where fp32 is not black"
        return None

    def upscale_planes(self, planes: np.ndarray, *, out_dtype: type = np.float32) -> np.ndarray:
        """Upscale ``(H, W, C)`` float planes in [0, 1] (C = 1 or 3); returns ``(H*s, W*s, C)``.

        A gray image given to an RGB model is replicated to three channels and the output
        converted back to luma; an RGB image given to a gray model is upscaled channel by channel.
        With ``out_dtype`` ``np.uint8`` / ``np.uint16`` (channels matching the model) the output is
        quantised band by band, so no full-size float image is ever held.
        """
        channels = planes.shape[2]
        x = torch.from_numpy(np.ascontiguousarray(planes.transpose(2, 0, 1))).unsqueeze(0).float()
        if channels == self.in_channels:
            return self._upscale_tensor(x, out_dtype)
        if channels == 1 and self.in_channels == 3:
            out = self._upscale_tensor(x.expand(1, 3, *x.shape[-2:]).contiguous())
            luma = out @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            return luma[:, :, None]
        if channels == 3 and self.in_channels == 1:
            return np.concatenate([self._upscale_tensor(x[:, c : c + 1]) for c in range(3)], axis=2)
        raise ValueError(
            f"cannot feed a {channels}-channel image to a {self.in_channels}-channel model"
        )

    def _upscale_tensor(self, x: Tensor, out_dtype: type = np.float32) -> np.ndarray:
        if self._checked:
            return self._run(x, self.precision, out_dtype)
        out = self._run(x, self.precision)
        if not self._checked:
            reason = self._broken(out, x)
            if reason is not None:
                warnings.warn(
                    f"{self.precision} inference gave {reason}; falling back to fp32",
                    RuntimeWarning,
                    stacklevel=3,
                )
                self.precision = "fp32"
                out = self._run(x, "fp32")
            self._checked = True
        if np.dtype(out_dtype) != np.float32:
            peak = float(np.iinfo(out_dtype).max)
            out = (np.clip(out, 0, 1) * peak).round().astype(out_dtype)
        return out

    def upscale_alpha(self, alpha: np.ndarray, *, mode: str) -> np.ndarray:
        """Upscale an ``(H, W)`` alpha plane with the model (as three equal channels) or bicubic."""
        if mode == "model":
            return self.upscale_planes(np.repeat(alpha[:, :, None], self.in_channels, axis=2))[
                :, :, 0
            ]
        h, w = alpha.shape
        return cv2.resize(alpha, (w * self.scale, h * self.scale), interpolation=cv2.INTER_CUBIC)


def upscale_image(
    upscaler: Upscaler, color: np.ndarray, alpha: np.ndarray | None, *, alpha_mode: str = "bicubic"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Upscale colour planes and their alpha, with premultiplied alpha.

    The colour is premultiplied by alpha before the model (so fully transparent pixels, whose
    colour is arbitrary, cannot bleed into visible ones) and divided by the upscaled alpha after.
    """
    if alpha is None:
        return np.clip(upscaler.upscale_planes(color), 0, 1), None
    up_alpha = np.clip(upscaler.upscale_alpha(alpha, mode=alpha_mode), 0, 1)
    premultiplied = upscaler.upscale_planes(color * alpha[:, :, None])
    safe = np.maximum(up_alpha, 1e-6)[:, :, None]
    colour = np.where(up_alpha[:, :, None] > 1e-6, premultiplied / safe, 0.0)
    return np.clip(colour, 0, 1).astype(np.float32), up_alpha.astype(np.float32)


def resize_to_outscale(planes: np.ndarray, scale: int, outscale: float) -> np.ndarray:
    """Resize an upscaled image from ``scale`` to ``outscale`` times its input size (Lanczos)."""
    if outscale == scale:
        return planes
    h, w = planes.shape[:2]
    size = (max(1, round(w / scale * outscale)), max(1, round(h / scale * outscale)))
    out = cv2.resize(planes, size, interpolation=cv2.INTER_LANCZOS4)
    return out[:, :, None] if out.ndim == 2 else out


# --------------------------------------------------------------------------------------------- #
# Loading models
# --------------------------------------------------------------------------------------------- #


def _interpolate_state(
    a: dict[str, Tensor], b: dict[str, Tensor], weight: float
) -> dict[str, Tensor]:
    """``weight * a + (1 - weight) * b`` per parameter (Real-ESRGAN's ``dni``)."""
    if a.keys() != b.keys():
        raise ValueError("the two networks to interpolate have different parameters")
    return {k: weight * a[k] + (1 - weight) * b[k] if a[k].is_floating_point() else a[k] for k in a}


def build_upscaler(
    *,
    model_path: str | None = None,
    model_name: str | None = None,
    weights_dir: str | None = None,
    denoise_strength: float | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    **options: Any,
) -> Upscaler:
    """An :class:`Upscaler` for a checkpoint file or a model-zoo name (resolved in ``weights_dir``).

    Checkpoints are read by :func:`realsr.load_model` (ours, BasicSR's and Real-ESRGAN's); other
    architectures load through spandrel when it is installed. ``denoise_strength`` interpolates
    realesr-general-x4v3 with its -wdn twin (1: the base model, 0: the -wdn model).
    """
    from realsr.checkpoint import load_model

    if (model_path is None) == (model_name is None):
        raise ValueError("give exactly one of a model file (-m) and a model name (-n)")
    path = model_path
    if model_name is not None:
        from realsr.zoo import resolve_model_name

        path = str(resolve_model_name(model_name, weights_dir))
    assert path is not None
    dev = torch.device(device)
    model: nn.Module
    try:
        model = load_model(path, device="cpu")
    except (KeyError, ValueError) as exc:
        model = _load_with_spandrel(path, exc)
    if denoise_strength is not None and denoise_strength != 1:
        twin = Path(path).with_name(
            Path(path).name.replace("realesr-general-x4v3", "realesr-general-wdn-x4v3")
        )
        if twin == Path(path) or not twin.is_file():
            raise FileNotFoundError(
                f"--denoise-strength needs the -wdn twin next to the model: {twin}"
            )
        other = load_model(str(twin), device="cpu")
        model.load_state_dict(
            _interpolate_state(model.state_dict(), other.state_dict(), denoise_strength)
        )
    scale = int(getattr(model, "scale", 1))
    in_channels = int(getattr(model, "in_channels", 3))
    upsampling = getattr(model, "input_upsampling", None)
    return Upscaler(
        model,
        scale,
        in_channels=in_channels,
        multiple=int(getattr(model, "size_multiple", 1)),
        device=dev,
        precision=precision,
        input_upsampling=upsampling,
        **options,
    )


def _load_with_spandrel(path: str, error: Exception) -> nn.Module:
    try:
        import spandrel
    except ImportError:
        raise ValueError(
            f"{path}: {error} (install spandrel to load other architectures)"
        ) from None
    descriptor = spandrel.ModelLoader().load_from_file(path)
    model = descriptor.model
    model.scale = int(descriptor.scale)
    model.in_channels = int(descriptor.input_channels)
    model.size_multiple = int(getattr(descriptor.size_requirements, "multiple_of", 1) or 1)
    return model


# --------------------------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------------------------- #


def _inputs(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
    return [source]


def _output_path(src: Path, out_dir: Path, suffix: str, ext: str) -> Path:
    extension = src.suffix.lower() if ext == "auto" else f".{ext}"
    name = f"{src.stem}_{suffix}" if suffix else src.stem
    return out_dir / f"{name}{extension}"


def run_infer(args: argparse.Namespace) -> int:
    """Run ``realsr infer``; returns the exit status."""
    if args.outscale is not None and args.outscale <= 0:
        print("realsr infer: --outscale must be positive", file=sys.stderr)
        return 2
    precision = "fp32" if args.fp32 else args.dtype
    try:
        upscaler = build_upscaler(
            model_path=args.model,
            model_name=args.model_name,
            weights_dir=args.weights_dir,
            denoise_strength=args.denoise_strength,
            device=args.device,
            precision=precision,
            tile=args.tile,
            tile_overlap=args.tile_overlap,
            tile_pad=args.tile_pad,
            pre_pad=args.pre_pad,
            self_ensemble=args.self_ensemble,
        )
    except (OSError, ValueError, KeyError) as exc:
        print(f"realsr infer: {exc}", file=sys.stderr)
        return 2
    source = Path(args.input)
    if not source.exists():
        print(f"realsr infer: {source}: no such file or folder", file=sys.stderr)
        return 2
    out_dir = Path(args.output)
    files = _inputs(source)
    failures = 0
    for src in tqdm(files, desc="infer", unit="img", disable=args.quiet or len(files) < 2):
        dst = _output_path(src, out_dir, args.suffix, args.ext)
        if dst.resolve() == src.resolve() and not args.overwrite:
            print(
                f"realsr infer: skipped {src}: the output would overwrite the input (use --overwrite)",
                file=sys.stderr,
            )
            failures += 1
            continue
        try:
            image = load_image(src)
            color, alpha = upscale_image(
                upscaler, image.color, image.alpha, alpha_mode=args.alpha_upsampler
            )
            outscale = args.outscale if args.outscale is not None else upscaler.scale
            color = resize_to_outscale(color, upscaler.scale, outscale)
            if alpha is not None:
                alpha = resize_to_outscale(alpha[:, :, None], upscaler.scale, outscale)[:, :, 0]
            save_image(dst, color, alpha, bit_depth=image.bit_depth)
        except (ImageFileError, ValueError, RuntimeError) as exc:
            print(f"realsr infer: skipped {src}: {exc}", file=sys.stderr)
            failures += 1
    done = len(files) - failures
    print(f"realsr infer: {done} of {len(files)} images written to {out_dir}")
    return 1 if failures else 0


def register(sub: Any) -> None:
    """Add ``realsr infer`` to the command's subparsers."""
    p = sub.add_parser("infer", help="upscale images with a model (tiled, any size)")
    p.add_argument("-i", "--input", required=True, help="image file or folder")
    p.add_argument("-o", "--output", required=True, help="output folder")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "-m", "--model", help="checkpoint file (ours, BasicSR, Real-ESRGAN; others via spandrel)"
    )
    group.add_argument("-n", "--model-name", help="model-zoo name, resolved in --weights-dir")
    p.add_argument(
        "--weights-dir", default=None, help="folder of downloaded weights (default $REALSR_WEIGHTS)"
    )
    p.add_argument(
        "-s", "--outscale", type=float, default=None, help="final scale (Lanczos from the model's)"
    )
    p.add_argument("--tile", type=int, default=0, help="tile size in input pixels (0: no tiling)")
    p.add_argument(
        "--tile-overlap", type=int, default=16, help="overlap of adjacent tiles (blended)"
    )
    p.add_argument("--tile-pad", type=int, default=16, help="context pixels around each tile")
    p.add_argument("--pre-pad", type=int, default=10, help="reflect padding around the input")
    p.add_argument(
        "--dtype", choices=sorted(PRECISIONS), default="fp32", help="inference precision"
    )
    p.add_argument("--fp32", action="store_true", help="force fp32 (same as --dtype fp32)")
    p.add_argument(
        "--device",
        type=device_argument,
        default=default_device(),
        help="cpu, cuda, cuda:1, ... (default: cuda if available, else cpu)",
    )
    p.add_argument(
        "--denoise-strength", type=float, default=None, help="realesr-general-x4v3 only: 0..1"
    )
    p.add_argument("--suffix", default="out", help="output name suffix ('' for none)")
    p.add_argument("--ext", choices=["auto", "png", "jpg", "webp", "tif"], default="auto")
    p.add_argument("--alpha-upsampler", choices=["bicubic", "model"], default="bicubic")
    p.add_argument("--self-ensemble", action="store_true", help="x8 geometric self-ensemble")
    p.add_argument("--overwrite", action="store_true", help="allow writing over an input file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_infer)


__all__: Sequence[str] = [
    "Upscaler",
    "build_upscaler",
    "ensemble8",
    "register",
    "resize_to_outscale",
    "run_infer",
    "upscale_image",
]
