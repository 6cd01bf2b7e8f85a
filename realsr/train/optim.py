"""Optimizers and learning-rate schedules built from the options' ``train`` section.

The YAML vocabulary is BasicSR's: ``optim_g: {type: Adam, lr: 2e-4, betas: [0.9, 0.99]}`` and
``scheduler: {type: MultiStepLR, milestones: [...], gamma: 0.5}``. Schedulers:

* ``MultiStepLR`` -- torch's;
* ``MultiStepRestartLR`` -- multiply by ``gamma`` at each milestone, and at each restart iteration
  go back to ``initial_lr * restart_weight``;
* ``CosineAnnealingRestartLR`` -- consecutive cosine cycles of ``periods[i]`` iterations, cycle i
  starting from ``eta_min + restart_weights[i] * (initial_lr - eta_min)`` and ending at
  ``eta_min``.

:class:`LearningRates` drives one scheduler per optimizer with BasicSR's iteration semantics
(``BaseModel.update_learning_rate``), including its linear warm-up.
"""

from __future__ import annotations

import difflib
import inspect
import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler, MultiStepLR

from realsr.config import ConfigError
from realsr.registry import Registry, RegistryError

if TYPE_CHECKING:
    from realsr.config import TypedSection


class MultiStepRestartLR(LRScheduler):
    """Step decay with restarts.

    At iteration ``t`` (the scheduler's ``last_epoch``): when ``t`` is a restart, the learning
    rate becomes ``initial_lr * restart_weights[k]``; otherwise, when ``t`` is a milestone listed
    ``n`` times, the current learning rate is multiplied by ``gamma ** n``; otherwise it is kept.
    Decays act on the optimizer's current value, so a value set from outside (warm-up) carries on.

    Args:
        optimizer: the optimizer whose param groups are scheduled.
        milestones: iterations at which the learning rate is multiplied by ``gamma``.
        gamma: decay factor.
        restarts: iterations at which the schedule restarts (0 is the start).
        restart_weights: factor of ``initial_lr`` at each restart, one per restart.
        last_epoch: torch's resume index (-1 for a fresh start).

    Example:
        >>> opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = MultiStepRestartLR(opt, milestones=[2, 6], gamma=0.5, restarts=[0, 4],
        ...                            restart_weights=[1.0, 1.0])
        >>> lrs = []
        >>> for _ in range(7):
        ...     lrs.append(opt.param_groups[0]["lr"])
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 1.0, 1.0, 0.5]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.1,
        restarts: Sequence[int] = (0,),
        restart_weights: Sequence[float] = (1.0,),
        last_epoch: int = -1,
    ) -> None:
        if len(restarts) != len(restart_weights):
            raise ValueError(
                f"restarts ({len(restarts)}) and restart_weights ({len(restart_weights)}) "
                "must have the same length"
            )
        self.milestones = Counter(int(m) for m in milestones)
        self.gamma = float(gamma)
        self.restarts = [int(r) for r in restarts]
        self.restart_weights = [float(w) for w in restart_weights]
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | torch.Tensor]:
        t = self.last_epoch
        groups = self.optimizer.param_groups
        if t in self.restarts:
            weight = self.restart_weights[self.restarts.index(t)]
            return [group["initial_lr"] * weight for group in groups]
        if t in self.milestones:
            return [group["lr"] * self.gamma ** self.milestones[t] for group in groups]
        return [group["lr"] for group in groups]


class CosineAnnealingRestartLR(LRScheduler):
    """Cosine annealing in consecutive cycles (SGDR without period growth).

    Cycle ``i`` spans ``periods[i]`` iterations after the previous cycles; at iteration ``t``,
    ``d`` iterations into cycle ``i``::

        lr = eta_min + restart_weights[i] * (base_lr - eta_min) * (1 + cos(pi * d / periods[i])) / 2

    An iteration that closes a cycle belongs to it (``d = periods[i]``: ``lr = eta_min``). Past the
    last cycle the learning rate stays at ``eta_min``.

    Args:
        optimizer: the optimizer whose param groups are scheduled.
        periods: length of each cycle in iterations.
        restart_weights: weight of each cycle's starting value, one per period.
        eta_min: the floor of every cycle.
        last_epoch: torch's resume index (-1 for a fresh start).

    Example:
        >>> opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> sched = CosineAnnealingRestartLR(opt, periods=[2, 2], restart_weights=[1.0, 0.5])
        >>> lrs = []
        >>> for _ in range(5):
        ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
        ...     opt.step()
        ...     sched.step()
        >>> lrs
        [1.0, 0.5, 0.0, 0.25, 0.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        periods: Sequence[int],
        restart_weights: Sequence[float] = (1.0,),
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if len(periods) != len(restart_weights):
            raise ValueError(
                f"periods ({len(periods)}) and restart_weights ({len(restart_weights)}) "
                "must have the same length"
            )
        if not periods or any(int(p) <= 0 for p in periods):
            raise ValueError(f"periods must be positive iteration counts, got {list(periods)}")
        self.periods = [int(p) for p in periods]
        self.restart_weights = [float(w) for w in restart_weights]
        self.eta_min = float(eta_min)
        self.cycle_ends = [sum(self.periods[: i + 1]) for i in range(len(self.periods))]
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float | torch.Tensor]:
        t = self.last_epoch
        cycle = next((i for i, end in enumerate(self.cycle_ends) if t <= end), None)
        if cycle is None:  # past the last cycle
            return [self.eta_min for _ in self.base_lrs]
        start = self.cycle_ends[cycle] - self.periods[cycle]
        weight = self.restart_weights[cycle]
        cosine = 1 + math.cos(math.pi * ((t - start) / self.periods[cycle]))
        return [
            self.eta_min + weight * 0.5 * (base_lr - self.eta_min) * cosine
            for base_lr in self.base_lrs
        ]


