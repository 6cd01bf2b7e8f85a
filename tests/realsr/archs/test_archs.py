"""Every registered architecture: build small, forward, backward, checkpoint round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from realsr.archs import ARCHS, SRArch, build_model, crop_padding, pad_to_multiple
from realsr.checkpoint import load_model, save_checkpoint

# (case id, arch, small hparams, input size). Every registered architecture must appear here.
CASES: list[tuple[str, str, dict[str, Any], int]] = [
    ("rrdb-x4", "RRDBNet", {"scale": 4, "num_feat": 8, "num_block": 2, "num_grow_ch": 4}, 8),
    ("rrdb-x2", "RRDBNet", {"scale": 2, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}, 8),
    ("rrdb-x1", "RRDBNet", {"scale": 1, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}, 8),
    ("srvgg-prelu", "SRVGGNetCompact", {"num_feat": 8, "num_conv": 2, "upscale": 4}, 8),
    (
        "srvgg-relu-x2",
        "SRVGGNetCompact",
        {"num_feat": 8, "num_conv": 1, "upscale": 2, "act_type": "relu"},
        10,
    ),
    (
        "srvgg-lrelu-x3",
        "SRVGGNetCompact",
        {"num_feat": 8, "num_conv": 1, "upscale": 3, "act_type": "leakyrelu"},
        10,
    ),
    ("unet-disc", "UNetDiscriminatorSN", {"num_feat": 4}, 16),
    ("unet-disc-noskip", "UNetDiscriminatorSN", {"num_feat": 4, "skip_connection": False}, 16),
    ("vgg-disc-128", "VGGStyleDiscriminator", {"num_feat": 2, "input_size": 128}, 128),
    ("vgg-disc-256", "VGGStyleDiscriminator", {"num_feat": 2, "input_size": 256}, 256),
    ("srcnn-915", "SRCNN", {"num_feat": 8, "num_feat2": 4, "kernel_sizes": [9, 1, 5]}, 16),
    (
        "srcnn-955",
        "SRCNN",
        {"num_feat": 8, "num_feat2": 4, "kernel_sizes": [9, 5, 5], "scale": 3},
        16,
    ),
    ("vdsr", "VDSR", {"num_feat": 8, "num_layers": 4, "scale": 2}, 16),
    ("espcn-x3", "ESPCN", {"num_feat": 8, "num_feat2": 4, "scale": 3}, 10),
    ("espcn-relu-x2", "ESPCN", {"num_feat": 8, "num_feat2": 4, "scale": 2, "act_type": "relu"}, 10),
    ("srresnet-x4", "SRResNet", {"num_feat": 8, "num_block": 2, "upscale": 4}, 8),
    ("srresnet-x3", "SRResNet", {"num_feat": 8, "num_block": 1, "upscale": 3}, 10),
    ("msrresnet-x4", "MSRResNet", {"num_feat": 8, "num_block": 2, "upscale": 4}, 8),
    ("msrresnet-x3", "MSRResNet", {"num_feat": 8, "num_block": 1, "upscale": 3}, 10),
    ("edsr-x4", "EDSR", {"num_feat": 8, "num_block": 2, "upscale": 4}, 8),
    ("edsr-x3-scaled", "EDSR", {"num_feat": 8, "num_block": 2, "upscale": 3, "res_scale": 0.1}, 10),
    (
        "rdn-x4",
        "RDN",
        {"num_feat": 8, "num_block": 2, "num_layer": 2, "growth_rate": 4, "upscale": 4},
        8,
    ),
    (
        "rdn-x2",
        "RDN",
        {"num_feat": 8, "num_block": 2, "num_layer": 3, "growth_rate": 4, "upscale": 2},
        10,
    ),
]

# One-channel (grey / Y) versions of every architecture that allows them.
GREY_EXTRA = {"EDSR": {"rgb_mean": [0.44]}}
DISCRIMINATORS = {"UNetDiscriminatorSN", "VGGStyleDiscriminator"}
GREY_CASES = [
    (
        f"{cid}-1ch",
        arch,
        {
            **hp,
            **({"num_in_ch": 1} if arch in DISCRIMINATORS else {"num_in_ch": 1, "num_out_ch": 1}),
            **GREY_EXTRA.get(arch, {}),
        },
        size,
    )
    for cid, arch, hp, size in CASES
]
SLOW = ("vgg-disc-256",)
ALL_CASES = [
    pytest.param(arch, hp, size, id=cid, marks=[pytest.mark.slow] if cid.startswith(SLOW) else [])
    for cid, arch, hp, size in CASES + GREY_CASES
]


def test_cases_cover_the_registry() -> None:
    assert {arch for _, arch, _, _ in CASES} == set(ARCHS.names())


def _expected_shape(model: SRArch, batch: int, size: int) -> tuple[int, ...]:
    if model.arch_name == "VGGStyleDiscriminator":
        return (batch, 1)
    out = size * model.output_scale
    return (batch, model.out_channels, out, out)


@pytest.mark.parametrize(("arch", "hparams", "size"), ALL_CASES)
def test_forward_backward_roundtrip(
    arch: str, hparams: dict[str, Any], size: int, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model = build_model(arch, hparams)
    assert model.arch_name == arch
    assert type(model)(**model.hparams).hparams == model.hparams  # hparams rebuild the model
    in_ch = model.in_channels
    assert in_ch == hparams.get("num_in_ch", 3)
    batch = 1 if in_ch == 1 else 2
    x = torch.rand(batch, in_ch, size, size)

    model.train()
    y = model(x)
    assert tuple(y.shape) == _expected_shape(model, batch, size)
    assert torch.isfinite(y).all()
    y.square().mean().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
    assert any(p.grad.abs().sum() > 0 for p in model.parameters() if p.grad is not None)

    model.eval()
    with torch.no_grad():
        y_eval = model(x)
    assert not torch.isnan(y_eval).any()
    path = save_checkpoint(tmp_path / "net.pth", model)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    assert loaded.hparams == model.hparams
    assert not loaded.training
    with torch.no_grad():
        assert torch.equal(loaded(x), y_eval)


@pytest.mark.parametrize(
    ("arch", "hparams", "size"),
    [CASES[0][1:], CASES[3][1:], CASES[6][1:], CASES[19][1:]],
    ids=["rrdb", "srvgg", "unet-disc", "edsr"],
)
def test_safetensors_roundtrip(
    arch: str, hparams: dict[str, Any], size: int, tmp_path: Path
) -> None:
    pytest.importorskip("safetensors")
    model = build_model(arch, hparams).eval()
    ema = build_model(arch, hparams).eval()
    x = torch.rand(1, model.in_channels, size, size)
    path = save_checkpoint(tmp_path / "net.safetensors", model, ema_model=ema)
    loaded = load_model(path)
    assert loaded.hparams == ema.hparams
    with torch.no_grad():
        assert torch.equal(loaded(x), ema(x))  # safetensors keeps the EMA weights


def test_edsr_mean_is_not_in_state_dict() -> None:
    net = build_model("EDSR", {"num_feat": 4, "num_block": 1})
    assert "mean" not in net.state_dict()
    assert torch.equal(net.mean.flatten(), torch.tensor([0.4488, 0.4371, 0.4040]))


def test_unet_discriminator_keeps_spectral_norm_names() -> None:
    keys = build_model("UNetDiscriminatorSN", {"num_feat": 4}).state_dict().keys()
    for i in range(1, 9):
        assert {f"conv{i}.weight_orig", f"conv{i}.weight_u", f"conv{i}.weight_v"} <= set(keys)
    assert "conv0.weight" in keys and "conv9.bias" in keys and "conv1.weight" not in keys


@pytest.mark.parametrize("scale", [1, 2])
def test_rrdbnet_needs_multiple_and_padding_helpers(scale: int) -> None:
    net = build_model(
        "RRDBNet", {"scale": scale, "num_feat": 4, "num_block": 1, "num_grow_ch": 2}
    ).eval()
    assert net.size_multiple == 4 // scale
    x = torch.rand(1, 3, 9, 7)
    with pytest.raises(ValueError, match="pad_to_multiple"):
        net(x)
    xp, pad = pad_to_multiple(x, net.size_multiple)
    assert xp.shape[-2] % net.size_multiple == 0 and xp.shape[-1] % net.size_multiple == 0
    assert torch.equal(xp[..., :9, :7], x)  # original pixels kept top-left
    with torch.no_grad():
        y = crop_padding(net(xp), pad, scale)
    assert tuple(y.shape) == (1, 3, 9 * scale, 7 * scale)


def test_pad_to_multiple_reflects_and_falls_back() -> None:
    x = torch.arange(6.0).view(1, 1, 1, 6)
    y, pad = pad_to_multiple(x, 4)  # height 1 cannot reflect 3 rows: replicate
    assert pad == (3, 2) and tuple(y.shape) == (1, 1, 4, 8)
    assert torch.equal(y[0, 0, 3], torch.tensor([0.0, 1, 2, 3, 4, 5, 5, 5]))
    z, pad = pad_to_multiple(torch.arange(5.0).view(1, 1, 1, 5).expand(1, 1, 4, 5), 2)
    assert pad == (0, 1) and z[0, 0, 0, 5] == 3.0  # reflect: ... 3 4 | 3
    same, pad = pad_to_multiple(x, 1)
    assert same is x and pad == (0, 0)


@pytest.mark.parametrize(
    ("arch", "hparams", "match"),
    [
        ("RRDBNet", {"scale": 3}, "scale"),
        ("SRVGGNetCompact", {"act_type": "gelu"}, "act_type"),
        ("SRVGGNetCompact", {"num_out_ch": 1}, "num_out_ch"),
        ("VGGStyleDiscriminator", {"input_size": 64}, "input_size"),
        ("EDSR", {"upscale": 5}, "scale"),
        ("EDSR", {"num_in_ch": 1, "num_out_ch": 1}, "rgb_mean"),
        ("SRCNN", {"kernel_sizes": [9, 2, 5]}, "kernel_sizes"),
        ("VDSR", {"num_out_ch": 1}, "num_out_ch"),
        ("RDN", {"upscale": 8}, "upscale"),
    ],
)
def test_bad_hparams_are_named(arch: str, hparams: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_model(arch, hparams)


def test_vgg_discriminator_rejects_wrong_size() -> None:
    net = build_model("VGGStyleDiscriminator", {"num_feat": 2})
    with pytest.raises(ValueError, match="128x128"):
        net(torch.rand(1, 3, 64, 64))
