"""A ``degrade generate`` output folder loads as PairedImageDataset and RealESRGANPairedDataset."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from degrade.dataset_io import BASICSR_META, REALESRGAN_META
from degrade.generate import generate_dataset
from degrade.io import read_image
from realsr.data import build_dataset
from tests.realsr.data._helpers import dataset_options, random_rgb, write_rgb


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    rng = np.random.default_rng(0)
    write_rgb(root / "hr" / "a.png", random_rgb(rng, 40, 36))
    write_rgb(root / "hr" / "sub" / "b.png", random_rgb(rng, 32, 48))
    summary = generate_dataset(
        root / "hr", root / "out", preset="realesrgan_x4plus", crop=32, variants=2, progress=False
    )
    assert summary.generated == 4 and not summary.failures
    return root / "out"


def _sets(out: Path, phase: str, **keys: Any) -> list:
    basicsr = dataset_options(
        "PairedImageDataset",
        phase=phase,
        dataroot_gt=out / "gt",
        dataroot_lq=out / "lq",
        meta_info_file=out / BASICSR_META,
        **keys,
    )
    realesrgan = dataset_options(
        "RealESRGANPairedDataset",
        phase=phase,
        dataroot_gt=out,
        dataroot_lq=out,
        meta_info=out / REALESRGAN_META,
        **keys,
    )
    return [build_dataset(basicsr, seed=0), build_dataset(realesrgan, seed=0)]


def test_generated_folder_loads_as_both_paired_types(generated: Path) -> None:
    files = sorted(p.name for p in (generated / "gt").iterdir())
    assert len(files) == 4
    for dataset in _sets(generated, "val"):
        assert len(dataset) == 4
        names = sorted(Path(dataset[i]["gt_path"]).name for i in range(4))
        assert names == files
        for i in range(4):
            item = dataset[i]
            assert Path(item["lq_path"]).name == Path(item["gt_path"]).name
            assert torch.equal(item["gt"], read_image(item["gt_path"])[0])
            assert torch.equal(item["lq"], read_image(item["lq_path"])[0])
            assert item["gt"].shape == (3, 32, 32) and item["lq"].shape == (3, 8, 8)


def test_generated_pairs_train_with_aligned_crops(generated: Path) -> None:
    basicsr, realesrgan = _sets(generated, "train", gt_size=16, use_rot=True)
    for index in range(4):
        a, b = basicsr[(1, index)], realesrgan[(1, index)]
        assert a["gt"].shape == (3, 16, 16) and a["lq"].shape == (3, 4, 4)
        assert a["gt_path"] == b["gt_path"]  # both meta files list the pairs in plan order
        assert torch.equal(a["gt"], b["gt"]) and torch.equal(a["lq"], b["lq"])
