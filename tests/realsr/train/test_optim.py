"""Optimizers and learning-rate schedules: options handling, BasicSR parity, exact resume."""

from __future__ import annotations

import io
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from torch import nn

from realsr.config import ConfigError, TypedSection, options_from_dict
from realsr.train.optim import (
    CosineAnnealingRestartLR,
    LearningRates,
    MultiStepRestartLR,
    build_optimizer,
    build_scheduler,
)
from tests._reference import REPO_ROOT, import_reference


def section(type_: str, where: str = "train.optim_g", **args: Any) -> TypedSection:
    return TypedSection(type=type_, args=args, where=where)


def params(n: int = 2) -> list[nn.Parameter]:
    return [nn.Parameter(torch.zeros(3)) for _ in range(n)]


def sched(type_: str, **args: Any) -> TypedSection:
    return section(type_, where="train.scheduler", **args)


# --------------------------------------------------------------------------------------------
# build_optimizer / build_scheduler


def test_build_optimizer_adam_from_yaml_values() -> None:
    frozen = nn.Parameter(torch.zeros(2), requires_grad=False)
    opt = build_optimizer(
        section("Adam", lr="1e-4", weight_decay=0, betas=[0.9, 0.99]), [*params(), frozen]
    )
    assert isinstance(opt, torch.optim.Adam)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(1e-4) and isinstance(group["lr"], float)
    assert group["betas"] == (0.9, 0.99)
    assert all(p is not frozen for p in group["params"]) and len(group["params"]) == 2


