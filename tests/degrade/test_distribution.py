"""Distribution check: our ``realesrgan_x4plus`` preset against Real-ESRGAN's own degradation.

Protocol: 1000 ground-truth crops of 128 x 128 from scikit-image's colour photographs (random
crops, fixed seeds). Ours: ``load_pipeline("realesrgan_x4plus")`` on ``usm_sharp(GT)`` in batches
of 32 with keys 0..999 and seed 0. Reference: ``benchmarks.reference_realesrgan`` (the kernels of
``RealESRGANDataset`` and ``RealESRGANModel.feed_data`` itself, training-pair pool disabled) on
one pair at a time, ``random``/NumPy/torch seeded with the pair's index.

Two statistics per LR image:

- PSNR (dB) of the LR against the MATLAB-bicubic x1/4 of the GT (``degrade.functional.imresize``,
  float), both rounded to 8-bit levels, on RGB with no border crop (``realsr.metrics.psnr`` with
  ``y_channel=False``);
- Immerkaer's noise estimate of the LR luma (BT.601 ``0.299 R + 0.587 G + 0.114 B`` on 0..255):
  ``sigma = sqrt(pi / 2) * sum |Y * M| / (6 (W - 2)(H - 2))`` with
  ``M = [[1, -2, 1], [-2, 4, -2], [1, -2, 1]]`` over the valid region.

Each statistic's two samples must pass a two-sample Kolmogorov-Smirnov test at p >= 0.001. The
check runs for the preset as shipped (libjpeg-exact JPEG) and with every ``jpeg`` op switched to
``compat: basicsr`` (BasicSR's DiffJPEG). Only independent seeds make the samples; nothing is tuned.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor

from degrade.functional.color import rgb_to_gray
from degrade.functional.imresize import imresize
from degrade.functional.sharpen import usm_sharp
from degrade.presets import load_pipeline
from realsr.metrics import psnr
from tests._reference import import_reference

pytestmark = [pytest.mark.slow, pytest.mark.reference]

N_PAIRS = 1000
CROP = 128
SCALE = 4
BATCH = 32
SEED = 0
CROP_SEED = 20240607
P_MIN = 1e-3
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")

_IMMERKAER = torch.tensor(
    [[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]], dtype=torch.float64
)


# --------------------------------------------------------------------------------------------- #
# Data and statistics
# --------------------------------------------------------------------------------------------- #


def _photos() -> list[Tensor]:
    data = pytest.importorskip("skimage.data")
    return [
        torch.from_numpy(np.ascontiguousarray(getattr(data, n)())).permute(2, 0, 1) for n in PHOTOS
    ]


def gt_batches(batch: int) -> Iterator[Tensor]:
    """The 1000 GT crops, in order, ``batch`` at a time: ``(b, 3, 128, 128)`` float32 in [0, 1].

    Crop i comes from photo ``i % 6`` at a position drawn from a fixed-seed generator, so the
    crops do not depend on ``batch``.
    """
    photos = _photos()
    rng = np.random.default_rng(CROP_SEED)
    boxes = []
    for i in range(N_PAIRS):
        photo = i % len(photos)
        h, w = photos[photo].shape[-2:]
        boxes.append(
            (photo, int(rng.integers(0, h - CROP + 1)), int(rng.integers(0, w - CROP + 1)))
        )
    for start in range(0, N_PAIRS, batch):
        crops = [
            photos[p][:, t : t + CROP, s : s + CROP] for p, t, s in boxes[start : start + batch]
        ]
        yield torch.stack(crops).to(torch.float32) / 255.0


def immerkaer_sigma(lr: Tensor) -> Tensor:
    """Immerkaer's noise sigma of each image's BT.601 luma on 0..255: ``(B,)`` float64."""
    y = rgb_to_gray(lr.to(torch.float64)) * 255.0
    h, w = y.shape[-2:]
    response = F.conv2d(y, _IMMERKAER.view(1, 1, 3, 3))
    return math.sqrt(math.pi / 2) * response.abs().flatten(1).sum(1) / (6.0 * (w - 2) * (h - 2))


def statistics(lr: Tensor, gt: Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``(PSNR vs MATLAB bicubic of the GT, Immerkaer sigma)`` of each LR image."""
    bicubic = imresize(gt, scale=1 / SCALE)
    value = psnr(lr, bicubic, y_channel=False, crop_border=0, quantize=True)
    return value.numpy(), immerkaer_sigma(lr).numpy()


