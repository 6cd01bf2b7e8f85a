"""RRDBNet's inference-time banded tail gives the same output as the whole-image tail."""

from __future__ import annotations

import pytest
import torch

import realsr.archs.rrdbnet_arch as rrdbnet_arch
from realsr import build_model


@pytest.mark.parametrize("scale", [4, 2])
def test_banded_tail_equals_whole_tail(monkeypatch, scale):
    torch.manual_seed(0)
    model = build_model(
        "RRDBNet", {"num_feat": 8, "num_block": 1, "num_grow_ch": 4, "scale": scale}
    ).eval()
    x = torch.rand(2, 3, 36, 28)
    with torch.no_grad():
        whole = model(x)
    monkeypatch.setattr(
        rrdbnet_arch, "_TAIL_BUDGET", 2000
    )  # forces bands of 4 rows at 2x resolution
    with torch.no_grad():
        banded = model(x)
    assert banded.shape == whole.shape
    torch.testing.assert_close(banded, whole, rtol=0, atol=1e-6)
    # Training (gradients enabled) always takes the whole-image path.
    assert model(x).requires_grad
