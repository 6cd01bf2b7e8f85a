"""`realsr evaluate`: bicubic / checkpoint models, paired and preset LR, bad files, outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch

from degrade.io import read_image, write_image
from realsr.cli import main
from realsr.evaluate import (
    bicubic_downscale,
    bicubic_upscale,
    build_model_sr,
    evaluate,
    folder_label,
    result_tag,
)
from realsr.metrics import modcrop, psnr, ssim
from tests._reference import shared_dir


def _smooth_image(seed: int, h: int, w: int, channels: int = 3) -> torch.Tensor:
    """A smooth random image (upsampled noise), so bicubic SR scores are realistic."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, channels, h // 4 + 1, w // 4 + 1, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear").clamp(0, 1)


@pytest.fixture
def hr_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "Tiny" / "HR"
    write_image(folder / "a.png", _smooth_image(0, 34, 27))  # not a multiple of 2 or 3
    write_image(folder / "b.png", _smooth_image(1, 32, 40))
    write_image(folder / "gray.png", _smooth_image(2, 30, 30, channels=1))
    return folder


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_bicubic_scores_match_direct_computation(
    hr_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    status = main(["evaluate", "-m", "bicubic", "-s", "2", "--data", str(hr_dir), "-o", str(out)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "Tiny" in printed and "PSNR" in printed
    rows = _read_csv(out / "bicubic_x2.csv")
    assert [r["image"] for r in rows] == ["a.png", "b.png", "gray.png"]
    for row in rows:
        hr = modcrop(read_image(hr_dir / row["image"]), 2)
        sr = bicubic_upscale(bicubic_downscale(hr, 2), 2)
        assert sr.shape == hr.shape
        assert float(row["psnr"]) == pytest.approx(psnr(sr, hr, crop_border=2).item(), abs=1e-6)
        assert float(row["ssim"]) == pytest.approx(ssim(sr, hr, crop_border=2).item(), abs=1e-6)
        assert row["error"] == "" and row["niqe"] == ""
    summary = json.loads((out / "bicubic_x2.json").read_text())
    tiny = summary["folders"]["Tiny"]
    assert tiny["images"] == 3 and tiny["failed"] == 0
    assert tiny["psnr"] == pytest.approx(sum(float(r["psnr"]) for r in rows) / 3, abs=1e-5)
    assert summary["settings"]["crop_border"] == 2 and summary["failed"] == []


def test_bicubic_lr_is_matlab_uint8_imresize(hr_dir: Path) -> None:
    hr = modcrop(read_image(hr_dir / "a.png"), 3)
    lr = bicubic_downscale(hr, 3)
    assert lr.shape[-2:] == (hr.shape[-2] // 3, hr.shape[-1] // 3)
    # 8-bit levels exactly, as MATLAB's uint8 imresize produces.
    torch.testing.assert_close(lr * 255, (lr * 255).round(), rtol=0, atol=1e-4)


def test_paired_folders_give_the_same_scores(hr_dir: Path, tmp_path: Path) -> None:
    lq = tmp_path / "Tiny" / "LR_bicubic" / "X2"
    for name in ("a", "b", "gray"):
        hr = modcrop(read_image(hr_dir / f"{name}.png"), 2)
        write_image(lq / f"{name}x2.png", bicubic_downscale(hr, 2))
    sr = build_model_sr("bicubic", scale=2)
    synthetic = evaluate(sr, [hr_dir], scale=2)
    paired = evaluate(sr, [hr_dir], scale=2, lq_dirs=[lq])
    assert paired.failed == 0
    for a, b in zip(synthetic.scores, paired.scores, strict=True):
        assert (a.image, a.psnr, a.ssim) == (b.image, b.psnr, b.ssim)


def test_bad_files_are_reported_and_the_rest_scored(
    hr_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (hr_dir / "broken.png").write_bytes(b"not a png")
    out = tmp_path / "out"
    status = main(["evaluate", "-m", "bicubic", "-s", "2", "--data", str(hr_dir), "-o", str(out)])
    assert status == 1
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "broken.png" in skipped[0]
    rows = _read_csv(out / "bicubic_x2.csv")
    assert len(rows) == 4
    broken = next(r for r in rows if r["image"] == "broken.png")
    assert broken["error"] and broken["psnr"] == ""
    summary = json.loads((out / "bicubic_x2.json").read_text())
    assert summary["folders"]["Tiny"]["images"] == 3
    assert summary["folders"]["Tiny"]["failed"] == 1


def test_missing_lq_and_folder_errors(hr_dir: Path, tmp_path: Path) -> None:
    empty_lq = tmp_path / "lq"
    empty_lq.mkdir()
    messages: list[str] = []
    result = evaluate(
        build_model_sr("bicubic", scale=2),
        [hr_dir, tmp_path / "nowhere"],
        scale=2,
        lq_dirs=[empty_lq, empty_lq],
        log=messages.append,
    )
    assert result.failed == 4
    assert any("no LR file for 'a'" in m for m in messages)
    assert any("nowhere" in m for m in messages)
    with pytest.raises(ValueError, match="one folder per --data"):
        evaluate(build_model_sr("bicubic", scale=2), [hr_dir], scale=2, lq_dirs=[])


def test_checkpoint_models_and_scale_check(
    hr_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from realsr import build_model, save_checkpoint

    torch.manual_seed(0)
    net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1, "upscale": 2})
    ckpt = save_checkpoint(tmp_path / "tiny.pth", net)
    out = tmp_path / "out"
    args = ["evaluate", "-m", str(ckpt), "--data", str(hr_dir), "-o", str(out)]
    assert main([*args, "-s", "2", "--self-ensemble"]) == 0
    rows = _read_csv(out / "tiny_x2.csv")
    assert len(rows) == 3 and all(r["psnr"] and not r["error"] for r in rows)
    assert main([*args, "-s", "3"]) == 2
    assert "upscales x2, not x3" in capsys.readouterr().err
    assert main(["evaluate", "-m", "no_such_model", "-s", "2", "--data", str(hr_dir)]) == 2
    assert "not a file, not 'bicubic'" in capsys.readouterr().err


def test_pre_upsampling_model_gets_bicubic_input(hr_dir: Path, tmp_path: Path) -> None:
    """A pre-upsampling (SRCNN) checkpoint is fed the bicubic-enlarged LR: SR and HR sizes agree."""
    from realsr import build_model, save_checkpoint

    net = build_model(
        "SRCNN", {"num_feat": 2, "num_feat2": 2, "kernel_sizes": (1, 1, 1), "scale": 2}
    )
    assert net.hparams["input_upsampling"] == "bicubic"
    ckpt = save_checkpoint(tmp_path / "srcnn.pth", net)
    result = evaluate(build_model_sr(str(ckpt), scale=2), [hr_dir], scale=2)
    assert result.failed == 0 and all(s.psnr > 0 for s in result.scores)


def test_preset_lr_is_seeded(hr_dir: Path) -> None:
    sr = build_model_sr("bicubic", scale=2)
    one = evaluate(sr, [hr_dir], scale=2, preset="bicubic", seed=3)
    two = evaluate(sr, [hr_dir], scale=2, preset="bicubic", seed=3)
    assert one.failed == 0
    assert [s.psnr for s in one.scores] == [s.psnr for s in two.scores]


def test_niqe_column(tmp_path: Path) -> None:
    folder = tmp_path / "Big"
    write_image(folder / "big.png", _smooth_image(4, 200, 200))
    write_image(folder / "small.png", _smooth_image(5, 40, 40))
    messages: list[str] = []
    result = evaluate(
        build_model_sr("bicubic", scale=2), [folder], scale=2, with_niqe=True, log=messages.append
    )
    big, small = result.scores
    assert big.niqe == big.niqe and small.niqe != small.niqe  # NaN when too small
    assert result.failed == 0 and any("NIQE not computed" in m for m in messages)
    assert result.folders[0].niqe == pytest.approx(big.niqe)


def test_labels_and_tags() -> None:
    assert folder_label(Path("/d/Set5/HR")) == "Set5"
    assert folder_label(Path("/d/urban")) == "urban"
    assert result_tag("/w/RealESRGAN_x4plus.pth", 4, None) == "RealESRGAN_x4plus_x4"
    assert result_tag("bicubic", 3, "realesrgan_x4plus") == "bicubic_x3_realesrgan_x4plus"


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("name", ["Set5", "Set14", "BSD100"])
def test_bicubic_baseline_matches_published_table(name: str, scale: int) -> None:
    from benchmarks.bicubic_baseline import PSNR_TOLERANCE, PUBLISHED, SSIM_TOLERANCE, run_pair

    folder = shared_dir() / "data" / name / "HR"
    mean_psnr, mean_ssim = run_pair(folder, scale)
    published_psnr, published_ssim = PUBLISHED[name][scale]
    assert abs(mean_psnr - published_psnr) <= PSNR_TOLERANCE
    assert abs(mean_ssim - published_ssim) <= SSIM_TOLERANCE


def test_bicubic_on_a_benchmark_set_prints_the_published_values(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "Set5" / "HR"
    write_image(folder / "x.png", _smooth_image(4, 40, 36))
    assert (
        main(
            [
                "evaluate",
                "--model",
                "bicubic",
                "--scale",
                "3",
                "--data",
                str(folder),
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    assert "published bicubic: 30.39 / 0.8682" in capsys.readouterr().out
    assert (
        main(
            [
                "evaluate",
                "--model",
                "bicubic",
                "--scale",
                "3",
                "--data",
                str(tmp_path / "Set5" / "HR"),
                "--preset",
                "bicubic",
                "--out",
                str(tmp_path / "r"),
            ]
        )
        == 0
    )
    assert "published" not in capsys.readouterr().out  # only for MATLAB-bicubic LR
