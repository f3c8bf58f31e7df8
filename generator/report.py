"""Reporters for findings, picked by name: each turns the findings into one text."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from itertools import groupby

from .model import Finding, Severity

_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def use_colour(stream_is_tty: bool) -> bool:
    """Colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    return stream_is_tty and not os.environ.get("NO_COLOR")


def text_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """Findings grouped by file, one line each, then a count."""
    lines: list[str] = []
    for file, group in groupby(findings, key=lambda f: f.file or "(no file)"):
        lines.append(file)
        for finding in group:
            level = finding.severity.value
            if colour:
                level = f"\033[{_COLOURS[finding.severity]}m{level}\033[0m"
            where = f"{finding.line}" if finding.line else "-"
            lines.append(f"  {where:>5}  {level}  {finding.message}  [{finding.rule}]")
            if finding.hint:
                lines.append(f"         hint: {finding.hint}")
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    lines.append(
        f"{counts[Severity.ERROR]} errors, {counts[Severity.WARNING]} warnings, {counts[Severity.INFO]} notes"
    )
    return "\n".join(lines) + "\n"


def json_report(findings: Sequence[Finding], colour: bool = False) -> str:
    """`{"findings": [{rule, severity, file, line, message, hint}]}`."""
    return json.dumps({"findings": [f.as_dict() for f in findings]}, indent=2) + "\n"


REPORTERS: dict[str, Callable[[Sequence[Finding], bool], str]] = {
    "text": text_report,
    "json": json_report,
}
