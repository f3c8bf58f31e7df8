"""Findings policy: severities from the config, ignores with reasons, and the fail threshold."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from .config import SEVERITY_OFF, Config
from .model import Finding, Severity


def apply_policy(
    findings: Iterable[Finding], config: Config, *, applied: Iterable[Finding] | None = None
) -> list[Finding]:
    """Findings with the config's severities applied and ignored ones dropped, sorted, unique.

    `applied`: findings this policy already went through (a collected model's), merged in as they
    are; an ignore is unused only when neither they nor `findings` used it."""
    result: set[Finding] = set()
    used = [False] * len(config.ignores)
    earlier = set(applied) if applied is not None else None
    for finding in findings:
        level = config.severity_for(finding.rule)
        if level == SEVERITY_OFF:
            continue
        if level is not None:
            finding = Finding(
                finding.rule,
                Severity(level),
                finding.file,
                finding.line,
                finding.message,
                finding.hint,
            )
        ignored = False
        for index, ignore in enumerate(config.ignores):
            if fnmatch.fnmatch(finding.rule, ignore.rule) and fnmatch.fnmatch(
                finding.file or "", ignore.path
            ):
                used[index] = ignored = True
        if not ignored:
            result.add(finding)
    for index, ignore in enumerate(config.ignores):
        unused = Finding(
            "config/unused-ignore",
            Severity.WARNING,
            config.display(config.file),
            config.line_of("checks", "ignore", index),
            f"ignore of {ignore.rule} on {ignore.path} matches no finding",
            "remove the ignore from `checks.ignore`",
        )
        if not used[index] and (earlier is None or unused in earlier):
            result.add(unused)
    if earlier is not None:
        result.update(f for f in earlier if f.rule != "config/unused-ignore")
    return sorted(result, key=Finding.sort_key)


def fails(findings: Iterable[Finding], threshold: Severity) -> bool:
    """Whether any finding reaches `threshold`."""
    return any(f.severity.rank >= threshold.rank for f in findings)
