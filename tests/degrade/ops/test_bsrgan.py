"""BSRGAN random ops and preset: sampler bounds and frequencies, per-sample order, batch
invariance and exact replay from records."""

from __future__ import annotations

import itertools
import json
import math

import pytest
import torch

from degrade.ops import RandomJPEG
from degrade.ops.base import Context
from degrade.ops.bsrgan import (
    BLUR_FAMILIES,
    DOWNSAMPLE_KINDS,
    HALVE_MODES,
    NOISE_VARIANTS,
    BSRGANBlur,
    BSRGANDownsample,
    BSRGANNoise,
    BSRGANPoisson,
    BSRGANShuffle,
    CV2ResizeTo,
    bsrgan_blur_kernels,
    constrained_orders,
)
from degrade.presets import SpecError, load_pipeline

N = 20000
KEYS = torch.arange(N, dtype=torch.int64)


def _freq_ok(observed: torch.Tensor, expected: float, n: int = N) -> bool:
    """Within 4.5 standard errors of a binomial proportion."""
    tol = 4.5 * math.sqrt(max(expected * (1 - expected), 1e-12) / n) + 1e-9
    return abs(observed.double().mean().item() - expected) <= tol


# ---------------------------------------------------------------- samplers


def test_blur_sampler() -> None:
    p = BSRGANBlur().sample(KEYS, seed=1)
    assert _freq_ok(p.family == BLUR_FAMILIES.index("aniso"), 0.5)
    assert set(p.kernel_size.tolist()) == set(range(7, 26, 2))  # 2 * randint(2, 11) + 3
    for k in range(7, 26, 2):
        assert _freq_ok(p.kernel_size == k, 0.1), k
    assert p.theta.min() >= 0 and p.theta.max() < math.pi
    assert p.spread_1.min() >= 0 and p.spread_2.max() < 1