OPTIMIZERS: Registry[type[Optimizer]] = Registry("optimizer")
OPTIMIZERS.register(torch.optim.Adam)
OPTIMIZERS.register(torch.optim.AdamW)
OPTIMIZERS.register(torch.optim.SGD)

SCHEDULERS: Registry[type[LRScheduler]] = Registry("scheduler")
SCHEDULERS.register(MultiStepLR)
SCHEDULERS.register(MultiStepRestartLR)
SCHEDULERS.register(CosineAnnealingRestartLR)

# Options whose values must be integer iteration counts / lists of them; float otherwise.
_INT_LISTS = frozenset({"milestones", "restarts", "periods"})
_FLOAT_LISTS = frozenset({"restart_weights"})
_TUPLES = frozenset({"betas"})
_NOT_OPTIONS = frozenset({"self", "params", "optimizer", "last_epoch", "verbose"})


def _lookup(registry: Registry[Any], section: TypedSection) -> Any:
    try:
        return registry.get(section.type)
    except RegistryError as exc:
        raise ConfigError(f"{section.where}.type: {exc}") from None


def _number(value: Any, key: str, *, integer: bool = False) -> Any:
    """YAML 1.1 reads ``1e-4`` (no dot) as a string: accept numeric strings."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {value!r}") from None
    if integer and not isinstance(value, bool) and isinstance(value, (int, float)):
        if float(value) != int(value):
            raise ConfigError(f"{key}: expected an integer iteration count, got {value!r}")
        return int(value)
    return value


def _arguments(cls: type, section: TypedSection) -> dict[str, Any]:
    """``section.args`` checked against ``cls``'s keyword arguments and normalised."""
    accepted = [
        name
        for name, p in inspect.signature(cls).parameters.items()
        if name not in _NOT_OPTIONS and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    kwargs: dict[str, Any] = {}
    for key, value in section.args.items():
        where = f"{section.where}.{key}"
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: unknown argument of {section.type}{hint} "
                f"(accepted: {', '.join(accepted)})"
            )
        if key in _INT_LISTS or key in _FLOAT_LISTS or key in _TUPLES:
            if not isinstance(value, (list, tuple)):
                raise ConfigError(f"{where}: expected a list, got {value!r}")
            items = [_number(v, where, integer=key in _INT_LISTS) for v in value]
            value = tuple(items) if key in _TUPLES else items
        else:
            value = _number(value, where)
        kwargs[key] = value
    return kwargs


