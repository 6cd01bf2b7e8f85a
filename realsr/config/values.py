"""Checking YAML values against type hints and dataclass fields, with one-line errors."""

from __future__ import annotations

import collections.abc
import dataclasses
import difflib
import fnmatch
import os
import re
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import torch
import yaml

from realsr.config.registry import IGNORED_KEYS


class ConfigError(ValueError):
    """Invalid training options; the one-line message names the file or the dotted key."""


ConfigError.__module__ = "realsr.config"  # its public home, as tracebacks show it


_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_SEQUENCE_ORIGINS = (list, tuple, Sequence, Iterable, collections.abc.Sequence)
_MAPPING_ORIGINS = (dict, Mapping, collections.abc.Mapping)


def _show(value: Any) -> str:
    return "null" if value is None else repr(value)


def _nearest(word: object, options: Iterable[str]) -> str:
    match = difflib.get_close_matches(str(word), list(options), n=1)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):  # (a tensor cannot come from YAML)
        return " or ".join(_describe(m) for m in get_args(tp) if m is not torch.Tensor)
    if origin is Literal:
        choices = get_args(tp)
        listed = ", ".join(repr(choice) for choice in choices)
        return listed if len(choices) == 1 else f"one of {listed}"
    if tp is type(None):
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    if tp in names:
        return names[tp]
    if origin in _SEQUENCE_ORIGINS or tp in (list, tuple):
        return "a list"
    if origin in _MAPPING_ORIGINS or tp is dict:
        return "a mapping"
    return getattr(tp, "__name__", str(tp))


def _type_error(where: str, tp: Any, value: Any) -> ConfigError:
    hint = ""
    choices = [c for c in _literal_choices(tp) if isinstance(c, str)]
    if choices and isinstance(value, str):
        hint = _nearest(value, choices)
    return ConfigError(f"{where}: expected {_describe(tp)}, got {_show(value)}{hint}")


def _literal_choices(tp: Any) -> list[Any]:
    if get_origin(tp) is Literal:
        return list(get_args(tp))
    if get_origin(tp) in (Union, types.UnionType):
        return [c for member in get_args(tp) for c in _literal_choices(member)]
    return []


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return None


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check ``value`` against the type hint ``tp``; numbers become the declared type.

    ``5e3`` (read by YAML 1.1 as the string ``'5e3'``) or ``5000.0`` for an integer is ``5000``; an
    integer or numeric string for a float is that float. Lists come back as lists.
    """
    if tp is Any:
        return value
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        members = get_args(tp)
        if value is None:
            if type(None) in members:
                return None
            raise _type_error(where, tp, value)
        for member in members:
            if member is type(None):
                continue
            try:
                return _coerce(value, member, where)
            except ConfigError:
                continue
        raise _type_error(where, tp, value)
    if origin is Literal:
        if isinstance(value, str) and value in get_args(tp):
            return value
        raise _type_error(where, tp, value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise _type_error(where, tp, value)
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        number = _number(value)
        if number is not None and number.is_integer():
            return int(number)
        raise _type_error(where, tp, value)
    if tp is float:
        number = _number(value)
        if number is None:
            raise _type_error(where, tp, value)
        return number
    if tp is str:
        if isinstance(value, str):
            return value
        raise _type_error(where, tp, value)
    if tp is type(None):
        if value is None:
            return None
        raise _type_error(where, tp, value)
    if origin in _SEQUENCE_ORIGINS or tp in (list, tuple):
        if not isinstance(value, list | tuple):
            raise _type_error(where, tp, value)
        items = get_args(tp)
        if origin is tuple and items and items[-1] is not Ellipsis:
            if len(value) != len(items):
                raise ConfigError(f"{where}: expected a list of {len(items)} items, got {value!r}")
            return [
                _coerce(v, t, f"{where}[{i}]")
                for i, (v, t) in enumerate(zip(value, items, strict=True))
            ]
        item = items[0] if items else Any
        return [_coerce(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin in _MAPPING_ORIGINS or tp is dict:
        if not isinstance(value, Mapping):
            raise _type_error(where, tp, value)
        key_tp, value_tp = get_args(tp) or (Any, Any)
        return {
            _coerce(k, key_tp, where): _coerce(v, value_tp, f"{where}.{k}")
            for k, v in value.items()
        }
    if tp is torch.Tensor:
        raise _type_error(where, tp, value)
    if tp is os.PathLike or origin is os.PathLike:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a path, got {_show(value)}")
    return value  # an annotation this checker does not know: passed through unchecked


def _ignored_reason(where: str) -> str | None:
    for pattern, reason in IGNORED_KEYS.items():
        if fnmatch.fnmatchcase(where, pattern):
            return reason
    return None


def _ignored_here(where: str) -> list[str]:
    """The ignored keys that may appear directly under the section ``where``."""
    names = []
    for pattern in IGNORED_KEYS:
        head, _, last = pattern.rpartition(".")
        if fnmatch.fnmatchcase(where, head):
            names.append(last)
    return names


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where or 'options'}: expected a mapping, got {_show(value)}")
    for key in value:
        if not isinstance(key, str):
            raise ConfigError(f"{_join(where, key)}: keys must be strings, got {key!r}")
    return value


def _fields(
    cls: type,
    raw: Mapping[str, Any],
    where: str,
    *,
    nested: Mapping[str, Callable[[Any, str], Any]] | None = None,
    derived: Mapping[str, Any] | None = None,
    extra: Iterable[str] = (),
) -> dict[str, Any]:
    """The constructor arguments of the dataclass ``cls`` from the section ``raw``.

    Args:
        cls: the dataclass.
        raw: the YAML section.
        where: its dotted path.
        nested: builders ``(value, where) -> object`` for fields that are sections themselves.
        derived: fields set by the loader; the section may repeat them with the same value.
        extra: other keys accepted here (read by the caller).

    Returns:
        The coerced values of the keys present (plus ``derived``); missing required fields raise.
    """
    raw = _mapping(raw, where)
    nested = nested or {}
    derived = dict(derived or {})
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    extra = set(extra)
    ignored = _ignored_here(where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        key_where = _join(where, key)
        if key in derived:
            if _coerce(value, hints[key], key_where) != derived[key]:
                raise ConfigError(
                    f"{key_where}: is set by the loader to {derived[key]!r}, got {_show(value)}"
                )
        elif key in nested:
            if value is not None or fields[key].default is dataclasses.MISSING:
                out[key] = nested[key](value, key_where)
        elif key in fields:
            out[key] = _check_value(value, fields[key], hints[key], key_where)
        elif key not in extra and _ignored_reason(key_where) is None:
            valid = [*fields, *extra, *ignored]
            raise ConfigError(f"{key_where}: unknown key{_nearest(key, valid)}")
    out.update(derived)
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in out:
            raise ConfigError(f"{_join(where, name)}: missing (required)")
    return out


def _check_value(value: Any, f: dataclasses.Field[Any], hint: Any, where: str) -> Any:
    """Coerce one field's value and check its ``min`` / ``choices`` metadata."""
    out = _coerce(value, hint, where)
    minimum = f.metadata.get("min")
    if minimum is not None and out is not None and out < minimum:
        raise ConfigError(f"{where}: must be >= {minimum}, got {_show(value)}")
    choices = f.metadata.get("choices")
    if choices is not None and out not in choices:
        raise ConfigError(
            f"{where}: unknown {f.metadata['kind']} {_show(value)}{_nearest(out, choices)}"
            f" (known: {', '.join(choices)})"
        )
    return out


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)
