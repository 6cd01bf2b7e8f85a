"""Tiled super-resolution without seams, with memory bounded by the tile, not the image.

The input is cut into tiles of ``tile`` pixels whose cores overlap by ``overlap`` pixels. Each tile is
run with ``pad`` pixels of real neighbouring context on every side (less at the image border, where
the model sees the border exactly as it would untiled); the context's output is discarded, and the
overlapping cores are blended with a smooth weight (a raised-cosine ramp across the overlap), so no
seam shows even where tiles disagree. When ``pad`` is at least the model's receptive-field radius,
every tile's core output is exact and the blend equals the untiled output (up to float rounding).

The output is assembled band by band (one row of tiles at a time): a float accumulator holds only the
current band, finished rows are quantised (to 8 or 16 bits, or kept as float) into the result, and
only one tile at a time is on the model's device.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

Model = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Tile:
    """One tile: its core ``[y0, y1) x [x0, x1)`` and its input window with context."""

    y0: int
    y1: int
    x0: int
    x1: int
    in_y0: int
    in_y1: int
    in_x0: int
    in_x1: int


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    """Core start positions along one axis: cores of size ``tile`` overlapping by ``overlap``."""
    if tile >= length:
        return [0]
    step = tile - overlap
    starts = [*range(0, length - tile, step), length - tile]
    return sorted(set(starts))


def tile_grid(height: int, width: int, *, tile: int, overlap: int, pad: int) -> list[list[Tile]]:
    """Rows of tiles covering an ``height x width`` image.

    Args:
        height, width: the input size.
        tile: core size (input pixels); the last tile of a row/column is shifted to end at the border.
        overlap: how many pixels adjacent cores share (blended).
        pad: context pixels on each side; every window has the same size ``tile + 2 * pad``
            (clipped to the image), shifted inwards at the border, so the model always sees one
            input shape and the context is never smaller than ``pad`` inside the image.

    Returns:
        A list of tile rows, each a list of :class:`Tile`.
    """
    if tile < 1 or overlap < 0 or pad < 0:
        raise ValueError(f"need tile >= 1, overlap >= 0, pad >= 0; got {tile}, {overlap}, {pad}")
    if overlap >= tile:
        raise ValueError(f"overlap ({overlap}) must be smaller than tile ({tile})")
    window_h, window_w = min(tile + 2 * pad, height), min(tile + 2 * pad, width)
    rows = []
    for y0 in _starts(height, tile, overlap):
        y1 = min(y0 + tile, height)
        in_y0 = min(max(y0 - pad, 0), height - window_h)
        row = []
        for x0 in _starts(width, tile, overlap):
            x1 = min(x0 + tile, width)
            in_x0 = min(max(x0 - pad, 0), width - window_w)
            row.append(Tile(y0, y1, x0, x1, in_y0, in_y0 + window_h, in_x0, in_x0 + window_w))
        rows.append(row)
    return rows


def _ramp(length: int, start_overlap: int, end_overlap: int) -> Tensor:
    """1-D blending weight: raised-cosine rise over the first ``start_overlap`` samples, fall over the
    last ``end_overlap``, 1 elsewhere; strictly positive so every pixel has weight."""
    w = torch.ones(length, dtype=torch.float64)
    for n, flip in ((start_overlap, False), (end_overlap, True)):
        if n <= 0:
            continue
        t = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        rise = 0.5 - 0.5 * torch.cos(math.pi * t)
        if flip:
            w[length - n :] = w[length - n :] * rise.flip(0)
        else:
            w[:n] = w[:n] * rise
    return w


def _tile_weights(
    tile: Tile, row: list[Tile], rows: list[list[Tile]], row_index: int, scale: int
) -> Tensor:
    """``(h*s, w*s)`` blending weight of a tile's core output."""
    col = row.index(tile)
    left = row[col - 1].x1 - tile.x0 if col > 0 else 0
    right = tile.x1 - row[col + 1].x0 if col + 1 < len(row) else 0
    top = rows[row_index - 1][0].y1 - tile.y0 if row_index > 0 else 0
    bottom = tile.y1 - rows[row_index + 1][0].y0 if row_index + 1 < len(rows) else 0
    wy = _ramp((tile.y1 - tile.y0) * scale, max(top, 0) * scale, max(bottom, 0) * scale)
    wx = _ramp((tile.x1 - tile.x0) * scale, max(left, 0) * scale, max(right, 0) * scale)
    return wy[:, None] * wx[None, :]


def _run_tile(
    model: Model,
    x: Tensor,
    tile: Tile,
    scale: int,
    multiple: int,
    device: torch.device,
    dtype: torch.dtype,
) -> Tensor:
    """Model output for a tile's core, ``(C_out, h*s, w*s)`` float32 on the CPU."""
    window = x[..., tile.in_y0 : tile.in_y1, tile.in_x0 : tile.in_x1]
    h, w = window.shape[-2:]
    pad_h, pad_w = (-h) % multiple, (-w) % multiple
    if pad_h or pad_w:  # mod-padding for pixel-unshuffle models, cropped from the output below
        mode = "reflect" if pad_h < h and pad_w < w else "replicate"
        window = F.pad(window, (0, pad_w, 0, pad_h), mode=mode)
    with torch.no_grad():
        out = model(window.to(device=device, dtype=dtype))
    out = out.float().cpu()[0]
    top, left = (tile.y0 - tile.in_y0) * scale, (tile.x0 - tile.in_x0) * scale
    return out[
        :, top : top + (tile.y1 - tile.y0) * scale, left : left + (tile.x1 - tile.x0) * scale
    ]


