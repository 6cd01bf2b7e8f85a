"""MATLAB-compatible bicubic ``imresize``.

The default method of MATLAB's ``imresize``: the cubic convolution kernel with ``a = -0.5``;
when shrinking, the kernel is stretched by ``1 / scale`` (antialiasing) so its support grows
from 4 to ``4 / scale`` input pixels; out-of-range taps are mirrored symmetrically (edge pixel
repeated); the image is resized one dimension at a time, the dimension with the smaller scale
first (on ties the vertical one). Each 1-D pass is a matrix product with a precomputed
``(out, in)`` weight matrix into which the boundary mirroring is folded; the weights are computed
in float64 and cached per geometry.

MATLAB on ``uint8`` input rounds and saturates after every pass; ``round_each_pass=True``
reproduces that, bit for bit, which is how the classic SR benchmark LR images (Set5/Set14/B100
``LR_bicubic``) were made.
"""

from __future__ import annotations

import math
from functools import lru_cache

import torch
from torch import Tensor

from degrade.functional._utils import check_image
from degrade.functional.resize import ScaleLike, SizeLike, _pair_scale, _pair_size

_KERNEL_WIDTH = 4.0


def _cubic(t: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    a = t.abs()
    a2 = a * a
    a3 = a2 * a
    inner = (1.5 * a3 - 2.5 * a2 + 1) * (a <= 1).to(t.dtype)
    outer = (-0.5 * a3 + 2.5 * a2 - 4 * a + 2) * ((a > 1) & (a <= 2)).to(t.dtype)
    return inner + outer


def imresize_weights(in_len: int, out_len: int, scale: float, antialias: bool = True) -> Tensor:
    """The ``(out_len, in_len)`` float64 matrix of one 1-D MATLAB bicubic resize pass.

    Row ``i`` holds the weights of output pixel ``i``: MATLAB's ``contributions`` (kernel taps
    normalised to sum 1), with the taps that fall outside ``[0, in_len)`` mirrored back
    symmetrically and accumulated into the column they land on.

    Args:
        in_len: input length along the resized dimension.
        out_len: output length.
        scale: the scale MATLAB uses for this dimension (the given scale, or ``out / in``).
        antialias: stretch the kernel by ``1 / scale`` when ``scale < 1``.

    Returns:
        float64 CPU tensor of shape ``(out_len, in_len)``; each row sums to 1.

    Example:
        >>> w = imresize_weights(8, 4, 0.5)
        >>> tuple(w.shape), round(w.sum(1).max().item(), 12)
        ((4, 8), 1.0)
    """
    f64 = torch.float64
    shrink = antialias and scale < 1
    width = _KERNEL_WIDTH / scale if shrink else _KERNEL_WIDTH
    # 1-based output coordinates mapped to 1-based input coordinates (pixel centres aligned).
    xo = torch.arange(1, out_len + 1, dtype=f64)
    u = xo / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(u - width / 2)
    taps = math.ceil(width) + 2
    idx = left[:, None] + torch.arange(taps, dtype=f64)[None, :]
    dist = u[:, None] - idx
    w = scale * _cubic(dist * scale) if shrink else _cubic(dist)
    w = w / w.sum(dim=1, keepdim=True)
    # Symmetric boundary: the index sequence 1..n, n..1 repeated (0-based below).
    period = 2 * in_len
    m = torch.remainder(idx.to(torch.int64) - 1, period)
    m = torch.where(m >= in_len, period - 1 - m, m)
    return torch.zeros(out_len, in_len, dtype=f64).scatter_add_(1, m, w)


@lru_cache(maxsize=32)
def _cached_weights(
    in_len: int,
    out_len: int,
    scale: float,
    antialias: bool,
    device: torch.device,
    dtype: torch.dtype,
) -> Tensor:
    # Built outside inference mode so the cached tensor can be saved for backward later.
    with torch.inference_mode(False), torch.no_grad():
        return imresize_weights(in_len, out_len, scale, antialias).to(device=device, dtype=dtype)


def imresize_geometry(
    in_size: tuple[int, int], scale: ScaleLike | None = None, size: SizeLike | None = None
) -> tuple[tuple[int, int], tuple[float, float]]:
    """Output size and per-dimension scales of :func:`imresize`, as MATLAB computes them.

    With ``scale`` the output is ``ceil(scale * in)`` and the weights use the given scale; with
    ``size`` the scales are ``out / in``.

    Args:
        in_size: input ``(H, W)``.
        scale: a positive number or ``(sy, sx)``; exclusive with ``size``.
        size: a positive int or ``(h, w)``; exclusive with ``scale``.

    Returns:
        ``((h, w), (sy, sx))``.

    Example:
        >>> imresize_geometry((10, 7), scale=0.5)
        ((5, 4), (0.5, 0.5))
    """
    if (size is None) == (scale is None):
        raise ValueError("exactly one of scale and size must be given")
    if size is not None:
        h, w = _pair_size(size)
        return (h, w), (h / in_size[0], w / in_size[1])
    assert scale is not None
    sy, sx = _pair_scale(scale)
    return (math.ceil(sy * in_size[0]), math.ceil(sx * in_size[1])), (sy, sx)


def _round_u8_(v: Tensor) -> Tensor:
    """Round half away from zero and saturate to 0..255 in place (MATLAB's ``uint8`` cast).

    ``floor(v + 0.5)`` equals rounding half away from zero wherever the saturation keeps it.
    """
    return v.add_(0.5).floor_().clamp_(0, 255)


def imresize(
    x: Tensor,
    scale: ScaleLike | None = None,
    size: SizeLike | None = None,
    *,
    antialias: bool = True,
    round_each_pass: bool = False,
) -> Tensor:
    """MATLAB ``imresize(x, scale)`` with the default bicubic method, on a batch.

    Exactly one of ``scale`` and ``size`` is given. The output size is ``ceil(scale * in)``; with
    ``size`` the per-dimension scales are ``out / in`` (as MATLAB computes them). The two 1-D
    passes run in MATLAB's order: the dimension with the smaller scale first, the vertical one on
    ties. All arithmetic is float64.

    Input and output types:

    - float ``x``, ``round_each_pass=False``: float64 arithmetic, cast back to ``x.dtype``; not
      clamped (bicubic overshoots); differentiable.
    - ``uint8`` ``x``, ``round_each_pass=False``: both passes in float64, rounded half away from
      zero and saturated once at the end; returns ``uint8``.
    - ``round_each_pass=True`` (MATLAB on ``uint8`` input): each pass is rounded half away from
      zero and saturated to 0..255 before the next. ``uint8`` in, ``uint8`` out; a float ``x`` in
      [0, 1] is first quantised to 8 bits (``round(x * 255)``, saturated, as ``im2uint8``), and the
      result is returned as the rounded 8-bit values divided by 255 in ``x.dtype``.

    Args:
        x: images, float (nominally [0, 1]) or ``uint8``.
        scale: scale factor, a positive number or ``(sy, sx)``.
        size: output size, a positive int or ``(h, w)``.
        antialias: stretch the kernel when shrinking (MATLAB's ``'Antialiasing', true``).
        round_each_pass: round and saturate to 8 bits after each pass.

    Shape:
        - x: ``(B, C, H, W)``
        - output: ``(B, C, h, w)``

    Returns:
        The resized batch on ``x``'s device, dtype as described above.

    Example:
        >>> import torch
        >>> x = torch.linspace(0, 1, 16, dtype=torch.float64).view(1, 1, 4, 4)
        >>> y = imresize(x, scale=0.5)
        >>> y.shape, round(y[0, 0, 0, 0].item(), 6)
        (torch.Size([1, 1, 2, 2]), 0.153646)
        >>> imresize((x * 255).round().to(torch.uint8), scale=0.5, round_each_pass=True)[0, 0]
        tensor([[ 39,  74],
                [181, 216]], dtype=torch.uint8)

    Reference:
        MATLAB ``imresize`` (bicubic, antialiasing on); bit-exact with MATLAB on ``uint8`` with
        ``round_each_pass=True``; ``basicsr.utils.matlab_functions.imresize`` on float input.
    """
    check_image(x)
    is_u8 = x.dtype == torch.uint8
    if not (is_u8 or x.is_floating_point()):
        raise TypeError(f"imresize expects a floating-point or uint8 x, got {x.dtype}")
    in_h, in_w = x.shape[-2], x.shape[-1]
    (out_h, out_w), (sy, sx) = imresize_geometry((in_h, in_w), scale=scale, size=size)

    f64 = torch.float64
    # In per-pass mode a float input is first quantised to 8 bits (as im2uint8 would).
    quantise_input = round_each_pass and not is_u8
    v = _round_u8_(x.to(f64, copy=True).mul_(255)) if quantise_input else x.to(f64)

    wh = _cached_weights(in_h, out_h, sy, antialias, x.device, f64)
    ww = _cached_weights(in_w, out_w, sx, antialias, x.device, f64)
    passes = ("w", "h") if sx < sy else ("h", "w")
    for axis in passes:
        if axis == "h":
            v = torch.matmul(wh, v)
        else:
            v = torch.matmul(ww, v.transpose(-1, -2)).transpose(-1, -2)
        if round_each_pass:
            v = _round_u8_(v)

    contiguous = torch.contiguous_format
    if is_u8:
        v = v if round_each_pass else _round_u8_(v)
        return v.to(torch.uint8, memory_format=contiguous)
    if round_each_pass:
        v = v / 255
    return v.to(x.dtype, memory_format=contiguous)
