"""The generic training loop: data, steps, EMA, learning rates, logging, validation, checkpoints.

The :class:`Trainer` knows nothing about super-resolution; a :class:`~realsr.train.task.Task`
(chosen by ``model_type``) owns the networks, losses and the degradation. Iterations run from
``1`` to ``train.total_iter`` (BasicSR's ``current_iter``); iteration ``k`` trains on batch
``k - 1`` of :class:`~realsr.data.TrainBatchSampler`, so a resumed run continues with exactly the
batches, degradations and random states the uninterrupted run would have used.

Experiment folder (``options.experiment_dir``)::

    options.yml                   the resolved options
    train.log, metrics.jsonl, tb/ the logs (see realsr.train.logging)
    models/net_g_<iter>.pth       BasicSR-compatible ("params" and, with EMA, "params_ema")
    models/net_d_<iter>.pth       other networks, by their Task name
    models/net_g_latest.pth       the newest net_g file; net_g_best_<metric>.pth after validation
    training_states/<iter>.state  everything needed to resume exactly (weights_only-loadable)

Distributed runs (``launcher="pytorch"``): rank 0 alone logs and writes files; validation runs
on rank 0 only while the other ranks wait at a barrier.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from realsr.config import ConfigError, TrainOptions, resolved_dict

from . import distributed as ddp
from . import experiment as ex
from . import state as st
from .context import TrainStepContext, to_device
from .task import Task

TaskFactory = Callable[..., Task]
"""Builds the task: ``factory(options, device=device)`` (default: ``TASKS.get(model_type)``)."""


class TrainingError(RuntimeError):
    """Training cannot go on (too many non-finite steps, ...); the message says why and where."""


def _default_task_factory(options: TrainOptions, *, device: torch.device) -> Task:
    from realsr.train.tasks import TASKS

    return TASKS.get(options.model_type)(options, device=device)


class Trainer:
    """Train the task of ``options.model_type`` as the options say.

    Args:
        options: Loaded options (:func:`realsr.config.load_options`).
        auto_resume: Resume from the newest complete state in ``experiment_dir/training_states``
            if there is one (else ``path.resume_state`` if set, else start fresh).
        launcher: ``"none"`` (one process) or ``"pytorch"`` (torchrun environment, DDP).
        task_factory: Builds the task (default: the ``TASKS`` registry by ``model_type``).

    Attributes:
        start_iter: Iterations already done when this run starts (0 when not resuming).
        iteration: The last completed iteration.
        history: ``{"iter": ..., <loss>: ..., "lr_<name>": ...}`` of every logged iteration.
    """

    def __init__(
        self,
        options: TrainOptions,
        *,
        auto_resume: bool = False,
        launcher: str = "none",
        task_factory: TaskFactory | None = None,
    ) -> None:
        self.options = options
        self.logger: Any = None
        self._notices: list[tuple[int, str]] = []
        self._bridge = ex.LogBridge(self._note)
        dp = options.dist_params
        self.dist = ddp.init_distributed(
            launcher, backend=dp.backend, port=dp.port, num_gpu=options.num_gpu
        )
        try:
            self._bridge.attach()
            self._setup(auto_resume, task_factory or _default_task_factory)
        except BaseException:
            self._close()
            raise

    # ----------------------------------------------------------------------------------------
    # Setup

    def _note(self, level: int, message: str) -> None:
        """Log through the TrainLogger, or keep the message until it exists."""
        if self.logger is None:
            self._notices.append((level, message))
        elif level >= logging.WARNING:
            self.logger.warning(message)
        else:
            self.logger.info(message)

    def _setup(self, auto_resume: bool, task_factory: TaskFactory) -> None:
        o, info = self.options, self.dist
        self.device, device_notice = ddp.resolve_device(o.num_gpu, info.local_rank)
        for notice in [*info.notices, *([device_notice] if device_notice else [])]:
            self._note(logging.WARNING, notice)
        st.seed_everything(o.manual_seed + info.rank)
        self.experiment_dir = Path(o.experiment_dir)
        self.models_dir = self.experiment_dir / "models"
        self.states_dir = self.experiment_dir / "training_states"
        resumed = ex.choose_resume_state(
            self.states_dir,
            self.options.path.resume_state,
            auto_resume=auto_resume,
            info=info,
            warn=lambda message: self._note(logging.WARNING, message),
        )
        self.resume_path = resumed[0] if resumed else None
        state = resumed[1] if resumed else None

        task_options = o
        if resumed is not None:  # the state holds the weights: pretrained files are not read
            path = dataclasses.replace(o.path, pretrain_network_g=None, pretrain_network_d=None)
            task_options = dataclasses.replace(o, path=path)
        self.task = task_factory(task_options, device=self.device)
        self._build_optimization()
        self.start_iter = self._load_state(state) if state is not None else 0
        self.iteration = self.start_iter
        # Only now, with everything built, is the experiment folder touched.
        self._open_experiment(resumed=state is not None)
        self._wrap_networks(state)
        self._build_data()
        self.history: list[dict[str, float]] = []
        self._last_checkpoint: Path | None = self.resume_path
        self._pending_rng = self._rng_for_rank(state) if state is not None else None

    def _open_experiment(self, *, resumed: bool) -> None:
        """Prepare the folder on rank 0 (see :mod:`realsr.train.experiment`), start the logger."""
        o, info = self.options, self.dist
        if info.is_main:
            notice = ex.prepare_folder(
                self.experiment_dir, resumed=resumed, options=resolved_dict(o)
            )
            if notice:
                self._note(logging.INFO, notice)
        ddp.barrier(info)

        from .logging import TrainLogger

        self.logger = TrainLogger(o, experiment_dir=self.experiment_dir, rank=info.rank)
        notices, self._notices = self._notices, []
        for level, message in notices:
            self._note(level, message)

    def _build_optimization(self) -> None:
        from .optim import LearningRates, build_optimizer

        o = self.options
        nets = self.task.networks()
        if "g" not in nets:
            raise ConfigError(f"model_type {o.model_type}: the task has no network 'g'")
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        for name, net in nets.items():
            net.to(self.device)
            if o.train.channels_last:
                net.to(memory_format=torch.channels_last)
            section = getattr(o.train, f"optim_{name}", None)
            if section is None:
                raise ConfigError(f"train.optim_{name}: missing (the task trains net_{name})")
            params = [p for p in net.parameters() if p.requires_grad]
            self.optimizers[name] = build_optimizer(section, params)
        self.lrs = LearningRates(
            self.optimizers, o.train.scheduler, warmup_iter=o.train.warmup_iter
        )
        self.ctx = TrainStepContext(
            self.optimizers,
            device=self.device,
            seed=o.manual_seed,
            mixed_precision=o.train.mixed_precision,
            grad_clip=o.train.grad_clip,
            dist_info=self.dist,
        )
        self.bad_steps = 0
        self.validator: Any = None
        if o.val is not None:
            from .validation import Validator

            self.validator = Validator(
                o,
                device=self.device,
                experiment_dir=self.experiment_dir,
                rank=self.dist.rank,
                world_size=self.dist.world_size,
            )

    def _load_state(self, state: dict[str, Any]) -> int:
        where = self.resume_path
        nets = self.task.networks()
        if sorted(state["networks"]) != sorted(nets):
            raise st.StateError(
                f"{where}: holds networks {sorted(state['networks'])}, the task has {sorted(nets)}"
            )
        for name, net in nets.items():
            ddp.unwrap(net).load_state_dict(state["networks"][name])
            self.optimizers[name].load_state_dict(state["optimizers"][name])
        self.lrs.load_state_dict(state["lr"])
        if self.ctx.scaler is not None and state.get("scaler"):
            self.ctx.scaler.load_state_dict(state["scaler"])
        self.bad_steps = int(state.get("bad_steps", 0))
        if self.validator is not None and state.get("validator"):
            self.validator.load_state_dict(state["validator"])
        self.task.load_state_dict(state.get("task") or {})
        iteration = int(state["iter"])
        self._note(logging.INFO, f"resuming from {where} (iteration {iteration})")
        return iteration

    def _rng_for_rank(self, state: dict[str, Any]) -> dict[str, Any] | None:
        states = state.get("rng") or []
        if len(states) != self.dist.world_size:
            self.logger.warning(
                f"{self.resume_path}: saved by {len(states)} process(es), resumed by "
                f"{self.dist.world_size}: random states are re-seeded (the run is not exact)"
            )
            st.seed_everything(self.options.manual_seed + self.dist.rank + self.start_iter)
            return None
        return dict(states[self.dist.rank])

    def _wrap_networks(self, state: dict[str, Any] | None) -> None:
        from .ema import EMA

        o = self.options
        nets: dict[str, nn.Module] = dict(self.task.networks())
        if self.dist.enabled:
            nets = {name: ddp.wrap_ddp(net, self.device) for name, net in nets.items()}
        self.ema: Any = None
        if o.train.ema_decay > 0:  # after DDP: every rank averages rank 0's broadcast weights
            self.ema = EMA(ddp.unwrap(nets["g"]), o.train.ema_decay)
            if state is not None and state.get("ema") is not None:
                self.ema.load_state_dict(state["ema"])
            elif state is not None:
                self.logger.warning(f"{self.resume_path}: no EMA state; EMA restarts from net_g")
            elif o.path.pretrain_network_g is not None:  # BasicSR starts the EMA from params_ema
                from .tasks.pretrained import load_pretrained

                load_pretrained(
                    self.ema.module,
                    o.path.pretrain_network_g,
                    param_key="params_ema",
                    strict=o.path.strict_load_g,
                    option="path.pretrain_network_g",
                )
        if o.train.compile:
            nets = {name: torch.compile(net) for name, net in nets.items()}  # type: ignore[misc]
        self.task.set_networks(nets)

    def _build_data(self) -> None:
        from realsr.data import TrainBatchSampler, build_dataloader, build_dataset

        o = self.options
        if "train" not in o.datasets:
            raise ConfigError("datasets.train: missing (the training set)")
        opts = o.datasets["train"]
        self.train_set = build_dataset(opts, seed=o.manual_seed)
        self.sampler = TrainBatchSampler(
            len(self.train_set),
            opts.batch_size_per_gpu,
            seed=o.manual_seed,
            shuffle=opts.use_shuffle,
            enlarge_ratio=opts.dataset_enlarge_ratio,
            num_replicas=self.dist.world_size,
            rank=self.dist.rank,
            start_iter=self.start_iter,
        )
        self.loader = build_dataloader(
            self.train_set, opts, sampler=self.sampler, seed=o.manual_seed
        )
        per_epoch = self.sampler.iters_per_epoch
        self.logger.info(
            f"training set {opts.name}: {len(self.train_set)} images "
            f"(x{opts.dataset_enlarge_ratio}), batch {opts.batch_size_per_gpu} per process x "
            f"{self.dist.world_size}, {per_epoch} iterations per epoch, "
            f"{-(-o.train.total_iter // max(per_epoch, 1))} epochs for {o.train.total_iter} "
            f"iterations; device {self.device}"
        )

    # ----------------------------------------------------------------------------------------
    # The loop

    def run(self) -> None:
        """Train from :attr:`start_iter` to ``train.total_iter``; writes the final checkpoint.

        Raises:
            TrainingError: ``train.max_bad_steps`` non-finite steps were reached.
        """
        try:
            self._loop()
        finally:
            self._close()

    def _close(self) -> None:
        # Stop the persistent loader workers now: left to garbage collection, their shutdown
        # can wait out a 5 s timeout per worker.
        iterator = getattr(getattr(self, "loader", None), "_iterator", None)
        shutdown = getattr(iterator, "_shutdown_workers", None)
        if callable(shutdown):
            shutdown()
        self._bridge.detach()
        if self.logger is not None:
            self.logger.close()
        ddp.cleanup(self.dist)

    def _loop(self) -> None:
        o = self.options
        total = o.train.total_iter
        batches = iter(self.loader)
        if self._pending_rng is not None:  # after the loader drew its base seed
            st.set_rng_state(self._pending_rng)
            self._pending_rng = None
        if self.iteration >= total:
            self.logger.info(f"nothing to do: iteration {self.iteration} >= total_iter {total}")
            return
        self.logger.info(f"start training at iteration {self.iteration + 1} of {total}")
        data_time = compute_time = 0.0
        window = 0
        tick = time.perf_counter()
        while self.iteration < total:
            it = self.iteration + 1
            batch = to_device(next(batches), self.device, channels_last=o.train.channels_last)
            loaded = time.perf_counter()
            lrs = self.lrs.current()
            self.ctx.iteration = it
            logs = self.task.training_step(batch, self.ctx)
            self.ctx.end_iteration()
            if self.ema is not None:
                self.ema.update(ddp.unwrap(self.task.networks()["g"]))
            self.lrs.step(it)
            self.iteration = it
            self._count_bad_steps(it)
            done = time.perf_counter()
            data_time, compute_time = data_time + loaded - tick, compute_time + done - loaded
            window += 1
            if it % o.logger.print_freq == 0:
                self._log(it, logs, lrs, data_time / window, compute_time / window)
                data_time = compute_time = 0.0
                window = 0
            final = it == total
            if o.val is not None and (it % o.val.val_freq == 0 or final):
                self._validate(it)
            if it % o.logger.save_checkpoint_freq == 0 or final:
                self.save(it)
            tick = time.perf_counter()
        self.logger.info(f"end of training at iteration {self.iteration}")

    def _count_bad_steps(self, it: int) -> None:
        if not self.ctx.skipped:
            return
        limit = self.options.train.max_bad_steps
        for at, name, reason in self.ctx.skipped:
            self.bad_steps += 1
            self.logger.warning(
                f"iteration {at}: skipped the net_{name} step ({reason}); "
                f"{self.bad_steps} bad step(s) so far (train.max_bad_steps {limit})"
            )
        self.ctx.skipped.clear()
        if self.bad_steps >= limit:
            last = self._last_checkpoint or "none was written"
            raise TrainingError(
                f"stopped at iteration {it}: {self.bad_steps} non-finite steps reached "
                f"train.max_bad_steps={limit}; the last good training state is {last}"
            )

    def _log(
        self, it: int, logs: dict[str, Tensor], lrs: dict[str, float], data: float, step: float
    ) -> None:
        values = {k: float(v) for k, v in ddp.mean_over_ranks(logs, self.dist).items()}
        self.history.append({"iter": it, **values, **{f"lr_{k}": v for k, v in lrs.items()}})
        self.logger.log_iteration(it, values, lrs, data, step)

    def generator(self) -> nn.Module:
        """The network validated and exported: the EMA copy of net_g if any, else net_g."""
        if self.ema is not None:
            return self.ema.module
        return ddp.unwrap(self.task.networks()["g"])

    def _validate(self, it: int) -> None:
        if self.validator is None:
            return
        if self.dist.is_main:
            net = self.generator()
            was_training = net.training
            net.eval()
            try:
                results = self.validator.run(self.task, net, it)
            finally:
                net.train(was_training)
            if results:
                self.logger.log_validation(it, results, best=self.validator.best)
                self._save_best(it, list(self.validator.improved), len(results))
        ddp.barrier(self.dist)

    def _save_best(self, it: int, improved: list[tuple[str, str]], n_sets: int) -> None:
        for set_name, metric in improved:
            path = self.models_dir / ex.best_name(set_name, metric, n_sets)
            extra = {"iter": it, "set": set_name, "metric": metric}
            ex.save_generator(path, self._plain_nets()["g"], self._ema_module(), extra)
            self.logger.info(f"best {metric} on {set_name} at iteration {it}: saved {path.name}")

    # ----------------------------------------------------------------------------------------
    # Checkpoints

    def _plain_nets(self) -> dict[str, nn.Module]:
        return {name: ddp.unwrap(net) for name, net in self.task.networks().items()}

    def _ema_module(self) -> nn.Module | None:
        return self.ema.module if self.ema is not None else None

    def save(self, it: int) -> None:
        """Write the model files and the training state of iteration ``it`` (rank 0 writes)."""
        rng = ddp.gather_objects(st.rng_state(), self.dist)
        if not self.dist.is_main:
            return
        nets = self._plain_nets()
        ex.save_models(self.models_dir, it, nets, self._ema_module())
        scaler = self.ctx.scaler
        state = {
            "iter": it,
            "epoch": (it - 1) // max(self.sampler.iters_per_epoch, 1),
            "world_size": self.dist.world_size,
            "networks": {name: net.state_dict() for name, net in nets.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "lr": self.lrs.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "bad_steps": self.bad_steps,
            "validator": self.validator.state_dict() if self.validator is not None else None,
            "task": self.task.state_dict(),
            "rng": rng,
        }
        self._last_checkpoint = st.save_state(self.states_dir, it, state)
        keep = self.options.logger.keep_checkpoints
        st.prune(self.states_dir, r"(\d+)\.state", keep)
        ex.prune_models(self.models_dir, list(nets), keep)
        self.logger.info(f"saved models and training state of iteration {it}")


def train(options: TrainOptions, **kwargs: Any) -> Trainer:
    """Build a :class:`Trainer` (keyword arguments as its constructor), run it, and return it."""
    trainer = Trainer(options, **kwargs)
    trainer.run()
    return trainer


__all__ = ["TaskFactory", "Trainer", "TrainingError", "train"]
