"""The image sets: HR patches, pairs, LQ-only sets; determinism and errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from degrade.dataset_io import pad_to
from degrade.seeding import derive_seed
from realsr.data import ImageDataError, build_dataset
from tests.realsr.data._helpers import as_float, dataset_options, random_rgb, write_rgb

SCALE = 4


@pytest.fixture
def hr_folder(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    images = {
        "a.png": random_rgb(rng, 40, 52),
        "sub/b.png": random_rgb(rng, 20, 26),  # smaller than the patch: padded
        "c16.png": random_rgb(rng, 36, 36, np.uint16),
    }
    for name, rgb in images.items():
        write_rgb(tmp_path / "hr" / name, rgb)
    return tmp_path / "hr", images


def _variants(rgb: np.ndarray, *, rot: bool) -> list[np.ndarray]:
    """The flips (and rotations) an item may apply."""
    out = []
    for h in (False, True):
        for v in (False, True) if rot else (False,):
            for t in (False, True) if rot else (False,):
                x = rgb[:, ::-1] if h else rgb
                x = x[::-1] if v else x
                out.append(np.ascontiguousarray(x.transpose(1, 0, 2) if t else x))
    return out


def _find(patch: np.ndarray, image: np.ndarray) -> bool:
    """Whether ``patch`` (C, s, s) is a window of ``image`` (C, H, W)."""
    s = patch.shape[-1]
    t = torch.from_numpy(image).unfold(1, s, 1).unfold(2, s, 1)
    return bool((t == torch.from_numpy(patch)[:, None, None]).all(-1).all(-1).all(0).any())


def test_hr_train_items_are_augmented_padded_crops(hr_folder: tuple[Path, dict]) -> None:
    root, images = hr_folder
    opt = dataset_options("RealESRGANDataset", dataroot_gt=root, crop_pad_size=32, gt_size=16)
    ds = build_dataset(opt, seed=3)
    assert len(ds) == 3
    names = sorted(images)  # a.png, c16.png, sub/b.png
    seen_flip = set()
    for epoch in range(6):
        for index, name in enumerate(names):
            item = ds[(epoch, index)]
            gt = item["gt"].numpy()
            assert gt.shape == (3, 32, 32) and gt.dtype == np.float32
            assert item["gt_path"] == str(root / name)
            assert int(item["key"]) == derive_seed(3, "degrade", epoch, index) & (2**63 - 1)
            assert item["key"].dtype == torch.int64 and item["key"].ndim == 0
            variants = _variants(images[name], rot=False)
            if name == "sub/b.png":  # 20x26 -> reflect-101 padded to 32x32: the whole patch
                padded = [as_float(pad_to(v, 32)[0]) for v in variants]
                matches = [i for i, p in enumerate(padded) if np.array_equal(gt, p)]
            else:
                matches = [i for i, v in enumerate(variants) if _find(gt, as_float(v))]
            assert matches, (epoch, name)
            seen_flip.add(matches[0])
    assert seen_flip == {0, 1}  # flipped and unflipped items both occur


def test_items_are_pure_functions_of_seed_epoch_index(hr_folder: tuple[Path, dict]) -> None:
    root, _ = hr_folder
    opt = dataset_options(
        "RealESRGANDataset", dataroot_gt=root, crop_pad_size=24, gt_size=16, use_rot=True
    )
    order = [(e, i) for e in range(3) for i in range(3)]
    first = build_dataset(opt, seed=1)
    items = {k: first[k]["gt"] for k in order}
    second = build_dataset(opt, seed=1)
    for k in reversed(order):
        assert torch.equal(second[k]["gt"], items[k])
    assert torch.equal(first[0]["gt"], first[(0, 0)]["gt"])
    assert any(not torch.equal(items[(0, i)], items[(1, i)]) for i in range(3))
    other = build_dataset(opt, seed=2)
    assert any(not torch.equal(other[k]["gt"], items[k]) for k in order)


def test_hr_train_without_crop_pad_size_pads_to_gt_size_plus_margin(
    hr_folder: tuple[Path, dict],
) -> None:
    root, _ = hr_folder
    opt = dataset_options("RealESRGANDataset", dataroot_gt=root, crop_pad_size=None, gt_size=16)
    if opt.crop_pad_size is not None:  # the options loader fills in Real-ESRGAN's 400
        pytest.skip("crop_pad_size is always set by the options loader")
    assert build_dataset(opt, seed=0)[0]["gt"].shape == (3, 32, 32)


def test_hr_val_is_whole_modcropped_image(hr_folder: tuple[Path, dict]) -> None:
    root, images = hr_folder
    ds = build_dataset(dataset_options("RealESRGANDataset", phase="val", dataroot_gt=root), seed=0)
    item = ds[2]  # sub/b.png, 20x26
    np.testing.assert_array_equal(item["gt"].numpy(), as_float(images["sub/b.png"][:20, :24]))
    c16 = ds[1]["gt"].numpy()
    np.testing.assert_array_equal(c16, as_float(images["c16.png"]))
    assert "lq" not in item and int(item["key"]) == derive_seed(0, "degrade", 0, 2) & (2**63 - 1)


def test_hr_meta_info_lists_images(hr_folder: tuple[Path, dict]) -> None:
    root, _ = hr_folder
    meta = root.parent / "meta.txt"
    meta.write_text("sub/b.png (20,26,3)\na.png (40,52,3)\n")
    ds = build_dataset(
        dataset_options("RealESRGANDataset", phase="val", dataroot_gt=root, meta_info=meta), seed=0
    )
    assert len(ds) == 2 and ds[0]["gt_path"] == str(root / "sub/b.png")
    wrong = dataset_options("RealESRGANDataset", phase="val", dataroot_gt=root, meta_info_file=meta)
    with pytest.raises(ValueError, match="meta_info_file"):
        build_dataset(wrong, seed=0)


def _paired_folder(
    tmp_path: Path, template: str = "{}"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """GT = nearest 4x upscale of a random LQ, so any aligned crop/flip keeps gt = up(lq)."""
    rng = np.random.default_rng(1)
    pairs = {}
    for stem, (h, w) in {"p1": (8, 10), "p2": (6, 6)}.items():
        lq = random_rgb(rng, h, w)
        gt = np.repeat(np.repeat(lq, SCALE, 0), SCALE, 1)
        write_rgb(tmp_path / "gt" / f"{stem}.png", gt)
        write_rgb(tmp_path / "lq" / f"{template.format(stem)}.png", lq)
        pairs[stem] = (gt, lq)
    return pairs


@pytest.mark.parametrize("template", ["{}", "{}x4"])
def test_paired_train_crops_stay_aligned(tmp_path: Path, template: str) -> None:
    _paired_folder(tmp_path, template)
    opt = dataset_options(
        "PairedImageDataset",
        dataroot_gt=tmp_path / "gt",
        dataroot_lq=tmp_path / "lq",
        filename_tmpl=template,
        gt_size=16,
        use_rot=True,
    )
    ds = build_dataset(opt, seed=0)
    assert len(ds) == 2
    crops = set()
    for epoch in range(8):
        for index in range(2):
            item = ds[(epoch, index)]
            gt, lq = item["gt"], item["lq"]
            assert gt.shape == (3, 16, 16) and lq.shape == (3, 4, 4)
            up = lq.repeat_interleave(SCALE, 1).repeat_interleave(SCALE, 2)
            assert torch.equal(gt, up)
            assert item["lq_path"] == str(
                tmp_path / "lq" / f"{template.format(f'p{index + 1}')}.png"
            )
            crops.add(lq.numpy().tobytes())
    assert len(crops) > 8


def test_paired_val_crops_gt_to_lq_times_scale(tmp_path: Path) -> None:
    pairs = _paired_folder(tmp_path)
    gt, lq = pairs["p1"]
    write_rgb(tmp_path / "gt" / "p1.png", np.pad(gt, ((0, 3), (0, 2), (0, 0))))  # GTmod-like excess
    opt = dataset_options(
        "PairedImageDataset", phase="val", dataroot_gt=tmp_path / "gt", dataroot_lq=tmp_path / "lq"
    )
    item = build_dataset(opt, seed=0)[0]
    np.testing.assert_array_equal(item["gt"].numpy(), as_float(gt))
    np.testing.assert_array_equal(item["lq"].numpy(), as_float(lq))


def test_paired_errors_name_the_files(tmp_path: Path) -> None:
    _paired_folder(tmp_path)
    write_rgb(tmp_path / "gt" / "p2.png", random_rgb(np.random.default_rng(0), 25, 24))
    opt = dataset_options(
        "PairedImageDataset", dataroot_gt=tmp_path / "gt", dataroot_lq=tmp_path / "lq", gt_size=16
    )
    ds = build_dataset(opt, seed=0)
    with pytest.raises(ImageDataError, match=r"p2\.png.*not 4 times.*lq/p2\.png"):
        ds[1]
    big = dataset_options(
        "PairedImageDataset", dataroot_gt=tmp_path / "gt", dataroot_lq=tmp_path / "lq", gt_size=48
    )
    with pytest.raises(
        ImageDataError, match=r"lq/p1\.png.*smaller than the 12x12 LQ crop.*gt/p1\.png"
    ):
        build_dataset(big, seed=0)[0]
    (tmp_path / "lq" / "p2.png").unlink()
    with pytest.raises(ImageDataError, match=r"gt/p2\.png: no LQ .*lq/p2\.png"):
        build_dataset(opt, seed=0)


def test_paired_meta_info_file_and_realesrgan_meta(tmp_path: Path) -> None:
    pairs = _paired_folder(tmp_path)
    (tmp_path / "meta_basicsr.txt").write_text("p2.png (24,24,3)\n")
    (tmp_path / "meta_realesrgan.txt").write_text("gt/p2.png, lq/p2.png\ngt/p1.png, lq/p1.png\n")
    basicsr = build_dataset(
        dataset_options(
            "PairedImageDataset",
            phase="val",
            dataroot_gt=tmp_path / "gt",
            dataroot_lq=tmp_path / "lq",
            meta_info_file=tmp_path / "meta_basicsr.txt",
        ),
        seed=0,
    )
    assert len(basicsr) == 1
    np.testing.assert_array_equal(basicsr[0]["lq"].numpy(), as_float(pairs["p2"][1]))
    realesrgan_options = dataset_options(
        "RealESRGANPairedDataset",
        phase="val",
        dataroot_gt=tmp_path,
        dataroot_lq=tmp_path,
        meta_info=tmp_path / "meta_realesrgan.txt",
    )
    realesrgan = build_dataset(realesrgan_options, seed=0)
    assert [realesrgan[i]["gt_path"] for i in range(2)] == [
        str(tmp_path / "gt/p2.png"),
        str(tmp_path / "gt/p1.png"),
    ]
    (tmp_path / "meta_realesrgan.txt").write_text("gt/p2.png lq/p2.png\n")
    with pytest.raises(ImageDataError, match="line 1"):
        build_dataset(realesrgan_options, seed=0)


def test_single_image_dataset_reads_lq_only(tmp_path: Path) -> None:
    pairs = _paired_folder(tmp_path)
    ds = build_dataset(
        dataset_options("SingleImageDataset", phase="val", dataroot_lq=tmp_path / "lq"), seed=0
    )
    item = ds[1]
    assert set(item) == {"lq", "key", "lq_path"}
    np.testing.assert_array_equal(item["lq"].numpy(), as_float(pairs["p2"][1]))


def test_unreadable_image_and_bad_options(tmp_path: Path) -> None:
    (tmp_path / "hr").mkdir()
    (tmp_path / "hr" / "broken.png").write_bytes(b"\x89PNG garbage")
    ds = build_dataset(
        dataset_options("RealESRGANDataset", phase="val", dataroot_gt=tmp_path / "hr"), seed=0
    )
    with pytest.raises(ImageDataError, match="broken.png"):
        ds[0]
    with pytest.raises(IndexError):
        ds[1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageDataError, match="lists no images"):
        build_dataset(
            dataset_options("RealESRGANDataset", phase="val", dataroot_gt=tmp_path / "empty"),
            seed=0,
        )
    with pytest.raises(ValueError, match=r"dataroot_gt.*\.lmdb"):
        build_dataset(
            dataset_options(
                "RealESRGANDataset", phase="val", backend="lmdb", dataroot_gt=tmp_path / "hr"
            ),
            seed=0,
        )
