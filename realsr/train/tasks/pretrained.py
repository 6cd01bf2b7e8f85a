"""Loading ``path.pretrain_network_g`` / ``path.pretrain_network_d`` into freshly built networks.

BasicSR's rules: the weights come from the file's ``param_key`` entry (``params_ema``,
``params``, ...), falling back to ``params`` with a notice when that entry is absent; a
``module.`` prefix (DataParallel / DDP checkpoints) is removed. With ``strict`` the file's keys
and shapes must match the network exactly. Without it, the keys whose names and shapes match
are loaded and the others (missing from the file, absent from the network, or of another shape)
are skipped with a warning listing them: this is how an x4 RRDBNet starts from x2 weights
(``conv_first`` differs).

Files are read with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from realsr.train.ema import unwrap

if TYPE_CHECKING:
    from realsr.config import PathOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_pretrained` did.

    Attributes:
        path: the file read.
        param_key: the entry the weights came from (``""`` for a flat state dict).
        loaded: keys copied into the network.
        missing: network keys absent from the file (left as initialised).
        unexpected: file keys the network does not have (ignored).
        mismatched: keys present in both with different shapes (left as initialised).
    """

    path: Path
    param_key: str
    loaded: tuple[str, ...]
    missing: tuple[str, ...]
    unexpected: tuple[str, ...]
    mismatched: tuple[str, ...]


def _read_state(path: Path, param_key: str | None, option: str) -> tuple[dict[str, Tensor], str]:
    try:
        obj: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        found = re.search(r"GLOBAL ([\w.]+)", text)
        if found:
            raise ValueError(
                f"{path} ({option}): refused, it needs arbitrary Python objects to unpickle "
                f"({found.group(1)}); only tensors and plain containers are loaded"
            ) from None
        detail = re.search(r"WeightsUnpickler error:\s*(\S.*)", text)
        reason = detail.group(1).strip() if detail else "unpickling failed"
        raise ValueError(
            f"{path} ({option}): not a readable PyTorch checkpoint ({reason})"
        ) from None
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{path} ({option}): not a readable PyTorch checkpoint ({first})"
        ) from None
    if not isinstance(obj, Mapping):
        raise ValueError(f"{path} ({option}): expected a dict, found {type(obj).__name__}")
    key = ""
    if param_key is not None and param_key in obj:
        key = param_key
    elif isinstance(obj.get("params"), Mapping):
        if param_key is not None:
            log.info("%s: no %r entry, loading 'params' instead", path, param_key)
        key = "params"
    elif not all(isinstance(v, Tensor) for v in obj.values()):
        wanted = "'params'" if param_key in (None, "params") else f"{param_key!r} or 'params'"
        raise ValueError(
            f"{path} ({option}): no {wanted} entry (entries: {', '.join(sorted(map(str, obj)))})"
        )
    raw = obj[key] if key else obj
    if not isinstance(raw, Mapping) or not all(isinstance(v, Tensor) for v in raw.values()):
        raise ValueError(f"{path} ({option}): entry {key!r} is not a state dict of tensors")
    state = {str(k): v for k, v in raw.items()}
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    return state, key


def _short(keys: tuple[str, ...], limit: int = 8) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > limit else "")


def load_pretrained(
    net: nn.Module,
    path: str | os.PathLike[str],
    *,
    param_key: str | None = "params",
    strict: bool = True,
    option: str = "path.pretrain_network_g",
) -> LoadReport:
    """Load pretrained weights into ``net`` (BasicSR's ``load_network`` semantics).

    Args:
        net: the network (DDP / DataParallel wrappers are looked through).
        path: a ``.pth`` file: a BasicSR checkpoint (``{"params": ..., "params_ema": ...}``) or a
            flat state dict.
        param_key: the entry to read; when absent, ``params`` is used with a notice.
        strict: require the same keys and shapes; False loads the matching keys and warns
            about the rest.
        option: the option key naming the file, for messages.

    Returns:
        A :class:`LoadReport`.

    Raises:
        FileNotFoundError: no such file (the message names it and ``option``).
        ValueError: unreadable or unsafe file, no usable entry, or (``strict``) keys or shapes
            that do not match.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: pretrained network not found (set by {option})")
    state, key = _read_state(path, param_key, option)
    target = unwrap(net)
    own = target.state_dict()
    missing = tuple(sorted(set(own) - set(state)))
    unexpected = tuple(sorted(set(state) - set(own)))
    mismatched = tuple(sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape))
    strict_key = option.replace("pretrain_network", "strict_load")
    if strict and (missing or unexpected or mismatched):
        parts = [
            f"{what} [{_short(keys)}]"
            for what, keys in (
                ("missing", missing),
                ("unexpected", unexpected),
                ("different shapes", mismatched),
            )
            if keys
        ]
        raise ValueError(
            f"{path} ({option}): weights do not fit {type(target).__name__}: {'; '.join(parts)}; "
            f"set {strict_key}: false to load only the matching keys"
        )
    skipped = set(mismatched)
    loadable = {k: v for k, v in state.items() if k in own and k not in skipped}
    target.load_state_dict(loadable, strict=strict)
    if missing or unexpected or mismatched:
        log.warning(
            "%s: loaded %d of %d tensors into %s; not in the file: [%s]; not in the network: "
            "[%s]; shape differs (skipped): [%s]",
            path,
            len(loadable),
            len(own),
            type(target).__name__,
            _short(missing),
            _short(unexpected),
            ", ".join(f"{k} {tuple(own[k].shape)} vs {tuple(state[k].shape)}" for k in mismatched),
        )
    log.info("loaded %s from %s [%s]", type(target).__name__, path, key or "<flat>")
    return LoadReport(path, key, tuple(sorted(loadable)), missing, unexpected, mismatched)


def load_pretrained_from_options(
    net: nn.Module, paths: PathOptions, name: str
) -> LoadReport | None:
    """Load ``path.pretrain_network_<name>`` into ``net`` when the option is set.

    Args:
        net: the network.
        paths: ``options.path``.
        name: ``"g"`` or ``"d"`` (reads ``pretrain_network_<name>``, ``param_key_<name>`` and
            ``strict_load_<name>``).

    Returns:
        The :class:`LoadReport`, or None when no file is configured.
    """
    file = getattr(paths, f"pretrain_network_{name}")
    if file is None:
        return None
    return load_pretrained(
        net,
        file,
        param_key=getattr(paths, f"param_key_{name}"),
        strict=bool(getattr(paths, f"strict_load_{name}")),
        option=f"path.pretrain_network_{name}",
    )


__all__ = ["LoadReport", "load_pretrained", "load_pretrained_from_options"]
