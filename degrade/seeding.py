"""Counter-based seed derivation: every random draw of an image is a function of
``(seed, image key, op path)`` alone.

Seeds are mixed with SplitMix64, in Python integers (:func:`derive_seed`) and, with the same
result, in int64 tensor arithmetic on any device (:func:`derive_seeds`), so a batch of keys gets
its per-sample seeds without a host round trip. Path components that are strings are hashed with
BLAKE2b (stable across processes, unlike ``hash``).
"""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_MUL1 = 0xBF58476D1CE4E5B9
_MUL2 = 0x94D049BB133111EB


def to_int64(value: int) -> int:
    """Reinterpret an unsigned 64-bit integer as a signed one."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


def _part_value(part: int | str) -> int:
    if isinstance(part, str):
        return int.from_bytes(hashlib.blake2b(part.encode(), digest_size=8).digest(), "little")
    return part & _MASK64


def splitmix64(value: int) -> int:
    """One SplitMix64 step on an unsigned 64-bit integer; returns an unsigned 64-bit integer."""
    z = (value + _GOLDEN) & _MASK64
    z = ((z ^ (z >> 30)) * _MUL1) & _MASK64
    z = ((z ^ (z >> 27)) * _MUL2) & _MASK64
    return z ^ (z >> 31)


def derive_seed(seed: int, *path: int | str) -> int:
    """Mix a base seed with a path of ints/strings into a signed 64-bit seed.

    Args:
        seed: the base seed.
        *path: components such as an image key and an op name.

    Returns:
        An int in [-2**63, 2**63), usable with ``torch.Generator.manual_seed``.

    Example:
        >>> derive_seed(0, 7, "blur") == derive_seed(0, 7, "blur")
        True
        >>> derive_seed(0, 7, "blur") == derive_seed(0, 8, "blur")
        False
    """
    h = splitmix64(seed & _MASK64)
    for part in path:
        h = splitmix64(h ^ _part_value(part))
    return to_int64(h)


def logical_shift_right(z: Tensor, shift: int) -> Tensor:
    """Logical right shift of int64 values (arithmetic shift, then clear the sign-extended bits)."""
    return (z >> shift) & ((1 << (64 - shift)) - 1)


#: SplitMix64's increment (the golden ratio), as a signed 64-bit integer.
GOLDEN_INT64 = to_int64(_GOLDEN)


def mix64_tensor(z: Tensor) -> Tensor:
    """SplitMix64's finaliser on int64 tensors (wrapping arithmetic; a bijection on 64 bits)."""
    z = (z ^ logical_shift_right(z, 30)) * to_int64(_MUL1)
    z = (z ^ logical_shift_right(z, 27)) * to_int64(_MUL2)
    return z ^ logical_shift_right(z, 31)


def splitmix64_tensor(z: Tensor) -> Tensor:
    """SplitMix64 on int64 tensors (two's-complement wrap-around), equal to :func:`splitmix64`."""
    return mix64_tensor(z + GOLDEN_INT64)


def derive_seeds(seed: int, keys: Tensor, *path: int | str) -> Tensor:
    """Per-sample seeds ``derive_seed(seed, keys[i], *path)`` for a batch of keys, on keys' device.

    Args:
        seed: the base seed.
        keys: int64 tensor of image keys.
        *path: further components (op path, variant index).

    Shape:
        keys: ``(B,)``; returns ``(B,)`` int64.

    Example:
        >>> keys = torch.tensor([0, 1, 2])
        >>> derive_seeds(5, keys, "noise").tolist() == [derive_seed(5, k, "noise") for k in range(3)]
        True
    """
    if keys.dtype != torch.int64:
        raise TypeError(f"keys must be int64, got {keys.dtype}")
    h = torch.full_like(keys, to_int64(splitmix64(seed & _MASK64)))
    h = splitmix64_tensor(h ^ keys)
    for part in path:
        h = splitmix64_tensor(h ^ to_int64(_part_value(part)))
    return h
