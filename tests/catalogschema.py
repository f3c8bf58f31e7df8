"""catalog.json checked against its published schema (generator/formats/catalog.schema.json),
for every test that makes a site: formats checked, `date-time` too."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "generator" / "formats" / "catalog.schema.json"
SCHEMA: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _date_time(value: object) -> bool:
    """RFC 3339 `date-time`, checked here: jsonschema checks it only with rfc3339-validator."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _checker() -> FormatChecker:
    checker = FormatChecker()
    if "date-time" not in checker.checkers:
        checker.checks("date-time")(_date_time)
    return checker


VALIDATOR = Draft202012Validator(SCHEMA, format_checker=_checker())


def catalog_errors(document: Any) -> list[str]:
    """Every way `document` breaks the published schema, one line each (path: message)."""
    errors = sorted(VALIDATOR.iter_errors(document), key=lambda e: list(map(str, e.path)))
    return [f"{e.json_path}: {e.message[:300]}" for e in errors]


def error_paths(document: Any) -> set[str]:
    """Where each error is, those inside an `anyOf` (a value or null) too."""
    found, todo = set(), list(VALIDATOR.iter_errors(document))
    while todo:
        error = todo.pop()
        found.add(error.json_path)
        todo.extend(error.context or ())
    return found


def assert_valid_catalog(document: Any, where: str = "catalog.json") -> None:
    """`document` validates against the published schema."""
    errors = catalog_errors(document)
    shown = "\n".join(errors[:30])
    assert not errors, f"{where} does not validate ({len(errors)} errors):\n{shown}"
