"""Pipelines and presets: per-sample keys, batch invariance, records replay, specs."""

from __future__ import annotations

import json
import math

import pytest
import torch
import yaml

from degrade.io import read_image
from degrade.ops import RandomBlur, RandomJPEG, RandomNoise, RandomResize, ResizeTo
from degrade.ops.base import Context
from degrade.pipeline import OneOf, RandomOrder, Sequential
from degrade.presets import SpecError, available_presets, build_pipeline, load_pipeline, preset_spec
from degrade.presets.realesrgan_options import spec_from_realesrgan_options
from tests._reference import shared_dir


def _hr(batch: int, size: int = 64, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(batch, 3, size // 8, size // 8, generator=g)
    smooth = torch.nn.functional.interpolate(base, size=(size, size), mode="bilinear")
    return (smooth + 0.1 * torch.rand(batch, 3, size, size, generator=g)).clamp(0, 1)


def test_presets_ship_with_the_package():
    assert {"realesrgan_x4plus", "realesrgan_x2plus", "bicubic"} <= set(available_presets())
    assert load_pipeline("realesrgan_x2plus").scale == 2


@pytest.mark.parametrize("preset", ["realesrgan_x4plus", "realesrgan_x2plus"])
def test_batch_size_invariance(preset):
    """The same images degraded in batches of 1, 5 and 32 give bitwise-equal LR."""
    pipe = load_pipeline(preset)
    hr = _hr(32)
    keys = torch.arange(100, 132, dtype=torch.int64)
    full = pipe(hr, keys, seed=3)
    assert full.shape == (32, 3, 64 // pipe.scale, 64 // pipe.scale)
    fives = torch.cat([pipe(hr[i : i + 5], keys[i : i + 5], seed=3) for i in range(0, 32, 5)])
    assert torch.equal(fives, full)
    for i in (0, 13, 31):
        assert torch.equal(pipe(hr[i : i + 1], keys[i : i + 1], seed=3), full[i : i + 1])
    # Batch mates and order do not matter either.
    perm = torch.randperm(32, generator=torch.Generator().manual_seed(0))
    assert torch.equal(pipe(hr[perm], keys[perm], seed=3), full[perm])
    # The output is 8-bit and differs with the seed.
    assert torch.equal((full * 255).round() / 255, full)
    assert not torch.equal(pipe(hr, keys, seed=4), full)


def test_records_round_trip_through_json_and_replay_exactly():
    pipe = load_pipeline("realesrgan_x4plus")
    hr = _hr(6)
    params = pipe.sample(torch.arange(6, dtype=torch.int64), seed=11)
    lq = pipe.apply(hr, params)
    records = json.loads(json.dumps(pipe.records(params)))
    assert len(records) == 6 and "0:blur1" in records[0]
    assert records[0]["0:blur1"]["family"] in (
        "iso",
        "aniso",
        "generalized_iso",
        "generalized_aniso",
        "plateau_iso",
        "plateau_aniso",
        "sinc",
    )
    replayed = pipe.params_from_records(records)
    assert torch.equal(pipe.apply(hr, replayed), lq)
    # A single image replays from its own record.
    assert torch.equal(pipe.apply(hr[4:5], pipe.params_from_records(records[4:5])), lq[4:5])


def test_record_with_an_unknown_category_is_rejected():
    pipe = load_pipeline("realesrgan_x4plus")
    records = pipe.records(pipe.sample(torch.arange(1), seed=0))
    records[0]["0:blur1"]["family"] = "gausian"
    with pytest.raises(ValueError, match="gausian"):
        pipe.params_from_records(records)


def test_every_choice_is_per_sample():
    pipe = load_pipeline("realesrgan_x4plus")
    records = pipe.records(pipe.sample(torch.arange(400, dtype=torch.int64), seed=0))

    def distinct(path):
        values = []
        for r in records:
            node = r
            for part in path:
                node = node[part]
            values.append(json.dumps(node))
        return len(set(values))

    assert distinct(["1:resize1", "direction"]) == 3
    assert distinct(["1:resize1", "mode"]) == 3
    assert distinct(["2:noise1", "kind"]) == 2
    assert distinct(["6:noise2", "gray"]) == 2
    assert distinct(["4:blur2", "family"]) >= 7  # six families, sinc and "none" (p = 0.8)
    assert distinct(["7:final", "order"]) == 2
    orders = [tuple(r["7:final"]["order"]) for r in records]
    assert abs(orders.count((0, 1)) / 400 - 0.5) < 0.1


def test_per_sample_sizes_follow_each_sample():
    """After a per-sample resize each sample keeps its own size until the resize back."""
    op = RandomResize(resize_prob=(0.0, 1.0, 0.0), resize_range=(0.3, 1.0))
    params = op.sample(torch.arange(4, dtype=torch.int64), seed=0)
    out = op.apply(torch.rand(4, 3, 50, 40), params)
    assert isinstance(out, list)
    for sample, s in zip(out, params.scale.tolist(), strict=True):
        assert sample.shape[-2:] == (math.floor(50 * s), math.floor(40 * s))
    back = ResizeTo(scale=2).apply_images(
        out, ResizeTo(scale=2).sample(torch.arange(4), seed=0), Context((50, 40))
    )
    assert isinstance(back, torch.Tensor) and back.shape == (4, 3, 25, 20)


def test_random_order_applies_each_samples_order():
    a, b = (
        ResizeTo(scale=2, modes=["bilinear"]),
        RandomNoise(noise_range=(20, 20), gaussian_noise_prob=1.0, gray_noise_prob=0.0),
    )
    order_op = RandomOrder([a, b])
    x = torch.rand(8, 3, 16, 16)
    keys = torch.arange(8, dtype=torch.int64)
    params = order_op.sample(keys, seed=0)
    out = order_op.apply(x, params)
    ctx = Context((16, 16))
    for i, order in enumerate(params.order.tolist()):
        y = x[i : i + 1]
        for j in order:
            y = order_op.ops[j].apply_images(y, params.children[j].take([i]), ctx)
        assert torch.equal(out[i : i + 1], y)
    assert len({tuple(o) for o in params.order.tolist()}) == 2


def test_one_of_applies_the_chosen_branch_with_its_probability():
    blur, jpeg = (
        RandomBlur(sigma=(2, 2), kernel_list=["iso"], kernel_prob=[1]),
        RandomJPEG(jpeg_range=(10, 10)),
    )
    op = OneOf([blur, jpeg], probs=[0.25, 0.75])
    params = op.sample(torch.arange(4000, dtype=torch.int64), seed=0)
    assert abs((params.choice == 1).double().mean().item() - 0.75) < 0.03
    x = torch.rand(6, 3, 16, 16)
    small = params.take(list(range(6)))
    out = op.apply(x, small)
    for i, c in enumerate(small.choice.tolist()):
        branch = op.ops[c]
        expected = branch.apply(x[i : i + 1], small.children[c].take([i]))
        assert torch.equal(out[i : i + 1], expected)


def test_spec_round_trip_and_hash():
    pipe = load_pipeline("realesrgan_x4plus")
    again = build_pipeline(pipe.to_spec())
    assert again.spec_hash == pipe.spec_hash
    hr = _hr(3)
    keys = torch.arange(3, dtype=torch.int64)
    assert torch.equal(again(hr, keys, seed=1), pipe(hr, keys, seed=1))
    changed = pipe.to_spec()
    changed["ops"][2]["noise_range"] = [1.0, 31.0]
    assert build_pipeline(changed).spec_hash != pipe.spec_hash


def test_load_from_yaml_file_and_scale_override(tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text(
        yaml.safe_dump(
            {"name": "mine", "scale": 2, "ops": [{"type": "blur"}, {"type": "resize_to"}]}
        )
    )
    pipe = load_pipeline(path)
    assert pipe.name == "mine" and pipe(torch.rand(2, 3, 20, 20), torch.arange(2)).shape == (
        2,
        3,
        10,
        10,
    )
    assert load_pipeline("bicubic", scale=3)(torch.rand(1, 3, 30, 30), torch.arange(1)).shape == (
        1,
        3,
        10,
        10,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"ops": [{"type": "blurr"}]},
            r"ops\[0\]\.type: unknown op type 'blurr' \(did you mean 'blur'\?\)",
        ),
        (
            {"ops": [{"type": "noise", "noise_rnage": [1, 2]}]},
            r"ops\[0\]\.noise_rnage: .*did you mean 'noise_range'",
        ),
        (
            {"ops": [{"type": "random_order", "ops": [{"type": "jpeg", "jpeg_range": [0, 200]}]}]},
            r"ops\[0\]\.ops\[0\] \(jpeg\): jpeg: jpeg_range",
        ),
        ({"ops": [], "scale": 4}, "non-empty list"),
        ({"ops": [{"type": "blur"}], "scael": 4}, "did you mean 'scale'"),
        ({"ops": [{"type": "blur"}], "scale": -1}, "scale: must be a positive"),
        ({"ops": ["blur"]}, "must be a mapping"),
    ],
)
def test_spec_errors_name_the_dotted_key(spec, message):
    with pytest.raises(SpecError, match=message):
        build_pipeline(spec)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match="did you mean 'realesrgan_x4plus'"):
        load_pipeline("realesrgan_x4plu")
    with pytest.raises(SpecError, match="no such pipeline file"):
        load_pipeline(tmp_path / "nope.yaml")


