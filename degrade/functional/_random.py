"""Per-sample random fields drawn from explicit per-sample seeds.

Every function here makes sample ``i``'s values a function of ``seeds[i]`` (and the field shape)
alone: not of the batch size, the batch mates or the sample's position. Two generators are offered:

* **torch** (:func:`per_sample_normal`, :func:`per_sample_poisson`): one ``torch.Generator`` per
  sample, created on the output device and seeded with ``seeds[i]``. The ``(B,)`` seeds tensor is
  read to the host once per call (:func:`read_seeds`), which synchronises a CUDA stream once per
  batch; nothing is read per sample. A generator seeded with ``s`` yields the same values as torch's
  global generator after ``torch.manual_seed(s)`` on that device, which is what makes bit-exact
  comparisons with reference code that uses the global generator possible. The values depend on
  the device (CPU and CUDA generators differ) and on the dtype drawn.
* **hash** (:func:`hashed_normal`): a counter-based generator in pure int64 tensor arithmetic
  (SplitMix64 mixing of ``(seed, element index)``, then Box-Muller in float64). It needs no
  host read at all and its integer stream is identical on every device; the transcendental
  functions of Box-Muller may differ in the last bit of float64 between device math libraries,
  which almost never survives the cast to float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from degrade.seeding import GOLDEN_INT64, logical_shift_right, mix64_tensor

SeedsLike = Tensor | Sequence[int] | int


def read_seeds(seeds: SeedsLike, batch: int | None = None) -> list[int]:
    """Read per-sample seeds to Python ints (one host read for a tensor).

    Args:
        seeds: an int, a sequence of ints, or an integer tensor of shape ``()``, ``(1,)`` or
            ``(B,)``; a single seed is repeated ``batch`` times.
        batch: the batch size B the seeds must cover (``None``: take the seeds' own length).

    Returns:
        A list of ``B`` ints.

    Example:
        >>> read_seeds(torch.tensor([3, -1]))
        [3, -1]
        >>> read_seeds(7, batch=2)
        [7, 7]
    """
    if isinstance(seeds, Tensor):
        if seeds.is_floating_point() or seeds.is_complex() or seeds.dtype == torch.bool:
            raise TypeError(f"seeds must be an integer tensor, got {seeds.dtype}")
        if seeds.ndim > 1:
            raise ValueError(f"seeds must have shape (B,), got {tuple(seeds.shape)}")
        values = [int(v) for v in seeds.reshape(-1).tolist()]
    elif isinstance(seeds, int):
        values = [seeds]
    else:
        values = [int(v) for v in seeds]
    if batch is None:
        return values
    if len(values) == 1:
        return values * batch
    if len(values) != batch:
        raise ValueError(f"seeds must have 1 or B = {batch} entries, got {len(values)}")
    return values


def make_generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with ``seed`` (any int in [-2**63, 2**64)).

    Example:
        >>> g = make_generator(5)
        >>> torch.equal(torch.randn(3, generator=g), torch.randn(3, generator=make_generator(5)))
        True
    """
    dev = torch.device("cpu" if device is None else device)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    return gen


def _draw_dtype(dtype: torch.dtype) -> torch.dtype:
    return dtype if dtype in (torch.float32, torch.float64) else torch.float32


def per_sample_normal(
    seeds: SeedsLike,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Standard normal fields, sample ``i`` drawn by a generator seeded with ``seeds[i]``.

    Sample ``i`` equals ``torch.randn(shape, generator=make_generator(seeds[i], device))`` (in
    float32 for dtypes other than float32/float64, then cast), whatever the other seeds are.

    Args:
        seeds: ``(B,)`` integer seeds (a tensor is read to the host once) or a list of ints.
        shape: the per-sample field shape.
        dtype: floating dtype of the result.
        device: device of the generators and the result (default CPU).

    Shape:
        seeds: ``(B,)``; returns ``(B, *shape)``.

    Returns:
        The stacked fields.

    Example:
        >>> z = per_sample_normal(torch.tensor([1, 2]), (2, 3))
        >>> z.shape
        torch.Size([2, 2, 3])
        >>> torch.equal(z[1], per_sample_normal([2], (2, 3))[0])
        True
    """
    seed_list = read_seeds(seeds)
    dev = torch.device("cpu" if device is None else device)
    draw = _draw_dtype(dtype)
    out = torch.empty((len(seed_list), *shape), dtype=draw, device=dev)
    for i, seed in enumerate(seed_list):
        out[i] = torch.randn(
            tuple(shape), generator=make_generator(seed, dev), dtype=draw, device=dev
        )
    return out.to(dtype)


def per_sample_poisson(seeds: SeedsLike, rates: Tensor) -> Tensor:
    """Poisson counts with per-sample rates, sample ``i`` drawn with a generator seeded ``seeds[i]``.

    Sample ``i`` equals ``torch.poisson(rates[i], generator=make_generator(seeds[i], device))``
    (rates of dtypes other than float32/float64 are sampled in float32 and cast back).

    Args:
        seeds: ``(B,)`` integer seeds (a tensor is read to the host once) or a list of ints.
        rates: non-negative rates with a leading batch dimension, on the target device.

    Shape:
        rates: ``(B, ...)``; returns the same shape and dtype.

    Returns:
        The counts, as floats.

    Example:
        >>> n = per_sample_poisson(torch.tensor([4, 5]), torch.full((2, 3), 2.0))
        >>> n.shape, bool((n >= 0).all())
        (torch.Size([2, 3]), True)
    """
    seed_list = read_seeds(seeds, batch=rates.shape[0])
    draw = _draw_dtype(rates.dtype)
    work = rates.to(draw)
    out = torch.empty_like(work)
    for i, seed in enumerate(seed_list):
        out[i] = torch.poisson(work[i], generator=make_generator(seed, rates.device))
    return out.to(rates.dtype)


def hashed_bits(seeds: Tensor, count: int) -> Tensor:
    """``count`` pseudo-random 64-bit words per seed, from a counter-based hash (no host read).

    Word ``j`` of sample ``i`` is SplitMix64's output number ``j`` of the stream whose state
    starts at ``mix(seeds[i])``; it depends on ``(seeds[i], j)`` only.

    Args:
        seeds: int64 seeds.
        count: words per sample.

    Shape:
        seeds: ``(B,)``; returns ``(B, count)`` int64 on ``seeds.device``.

    Returns:
        The words as int64 (two's complement).

    Example:
        >>> w = hashed_bits(torch.tensor([0, 1]), 4)
        >>> w.shape, bool((w[0] != w[1]).all())
        (torch.Size([2, 4]), True)
    """
    if seeds.dtype != torch.int64:
        raise TypeError(f"seeds must be int64, got {seeds.dtype}")
    state = mix64_tensor(seeds.reshape(-1, 1))
    counter = torch.arange(1, count + 1, dtype=torch.int64, device=seeds.device)
    return mix64_tensor(state + counter * GOLDEN_INT64)


def hashed_normal(
    seeds: Tensor,
    shape: Sequence[int],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> Tensor:
    """Standard normal fields from a counter-based hash of ``(seeds[i], element index)``.

    Pure tensor arithmetic, no host read and no generator state: word ``k`` of
    :func:`hashed_bits` gives two 32-bit uniforms ``u1`` in (0, 1) and ``u2`` in [0, 1), and
    Box-Muller turns them into elements ``2k`` and ``2k + 1`` of the flattened field,
    ``r cos(2 pi u2)`` and ``r sin(2 pi u2)`` with ``r = sqrt(-2 ln u1)``, computed in float64 (the
    tails reach about 6.7 standard deviations). Sample ``i`` depends on ``seeds[i]`` and the field
    shape only.

    Args:
        seeds: int64 seeds.
        shape: the per-sample field shape.
        dtype: floating dtype of the result.
        device: the result's device (default: the seeds').

    Shape:
        seeds: ``(B,)``; returns ``(B, *shape)``.

    Returns:
        The fields.

    Example:
        >>> z = hashed_normal(torch.tensor([3, 4]), (2, 5))
        >>> z.shape
        torch.Size([2, 2, 5])
        >>> torch.equal(z[1:], hashed_normal(torch.tensor([4]), (2, 5)))
        True
    """
    if seeds.ndim != 1:
        raise ValueError(f"seeds must have shape (B,), got {tuple(seeds.shape)}")
    dev = seeds.device if device is None else torch.device(device)
    count = math.prod(shape)
    words = hashed_bits(seeds.to(dev), (count + 1) // 2)
    u1 = (logical_shift_right(words, 32).double() + 0.5) * 2.0**-32
    theta = (words & 0xFFFFFFFF).double() * (2.0**-32 * 2.0 * math.pi)
    r = torch.sqrt(-2.0 * torch.log(u1))
    z = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=-1)
    return z.reshape(seeds.shape[0], -1)[:, :count].to(dtype).reshape(seeds.shape[0], *shape)
