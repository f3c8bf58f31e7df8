"""Ownership: every service has an owner, and every owner is a known team."""

from __future__ import annotations

from ..model import Finding, Model, Severity


def owner_findings(model: Model, has_owners_file: bool) -> list[Finding]:
    """A finding per service without owner, and per owner that is not a team of owners.yml."""
    findings: list[Finding] = []
    teams = {team.id for team in model.teams}
    reported: set[tuple[str, str | None]] = set()
    for env in model.environments:
        for deployment in env.deployments:
            key = (deployment.service, deployment.owner)
            if key in reported:
                continue
            reported.add(key)
            if deployment.owner is None:
                findings.append(
                    Finding(
                        "catalog/missing-owner",
                        Severity.ERROR,
                        deployment.file,
                        deployment.line,
                        f"{deployment.service} has no owner",
                        "set `owner` in bundle.yml, an owner label, or an override in owners.yml",
                    )
                )
            elif has_owners_file and deployment.owner not in teams:
                findings.append(
                    Finding(
                        "catalog/unknown-owner",
                        Severity.WARNING,
                        deployment.file,
                        deployment.line,
                        f"{deployment.service} is owned by {deployment.owner!r}, which is not a team in owners.yml",
                        "add the team to owners.yml, or fix the owner",
                    )
                )
    return findings
