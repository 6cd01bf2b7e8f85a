"""Per-sample 2-D filtering with reflect padding that never fails on small images.

Padding mirrors without repeating the edge (``F.pad(mode="reflect")``: ``[c b | a b c d | c b]``).
``F.pad`` refuses a pad of ``n`` or more on a side of length ``n`` (which happens after a strong
downscale of a small crop); here the reflection is then repeated: index ``i`` maps to
``m = i mod 2(n - 1)`` and then to ``2(n - 1) - m`` when ``m >= n`` (a side of length 1 is
replicated). Where ``F.pad`` works the two agree exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from degrade.functional._utils import check_image

__all__ = [
    "filter2d",
    "filter2d_ragged",
    "filter2d_separable",
    "reflect_indices",
    "reflect_pad2d",
]


def reflect_indices(
    length: int, before: int, after: int, *, device: torch.device | None = None
) -> Tensor:
    """Source indices of a reflect-padded axis, with repeated reflection for large pads.

    Args:
        length: size n of the axis (>= 1).
        before: samples added before index 0 (>= 0).
        after: samples added after index n - 1 (>= 0).
        device: device of the returned indices.

    Shape:
        - output: ``(before + length + after,)``, int64.

    Returns:
        ``idx`` such that ``padded = x.index_select(axis, idx)``.

    Reference:
        ``torch.nn.functional.pad(mode="reflect")`` where the pad is smaller than ``length``.

    Example:
        >>> reflect_indices(3, 5, 5).tolist()
        [1, 0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1]
        >>> reflect_indices(1, 2, 1).tolist()
        [0, 0, 0, 0]
    """
    if length < 1:
        raise ValueError(f"cannot reflect-pad an axis of length {length}")
    if before < 0 or after < 0:
        raise ValueError(f"pads must be >= 0, got ({before}, {after})")
    idx = torch.arange(-before, length + after, device=device)
    if length == 1:
        return torch.zeros_like(idx)
    period = 2 * (length - 1)
    m = torch.remainder(idx, period)
    return torch.where(m >= length, period - m, m)


def reflect_pad2d(x: Tensor, padding: tuple[int, int, int, int]) -> Tensor:
    """Reflect-pad the last two dimensions; never fails, whatever the pad and image size.

    Args:
        x: tensor with at least 2 dimensions (typically ``(B, C, H, W)``).
        padding: ``(left, right, top, bottom)`` as for ``F.pad``, all >= 0.

    Shape:
        - x: ``(..., H, W)``.
        - output: ``(..., H + top + bottom, W + left + right)``.

    Returns:
        The padded tensor (a new tensor; ``x`` is untouched). Equal to
        ``F.pad(x, padding, mode="reflect")`` wherever that is defined; larger pads repeat the
        reflection with period ``2(n - 1)``, and a side of length 1 is replicated.

    Reference:
        ``torch.nn.functional.pad(mode="reflect")``.

    Example:
        >>> x = torch.tensor([[[[1.0, 2.0, 3.0]]]])
        >>> reflect_pad2d(x, (4, 1, 1, 0))[0, 0].tolist()
        [[1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0], [1.0, 2.0, 3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]
    """
    left, right, top, bottom = padding
    if min(padding) < 0:
        raise ValueError(f"padding must be >= 0, got {padding}")
    h, w = x.shape[-2], x.shape[-1]
    if left == right == top == bottom == 0:
        return x.clone()
    if max(left, right) < w and max(top, bottom) < h and x.ndim in (3, 4):
        return F.pad(x, (left, right, top, bottom), mode="reflect")
    out = x
    if top or bottom:
        out = out.index_select(-2, reflect_indices(h, top, bottom, device=x.device))
    if left or right:
        out = out.index_select(-1, reflect_indices(w, left, right, device=x.device))
    return out


def _batch_kernels(kernels: Tensor, batch: int, x: Tensor, name: str, ndim: int) -> Tensor:
    """Validate per-sample kernels and return them as ``(B, *k)`` in x's dtype and device."""
    if not isinstance(kernels, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(kernels).__name__}")
    if kernels.ndim == ndim:
        kernels = kernels.unsqueeze(0)
    if kernels.ndim != ndim + 1 or kernels.shape[0] not in (1, batch):
        expected = "(B, k, k), (1, k, k) or (k, k)" if ndim == 2 else "(B, k), (1, k) or (k,)"
        raise ValueError(
            f"{name} must have shape {expected} with B = {batch}, got {tuple(kernels.shape)}"
        )
    for size in kernels.shape[1:]:
        if size % 2 == 0:
            raise ValueError(f"{name} sizes must be odd, got {tuple(kernels.shape[1:])}")
    kernels = kernels.to(device=x.device, dtype=x.dtype)
    # Subnormal weights (the far tails of narrow Gaussians) make CPU convolutions up to ten times
    # slower; they are far below anything the output can resolve, so they are zeroed.
    tiny = torch.finfo(kernels.dtype).tiny
    kernels = torch.where(kernels.abs() < tiny, torch.zeros_like(kernels), kernels)
    return kernels.expand(batch, *kernels.shape[1:])


def _depthwise(x: Tensor, kernels: Tensor) -> Tensor:
    """Valid cross-correlation of each ``(C, H, W)`` sample with its own ``(kh, kw)`` kernel."""
    b, c, h, w = x.shape
    kh, kw = kernels.shape[-2:]
    n = b * c
    weight = kernels.unsqueeze(1).expand(b, c, kh, kw).reshape(n, 1, kh, kw)
    planes = x.reshape(1, n, h, w)
    if n == 1:
        # A single plane would run as an ordinary (non-depthwise) convolution, whose rounding
        # differs from the depthwise path a larger batch takes; keep one code path so that a
        # sample's result never depends on its batch.
        planes, weight = planes.expand(1, 2, h, w), weight.expand(2, 1, kh, kw)
    out = F.conv2d(planes, weight, groups=planes.shape[1])[:, :n]
    return out.reshape(b, c, h - kh + 1, w - kw + 1)


def filter2d(x: Tensor, kernels: Tensor) -> Tensor:
    """Filter each sample with its own 2-D kernel (cross-correlation), reflect-padded, same size.

    Args:
        x: images, float.
        kernels: one kernel per sample, or one kernel for the whole batch; odd sizes. Cast to
            ``x``'s dtype and device; subnormal entries (below ``finfo(dtype).tiny``) count as
            zero, as they would otherwise slow CPU convolutions tenfold.

    Shape:
        - x: ``(B, C, H, W)``.
        - kernels: ``(B, kh, kw)``, ``(1, kh, kw)`` or ``(kh, kw)``, kh and kw odd.
        - output: ``(B, C, H, W)``.

    Returns:
        ``out[b, c, i, j] = sum_{u, v} kernels[b, u, v] * xp[b, c, i + u, j + v]`` with ``xp`` the
        input reflect-padded by ``kh // 2`` and ``kw // 2`` (:func:`reflect_pad2d`, so sides
        shorter than the pad repeat the reflection instead of failing). Differentiable w.r.t.
        ``x`` and ``kernels``.

    Reference:
        ``basicsr.utils.img_process_util.filter2D`` (which fails where ``F.pad`` reflect does).

    Example:
        >>> x = torch.arange(12.0).view(1, 1, 3, 4)
        >>> filter2d(x, torch.full((1, 3, 3), 1 / 9)).shape
        torch.Size([1, 1, 3, 4])
        >>> from degrade.functional.kernels import delta_kernel
        >>> torch.equal(filter2d(x, delta_kernel(5)), x)
        True
    """
    check_image(x)
    kernels = _batch_kernels(kernels, x.shape[0], x, "kernels", 2)
    if x.shape[0] == 0:
        return x.clone()
    kh, kw = kernels.shape[-2:]
    padded = reflect_pad2d(x, (kw // 2, kw // 2, kh // 2, kh // 2))
    return _depthwise(padded, kernels)


def filter2d_separable(x: Tensor, kernel_y: Tensor, kernel_x: Tensor) -> Tensor:
    """Filter each sample with a separable kernel ``kernel_y^T kernel_x`` as two 1-D passes.

    Equal (up to rounding) to :func:`filter2d` with the outer product ``kernel_y[:, None] *
    kernel_x[None, :]`` and far cheaper for large kernels (``kh + kw`` instead of ``kh * kw``
    multiply-adds per pixel). Reflect padding as in :func:`filter2d`.

    Args:
        x: images, float.
        kernel_y: vertical (row) kernels, one per sample or one for the batch; odd size.
        kernel_x: horizontal (column) kernels, one per sample or one for the batch; odd size.

    Shape:
        - x: ``(B, C, H, W)``.
        - kernel_y: ``(B, kh)``, ``(1, kh)`` or ``(kh,)``.
        - kernel_x: ``(B, kw)``, ``(1, kw)`` or ``(kw,)``.
        - output: ``(B, C, H, W)``.

    Returns:
        The filtered images. Differentiable w.r.t. ``x`` and both kernels.

    Reference:
        ``basicsr.utils.img_process_util.filter2D`` with the outer-product kernel.

    Example:
        >>> from degrade.functional.kernels import gaussian_kernel1d
        >>> g = gaussian_kernel1d(51, dtype=torch.float32)
        >>> y = filter2d_separable(torch.ones(2, 3, 8, 8), g, g)
        >>> y.shape, round(y.min().item(), 5), round(y.max().item(), 5)
        (torch.Size([2, 3, 8, 8]), 1.0, 1.0)
    """
    check_image(x)
    ky = _batch_kernels(kernel_y, x.shape[0], x, "kernel_y", 1)
    kx = _batch_kernels(kernel_x, x.shape[0], x, "kernel_x", 1)
    if x.shape[0] == 0:
        return x.clone()
    ph, pw = ky.shape[-1] // 2, kx.shape[-1] // 2
    rows = _depthwise(reflect_pad2d(x, (0, 0, ph, ph)), ky.unsqueeze(-1))
    return _depthwise(reflect_pad2d(rows, (pw, pw, 0, 0)), kx.unsqueeze(-2))


#: Planes that a depthwise CPU convolution processes together (one AVX-512 register of float32).
_PLANE_BLOCK = 16


def _ragged_groups(sizes: Sequence[tuple[int, int]], planes: int) -> list[list[int]]:
    """Split samples into groups to pad together, minimising the padded work.

    Samples are sorted by area; a dynamic programme over the sorted order picks the contiguous
    groups minimising ``sum(ceil(group planes / 16) * max_h * max_w)``: depthwise convolutions
    cost per block of 16 planes, so small groups waste the vector width and large ones waste
    padding. Only the grouping depends on the batch; each sample's result does not.
    """
    order = sorted(range(len(sizes)), key=lambda i: (sizes[i][0] * sizes[i][1], sizes[i]))
    n = len(order)
    best = [0.0] + [float("inf")] * n
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        max_h = max_w = 0
        for i in range(j - 1, -1, -1):
            h, w = sizes[order[i]]
            max_h, max_w = max(max_h, h), max(max_w, w)
            blocks = -(-(j - i) * planes // _PLANE_BLOCK)
            cost = best[i] + blocks * max_h * max_w
            if cost < best[j]:
                best[j], cut[j] = cost, i
    groups = []
    j = n
    while j > 0:
        groups.append(order[cut[j] : j])
        j = cut[j]
    return groups[::-1]


def filter2d_ragged(samples: Sequence[Tensor], kernels: Tensor) -> list[Tensor]:
    """:func:`filter2d` for samples of different sizes, batched.

    Samples are grouped by size (see ``_ragged_groups``); within a group each sample is
    reflect-padded at its own border and placed in a zero-filled batch of the group's largest
    size, the group is filtered in one depthwise convolution, and each output is cut back to its
    sample's size. A sample's result equals ``filter2d`` on that sample alone.

    Args:
        samples: ``B`` images of shape ``(1, C, h_i, w_i)`` (same C, dtype and device).
        kernels: one kernel per sample, as for :func:`filter2d`.

    Shape:
        - samples: ``(1, C, h_i, w_i)`` each.
        - kernels: ``(B, kh, kw)``, ``(1, kh, kw)`` or ``(kh, kw)``.
        - output: a list of ``(1, C, h_i, w_i)``.

    Example:
        >>> from degrade.functional.kernels import bivariate_gaussian_kernel
        >>> xs = [torch.rand(1, 3, 9, 7), torch.rand(1, 3, 5, 12)]
        >>> k = bivariate_gaussian_kernel(5, torch.tensor([1.0, 2.0]), 1.0, 0.0)
        >>> ys = filter2d_ragged(xs, k)
        >>> all(torch.equal(y, filter2d(x, k[i : i + 1])) for i, (x, y) in enumerate(zip(xs, ys)))
        True
    """
    if not samples:
        return []
    for i, sample in enumerate(samples):
        check_image(sample, f"samples[{i}]")
        if sample.shape[0] != 1:
            raise ValueError(f"samples[{i}] must hold one image, got batch {sample.shape[0]}")
    first = samples[0]
    kernels = _batch_kernels(kernels, len(samples), first, "kernels", 2)
    kh, kw = kernels.shape[-2:]
    py, px = kh // 2, kw // 2
    out: list[Tensor] = [first] * len(samples)
    sizes = [(s.shape[-2], s.shape[-1]) for s in samples]
    for group in _ragged_groups(sizes, first.shape[1]):
        height = max(sizes[i][0] for i in group)
        width = max(sizes[i][1] for i in group)
        padded = first.new_zeros(len(group), first.shape[1], height + 2 * py, width + 2 * px)
        for slot, i in enumerate(group):
            h, w = sizes[i]
            padded[slot, :, : h + 2 * py, : w + 2 * px] = reflect_pad2d(
                samples[i], (px, px, py, py)
            )[0]
        filtered = _depthwise(padded, kernels[group])
        for slot, i in enumerate(group):
            out[i] = filtered[slot : slot + 1, :, : sizes[i][0], : sizes[i][1]]
    return out
