"""Registry behaviour and build_model."""

from __future__ import annotations

import pytest
import torch

from realsr.archs import ARCHS, VARIANTS, RRDBNet, build_model
from realsr.registry import Registry, RegistryError


def test_register_get_names() -> None:
    reg: Registry[object] = Registry("widget")

    @reg.register
    class Alpha:
        pass

    beta = object()
    assert reg.register(beta, name="beta") is beta
    assert reg.get("Alpha") is Alpha and reg.get("beta") is beta
    assert reg.names() == ["Alpha", "beta"] and list(reg) == ["Alpha", "beta"]
    assert "beta" in reg and "gamma" not in reg and len(reg) == 2


def test_duplicates_raise() -> None:
    reg: Registry[object] = Registry("widget")
    reg.register(1, name="one")
    with pytest.raises(RegistryError, match="widget 'one' is already registered"):
        reg.register(2, name="one")
    assert reg.get("one") == 1


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(KeyError) as info:
        ARCHS.get("RRDBnet")
    message = str(info.value)
    assert message.startswith("unknown architecture 'RRDBnet'; did you mean 'RRDBNet'")
    with pytest.raises(KeyError, match="known: "):
        ARCHS.get("zzzz")


def test_registry_holds_the_architectures() -> None:
    expected = {
        "RRDBNet", "SRVGGNetCompact", "UNetDiscriminatorSN", "VGGStyleDiscriminator", "SRCNN",
        "VDSR", "ESPCN", "SRResNet", "MSRResNet", "EDSR", "RDN",
    }  # fmt: skip
    assert set(ARCHS.names()) == expected
    for name in ARCHS.names():
        assert ARCHS.get(name).arch_name == name


@pytest.mark.parametrize("name", VARIANTS.names())
def test_variants_build(name: str) -> None:
    variant = VARIANTS.get(name)
    with torch.device("meta"):  # full-size configurations, no memory or init cost
        model = build_model(name)
    assert model.arch_name == variant.arch
    assert {k: model.hparams[k] for k in variant.hparams} == variant.hparams


def test_published_variant_sizes() -> None:
    with torch.device("meta"):
        x4plus = build_model("RealESRGAN_x4plus")
        anime = build_model("RealESRGAN_x4plus_anime_6B")
        general = build_model("realesr-general-x4v3")
        video = build_model("realesr-animevideov3")
        edsr = build_model("EDSR_paper")
    assert isinstance(x4plus, RRDBNet) and len(x4plus.body) == 23 and len(anime.body) == 6
    assert general.hparams["num_conv"] == 32 and video.hparams["num_conv"] == 16
    assert edsr.hparams["res_scale"] == 0.1 and edsr.hparams["num_feat"] == 256


def test_build_model_overrides_and_rejects_unknown_keys() -> None:
    with torch.device("meta"):
        model = build_model("RealESRGAN_x4plus", {"num_block": 2})
    assert model.hparams["num_block"] == 2 and model.hparams["num_feat"] == 64
    with pytest.raises(TypeError, match="RRDBNet.*num_blocks"):
        build_model("RRDBNet", {"num_blocks": 2})
    with pytest.raises(TypeError):
        RRDBNet(3, 3)  # type: ignore[misc]  # hyperparameters are keyword-only
