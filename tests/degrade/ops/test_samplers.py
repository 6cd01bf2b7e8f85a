"""Samplers: bounds respected, same seed gives the same params, categorical frequencies right."""

from __future__ import annotations

import math

import pytest
import torch

from degrade.ops import (
    KERNEL_FAMILIES,
    MODES,
    NOISE_KINDS,
    RandomBlur,
    RandomJPEG,
    RandomNoise,
    RandomResize,
)

N = 20000
KEYS = torch.arange(N, dtype=torch.int64)


def _freq_ok(observed: torch.Tensor, expected: float, n: int = N) -> bool:
    """Within 4.5 standard errors of a binomial proportion."""
    tol = 4.5 * math.sqrt(max(expected * (1 - expected), 1e-12) / n) + 1e-9
    return abs(observed.double().mean().item() - expected) <= tol


def test_blur_sampler_bounds_and_frequencies():
    op = RandomBlur(sinc_prob=0.1, sigma=(0.2, 3.0), betag_range=(0.5, 4.0), betap_range=(1.0, 2.0))
    p = op.sample(KEYS, seed=1)
    fam = [KERNEL_FAMILIES[i] for i in p.family.tolist()]
    fam_t = torch.tensor([KERNEL_FAMILIES.index(f) for f in fam])
    assert _freq_ok(fam_t == KERNEL_FAMILIES.index("sinc"), 0.1)
    for name, prob in zip(op.kernel_list, op.kernel_prob, strict=True):
        assert _freq_ok(fam_t == KERNEL_FAMILIES.index(name), 0.9 * prob), name
    sizes = p.kernel_size
    assert set(sizes.tolist()) == {7, 9, 11, 13, 15, 17, 19, 21}
    for k in range(7, 22, 2):
        assert _freq_ok(sizes == k, 1 / 8)
    assert (p.sigma_x >= 0.2).all() and (p.sigma_x <= 3.0).all()
    assert (p.sigma_y >= 0.2).all() and (p.sigma_y <= 3.0).all()
    iso = torch.isin(
        fam_t,
        torch.tensor([KERNEL_FAMILIES.index(f) for f in ("iso", "generalized_iso", "plateau_iso")]),
    )
    assert torch.equal(p.sigma_x[iso], p.sigma_y[iso]) and (p.theta[iso] == 0).all()
    aniso = fam_t == KERNEL_FAMILIES.index("aniso")
    assert (p.theta[aniso].abs() <= math.pi).all() and p.theta[aniso].std() > 1.5
    gen = torch.isin(fam_t, torch.tensor([2, 3]))
    plat = torch.isin(fam_t, torch.tensor([4, 5]))
    assert (p.beta[gen] >= 0.5).all() and (p.beta[gen] <= 4.0).all()
    assert (p.beta[plat] >= 1.0).all() and (p.beta[plat] <= 2.0).all()
    assert _freq_ok(p.beta[gen] < 1, 0.5, int(gen.sum()))  # U(min, 1) or U(1, max) with prob 1/2
    sinc = fam_t == KERNEL_FAMILIES.index("sinc")
    small, large = sinc & (sizes < 13), sinc & (sizes >= 13)
    assert (p.cutoff[small] >= math.pi / 3).all() and (p.cutoff[small] <= math.pi).all()
    assert (p.cutoff[large] >= math.pi / 5).all() and p.cutoff[large].min() < math.pi / 3


def test_blur_probability_and_final_sinc():
    op = RandomBlur(
        kernel_list=[], kernel_prob=[], sinc_prob=0.8, sinc_cutoff=(math.pi / 3, math.pi), p=0.5
    )
    fam = op.sample(KEYS, seed=2).family
    assert _freq_ok(fam == KERNEL_FAMILIES.index("none"), 0.5 + 0.5 * 0.2)
    assert _freq_ok(fam == KERNEL_FAMILIES.index("sinc"), 0.5 * 0.8)


def test_resize_sampler():
    op = RandomResize(
        resize_prob=(0.2, 0.7, 0.1), resize_range=(0.15, 1.5), modes=("area", "bilinear", "bicubic")
    )
    p = op.sample(KEYS, seed=3)
    for i, prob in enumerate((0.2, 0.7, 0.1)):
        assert _freq_ok(p.direction == i, prob)
    up, down, keep = (p.direction == 0), (p.direction == 1), (p.direction == 2)
    assert (p.scale[up] >= 1).all() and (p.scale[up] <= 1.5).all()
    assert (p.scale[down] >= 0.15).all() and (p.scale[down] <= 1).all()
    assert (p.scale[keep] == 1).all()
    for mode in ("area", "bilinear", "bicubic"):
        assert _freq_ok(p.mode == MODES.index(mode), 1 / 3)


def test_noise_and_jpeg_samplers():
    p = RandomNoise(
        gaussian_noise_prob=0.5,
        noise_range=(1, 30),
        poisson_scale_range=(0.05, 3),
        gray_noise_prob=0.4,
    ).sample(KEYS, seed=4)
    assert _freq_ok(p.kind == NOISE_KINDS.index("gaussian"), 0.5)
    assert _freq_ok(p.gray, 0.4)
    assert (p.sigma >= 1).all() and (p.sigma <= 30).all()
    assert (p.poisson_scale >= 0.05).all() and (p.poisson_scale <= 3).all()
    assert p.seed.unique().numel() == N
    q = RandomJPEG(jpeg_range=(30, 95)).sample(KEYS, seed=5).quality
    assert (q >= 30).all() and (q <= 95).all() and abs(q.mean().item() - 62.5) < 0.5


@pytest.mark.parametrize(
    "op", [RandomBlur(), RandomResize(), RandomNoise(), RandomJPEG()], ids=lambda o: o.type_name
)
def test_same_seed_same_params_and_key_independence(op):
    a = op.sample(KEYS[:64], seed=7)
    b = op.sample(KEYS[:64], seed=7)
    c = op.sample(KEYS[:64], seed=8)
    assert a.records() == b.records()
    assert a.records() != c.records()
    # A sample's parameters depend on its key only, not on its batch or position.
    sub = op.sample(KEYS[[40, 3, 17]], seed=7)
    assert sub.records() == a.take([40, 3, 17]).records()


def test_keys_as_batch_size_with_generator():
    op = RandomNoise()
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    assert op.sample(5, generator=g1).records() == op.sample(5, generator=g2).records()


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            lambda: RandomBlur(kernel_list=["iso", "gausian"], kernel_prob=[0.5, 0.5]),
            "unknown kernel type",
        ),
        (lambda: RandomBlur(kernel_prob=[1.0]), "kernel_prob has 1"),
        (lambda: RandomBlur(kernel_sizes=[8]), "odd"),
        (lambda: RandomBlur(sigma=(3.0, 0.2)), "sigma must be a"),
        (lambda: RandomResize(resize_prob=(0.5, 0.5)), "resize_prob"),
        (lambda: RandomResize(resize_range=(1.5, 2.0)), "resize_range"),
        (lambda: RandomResize(modes=("bicubic", "lanczos")), "unknown resize mode"),
        (lambda: RandomNoise(gray_noise_prob=1.5), "gray_noise_prob"),
        (lambda: RandomJPEG(jpeg_range=(0, 95)), "jpeg_range"),
    ],
)
def test_bad_options_raise_one_line_errors(factory, message):
    with pytest.raises(ValueError, match=message) as info:
        factory()
    assert "\n" not in str(info.value)
