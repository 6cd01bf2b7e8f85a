"""TrainBatchSampler: infinite, deterministic, resumable, split across ranks."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from realsr.data.sampler import TrainBatchSampler


def _take(sampler: TrainBatchSampler, n: int) -> list[list[tuple[int, int]]]:
    return list(itertools.islice(iter(sampler), n))


def test_same_arguments_same_batches_and_seed_matters() -> None:
    a = _take(TrainBatchSampler(10, 3, seed=1), 12)
    assert a == _take(TrainBatchSampler(10, 3, seed=1), 12)
    assert a != _take(TrainBatchSampler(10, 3, seed=2), 12)
    assert all(len(batch) == 3 for batch in a)


def test_resume_is_start_iter() -> None:
    full = _take(TrainBatchSampler(7, 2, seed=0, enlarge_ratio=2), 30)
    for k in (0, 1, 6, 7, 13):
        assert (
            _take(TrainBatchSampler(7, 2, seed=0, enlarge_ratio=2, start_iter=k), 30 - k)
            == (full[k:])
        )


def test_epochs_are_permutations_and_differ() -> None:
    sampler = TrainBatchSampler(12, 4, seed=3)
    assert sampler.iters_per_epoch == 3
    batches = _take(sampler, 6)
    epoch0 = [item for batch in batches[:3] for item in batch]
    epoch1 = [item for batch in batches[3:] for item in batch]
    assert sorted(i for _, i in epoch0) == list(range(12))
    assert sorted(i for _, i in epoch1) == list(range(12))
    assert {e for e, _ in epoch0} == {0} and {e for e, _ in epoch1} == {1}
    assert [i for _, i in epoch0] != [i for _, i in epoch1]


def test_no_shuffle_is_dataset_order_with_drop_last() -> None:
    sampler = TrainBatchSampler(5, 2, seed=0, shuffle=False)
    assert sampler.iters_per_epoch == 2
    assert _take(sampler, 3) == [[(0, 0), (0, 1)], [(0, 2), (0, 3)], [(1, 0), (1, 1)]]


def test_two_ranks_cover_an_epoch_disjointly() -> None:
    ranks = [TrainBatchSampler(16, 2, seed=5, num_replicas=2, rank=r) for r in (0, 1)]
    assert ranks[0].iters_per_epoch == 4
    seen = [[item for batch in _take(s, s.iters_per_epoch) for item in batch] for s in ranks]
    assert set(seen[0]).isdisjoint(seen[1])
    assert sorted(i for _, i in seen[0] + seen[1]) == list(range(16))
    # an uneven split pads by wrapping around: every rank gets the same number of batches
    uneven = [TrainBatchSampler(9, 2, seed=5, num_replicas=2, rank=r) for r in (0, 1)]
    assert [s.samples_per_rank for s in uneven] == [5, 5]
    items = [i for s in uneven for batch in _take(s, 2) for _, i in batch]
    assert len(set(items)) >= 7


def test_enlarged_epoch_repeats_images_as_distinct_items() -> None:
    sampler = TrainBatchSampler(4, 4, seed=0, enlarge_ratio=3)
    assert sampler.iters_per_epoch == 3
    epoch = [item for batch in _take(sampler, 3) for item in batch]
    assert Counter(i for _, i in epoch) == {0: 3, 1: 3, 2: 3, 3: 3}
    assert len(set(epoch)) == 12  # each repeat has its own item epoch
    assert {e for e, _ in epoch} == {0, 1, 2}
    nxt = [
        item
        for batch in _take(TrainBatchSampler(4, 4, seed=0, enlarge_ratio=3, start_iter=3), 3)
        for item in batch
    ]
    assert {e for e, _ in nxt} == {3, 4, 5}


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="fewer than the batch size"):
        TrainBatchSampler(3, 4, seed=0)
    with pytest.raises(ValueError, match="rank"):
        TrainBatchSampler(3, 1, seed=0, num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="positive"):
        TrainBatchSampler(0, 1, seed=0)