def test_blur_kernels_follow_the_scale() -> None:
    """Anisotropic variances (4 + sf) u and isotropic sigma (2 + 0.2 sf) u (BSRGAN's add_blur)."""
    op = BSRGANBlur()
    p = op.sample(torch.arange(2000), seed=2)
    for sf in (2.0, 4.0):
        k = bsrgan_blur_kernels(p, sf)
        grid = torch.arange(25, dtype=torch.float64) - 12
        yy, xx = torch.meshgrid(grid, grid, indexing="ij")
        var_x = (k * xx**2).sum(dim=(1, 2))
        var_y = (k * yy**2).sum(dim=(1, 2))
        big = p.kernel_size == 25
        iso = (p.family == 1) & big
        expected_iso = ((2 + 0.2 * sf) * p.spread_1) ** 2
        # sigma in [1, 2]: the sampled kernel's variance equals sigma^2 to ~1e-8 and the 25x25
        # support does not truncate it
        small = iso & (expected_iso >= 1) & (expected_iso < 4)
        assert small.sum() >= 5
        torch.testing.assert_close(var_x[small], expected_iso[small], rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(var_y[small], expected_iso[small], rtol=1e-6, atol=1e-8)
        aniso = (p.family == 0) & big
        trace = (4 + sf) * (p.spread_1 + p.spread_2)
        wide = ((4 + sf) * torch.minimum(p.spread_1, p.spread_2) >= 1) & (trace < 6)
        small = aniso & wide
        assert small.sum() >= 5
        torch.testing.assert_close((var_x + var_y)[small], trace[small], rtol=1e-6, atol=1e-8)


def test_downsample_sampler_and_sizes() -> None:
    p = BSRGANDownsample().sample(KEYS, seed=3)
    assert _freq_ok(p.kind == DOWNSAMPLE_KINDS.index("resize"), 0.75)
    assert set(p.mode.tolist()) == {1, 2, 3}  # linear, cubic, area
    op = BSRGANDownsample(resize_prob=1.0, scale=4)
    params = op.sample(torch.arange(8), seed=0)
    out = op.apply(torch.rand(8, 3, 40, 40), params)
    factors = 1 + 7 * params.factor_u  # U(1, 2 sf)
    for i, sample in enumerate(out):
        expected = int(1 / factors[i].item() * 40)
        assert sample.shape[-2:] == (expected, expected)
        assert sample.min() >= 0 and sample.max() <= 1


def test_noise_sampler() -> None:
    p = BSRGANNoise().sample(KEYS, seed=4)
    assert p.level.min() == 2 and p.level.max() == 25  # randint(2, 25), inclusive
    for v in (2, 13, 25):
        assert _freq_ok(p.level == v, 1 / 24), v
    for name, prob in zip(NOISE_VARIANTS, (0.4, 0.4, 0.2), strict=True):
        assert _freq_ok(p.variant == NOISE_VARIANTS.index(name), prob), name
    assert torch.equal(p.cov, p.cov.transpose(1, 2)) and (p.cov >= 0).all()
    # trace of L^2 U^T D U is L^2 sum(d) <= 3 L^2, before the absolute value (which keeps the diagonal)
    assert p.cov.diagonal(dim1=1, dim2=2).sum(1).max() <= 3 * (25 / 255) ** 2 + 1e-15


def test_poisson_sampler_levels() -> None:
    p = BSRGANPoisson().sample(KEYS, seed=5)
    assert p.photons.min() >= 100 and p.photons.max() <= 1e4  # 10 ** U(2, 4)
    log = p.photons.log10()
    for q in (0.25, 0.5, 0.75):  # uniform in log10
        assert _freq_ok(log < 2 + 2 * q, q), q
    assert _freq_ok(p.gray, 0.5)
    assert _freq_ok(BSRGANPoisson(p=0.1).sample(KEYS, seed=5).applied, 0.1)


def test_jpeg_quality_is_uniform_over_30_to_95() -> None:
    """The preset's U(29.5, 95.5) rounded half-to-even by the codec is BSRGAN's randint(30, 95)."""
    q = RandomJPEG(jpeg_range=[29.5, 95.5]).sample(KEYS, seed=6).quality.round()
    assert q.min() == 30 and q.max() == 95
    for v in (30, 31, 62, 95):
        assert _freq_ok(q == v, 1 / 66), v


# ---------------------------------------------------------------- the shuffle


def test_constrained_orders_keep_chains() -> None:
    g = torch.Generator().manual_seed(0)
    orders = constrained_orders(torch.rand(5000, 7, generator=g), [[2, 3], [5, 0, 6]])
    pos = orders.argsort(dim=1)
    assert (pos[:, 2] < pos[:, 3]).all()
    assert ((pos[:, 5] < pos[:, 0]) & (pos[:, 0] < pos[:, 6])).all()
    assert (orders.sort(dim=1).values == torch.arange(7)).all()  # permutations


def test_shuffle_order_frequencies() -> None:
    """Per-sample orders uniform over the orders with downsample2 before downsample3."""
    pipe = load_pipeline("bsrgan")
    params = pipe.sample(KEYS, seed=7).children[0]
    order = params.order
    assert order.shape == (N, 6)
    pos = order.argsort(dim=1)
    assert (pos[:, 2] < pos[:, 3]).all()
    for child in range(6):  # positions of an unconstrained child are uniform
        if child in (2, 3):
            continue
        for k in range(6):
            assert _freq_ok(pos[:, child] == k, 1 / 6), (child, k)
    # downsample2 at position k: (5 - k) / 15 of the 15 position pairs
    for k in range(6):
        assert _freq_ok(pos[:, 2] == k, (5 - k) / 15), k
    # 3 children, one pair constrained: each of the 3 valid orders 1/3
    small = BSRGANShuffle(
        [BSRGANBlur(), BSRGANBlur(name="b2"), CV2ResizeTo()], keep_order=[[0, 2]]
    ).sample(KEYS, seed=8)
    valid = [o for o in itertools.permutations(range(3)) if o.index(0) < o.index(2)]
    seen = [tuple(o) for o in small.order.tolist()]
    assert set(seen) == set(valid)
    for o in valid:
        assert _freq_ok(torch.tensor([s == o for s in seen]), 1 / 3), o


def test_halving_frequencies_and_modes() -> None:
    params = load_pipeline("bsrgan").sample(KEYS, seed=9).children[0]
    assert _freq_ok(params.halve, 0.25)
    for mode, prob in zip(HALVE_MODES, (1 / 6, 1 / 6, 1 / 6, 1 / 2), strict=True):
        assert _freq_ok(params.halve_mode == HALVE_MODES.index(mode), prob), mode


def test_halving_only_at_scale_4_and_children_see_the_halved_size() -> None:
    pipe = BSRGANShuffle(
        [CV2ResizeTo()], halve_prob=1.0, halve_modes=["area"], halve_mode_probs=[1]
    )
    hr = torch.rand(2, 3, 32, 32)
    params = pipe.sample(torch.arange(2), seed=0)
    for scale, stages in [(4.0, [(16, 16), (8, 8)]), (2.0, [(16, 16)])]:
        trace: list = []
        out = pipe.apply_images(hr, params, Context(hr_size=(32, 32), scale=scale, trace=trace))
        assert [tuple(t.shape[-2:]) for _, t in trace] == stages
        assert tuple(out.shape[-2:]) == stages[-1]


# ---------------------------------------------------------------- the preset


def _hr(b: int = 5, size: int = 64) -> torch.Tensor:
    return torch.rand(b, 3, size, size, generator=torch.Generator().manual_seed(11))


@pytest.mark.parametrize("scale", [4, 2])
def test_preset_batch_invariance(scale: int) -> None:
    """A sample's LR is bitwise the same alone or in a batch of 5 (orders and sizes mixed)."""
    pipe = load_pipeline("bsrgan", scale=scale)
    hr = _hr()
    keys = torch.tensor([3, 17, 40, 41, 99], dtype=torch.int64)
    params = pipe.sample(keys, seed=12)
    lq = pipe.apply(hr, params)
    assert lq.shape == (5, 3, 64 // scale, 64 // scale)
    assert torch.equal(lq, (lq * 255).round() / 255)  # the final JPEG leaves 8-bit levels
    for i in range(5):
        single = pipe.apply(hr[i : i + 1], pipe.sample(keys[i : i + 1], seed=12))
        assert torch.equal(single, lq[i : i + 1]), i
    assert len({tuple(o) for o in params.children[0].order.tolist()}) > 1


def test_preset_records_replay_exactly() -> None:
    pipe = load_pipeline("bsrgan")
    hr = _hr(4)
    params = pipe.sample(torch.tensor([5, 6, 7, 8]), seed=13)
    lq = pipe.apply(hr, params)
    records = json.loads(json.dumps(pipe.records(params)))
    replayed = pipe.apply(hr, pipe.params_from_records(records))
    assert torch.equal(lq, replayed)
    other = pipe.apply(hr, pipe.sample(torch.tensor([5, 6, 7, 8]), seed=14))
    assert not torch.equal(lq, other)


def test_preset_same_seed_same_params() -> None:
    pipe = load_pipeline("bsrgan")
    keys = torch.arange(50)
    a = json.dumps(pipe.records(pipe.sample(keys, seed=1)))
    assert a == json.dumps(pipe.records(pipe.sample(keys, seed=1)))
    assert a != json.dumps(pipe.records(pipe.sample(keys, seed=2)))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"type": "bsrgan_shuffle", "keep_order": [[0, 5]], "ops": [{"type": "bsrgan_blur"}]},
            "keep_order",
        ),
        ({"type": "bsrgan_downsample", "modes": ["lanczos"]}, "unknown mode"),
        ({"type": "bsrgan_noise", "level_range": [2.5, 25]}, "level_range"),
        ({"type": "bsrgan_blur", "sigma": 1}, "unknown option"),
    ],
)
def test_bad_specs_raise_one_line_errors(spec: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as info:
        load_pipeline({"scale": 4, "ops": [spec]})
    assert "\n" not in str(info.value)