@pytest.mark.parametrize(
    ("type_", "cls", "args"),
    [
        ("AdamW", torch.optim.AdamW, {"lr": 1e-3, "weight_decay": 0.01}),
        ("SGD", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ],
)
def test_build_optimizer_other_types(type_: str, cls: type, args: dict[str, Any]) -> None:
    opt = build_optimizer(section(type_, **args), params())
    assert type(opt) is cls
    for key, value in args.items():
        assert opt.param_groups[0][key] == value


def test_unknown_optimizer_names_key_and_suggests() -> None:
    with pytest.raises(
        ConfigError, match=r"^train\.optim_d\.type: unknown optimizer 'Adm'.*'Adam'"
    ):
        build_optimizer(section("Adm", where="train.optim_d", lr=1e-4), params())


def test_unknown_optimizer_argument_names_key() -> None:
    with pytest.raises(
        ConfigError, match=r"^train\.optim_g\.beta: unknown argument of Adam.*'betas'"
    ):
        build_optimizer(section("Adam", lr=1e-4, beta=[0.9, 0.99]), params())


def test_bad_optimizer_value_names_key() -> None:
    with pytest.raises(ConfigError, match=r"^train\.optim_g\.lr: expected a number"):
        build_optimizer(section("Adam", lr="fast"), params())
    with pytest.raises(ConfigError, match=r"^train\.optim_g: "):
        build_optimizer(section("Adam", lr=-1.0), params())


def test_scheduler_errors_name_keys() -> None:
    opt = torch.optim.SGD(params(), lr=1.0)
    with pytest.raises(
        ConfigError, match=r"^train\.scheduler\.type: unknown scheduler 'MultiStepLr'"
    ):
        build_scheduler(sched("MultiStepLr", milestones=[2]), opt)
    with pytest.raises(ConfigError, match=r"^train\.scheduler\.milestone: .*'milestones'"):
        build_scheduler(sched("MultiStepLR", milestone=[2]), opt)
    with pytest.raises(ConfigError, match=r"^train\.scheduler: restarts \(2\) and restart_weights"):
        build_scheduler(sched("MultiStepRestartLR", milestones=[2], restarts=[0, 5]), opt)
    with pytest.raises(ConfigError, match=r"^train\.scheduler\.milestones: expected an integer"):
        build_scheduler(sched("MultiStepLR", milestones=[2.5]), opt)


def test_float_milestones_become_ints() -> None:
    opt = torch.optim.SGD(params(), lr=1.0)
    scheduler = build_scheduler(sched("MultiStepRestartLR", milestones=["5e3", 1e4]), opt)
    assert isinstance(scheduler, MultiStepRestartLR)
    assert sorted(scheduler.milestones) == [5000, 10000]


# --------------------------------------------------------------------------------------------
# Parity with BasicSR's schedulers driven by BaseModel.update_learning_rate

STEPS = 300
SCHEDULES = {
    "multistep": ("MultiStepLR", {"milestones": [40, 90, 90, 200], "gamma": 0.5}),
    "multistep_restart": (
        "MultiStepRestartLR",
        {
            "milestones": [30, 70, 160, 250],
            "gamma": 0.5,
            "restarts": [0, 100, 220],
            "restart_weights": [1.0, 0.7, 0.3],
        },
    ),
    "cosine_restart": (
        "CosineAnnealingRestartLR",
        {"periods": [80, 120, 100], "restart_weights": [1.0, 0.5, 0.25], "eta_min": 1e-7},
    ),
}


def reference_lrs(type_: str, args: dict[str, Any], warmup_iter: int) -> list[list[float]]:
    """The learning rates BasicSR trains with at iterations 1..STEPS (two optimizers)."""
    lr_scheduler = import_reference("basicsr.models.lr_scheduler")
    optimizers = [torch.optim.Adam(params(), lr=2e-4), torch.optim.Adam(params(), lr=1e-4)]
    if type_ == "MultiStepLR":
        schedulers = [torch.optim.lr_scheduler.MultiStepLR(o, **args) for o in optimizers]
    else:
        schedulers = [getattr(lr_scheduler, type_)(o, **args) for o in optimizers]
    seen = []
    for current_iter in range(1, STEPS + 1):
        # BaseModel.update_learning_rate(current_iter, warmup_iter)
        if current_iter > 1:
            for s in schedulers:
                s.step()
        if current_iter < warmup_iter:
            for o in optimizers:
                for g in o.param_groups:
                    g["lr"] = g["initial_lr"] / warmup_iter * current_iter
        seen.append([o.param_groups[0]["lr"] for o in optimizers])
        for o in optimizers:
            o.step()
    return seen


def our_lrs(
    type_: str, args: dict[str, Any], warmup_iter: int, resume_at: int | None = None
) -> list[list[float]]:
    def build() -> tuple[dict[str, torch.optim.Optimizer], LearningRates]:
        optimizers: dict[str, torch.optim.Optimizer] = {
            "g": torch.optim.Adam(params(), lr=2e-4),
            "d": torch.optim.Adam(params(), lr=1e-4),
        }
        return optimizers, LearningRates(optimizers, sched(type_, **args), warmup_iter=warmup_iter)

    optimizers, lrs = build()
    seen = []
    for it in range(1, STEPS + 1):
        seen.append([lrs.current()["g"], lrs.current()["d"]])
        for o in optimizers.values():
            o.step()
        lrs.step(it)
        if it == resume_at:  # save, rebuild from scratch, load: the run goes on unchanged
            buffer = io.BytesIO()
            torch.save(
                {"lr": lrs.state_dict(), "opt": {k: o.state_dict() for k, o in optimizers.items()}},
                buffer,
            )
            buffer.seek(0)
            state = torch.load(buffer, weights_only=True)
            optimizers, lrs = build()
            for k, o in optimizers.items():
                o.load_state_dict(state["opt"][k])
            lrs.load_state_dict(state["lr"])
    return seen


@pytest.mark.reference
@pytest.mark.parametrize("warmup_iter", [-1, 50])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_lr_sequence_matches_basicsr(name: str, warmup_iter: int) -> None:
    type_, args = SCHEDULES[name]
    expected = reference_lrs(type_, args, warmup_iter)
    got = our_lrs(type_, args, warmup_iter)
    flat = [lr for pair in got for lr in pair]
    assert flat == pytest.approx([lr for pair in expected for lr in pair], rel=1e-12, abs=0)
    # the schedule really moves: decays, restarts and warm-up are exercised
    assert len({round(g, 15) for g, _ in got}) >= 4


@pytest.mark.parametrize("resume_at", [20, 150])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_resume_is_exact(name: str, resume_at: int) -> None:
    type_, args = SCHEDULES[name]
    assert our_lrs(type_, args, 50, resume_at=resume_at) == our_lrs(type_, args, 50)


def test_cosine_formula_by_hand() -> None:
    opt = torch.optim.SGD(params(), lr=1.0)
    s = CosineAnnealingRestartLR(opt, periods=[4, 8], restart_weights=[1.0, 0.5], eta_min=0.1)
    seen = []
    for _ in range(15):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        s.step()
    expected = [0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 4)) for t in range(5)]
    expected += [0.1 + 0.5 * 0.9 * 0.5 * (1 + math.cos(math.pi * d / 8)) for d in range(1, 9)]
    expected += [0.1, 0.1]  # past the last cycle: eta_min
    assert seen == pytest.approx(expected, rel=1e-12)