def build_optimizer(section: TypedSection, params: Iterable[nn.Parameter]) -> Optimizer:
    """Build a torch optimizer from an ``optim_<net>`` options section.

    Args:
        section: ``type`` (Adam, AdamW or SGD) and the optimizer's keyword arguments in ``args``
            (``lr``, ``betas`` as a list, ``weight_decay``, ``momentum``, ...).
        params: the parameters to optimize (those with ``requires_grad``).

    Returns:
        The optimizer.

    Raises:
        ConfigError: unknown type or argument, or a bad value; the message names the dotted key.
    """
    cls = _lookup(OPTIMIZERS, section)
    kwargs = _arguments(cls, section)
    trainable = [p for p in params if p.requires_grad]
    try:
        optimizer: Optimizer = cls(trainable, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section.where}: {exc}") from None
    return optimizer


def build_scheduler(section: TypedSection, optimizer: Optimizer) -> LRScheduler:
    """Build a learning-rate scheduler from the ``train.scheduler`` options section.

    Args:
        section: ``type`` (MultiStepLR, MultiStepRestartLR or CosineAnnealingRestartLR) and its
            keyword arguments in ``args``.
        optimizer: the optimizer to schedule.

    Returns:
        The scheduler (it has set the optimizer's ``initial_lr`` and taken its initial step).

    Raises:
        ConfigError: unknown type or argument, or a bad value; the message names the dotted key.
    """
    cls = _lookup(SCHEDULERS, section)
    kwargs = _arguments(cls, section)
    try:
        scheduler: LRScheduler = cls(optimizer, **kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{section.where}: {exc}") from None
    return scheduler


class LearningRates:
    """The learning rates of all optimizers over training iterations (schedule plus warm-up).

    Iteration ``i`` (1-based) runs with exactly the learning rates that BasicSR's
    ``update_learning_rate(i, warmup_iter)`` sets before its optimizer steps: every scheduler has
    been stepped ``i - 1`` times, and during warm-up (``i < warmup_iter``) each param group runs at
    ``initial_lr * i / warmup_iter``. The constructor sets the rates of iteration 1, and
    :meth:`step` is called after the optimizer steps of each iteration to set those of the next.

    Decaying schedules (``MultiStepLR``, ``MultiStepRestartLR``) act on the current value, so after
    a warm-up they continue from the last warm-up value ``initial_lr * (warmup_iter - 1) /
    warmup_iter``, as in BasicSR. Without a scheduler the rates are ``initial_lr`` after warm-up.

    Args:
        optimizers: optimizer per network name (``{"g": ..., "d": ...}``).
        scheduler: the ``train.scheduler`` section (one scheduler per optimizer), or None for
            constant learning rates.
        warmup_iter: linear warm-up length in iterations (-1 or 0: none).

    Example:
        >>> opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
        >>> lrs = LearningRates({"g": opt}, None, warmup_iter=4)
        >>> seen = []
        >>> for it in range(1, 6):
        ...     seen.append(lrs.current()["g"])
        ...     opt.step()
        ...     lrs.step(it)
        >>> seen
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizers: Mapping[str, Optimizer],
        scheduler: TypedSection | None,
        *,
        warmup_iter: int,
    ) -> None:
        self.optimizers = dict(optimizers)
        self.warmup_iter = int(warmup_iter)
        self.schedulers: dict[str, LRScheduler] = {}
        for name, optimizer in self.optimizers.items():
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
            if scheduler is not None:
                self.schedulers[name] = build_scheduler(scheduler, optimizer)
        self.iteration = 0
        """The last completed iteration (0 before training)."""
        self._warm_up(1)

    def _warm_up(self, iteration: int) -> None:
        if iteration < self.warmup_iter:
            for optimizer in self.optimizers.values():
                for group in optimizer.param_groups:
                    group["lr"] = group["initial_lr"] / self.warmup_iter * iteration
        elif iteration == self.warmup_iter:  # warm-up over: constant rates resume their value
            for name, optimizer in self.optimizers.items():
                if name not in self.schedulers:
                    for group in optimizer.param_groups:
                        group["lr"] = group["initial_lr"]

    def step(self, iteration: int) -> None:
        """Set the learning rates of iteration ``iteration + 1``; call after iteration ``iteration``.

        Args:
            iteration: the iteration just completed; calls must be consecutive (1, 2, ..., or
                continue from the iteration of a loaded state).
        """
        if iteration != self.iteration + 1:
            raise ValueError(
                f"LearningRates.step({iteration}) after iteration {self.iteration}: "
                "iterations must be consecutive"
            )
        # An optimizer may legitimately skip its step (non-finite loss, GAN warm-up): the schedule
        # is indexed by iteration, not by optimizer steps, so torch's ordering check is noise.
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message=r"Detected call of `lr_scheduler\.step\(\)` before"
            )
            for scheduler in self.schedulers.values():
                scheduler.step()
        self.iteration = iteration
        self._warm_up(iteration + 1)

    def current(self) -> dict[str, float]:
        """The learning rate of each optimizer's first param group (those the next step uses)."""
        return {name: float(opt.param_groups[0]["lr"]) for name, opt in self.optimizers.items()}

    def state_dict(self) -> dict[str, Any]:
        """Plain values (``weights_only``-loadable): iteration, per-optimizer rates and epochs."""
        state: dict[str, Any] = {"iteration": self.iteration, "optimizers": {}}
        for name, optimizer in self.optimizers.items():
            entry: dict[str, Any] = {
                "lr": [float(g["lr"]) for g in optimizer.param_groups],
                "initial_lr": [float(g["initial_lr"]) for g in optimizer.param_groups],
            }
            if name in self.schedulers:
                entry["last_epoch"] = int(self.schedulers[name].last_epoch)
            state["optimizers"][name] = entry
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` (same optimizer names and param groups).

        The schedule's configuration (milestones, periods, ...) comes from the options, not from
        the state, so an edited schedule applies from the resumed iteration on.
        """
        saved = state["optimizers"]
        if set(saved) != set(self.optimizers):
            raise ValueError(
                f"learning-rate state is for optimizers {sorted(saved)}, "
                f"this run has {sorted(self.optimizers)}"
            )
        for name, optimizer in self.optimizers.items():
            entry = saved[name]
            groups = optimizer.param_groups
            if len(entry["lr"]) != len(groups):
                raise ValueError(
                    f"learning-rate state of {name!r} has {len(entry['lr'])} param groups, "
                    f"the optimizer {len(groups)}"
                )
            for group, lr, initial in zip(groups, entry["lr"], entry["initial_lr"], strict=True):
                group["lr"] = lr
                group["initial_lr"] = initial
            scheduler = self.schedulers.get(name)
            if scheduler is not None:
                if "last_epoch" not in entry:
                    raise ValueError(f"learning-rate state of {name!r} has no scheduler position")
                scheduler.last_epoch = int(entry["last_epoch"])
                scheduler.base_lrs = list(entry["initial_lr"])
                scheduler._last_lr = list(entry["lr"])
        self.iteration = int(state["iteration"])


__all__ = [
    "OPTIMIZERS",
    "SCHEDULERS",
    "CosineAnnealingRestartLR",
    "LearningRates",
    "MultiStepRestartLR",
    "build_optimizer",
    "build_scheduler",
]
