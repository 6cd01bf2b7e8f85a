"""EMA of a network's weights: the update formula, buffers, wrappers, devices and dtypes."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from realsr.archs import build_model
from realsr.train.ema import EMA, unwrap


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.steps = nn.Parameter(torch.zeros(2, dtype=torch.int64), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(x))


def copy_of(ema: EMA) -> Net:
    assert isinstance(ema.module, Net)
    return ema.module


def randomize(net: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            if p.is_floating_point():
                p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype).to(p.device))


def test_copy_is_frozen_and_in_eval_mode() -> None:
    net = Net().train()
    ema = EMA(net, 0.999)
    assert ema.module is not net and not ema.module.training and net.training
    assert all(not p.requires_grad for p in ema.module.parameters())
    assert all(p.requires_grad for p in net.conv.parameters())
    for a, b in zip(ema.module.state_dict().values(), net.state_dict().values(), strict=True):
        assert torch.equal(a, b) and a.data_ptr() != b.data_ptr()


def test_update_formula_by_hand(device: torch.device, dtype: torch.dtype) -> None:
    decay = 0.9
    net = Net().to(device=device, dtype=dtype)
    randomize(net, 0)
    ema = EMA(net, decay)
    start = {k: v.clone() for k, v in net.named_parameters()}
    expected = dict(start)
    for step in range(1, 4):
        randomize(net, step)
        with torch.no_grad():
            running_mean = net.bn.running_mean
            assert running_mean is not None
            running_mean.fill_(float(step))
            net.steps.fill_(step)
        ema.update(net)
        for name, p in net.named_parameters():
            if p.is_floating_point():
                expected[name] = decay * expected[name] + (1 - decay) * p.detach()
    got = dict(ema.module.named_parameters())
    for name, value in expected.items():
        if value.is_floating_point():
            assert got[name].dtype == dtype and got[name].device.type == device.type
            torch.testing.assert_close(got[name], value)
            assert not torch.equal(got[name], dict(net.named_parameters())[name])
    assert torch.equal(got["steps"], torch.full((2,), 3, device=device))  # integer: copied
    copied, source = copy_of(ema).bn, net.bn
    for name in ("running_mean", "running_var", "num_batches_tracked"):  # buffers: copied
        assert torch.equal(getattr(copied, name), getattr(source, name))


def test_decay_zero_copies() -> None:
    net = Net()
    ema = EMA(net, 0.0)
    randomize(net, 3)
    ema.update(net)
    for a, b in zip(ema.module.parameters(), net.parameters(), strict=True):
        assert torch.equal(a, b)


def test_matches_basicsr_model_ema_on_rrdbnet() -> None:
    """BasicSR's ``model_ema``: ``ema.mul_(decay).add_(param, alpha=1 - decay)`` per parameter."""
    hp = {"num_in_ch": 3, "num_out_ch": 3, "num_feat": 8, "num_block": 1, "num_grow_ch": 4}
    net = build_model("RRDBNet", hp)
    ema = EMA(net, 0.999)
    reference = {k: v.detach().clone() for k, v in net.named_parameters()}
    for step in range(3):
        randomize(net, step)
        ema.update(net)
        for k, p in net.named_parameters():
            reference[k].mul_(0.999).add_(p.detach(), alpha=1 - 0.999)
    for k, p in ema.module.named_parameters():
        assert torch.equal(p, reference[k]), k


def test_unwraps_compile_and_data_parallel() -> None:
    net = Net()
    compiled = torch.compile(net)
    assert isinstance(compiled, nn.Module)
    wrapped = nn.DataParallel(compiled)
    assert unwrap(wrapped) is net
    ema = EMA(wrapped, 0.5)
    assert type(ema.module) is Net
    randomize(net, 1)
    ema.update(wrapped)
    for a, b in zip(ema.module.parameters(), net.parameters(), strict=True):
        if a.is_floating_point():
            assert not torch.equal(a, b)


def test_model_in_another_dtype_is_cast() -> None:
    net = Net()
    ema = EMA(net, 0.5)
    half = Net().to(torch.bfloat16)
    randomize(half, 4)
    ema.update(half)
    assert copy_of(ema).conv.weight.dtype == torch.float32
    expected = 0.5 * net.conv.weight + 0.5 * half.conv.weight.float()
    torch.testing.assert_close(copy_of(ema).conv.weight, expected)


def test_mismatched_model_is_rejected() -> None:
    ema = EMA(Net(), 0.5)
    with pytest.raises(ValueError, match="parameters differ"):
        ema.update(nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"decay must be in \[0, 1\)"):
        EMA(Net(), 1.0)


def test_state_dict_round_trip_weights_only() -> None:
    net = Net()
    ema = EMA(net, 0.9)
    randomize(net, 5)
    ema.update(net)
    buffer = io.BytesIO()
    torch.save(ema.state_dict(), buffer)
    buffer.seek(0)
    other = EMA(Net(), 0.9)
    other.load_state_dict(torch.load(buffer, weights_only=True))
    for a, b in zip(
        other.module.state_dict().values(), ema.module.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b)
    with pytest.raises(RuntimeError):
        other.load_state_dict({"conv.weight": torch.zeros(1)})
