"""The JSON the catalog and the pages' cache keys are made of: the same bytes for the same
value, whichever encoder writes it, and what orjson refuses written all the same."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest

from generator.cachekey import digest_of, key_of
from generator.jsontext import compact_json, parse_json


@dataclasses.dataclass(frozen=True)
class _Point:
    x: int
    label: str


def test_keys_are_sorted_and_nothing_is_spaced() -> None:
    value = {"b": [1, 2.5, None, True], "a": {"z": "é", "y": "x"}}
    written = compact_json(value)
    assert written == '{"a":{"y":"x","z":"é"},"b":[1,2.5,null,true]}'.encode()
    assert json.loads(written) == value


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    surrogate = {"file": "bad-\udcff-name.yml"}  # a file name that is not UTF-8
    big = {"n": 2**70}
    assert json.loads(compact_json(surrogate)) == surrogate
    assert json.loads(compact_json(big)) == big
    assert compact_json(surrogate) == compact_json(dict(surrogate))  # the same each time


def test_a_data_class_and_a_date_are_written_as_their_fields_and_iso_8601() -> None:
    when = datetime(2026, 5, 1, 12, tzinfo=UTC)
    written = json.loads(compact_json({"p": _Point(1, "a"), "at": when}))
    assert written == {"p": {"x": 1, "label": "a"}, "at": "2026-05-01T12:00:00+00:00"}


def test_default_makes_other_objects_or_refuses_them() -> None:
    assert json.loads(compact_json({"s": {3}}, lambda v: sorted(v))) == {"s": [3]}

    def refuse(value: object) -> object:
        raise TypeError(type(value).__name__)

    with pytest.raises(TypeError):
        compact_json({"s": {3}}, refuse)


def test_integer_keys_are_written_as_json_writes_them() -> None:
    assert json.loads(compact_json({2: "b", 1: "a"})) == {"1": "a", "2": "b"}


def test_a_key_changes_with_its_value_and_holds_the_code() -> None:
    assert digest_of(b"a") != digest_of(b"b")
    assert key_of("a", 1) == key_of("a", 1) != key_of("a", 2)
    assert digest_of(compact_json({"a": 1})) == digest_of(b'{"a":1}')


def test_what_orjson_cannot_read_is_read_by_the_standard_library() -> None:
    assert parse_json(b'{"a":[1,"\\u00e9"]}') == {"a": [1, "é"]}
    assert parse_json(b'"\\udcff"') == "\udcff"  # an escaped lone surrogate
    nan = parse_json(b"[NaN]")[0]
    assert nan != nan
    with pytest.raises(ValueError):
        parse_json(b"{not json")
