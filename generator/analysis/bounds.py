"""Names and versions over their limits (`limits:` in the config): a `limits/cut` finding each.

Nothing is lost by a limit: the model, `catalog.json` and every report keep the value whole;
pages and terminal tables show it cut (`limits.cut`, ending in `…`), page file names are
bounded on their own (`ids.page_name`), and a version over its limit is compared as a string,
never read as semver (`versions.semver_key`). This step says, once per place, what was cut."""

from __future__ import annotations

from ..limits import Limits, cut
from ..model import Finding, Model, Severity

RULE = "limits/cut"
SHOWN = 40  # characters of a cut value the finding's message shows


class _Cuts:
    """The findings, one per value and place."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.findings: list[Finding] = []
        self.seen: set[tuple[str, str, str | None, int | None]] = set()

    def name(self, what: str, value: str, file: str | None, line: int | None) -> None:
        limit = self.limits.name_chars
        if len(value) > limit:
            self._add(what, value, file, line, limit, "name_chars", "")

    def version(self, what: str, value: str | None, file: str | None, line: int | None) -> None:
        limit = self.limits.version_chars
        if value is not None and len(value) > limit:
            self._add(what, value, file, line, limit, "version_chars",
                      "; it is compared as a string, not by semver")  # fmt: skip

    def _add(self, what: str, value: str, file: str | None, line: int | None, limit: int,
             key: str, more: str) -> None:  # fmt: skip
        if (what, value, file, line) in self.seen:
            return
        self.seen.add((what, value, file, line))
        self.findings.append(Finding(
            RULE, Severity.WARNING, file, line,
            f"{what} {cut(value, SHOWN)!r} has {len(value)} characters, over the limit of "
            f"{limit}: pages and tables show it cut to {limit}{more}",
            f"shorten it, or raise `limits.{key}` in the config; catalog.json keeps it whole",
        ))  # fmt: skip


def cut_findings(model: Model, owners_file: str) -> list[Finding]:
    """A `limits/cut` finding for each name and version over its limit, with where it is."""
    cuts = _Cuts(model.limits)
    for schema in model.schemas:
        cuts.name("schema id", schema.id, schema.file, None)
    for template in model.templates:
        cuts.name("template id", template.id, template.file, None)
    for team in model.teams:
        cuts.name("team id", team.id, owners_file, team.line)
        cuts.name("team name", team.name, owners_file, team.line)
    longest = model.limits.version_chars  # the messages made only for a version over it
    for env in model.environments:
        reported: set[tuple[str, str]] = set()  # (service, version) said at a deployment
        for d in env.deployments:
            cuts.name("service name", d.service, d.file, d.line)
            where = (d.version_file, d.version_line) if d.version_file else (d.file, d.line)
            for version in dict.fromkeys(v for v in (d.version, *d.versions) if v is not None):
                if len(version) > longest:
                    cuts.version(f"version of {cut(d.service, SHOWN)!r}", version, *where)
                    reported.add((d.service, version))
        for change in env.history:
            for changed in (change.from_version, change.to_version):
                if changed and len(changed) > longest and (change.service, changed) not in reported:
                    cuts.version(
                        f"version of {cut(change.service, SHOWN)!r} in {env.name}'s history "
                        f"(commit {change.commit[:12]})",
                        changed, env.repo, None,
                    )  # fmt: skip
                    reported.add((change.service, changed))
    return cuts.findings
