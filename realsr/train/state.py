"""Resume states: random-number states, atomic ``.state`` files, finding and pruning them.

A training state ``training_states/<iter>.state`` is one ``torch.save`` file of tensors and plain
containers (``torch.load(..., weights_only=True)`` reads it): networks, EMA, optimizers, learning
rates, grad scaler, counters, validator best values, the task's state and the random-number states
of every rank (torch CPU and CUDA, numpy and Python ``random``, stored as tensors and lists).

Files are written under a temporary name (``.<iter>.state.<random>.tmp``) in the same folder,
flushed and fsynced, then renamed; a crash leaves either the old set of states or the new one.
Only names ``<digits>.state`` count as states, so a half-written temporary file is never resumed.

Test hook: when the environment variable ``REALSR_TEST_KILL_AT_STATE`` names an iteration,
:func:`save_state` of that iteration writes the temporary file, truncates it to half its size and
kills its own process with SIGKILL (simulating a crash in the middle of a write).
"""

from __future__ import annotations

import os
import random
import re
import signal
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

STATE_FORMAT = "realsr-train-state"
STATE_VERSION = 1
KILL_HOOK_ENV = "REALSR_TEST_KILL_AT_STATE"

_STATE_NAME = re.compile(r"^(\d+)\.state$")


# --------------------------------------------------------------------------------------------
# Random-number states


def rng_state() -> dict[str, Any]:
    """This process's random-number states as tensors and plain values (weights_only-safe).

    Returns:
        ``{"torch": ByteTensor, "cuda": [ByteTensor, ...], "numpy": {...}, "python": {...}}``.
    """
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)  # noqa: NPY002
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached),
        },
        "python": {"version": int(version), "state": list(internal), "gauss_next": gauss_next},
    }


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore :func:`rng_state` output (CUDA states only when the device count matches)."""
    torch.set_rng_state(state["torch"])
    cuda = list(state.get("cuda", []))
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)
    np_state = state["numpy"]
    keys = np_state["keys"].numpy().astype(np.uint32)
    np.random.set_state(  # noqa: NPY002
        ("MT19937", keys, np_state["pos"], np_state["has_gauss"], np_state["cached_gaussian"])
    )
    py_state = state["python"]
    random.setstate((py_state["version"], tuple(py_state["state"]), py_state["gauss_next"]))


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and Python ``random`` (BasicSR's ``set_random_seed``)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002
    torch.manual_seed(seed)


# --------------------------------------------------------------------------------------------
# Files


def state_path(states_dir: Path, iteration: int) -> Path:
    """``states_dir/<iteration>.state``."""
    return states_dir / f"{iteration}.state"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_torch_save(
    obj: Any, path: Path, *, before_replace: Callable[[Path], None] | None = None
) -> Path:
    """``torch.save`` to a temporary file beside ``path``, fsync, then rename onto ``path``.

    Args:
        obj: What to save.
        path: Destination.
        before_replace: Called with the temporary path after it is written and synced, before
            the rename (the crash test hook).

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        if before_replace is not None:
            before_replace(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    return path


def _kill_hook(iteration: int) -> Callable[[Path], None] | None:
    target = os.environ.get(KILL_HOOK_ENV)
    if target is None or target.strip() != str(iteration):
        return None

    def crash(tmp: Path) -> None:
        size = tmp.stat().st_size
        with open(tmp, "r+b") as handle:
            handle.truncate(size // 2)
            handle.flush()
            os.fsync(handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)

    return crash


def save_state(states_dir: Path, iteration: int, state: Mapping[str, Any]) -> Path:
    """Write ``states_dir/<iteration>.state`` atomically (with the format tag added).

    Args:
        states_dir: The experiment's ``training_states`` folder.
        iteration: The completed iteration the state belongs to.
        state: The state entries (tensors and plain containers only).

    Returns:
        The file written.
    """
    payload = {"format": STATE_FORMAT, "version": STATE_VERSION, **state}
    path = state_path(states_dir, iteration)
    return atomic_torch_save(payload, path, before_replace=_kill_hook(iteration))


class StateError(ValueError):
    """A training state that cannot be read (the message names the file)."""


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a training state written by :func:`save_state` (``weights_only=True``, on the CPU).

    Raises:
        FileNotFoundError: No such file.
        StateError: Unreadable or not a training state.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"training state not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StateError(f"{path}: not a readable training state ({first})") from None
    if not isinstance(obj, dict) or obj.get("format") != STATE_FORMAT:
        raise StateError(f"{path}: not a realsr training state (no format tag {STATE_FORMAT!r})")
    if obj.get("version") != STATE_VERSION:
        raise StateError(f"{path}: training state version {obj.get('version')} not supported")
    return obj


def list_states(states_dir: Path) -> list[tuple[int, Path]]:
    """Complete state files ``<iter>.state`` in ``states_dir``, oldest iteration first."""
    if not states_dir.is_dir():
        return []
    found = []
    for entry in states_dir.iterdir():
        match = _STATE_NAME.match(entry.name)
        if match and entry.is_file():
            found.append((int(match.group(1)), entry))
    return sorted(found)


def find_resume_state(
    states_dir: Path, *, warn: Callable[[str], None]
) -> tuple[Path, dict[str, Any]] | None:
    """The newest readable state in ``states_dir`` (for auto-resume), loaded.

    Temporary files are ignored; an unreadable newest file is reported with ``warn`` and the
    previous one is tried.

    Returns:
        ``(path, state)`` or ``None`` when there is no readable state.
    """
    for _, path in reversed(list_states(states_dir)):
        try:
            return path, load_state(path)
        except StateError as exc:
            warn(f"{exc}; trying the previous training state")
    return None


def remove_temporaries(folder: Path) -> None:
    """Delete temporary files (``.*.tmp``) left in ``folder`` by an interrupted write."""
    if folder.is_dir():
        for entry in folder.glob(".*.tmp"):
            entry.unlink(missing_ok=True)


def prune(folder: Path, pattern: str, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest files whose names match ``pattern`` with one group
    of digits (the iteration); ``keep <= 0`` keeps everything.

    Args:
        folder: Where to look.
        pattern: A regular expression matched against the whole file name, e.g.
            ``r"net_g_(\\d+)\\.pth"``.
        keep: How many of the newest to keep.

    Returns:
        The deleted files.
    """
    if keep <= 0 or not folder.is_dir():
        return []
    rx = re.compile(pattern)
    numbered = sorted(
        (int(m.group(1)), entry) for entry in folder.iterdir() if (m := rx.fullmatch(entry.name))
    )
    doomed = [entry for _, entry in numbered[:-keep]]
    for entry in doomed:
        entry.unlink(missing_ok=True)
    return doomed


def archive_dir(folder: Path) -> Path:
    """Rename ``folder`` to ``<folder>_archived_<YYYYmmdd_HHMMSS>`` (BasicSR's naming).

    Returns:
        The new name.
    """
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime())
    target = folder.with_name(f"{folder.name}_archived_{stamp}")
    n = 1
    while target.exists():
        target = folder.with_name(f"{folder.name}_archived_{stamp}_{n}")
        n += 1
    os.replace(folder, target)
    return target


__all__ = [
    "KILL_HOOK_ENV",
    "STATE_FORMAT",
    "STATE_VERSION",
    "StateError",
    "archive_dir",
    "atomic_torch_save",
    "find_resume_state",
    "list_states",
    "load_state",
    "prune",
    "remove_temporaries",
    "rng_state",
    "save_state",
    "seed_everything",
    "set_rng_state",
]
