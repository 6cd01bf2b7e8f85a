"""Bit-exact emulation of libjpeg-turbo's baseline encode + decode, in batched tensor ops.

The pipeline is the one ``cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, q])`` followed by
``cv2.imdecode`` runs with default settings (islow DCT, 4:2:0, fancy upsampling). Every value is
an integer. The forward colour conversion and the chroma resampling run on float32 tensors,
where each product and partial sum stays under 2**24 and so is exact; each fixed-point right
shift is ``floor(v * 2**-n)`` with the power of two folded into the constants. The DCT stages
(float64 matrix products over all 8x8 blocks of the batch; never reduced-precision ones) and
the inverse colour conversion run in float64, exact below 2**53. Luminance and both
chrominance planes go through one codec call, stacked in one buffer. Samples are kept
level-shifted (value - 128) between the colour converters.

Stages (libjpeg-turbo source file in brackets):

1. RGB -> YCbCr in 16-bit fixed point [jccolor.c]; a one-channel image is coded as is.
2. Edges: luminance is edge-replicated to multiples of 8. For 4:2:0 chroma the full-resolution
   planes are edge-replicated to an even height and to ``16 * ceil(W / 16)`` columns, 2x2 sums
   get the alternating bias 1, 2, 1, 2, ... and are shifted right by 2, and the subsampled rows
   are then replicated down to a multiple of 8 [jcsample.c, jcprepct.c].
3. Per 8x8 block: islow forward DCT [jfdctint.c], quantisation by reciprocal multiplication
   [jcdctmgr.c], dequantisation and islow inverse DCT [jidctint.c], saturated to the sample
   range as libjpeg-turbo's SIMD IDCT does (the C code's 10-bit wrapping range-limit table,
   jdmaster.c, differs only for extreme blocks at the lowest qualities).
4. Chroma upsampling: triangular "fancy" h2v2 filter with the first / last real rows and
   columns as context [jdsample.c, jdmainct.c]; plain pixel replication when the subsampled
   width is at most 2 (libjpeg-turbo's own fallback).
5. YCbCr -> RGB in 16-bit fixed point with clamping [jdcolor.c].
"""

from __future__ import annotations

import torch
from torch import Tensor

from . import tables

__all__ = ["codec_planes", "jpeg_exact"]

_F32 = torch.float32
_F64 = torch.float64
_S16 = 2.0**-16

# Colour-conversion constants, pre-scaled by 2**-16 (exact dyadic floats).
_Y_R, _Y_G, _Y_B = (tables.fix16(v) * _S16 for v in (0.29900, 0.58700, 0.11400))
_CB_R, _CB_G = (tables.fix16(v) * _S16 for v in (0.16874, 0.33126))
_CR_G, _CR_B = (tables.fix16(v) * _S16 for v in (0.41869, 0.08131))
_HALF = tables.fix16(0.5) * _S16
_R_CR, _B_CB = (tables.fix16(v) * _S16 for v in (1.40200, 1.77200))
_G_CB, _G_CR = (tables.fix16(v) * _S16 for v in (0.34414, 0.71414))

_RECIPROCALS = torch.from_numpy(tables.reciprocal_table())
_FDCT = torch.from_numpy(tables.FDCT_MATRIX.astype("float64"))
_IDCT = torch.from_numpy(tables.IDCT_MATRIX.astype("float64"))
_CACHE: dict[tuple[str, torch.device], Tensor] = {}


def _const(name: str, device: torch.device) -> Tensor:
    key = (name, device)
    if key not in _CACHE:
        if name == "recip":
            value = _RECIPROCALS
        else:
            # Each pass's rounding shift is folded into its matrix (exact: a power of two).
            matrix, shift = {
                "fdct1": (_FDCT, tables.FDCT_PASS1_SHIFT),
                "fdct2": (_FDCT, tables.FDCT_PASS2_SHIFT),
                "idct1": (_IDCT, tables.IDCT_PASS1_SHIFT),
                "idct2": (_IDCT, tables.IDCT_PASS2_SHIFT),
            }[name]
            value = matrix * 2.0**-shift
        _CACHE[key] = value.to(device)
    return _CACHE[key]


