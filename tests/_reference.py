"""Access to the reference peers (basicsr, realesrgan) and to ../shared/data for tests and benchmarks.

``import basicsr`` (1.4.2) fails on torchvision >= 0.17 because it imports the removed module
``torchvision.transforms.functional_tensor``. The alias below is installed at import time of this
module (tests/conftest.py imports it first), never inside the package.

On a user's machine a missing peer or a missing ``../shared`` skips the test with a reason. CI sets
``REALSR_REQUIRE_REFERENCE=1`` and ``REALSR_REQUIRE_SHARED=1`` so that those skips become failures.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest

try:  # pragma: no cover - depends on the installed torchvision
    import torchvision.transforms.functional as _tv_functional

    sys.modules.setdefault("torchvision.transforms.functional_tensor", _tv_functional)
except ImportError:  # torchvision is only in the `reference` extra
    pass

REPO_ROOT = Path(__file__).resolve().parents[1]


def _require(kind: str) -> bool:
    return os.environ.get(f"REALSR_REQUIRE_{kind}", "") == "1"


def import_reference(name: str) -> ModuleType:
    """Import a reference-peer module (e.g. ``basicsr.utils.img_process_util``).

    Skips the calling test when it is not installed, or fails it when ``REALSR_REQUIRE_REFERENCE=1``.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ImportError as exc:  # pragma: no cover - exercised on machines without the extra
        message = (
            f"reference peer module {name!r} unavailable ({exc}); install the `reference` extra"
        )
        if _require("REFERENCE"):
            pytest.fail(message + " (REALSR_REQUIRE_REFERENCE=1)")
        pytest.skip(message)


def shared_dir() -> Path:
    """Return ``../shared`` beside the checkout (or ``$REALSR_SHARED_DIR``).

    Skips the calling test when absent, or fails it when ``REALSR_REQUIRE_SHARED=1``.
    """
    path = Path(os.environ.get("REALSR_SHARED_DIR", REPO_ROOT.parent / "shared"))
    if not (path / "data").is_dir():
        message = f"shared benchmark data not found at {path}/data"
        if _require("SHARED"):
            pytest.fail(message + " (REALSR_REQUIRE_SHARED=1)")
        pytest.skip(message)
    return path
