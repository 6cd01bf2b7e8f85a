from __future__ import annotations

import math

import pytest
import torch

from degrade.random import Draws, random_uniform
from degrade.seeding import derive_seeds


def _seeds(n: int, seed: int = 0) -> torch.Tensor:
    return derive_seeds(seed, torch.arange(n, dtype=torch.int64), "test")


def test_draws_depend_only_on_the_samples_own_seed():
    seeds = _seeds(64)
    full = Draws(seeds)
    a, b, c = full.uniform(0, 1), full.choice([1, 2, 3]), full.seed()
    perm = torch.randperm(64, generator=torch.Generator().manual_seed(1))
    sub = Draws(seeds[perm[:7]])
    assert torch.equal(sub.uniform(0, 1), a[perm[:7]])
    assert torch.equal(sub.choice([1, 2, 3]), b[perm[:7]])
    assert torch.equal(sub.seed(), c[perm[:7]])


def test_uniform_is_uniform_and_columns_are_independent():
    u = Draws(_seeds(20000))
    x, y = u.uniform(0, 1), u.uniform(0, 1)
    assert (x >= 0).all() and (x < 1).all()
    # Kolmogorov-Smirnov distance against U(0, 1); 1.63/sqrt(n) is the 1% critical value.
    xs = x.sort().values
    ecdf = torch.arange(1, xs.numel() + 1, dtype=torch.float64) / xs.numel()
    assert (ecdf - xs).abs().max() < 1.63 / math.sqrt(xs.numel())
    assert abs(torch.corrcoef(torch.stack([x, y]))[0, 1]) < 0.03


@pytest.mark.parametrize("probs", [[0.5, 0.5], [0.1, 0.6, 0.3], [0.0, 1.0, 0.0], [2, 1, 1]])
def test_choice_frequencies_match_probabilities(probs):
    n = 20000
    counts = torch.bincount(Draws(_seeds(n, 3)).choice(probs), minlength=len(probs)).double()
    p = torch.tensor(probs, dtype=torch.float64) / sum(probs)
    tolerance = 4 * torch.sqrt(p * (1 - p) / n) + 1e-12
    assert ((counts / n - p).abs() <= tolerance).all(), (counts / n, p)


def test_randint_bounds_and_coverage():
    r = Draws(_seeds(5000)).randint(3, 11)
    assert r.dtype == torch.int64 and r.min() == 3 and r.max() == 10
    assert torch.unique(r).numel() == 8


def test_bernoulli_and_log_uniform():
    d = Draws(_seeds(20000, 5))
    hits = d.bernoulli(0.3).double().mean()
    assert abs(hits - 0.3) < 0.015
    v = d.log_uniform(1e-2, 1e2)
    assert v.min() >= 1e-2 and v.max() <= 1e2
    assert abs((v.log10() < 0).double().mean() - 0.5) < 0.015


def test_bad_arguments():
    with pytest.raises(ValueError, match="int64"):
        Draws(torch.arange(3, dtype=torch.int32))
    d = Draws(_seeds(3))
    with pytest.raises(ValueError, match="probabilities"):
        d.choice([0, 0])
    with pytest.raises(ValueError, match="high > low"):
        d.randint(2, 2)


def test_random_uniform_same_on_every_call():
    s = _seeds(10)
    assert torch.equal(random_uniform(s, 7), random_uniform(s, 7))
    assert not torch.equal(random_uniform(s, 7), random_uniform(s, 8))


def test_pick_draws_uniformly_among_options_and_returns_vocabulary_indices():
    vocabulary = ("nearest", "area", "bilinear", "bicubic")
    picked = Draws(_seeds(12000, 9)).pick(["bicubic", "area", "bilinear"], vocabulary)
    assert set(picked.tolist()) == {1, 2, 3}
    for index in (1, 2, 3):
        assert abs((picked == index).double().mean().item() - 1 / 3) < 0.02
