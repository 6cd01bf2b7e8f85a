"""build_dataloader: batches independent of the worker count, resumable, validation order."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from realsr.data import TrainBatchSampler, build_dataloader, build_dataset
from tests.realsr.data._helpers import dataset_options, random_rgb, write_rgb


@pytest.fixture
def hr_root(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for i in range(5):
        write_rgb(tmp_path / "hr" / f"{i}.png", random_rgb(rng, 24 + 4 * i, 30))
    return tmp_path / "hr"


def _batches(loader: Any, n: int) -> list[dict[str, Any]]:
    return list(itertools.islice(iter(loader), n))


def _same(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert x.keys() == y.keys()
        for k in x:
            if isinstance(x[k], torch.Tensor):
                assert torch.equal(x[k], y[k]), k
            else:
                assert x[k] == y[k], k


def _train_options(root: Path, workers: int, **keys: Any) -> Any:
    return dataset_options(
        "RealESRGANDataset",
        dataroot_gt=root,
        crop_pad_size=24,
        gt_size=16,
        use_rot=True,
        batch_size_per_gpu=2,
        num_worker_per_gpu=workers,
        **keys,
    )


def test_worker_count_does_not_change_batches(hr_root: Path) -> None:
    serial = _train_options(hr_root, 0)
    batches = _batches(build_dataloader(build_dataset(serial, seed=1), serial, seed=1), 5)
    assert batches[0]["gt"].shape == (2, 3, 24, 24) and batches[0]["key"].shape == (2,)
    assert batches[0]["key"].dtype == torch.int64 and len(batches[0]["gt_path"]) == 2
    parallel = _train_options(hr_root, 2)
    loader = build_dataloader(build_dataset(parallel, seed=1), parallel, seed=1)
    assert loader.num_workers == 2 and loader.persistent_workers
    _same(batches, _batches(loader, 5))


def test_lmdb_set_opened_in_the_main_process_loads_in_workers(hr_root: Path) -> None:
    pytest.importorskip("lmdb")
    from realsr.data.lmdb_writer import make_lmdb

    db = hr_root.parent / "hr.lmdb"
    make_lmdb(hr_root, db, progress=False)
    serial = _train_options(db, 0, io_backend={"type": "lmdb"})
    dataset = build_dataset(serial, seed=2)
    expected = _batches(build_dataloader(dataset, serial, seed=2), 3)  # opens it here
    parallel = dataclasses.replace(serial, num_worker_per_gpu=2)
    _same(expected, _batches(build_dataloader(dataset, parallel, seed=2), 3))


def test_resumed_sampler_continues_the_sequence(hr_root: Path) -> None:
    opt = _train_options(hr_root, 0, dataset_enlarge_ratio=2)
    dataset = build_dataset(opt, seed=0)
    full = _batches(build_dataloader(dataset, opt, seed=0), 7)
    sampler = TrainBatchSampler(len(dataset), 2, seed=0, enlarge_ratio=2, start_iter=4)
    _same(full[4:], _batches(build_dataloader(dataset, opt, sampler=sampler, seed=0), 3))


def test_validation_is_one_image_at_a_time_in_order(hr_root: Path) -> None:
    opt = dataset_options(
        "RealESRGANDataset", phase="val", dataroot_gt=hr_root, prefetch_mode="cpu"
    )
    dataset = build_dataset(opt, seed=0)
    batches = list(build_dataloader(dataset, opt, seed=0))
    assert [b["gt_path"] for b in batches] == [[str(hr_root / f"{i}.png")] for i in range(5)]
    assert [tuple(b["gt"].shape) for b in batches] == [(1, 3, 24 + 4 * i, 28) for i in range(5)]
    changes: dict[str, Any] = {"prefetch_mode": "gpu"}  # what the options loader refuses
    bad = dataclasses.replace(opt, **changes)
    with pytest.raises(ValueError, match="prefetch_mode"):
        build_dataloader(dataset, bad, seed=0)


def test_loading_leaves_global_rng_alone(hr_root: Path) -> None:
    opt = _train_options(hr_root, 0)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    _batches(build_dataloader(build_dataset(opt, seed=0), opt, seed=0), 2)
    assert torch.equal(torch.rand(3), expected)
