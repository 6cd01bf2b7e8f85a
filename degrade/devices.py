"""Device names from the command line, checked before any work starts.

``torch.device("cuda")`` is accepted on a machine without CUDA and fails only at the first tensor
moved there, with a long traceback; the commands check ``--device`` up front instead and say in
one line what is wrong.
"""

from __future__ import annotations

import argparse

import torch

_BACKENDS = {
    "cuda": (lambda: torch.cuda.is_available(), lambda: torch.cuda.device_count()),
    "mps": (lambda: torch.backends.mps.is_available(), lambda: 1),
    "xpu": (
        lambda: hasattr(torch, "xpu") and torch.xpu.is_available(),
        lambda: torch.xpu.device_count(),
    ),
}


def default_device() -> str:
    """``"cuda"`` when a CUDA device is available, else ``"cpu"``."""
    return "cuda" if torch.cuda.is_available() else "cpu"


def check_device(name: str) -> str:
    """Check that a device exists on this machine and return its canonical name.

    Args:
        name: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, ``"xpu"``, ...

    Returns:
        ``str(torch.device(name))``.

    Raises:
        ValueError: one line: an unknown device type, a backend this machine does not have, or an
            index beyond its device count.

    Example:
        >>> check_device("cpu")
        'cpu'
        >>> check_device("gpu")
        Traceback (most recent call last):
        ...
        ValueError: unknown device 'gpu' (expected cpu, cuda, cuda:1, mps, ...)
    """
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"unknown device {name!r} (expected cpu, cuda, cuda:1, mps, ...)"
        ) from None
    backend = _BACKENDS.get(device.type)
    if backend is not None:
        available, count = backend
        if not available():
            raise ValueError(f"device {name!r}: no {device.type} device on this machine")
        if device.index is not None and device.index >= count():
            raise ValueError(f"device {name!r}: this machine has {count()} {device.type} device(s)")
    return str(device)


def device_argument(name: str) -> str:
    """:func:`check_device` as an argparse ``type=``: errors become argparse's one-line usage
    errors (exit status 2)."""
    try:
        return check_device(name)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


__all__ = ["check_device", "default_device", "device_argument"]
