"""The training-step benchmark's set-up: same VGG19 on both sides, reference workarounds undone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from benchmarks import bench_train
from realsr.losses import PerceptualLoss
from tests._reference import import_reference, shared_dir

pytestmark = pytest.mark.reference

LAYER_WEIGHTS = {"conv1_2": 0.1, "conv2_2": 0.1, "conv3_4": 1.0, "conv4_4": 1.0, "conv5_4": 1.0}


def _patched_objects() -> list[object]:
    from basicsr.archs import vgg_arch
    from realesrgan.models import realesrgan_model

    return [
        vars(nn.Module)["cuda"],
        vars(torch.Tensor).get("cuda"),
        realesrgan_model.filter2D,
        vgg_arch.vgg,
        vgg_arch.VGG_PRETRAIN_PATH,
        vars(realesrgan_model.RealESRGANModel)["_dequeue_and_enqueue"],
    ]


def test_reference_patches_apply_and_are_undone(tmp_path: Path) -> None:
    import_reference("realesrgan.models.realesrgan_model")
    vgg_file = bench_train.write_random_vgg19(tmp_path / "hub", seed=0)
    before = _patched_objects()
    with bench_train.reference_patches(vgg_file):
        during = _patched_objects()
        assert torch.zeros(1).cuda().device.type == "cpu"
        assert nn.Linear(1, 1).cuda().weight.device.type == "cpu"
    assert all(a is not b for a, b in zip(before, during, strict=True) if a is not None)
    after = _patched_objects()
    assert all(a is b for a, b in zip(before, after, strict=True))


def test_both_perceptual_losses_use_the_same_vgg19(tmp_path: Path) -> None:
    basic_loss = import_reference("basicsr.losses.basic_loss")
    vgg_file = bench_train.write_random_vgg19(tmp_path / "hub", seed=3)
    with bench_train.reference_patches(vgg_file):
        reference = basic_loss.PerceptualLoss(layer_weights=LAYER_WEIGHTS, vgg_type="vgg19")
    ours = PerceptualLoss(layer_weights=LAYER_WEIGHTS, weights_path=vgg_file)
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 32, 32, generator=g)
    expected = reference(x, y)[0]
    torch.testing.assert_close(ours(x, y)[0], expected)
    other = PerceptualLoss(
        layer_weights=LAYER_WEIGHTS,
        weights_path=bench_train.write_random_vgg19(tmp_path / "other", seed=4),
    )
    assert not torch.allclose(other(x, y)[0], expected)  # the weights do matter


def test_bench_options_are_the_official_file_with_the_bench_sizes() -> None:
    path = shared_dir() / "reference" / "realesrgan_options" / "train_realesrgan_x4plus.yml"
    from realsr.config import options_from_dict

    raw = bench_train.official_options(path)
    mapping = bench_train.bench_options(raw, batch=3, size=96, gt_size=64, seed=5)
    options = options_from_dict(mapping, source=str(path))
    train = options.datasets["train"]
    assert (train.batch_size_per_gpu, train.crop_pad_size, train.gt_size) == (3, 96, 64)
    assert options.degradation.gt_size == 64 and options.manual_seed == 5
    assert options.path.pretrain_network_g is None
    assert options.network_g.args["num_block"] == 23 and options.network_d is not None
    assert raw["path"]["pretrain_network_g"] is not None  # the official mapping is untouched
