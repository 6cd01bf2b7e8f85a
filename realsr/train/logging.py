"""Training logs: console, ``train.log``, ``metrics.jsonl``, TensorBoard and (optionally) wandb.

Only rank 0 writes anything; on other ranks every method is a no-op except :meth:`~TrainLogger.
warning`, which prints to stderr with the rank. ``train.log`` and ``metrics.jsonl`` are appended
to (a resumed run continues them) and flushed after every line. ``metrics.jsonl`` holds one JSON
object per call::

    {"iteration": 1200, "time": 1700000000.0, "losses": {"l_g_pix": 0.0123}, "lrs": {"g": 1e-4},
     "data_time": 0.01, "step_time": 0.31, "eta_s": 123456.0}
    {"iteration": 5000, "time": 1700000100.0, "validation": {"Set5": {"psnr": 28.1}}}

Non-finite numbers are written as ``null`` (standard JSON).
"""

from __future__ import annotations

import datetime
import json
import math
import sys
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from torch import Tensor

if TYPE_CHECKING:
    from realsr.config import TrainOptions

#: Number of recent ``log_iteration`` calls whose iteration time the ETA averages.
ETA_WINDOW = 20


def format_duration(seconds: float) -> str:
    """``[Nd ]HH:MM:SS`` for a number of seconds (rounded down).

    Example:
        >>> format_duration(93784.9)
        '1d 02:03:04'
        >>> format_duration(59)
        '00:00:59'
    """
    total = max(int(seconds), 0)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}d {clock}" if days else clock


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _tb_tag(key: str) -> str:
    """BasicSR's TensorBoard layout: losses (``l_*``) under ``losses/``, other values as is."""
    return f"losses/{key}" if key.startswith("l_") else key


