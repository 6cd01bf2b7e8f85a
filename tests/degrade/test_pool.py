from __future__ import annotations

import io

import pytest
import torch

from degrade.pool import PairPool


def _batch(start: int, b: int = 2):
    ids = torch.arange(start, start + b, dtype=torch.float32)
    return ids.view(-1, 1, 1, 1).expand(b, 1, 2, 2).clone(), ids.view(-1, 1, 1, 1).expand(
        b, 1, 8, 8
    ).clone()


def test_fills_then_exchanges_keeping_pairs_together():
    pool = PairPool(6, seed=0)
    seen = []
    for step in range(3):  # filling: pass-through
        lq, gt = _batch(2 * step)
        out_lq, out_gt = pool.exchange(lq, gt)
        assert out_lq is lq and out_gt is gt
    stored = set(range(6))
    for step in range(3, 20):
        lq, gt = _batch(2 * step)
        out_lq, out_gt = pool.exchange(lq, gt)
        ids = out_lq[:, 0, 0, 0].tolist()
        assert ids == out_gt[:, 0, 0, 0].tolist()  # LQ and GT stay paired
        assert set(ids) <= stored  # only pairs that were in the pool come out
        stored = (stored - set(ids)) | {2 * step, 2 * step + 1}
        seen += ids
        assert sorted(pool.lq[:, 0, 0, 0].tolist()) == sorted(stored)
    assert len(set(seen)) == len(seen)  # each pair comes out once


def test_resume_from_state_gives_the_same_stream():
    a = PairPool(4, seed=3)
    for step in range(5):
        a.exchange(*_batch(2 * step))
    buffer = io.BytesIO()
    torch.save(a.state_dict(), buffer)
    buffer.seek(0)
    b = PairPool(4, seed=99)
    b.load_state_dict(torch.load(buffer, weights_only=True))
    for step in range(5, 10):
        la, _ = a.exchange(*_batch(2 * step))
        lb, _ = b.exchange(*_batch(2 * step))
        assert torch.equal(la, lb)


def test_bad_sizes():
    with pytest.raises(ValueError, match="multiple of the batch size"):
        PairPool(5).exchange(*_batch(0))
    with pytest.raises(ValueError, match=">= 1"):
        PairPool(0)
