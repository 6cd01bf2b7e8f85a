"""Parity with the reference definitions in basicsr / realesrgan: same keys, same outputs."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from realsr.archs import build_model
from tests._reference import import_reference

pytestmark = pytest.mark.reference

# (id, reference module, class, our arch, hparams, input size)
CASES: list[tuple[str, str, str, str, dict[str, Any], int]] = [
    ("rrdb-x4", "basicsr.archs.rrdbnet_arch", "RRDBNet", "RRDBNet",
     {"num_in_ch": 3, "num_out_ch": 3, "scale": 4, "num_feat": 8, "num_block": 2, "num_grow_ch": 4}, 8),
    ("rrdb-x2", "basicsr.archs.rrdbnet_arch", "RRDBNet", "RRDBNet",
     {"num_in_ch": 3, "num_out_ch": 3, "scale": 2, "num_feat": 8, "num_block": 2, "num_grow_ch": 4}, 8),
    ("rrdb-x1", "basicsr.archs.rrdbnet_arch", "RRDBNet", "RRDBNet",
     {"num_in_ch": 3, "num_out_ch": 3, "scale": 1, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}, 8),
    ("rrdb-x2-1ch", "basicsr.archs.rrdbnet_arch", "RRDBNet", "RRDBNet",
     {"num_in_ch": 1, "num_out_ch": 1, "scale": 2, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}, 8),
    ("srvgg-prelu", "realesrgan.archs.srvgg_arch", "SRVGGNetCompact", "SRVGGNetCompact",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_conv": 3, "upscale": 4, "act_type": "prelu"}, 8),
    ("srvgg-relu-x2", "realesrgan.archs.srvgg_arch", "SRVGGNetCompact", "SRVGGNetCompact",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_conv": 2, "upscale": 2, "act_type": "relu"}, 8),
    ("srvgg-lrelu-1ch", "basicsr.archs.srvgg_arch", "SRVGGNetCompact", "SRVGGNetCompact",
     {"num_in_ch": 1, "num_out_ch": 1, "num_feat": 8, "num_conv": 2, "upscale": 3, "act_type": "leakyrelu"}, 8),
    ("unet-disc", "realesrgan.archs.discriminator_arch", "UNetDiscriminatorSN", "UNetDiscriminatorSN",
     {"num_in_ch": 3, "num_feat": 4, "skip_connection": True}, 16),
    ("unet-disc-noskip-1ch", "basicsr.archs.discriminator_arch", "UNetDiscriminatorSN", "UNetDiscriminatorSN",
     {"num_in_ch": 1, "num_feat": 4, "skip_connection": False}, 16),
    ("vgg-disc", "basicsr.archs.discriminator_arch", "VGGStyleDiscriminator", "VGGStyleDiscriminator",
     {"num_in_ch": 3, "num_feat": 2, "input_size": 128}, 128),
    ("msrresnet-x4", "basicsr.archs.srresnet_arch", "MSRResNet", "MSRResNet",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 2, "upscale": 4}, 8),
    ("msrresnet-x3-1ch", "basicsr.archs.srresnet_arch", "MSRResNet", "MSRResNet",
     {"num_in_ch": 1, "num_out_ch": 1, "num_feat": 8, "num_block": 1, "upscale": 3}, 8),
    ("msrresnet-x2", "basicsr.archs.srresnet_arch", "MSRResNet", "MSRResNet",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1, "upscale": 2}, 8),
    ("edsr-x4", "basicsr.archs.edsr_arch", "EDSR", "EDSR",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 2, "upscale": 4, "res_scale": 0.1}, 8),
    ("edsr-x3", "basicsr.archs.edsr_arch", "EDSR", "EDSR",
     {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1, "upscale": 3,
      "img_range": 1.0, "rgb_mean": [0.5, 0.4, 0.3]}, 8),
]  # fmt: skip


def _tolerance_ok(ours: torch.Tensor, ref: torch.Tensor) -> bool:
    return (ours - ref).abs().max().item() <= 1e-5 + 1e-5 * ref.abs().max().item()


@pytest.mark.parametrize(
    ("module", "cls", "arch", "hparams", "size"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_matches_reference(
    module: str, cls: str, arch: str, hparams: dict[str, Any], size: int
) -> None:
    torch.manual_seed(0)
    ref = getattr(import_reference(module), cls)(**hparams)
    ours = build_model(arch, hparams)
    ref_state = ref.state_dict()
    assert list(ours.state_dict()) == list(ref_state)  # same names, same order
    ours.load_state_dict(ref_state, strict=True)
    for name, tensor in ours.state_dict().items():
        assert tensor.shape == ref_state[name].shape, name

    x = torch.rand(2, hparams["num_in_ch"], size, size)
    for training in (False, True):  # BN batch statistics, spectral-norm power iteration
        ref.train(training)
        ours.train(training)
        with torch.no_grad():
            y_ref = ref(x.clone())
            y = ours(x.clone())
        assert y.shape == y_ref.shape
        assert _tolerance_ok(y, y_ref), (training, (y - y_ref).abs().max().item())
    # the training-mode pass updated the same buffers (spectral-norm u/v, BN running stats)
    for name, tensor in ours.state_dict().items():
        assert torch.allclose(tensor, ref.state_dict()[name], atol=1e-6), name


def test_gradients_match_reference() -> None:
    torch.manual_seed(0)
    hparams = {
        "num_in_ch": 3,
        "num_out_ch": 3,
        "scale": 2,
        "num_feat": 8,
        "num_block": 1,
        "num_grow_ch": 4,
    }
    ref = import_reference("basicsr.archs.rrdbnet_arch").RRDBNet(**hparams)
    ours = build_model("RRDBNet", hparams)
    ours.load_state_dict(ref.state_dict())
    x = torch.rand(1, 3, 8, 8)
    ref(x).square().mean().backward()
    ours(x).square().mean().backward()
    ref_grads = dict(ref.named_parameters())
    for name, p in ours.named_parameters():
        g_ref = ref_grads[name].grad
        assert p.grad is not None and g_ref is not None
        assert torch.allclose(p.grad, g_ref, rtol=1e-4, atol=1e-7), name