def test_warmup_without_scheduler_is_linear_then_constant() -> None:
    opt = torch.optim.SGD(params(), lr=0.8)
    lrs = LearningRates({"g": opt}, None, warmup_iter=4)
    seen = []
    for it in range(1, 7):
        seen.append(lrs.current()["g"])
        opt.step()
        lrs.step(it)
    assert seen == pytest.approx([0.2, 0.4, 0.6, 0.8, 0.8, 0.8])


def test_no_warmup_no_scheduler_is_constant() -> None:
    opt = torch.optim.SGD(params(), lr=0.3)
    lrs = LearningRates({"g": opt}, None, warmup_iter=-1)
    for it in range(1, 4):
        assert lrs.current() == {"g": 0.3}
        lrs.step(it)


def test_steps_must_be_consecutive() -> None:
    lrs = LearningRates({"g": torch.optim.SGD(params(), lr=1.0)}, None, warmup_iter=-1)
    lrs.step(1)
    with pytest.raises(ValueError, match=r"step\(3\) after iteration 1"):
        lrs.step(3)


def test_skipped_optimizer_steps_do_not_warn() -> None:
    """A net whose optimizer does not step on the first iterations (GAN warm-up, non-finite
    loss) keeps its schedule, silently."""
    opt = torch.optim.SGD(params(), lr=1.0)
    lrs = LearningRates({"g": opt}, sched("MultiStepLR", milestones=[2], gamma=0.5), warmup_iter=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lrs.step(1)
        lrs.step(2)
    assert lrs.current() == {"g": 0.5}


def test_load_state_checks_names() -> None:
    lrs = LearningRates({"g": torch.optim.SGD(params(), lr=1.0)}, None, warmup_iter=-1)
    other = LearningRates({"d": torch.optim.SGD(params(), lr=1.0)}, None, warmup_iter=-1)
    with pytest.raises(ValueError, match="optimizers"):
        lrs.load_state_dict(other.state_dict())


def _reference_options() -> list[Path]:
    root = REPO_ROOT.parent / "shared" / "reference"
    return sorted(root.glob("*_options/*.yml"))


@pytest.mark.shared
@pytest.mark.parametrize("path", _reference_options(), ids=lambda p: p.stem)
def test_reference_options_build(path: Path) -> None:
    """The optimizers and schedules of every official options file build and run."""
    options = options_from_dict(yaml.safe_load(path.read_text()), source=str(path))
    train = options.train
    optimizers = {"g": build_optimizer(train.optim_g, params())}
    if train.optim_d is not None:
        optimizers["d"] = build_optimizer(train.optim_d, params())
    lrs = LearningRates(optimizers, train.scheduler, warmup_iter=train.warmup_iter)
    first = lrs.current()
    assert first == {name: o.defaults["lr"] for name, o in optimizers.items()}
    for it in range(1, 4):
        lrs.step(it)
