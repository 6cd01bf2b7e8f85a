"""Distributed training: helpers in one process, and a 2-process gloo run through torchrun."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from realsr.train import distributed as ddp

from ._toy import REPO_ROOT, make_images, write_options


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_single_process_defaults_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ddp.init_distributed("none", backend="nccl", port=1) == ddp.DistInfo()
    assert ddp.resolve_device(0) == (torch.device("cpu"), None)
    with pytest.raises(ValueError, match="unknown launcher 'slurm'"):
        ddp.init_distributed("slurm", backend="nccl", port=1)
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match="environment variable RANK .*torchrun"):
        ddp.init_distributed("pytorch", backend="gloo", port=1)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cuda_request_without_cuda_runs_on_the_cpu_with_a_notice() -> None:
    assert ddp.resolve_device("auto") == (torch.device("cpu"), None)
    device, notice = ddp.resolve_device(4)
    assert device == torch.device("cpu")
    assert notice is not None and "num_gpu: 4" in notice


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU backend substitution")
def test_one_process_group_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.delenv("MASTER_PORT", raising=False)
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    info = ddp.init_distributed("pytorch", backend="nccl", port=_free_port(), num_gpu="auto")
    try:
        assert info.enabled and info.rank == 0 and info.world_size == 1
        assert any("using gloo" in n for n in info.notices)
        assert bool(ddp.all_ranks_true(torch.tensor(True), info))
        assert not bool(ddp.all_ranks_true(torch.tensor(False), info))
        means = ddp.mean_over_ranks({"a": torch.tensor(2.0), "b": torch.tensor(4.0)}, info)
        assert means == {"a": torch.tensor(2.0), "b": torch.tensor(4.0)}
        assert ddp.broadcast_object({"x": 1}, info) == {"x": 1}
        assert ddp.gather_objects(3, info) == [3]
        net = nn.Linear(2, 2)
        wrapped = ddp.wrap_ddp(net, torch.device("cpu"))
        assert isinstance(wrapped, nn.parallel.DistributedDataParallel)
        assert ddp.unwrap(wrapped) is net
        frozen = nn.Linear(2, 2).requires_grad_(False)
        assert ddp.wrap_ddp(frozen, torch.device("cpu")) is frozen
    finally:
        ddp.cleanup(info)
    assert not torch.distributed.is_initialized()


def _torchrun(options: Path, dump: Path, *extra: str) -> list[dict[str, Any]]:
    """Train ``options`` in 2 gloo processes; returns each rank's dump (see tests.realsr.train._toy)."""
    dump.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(_free_port()),
        "-m",
        "tests.realsr.train._toy",
        str(options),
        "--launcher",
        "pytorch",
        "--dump",
        str(dump),
        *extra,
    ]
    proc = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [torch.load(dump / f"rank{r}.pt", weights_only=True) for r in (0, 1)]


def _assert_in_step(ranks: list[dict[str, Any]], net: str) -> None:
    initial, final = ranks[0]["initial"][net], ranks[0]["final"][net]
    for name, value in final.items():
        assert torch.equal(value, ranks[1]["final"][net][name]), (net, name)  # DDP kept step
        assert torch.equal(initial[name], ranks[1]["initial"][net][name]), (net, name)  # broadcast
    assert any(not torch.equal(final[k], initial[k]) for k in final), net  # and it trained


@pytest.mark.slow
def test_two_gloo_processes_keep_identical_weights(tmp_path: Path) -> None:
    make_images(tmp_path / "hr", count=8)
    options = write_options(
        tmp_path,
        train__total_iter=3,
        datasets__train__batch_size_per_gpu=2,
        dist_params={"backend": "nccl", "port": 29500},
    )
    ranks = _torchrun(options, tmp_path / "dump")
    _assert_in_step(ranks, "g")
    # The sampler split: 8 images, 2 per rank per iteration, 2 iterations per epoch.
    keys0, keys1 = ranks[0]["keys"], ranks[1]["keys"]
    assert len(keys0) == len(keys1) == 3
    epoch0 = [k for batch in keys0[:2] + keys1[:2] for k in batch]
    assert len(set(epoch0)) == 8
    # Logged losses are averaged over the ranks; rank 0 alone writes the experiment folder.
    assert len(ranks[0]["history"]) == 3 and ranks[0]["history"] == ranks[1]["history"]
    exp = tmp_path / "exp"
    assert "using gloo" in (exp / "train.log").read_text()
    saved = torch.load(exp / "models" / "net_g_latest.pth", weights_only=True)["params"]
    for name, value in saved.items():
        assert torch.equal(value, ranks[0]["final"]["g"][name])


@pytest.mark.slow
def test_two_gloo_processes_train_real_esrgan_in_step(tmp_path: Path) -> None:
    """RealESRGANModel (G and a U-Net D, D frozen during the G step) under DDP."""
    make_images(tmp_path / "hr", count=8, size=64)
    tiny_g = {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}
    options = write_options(
        tmp_path,
        model_type="RealESRGANModel",
        scale=4,
        degradation="realesrgan_x4plus",
        gt_size=32,
        datasets__train__crop_pad_size=64,
        datasets__train__gt_size=32,
        network_g={"type": "RRDBNet", "scale": 4, **tiny_g},
        network_d={"type": "UNetDiscriminatorSN", "num_in_ch": 3, "num_feat": 8},
        train__optim_d={"type": "Adam", "lr": 1e-3},
        train__gan_opt={"type": "GANLoss", "gan_type": "vanilla", "loss_weight": 0.1},
        train__total_iter=2,
        dist_params={"backend": "gloo", "port": 29500},
    )
    ranks = _torchrun(options, tmp_path / "dump", "--registry")
    _assert_in_step(ranks, "g")
    _assert_in_step(ranks, "d")
    assert {"l_g_pix", "l_g_gan", "l_d_real", "l_d_fake"} <= set(ranks[0]["history"][-1])
    assert (tmp_path / "exp" / "models" / "net_d_2.pth").is_file()
