"""What a schema page shows beyond the model: usage snippets made from an option's path."""

from __future__ import annotations

from typing import Any

from ..model import Option

_PLACEHOLDERS = {"string": "...", "integer": 1, "number": 1.0, "boolean": True}


def sample_value(option: Option) -> Any:
    """A value to show for an option: its example, default, first allowed value or a placeholder."""
    if option.examples:
        return option.examples[0]
    if option.has_default:
        return option.default
    if option.enum:
        return option.enum[0]
    for kind in option.types:
        if kind in _PLACEHOLDERS:
            return _PLACEHOLDERS[kind]
    return None


def usage(option: Option) -> Any:
    """The option set at its place in a config file, as data to dump as YAML; None if unknown."""
    value = sample_value(option)
    if value is None or not option.segments:
        return None
    for part in reversed(option.segments):
        if part == "[]" or (part.startswith("[") and part.endswith("]")):
            value = [value]
        elif part.startswith("<name"):
            value = {"NAME": value}
        else:
            value = {part: value}
    return value
