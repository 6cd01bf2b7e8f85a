from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from realsr.tiling import iter_bands, paste_tiled, tile_grid, upscale_tiled


class ConvNet(nn.Module):
    """A small x2 network with a known receptive-field radius (one pixel per 3x3 conv)."""

    def __init__(self, convs: int, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        layers: list[nn.Module] = [nn.Conv2d(3, 16, 3, padding=1)]
        for _ in range(convs - 2):
            layers += [nn.LeakyReLU(0.2), nn.Conv2d(16, 16, 3, padding=1)]
        layers += [nn.LeakyReLU(0.2), nn.Conv2d(16, 12, 3, padding=1), nn.PixelShuffle(2)]
        self.body = nn.Sequential(*layers)
        self.radius = convs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + F.interpolate(x, scale_factor=2, mode="nearest")


def _image(h: int, w: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(1, 3, h // 8 + 1, w // 8 + 1, generator=g)
    return F.interpolate(low, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)


def test_grid_covers_the_image_with_the_requested_overlap():
    rows = tile_grid(100, 70, tile=32, overlap=8, pad=5)
    covered = np.zeros((100, 70), int)
    for row in rows:
        for t in row:
            covered[t.y0 : t.y1, t.x0 : t.x1] += 1
            assert (t.in_y1 - t.in_y0, t.in_x1 - t.in_x0) == (42, 42)  # one window shape
            assert t.in_y0 <= max(t.y0 - 5, 0) and t.in_x1 >= min(t.x1 + 5, 70)  # context kept
    assert covered.min() >= 1
    assert rows[0][0].y1 - rows[1][0].y0 >= 8
    with pytest.raises(ValueError, match="overlap"):
        tile_grid(10, 10, tile=8, overlap=8, pad=0)


def test_tiled_equals_untiled_when_the_context_covers_the_receptive_field():
    model = ConvNet(convs=5).eval()
    x = _image(61, 47)
    with torch.no_grad():
        full = model(x)[0].permute(1, 2, 0).numpy()
    tiled = upscale_tiled(model, x, scale=2, tile=20, overlap=6, pad=model.radius)
    assert tiled.shape == full.shape
    assert np.abs(tiled - full).max() <= 1e-5


def test_blending_beats_hard_pasting_and_leaves_no_seam():
    """Random-init 2-block RRDBNet (receptive field far larger than the context), overlap 16."""
    from realsr import build_model

    torch.manual_seed(1)
    model = build_model(
        "RRDBNet", {"num_block": 2, "num_feat": 32, "num_grow_ch": 16, "scale": 2}
    ).eval()
    x = _image(96, 96, seed=2)
    with torch.no_grad():
        full = model(x)[0].permute(1, 2, 0).numpy()
    pad = 4
    blended = upscale_tiled(model, x, scale=2, tile=32, overlap=16, pad=pad, multiple=2)
    pasted = (
        paste_tiled(model, x, scale=2, tile=32, pad=pad, multiple=2)[0].permute(1, 2, 0).numpy()
    )
    err_blend = np.abs(blended - full).mean()
    err_paste = np.abs(pasted - full).mean()
    assert 0 < err_blend < err_paste

    # Seams: neighbour differences across tile borders are no larger than inside tiles.
    borders = set()
    for t in tile_grid(96, 96, tile=32, overlap=16, pad=pad)[0]:
        borders.update({2 * t.x0, 2 * t.x1})
    borders.discard(0)
    borders.discard(192)
    diffs = np.abs(np.diff(blended, axis=1)).mean(axis=(0, 2))  # diffs[c-1] = |y[:, c] - y[:, c-1]|
    at_border = np.mean([diffs[c - 1] for c in borders])
    inside = np.mean([diffs[c - 1] for c in range(1, 192) if c not in borders])
    assert at_border / inside <= 1.1


def test_bands_cover_each_output_row_once_and_quantise():
    model = ConvNet(convs=3).eval()
    x = _image(50, 30)
    tops = []
    total = 0
    for top, band in iter_bands(model, x, scale=2, tile=16, overlap=4, pad=3):
        assert top == total
        tops.append(top)
        total += band.shape[1]
    assert total == 100 and len(tops) > 1
    as_u8 = upscale_tiled(model, x, scale=2, tile=16, overlap=4, pad=3, out_dtype=np.uint8)
    as_u16 = upscale_tiled(model, x, scale=2, tile=16, overlap=4, pad=3, out_dtype=np.uint16)
    as_float = upscale_tiled(model, x, scale=2, tile=16, overlap=4, pad=3)
    assert as_u8.dtype == np.uint8 and as_u16.dtype == np.uint16
    assert np.abs(as_u8 / 255.0 - np.clip(as_float, 0, 1)).max() <= 0.5 / 255 + 1e-6
    assert np.abs(as_u16 / 65535.0 - np.clip(as_float, 0, 1)).max() <= 0.5 / 65535 + 1e-6


def test_mod_padding_for_models_that_need_divisible_sizes():
    class NeedsEven(nn.Module):
        def forward(self, t: torch.Tensor) -> torch.Tensor:
            assert t.shape[-1] % 4 == 0 and t.shape[-2] % 4 == 0
            return F.interpolate(t, scale_factor=2, mode="nearest")

    x = _image(37, 29)
    out = upscale_tiled(NeedsEven(), x, scale=2, tile=16, overlap=4, pad=2, multiple=4)
    expected = F.interpolate(x, scale_factor=2, mode="nearest")[0].permute(1, 2, 0).numpy()
    assert np.abs(out - expected).max() <= 1e-6
