"""The experiment folder: choosing a resume state, creating or archiving the folder, model files,
and routing log records.

Layout (``options.experiment_dir``)::

    options.yml                   the resolved options (realsr.config.resolved_dict)
    models/net_g_<iter>.pth       save_checkpoint files: "params" and, with EMA, "params_ema"
    models/net_<name>_<iter>.pth  the task's other networks ("d")
    models/net_g_latest.pth       a copy of the newest net_g_<iter>.pth
    models/net_g_best_<metric>.pth  net_g when validation improved <metric> (with several
                                  validation sets: net_g_best_<set>_<metric>.pth)
    training_states/<iter>.state  resume states (realsr.train.state)
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from torch import nn

from realsr.checkpoint import save_checkpoint

from . import distributed as ddp
from . import state as st


def prepare_folder(folder: Path, *, resumed: bool, options: Mapping[str, Any]) -> str | None:
    """Create the experiment folder (archiving a previous run's when not resuming), remove
    temporary files left by a crash, and write ``options.yml`` atomically.

    Args:
        folder: ``options.experiment_dir``.
        resumed: Whether this run continues the one in ``folder``.
        options: The resolved options mapping.

    Returns:
        A notice when a previous run's folder was archived, else ``None``.
    """
    notice = None
    if not resumed and folder.is_dir() and any(folder.iterdir()):
        notice = f"existing experiment folder archived as {st.archive_dir(folder)}"
    for sub in (folder / "models", folder / "training_states"):
        sub.mkdir(parents=True, exist_ok=True)
        st.remove_temporaries(sub)
    text = yaml.safe_dump(dict(options), sort_keys=False, allow_unicode=True)
    tmp = folder / ".options.yml.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(folder / "options.yml")
    return notice


def save_generator(
    path: Path, net_g: nn.Module, ema: nn.Module | None, extra: Mapping[str, Any] | None = None
) -> Path:
    """net_g (and its EMA copy as ``params_ema``) as a BasicSR-compatible checkpoint."""
    return save_checkpoint(path, net_g, ema_model=ema, extra=extra)


def save_models(
    models_dir: Path, iteration: int, nets: Mapping[str, nn.Module], ema: nn.Module | None
) -> Path:
    """Write ``net_<name>_<iteration>.pth`` for every network and refresh ``net_g_latest.pth``.

    Args:
        models_dir: The experiment's ``models`` folder.
        iteration: The completed iteration.
        nets: Plain (unwrapped) networks by name; ``"g"`` gets the EMA copy beside it.
        ema: The EMA copy of net_g, or ``None``.

    Returns:
        The ``net_g_<iteration>.pth`` path.
    """
    g_path = save_generator(models_dir / f"net_g_{iteration}.pth", nets["g"], ema)
    for name, net in nets.items():
        if name != "g":
            save_checkpoint(models_dir / f"net_{name}_{iteration}.pth", net)
    tmp = models_dir / ".net_g_latest.pth.tmp"
    shutil.copyfile(g_path, tmp)
    tmp.replace(models_dir / "net_g_latest.pth")
    return g_path


def best_name(set_name: str, metric: str, n_sets: int) -> str:
    """``net_g_best_<metric>.pth`` (one validation set) or ``net_g_best_<set>_<metric>.pth``.

    Example:
        >>> best_name("Set 5", "psnr", 2)
        'net_g_best_Set_5_psnr.pth'
    """
    label = metric if n_sets == 1 else f"{set_name}_{metric}"
    label = "".join(c if c.isalnum() or c in "-_" else "_" for c in label)
    return f"net_g_best_{label}.pth"


def prune_models(models_dir: Path, names: list[str], keep: int) -> None:
    """Keep the ``keep`` newest ``net_<name>_<iter>.pth`` of each network (latest/best stay)."""
    for name in names:
        st.prune(models_dir, rf"net_{name}_(\d+)\.pth", keep)


def choose_resume_state(
    states_dir: Path,
    resume_state: str | None,
    *,
    auto_resume: bool,
    info: ddp.DistInfo,
    warn: Callable[[str], None],
) -> tuple[Path, dict[str, Any]] | None:
    """The state to resume from: with ``auto_resume`` the newest readable one in ``states_dir``,
    else (or when there is none) ``path.resume_state`` if set.

    Rank 0 picks and reads it and broadcasts its path (or its error, so that every rank raises);
    the other ranks read the same file after a barrier.

    Returns:
        ``(path, state)`` or ``None`` for a fresh start.

    Raises:
        FileNotFoundError: ``path.resume_state`` names a missing file.
        StateError: The chosen file is not a readable training state.
    """
    chosen: tuple[Path, dict[str, Any]] | None = None
    error = None
    if info.is_main:
        try:
            if auto_resume:
                chosen = st.find_resume_state(states_dir, warn=warn)
            if chosen is None and resume_state:
                path = Path(resume_state)
                if not path.is_file():
                    raise FileNotFoundError(f"path.resume_state: file not found: {path}")
                chosen = path, st.load_state(path)
        except (OSError, st.StateError) as exc:
            error = str(exc)
    path_text, error = ddp.broadcast_object((str(chosen[0]) if chosen else None, error), info)
    if error is not None:
        raise FileNotFoundError(error) if "not found" in error else st.StateError(error)
    ddp.barrier(info)
    if path_text is None:
        return None
    if chosen is None:
        chosen = Path(path_text), st.load_state(path_text)
    return chosen


class LogBridge(logging.Handler):
    """Forwards records of the ``realsr`` Python loggers (e.g. pretrained-weight loading in the
    tasks) to ``note(level, message)`` while attached.

    Args:
        note: Receives each record's level and message.
    """

    def __init__(self, note: Callable[[int, str], None]) -> None:
        super().__init__(level=logging.INFO)
        self.note = note
        self._saved_level: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.note(record.levelno, record.getMessage())
        except Exception:  # pragma: no cover - logging must never break training
            self.handleError(record)

    def attach(self) -> None:
        """Start forwarding (lowers the ``realsr`` logger to INFO if it is higher)."""
        root = logging.getLogger("realsr")
        self._saved_level = root.level
        if root.getEffectiveLevel() > logging.INFO:
            root.setLevel(logging.INFO)
        root.addHandler(self)

    def detach(self) -> None:
        """Stop forwarding and restore the logger's level (idempotent)."""
        root = logging.getLogger("realsr")
        if self in root.handlers:
            root.removeHandler(self)
            if self._saved_level is not None:
                root.setLevel(self._saved_level)


__all__ = [
    "LogBridge",
    "best_name",
    "prepare_folder",
    "prune_models",
    "save_generator",
    "save_models",
]
