"""Bit-exact emulation of libjpeg-turbo's baseline encode + decode, in batched tensor ops.

The pipeline is the one ``cv2.imencode('.jpg', img, [IMWRITE_JPEG_QUALITY, q])`` followed by
``cv2.imdecode`` runs with default settings (islow DCT, 4:2:0, fancy upsampling). Every value is
an integer. Pixel-domain stages run on float32 tensors, where each product and partial sum
below stays under 2**24 and so is exact, and each fixed-point right shift is ``floor(v * 2**-n)``.
The DCT stages run as float64 matrix products (exact below 2**53) over all 8x8 blocks of the
batch. Samples are kept level-shifted (value - 128) between the colour converters.

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


def codec_planes(planes: Tensor, qtable: Tensor) -> Tensor:
    """Forward DCT, quantise, dequantise and inverse DCT every 8x8 block of some sample planes.

    Args:
        planes: ``(B, P, H, W)`` float64 level-shifted integer samples -128..127, H and W
            multiples of 8.
        qtable: ``(B, 8, 8)`` int64 quantisation tables (natural order), one per sample.

    Returns:
        ``(B, P, H, W)`` float32 level-shifted decoded samples -128..127, as libjpeg-turbo's
        islow IDCT with range limiting produces them.

    Example:
        >>> flat = torch.full((1, 1, 8, 16), -37.0, dtype=torch.float64)
        >>> codec_planes(flat, tables.quant_tables(torch.tensor([50]))[:, 0]).unique().tolist()
        [-38.0]
    """
    b, p, h, w = planes.shape
    nby, nbx = h // 8, w // 8
    dev = planes.device
    recip = _const("recip", dev)[qtable]  # (B, 8, 8, 3): f, c, 2**-r
    gain = _tile(recip[..., 0] * recip[..., 2], nbx)  # f * 2**-r
    offset = _tile(recip[..., 1] * recip[..., 0] * recip[..., 2], nbx)  # c * f * 2**-r
    qval = _tile(qtable.to(_F64), nbx)

    # Forward pass 1 along block rows, pass 2 along block columns; DESCALE = floor(v + 1/2).
    x = planes.reshape(b * p * h, nbx, 8) @ _const("fdct1", dev).T
    x = x.add_(0.5).floor_().view(b * p * nby, 8, w)
    x = torch.matmul(_const("fdct2", dev), x).add_(0.5).floor_()
    # Quantise as sign(x) * floor((|x| + c) * f * 2**-r), then dequantise.
    x = x.view(b, p, nby, 8, w)
    q = torch.copysign(offset, x).addcmul_(x, gain).trunc_().mul_(qval)
    # Inverse pass 1 along block columns, pass 2 along block rows.
    x = torch.matmul(_const("idct1", dev), q.view(b * p * nby, 8, w)).add_(0.5).floor_()
    x = (x.view(b * p * h, nbx, 8) @ _const("idct2", dev).T).add_(0.5).floor_()
    # Range limit: libjpeg-turbo's SIMD islow IDCT (the one OpenCV's bundled build runs on
    # x86-64) saturates to the sample range. Its C fallback would instead wrap values beyond -512..511
    # modulo 1024 before clamping; only extreme blocks at the lowest qualities get there.
    x = x.clamp_(-128.0, 127.0)
    return x.to(_F32).view(b, p, h, w)


def _downsample_h2v2(cbcr: Tensor, height: int, width: int) -> Tensor:
    """h2v2 downsampling of level-shifted ``(B, 2, H2, W2)`` chroma to padded float64 planes.

    ``cbcr`` must already be edge-replicated to at least an even number of rows >= ``height``
    and exactly ``16 * ceil(width / 16)`` columns. Returns ``(B, 2, 8 * ceil(height / 16),
    W2 / 2)``, the subsampled rows replicated downwards as the encoder pads them.
    """
    b = cbcr.shape[0]
    half_h = (height + 1) // 2
    out_w = cbcr.shape[-1] // 2
    rows = cbcr[:, :, : 2 * half_h].unflatten(2, (half_h, 2))
    pairs = (rows[:, :, :, 0] + rows[:, :, :, 1]).unflatten(-1, (out_w, 2))
    s = torch.add(pairs[..., 0], pairs[..., 1])
    bias = torch.tensor([1.0, 2.0], dtype=s.dtype, device=s.device).repeat(out_w // 2)
    s = s.add_(bias).mul_(0.25).floor_()
    out = torch.empty(b, 2, 8 * _ceil_div(height, 16), out_w, dtype=_F64, device=s.device)
    out[:, :, :half_h] = s
    out[:, :, half_h:] = s[:, :, -1:]
    return out


def _upsample_h2v2(c: Tensor, height: int, width: int) -> Tensor:
    """libjpeg-turbo's chroma upsampling of ``(B, 2, h, w)`` planes to ``(B, 2, height, width)``."""
    b, p, h, w = c.shape
    if w <= 2:  # the decoder falls back to box upsampling for such narrow planes
        up = c.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
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
    bias = torch.tensor([8.0, 7.0], dtype=c.dtype, device=c.device)
    out = out.add_(bias).mul_(0.0625).floor_().view(b, p, 2 * h, 2 * w)
    return out[..., :height, :width]


