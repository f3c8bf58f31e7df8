"""Owners: teams from owners.yml, and the rules that pick a service's owner."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..model import Finding, Severity, Team
from ..yamlload import as_dict, load_file

CODEOWNERS_PLACES = ("CODEOWNERS", ".github/CODEOWNERS", ".gitlab/CODEOWNERS", "docs/CODEOWNERS")


@dataclass(frozen=True)
class Owners:
    """Teams, per-service overrides, and the file they came from."""

    teams: tuple[Team, ...] = ()
    overrides: dict[str, str] = field(default_factory=dict)
    file: str = ""

    def team(self, team_id: str | None) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def read_owners(path: Path | None, display: str) -> tuple[Owners, list[Finding]]:
    """owners.yml: `teams:` (id -> name, contact, chat, oncall) and `services:` overrides."""
    if path is None:
        return Owners(), []
    if not path.is_file():
        return Owners(file=display), [
            Finding(
                "owners/missing-file",
                Severity.ERROR,
                display,
                None,
                "owners file not found",
                "fix `owners:` in the config",
            )
        ]
    document, findings = load_file(path, display)
    data = document.data if document is not None else None
    if document is None or not isinstance(data, dict):
        if document is not None:
            findings.append(
                Finding(
                    "owners/invalid",
                    Severity.ERROR,
                    display,
                    1,
                    "owners file must be a mapping with `teams:` and `services:`",
                )
            )
        return Owners(file=display), findings
    teams = []
    raw_teams = as_dict(data.get("teams"))
    for team_id, body in raw_teams.items():
        if not isinstance(body, dict):
            findings.append(
                Finding(
                    "owners/invalid",
                    Severity.ERROR,
                    display,
                    document.line(("teams", team_id)),
                    f"team {team_id!r} must be a mapping (name, contact, chat, oncall)",
                )
            )
            body = {}
        teams.append(
            Team(
                id=str(team_id),
                name=_text(body.get("name")) or str(team_id),
                contact=_text(body.get("contact")),
                chat=_text(body.get("chat")),
                oncall=_text(body.get("oncall")),
                line=document.line(("teams", team_id)),
            )
        )
    overrides: dict[str, str] = {}
    raw_services = as_dict(data.get("services"))
    known = {t.id for t in teams}
    for service, team_id in raw_services.items():
        overrides[str(service)] = _text(team_id)
        if _text(team_id) not in known:
            findings.append(
                Finding(
                    "owners/unknown-team",
                    Severity.ERROR,
                    display,
                    document.line(("services", service)),
                    f"service {service!r} is assigned to {team_id!r}, which is not a team in this file",
                    "add the team under `teams:` or fix the name",
                )
            )
    return Owners(tuple(sorted(teams, key=lambda t: t.id)), overrides, display), findings


@dataclass(frozen=True)
class CodeOwners:
    """CODEOWNERS rules, last match wins as GitHub and GitLab read them."""

    rules: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> CodeOwners:
        rules = []
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line or line.startswith("["):
                continue
            parts = line.split()
            if len(parts) >= 2:
                rules.append((parts[0], parts[1]))
        return cls(tuple(rules))

    def owner_of(self, path: str) -> str | None:
        found = None
        for pattern, owner in self.rules:
            if _matches(pattern, path):
                found = owner
        return found


def _matches(pattern: str, path: str) -> bool:
    if pattern == "*":
        return True
    anchored = pattern.startswith("/")
    pattern = pattern.lstrip("/")
    if pattern.endswith("/"):
        return path.startswith(pattern) if anchored else f"/{pattern}" in f"/{path}"
    if anchored or "/" in pattern:
        return fnmatch.fnmatch(path, pattern) or path.startswith(pattern.rstrip("*") + "/")
    return any(fnmatch.fnmatch(part, pattern) for part in path.split("/"))