def test_pipeline_that_ends_ragged_is_an_error():
    pipe = build_pipeline(
        {"ops": [{"type": "resize", "resize_prob": [0, 1, 0], "resize_range": [0.3, 1.0]}]}
    )
    with pytest.raises(ValueError, match="resize_to"):
        pipe(torch.rand(4, 3, 32, 32), torch.arange(4))


def test_containers_validate_their_children():
    with pytest.raises(ValueError, match="at least one op"):
        Sequential([])
    with pytest.raises(ValueError, match="probs"):
        OneOf([RandomJPEG()], probs=[0.5, 0.5])


@pytest.mark.shared
@pytest.mark.parametrize(
    "filename",
    [
        "train_realesrgan_x4plus.yml",
        "train_realesrgan_x2plus.yml",
        "train_realesrnet_x4plus.yml",
        "train_realesrnet_x2plus.yml",
        "finetune_realesrgan_x4plus.yml",
    ],
)
def test_official_options_convert_to_the_preset(filename):
    options = yaml.safe_load(
        (shared_dir() / "reference" / "realesrgan_options" / filename).read_text()
    )
    converted = build_pipeline(spec_from_realesrgan_options(options))
    preset = load_pipeline(f"realesrgan_x{options['scale']}plus")
    ours, theirs = converted.to_spec(), preset.to_spec()
    assert converted.gt_usm == preset.gt_usm
    for key in ("name", "description"):
        ours.pop(key), theirs.pop(key)
    assert ours == theirs
    assert (
        converted.spec_hash != ""
        and build_pipeline(preset_spec(preset.name)).spec_hash == preset.spec_hash
    )


@pytest.mark.shared
def test_bicubic_preset_is_bit_exact_with_matlab_lr_files():
    root = shared_dir() / "data" / "Set5"
    for scale in (2, 3, 4):
        pipe = load_pipeline("bicubic", scale=scale)
        for name in ("baby", "bird", "butterfly", "head", "woman"):
            hr = read_image(root / "HR" / f"{name}.png")
            h, w = hr.shape[-2:]
            hr = hr[..., : h - h % scale, : w - w % scale]
            lr = read_image(root / "LR_bicubic" / f"X{scale}" / f"{name}x{scale}.png")
            out = pipe(hr, torch.zeros(1, dtype=torch.int64))
            assert torch.equal((out * 255).round(), (lr * 255).round()), (name, scale)
