"""The Trainer's step context (AMP, clipping, NaN guard) and the training loop on a toy task."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from realsr.train.context import TrainStepContext
from realsr.train.task import PlainStepContext

from ._toy import run_trainer, toy_options

# --------------------------------------------------------------------------------------------
# The step context


def _linear(seed: int = 0) -> tuple[nn.Linear, torch.optim.SGD]:
    torch.manual_seed(seed)
    net = nn.Linear(4, 2)
    return net, torch.optim.SGD(net.parameters(), lr=0.1)


def test_optimize_applies_a_finite_step_and_skips_a_nan_loss() -> None:
    net, opt = _linear()
    ctx = TrainStepContext({"g": opt}, device=torch.device("cpu"), seed=0)
    before = net.weight.detach().clone()
    ctx.iteration = 1
    assert ctx.optimize("g", net(torch.ones(3, 4)).square().mean())
    stepped = net.weight.detach().clone()
    assert not torch.equal(before, stepped)
    ctx.iteration = 2
    assert not ctx.optimize("g", net(torch.ones(3, 4)).sum() * float("nan"))
    assert torch.equal(net.weight, stepped)
    assert all(p.grad is None for p in net.parameters())  # no stale NaN gradients left
    assert ctx.skipped == [(2, "g", "non-finite loss")]


def test_grad_clip_limits_the_step_to_the_clipped_gradient() -> None:
    net, opt = _linear()
    ref, _ = _linear()
    x = torch.randn(8, 4) * 100
    ctx = TrainStepContext({"g": opt}, device=torch.device("cpu"), seed=0, grad_clip=0.5)
    assert ctx.optimize("g", net(x).square().mean())
    grads = torch.autograd.grad(ref(x).square().mean(), list(ref.parameters()))
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert norm > 0.5  # the clip is active
    with torch.no_grad():
        for p, g in zip(ref.parameters(), grads, strict=True):
            p.sub_(0.1 * g * (0.5 / (norm + 1e-6)))
    for p, q in zip(net.parameters(), ref.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_grad_clip_skips_a_non_finite_gradient_with_a_finite_loss() -> None:
    net, opt = _linear()
    ctx = TrainStepContext({"g": opt}, device=torch.device("cpu"), seed=0, grad_clip=1.0)
    w = net.weight
    loss = torch.sqrt(w - w.detach()).sum()  # 0, but d/dw sqrt(0) is inf
    before = w.detach().clone()
    assert torch.isfinite(loss)
    assert not ctx.optimize("g", loss)
    assert torch.equal(net.weight, before)
    assert ctx.skipped[0][2] == "non-finite loss or gradient norm"


def test_fp16_scaler_on_cpu_steps_and_treats_overflow_as_the_scaler_s_business() -> None:
    net, opt = _linear()
    ctx = TrainStepContext(
        {"g": opt}, device=torch.device("cpu"), seed=0, mixed_precision="fp16", grad_clip=1.0
    )
    assert ctx.scaler is not None
    with ctx.autocast():
        out = net(torch.ones(2, 4))
    assert out.dtype == torch.float16
    before = net.weight.detach().clone()
    assert ctx.optimize("g", out.float().square().mean())
    ctx.end_iteration()
    assert not torch.equal(net.weight, before)
    scale = ctx.scaler.get_scale()
    # A finite loss whose scaled gradients overflow: skipped by the scaler, not a bad step.
    w = net.weight
    stepped = w.detach().clone()
    assert ctx.optimize("g", torch.sqrt(w - w.detach()).sum())
    ctx.end_iteration()
    assert torch.equal(net.weight, stepped)
    assert ctx.scaler.get_scale() == scale * 0.5
    assert ctx.skipped == []


def _contexts(net_opt: tuple[nn.Linear, torch.optim.SGD], mixed_precision: str) -> Any:
    opt = net_opt[1]
    if mixed_precision == "plain":
        return PlainStepContext({"g": opt}, device=torch.device("cpu"))
    return TrainStepContext(
        {"g": opt}, device=torch.device("cpu"), seed=0, mixed_precision=mixed_precision
    )


@pytest.mark.parametrize("mixed_precision", ["no", "fp16", "plain"])
def test_optimizing_two_losses_in_turn_equals_one_step_on_their_sum(mixed_precision: str) -> None:
    summed, separate = _linear(), _linear()
    x, y = torch.randn(5, 4), torch.randn(3, 4)
    ctx_sum = _contexts(summed, mixed_precision)
    ctx_sep = _contexts(separate, mixed_precision)
    net_sum, net_sep = summed[0], separate[0]
    assert ctx_sum.optimize("g", net_sum(x).square().mean() + net_sum(y).abs().mean())
    with ctx_sep.optimizing("g") as step:
        step.backward(net_sep(x).square().mean())
        grads_after_first = [p.grad.clone() for p in net_sep.parameters()]
        step.backward(net_sep(y).abs().mean())
    assert step.applied
    assert any(g.abs().sum() > 0 for g in grads_after_first)  # the first backward ran in place
    for p, q in zip(net_sum.parameters(), net_sep.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mixed_precision", ["no", "plain"])
def test_optimizing_skips_the_step_when_any_loss_is_not_finite(mixed_precision: str) -> None:
    net, opt = _linear()
    ctx = _contexts((net, opt), mixed_precision)
    before = net.weight.detach().clone()
    with ctx.optimizing("g") as step:
        step.backward(net(torch.ones(2, 4)).square().mean())
        step.backward(net(torch.ones(2, 4)).sum() * float("nan"))
    assert not step.applied
    assert torch.equal(net.weight, before)
    assert all(p.grad is None for p in net.parameters())
    if mixed_precision == "no":
        assert ctx.skipped == [(0, "g", "non-finite loss")]


@pytest.mark.parametrize("mixed_precision", ["no", "plain"])
def test_optimizing_does_not_step_after_an_error_or_without_a_loss(mixed_precision: str) -> None:
    net, opt = _linear()
    ctx = _contexts((net, opt), mixed_precision)
    before = net.weight.detach().clone()

    def failing_block() -> None:
        with ctx.optimizing("g") as step:
            step.backward(net(torch.ones(2, 4)).square().mean())
            raise ZeroDivisionError

    def empty_block() -> None:
        with ctx.optimizing("g"):
            pass

    with pytest.raises(ZeroDivisionError):
        failing_block()
    assert torch.equal(net.weight, before)
    with pytest.raises(RuntimeError, match=r"optimizing\('g'\): the block backwarded no loss"):
        empty_block()
    assert torch.equal(net.weight, before)


def test_bf16_autocast_without_scaler_and_unknown_precision() -> None:
    net, opt = _linear()
    ctx = TrainStepContext({"g": opt}, device=torch.device("cpu"), seed=0, mixed_precision="bf16")
    assert ctx.scaler is None
    with ctx.autocast():
        assert net(torch.ones(1, 4)).dtype == torch.bfloat16
    with pytest.raises(ValueError, match=r"train\.mixed_precision"):
        TrainStepContext({"g": opt}, device=torch.device("cpu"), seed=0, mixed_precision="fp8")


# --------------------------------------------------------------------------------------------
# The loop on a toy task


@pytest.fixture
def root(tmp_path: Path) -> Path:
    from ._toy import make_images

    make_images(tmp_path / "hr")
    return tmp_path


def test_experiment_layout_checkpoints_and_logs(root: Path) -> None:
    import yaml

    from realsr.checkpoint import load_checkpoint, load_model
    from realsr.config import options_from_dict, resolved_dict
    from realsr.train import train

    options = toy_options(root)
    trainer = train(options, task_factory=_factory())
    exp = root / "exp"
    assert trainer.iteration == 4
    assert sorted(p.name for p in (exp / "models").iterdir()) == [
        "net_g_2.pth",
        "net_g_4.pth",
        "net_g_latest.pth",
    ]
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["2.state", "4.state"]
    # BasicSR-style model files that `realsr infer -m` loads; the EMA copy is params_ema.
    ckpt = load_checkpoint(exp / "models" / "net_g_4.pth", key="params")
    ema = load_checkpoint(exp / "models" / "net_g_4.pth", key="params_ema")
    net_g = trainer.task.networks()["g"]
    for k, v in net_g.state_dict().items():
        assert torch.equal(ckpt.state_dict[k], v)
    assert any(not torch.equal(ema.state_dict[k], v) for k, v in net_g.state_dict().items())
    for k, v in trainer.ema.module.state_dict().items():
        assert torch.equal(ema.state_dict[k], v)
    latest = load_model(exp / "models" / "net_g_latest.pth")
    assert latest.hparams == net_g.hparams
    # The resolved options round-trip.
    saved = yaml.safe_load((exp / "options.yml").read_text())
    assert resolved_dict(options_from_dict(saved, source="options.yml")) == resolved_dict(options)
    # Every iteration logged (print_freq 1): jsonl losses equal the in-memory history.
    records = [json.loads(line) for line in (exp / "metrics.jsonl").read_text().splitlines()]
    logged = [r for r in records if "losses" in r]
    assert [r["iteration"] for r in logged] == [1, 2, 3, 4]
    assert [r["losses"]["l_pix"] for r in logged] == [h["l_pix"] for h in trainer.history]
    # MultiStepLR milestone 3 (BasicSR order: the 4th iteration runs at the halved rate).
    assert [h["lr_g"] for h in trainer.history] == [1e-2, 1e-2, 1e-2, 5e-3]
    assert "saved models and training state of iteration 4" in (exp / "train.log").read_text()


def _factory() -> Any:
    from ._toy import ToyTask

    return lambda o, *, device: ToyTask(o, device=device)


def test_keep_checkpoints_prunes_old_states_and_models_but_not_latest(root: Path) -> None:
    options = toy_options(
        root, train__total_iter=8, logger__save_checkpoint_freq=2, logger__keep_checkpoints=2
    )
    run_trainer(options)
    exp = root / "exp"
    assert sorted(p.name for p in (exp / "training_states").iterdir()) == ["6.state", "8.state"]
    assert sorted(p.name for p in (exp / "models").iterdir()) == [
        "net_g_6.pth",
        "net_g_8.pth",
        "net_g_latest.pth",
    ]


def test_nan_steps_are_skipped_logged_and_counted(root: Path) -> None:
    trainer = run_trainer(toy_options(root), nan_at={2})
    assert trainer.bad_steps == 1
    log = (root / "exp" / "train.log").read_text()
    assert "iteration 2: skipped the net_g step (non-finite loss)" in log
    state = torch.load(root / "exp" / "training_states" / "4.state", weights_only=True)
    assert state["bad_steps"] == 1


def test_too_many_bad_steps_stop_the_run_and_keep_the_last_good_state(root: Path) -> None:
    from realsr.train import TrainingError

    options = toy_options(root, train__max_bad_steps=2, train__total_iter=8)
    with pytest.raises(TrainingError, match=r"stopped at iteration 5: 2 non-finite steps") as info:
        run_trainer(options, nan_at={3, 5})
    states = sorted(p.name for p in (root / "exp" / "training_states").iterdir())
    assert states == ["2.state", "4.state"]
    assert str(root / "exp" / "training_states" / "4.state") in str(info.value)


def test_channels_last_nets_and_batches(root: Path) -> None:
    trainer = run_trainer(toy_options(root, train__channels_last=True, train__total_iter=2))
    assert [s["channels_last"] for s in trainer.task.seen] == [True, True]
    conv = next(m for m in trainer.task.networks()["g"].modules() if isinstance(m, nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_runs_and_saves_the_scaler(root: Path, precision: str) -> None:
    trainer = run_trainer(toy_options(root, train__mixed_precision=precision, train__total_iter=2))
    assert all(torch.isfinite(torch.tensor(h["l_pix"])) for h in trainer.history)
    state = torch.load(root / "exp" / "training_states" / "2.state", weights_only=True)
    assert (state["scaler"] is not None) == (precision == "fp16")


def test_compile_option_wraps_every_network(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # torch.compile itself takes ~40 s on this CPU; the wiring is checked with a stand-in.
    compiled: list[nn.Module] = []

    class Compiled(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            super().__init__()
            self._orig_mod = inner
            compiled.append(inner)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self._orig_mod(x)

    monkeypatch.setattr(torch, "compile", Compiled)
    trainer = run_trainer(toy_options(root, train__compile=True, train__total_iter=2))
    assert isinstance(trainer.task.networks()["g"], Compiled)
    assert len(compiled) == 1
    # Checkpoints hold the plain network's keys.
    state = torch.load(root / "exp" / "models" / "net_g_2.pth", weights_only=True)
    assert set(state["params"]) == set(compiled[0].state_dict())


def test_validation_writes_best_checkpoint_and_keeps_the_best_table(root: Path) -> None:
    from ._toy import make_images

    make_images(root / "val", count=2, size=20, seed=1)
    options = toy_options(
        root,
        datasets__val={
            "name": "valset",
            "type": "RealESRGANDataset",
            "dataroot_gt": str(root / "val"),
            "io_backend": {"type": "disk"},
        },
        val={"val_freq": 2, "metrics": {"psnr": {"type": "calculate_psnr", "crop_border": 2}}},
    )
    trainer = run_trainer(options)
    exp = root / "exp"
    assert (exp / "models" / "net_g_best_psnr.pth").is_file()
    best_value, best_iter = trainer.validator.best["valset"]["psnr"]
    assert best_iter in (2, 4)
    state = torch.load(exp / "training_states" / "4.state", weights_only=True)
    assert state["validator"]["best"]["valset"]["psnr"] == [best_value, best_iter]
    records = [json.loads(line) for line in (exp / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in records if "validation" in r] == [2, 4]


def test_task_log_records_reach_train_log(root: Path) -> None:
    import logging

    from ._toy import ToyTask

    def factory(options: Any, *, device: torch.device) -> ToyTask:
        logging.getLogger("realsr.train.tasks.toy").warning("pretrained: skipped conv_first")
        logging.getLogger("realsr.train.tasks.toy").info("loaded net_g")
        return ToyTask(options, device=device)

    from realsr.train.trainer import Trainer

    Trainer(toy_options(root, train__total_iter=1), task_factory=factory).run()
    log = (root / "exp" / "train.log").read_text()
    assert "WARNING: pretrained: skipped conv_first" in log and "INFO: loaded net_g" in log
    assert not logging.getLogger("realsr").handlers  # detached after the run


def test_pretrained_run_starts_net_g_from_param_key_and_the_ema_from_params_ema(
    tmp_path: Path,
) -> None:
    from realsr.archs import build_model
    from realsr.train.trainer import Trainer

    from ._toy import make_images, toy_mapping

    make_images(tmp_path / "hr")
    args = dict(toy_mapping(tmp_path)["network_g"])
    arch = args.pop("type")
    torch.manual_seed(1)
    params = build_model(arch, args).state_dict()
    torch.manual_seed(2)
    params_ema = build_model(arch, args).state_dict()
    weights = tmp_path / "pretrained.pth"
    torch.save({"params": params, "params_ema": params_ema}, weights)
    options = toy_options(
        tmp_path,
        model_type="SRModel",
        path__pretrain_network_g=str(weights),
        path__param_key_g="params",
        train__total_iter=1,
    )
    trainer = Trainer(options)  # the registry's SRModel task: builds and loads, no step yet
    net_g = trainer.task.networks()["g"].state_dict()
    ema = trainer.ema.module.state_dict()
    for key in params:
        assert torch.equal(net_g[key], params[key])
        assert torch.equal(ema[key], params_ema[key])
