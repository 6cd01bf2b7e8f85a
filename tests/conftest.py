"""Test configuration: reference-peer import shim (must run before any test imports basicsr),
device / dtype fixtures and thread settings."""

from __future__ import annotations

import pytest
import torch

import tests._reference  # noqa: F401  (installs the torchvision alias basicsr needs)

torch.set_num_threads(min(2, torch.get_num_threads()))

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Every available device: cpu, plus cuda when present."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["float32", "float64"])
def dtype(request: pytest.FixtureRequest) -> torch.dtype:
    """The floating dtypes every op must keep."""
    return request.param
