"""JSON written and read quickly: the catalog's tens of megabytes, the pages' cache keys, the
cache's kept files. orjson does it, a few times quicker than the standard library; what
orjson refuses (a lone surrogate of a file name that is not UTF-8, an integer past 64
bits, NaN in a file) the standard library does, so nothing is lost and the same value always
gives the same bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def compact_json(
    value: Any, default: Callable[[Any], Any] | None = None, sort_keys: bool = True
) -> bytes:
    """`value` as JSON, keys sorted (unless `sort_keys` is false: then in their order), no
    spaces, in UTF-8. `default` makes a JSON-able value of any other object, or raises
    TypeError, as for `json.dumps`. orjson writes a data class as its fields, a date as
    ISO 8601, and NaN as null."""
    option = _ORJSON if sort_keys else orjson.OPT_NON_STR_KEYS
    try:
        return orjson.dumps(value, default=default, option=option)
    except TypeError:  # orjson.JSONEncodeError is one
        text = json.dumps(value, sort_keys=sort_keys, separators=(",", ":"), default=default)
        return text.encode("ascii")  # every other character escaped (`ensure_ascii`)


def parse_json(data: bytes | str) -> Any:
    """JSON text as Python values; ValueError when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN, an escaped lone surrogate: the standard library's
        return json.loads(data)