def _scalar(value: float, device: torch.device, dtype: torch.dtype = _F64) -> Tensor:
    return torch.tensor(value, dtype=dtype, device=device)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _pad_replicate(x: Tensor, height: int, width: int) -> Tensor:
    """Grow the last two dims to ``(height, width)`` by repeating the last row / column."""
    h, w = x.shape[-2:]
    if height > h:
        x = torch.cat([x, x[..., -1:, :].expand(*x.shape[:-2], height - h, w)], dim=-2)
    if width > w:
        x = torch.cat([x, x[..., -1:].expand(*x.shape[:-1], width - w)], dim=-1)
    return x


def _tile(table: Tensor, nbx: int) -> Tensor:
    # (B, 8, 8) per-sample table -> (B, 1, 1, 8, 8 * nbx), repeated along a block row, so that
    # it broadcasts against (B, P, nby, 8, W) planes with long contiguous inner loops.
    b = table.shape[0]
    return table.unsqueeze(2).expand(b, 8, nbx, 8).reshape(b, 1, 1, 8, 8 * nbx)


def codec_planes(
    planes: Tensor, qtable: Tensor, chroma_qtable: Tensor | None = None, luma_rows: int = 0
) -> Tensor:
    """Forward DCT, quantise, dequantise and inverse DCT every 8x8 block of some sample planes.

    Args:
        planes: ``(B, P, H, W)`` float64 level-shifted integer samples -128..127, H and W
            multiples of 8.
        qtable: ``(B, 8, 8)`` int64 quantisation tables (natural order), one per sample.
        chroma_qtable: optional second ``(B, 8, 8)`` set of tables, used for the rows from
            ``luma_rows`` on (a luminance plane stacked over chrominance planes).
        luma_rows: number of leading rows (a multiple of 8) that use ``qtable`` when
            ``chroma_qtable`` is given.

    Returns:
        ``(B, P, H, W)`` float64 level-shifted decoded samples -128..127, as libjpeg-turbo's
        islow IDCT with range limiting produces them.

    Example:
        >>> flat = torch.full((1, 1, 8, 16), -37.0, dtype=torch.float64)
        >>> codec_planes(flat, tables.quant_tables(torch.tensor([50]))[:, 0]).unique().tolist()
        [-38.0]
    """
    b, p, h, w = planes.shape
    nby, nbx = h // 8, w // 8
    dev = planes.device
    if chroma_qtable is None:
        regions = [(slice(0, nby), qtable)]
    else:
        regions = [(slice(0, luma_rows // 8), qtable), (slice(luma_rows // 8, nby), chroma_qtable)]

    # Forward pass 1 along block rows, pass 2 along block columns; DESCALE = floor(v + 1/2).
    x = planes.reshape(b * p * h, nbx, 8) @ _const("fdct1", dev).T
    x = x.add_(0.5).floor_().view(b * p * nby, 8, w)
    x = torch.matmul(_const("fdct2", dev), x).add_(0.5).floor_()
    # Quantise as sign(x) * floor((|x| + c) * f * 2**-r) = trunc(x * f * 2**-r + sign(x) * c *
    # f * 2**-r), then dequantise.
    x = x.view(b, p, nby, 8, w)
    q = torch.empty_like(x)
    scales = []
    for rows, table in regions:
        recip = _const("recip", dev)[table]  # (B, 8, 8, 3): f, c, 2**-r
        gain = _tile(recip[..., 0] * recip[..., 2], nbx)
        offset = _tile(recip[..., 1] * recip[..., 0] * recip[..., 2], nbx)
        scales.append(_tile(table.to(_F64), nbx))
        torch.copysign(offset, x[:, :, rows], out=q[:, :, rows]).addcmul_(x[:, :, rows], gain)
    q.trunc_()
    for (rows, _), qval in zip(regions, scales, strict=True):
        q[:, :, rows].mul_(qval)
    # Inverse pass 1 along block columns, pass 2 along block rows.
    x = torch.matmul(_const("idct1", dev), q.view(b * p * nby, 8, w)).add_(0.5).floor_()
    x = (x.view(b * p * h, nbx, 8) @ _const("idct2", dev).T).add_(0.5).floor_()
    # Range limit: libjpeg-turbo's SIMD islow IDCT (the one OpenCV's bundled build runs on
    # x86-64) saturates to the sample range. Its C fallback would instead wrap values beyond
    # -512..511 modulo 1024 before clamping; only extreme blocks at the lowest qualities get there.
    return x.clamp_(-128.0, 127.0).view(b, p, h, w)


def _downsample_h2v2(cbcr: Tensor, height: int, out: Tensor) -> None:
    """h2v2 downsampling of level-shifted ``(B, 2, H2, W2)`` chroma into padded planes.

    ``cbcr`` must already be edge-replicated to at least ``height + height % 2`` rows and
    exactly ``16 * ceil(width / 16)`` columns. ``out`` is a ``(B, 2, 8 * ceil(height / 16),
    W2 / 2)`` (float64) view; the subsampled rows are replicated downwards in it as the encoder
    pads them.
    """
    half_h = (height + 1) // 2
    out_w = cbcr.shape[-1] // 2
    rows = cbcr[:, :, : 2 * half_h].unflatten(2, (half_h, 2))
    pairs = (rows[:, :, :, 0] + rows[:, :, :, 1]).unflatten(-1, (out_w, 2))
    s = torch.add(pairs[..., 0], pairs[..., 1], out=out[:, :, :half_h])
    bias = torch.tensor([1.0, 2.0], dtype=out.dtype, device=out.device).repeat(out_w // 2)
    s.add_(bias).mul_(0.25).floor_()
    out[:, :, half_h:] = s[:, :, -1:]


def _upsample_h2v2(c: Tensor, height: int, width: int) -> Tensor:
    """libjpeg-turbo's chroma upsampling of ``(B, 2, h, w)`` planes to ``(B, 2, height, width)``.

    ``c`` holds the decoded samples divided by 16 (exact), the filter's final scale.
    """
    b, p, h, w = c.shape
    if w <= 2:  # the decoder falls back to box upsampling for such narrow planes
        up = c.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1) * 16.0
        return up[..., :height, :width]
    # Vertical: 3 * nearer row + further row (the row above for even output rows, below for
    # odd ones; at the first / last row the row itself stands in for the missing neighbour).
    cs = torch.empty(b, p, h, 2, w, dtype=c.dtype, device=c.device)
    torch.add(c[:, :, :-1], c[:, :, 1:], alpha=3.0, out=cs[:, :, 1:, 0])
    torch.mul(c[:, :, :1], 4.0, out=cs[:, :, :1, 0])
    torch.add(c[:, :, 1:], c[:, :, :-1], alpha=3.0, out=cs[:, :, :-1, 1])
    torch.mul(c[:, :, -1:], 4.0, out=cs[:, :, -1:, 1])
    cs = cs.view(b, p, 2 * h, w)
    # Horizontal: same weights; then (v + 8) >> 4 for even output columns, (v + 7) >> 4 odd.
    out = torch.empty(b, p, 2 * h, w, 2, dtype=c.dtype, device=c.device)
    torch.add(cs[..., :-1], cs[..., 1:], alpha=3.0, out=out[..., 1:, 0])
    torch.mul(cs[..., :1], 4.0, out=out[..., :1, 0])
    torch.add(cs[..., 1:], cs[..., :-1], alpha=3.0, out=out[..., :-1, 1])
    torch.mul(cs[..., -1:], 4.0, out=out[..., -1:, 1])
    bias = torch.tensor([8.0 / 16, 7.0 / 16], dtype=c.dtype, device=c.device).repeat(w)
    out = out.view(b, p, 2 * h, 2 * w).add_(bias).floor_()
    return out[..., :height, :width]


def jpeg_exact(x: Tensor, quality: Tensor) -> Tensor:
    """Encode and decode 8-bit images exactly as libjpeg-turbo (through OpenCV) does.

    Args:
        x: ``(B, C, H, W)`` tensor (floating or uint8) of integer values 0..255, C = 1 or 3
            (RGB).
        quality: ``(B,)`` int64 tensor of qualities in 1..100.

    Returns:
        ``(B, C, H, W)`` float64 tensor of the decoded integer values 0..255.

    Example:
        >>> x = torch.arange(3 * 5 * 7, dtype=torch.float32).view(1, 3, 5, 7) % 256
        >>> jpeg_exact(x, torch.tensor([80])).shape
        torch.Size([1, 3, 5, 7])

    Reference: OpenCV ``imencode('.jpg')`` + ``imdecode`` with libjpeg-turbo 3.1 (see module).
    """
    b, ch, h, w = x.shape
    dev = x.device
    x = x.to(_F32)
    tabs = tables.quant_tables(quality)  # (B, 2, 8, 8)
    hb, wb = 8 * _ceil_div(h, 8), 8 * _ceil_div(w, 8)
    if ch == 1:
        planes = torch.empty(b, 1, hb, wb, dtype=_F64, device=dev)
        torch.sub(_pad_replicate(x, hb, wb), 128.0, out=planes)
        return codec_planes(planes, tabs[:, 0])[..., :h, :w] + 128.0

    # Replicating edges commutes with the pointwise colour conversion, so pad RGB once. The
    # luminance plane (at the chroma-aligned width) and the two subsampled chrominance planes,
    # side by side, are stacked in one float64 buffer and coded by a single codec call.
    wc = 16 * _ceil_div(w, 16)
    hc = 8 * _ceil_div(h, 16)
    xp = _pad_replicate(x, hb, wc)
    r, g, bl = xp.unbind(1)
    planes = torch.empty(b, 1, hb + hc, wc, dtype=_F64, device=dev)
    # Level-shifted Y: floor(sum + 1/2) - 128.
    y = torch.add(_scalar(0.5 - 128.0, dev, _F32), r, alpha=_Y_R)
    planes[:, 0, :hb] = y.add_(g, alpha=_Y_G).add_(bl, alpha=_Y_B).floor_()
    # Level-shifted Cb, Cr: floor(sum + 128 + 1/2 - 2**-16) - 128.
    cbcr = torch.empty(b, 2, hb, wc, dtype=_F32, device=dev)
    cb, cr = cbcr.unbind(1)
    bias = _scalar(0.5 - _S16, dev, _F32)
    torch.add(bias, bl, alpha=_HALF, out=cb).sub_(r, alpha=_CB_R).sub_(g, alpha=_CB_G)
    torch.add(bias, r, alpha=_HALF, out=cr).sub_(g, alpha=_CR_G).sub_(bl, alpha=_CR_B)
    cbcr.floor_()
    chroma = planes[:, 0, hb:].unflatten(-1, (2, wc // 2)).transpose(1, 2)  # (B, 2, hc, wc/2)
    _downsample_h2v2(cbcr, h, chroma)

    dec = codec_planes(planes, tabs[:, 0], tabs[:, 1], luma_rows=hb)[:, 0]
    hh, wh = _ceil_div(h, 2), _ceil_div(w, 2)
    chroma = dec[:, hb : hb + hh].unflatten(-1, (2, wc // 2))[..., :wh].transpose(1, 2)
    c16 = torch.mul(chroma, 1.0 / 16, out=torch.empty(b, 2, hh, wh, dtype=_F32, device=dev))
    cd = _upsample_h2v2(c16, h, w).to(_F64)
    yd = dec[:, None, :h, :w]

    # R, G, B = Y + floor(fixed-point chroma terms + 1/2), all in float64 (exact).
    yh = yd[:, 0] + 128.5
    cb, cr = cd.unbind(1)
    out = torch.empty(b, 3, h, w, dtype=_F64, device=dev)
    torch.add(yh, cr, alpha=_R_CR, out=out[:, 0])
    torch.add(yh, cb, alpha=-_G_CB, out=out[:, 1]).sub_(cr, alpha=_G_CR)
    torch.add(yh, cb, alpha=_B_CB, out=out[:, 2])
    return out.floor_().clamp_(0.0, 255.0)
