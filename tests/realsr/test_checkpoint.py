"""Checkpoints: official-format loading, old ESRGAN remap, spandrel interop, safety, errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import torch

from realsr.archs import build_model
from realsr.checkpoint import (
    CheckpointError,
    infer_architecture,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from tests._reference import import_reference

RRDB_SMALL = {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 3, "num_grow_ch": 4}


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and (a - b).abs().max().item() <= 1e-5 + 1e-5 * b.abs().max().item()


# ------------------------------------------------------------------ official BasicSR-style files


@pytest.mark.reference
@pytest.mark.parametrize(
    ("module", "cls", "arch", "hparams", "key"),
    [
        (
            "basicsr.archs.rrdbnet_arch",
            "RRDBNet",
            "RRDBNet",
            {**RRDB_SMALL, "scale": 4},
            "params_ema",
        ),
        (
            "basicsr.archs.rrdbnet_arch",
            "RRDBNet",
            "RRDBNet",
            {**RRDB_SMALL, "scale": 2},
            "params_ema",
        ),
        ("basicsr.archs.rrdbnet_arch", "RRDBNet", "RRDBNet", {**RRDB_SMALL, "scale": 1}, "params"),
        (
            "realesrgan.archs.srvgg_arch",
            "SRVGGNetCompact",
            "SRVGGNetCompact",
            {
                "num_in_ch": 3,
                "num_out_ch": 3,
                "num_feat": 8,
                "num_conv": 5,
                "upscale": 4,
                "act_type": "prelu",
            },
            "params_ema",
        ),
        (
            "realesrgan.archs.srvgg_arch",
            "SRVGGNetCompact",
            "SRVGGNetCompact",
            {
                "num_in_ch": 1,
                "num_out_ch": 1,
                "num_feat": 8,
                "num_conv": 2,
                "upscale": 2,
                "act_type": "prelu",
            },
            "params",
        ),
        (
            "basicsr.archs.srresnet_arch",
            "MSRResNet",
            "MSRResNet",
            {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 3, "upscale": 3},
            "params",
        ),
        (
            "basicsr.archs.edsr_arch",
            "EDSR",
            "EDSR",
            {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 2, "upscale": 4},
            "params",
        ),
        (
            "realesrgan.archs.discriminator_arch",
            "UNetDiscriminatorSN",
            "UNetDiscriminatorSN",
            {"num_in_ch": 3, "num_feat": 4, "skip_connection": True},
            "params",
        ),
        (
            "basicsr.archs.discriminator_arch",
            "VGGStyleDiscriminator",
            "VGGStyleDiscriminator",
            {"num_in_ch": 3, "num_feat": 2, "input_size": 128},
            "params",
        ),
    ],
    ids=[
        "rrdb-x4",
        "rrdb-x2",
        "rrdb-x1",
        "srvgg-x4",
        "srvgg-x2-1ch",
        "msrresnet-x3",
        "edsr-x4",
        "unet-d",
        "vgg-d",
    ],
)
def test_official_checkpoint_is_recognised(
    module: str, cls: str, arch: str, hparams: dict[str, Any], key: str, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    ref = getattr(import_reference(module), cls)(**hparams).eval()
    path = tmp_path / "official.pth"
    torch.save({key: ref.state_dict()}, path)  # as BasicSR / Real-ESRGAN publish them

    model = load_model(path)
    assert model.arch_name == arch
    expected = dict(hparams)
    if arch == "EDSR":
        expected |= {"res_scale": 1.0, "img_range": 255.0, "rgb_mean": [0.4488, 0.4371, 0.4040]}
    assert model.hparams == expected
    size = 128 if arch == "VGGStyleDiscriminator" else 8
    x = torch.rand(1, hparams["num_in_ch"], size, size)
    with torch.no_grad():
        assert _close(model(x), ref(x))


@pytest.mark.reference
def test_params_ema_preferred_over_params(tmp_path: Path) -> None:
    rrdb = import_reference("basicsr.archs.rrdbnet_arch").RRDBNet
    torch.manual_seed(0)
    net, ema = rrdb(**RRDB_SMALL).eval(), rrdb(**RRDB_SMALL).eval()
    path = tmp_path / "net_g.pth"
    torch.save({"params": net.state_dict(), "params_ema": ema.state_dict()}, path)
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert _close(load_model(path)(x), ema(x))
        assert _close(load_model(path, key="params")(x), net(x))
    assert load_checkpoint(path).params_key == "params_ema"


# ------------------------------------------------------------------ ESRGAN naming schemes


def _old_esrgan_names(state: dict[str, torch.Tensor], num_block: int) -> dict[str, torch.Tensor]:
    """Rename RRDBNet keys to the original ESRGAN (``model.N``) layout, for x4 models."""
    fixed = {
        "conv_first": "model.0",
        "conv_body": f"model.1.sub.{num_block}",
        "conv_up1": "model.3",
        "conv_up2": "model.6",
        "conv_hr": "model.8",
        "conv_last": "model.10",
    }
    old = {}
    for key, value in state.items():
        module, kind = key.rsplit(".", 1)
        if module in fixed:
            old[f"{fixed[module]}.{kind}"] = value
        else:
            _, block, rdb, conv = module.split(".")  # body.<i>.rdb<r>.conv<c>
            old[f"model.1.sub.{block}.RDB{rdb[3:]}.conv{conv[4:]}.0.{kind}"] = value
    return old


@pytest.mark.reference
def test_old_esrgan_checkpoint_remapped(tmp_path: Path) -> None:
    torch.manual_seed(0)
    ref = import_reference("basicsr.archs.rrdbnet_arch").RRDBNet(**RRDB_SMALL).eval()
    old = _old_esrgan_names(ref.state_dict(), RRDB_SMALL["num_block"])
    assert "model.1.sub.0.RDB1.conv1.0.weight" in old and "model.10.bias" in old
    path = tmp_path / "RRDB_ESRGAN_x4.pth"
    torch.save(old, path)  # the original ESRGAN files are flat state dicts

    ckpt = load_checkpoint(path)
    assert ckpt.source == "esrgan-old"
    model = load_model(path)
    assert model.hparams == {**RRDB_SMALL, "scale": 4}
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert _close(model(x), ref(x))


def test_old_esrgan_other_scales_refused() -> None:
    net = build_model("RRDBNet", {**RRDB_SMALL, "num_block": 1})
    old = _old_esrgan_names(net.state_dict(), 1)
    old["model.13.weight"] = old["model.10.weight"]  # a third upsampling stage (x8)
    old["model.13.bias"] = old["model.10.bias"]
    with pytest.raises(CheckpointError, match="upsampling stages"):
        infer_architecture(old)


def test_esrgan_repository_names(tmp_path: Path) -> None:
    net = build_model("RRDBNet", {**RRDB_SMALL, "num_block": 2}).eval()
    renamed = {}
    for key, value in net.state_dict().items():
        key = re.sub(r"^body\.(\d+)\.rdb(\d)\.", r"RRDB_trunk.\1.RDB\2.", key)
        key = key.replace("conv_body.", "trunk_conv.").replace("conv_up", "upconv")
        renamed[key.replace("conv_hr.", "HRconv.")] = value
    torch.save(renamed, tmp_path / "bsrgan.pth")
    model = load_model(tmp_path / "bsrgan.pth")
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        assert torch.equal(model(x), net(x))


# ------------------------------------------------------------------ our format


def test_saved_pth_is_basicsr_compatible(tmp_path: Path) -> None:
    net = build_model("RRDBNet", {**RRDB_SMALL, "scale": 2})
    ema = build_model("RRDBNet", {**RRDB_SMALL, "scale": 2})
    path = save_checkpoint(tmp_path / "sub" / "net.pth", net, ema_model=ema, extra={"iter": 7})
    raw = torch.load(path, weights_only=True)
    assert raw["realsr_arch"] == "RRDBNet" and raw["realsr_hparams"] == net.hparams
    assert set(raw["params"]) == set(net.state_dict()) and set(raw["params_ema"]) == set(
        raw["params"]
    )
    assert torch.equal(raw["params_ema"]["conv_first.weight"], ema.conv_first.weight)
    assert load_checkpoint(path).extra == {"iter": 7}
    assert [p.name for p in path.parent.iterdir()] == ["net.pth"]  # no temporary left behind


def test_hparams_override_and_scale_required(tmp_path: Path) -> None:
    net = build_model("SRCNN", {"num_feat": 4, "num_feat2": 2, "scale": 3})
    torch.save(net.state_dict(), tmp_path / "srcnn.pth")  # a bare state dict from elsewhere
    with pytest.raises(CheckpointError, match=r"SRCNN scale cannot be inferred.*'scale': \.\.\."):
        load_model(tmp_path / "srcnn.pth")
    model = load_model(tmp_path / "srcnn.pth", hparams={"scale": 3})
    assert model.hparams == net.hparams
    vdsr = build_model("VDSR", {"num_feat": 4, "num_layers": 5, "scale": 2})
    torch.save({"model": vdsr.state_dict()}, tmp_path / "vdsr.pth")
    assert load_model(tmp_path / "vdsr.pth", hparams={"scale": 2}).hparams == vdsr.hparams


def test_ema_must_match_model(tmp_path: Path) -> None:
    net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
    other = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 2})
    with pytest.raises(ValueError, match="ema_model"):
        save_checkpoint(tmp_path / "x.pth", net, ema_model=other)
    with pytest.raises(TypeError, match="SRArch"):
        save_checkpoint(tmp_path / "x.pth", torch.nn.Conv2d(1, 1, 1))


def test_mismatched_weights_are_reported(tmp_path: Path) -> None:
    net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
    path = save_checkpoint(tmp_path / "net.pth", net)
    with pytest.raises(CheckpointError, match=r"net\.pth.*do not fit"):
        load_model(path, hparams={"num_conv": 2})


# ------------------------------------------------------------------ safety and errors


def _touch(path: str) -> None:  # executed only if an unpickler runs arbitrary code
    Path(path).write_text("pwned")


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_touch, (str(self.marker),))


def test_pickled_object_is_refused(tmp_path: Path) -> None:
    net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pth"
    torch.save({"params": net.state_dict(), "hook": _Payload(marker)}, path)
    with pytest.raises(CheckpointError) as info:
        load_model(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message and "weights_only" in message and "_touch" in message
    assert not marker.exists()


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "RealESRGAN_x4plus.pth"
    with pytest.raises(FileNotFoundError, match=re.escape(str(missing))):
        load_model(missing)


def test_unreadable_and_unrecognised_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match="garbage.pth.*not a readable"):
        load_model(garbage)
    unknown = tmp_path / "unknown.pth"
    torch.save({"params": {"foo.weight": torch.zeros(1)}}, unknown)
    with pytest.raises(CheckpointError, match="unknown.pth.*unrecognised"):
        load_model(unknown)


# ------------------------------------------------------------------ spandrel interop


def _spandrel() -> Any:
    return import_reference("spandrel")


@pytest.mark.reference
@pytest.mark.parametrize(
    ("arch", "hparams", "spandrel_id", "scale", "suffix"),
    [
        # spandrel's ESRGAN assumes the standard growth of 32 channels
        (
            "RRDBNet",
            {**RRDB_SMALL, "scale": 4, "num_block": 1, "num_grow_ch": 32},
            "ESRGAN",
            4,
            ".pth",
        ),
        (
            "RRDBNet",
            {**RRDB_SMALL, "scale": 2, "num_block": 1, "num_grow_ch": 32},
            "ESRGAN",
            2,
            ".pth",
        ),
        (
            "SRVGGNetCompact",
            {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_conv": 4, "upscale": 4},
            "Compact",
            4,
            ".pth",
        ),
        (
            "SRVGGNetCompact",
            {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_conv": 2, "upscale": 2},
            "Compact",
            2,
            ".safetensors",
        ),
    ],
    ids=["rrdb-x4", "rrdb-x2", "srvgg-x4", "srvgg-x2-safetensors"],
)
def test_spandrel_loads_our_checkpoints(
    arch: str, hparams: dict[str, Any], spandrel_id: str, scale: int, suffix: str, tmp_path: Path
) -> None:
    spandrel = _spandrel()
    if suffix == ".safetensors":
        pytest.importorskip("safetensors")
    torch.manual_seed(0)
    net = build_model(arch, hparams).eval()
    ema = build_model(arch, hparams).eval()
    path = save_checkpoint(tmp_path / f"model{suffix}", net, ema_model=ema)
    descriptor = spandrel.ModelLoader().load_from_file(path)
    assert descriptor.architecture.id == spandrel_id
    assert descriptor.scale == scale
    assert descriptor.input_channels == 3 and descriptor.output_channels == 3
    descriptor.model.eval()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        y = descriptor.model(x)
        assert _close(y, ema(x))  # spandrel takes params_ema, as load_model does
        assert _close(load_model(path)(x), y)


# ------------------------------------------------------------------ zoo


def test_zoo_entries_are_consistent() -> None:
    from realsr.archs import VARIANTS
    from realsr.zoo import ZOO

    assert {
        "RealESRGAN_x4plus",
        "RealESRNet_x4plus",
        "RealESRGAN_x2plus",
        "RealESRGAN_x4plus_anime_6B",
        "realesr-general-x4v3",
        "realesr-general-wdn-x4v3",
        "realesr-animevideov3",
    } <= set(ZOO.names())
    for name in ZOO.names():
        entry = ZOO.get(name)
        with torch.device("meta"):
            model = build_model(entry.arch, entry.hparams)
        assert model.hparams == dict(entry.hparams), name
        assert model.scale == entry.scale, name
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256), name
        assert entry.url.startswith("https://"), name
        if "/releases/download/" in entry.url:
            assert entry.url.endswith("/" + entry.filename), name
        if name in VARIANTS:
            assert VARIANTS.get(name).hparams == dict(entry.hparams), name


def test_resolve_model_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from realsr.zoo import ZOO, default_weights_dir, resolve_model_name, sha256_of

    monkeypatch.setenv("REALSR_WEIGHTS", str(tmp_path))
    assert default_weights_dir() == tmp_path
    entry = ZOO.get("realesr-animevideov3")
    with pytest.raises(FileNotFoundError) as info:
        resolve_model_name("realesr-animevideov3")
    message = str(info.value)
    assert entry.filename in message and entry.url in message and str(tmp_path) in message
    with pytest.raises(KeyError, match="RealESRGAN_x4plus"):
        resolve_model_name("RealESRGAN_x4plu")

    fake = tmp_path / entry.filename
    fake.write_bytes(b"abc")
    assert sha256_of(fake) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert resolve_model_name("realesr-animevideov3") == fake
    with pytest.raises(ValueError, match="does not match the published " + str(entry.sha256)):
        resolve_model_name("realesr-animevideov3", tmp_path, verify=True)


def test_load_zoo_model_checks_configuration(tmp_path: Path) -> None:
    from realsr.zoo import ZOO, load_zoo_model

    entry = ZOO.get("realesr-animevideov3")
    net = build_model(entry.arch, entry.hparams)
    torch.save({"params": net.state_dict()}, tmp_path / entry.filename)  # official layout
    assert load_zoo_model("realesr-animevideov3", tmp_path).hparams == dict(entry.hparams)
    small = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 2})
    torch.save({"params": small.state_dict()}, tmp_path / entry.filename)
    with pytest.raises(CheckpointError, match="expected SRVGGNetCompact"):
        load_zoo_model("realesr-animevideov3", tmp_path)


def test_safetensors_missing_package_is_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "safetensors", None)  # makes `import safetensors` fail
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)
    net = build_model("SRVGGNetCompact", {"num_feat": 4, "num_conv": 1})
    with pytest.raises(ImportError, match=r"model\.safetensors.*pip install safetensors"):
        save_checkpoint(tmp_path / "model.safetensors", net)
    assert not list(tmp_path.iterdir())