class TrainLogger:
    """Where a training run reports its progress.

    Args:
        options: the run's options (``name``, ``train.total_iter``, ``logger.use_tb_logger``,
            ``logger.wandb``).
        experiment_dir: the run's folder (created on rank 0); ``train.log``, ``metrics.jsonl``
            and ``tb/`` go there.
        rank: the process rank; only rank 0 writes.
    """

    def __init__(self, options: TrainOptions, *, experiment_dir: Path, rank: int = 0) -> None:
        self.name = str(options.name)
        self.total_iter = int(options.train.total_iter)
        self.rank = rank
        self.experiment_dir = Path(experiment_dir)
        self._iteration_times: deque[float] = deque(maxlen=ETA_WINDOW)
        self._log_file: TextIO | None = None
        self._jsonl: TextIO | None = None
        self._tb: Any = None
        self._wandb: Any = None
        if rank != 0:
            return
        self.experiment_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = open(self.experiment_dir / "train.log", "a", encoding="utf-8")  # noqa: SIM115
        self._jsonl = open(self.experiment_dir / "metrics.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        logger_options = options.logger
        if logger_options.use_tb_logger:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                self.info("tensorboard not installed; logger.use_tb_logger ignored")
            else:
                self._tb = SummaryWriter(log_dir=str(self.experiment_dir / "tb"))
        wandb_options = logger_options.wandb
        if wandb_options is not None and wandb_options.project:
            self._wandb = self._start_wandb(options, wandb_options)

    def _start_wandb(self, options: TrainOptions, wandb_options: Any) -> Any:
        try:
            import wandb
        except ImportError:
            self.info("wandb not installed; logger.wandb ignored")
            return None
        from realsr.config import resolved_dict

        resume_id = wandb_options.resume_id
        run = wandb.init(
            project=wandb_options.project,
            name=self.name,
            id=resume_id,
            resume="allow" if resume_id else None,
            config=resolved_dict(options),
            dir=str(self.experiment_dir),
        )
        self.info(f"wandb run {getattr(run, 'id', '?')} in project {wandb_options.project}")
        return run

    # -- text ---------------------------------------------------------------------------------

    def _emit(self, level: str, message: str) -> None:
        console = message if level == "INFO" else f"{level}: {message}"
        print(console, file=sys.stdout, flush=True)
        if self._log_file is not None:
            stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
            self._log_file.write(f"{stamp} {level}: {message}\n")
            self._log_file.flush()

    def info(self, message: str) -> None:
        """Print ``message`` and append it to ``train.log``."""
        if self.rank == 0:
            self._emit("INFO", message)

    def warning(self, message: str) -> None:
        """Print ``WARNING: message`` (and log it); other ranks print it to stderr with the rank."""
        if self.rank == 0:
            self._emit("WARNING", message)
        else:
            print(f"[rank {self.rank}] WARNING: {message}", file=sys.stderr, flush=True)

    def _write_json(self, record: dict[str, Any]) -> None:
        if self._jsonl is not None:
            self._jsonl.write(json.dumps(record, allow_nan=False) + "\n")
            self._jsonl.flush()

    # -- iterations ---------------------------------------------------------------------------

    def eta_seconds(self, iteration: int) -> float:
        """Seconds left: the mean recent iteration time times the iterations left."""
        if not self._iteration_times:
            return 0.0
        mean = sum(self._iteration_times) / len(self._iteration_times)
        return mean * max(self.total_iter - iteration, 0)

    def format_iteration(
        self,
        iteration: int,
        logs: dict[str, float],
        lrs: dict[str, float],
        data_time: float,
        compute_time: float,
        eta: float,
    ) -> str:
        """The console line of :meth:`log_iteration` (without side effects)."""
        width = len(f"{self.total_iter:,}")
        parts = [f"[{self.name}][iter {iteration:>{width},}/{self.total_iter:,}]"]
        parts += [f"lr_{name} {lr:.2e}" for name, lr in lrs.items()]
        parts += [f"{key} {float(value):.4e}" for key, value in logs.items()]
        parts.append(f"data {data_time:.3f}s step {compute_time:.3f}s eta {format_duration(eta)}")
        return " ".join(parts)

    def log_iteration(
        self,
        iteration: int,
        logs: dict[str, float],
        lrs: dict[str, float],
        data_time: float,
        compute_time: float,
    ) -> None:
        """Report one iteration (normally every ``logger.print_freq`` iterations).

        Args:
            iteration: the 1-based iteration just completed.
            logs: scalar losses and other values by name (``l_g_pix``, ``out_d_real``, ...).
            lrs: learning rate per optimizer name.
            data_time: seconds per iteration spent waiting for data (recent average).
            compute_time: seconds per iteration spent in the step (recent average).
        """
        if self.rank != 0:
            return
        self._iteration_times.append(float(data_time) + float(compute_time))
        eta = self.eta_seconds(iteration)
        logs = {key: float(value) for key, value in logs.items()}
        self._emit(
            "INFO", self.format_iteration(iteration, logs, lrs, data_time, compute_time, eta)
        )
        self._write_json(
            {
                "iteration": iteration,
                "time": time.time(),
                "losses": {key: _finite(value) for key, value in logs.items()},
                "lrs": {key: _finite(value) for key, value in lrs.items()},
                "data_time": _finite(data_time),
                "step_time": _finite(compute_time),
                "eta_s": _finite(eta),
            }
        )
        scalars = {_tb_tag(key): value for key, value in logs.items()}
        scalars.update({f"lr/{name}": lr for name, lr in lrs.items()})
        scalars.update({"time/data": data_time, "time/step": compute_time})
        self._scalars(scalars, iteration)

    def _scalars(self, scalars: dict[str, float], iteration: int) -> None:
        if self._tb is not None:
            for tag, value in scalars.items():
                self._tb.add_scalar(tag, value, iteration)
        if self._wandb is not None:
            self._wandb.log(scalars, step=iteration)

    # -- validation ---------------------------------------------------------------------------

    def log_validation(
        self,
        iteration: int,
        results: dict[str, dict[str, float]],
        *,
        best: dict[str, dict[str, tuple[float, int]]] | None = None,
    ) -> None:
        """Report validation metrics.

        Args:
            iteration: the iteration validated.
            results: metric values by set name, then metric name.
            best: optional best ``(value, iteration)`` by set and metric, shown beside each value.
        """
        if self.rank != 0:
            return
        lines = []
        for set_name, metrics in results.items():
            values = []
            for metric, value in metrics.items():
                text = f"{metric} {value:.4f}"
                record = (best or {}).get(set_name, {}).get(metric)
                if record is not None:
                    text += f" (best {record[0]:.4f} @ iter {record[1]:,})"
                values.append(text)
            lines.append(
                f"[{self.name}][iter {iteration:,}] validation {set_name}: " + ", ".join(values)
            )
        if lines:
            self._emit("INFO", "\n".join(lines))
        self._write_json(
            {
                "iteration": iteration,
                "time": time.time(),
                "validation": {
                    set_name: {metric: _finite(value) for metric, value in metrics.items()}
                    for set_name, metrics in results.items()
                },
            }
        )
        self._scalars(
            {
                f"metrics/{set_name}/{metric}": value
                for set_name, metrics in results.items()
                for metric, value in metrics.items()
            },
            iteration,
        )

    def add_images(self, tag: str, images: Tensor, iteration: int) -> None:
        """Add a batch of images to TensorBoard (no-op without it).

        Args:
            tag: the TensorBoard tag.
            images: ``(B, 3, H, W)`` float in [0, 1].
            iteration: the step to file them under.
        """
        if self._tb is not None:
            self._tb.add_images(
                tag, images.detach().float().clamp(0, 1).cpu(), iteration, dataformats="NCHW"
            )

    def close(self) -> None:
        """Flush and close every output (idempotent)."""
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._wandb is not None:
            self._wandb.finish()
            self._wandb = None
        for handle in (self._log_file, self._jsonl):
            if handle is not None:
                handle.close()
        self._log_file = self._jsonl = None

    def __enter__(self) -> TrainLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["ETA_WINDOW", "TrainLogger", "format_duration"]
