"""The rule registry: every rule the code can raise is registered, with its severity."""

from __future__ import annotations

import re
from pathlib import Path

from generator.rules import RULES

GENERATOR = Path(__file__).resolve().parents[1] / "generator"
RULE_ID = re.compile(r'"([a-z]+/[a-z0-9-]+)"')


def _raised() -> set[str]:
    found: set[str] = set()
    for path in GENERATOR.rglob("*.py"):
        if path.name == "rules.py":
            continue
        for match in RULE_ID.finditer(path.read_text(encoding="utf-8")):
            if "/" in match.group(1) and not match.group(1).startswith(("text/", "application/")):
                found.add(match.group(1))
    return found


def test_every_rule_the_code_raises_is_registered() -> None:
    raised = _raised()
    assert len(raised) > 40
    assert sorted(raised - set(RULES)) == []


def test_every_registered_rule_is_raised_somewhere() -> None:
    assert sorted(set(RULES) - _raised()) == []


def test_every_rule_says_what_it_finds_in_one_line() -> None:
    for rule in RULES.values():
        assert rule.description.endswith(".") and "\n" not in rule.description, rule.id
        assert rule.area in {"config", "schema", "template", "catalog", "bundle", "envrepo", "history",
                             "owners", "changelog", "yaml", "sample", "docs", "limits", "risk"}, rule.id  # fmt: skip
