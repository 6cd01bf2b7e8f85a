"""Loading pretrained networks: param_key fallback, strict and non-strict loading (x2 -> x4),
prefixes, refused files, error messages naming the option."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
import torch

from realsr.archs import build_model
from realsr.checkpoint import save_checkpoint
from realsr.config import options_from_dict
from realsr.train.tasks import TASKS, load_pretrained

RRDB = {"num_feat": 8, "num_block": 1, "num_grow_ch": 4}
LOGGER = "realsr.train.tasks.pretrained"


def _net(scale: int = 4) -> Any:
    return build_model("RRDBNet", {**RRDB, "scale": scale})


def _options(path: dict[str, Any], *, scale: int = 4, network_d: bool = False) -> Any:
    raw: dict[str, Any] = {
        "name": "pretrained",
        "model_type": "SRGANModel" if network_d else "SRModel",
        "scale": scale,
        "num_gpu": 0,
        "datasets": {
            "train": {
                "name": "t",
                "type": "RealESRGANDataset",
                "dataroot_gt": "unused",
                "io_backend": {"type": "disk"},
                "gt_size": 32,
            }
        },
        "network_g": {"type": "RRDBNet", **RRDB, "scale": scale},
        "path": path,
        "train": {
            "optim_g": {"type": "Adam", "lr": 1e-4},
            "total_iter": 1,
            "pixel_opt": {"type": "L1Loss"},
        },
    }
    if network_d:
        raw["network_d"] = {"type": "UNetDiscriminatorSN", "num_feat": 8}
        raw["train"]["optim_d"] = {"type": "Adam", "lr": 1e-4}
        raw["train"]["gan_opt"] = {"type": "GANLoss", "gan_type": "vanilla"}
    return options_from_dict(raw, source="test")


def _build(path: dict[str, Any], **kwargs: Any) -> Any:
    options = _options(path, **kwargs)
    return TASKS.get(options.model_type)(options, device=torch.device("cpu"))


def _equal_states(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_task_loads_pretrain_network_g_with_param_key(tmp_path: Path) -> None:
    torch.manual_seed(1)
    net, ema = _net(), _net()
    file = save_checkpoint(tmp_path / "g.pth", net, ema_model=ema)
    task = _build({"pretrain_network_g": str(file), "param_key_g": "params_ema"})
    assert _equal_states(task.net_g.state_dict(), ema.state_dict())
    task = _build({"pretrain_network_g": str(file), "param_key_g": "params"})
    assert _equal_states(task.net_g.state_dict(), net.state_dict())


def test_missing_param_key_falls_back_to_params(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    net = _net()
    file = save_checkpoint(tmp_path / "g.pth", net)  # no params_ema
    with caplog.at_level(logging.INFO, logger=LOGGER):
        report = load_pretrained(_net(), file, param_key="params_ema")
    assert report.param_key == "params"
    assert "no 'params_ema' entry, loading 'params'" in caplog.text


def test_x2_weights_start_an_x4_model_with_strict_load_false(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    torch.manual_seed(2)
    x2 = _net(scale=2)
    file = save_checkpoint(tmp_path / "x2.pth", x2)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        task = _build({"pretrain_network_g": str(file), "strict_load_g": False})
    ours, theirs = task.net_g.state_dict(), x2.state_dict()
    assert ours["conv_first.weight"].shape != theirs["conv_first.weight"].shape
    assert not torch.equal(ours["conv_first.weight"][:, :3], theirs["conv_first.weight"][:, :3])
    for key, value in theirs.items():
        if key != "conv_first.weight":
            assert torch.equal(ours[key], value), key
    assert "conv_first.weight (8, 3, 3, 3) vs (8, 12, 3, 3)" in caplog.text
    # Strict loading refuses the same file with a one-line error naming the option to change.
    with pytest.raises(ValueError, match=r"x2\.pth.*different shapes \[conv_first\.weight\]"):
        _build({"pretrain_network_g": str(file)})
    with pytest.raises(ValueError, match=r"set path\.strict_load_g: false"):
        _build({"pretrain_network_g": str(file)})


def test_non_strict_skips_missing_and_unexpected_keys(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = _net().state_dict()
    del state["conv_last.bias"]
    state["extra.weight"] = torch.zeros(1)
    file = tmp_path / "partial.pth"
    torch.save({"params": {f"module.{k}": v for k, v in state.items()}}, file)
    net = _net()
    original = net.state_dict()["conv_last.bias"].clone()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        report = load_pretrained(net, file, strict=False)
    assert report.missing == ("conv_last.bias",) and report.unexpected == ("extra.weight",)
    assert torch.equal(net.state_dict()["conv_last.bias"], original)
    assert torch.equal(net.state_dict()["conv_first.weight"], state["conv_first.weight"])
    assert "conv_last.bias" in caplog.text and "extra.weight" in caplog.text
    with pytest.raises(
        ValueError, match=r"missing \[conv_last\.bias\]; unexpected \[extra\.weight\]"
    ):
        load_pretrained(_net(), file, strict=True)


def test_flat_state_dict_loads(tmp_path: Path) -> None:
    net = _net()
    file = tmp_path / "flat.pth"
    torch.save(net.state_dict(), file)
    other = _net()
    assert load_pretrained(other, file).param_key == ""
    assert _equal_states(other.state_dict(), net.state_dict())


def test_missing_file_names_file_and_option(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pth"
    with pytest.raises(FileNotFoundError, match=r"nope\.pth.*path\.pretrain_network_g"):
        _build({"pretrain_network_g": str(missing)})
    with pytest.raises(FileNotFoundError, match=r"nope\.pth.*path\.pretrain_network_d"):
        _build({"pretrain_network_d": str(missing)}, network_d=True)


def test_pretrain_network_d(tmp_path: Path) -> None:
    torch.manual_seed(3)
    disc = build_model("UNetDiscriminatorSN", {"num_feat": 8})
    file = save_checkpoint(tmp_path / "d.pth", disc)
    task = _build({"pretrain_network_d": str(file)}, network_d=True)
    assert _equal_states(task.net_d.state_dict(), disc.state_dict())


class _Payload:
    pass


def test_files_needing_arbitrary_objects_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "pickle.pth"
    torch.save({"params": _net().state_dict(), "obj": _Payload()}, file)
    with pytest.raises(ValueError, match=r"pickle\.pth \(path\.pretrain_network_g\): refused"):
        load_pretrained(_net(), file)
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a readable PyTorch checkpoint"):
        load_pretrained(_net(), bad)
    empty = tmp_path / "nothing.pth"
    torch.save({"meta": "x"}, empty)
    with pytest.raises(ValueError, match=r"no 'params' entry \(entries: meta\)"):
        load_pretrained(_net(), empty)
    with pytest.raises(ValueError, match=r"no 'params_ema' or 'params' entry"):
        load_pretrained(_net(), empty, param_key="params_ema")


def test_wrapped_networks_load_into_the_inner_module(tmp_path: Path) -> None:
    net = _net()
    file = save_checkpoint(tmp_path / "g.pth", net)
    wrapped = torch.nn.DataParallel(_net())
    load_pretrained(wrapped, file)
    assert _equal_states(wrapped.module.state_dict(), net.state_dict())