def _quantise(band: Tensor, out_dtype: np.dtype) -> np.ndarray:
    if out_dtype == np.float32:
        return band.numpy().astype(np.float32)
    peak = 65535.0 if out_dtype == np.uint16 else 255.0
    return (band.clamp(0, 1) * peak).round().numpy().astype(out_dtype)


def iter_bands(
    model: Model,
    x: Tensor,
    *,
    scale: int,
    tile: int = 256,
    overlap: int = 16,
    pad: int = 16,
    multiple: int = 1,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Iterator[tuple[int, Tensor]]:
    """Yield ``(first output row, finished rows)`` bands of the blended output, top to bottom.

    Shape:
        x: ``(1, C, H, W)`` on the CPU; bands are ``(C_out, rows, W * scale)`` float32.
    """
    if x.ndim != 4 or x.shape[0] != 1:
        raise ValueError(f"x must have shape (1, C, H, W), got {tuple(x.shape)}")
    height, width = x.shape[-2:]
    rows = tile_grid(height, width, tile=tile, overlap=overlap, pad=pad)
    device = torch.device(device)
    acc: Tensor | None = None  # accumulator for output rows [acc_top, acc_top + acc.shape[1])
    weight: Tensor | None = None
    acc_top = 0
    for r, row in enumerate(rows):
        band_top, band_bottom = row[0].y0 * scale, row[0].y1 * scale
        for t in row:
            out = _run_tile(model, x, t, scale, multiple, device, dtype)
            if acc is None:
                acc = torch.zeros(out.shape[0], band_bottom - acc_top, width * scale)
                weight = torch.zeros(band_bottom - acc_top, width * scale)
            assert weight is not None
            if acc.shape[1] < band_bottom - acc_top:  # extend the accumulator to this band
                extra = band_bottom - acc_top - acc.shape[1]
                acc = torch.cat([acc, acc.new_zeros(acc.shape[0], extra, acc.shape[2])], dim=1)
                weight = torch.cat([weight, weight.new_zeros(extra, weight.shape[1])], dim=0)
            wgt = _tile_weights(t, row, rows, r, scale)
            ys = slice(band_top - acc_top, band_bottom - acc_top)
            xs = slice(t.x0 * scale, t.x1 * scale)
            acc[:, ys, xs] += out * wgt.to(out.dtype)
            weight[ys, xs] += wgt
        assert acc is not None and weight is not None
        # Rows above the next band's top are final.
        done_until = rows[r + 1][0].y0 * scale if r + 1 < len(rows) else height * scale
        n_done = done_until - acc_top
        if n_done > 0:
            finished = acc[:, :n_done] / weight[:n_done].to(acc.dtype)
            yield acc_top, finished
            acc, weight = acc[:, n_done:].clone(), weight[n_done:].clone()
            acc_top = done_until


def upscale_tiled(
    model: Model,
    x: Tensor,
    *,
    scale: int,
    tile: int = 256,
    overlap: int = 16,
    pad: int = 16,
    multiple: int = 1,
    device: torch.device | str = "cpu",
    dtype: torch.dtype = torch.float32,
    out_dtype: type = np.float32,
) -> np.ndarray:
    """Upscale one image tile by tile and return the whole output as an ``(H*s, W*s, C)`` array.

    Args:
        model: maps ``(1, C, h, w)`` to ``(1, C_out, h*scale, w*scale)``.
        x: the input image, float in [0, 1], on the CPU.
        scale: the model's integer scale.
        tile: tile core size in input pixels (the whole image when larger).
        overlap: overlap of adjacent cores in input pixels (blended smoothly).
        pad: context pixels around each tile (at least the model's receptive-field radius for an
            exact result).
        multiple: input sizes the model needs to be divisible by (4 for x1 and 2 for x2
            pixel-unshuffle models); tiles are reflect-padded up to it and the output cropped.
        device: where the model runs; only one tile at a time is moved there.
        dtype: input dtype for the model (e.g. ``torch.bfloat16``).
        out_dtype: ``np.uint8`` / ``np.uint16`` (rounded, clamped) or ``np.float32``.

    Shape:
        x: ``(1, C, H, W)``; returns ``(H * scale, W * scale, C_out)``.

    Example:
        >>> up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
        >>> y = upscale_tiled(up, torch.rand(1, 3, 40, 30), scale=2, tile=16, overlap=4, pad=2)
        >>> y.shape
        (80, 60, 3)
    """
    height, width = x.shape[-2:]
    out: np.ndarray | None = None
    for top, band in iter_bands(
        model,
        x,
        scale=scale,
        tile=tile,
        overlap=overlap,
        pad=pad,
        multiple=multiple,
        device=device,
        dtype=dtype,
    ):
        if out is None:
            out = np.empty((height * scale, width * scale, band.shape[0]), dtype=out_dtype)
        out[top : top + band.shape[1]] = _quantise(band, np.dtype(out_dtype)).transpose(1, 2, 0)
    assert out is not None
    return out


def paste_tiled(
    model: Model, x: Tensor, *, scale: int, tile: int, pad: int, multiple: int = 1
) -> Tensor:
    """Real-ESRGAN-style tiling for comparison: non-overlapping tiles run with ``pad`` context,
    their cores pasted without blending.

    Shape:
        x: ``(1, C, H, W)``; returns ``(1, C_out, H * scale, W * scale)`` float32.
    """
    height, width = x.shape[-2:]
    rows = tile_grid(height, width, tile=tile, overlap=0, pad=pad)
    out: Tensor | None = None
    for row in rows:
        for t in row:
            core = _run_tile(model, x, t, scale, multiple, torch.device("cpu"), torch.float32)
            if out is None:
                out = torch.zeros(1, core.shape[0], height * scale, width * scale)
            out[0, :, t.y0 * scale : t.y1 * scale, t.x0 * scale : t.x1 * scale] = core
    assert out is not None
    return out
