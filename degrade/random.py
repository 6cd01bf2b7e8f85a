"""Counter-based per-sample random draws, on any device, with no host synchronisation.

Sample ``i`` of a batch owns a 64-bit seed ``seeds[i]`` (see :func:`degrade.seeding.derive_seeds`).
Its ``j``-th draw is ``SplitMix64(seeds[i] XOR SplitMix64(j))``: a pure function of the seed and the
draw's index, so a sample's draws never depend on its batch, its position or the device, and every
op can draw all its parameters for a whole batch in a few tensor operations.

:class:`Draws` hands out successive draws column by column, so an op's ``sample`` reads like
sequential code (``d.uniform(0.1, 3.0)``, ``d.bernoulli(0.4)``, ``d.choice(probs)``) while every call
returns a ``(B,)`` tensor.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from degrade.seeding import splitmix64, splitmix64_tensor, to_int64

_MANTISSA = (1 << 53) - 1


def random_bits(seeds: Tensor, counter: int) -> Tensor:
    """64 random bits (as int64) per sample for draw index ``counter``.

    Shape:
        seeds: ``(B,)`` int64; returns ``(B,)`` int64.
    """
    return splitmix64_tensor(seeds ^ to_int64(splitmix64(counter)))


def random_uniform(seeds: Tensor, counter: int) -> Tensor:
    """A float64 uniform in [0, 1) per sample (53 random bits) for draw index ``counter``.

    Shape:
        seeds: ``(B,)`` int64; returns ``(B,)`` float64.

    Example:
        >>> u = random_uniform(torch.arange(4), 0)
        >>> bool(((u >= 0) & (u < 1)).all())
        True
    """
    bits = (random_bits(seeds, counter) >> 11) & _MANTISSA
    return bits.to(torch.float64) * (1.0 / (1 << 53))


class Draws:
    """Successive per-sample random draws from a ``(B,)`` int64 seed tensor.

    Every method consumes one (or a fixed number of) draw index and returns a ``(B,)`` tensor on the
    seeds' device. The k-th call gives the same values for a sample whatever the batch.

    Example:
        >>> d = Draws(torch.tensor([3, 4]))
        >>> sigma = d.uniform(0.2, 3.0)
        >>> sigma.shape, sigma.dtype
        (torch.Size([2]), torch.float64)
    """

    def __init__(self, seeds: Tensor) -> None:
        if seeds.dtype != torch.int64 or seeds.ndim != 1:
            raise ValueError(
                f"seeds must be a (B,) int64 tensor, got {seeds.dtype} {tuple(seeds.shape)}"
            )
        self.seeds = seeds
        self._counter = 0

    def _next(self) -> Tensor:
        value = random_uniform(self.seeds, self._counter)
        self._counter += 1
        return value

    def uniform(self, low: float, high: float) -> Tensor:
        """U(low, high) as float64."""
        return low + (high - low) * self._next()

    def log_uniform(self, low: float, high: float) -> Tensor:
        """exp(U(log low, log high)), for scale-like parameters; low, high > 0."""
        lo, hi = torch.tensor([low, high], dtype=torch.float64).log().tolist()
        return torch.exp(self.uniform(lo, hi))

    def bernoulli(self, p: float) -> Tensor:
        """True with probability ``p`` (bool)."""
        return self._next() < p

    def randint(self, low: int, high: int) -> Tensor:
        """Integer uniform on ``[low, high)`` (int64)."""
        if high <= low:
            raise ValueError(f"randint needs high > low, got [{low}, {high})")
        return low + (self._next() * (high - low)).floor().to(torch.int64).clamp_max(high - low - 1)

    def pick(self, options: Sequence[str], vocabulary: Sequence[str]) -> Tensor:
        """One of ``options``, uniformly, as its index in ``vocabulary`` (int64).

        Ops record categorical values as indices into a fixed vocabulary (e.g. all resize
        modes), while each op draws only among the options it was configured with.
        """
        index = self.randint(0, len(options))
        table = torch.tensor([vocabulary.index(o) for o in options], device=index.device)
        return table[index]

    def choice(self, probs: Sequence[float]) -> Tensor:
        """Index drawn with the given (unnormalised, non-negative) probabilities (int64)."""
        weights = torch.tensor(list(probs), dtype=torch.float64, device=self.seeds.device)
        if weights.ndim != 1 or weights.numel() == 0 or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(
                f"choice needs non-negative probabilities with a positive sum, got {probs}"
            )
        edges = torch.cumsum(weights / weights.sum(), 0)[:-1]
        return torch.bucketize(self._next(), edges, right=True)

    def seed(self) -> Tensor:
        """A fresh int64 seed per sample (for per-pixel noise streams)."""
        value = random_bits(self.seeds, self._counter)
        self._counter += 1
        return value
