"""The model's frozen data classes as JSON and back, for what the cache keeps (never pickle: a
cache file read back can at worst be wrong data, which the loader refuses, never code).

`dump` turns a data class into a dict of its fields, a tuple into a list and an enum into its
value. `load(cls, data)` reads it back by the field types: a field must be there with a value of
its type (a tuple of data classes, `str | None`, `dict[str, str]`...), else ValueError."""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")
_PLAIN = (str, int, float, bool)


def dump(value: Any) -> Any:
    """A data class, enum, tuple, list or dict of them, as JSON takes it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value


def load(cls: type[T], data: Any) -> T:
    """What `dump` made of a `cls`; raises ValueError when `data` is not one."""
    try:
        result: T = _loader(cls)(data)  # type: ignore[arg-type]  # a class is hashable
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"not a {cls.__name__}: {error}") from error
    return result


def _plain(kind: type) -> Callable[[Any], Any]:
    if kind is float:  # a float field may hold an int: JSON keeps which, and so does this

        def number(data: Any) -> Any:
            if type(data) is float or type(data) is int:
                return data
            raise TypeError(f"{data!r} is not a number")

        return number

    def check(data: Any) -> Any:
        if type(data) is kind:  # not isinstance: a bool is no int here
            return data
        raise TypeError(f"{data!r} is not a {kind.__name__}")

    return check


@functools.cache
def _loader(kind: Any) -> Callable[[Any], Any]:
    """How to read back a value of this type."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if kind is Any:
        return lambda data: data
    if kind in _PLAIN:
        return _plain(kind)
    if kind is type(None):
        return _plain(type(None))
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return _dataclass(kind)
    if origin in (types.UnionType, typing.Union):
        options = [_loader(a) for a in args if a is not type(None)]
        nullable = type(None) in args
        if len(options) != 1:
            raise TypeError(f"cannot read back {kind}")
        one = options[0]
        return lambda data: None if data is None and nullable else one(data)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = _loader(args[0])
            return lambda data: tuple(item(v) for v in _list(data))
        items = [_loader(a) for a in args]
        return lambda data: tuple(f(v) for f, v in zip(items, _list(data, len(items)), strict=True))
    if origin is dict:
        key, value = _loader(args[0]), _loader(args[1])
        return lambda data: {key(k): value(v) for k, v in _dict(data).items()}
    raise TypeError(f"cannot read back {kind}")


def _list(data: Any, length: int | None = None) -> list[Any]:
    if not isinstance(data, list) or (length is not None and len(data) != length):
        raise TypeError(f"{data!r} is not a list" + (f" of {length}" if length else ""))
    return data


def _dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"{data!r} is not a mapping")
    return data


def _dataclass(cls: type) -> Callable[[Any], Any]:
    hints = typing.get_type_hints(cls)
    fields = [(f.name, _loader(hints[f.name])) for f in dataclasses.fields(cls) if f.init]

    def read(data: Any) -> Any:
        values = _dict(data)
        return cls(**{name: field(values[name]) for name, field in fields})

    return read
