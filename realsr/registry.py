"""A small explicit name -> object registry (no import side effects, no folder scanning)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

T = TypeVar("T")


class RegistryError(KeyError):
    """Unknown or duplicate registry name (a ``KeyError`` whose message prints unquoted)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Registry(Generic[T]):
    """Map names to objects (architecture classes, factories, ...).

    Args:
        kind: What the registry holds, used in error messages (e.g. ``"architecture"``).

    Example:
        >>> reg: Registry[type] = Registry("thing")
        >>> @reg.register
        ... class Foo: ...
        >>> reg.get("Foo") is Foo
        True
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    @overload
    def register(self, obj: T, *, name: str | None = None) -> T: ...
    @overload
    def register(self, obj: None = None, *, name: str | None = None) -> Callable[[T], T]: ...
    def register(self, obj: T | None = None, *, name: str | None = None) -> T | Callable[[T], T]:
        """Register ``obj`` under ``name`` (default: its ``__name__``); usable as a decorator.

        Raises:
            RegistryError: The name is already registered.
        """

        def add(item: T) -> T:
            key = name if name is not None else getattr(item, "__name__", None)
            if not isinstance(key, str) or not key:
                raise TypeError(f"{self.kind} registry: give a name for {item!r}")
            if key in self._items:
                raise RegistryError(f"{self.kind} {key!r} is already registered")
            self._items[key] = item
            return item

        return add if obj is None else add(obj)

    def get(self, name: str) -> T:
        """Return the object registered as ``name``; unknown names raise with close suggestions."""
        try:
            return self._items[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._items), n=3, cutoff=0.5)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint} (known: {', '.join(sorted(self._items))})"
            ) from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