def jpeg_exact(x: Tensor, quality: Tensor) -> Tensor:
    """Encode and decode 8-bit images exactly as libjpeg-turbo (through OpenCV) does.

    Args:
        x: ``(B, C, H, W)`` tensor (floating or uint8) of integer values 0..255, C = 1 or 3
            (RGB).
        quality: ``(B,)`` int64 tensor of qualities in 1..100.

    Returns:
        ``(B, C, H, W)`` float32 tensor of the decoded integer values 0..255.

    Example:
        >>> x = torch.arange(3 * 5 * 7, dtype=torch.float32).view(1, 3, 5, 7) % 256
        >>> jpeg_exact(x, torch.tensor([80])).shape
        torch.Size([1, 3, 5, 7])

    Reference: OpenCV ``imencode('.jpg')`` + ``imdecode`` with libjpeg-turbo 3.1 (see module).
    """
    b, ch, h, w = x.shape
    x = x.to(_F32)
    tabs = tables.quant_tables(quality)  # (B, 2, 8, 8)
    hb, wb = 8 * _ceil_div(h, 8), 8 * _ceil_div(w, 8)
    if ch == 1:
        planes = _pad_replicate(x, hb, wb).to(_F64).sub_(128.0)
        return codec_planes(planes, tabs[:, 0])[..., :h, :w].add(128.0)

    # Replicating edges commutes with the pointwise colour conversion, so pad RGB once.
    wc = 16 * _ceil_div(w, 16)
    xp = _pad_replicate(x, hb, wc)
    r, g, bl = xp.unbind(1)
    # Level-shifted Y, Cb, Cr: floor(sum + 1/2) - 128 and floor(sum + 128 + 1/2 - 2**-16) - 128.
    y = (r * _Y_R).add_(g, alpha=_Y_G).add_(bl, alpha=_Y_B).add_(0.5 - 128.0).floor_()
    cbcr = torch.empty(b, 2, hb, wc, dtype=_F32, device=x.device)
    cb, cr = cbcr.unbind(1)
    torch.mul(bl, _HALF, out=cb).sub_(r, alpha=_CB_R).sub_(g, alpha=_CB_G)
    torch.mul(r, _HALF, out=cr).sub_(g, alpha=_CR_G).sub_(bl, alpha=_CR_B)
    cbcr.add_(0.5 - _S16).floor_()

    yd = codec_planes(y[:, None, :, :wb].to(_F64), tabs[:, 0])
    cd = codec_planes(_downsample_h2v2(cbcr, h, w), tabs[:, 1])
    cd = _upsample_h2v2(cd[..., : _ceil_div(h, 2), : _ceil_div(w, 2)], h, w)

    yu = yd[:, 0, :h, :w] + 128.0
    cb, cr = cd.unbind(1)
    out = torch.empty(b, 3, h, w, dtype=_F32, device=x.device)
    torch.mul(cr, _R_CR, out=out[:, 0]).add_(0.5).floor_().add_(yu)
    torch.mul(cb, -_G_CB, out=out[:, 1]).sub_(cr, alpha=_G_CR).add_(0.5).floor_().add_(yu)
    torch.mul(cb, _B_CB, out=out[:, 2]).add_(0.5).floor_().add_(yu)
    return out.clamp_(0.0, 255.0)