def _collect(degrade: Any, batch: int) -> dict[str, np.ndarray]:
    psnrs, sigmas = [], []
    start = 0
    with torch.no_grad():
        for gt in gt_batches(batch):
            lr = degrade(gt, start)
            assert lr.shape == (gt.shape[0], 3, CROP // SCALE, CROP // SCALE)
            p, s = statistics(lr, gt)
            psnrs.append(p)
            sigmas.append(s)
            start += gt.shape[0]
    return {"psnr": np.concatenate(psnrs), "sigma": np.concatenate(sigmas)}


def _with_jpeg_compat(spec: Any, compat: str | None) -> Any:
    """A copy of a spec with every ``jpeg`` op's ``compat`` set."""
    if isinstance(spec, dict):
        out = {k: _with_jpeg_compat(v, compat) for k, v in spec.items()}
        if out.get("type") == "jpeg":
            out["compat"] = compat
        return out
    if isinstance(spec, list):
        return [_with_jpeg_compat(v, compat) for v in spec]
    return spec


# --------------------------------------------------------------------------------------------- #
# The check
# --------------------------------------------------------------------------------------------- #


@pytest.fixture(scope="module", autouse=True)
def _one_thread() -> Iterator[None]:
    """Run the module on one torch thread.

    The reference degrades one 128 x 128 pair at a time; a second thread barely helps there, and
    on shared cores OpenMP's waiting threads made both sides 5-30x slower in our measurements.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def reference_stats() -> dict[str, np.ndarray]:
    """Statistics of Real-ESRGAN's own degradation, one seeded pair at a time."""
    import_reference("realesrgan.models.realesrgan_model")
    from benchmarks.reference_realesrgan import ReferenceRealESRGAN

    ref = ReferenceRealESRGAN()
    return _collect(lambda gt, start: ref(gt, seed=start), batch=1)


@pytest.mark.parametrize("compat", [None, "basicsr"], ids=["exact_jpeg", "basicsr_jpeg"])
def test_matches_realesrgan_distribution(
    compat: str | None, reference_stats: dict[str, np.ndarray]
) -> None:
    stats = pytest.importorskip("scipy.stats")
    base = load_pipeline("realesrgan_x4plus")
    pipe = load_pipeline(_with_jpeg_compat(base.to_spec(), compat))
    jpeg_compat = [op.compat for op in _leaves(pipe.ops) if getattr(op, "type_name", "") == "jpeg"]
    assert jpeg_compat == [compat, compat]  # the edit reached both JPEG stages
    assert pipe.gt_usm

    def ours(gt: Tensor, start: int) -> Tensor:
        keys = torch.arange(start, start + gt.shape[0], dtype=torch.int64)
        return pipe.apply(usm_sharp(gt), pipe.sample(keys, seed=SEED))

    ours_stats = _collect(ours, batch=BATCH)
    lines, failures = [], []
    for name in ("psnr", "sigma"):
        a, b = ours_stats[name], reference_stats[name]
        assert np.isfinite(a).all() and np.isfinite(b).all(), name
        result = stats.ks_2samp(a, b)
        line = (
            f"{name}: D={result.statistic:.4f} p={result.pvalue:.4g} "
            f"ours mean={a.mean():.3f} median={np.median(a):.3f} "
            f"reference mean={b.mean():.3f} median={np.median(b):.3f}"
        )
        lines.append(line)
        if result.pvalue < P_MIN:
            failures.append(line)
    print(f"\n[{compat or 'exact'} JPEG] " + "\n  ".join(lines))
    assert not failures, f"KS p < {P_MIN} ({compat or 'exact'} JPEG): " + "; ".join(failures)


def _leaves(ops: list[Any]) -> Iterator[Any]:
    for op in ops:
        if getattr(op, "is_container", False):
            yield from _leaves(op.ops)
        else:
            yield op


def test_statistics_respond_to_degradation() -> None:
    """The two statistics see what they should: noise raises sigma, blur lowers it; a clean
    bicubic LR scores a high PSNR that noise lowers."""
    gt = next(gt_batches(8))
    clean = (imresize(gt, scale=1 / SCALE).clamp(0, 1) * 255).round() / 255
    generator = torch.Generator().manual_seed(0)
    noisy = (
        (clean + torch.randn(clean.shape, generator=generator) * 10 / 255).clamp(0, 1) * 255
    ).round() / 255
    p_clean, s_clean = statistics(clean, gt)
    p_noisy, s_noisy = statistics(noisy, gt)
    assert (p_clean > 45).all()
    assert (p_noisy < p_clean).all() and (p_noisy < 30).all()
    assert (s_noisy > s_clean).all()
    # on pure Gaussian noise the estimator returns the noise's sigma (on luma) within a few %
    flat = torch.full((4, 3, 64, 64), 0.5)
    sigma = 8.0
    pure = flat + torch.randn(4, 1, 64, 64, generator=generator).expand(4, 3, 64, 64) * sigma / 255
    assert immerkaer_sigma(pure) == pytest.approx([sigma] * 4, rel=0.05)
