from __future__ import annotations

import json

import pytest
import torch

from degrade.presets import load_pipeline
from degrade.records import make_records, params_from_records, read_jsonl, write_jsonl


def test_records_replay_exactly_through_a_jsonl_file(tmp_path):
    pipe = load_pipeline("realesrgan_x4plus")
    hr = torch.rand(5, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    keys = torch.tensor([10, 11, 12, 13, 14])
    params = pipe.sample(keys, seed=9)
    lq = pipe.apply(hr, params)
    extra = [{"source": f"img{i}.png", "crop": [0, i], "variant": 0} for i in range(5)]
    records = make_records(pipe, params, keys=keys, seed=9, extra=extra)
    assert (
        records[2]["key"] == 12
        and records[2]["crop"] == [0, 2]
        and records[2]["preset_hash"] == pipe.spec_hash
    )
    path = tmp_path / "params.jsonl"
    write_jsonl(path, records[:3])
    write_jsonl(path, records[3:])
    loaded = read_jsonl(path)
    assert loaded == json.loads(json.dumps(records))
    got_keys, got_params = params_from_records(pipe, loaded)
    assert torch.equal(got_keys, keys)
    assert torch.equal(pipe.apply(hr, got_params), lq)
    # One image alone, from its own line.
    k, p = params_from_records(pipe, loaded[3:4])
    assert k.tolist() == [13]
    assert torch.equal(pipe.apply(hr[3:4], p), lq[3:4])


def test_records_from_another_recipe_are_refused():
    pipe = load_pipeline("realesrgan_x4plus")
    other = load_pipeline("realesrgan_x2plus")
    keys = torch.tensor([1])
    records = make_records(other, other.sample(keys), keys=keys, seed=0)
    with pytest.raises(ValueError, match="realesrgan_x2plus"):
        params_from_records(pipe, records)


def test_truncated_last_line_is_ignored_but_corruption_elsewhere_is_not(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n{"b": 2}\n{"c": ')
    assert read_jsonl(path) == [{"a": 1}, {"b": 2}]
    path.write_text('{"a": 1}\n{"b": \n{"c": 3}\n')
    with pytest.raises(ValueError, match="p.jsonl:2"):
        read_jsonl(path)
