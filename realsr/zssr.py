"""Zero-shot super-resolution (ZSSR): a small network trained on the test image alone.

A fully convolutional network (8 conv layers, 64 channels, ReLU, a residual over the bicubic
upsampled input) is trained on examples made from the input image itself: HR "fathers" are random
crops of the image and of downscaled versions of it (with the 8 rotations/flips), LR "sons" are
the fathers downscaled by ``1 / scale`` with MATLAB bicubic (`degrade.functional.imresize`),
optionally degraded with noise, JPEG or blur for real-world inputs. Adam starts at 1e-3; every
``check_every`` iterations a line is fitted to the recent reconstruction errors (the network
re-creating the whole input from its downscaled copy); when the fitted slope is small relative
to its standard error the learning rate is divided by 10, and training stops once it falls below
``min_lr`` (or after ``iterations``). The image is then upscaled with the x8 geometric
self-ensemble (each output back-projected, combined by the per-pixel median as in the paper, or
the mean) and a final iterative back-projection. Scales reached in several steps (default for
non-integer scales) retrain the network at every step with the previous outputs as extra fathers.

Reference: Shocher, Cohen and Irani, "'Zero-Shot' Super-Resolution using Deep Internal
Learning", CVPR 2018.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from degrade.devices import default_device, device_argument
from degrade.functional import (
    add_gaussian_noise,
    filter2d_separable,
    gaussian_kernel1d,
    imresize,
    jpeg,
)

AUGMENTS: tuple[str, ...] = ("noise", "jpeg", "blur")
"""Names accepted by ``augment``: degradations applied to the LR sons (each with probability 1/2)."""

ENSEMBLES: tuple[str, ...] = ("median", "mean")

# Scales of the downscaled copies of the image that serve as extra HR fathers.
_FATHER_SCALES: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
# Smallest side of a son (LR example) and of the whole-image son used for the error.
_MIN_SON = 8
_AUGMENT_PROBABILITY = 0.5
_NOISE_SIGMA = (0.0, 3.0)  # 8-bit units; the paper's real-image setting adds std 0.0125 ~ 3.2
_JPEG_QUALITY = (60.0, 95.0)
_BLUR_SIGMA = (0.2, 1.0)


class ZSSRNet(nn.Module):
    """The image-specific ZSSR network: plain 3x3 convolutions and a global residual.

    ``forward`` takes the image already upscaled (bicubic) to the output size and adds the
    predicted residual. Weights are drawn from ``N(0, 0.1 / fan_in)`` as in the paper's code,
    biases start at zero.

    Args:
        channels: Image channels (3 for RGB, 1 for grey).
        width: Feature channels of the hidden layers.
        depth: Number of convolution layers (at least 2).
        generator: Random generator for the initial weights (default: torch's global one).

    Shape:
        - input: ``(B, channels, H, W)``
        - output: ``(B, channels, H, W)``
    """

    def __init__(
        self,
        *,
        channels: int = 3,
        width: int = 64,
        depth: int = 8,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if channels < 1 or width < 1 or depth < 2:
            raise ValueError(
                f"ZSSRNet: need channels >= 1, width >= 1, depth >= 2, got {channels}, {width}, {depth}"
            )
        self.hparams: dict[str, int] = {"channels": channels, "width": width, "depth": depth}
        sizes = [channels] + [width] * (depth - 1) + [channels]
        convs = [nn.Conv2d(cin, cout, 3, 1, 1) for cin, cout in itertools.pairwise(sizes)]
        with torch.no_grad():
            for i, conv in enumerate(convs):
                gain = 0.1 if i == len(convs) - 1 else 2.0
                std = math.sqrt(gain / (conv.in_channels * 9))
                conv.weight.normal_(0.0, std, generator=generator)
                assert conv.bias is not None
                conv.bias.zero_()
        self.convs = nn.ModuleList(convs)

    def forward(self, x: Tensor) -> Tensor:
        h = x
        *hidden, last = self.convs
        for conv in hidden:
            h = F.relu(conv(h))
        out: Tensor = x + last(h)
        return out


@dataclass
class ZSSRStep:
    """What happened while training for one upscaling step.

    Attributes:
        scale: Upscaling ratio of this step (relative to the previous step's output).
        size: Output ``(H, W)`` of this step.
        iterations: Gradient steps taken.
        converged: True when the learning rate fell below ``min_lr`` before ``iterations``.
        lr_drops: Iterations (0-based) at which the learning rate was divided by 10.
        errors: ``(iteration, mse)`` of the whole-image reconstruction, every ``eval_every``.
        net: The trained network (evaluation mode).
    """

    scale: float
    size: tuple[int, int]
    iterations: int = 0
    converged: bool = False
    lr_drops: list[int] = field(default_factory=list)
    errors: list[tuple[int, float]] = field(default_factory=list)
    net: ZSSRNet | None = None


@dataclass
class ZSSRResult:
    """Output of `zssr_run`: the upscaled image and one `ZSSRStep` per step."""

    image: Tensor
    steps: list[ZSSRStep]


@dataclass(frozen=True)
class _Options:
    iterations: int
    min_iterations: int
    crop: int
    lr: float
    min_lr: float
    lr_change_ratio: float
    check_every: int
    eval_every: int
    slope_range: int
    width: int
    depth: int
    augment: tuple[str, ...]
    self_ensemble: bool
    ensemble: str
    back_projection_iters: int


def _out_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """``ceil(scale * size)`` per side (MATLAB imresize's rule), robust to float noise."""
    return (math.ceil(size[0] * scale - 1e-9), math.ceil(size[1] * scale - 1e-9))


def _son_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    return (max(1, round(size[0] / scale)), max(1, round(size[1] / scale)))


def default_steps(scale: float) -> tuple[float, ...]:
    """Cumulative scales of the gradual schedule used when ``steps`` is not given.

    An integer scale is reached in one step. A non-integer scale goes up geometrically in
    ``ceil(log2(scale))`` equal ratios of at most 2 (1.5 -> ``(1.5,)``; 2.5 -> ``(1.58, 2.5)``;
    3.5 -> ``(1.87, 3.5)``), so no step needs a ratio above 2 and every step is non-integer.

    Example:
        >>> default_steps(2)
        (2.0,)
        >>> [round(s, 3) for s in default_steps(2.5)]
        [1.581, 2.5]
    """
    scale = float(scale)
    if scale.is_integer():
        return (scale,)
    n = max(1, math.ceil(math.log2(scale) - 1e-9))
    return (*(scale ** ((k + 1) / n) for k in range(n - 1)), scale)


def dihedral(x: Tensor, k: int) -> Tensor:
    """Transform ``k`` (0..7) of the 8 rotations/flips: ``k % 4`` quarter turns, then a
    horizontal flip when ``k >= 4``.

    Shape:
        x: ``(..., H, W)``; returns ``(..., H, W)`` or ``(..., W, H)`` for odd ``k % 4``.
    """
    y = torch.rot90(x, k % 4, dims=(-2, -1))
    return y.flip(-1) if k >= 4 else y


def dihedral_inverse(x: Tensor, k: int) -> Tensor:
    """Undo `dihedral` ``k``: ``dihedral_inverse(dihedral(x, k), k) == x``."""
    y = x.flip(-1) if k >= 4 else x
    return torch.rot90(y, -(k % 4), dims=(-2, -1))


def back_projection(sr: Tensor, lr: Tensor, *, iterations: int = 10) -> Tensor:
    """Iterative back-projection: make the SR image consistent with the LR input.

    Each iteration adds the bicubic upscaled error ``lr - down(sr)`` (both resizes with MATLAB
    bicubic, `degrade.functional.imresize`) and clamps to [0, 1].

    Args:
        sr: Super-resolved images, float in [0, 1].
        lr: The low-resolution inputs.
        iterations: Number of corrections (0 returns ``sr`` unchanged).

    Shape:
        - sr: ``(B, C, h, w)``
        - lr: ``(B, C, H, W)``
        - output: ``(B, C, h, w)``

    Returns:
        The corrected images.

    Reference:
        Irani and Peleg, "Improving resolution by image registration", 1991; as used by ZSSR.
    """
    for _ in range(iterations):
        down = imresize(sr, size=tuple(lr.shape[-2:]))
        sr = (sr + imresize(lr - down, size=tuple(sr.shape[-2:]))).clamp(0, 1)
    return sr


def _father_sources(images: Sequence[Tensor], scale: float) -> list[Tensor]:
    """The images and their downscaled copies whose sons are large enough to train on."""
    min_side = math.ceil(_MIN_SON * scale)
    sources: list[Tensor] = []
    for image in images:
        for s in _FATHER_SCALES:
            h, w = _out_size(tuple(image.shape[-2:]), s)  # type: ignore[arg-type]
            if min(h, w) < min_side:
                continue
            sources.append(image if s == 1.0 else imresize(image, size=(h, w)).clamp(0, 1))
    return sources


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=torch.float64))


def _randint(gen: torch.Generator, high: int) -> int:
    return int(torch.randint(high, (), generator=gen))


def _sample_father(
    sources: Sequence[Tensor], scale: float, crop: int, gen: torch.Generator
) -> Tensor:
    """A random crop of a random source (probability proportional to area), randomly rotated."""
    areas = torch.tensor([float(s.shape[-2] * s.shape[-1]) for s in sources], dtype=torch.float64)
    src = sources[int(torch.multinomial(areas, 1, generator=gen))]
    H, W = src.shape[-2:]
    h, w = min(crop, H), min(crop, W)
    if float(scale).is_integer():  # whole sons: sides multiples of the scale
        s = int(scale)
        h, w = h - h % s, w - w % s
    top, left = _randint(gen, H - h + 1), _randint(gen, W - w + 1)
    father = src[..., top : top + h, left : left + w]
    return dihedral(father, _randint(gen, 8))


def _augment_son(son: Tensor, augment: Sequence[str], gen: torch.Generator) -> Tensor:
    """Degrade an LR son with each enabled augmentation with probability 1/2."""
    for name in augment:
        if float(torch.rand((), generator=gen)) >= _AUGMENT_PROBABILITY:
            continue
        if name == "blur":
            sigma = _uniform(gen, *_BLUR_SIGMA)
            size = 2 * math.ceil(3 * sigma) + 1
            if min(son.shape[-2:]) <= size // 2:
                continue
            k = gaussian_kernel1d(size, sigma, dtype=son.dtype, device=son.device)
            son = filter2d_separable(son, k, k)
        elif name == "noise":
            sigma = _uniform(gen, *_NOISE_SIGMA)
            seed = _randint(gen, 2**31 - 1)
            son = add_gaussian_noise(son, sigma, gray=False, seeds=seed)
        elif name == "jpeg":
            son = jpeg(son.clamp(0, 1), round(_uniform(gen, *_JPEG_QUALITY)))
    return son


def lr_plateau(steps: Sequence[float], errors: Sequence[float], ratio: float) -> bool:
    """ZSSR's learning-rate rule: is the recent reconstruction error no longer falling?

    Fits a least-squares line through ``(steps, errors)``; the error has flattened when
    ``-ratio * slope`` is at most the standard error of the slope (residual variance over
    ``n - 2`` degrees of freedom), i.e. the decrease is not distinguishable from the noise.

    Args:
        steps: Iterations at which the errors were measured.
        errors: Reconstruction errors.
        ratio: The paper's code uses 1.5.

    Returns:
        True when the learning rate should be divided by 10 (False with fewer than 3 points).

    Example:
        >>> lr_plateau([0, 50, 100, 150], [4.0, 3.0, 2.0, 1.0], 1.5)
        False
        >>> lr_plateau([0, 50, 100, 150], [1.0, 1.1, 0.9, 1.0], 1.5)
        True
    """
    n = len(errors)
    if n < 3:
        return False
    x = torch.tensor(steps, dtype=torch.float64)
    y = torch.tensor(errors, dtype=torch.float64)
    xc = x - x.mean()
    sxx = float((xc * xc).sum())
    slope = float((xc * (y - y.mean())).sum()) / sxx
    resid = y - y.mean() - slope * xc
    stderr = math.sqrt(float((resid * resid).sum()) / (n - 2) / sxx)
    return -ratio * slope <= stderr


def _reconstruction_error(net: ZSSRNet, image: Tensor, scale: float) -> float:
    """MSE of the network re-creating ``image`` from its ``1 / scale`` bicubic downscale."""
    size = tuple(image.shape[-2:])
    son = imresize(image, size=_son_size(size, scale))  # type: ignore[arg-type]
    with torch.no_grad():
        rec = net(imresize(son, size=size))
    return float(F.mse_loss(rec, image))


def _train(
    sources_images: Sequence[Tensor],
    scale: float,
    opts: _Options,
    gen: torch.Generator,
    *,
    progress: bool,
    step: ZSSRStep,
) -> ZSSRNet:
    image = sources_images[-1]
    device = image.device
    net = ZSSRNet(channels=image.shape[1], width=opts.width, depth=opts.depth, generator=gen)
    net = net.to(device)
    sources = _father_sources(sources_images, scale)
    lr = opts.lr
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    last_change = 0
    window = max(3, opts.slope_range // opts.eval_every)
    from tqdm import tqdm

    bar = tqdm(total=opts.iterations, desc=f"zssr x{scale:g}", disable=not progress, leave=False)
    try:
        for it in range(opts.iterations):
            net.train()
            father = _sample_father(sources, scale, opts.crop, gen)
            size = tuple(father.shape[-2:])
            son = imresize(father, size=_son_size(size, scale))  # type: ignore[arg-type]
            son = _augment_son(son, opts.augment, gen)
            pred = net(imresize(son, size=size))
            loss = F.l1_loss(pred, father)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step.iterations = it + 1
            bar.update(1)

            if (it + 1) % opts.eval_every == 0:
                net.eval()
                err = _reconstruction_error(net, image, scale)
                step.errors.append((it, err))
                bar.set_postfix(lr=f"{lr:.0e}", rec_mse=f"{err:.2e}")
            if (it + 1) % opts.check_every == 0 and it - last_change > opts.min_iterations:
                recent = step.errors[-window:]
                if lr_plateau(
                    [float(i) for i, _ in recent], [e for _, e in recent], opts.lr_change_ratio
                ):
                    lr /= 10
                    last_change = it
                    step.lr_drops.append(it)
                    if lr < opts.min_lr:
                        step.converged = True
                        break
                    for group in optimizer.param_groups:
                        group["lr"] = lr
    finally:
        bar.close()
    net.eval()
    return net


def _upscale(net: ZSSRNet, image: Tensor, size: tuple[int, int], opts: _Options) -> Tensor:
    """Self-ensemble + back-projection of one step (``image`` -> ``size``)."""
    outputs = []
    with torch.no_grad():
        for k in range(8 if opts.self_ensemble else 1):
            x = dihedral(image, k)
            out_size = size if k % 2 == 0 else (size[1], size[0])
            y = dihedral_inverse(net(imresize(x, size=out_size)), k).clamp(0, 1)
            outputs.append(back_projection(y, image, iterations=opts.back_projection_iters))
        stack = torch.stack(outputs)
        if len(outputs) == 1:
            combined = outputs[0]
        elif opts.ensemble == "mean":
            combined = stack.mean(0)
        else:  # median, averaging the two middle values (numpy's convention) for 8 outputs
            ordered = stack.sort(0).values
            n = len(outputs)
            combined = (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
        return back_projection(combined, image, iterations=opts.back_projection_iters)


def zssr_run(
    image: Tensor,
    scale: float,
    *,
    iterations: int = 3000,
    min_iterations: int = 256,
    crop: int = 128,
    lr: float = 1e-3,
    min_lr: float = 9e-6,
    lr_change_ratio: float = 1.5,
    check_every: int = 60,
    eval_every: int = 50,
    slope_range: int = 256,
    width: int = 64,
    depth: int = 8,
    augment: Sequence[str] = (),
    self_ensemble: bool = True,
    ensemble: Literal["median", "mean"] = "median",
    back_projection_iters: int = 10,
    steps: Sequence[float] | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> ZSSRResult:
    """Run ZSSR and return the upscaled image with the training record of every step.

    Same arguments as `zssr`; see there.

    Returns:
        A `ZSSRResult`.
    """
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[0] != 1:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"zssr: image must be one (1, C, H, W) tensor, got {shape}")
    if image.shape[1] not in (1, 3) or not image.is_floating_point():
        raise ValueError(
            f"zssr: image must be float with 1 or 3 channels, got {image.dtype}, C={image.shape[1]}"
        )
    if not scale > 1:
        raise ValueError(f"zssr: scale must be > 1, got {scale}")
    cumulative = tuple(float(s) for s in (default_steps(scale) if steps is None else steps))
    if (
        not cumulative
        or abs(cumulative[-1] - scale) > 1e-9
        or any(b <= a for a, b in itertools.pairwise((1.0, *cumulative)))
    ):
        raise ValueError(
            f"zssr: steps must increase from above 1 to the scale {scale}, got {list(cumulative)}"
        )
    for name, value in (
        ("iterations", iterations),
        ("crop", crop),
        ("check_every", check_every),
        ("eval_every", eval_every),
        ("slope_range", slope_range),
    ):
        if value < 1:
            raise ValueError(f"zssr: {name} must be >= 1, got {value}")
    if min_iterations < 0 or back_projection_iters < 0:
        raise ValueError("zssr: min_iterations and back_projection_iters must be >= 0")
    if not (lr > 0 and min_lr > 0):
        raise ValueError(f"zssr: lr and min_lr must be positive, got {lr}, {min_lr}")
    bad = [a for a in augment if a not in AUGMENTS]
    if bad:
        raise ValueError(f"zssr: unknown augment {bad[0]!r} (choose from {', '.join(AUGMENTS)})")
    if ensemble not in ENSEMBLES:
        raise ValueError(f"zssr: ensemble must be 'median' or 'mean', got {ensemble!r}")
    first_ratio = cumulative[0]
    if min(image.shape[-2:]) < math.ceil(_MIN_SON * first_ratio):
        raise ValueError(
            f"zssr: image {tuple(image.shape[-2:])} too small for x{first_ratio:g} "
            f"(need sides >= {math.ceil(_MIN_SON * first_ratio)})"
        )
    opts = _Options(
        iterations=iterations,
        min_iterations=min_iterations,
        crop=crop,
        lr=lr,
        min_lr=min_lr,
        lr_change_ratio=lr_change_ratio,
        check_every=check_every,
        eval_every=eval_every,
        slope_range=slope_range,
        width=width,
        depth=depth,
        augment=tuple(augment),
        self_ensemble=self_ensemble,
        ensemble=ensemble,
        back_projection_iters=back_projection_iters,
    )
    dev = torch.device(device) if device is not None else image.device
    gen = torch.Generator(device="cpu").manual_seed(seed)
    current = image.detach().to(device=dev, dtype=torch.float32).clamp(0, 1)
    in_size = (image.shape[-2], image.shape[-1])
    history = [current]
    records: list[ZSSRStep] = []
    previous = 1.0
    for cum in cumulative:
        ratio = cum / previous
        size = _out_size(in_size, cum)
        record = ZSSRStep(scale=ratio, size=size)
        with torch.enable_grad():
            net = _train(history, ratio, opts, gen, progress=progress, step=record)
        record.net = net
        current = _upscale(net, current, size, opts)
        history.append(current)
        records.append(record)
        previous = cum
    return ZSSRResult(image=current.to(device=image.device, dtype=image.dtype), steps=records)


def zssr(
    image: Tensor,
    scale: float,
    *,
    iterations: int = 3000,
    min_iterations: int = 256,
    crop: int = 128,
    lr: float = 1e-3,
    min_lr: float = 9e-6,
    lr_change_ratio: float = 1.5,
    check_every: int = 60,
    eval_every: int = 50,
    slope_range: int = 256,
    width: int = 64,
    depth: int = 8,
    augment: Sequence[str] = (),
    self_ensemble: bool = True,
    ensemble: Literal["median", "mean"] = "median",
    back_projection_iters: int = 10,
    steps: Sequence[float] | None = None,
    device: torch.device | str | None = None,
    seed: int = 0,
    progress: bool = False,
) -> Tensor:
    """Zero-shot super-resolution of one image by a network trained on that image alone.

    Args:
        image: The low-resolution image, float in [0, 1] (RGB or grey).
        scale: Upscaling factor (> 1; non-integer allowed).
        iterations: Most gradient steps per upscaling step (paper: 3000).
        min_iterations: Iterations after each learning-rate change before the next check.
        crop: Side of the HR father crops (the whole image when smaller).
        lr: Initial Adam learning rate.
        min_lr: Training stops once the learning rate falls below this.
        lr_change_ratio: The rate drops when ``-lr_change_ratio * slope <= stderr(slope)`` of a
            line fitted to the recent reconstruction errors.
        check_every: Iterations between learning-rate checks.
        eval_every: Iterations between whole-image reconstruction errors.
        slope_range: Iterations covered by the line fit (``slope_range // eval_every`` errors).
        width: Hidden channels of the network.
        depth: Convolution layers of the network.
        augment: Degradations of the LR sons for real inputs, any of ``"noise"`` (Gaussian,
            sigma U(0, 3)/255), ``"jpeg"`` (quality U(60, 95)), ``"blur"`` (Gaussian, sigma
            U(0.2, 1)); each applied with probability 1/2.
        self_ensemble: Average over the 8 rotations/flips (else one pass).
        ensemble: How the 8 outputs combine per pixel: ``"median"`` (the paper) or ``"mean"``.
        back_projection_iters: Back-projection iterations per ensemble member and at the end.
        steps: Cumulative scales of a gradual schedule ending at ``scale`` (default:
            `default_steps`); each step trains a new network, the earlier outputs join the
            fathers.
        device: Where to train (default: the image's device).
        seed: Seed of every random choice (initial weights, crops, augmentations).
        progress: Show a tqdm progress bar.

    Shape:
        - image: ``(1, C, H, W)``, C = 1 or 3
        - output: ``(1, C, ceil(scale * H), ceil(scale * W))``

    Returns:
        The upscaled image in [0, 1], the input's dtype and device. Deterministic for a seed on
        a given device and thread count.

    Reference:
        Shocher, Cohen and Irani, "'Zero-Shot' Super-Resolution using Deep Internal Learning",
        CVPR 2018.
    """
    return zssr_run(
        image,
        scale,
        iterations=iterations,
        min_iterations=min_iterations,
        crop=crop,
        lr=lr,
        min_lr=min_lr,
        lr_change_ratio=lr_change_ratio,
        check_every=check_every,
        eval_every=eval_every,
        slope_range=slope_range,
        width=width,
        depth=depth,
        augment=augment,
        self_ensemble=self_ensemble,
        ensemble=ensemble,
        back_projection_iters=back_projection_iters,
        steps=steps,
        device=device,
        seed=seed,
        progress=progress,
    ).image


def _parse_augment(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in AUGMENTS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown augmentation {bad[0]!r} (choose from {', '.join(AUGMENTS)})"
        )
    return names


def _parse_steps(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--steps: not a list of numbers: {text!r}") from None


def _run_cli(args: argparse.Namespace) -> int:
    import sys

    from degrade.io import ImageReadError, read_image, write_image

    try:
        image = read_image(args.input)
    except ImageReadError as exc:
        print(f"realsr zssr: {exc}", file=sys.stderr)
        return 2
    try:
        out = zssr(
            image,
            args.scale,
            iterations=args.iterations,
            min_iterations=args.min_iterations,
            crop=args.crop,
            augment=args.augment,
            ensemble=args.ensemble,
            self_ensemble=not args.no_self_ensemble,
            back_projection_iters=args.back_projection,
            steps=args.steps,
            device=args.device,
            seed=args.seed,
            progress=not args.quiet,
        )
    except ValueError as exc:
        print(f"realsr zssr: {args.input}: {exc}", file=sys.stderr)
        return 2
    write_image(args.output, out)
    if not args.quiet:
        print(f"{args.input} -> {args.output} ({out.shape[-1]}x{out.shape[-2]})")
    return 0


def register(sub: Any) -> None:
    """Add ``realsr zssr`` to the command's subparsers."""
    p = sub.add_parser(
        "zssr",
        help="zero-shot super-resolution: train a small network on the input image alone",
        description=(
            "ZSSR (Shocher et al., CVPR 2018): an 8-layer network trained on LR/HR pairs cut from "
            "the input image, then x8 self-ensemble (median) and back-projection."
        ),
    )
    p.add_argument("-i", "--input", type=Path, required=True, help="low-resolution image")
    p.add_argument("-o", "--output", type=Path, required=True, help="output image file")
    p.add_argument("--scale", type=float, default=2.0, help="upscaling factor (default: 2)")
    p.add_argument("--iterations", type=int, default=3000, help="most iterations (default: 3000)")
    p.add_argument(
        "--min-iterations",
        type=int,
        default=256,
        help="iterations between learning-rate changes (default: 256)",
    )
    p.add_argument("--crop", type=int, default=128, help="HR father crop size (default: 128)")
    p.add_argument(
        "--augment",
        type=_parse_augment,
        default=(),
        help="comma-separated son degradations for real images: noise,jpeg,blur",
    )
    p.add_argument("--ensemble", choices=ENSEMBLES, default="median", help="default: median")
    p.add_argument("--no-self-ensemble", action="store_true", help="one pass, no x8 ensemble")
    p.add_argument(
        "--back-projection", type=int, default=10, help="back-projection iterations (default: 10)"
    )
    p.add_argument(
        "--steps", type=_parse_steps, default=None, help="cumulative scales, e.g. 1.5,2.5"
    )
    p.add_argument(
        "--device",
        type=device_argument,
        default=default_device(),
        help="cpu, cuda, cuda:1, ... (default: cuda if available, else cpu)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_run_cli)


__all__: list[str] = [
    "AUGMENTS",
    "ENSEMBLES",
    "ZSSRNet",
    "ZSSRResult",
    "ZSSRStep",
    "back_projection",
    "default_steps",
    "dihedral",
    "dihedral_inverse",
    "lr_plateau",
    "register",
    "zssr",
    "zssr_run",
]
