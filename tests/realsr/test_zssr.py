"""Tests of zero-shot super-resolution (`realsr.zssr`)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from degrade.functional import imresize
from degrade.io import read_image, write_image
from realsr.metrics import psnr
from realsr.zssr import (
    back_projection,
    default_steps,
    dihedral,
    dihedral_inverse,
    lr_plateau,
    register,
    zssr,
    zssr_run,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "images"
TINY = {"width": 8, "depth": 3}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _hr_lr(name: str, top: int, left: int, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """An HR crop of a bundled image and its MATLAB-bicubic x2 LR (8-bit, as the benchmarks)."""
    hr = read_image(EXAMPLES / name)[..., top : top + size, left : left + size]
    return hr, imresize(hr, 0.5, round_each_pass=True)


def test_beats_bicubic_on_bundled_image():
    # The checkerboard of patterns.png: edges recur across scales, so the image-specific
    # network learns them from the LR alone. Few iterations; the paper runs up to 3000.
    hr, lr = _hr_lr("patterns.png", 300, 0)
    bicubic = imresize(lr, 2.0).clamp(0, 1)
    result = zssr_run(lr, 2, iterations=120, min_iterations=256, seed=0)
    out = result.image
    assert out.shape == hr.shape and out.dtype == hr.dtype
    assert out.min() >= 0 and out.max() <= 1
    p_bicubic = psnr(bicubic, hr, crop_border=2).item()
    p_zssr = psnr(out, hr, crop_border=2).item()
    assert p_zssr > p_bicubic + 3.0, (p_zssr, p_bicubic)
    # The network alone (no ensemble, no back-projection) already beats bicubic: the gain is
    # learnt, not only back-projection's.
    net = result.steps[0].net
    assert net is not None
    with torch.no_grad():
        p_net = psnr(net(imresize(lr, 2.0)).clamp(0, 1), hr, crop_border=2).item()
    assert p_net > p_bicubic + 2.0, (p_net, p_bicubic)
    step = result.steps[0]
    assert step.iterations == 120 and not step.converged and step.lr_drops == []
    assert [i for i, _ in step.errors] == [49, 99]


def test_deterministic_with_seed():
    _, lr = _hr_lr("city.png", 36, 40, size=32)
    kwargs = dict(iterations=6, eval_every=3, **TINY, augment=("noise", "jpeg", "blur"))
    a = zssr(lr, 2, seed=3, **kwargs)
    b = zssr(lr, 2, seed=3, **kwargs)
    c = zssr(lr, 2, seed=4, **kwargs)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_early_stop_when_error_flattens():
    _, lr = _hr_lr("city.png", 36, 40, size=32)
    result = zssr_run(
        lr,
        2,
        iterations=2000,
        min_iterations=0,
        check_every=10,
        eval_every=5,
        slope_range=20,
        lr=1e-4,
        **TINY,
        self_ensemble=False,
        back_projection_iters=0,
    )
    step = result.steps[0]
    # 1e-4 -> 1e-5 -> 1e-6 < min_lr 9e-6: two drops end training long before 2000 iterations.
    assert step.converged and len(step.lr_drops) == 2
    assert step.iterations == step.lr_drops[-1] + 1 < 2000
    assert all(b - a >= 10 for a, b in zip(step.lr_drops, step.lr_drops[1:], strict=False))


def test_lr_plateau_rule():
    steps = [0.0, 50.0, 100.0, 150.0, 200.0]
    assert not lr_plateau(steps, [5.0, 4.0, 3.1, 2.0, 1.05], 1.5)  # clearly falling
    assert lr_plateau(steps, [1.0, 1.2, 0.9, 1.1, 1.0], 1.5)  # noise around a level
    assert lr_plateau(steps, [1.0, 1.0, 1.0, 1.0, 1.0], 1.5)  # exactly flat
    assert lr_plateau(steps, [1.0, 1.1, 1.2, 1.3, 1.4], 1.5)  # rising
    # A small fall buried in noise counts as flat; the same fall without noise does not.
    assert lr_plateau(steps, [1.0, 1.3, 0.8, 1.2, 0.9], 1.5)
    assert not lr_plateau(steps, [1.0, 0.99, 0.98, 0.97, 0.96], 1.5)
    assert not lr_plateau(steps[:2], [1.0, 1.0], 1.5)  # too few points to judge


@pytest.mark.parametrize(
    ("scale", "size", "out"), [(2, (17, 16), (34, 32)), (1.5, (20, 17), (30, 26))]
)
def test_output_size_and_channels(scale, size, out):
    for channels in (1, 3):
        lr = torch.rand(1, channels, *size, generator=torch.Generator().manual_seed(0))
        y = zssr(lr, scale, iterations=2, crop=16, **TINY, back_projection_iters=1)
        assert y.shape == (1, channels, *out)


def test_gradual_steps():
    assert default_steps(3) == (3.0,)
    assert default_steps(1.5) == (1.5,)
    s = default_steps(2.5)
    assert len(s) == 2 and s[-1] == 2.5 and abs(s[0] * s[0] - 2.5) < 1e-12
    lr = torch.rand(1, 3, 20, 20, generator=torch.Generator().manual_seed(1))
    result = zssr_run(lr, 2.5, iterations=2, **TINY, self_ensemble=False, back_projection_iters=0)
    assert [r.size for r in result.steps] == [(32, 32), (50, 50)]
    assert abs(result.steps[0].scale * result.steps[1].scale - 2.5) < 1e-9
    result = zssr_run(
        lr, 3, steps=(1.5, 3), iterations=2, **TINY, self_ensemble=False, back_projection_iters=0
    )
    assert [r.size for r in result.steps] == [(30, 30), (60, 60)]
    assert result.image.shape[-2:] == (60, 60)


def test_dihedral_group():
    x = torch.arange(12.0).view(1, 1, 3, 4)
    seen = set()
    for k in range(8):
        y = dihedral(x, k)
        assert torch.equal(dihedral_inverse(y, k), x)
        seen.add(tuple(y.flatten().tolist()))
    assert len(seen) == 8  # eight distinct transforms


def test_back_projection_makes_output_consistent():
    g = torch.Generator().manual_seed(0)
    lr = torch.rand(1, 3, 12, 12, generator=g) * 0.8 + 0.1
    sr = (imresize(lr, 2.0) + 0.05 * torch.randn(1, 3, 24, 24, generator=g)).clamp(0, 1)

    def err(y: torch.Tensor) -> float:
        return (imresize(y, size=(12, 12)) - lr).abs().mean().item()

    assert err(back_projection(sr, lr, iterations=10)) < 0.2 * err(sr)
    assert torch.equal(back_projection(sr, lr, iterations=0), sr)


def test_median_and_mean_ensembles_differ():
    _, lr = _hr_lr("city.png", 36, 40, size=32)
    kwargs = dict(iterations=3, **TINY, back_projection_iters=0, seed=0)
    median = zssr(lr, 2, ensemble="median", **kwargs)
    mean = zssr(lr, 2, ensemble="mean", **kwargs)
    assert median.shape == mean.shape and not torch.equal(median, mean)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"scale": 1.0}, "scale must be > 1"),
        ({"augment": ("noise", "sepia")}, "unknown augment 'sepia'"),
        ({"ensemble": "max"}, "ensemble must be"),
        ({"steps": (2.0, 1.5)}, "steps must increase"),
        ({"iterations": 0}, "iterations must be >= 1"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"scale": 2.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        zssr(torch.rand(1, 3, 20, 20), args.pop("scale"), **args)


def test_bad_images():
    with pytest.raises(ValueError, match="one \\(1, C, H, W\\)"):
        zssr(torch.rand(2, 3, 20, 20), 2)
    with pytest.raises(ValueError, match="too small"):
        zssr(torch.rand(1, 3, 10, 20), 2)


def test_cli(tmp_path):
    src = tmp_path / "lr.png"
    write_image(src, torch.rand(1, 3, 18, 16, generator=torch.Generator().manual_seed(0)))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "sr.png"
    argv = ["zssr", "-i", str(src), "-o", str(out), "--scale", "2", "--iterations", "2"]
    args = parser.parse_args([*argv, "--augment", "noise,blur", "--quiet", "--seed", "1"])
    assert args.run(args) == 0
    assert read_image(out).shape == (1, 3, 36, 32)
    missing = parser.parse_args(["zssr", "-i", str(tmp_path / "nope.png"), "-o", str(out)])
    assert missing.run(missing) == 2
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--augment", "sepia"])
