"""Tests of the noise ops and the per-sample random fields they draw from."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import Tensor

from degrade.functional._random import (
    hashed_bits,
    hashed_normal,
    make_generator,
    per_sample_normal,
    per_sample_poisson,
    read_seeds,
)
from degrade.functional.noise import add_gaussian_noise, add_poisson_noise, poisson_levels
from tests._reference import import_reference, shared_dir
from tests.degrade.functional._harness import PROPERTY_CHECKS, OpSpec

_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _seeds(b: int, g: torch.Generator) -> Tensor:
    return torch.randint(_I64_MIN, _I64_MAX, (b,), generator=g, dtype=torch.int64)


def _gauss_params(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {
        "sigma": torch.rand(b, generator=g, dtype=torch.float64) * 30,
        "gray": torch.arange(b) % 2 == 1,
        "seeds": _seeds(b, g),
    }


def _poisson_params(b: int, g: torch.Generator) -> dict[str, Tensor]:
    return {
        "scale": torch.rand(b, generator=g, dtype=torch.float64) * 3,
        "gray": torch.arange(b) % 2 == 1,
        "seeds": _seeds(b, g),
    }


SPECS = [
    OpSpec(
        "gaussian",
        add_gaussian_noise,
        make_params=_gauss_params,
        static={"clip": False},
        grad_params=("sigma",),
        dtypes=(torch.float32, torch.float64, torch.float16),
    ),
    OpSpec(
        "gaussian_clip_round",
        add_gaussian_noise,
        make_params=_gauss_params,
        static={"clip": True, "round_to_8bit": True},
        differentiable=False,
    ),
    OpSpec(
        "gaussian_hash",
        add_gaussian_noise,
        make_params=_gauss_params,
        static={"clip": False, "rng": "hash"},
        grad_params=("sigma",),
        dtypes=(torch.float32, torch.float64, torch.bfloat16),
    ),
    OpSpec(
        "poisson",
        add_poisson_noise,
        make_params=_poisson_params,
        static={"clip": False},
        grad_params=("scale",),
        dtypes=(torch.float32, torch.float64, torch.float16),
    ),
    OpSpec(
        "poisson_clip_round",
        add_poisson_noise,
        make_params=_poisson_params,
        static={"clip": True, "round_to_8bit": True},
        differentiable=False,
    ),
]


@pytest.mark.parametrize("check", PROPERTY_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_properties(spec: OpSpec, check: Callable[[OpSpec, torch.device], None], device) -> None:
    check(spec, device)


def _image(shape: tuple[int, ...], seed: int = 0, dtype: torch.dtype = torch.float32) -> Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


RNGS = ["torch", "hash"]

# ---------------------------------------------------------------- Gaussian statistics


@pytest.mark.parametrize("rng", RNGS)
@pytest.mark.parametrize("sigma", [1.0, 10.0, 30.0])
def test_gaussian_std_and_mean(rng: str, sigma: float, device: torch.device) -> None:
    x = torch.full((1, 3, 256, 256), 0.5, device=device, dtype=torch.float64)
    noise = add_gaussian_noise(x, sigma, gray=False, seeds=1234, clip=False, rng=rng) - x
    n = noise.numel()
    s = sigma / 255
    assert noise.std().item() == pytest.approx(s, rel=0.015)  # std error of the std: 0.16%
    assert abs(noise.mean().item()) < 5 * s / n**0.5


@pytest.mark.parametrize("rng", RNGS)
def test_gaussian_is_normal(rng: str, device: torch.device) -> None:
    """Empirical CDF of the unit noise against the normal CDF (Kolmogorov-Smirnov bound)."""
    x = torch.zeros(1, 1, 256, 256, device=device, dtype=torch.float64)
    z = (add_gaussian_noise(x, 255.0, gray=False, seeds=99, clip=False, rng=rng) - x).flatten()
    z = z.sort().values.cpu()
    n = z.numel()
    ecdf = torch.arange(1, n + 1, dtype=torch.float64) / n
    ks = (ecdf - torch.special.ndtr(z)).abs().max().item()
    assert ks < 1.63 / n**0.5 * 1.5  # well above the 1% critical value 1.63/sqrt(n)
    assert z.abs().max().item() > 3.5  # tails are present


@pytest.mark.parametrize("rng", RNGS)
def test_gaussian_gray_shared_by_channels(rng: str, device: torch.device) -> None:
    x = _image((4, 3, 16, 16)).to(device)
    gray = torch.tensor([True, False, True, False], device=device)
    noise = add_gaussian_noise(x, 20.0, gray=gray, seeds=torch.arange(4), clip=False, rng=rng) - x
    for i in range(4):
        same = torch.allclose(noise[i, 0], noise[i, 1], atol=1e-6) and torch.allclose(
            noise[i, 0], noise[i, 2], atol=1e-6
        )
        assert same == bool(gray[i]), f"sample {i}"


@pytest.mark.parametrize("rng", RNGS)
def test_gaussian_seeds(rng: str, device: torch.device) -> None:
    x = _image((1, 3, 12, 12)).expand(3, -1, -1, -1).to(device)
    kw = {"gray": False, "clip": False, "rng": rng}
    a = add_gaussian_noise(x, 10.0, seeds=torch.tensor([5, 6, 5]), **kw)
    b = add_gaussian_noise(x, 10.0, seeds=torch.tensor([5, 6, 5]), **kw)
    assert torch.equal(a, b)
    n = a - x
    assert torch.equal(n[0], n[2])  # same seed, same image: same noise
    assert (n[0] - n[1]).abs().min() > 0  # different seeds: nowhere equal


@pytest.mark.parametrize("rng", RNGS)
def test_gaussian_independent_of_batch_mates(rng: str, device: torch.device) -> None:
    x = _image((5, 3, 10, 14)).to(device)
    sigma = torch.tensor([3.0, 7.0, 11.0, 19.0, 30.0], device=device)
    gray = torch.tensor([False, True, False, True, False], device=device)
    seeds = torch.tensor([11, -22, 33, 2**62, -(2**63)], device=device)
    full = add_gaussian_noise(x, sigma, gray=gray, seeds=seeds, rng=rng)
    # sample 3 in another batch: other mates, other position, other batch size
    others = _image((2, 3, 10, 14), seed=5).to(device)
    xb = torch.cat([others[:1], x[3:4], others[1:]])
    out = add_gaussian_noise(
        xb,
        torch.tensor([1.0, 19.0, 2.0], device=device),
        gray=torch.tensor([False, True, True], device=device),
        seeds=torch.tensor([0, 2**62, 7], device=device),
        rng=rng,
    )
    assert torch.equal(out[1], full[3])


@pytest.mark.parametrize("rng", RNGS)
def test_gaussian_sigma_zero_is_identity(
    rng: str, dtype: torch.dtype, device: torch.device
) -> None:
    x = _image((2, 3, 9, 9), dtype=dtype).to(device)
    y = add_gaussian_noise(x, 0.0, gray=torch.tensor([True, False]), seeds=3, rng=rng)
    assert torch.equal(y, x)


def test_clip_and_round_to_8bit(device: torch.device) -> None:
    x = _image((2, 3, 16, 16)).to(device)
    for fn, kw in [(add_gaussian_noise, {"sigma": 50.0}), (add_poisson_noise, {"scale": 3.0})]:
        y = fn(x, **kw, gray=False, seeds=4, clip=True, round_to_8bit=True)
        assert y.min() >= 0 and y.max() <= 1
        levels = y * 255
        assert torch.allclose(levels, levels.round(), atol=1e-4)
        unclipped = fn(x, **kw, gray=False, seeds=4, clip=False)
        assert unclipped.min() < 0 or unclipped.max() > 1  # the noise is strong enough to clip
        torch.testing.assert_close(
            y, (unclipped.clamp(0, 1) * 255).round() / 255, atol=1e-6, rtol=0
        )
        rounded = fn(x, **kw, gray=False, seeds=4, clip=False, round_to_8bit=True)
        torch.testing.assert_close(rounded, (unclipped * 255).round() / 255, atol=1e-6, rtol=0)


# ---------------------------------------------------------------- Gaussian vs basicsr


def _basicsr_degradations():
    return import_reference("basicsr.data.degradations")


@pytest.mark.reference
@pytest.mark.parametrize(("clip", "rounds"), [(True, False), (True, True), (False, False)])
@pytest.mark.parametrize("gray", [[0, 0, 0, 0], [0, 1, 0, 1], [1, 1, 1, 1]])
def test_gaussian_compat_basicsr_bitwise(clip: bool, rounds: bool, gray: list[int]) -> None:
    deg = _basicsr_degradations()
    x = _image((4, 3, 12, 10), seed=1)
    sigma = torch.tensor([1.0, 5.0, 17.0, 30.0])
    gray_t = torch.tensor(gray, dtype=torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(2024)
        ref = deg.add_gaussian_noise_pt(x, sigma, gray_t, clip, rounds)
    ours = add_gaussian_noise(
        x, sigma, gray=gray_t, seeds=2024, clip=clip, round_to_8bit=rounds, compat="basicsr"
    )
    assert torch.equal(ours, ref)


def test_gaussian_compat_shares_gray_field_across_batch() -> None:
    """The reproduced quirk: with compat='basicsr' gray samples share one field (up to sigma)."""
    x = torch.full((3, 3, 8, 8), 0.5, dtype=torch.float64)
    sigma = torch.tensor([4.0, 9.0, 6.0], dtype=torch.float64)
    gray = torch.tensor([True, False, True])
    noise = add_gaussian_noise(x, sigma, gray=gray, seeds=1, clip=False, compat="basicsr") - x
    torch.testing.assert_close(noise[0] / 4.0, noise[2] / 6.0)
    independent = add_gaussian_noise(x, sigma, gray=gray, seeds=torch.tensor([1, 2, 3]), clip=False)
    assert not torch.allclose((independent - x)[0] / 4.0, (independent - x)[2] / 6.0)


@pytest.mark.reference
@pytest.mark.parametrize("gray", [0.0, 1.0])
def test_gaussian_single_sample_equals_basicsr(gray: float) -> None:
    """For one sample the per-sample draw is basicsr's draw after torch.manual_seed(seed)."""
    deg = _basicsr_degradations()
    x = _image((1, 3, 13, 11), seed=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(77)
        ref = deg.add_gaussian_noise_pt(x, torch.tensor([12.0]), torch.tensor([gray]))
    ours = add_gaussian_noise(x, torch.tensor([12.0]), gray=torch.tensor([gray]), seeds=77)
    assert torch.equal(ours, ref)


# ---------------------------------------------------------------- Poisson


def _unique_levels(img: Tensor) -> int:
    """basicsr's count: distinct values of the clamped, rounded image (all channels together)."""
    return len(torch.unique(torch.clamp((img * 255.0).round(), 0, 255) / 255.0))


def _level_images() -> Tensor:
    g = torch.Generator().manual_seed(3)
    imgs = [
        torch.rand(3, 16, 16, generator=g),  # ~256 levels
        torch.full((3, 16, 16), 0.25),  # one level
        (torch.rand(3, 16, 16, generator=g) > 0.5).float(),  # two levels
        torch.randint(0, 3, (3, 16, 16), generator=g) / 7.0,  # three levels
        torch.randint(0, 129, (3, 16, 16), generator=g) / 255.0,  # up to 129 levels
        torch.rand(3, 16, 16, generator=g) * 1.6 - 0.3,  # out of range: clamped
        torch.rand(3, 16, 16, generator=g) * 0.01 + 0.5,  # a narrow band
    ]
    return torch.stack(imgs)


def test_poisson_levels_counts_distinct_8bit_values(device: torch.device) -> None:
    imgs = _level_images()
    expected = [_unique_levels(imgs[i]) for i in range(imgs.shape[0])]
    assert len(set(expected)) > 4
    assert poisson_levels(imgs.to(device)).tolist() == expected
    gray = imgs[:, :1]
    assert poisson_levels(gray.to(device)).tolist() == [_unique_levels(g) for g in gray]


@pytest.mark.reference
def test_poisson_vals_equal_basicsr(monkeypatch: pytest.MonkeyPatch) -> None:
    """basicsr's own per-image count, read back through a deterministic stand-in for torch.poisson:
    with poisson(rate) = 1 its noise is 1/vals - img, so vals = 1 / (noise + img)."""
    deg = _basicsr_degradations()
    imgs = _level_images().double()
    for gray in (0.0, 1.0):
        monkeypatch.setattr(torch, "poisson", lambda rate, generator=None: torch.ones_like(rate))
        noise = deg.generate_poisson_noise_pt(imgs, 1.0, torch.full((imgs.shape[0],), gray))
        monkeypatch.undo()
        tvf = pytest.importorskip("torchvision.transforms.functional")
        img = tvf.rgb_to_grayscale(imgs, 1) if gray else imgs
        img = torch.clamp((img * 255.0).round(), 0, 255) / 255.0
        vals_ref = (1.0 / (noise[:, :1] + img[:, :1])).flatten(1)[:, 0].round()
        levels = poisson_levels(img)
        vals_ours = torch.tensor([2.0 ** (int(n) - 1).bit_length() for n in levels.tolist()])
        torch.testing.assert_close(vals_ours.double(), vals_ref, atol=0, rtol=0)


@pytest.mark.reference
@pytest.mark.shared
def test_poisson_levels_on_set5() -> None:
    cv2 = pytest.importorskip("cv2")
    tvf = pytest.importorskip("torchvision.transforms.functional")
    for name in ("bird", "butterfly", "head"):
        bgr = cv2.imread(
            str(shared_dir() / "data" / "Set5" / "HR" / f"{name}.png"), cv2.IMREAD_COLOR
        )
        assert bgr is not None
        x = torch.from_numpy(bgr[:, :, ::-1].copy()).permute(2, 0, 1)[None].float() / 255.0
        assert poisson_levels(x).item() == _unique_levels(x[0])
        g = tvf.rgb_to_grayscale(x, 1)
        assert poisson_levels(g).item() == _unique_levels(g[0])


@pytest.mark.reference
@pytest.mark.parametrize("gray", [0.0, 1.0])
@pytest.mark.parametrize(("clip", "rounds"), [(True, False), (False, True)])
def test_poisson_single_sample_equals_basicsr(gray: float, clip: bool, rounds: bool) -> None:
    """For one sample the per-sample draw is basicsr's draw after torch.manual_seed(seed)."""
    deg = _basicsr_degradations()
    for seed, x in enumerate(_level_images()):
        x = x[None]
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            ref = deg.add_poisson_noise_pt(
                x, torch.tensor([1.7]), clip, rounds, torch.tensor([gray])
            )
        ours = add_poisson_noise(
            x, 1.7, gray=torch.tensor([gray]), seeds=seed, clip=clip, round_to_8bit=rounds
        )
        assert torch.equal(ours, ref), f"image {seed}"


@pytest.mark.parametrize("gray", [False, True])
def test_poisson_variance_known_levels(gray: bool, device: torch.device) -> None:
    """On an image with 20 distinct levels (vals = 32), Var(noise) = img / vals * scale**2 where
    img is the 8-bit value of the pixel (of its gray value for gray noise)."""
    level = 128
    others = torch.tensor([10 * k for k in range(1, 20)], dtype=torch.float64)  # 19 more levels
    x = torch.full((1, 3, 256, 256), level / 255.0, dtype=torch.float64)
    x[0, :, 0, :19] = (others / 255.0).view(1, 19).expand(3, 19)
    if not gray:  # colour: make one channel of a region differ (the level count stays 20)
        x[0, 1, 1, :19] = others / 255.0
    assert poisson_levels(x).item() == 20
    scale = 2.0
    noise = (
        add_poisson_noise(x.to(device), scale, gray=gray, seeds=8, clip=False) - x.to(device)
    ).cpu()
    flat = noise[0, :, 8:, :]  # only pixels at the main level
    vals = 32
    expected_var = level / 255.0 / vals * scale**2
    assert flat.var().item() == pytest.approx(expected_var, rel=0.05)
    assert abs(flat.mean().item()) < 5 * (expected_var / flat.numel()) ** 0.5
    if gray:
        assert torch.equal(noise[0, 0], noise[0, 1]) and torch.equal(noise[0, 0], noise[0, 2])
    else:
        assert not torch.equal(noise[0, 0], noise[0, 1])


def test_poisson_scale_zero_is_identity(dtype: torch.dtype, device: torch.device) -> None:
    x = _image((3, 3, 9, 9), dtype=dtype).to(device)
    y = add_poisson_noise(x, 0.0, gray=torch.tensor([True, False, True]), seeds=torch.arange(3))
    assert torch.equal(y, x)


def test_poisson_seeds_and_independence(device: torch.device) -> None:
    x = _image((4, 3, 12, 12)).to(device)
    gray = torch.tensor([False, True, False, True], device=device)
    seeds = torch.tensor([1, 2, 1, 3], device=device)
    a = add_poisson_noise(x, 1.0, gray=gray, seeds=seeds, clip=False)
    assert torch.equal(a, add_poisson_noise(x, 1.0, gray=gray, seeds=seeds, clip=False))
    b = add_poisson_noise(x, 1.0, gray=gray, seeds=seeds + 100, clip=False)
    assert not torch.equal(a, b)
    # sample 2 alone, and in a batch whose mates are all gray
    alone = add_poisson_noise(x[2:3], 1.0, gray=False, seeds=1, clip=False)
    assert torch.equal(alone, a[2:3])
    mates = add_poisson_noise(
        torch.cat([x[2:3], x[1:2] * 0.5]),
        torch.tensor([1.0, 3.0]),
        gray=torch.tensor([False, True]),
        seeds=torch.tensor([1, 9]),
        clip=False,
    )
    assert torch.equal(mates[:1], a[2:3])


def test_poisson_gray_single_channel_is_colour(device: torch.device) -> None:
    x = _image((2, 1, 10, 10)).to(device)
    a = add_poisson_noise(x, 1.0, gray=True, seeds=torch.tensor([4, 5]))
    b = add_poisson_noise(x, 1.0, gray=False, seeds=torch.tensor([4, 5]))
    assert torch.equal(a, b)


# ---------------------------------------------------------------- random fields


def test_read_seeds() -> None:
    assert read_seeds(torch.tensor([3, -4])) == [3, -4]
    assert read_seeds(torch.tensor([9]), batch=3) == [9, 9, 9]
    assert read_seeds([1, 2], batch=2) == [1, 2]
    with pytest.raises(ValueError, match="entries"):
        read_seeds([1, 2], batch=3)
    with pytest.raises(TypeError, match="integer"):
        read_seeds(torch.tensor([1.0]))


def test_per_sample_normal_is_per_sample_generator(device: torch.device) -> None:
    seeds = [5, -(2**63), 2**63 - 1]
    z = per_sample_normal(torch.tensor(seeds), (2, 7, 5), dtype=torch.float64, device=device)
    for i, s in enumerate(seeds):
        ref = torch.randn(
            (2, 7, 5), generator=make_generator(s, device), dtype=torch.float64, device=device
        )
        assert torch.equal(z[i], ref)
    assert per_sample_normal([], (2, 3), device=device).shape == (0, 2, 3)
    half = per_sample_normal([5], (4, 4), dtype=torch.float16, device=device)
    assert half.dtype == torch.float16
    assert torch.equal(half, per_sample_normal([5], (4, 4), device=device).half())


def test_per_sample_poisson_is_per_sample_generator(device: torch.device) -> None:
    rates = torch.rand(3, 4, 6, generator=torch.Generator().manual_seed(0)).to(device) * 20
    n = per_sample_poisson(torch.tensor([7, 8, 7]), rates)
    for i, s in enumerate([7, 8, 7]):
        assert torch.equal(n[i], torch.poisson(rates[i], generator=make_generator(s, device)))
    assert torch.equal(n, n.round()) and (n >= 0).all()


def _splitmix64_stream(seed: int, count: int) -> list[int]:
    """Reference SplitMix64 (Steele, Lea & Flood 2014) in Python ints, started at mix(seed)."""
    mask = (1 << 64) - 1

    def mix(z: int) -> int:
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        return z ^ (z >> 31)

    state = mix(seed & mask)
    out = []
    for _ in range(count):
        state = (state + 0x9E3779B97F4A7C15) & mask
        out.append(mix(state))
    return [v - (1 << 64) if v >= 1 << 63 else v for v in out]


def test_hashed_bits_are_splitmix64(device: torch.device) -> None:
    seeds = [0, 1, -1, 2**63 - 1, -(2**63), 123456789]
    words = hashed_bits(torch.tensor(seeds, device=device), 5).cpu().tolist()
    assert words == [_splitmix64_stream(s, 5) for s in seeds]


def test_hashed_normal_per_sample(device: torch.device) -> None:
    seeds = torch.tensor([3, 4, 3], device=device)
    z = hashed_normal(seeds, (3, 8, 8))
    assert z.device == seeds.device and z.shape == (3, 3, 8, 8)
    assert torch.equal(z[0], z[2]) and not torch.equal(z[0], z[1])
    assert torch.equal(z[1:2], hashed_normal(seeds[1:2], (3, 8, 8)))
    z64 = hashed_normal(seeds, (3, 8, 8), dtype=torch.float64)
    assert torch.equal(z64.float(), z)
    if device.type != "cpu":  # the same field on every device (up to float64 libm ulps)
        torch.testing.assert_close(
            z.cpu(), hashed_normal(seeds.cpu(), (3, 8, 8)), atol=0, rtol=1e-6
        )


# ---------------------------------------------------------------- errors


def test_errors() -> None:
    x = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match="compat"):
        add_gaussian_noise(x, 1.0, gray=False, seeds=0, compat="numpy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rng"):
        add_gaussian_noise(x, 1.0, gray=False, seeds=0, rng="mt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="compat"):
        add_gaussian_noise(x, 1.0, gray=False, seeds=0, rng="hash", compat="basicsr")
    with pytest.raises(TypeError, match="floating"):
        add_poisson_noise(x.to(torch.uint8), 1.0, gray=False, seeds=0)
    with pytest.raises(ValueError, match="seeds"):
        add_gaussian_noise(x, 1.0, gray=False, seeds=torch.tensor([1, 2]))
