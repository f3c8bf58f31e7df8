"""Findings policy: severities from the config, ignores with reasons, and the fail threshold."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from .config import SEVERITY_OFF, Config
from .model import Finding, Severity


def apply_policy(findings: Iterable[Finding], config: Config) -> list[Finding]:
    """Findings with the config's severities applied and ignored ones dropped, sorted, unique."""
    result: set[Finding] = set()
    used = [False] * len(config.ignores)
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
        if not used[index]:
            result.add(
                Finding(
                    "config/unused-ignore",
                    Severity.WARNING,
                    config.display(config.file),
                    config.line_of("checks", "ignore", index),
                    f"ignore of {ignore.rule} on {ignore.path} matches no finding",
                    "remove the ignore from `checks.ignore`",
                )
            )
    return sorted(result, key=Finding.sort_key)


def fails(findings: Iterable[Finding], threshold: Severity) -> bool:
    """Whether any finding reaches `threshold`."""
    return any(f.severity.rank >= threshold.rank for f in findings)
