"""The model's frozen data classes as JSON and back, for what the cache keeps (never pickle: a
cache file read back can at worst be wrong data, which the loader refuses, never code).

`dump` turns a data class into a dict of its fields, a tuple into a list and an enum into its
value. `load(cls, data)` reads it back by the field types: a field must be there with a value of
its type (a tuple of data classes, `str | None`, `dict[str, str]`...), else ValueError. The
reader of a data class is Python source written once from its field types (the model's own
code, never the data read), so that reading back a few thousand deployments costs what building
them does, not several calls a field."""

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
    kind: Any = type(value)  # hashable, as every class is
    if kind in _PLAIN or value is None:
        return value
    if (names := _field_names(kind)) is not None:
        return {name: dump(getattr(value, name)) for name in names}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    return value


@functools.cache
def _field_names(kind: Any) -> tuple[str, ...] | None:
    """The fields of a data class, in order; None for any other type."""
    if dataclasses.is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return None


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
            if args[0] in (str, int, bool):
                return functools.partial(_plain_tuple, args[0])
            item = _loader(args[0])
            return lambda data: tuple([item(v) for v in _list(data)])
        items = [_loader(a) for a in args]
        return lambda data: tuple(f(v) for f, v in zip(items, _list(data, len(items)), strict=True))
    if origin is dict:
        key, value = _loader(args[0]), _loader(args[1])
        return lambda data: {key(k): value(v) for k, v in _dict(data).items()}
    raise TypeError(f"cannot read back {kind}")


def _plain_tuple(kind: type, data: Any) -> tuple[Any, ...]:
    for value in _list(data):
        if type(value) is not kind:
            raise TypeError(f"{value!r} is not a {kind.__name__}")
    return tuple(data)


def _list(data: Any, length: int | None = None) -> list[Any]:
    if not isinstance(data, list) or (length is not None and len(data) != length):
        raise TypeError(f"{data!r} is not a list" + (f" of {length}" if length else ""))
    return data


def _dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TypeError(f"{data!r} is not a mapping")
    return data


@functools.cache
def _direct(cls: type) -> bool:
    """Whether an instance can be made without `__init__`, its fields set directly: no
    `__post_init__`, no slots, every field set by `__init__`."""
    every = dataclasses.fields(cls)
    return (
        not hasattr(cls, "__post_init__")
        and not hasattr(cls, "__slots__")
        and all(f.init for f in every)
    )


def replaced(obj: T, **changes: Any) -> T:
    """`dataclasses.replace(obj, **changes)`, for a class that allows it (`_direct`) made as the
    codec's readers make one: its fields copied and `changes` set, without `__init__` (which
    sets each field of a frozen class by `object.__setattr__`). The changes are not checked:
    each is a value of its field's type, as `__init__` would not check either."""
    cls: type = type(obj)
    if not _direct(cls):
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    made: T = object.__new__(cls)
    made.__dict__.update(obj.__dict__)
    made.__dict__.update(changes)
    return made


def _dataclass(cls: type) -> Callable[[Any], Any]:
    """A reader made for this class: Python source written from its field types (never from
    data), each plain field checked inline, the rest read by their own readers. A class without
    `__post_init__` whose fields are all set by `__init__` gets its fields set directly, as a
    frozen data class's `__init__` would, without its per-field `object.__setattr__`."""
    hints = typing.get_type_hints(cls)
    fields = [(f.name, hints[f.name]) for f in dataclasses.fields(cls) if f.init]
    direct = _direct(cls)
    names: dict[str, Any] = {"cls": cls, "new": object.__new__, "TypeError": TypeError}
    lines = ["def read(data):", "    if type(data) is not dict:",
             "        raise TypeError(f'{data!r} is not a mapping')"]  # fmt: skip
    for index, (name, kind) in enumerate(fields):
        value = f"v{index}"
        lines.append(f"    {value} = data[{name!r}]")
        lines += _check(value, kind, names)
    values = ", ".join(f"{name!r}: v{index}" for index, (name, _) in enumerate(fields))
    if direct:
        lines += [
            "    made = new(cls)",
            f"    made.__dict__.update({{{values}}})",
            "    return made",
        ]
    else:
        lines.append(f"    return cls(**{{{values}}})")
    exec("\n".join(lines), names)  # source made of this module's strings alone, never of data
    read: Callable[[Any], Any] = names["read"]
    return read


def _check(value: str, kind: Any, names: dict[str, Any]) -> list[str]:
    """The lines that check (or read) `value`, a field of type `kind`, in a made reader."""
    args = typing.get_args(kind)
    nullable = typing.get_origin(kind) in (types.UnionType, typing.Union) and type(None) in args
    inner = next(a for a in args if a is not type(None)) if nullable and len(args) == 2 else kind
    fail = f"        raise TypeError(f'{{{value}!r}} is not a {getattr(inner, '__name__', inner)}')"
    guard = f"{value} is not None and " if nullable else ""
    if inner is Any:
        return []
    if inner is float:
        return [f"    if {guard}type({value}) is not float and type({value}) is not int:", fail]
    if inner in _PLAIN:
        names[f"k_{value}"] = inner
        return [f"    if {guard}type({value}) is not k_{value}:", fail]
    names[f"f_{value}"] = _loader(kind)  # its own reader, None handled there
    return [f"    {value} = f_{value}({value})"]
