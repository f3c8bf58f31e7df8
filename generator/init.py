"""`pipeline-docs init`: a starting config, mkdocs.yml, owners.yml and guide for a pipeline."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .config import ConfigError
from .scaffold.plan import Plan, make_plan, relative
from .scaffold.project import WRITTEN, Outcome, one_line, write_project
from .scaffold.walk import Source, SourceError, open_source


def _fail(message: str) -> None:
    click.echo(f"init: {message}", err=True)
    sys.exit(2)


def _title(out: Path) -> str:
    name = out.resolve().name.replace("-", " ").replace("_", " ").strip()
    return f"{name} delivery pipeline" if name else "Delivery pipeline"


def _report(plan: Plan, outcome: Outcome, out: Path) -> None:
    """What was guessed, and what to fix first, on stdout."""

    def echo(message: str = "") -> None:
        click.echo("\n".join(one_line(line) for line in message.split("\n")))

    echo(f"wrote {', '.join(WRITTEN)} in {out}")
    echo()
    echo("guessed:")
    if plan.schemas:
        chosen = plan.schemas[0]
        echo(f"  schemas: {relative(out, chosen.source, chosen.folder)} ({chosen.count} schemas)")
        for other in plan.schemas[1:]:
            shown = relative(out, other.source, other.folder)
            echo(f"    also found, not used: {shown} ({other.count})")
    else:
        echo("  schemas: none found")
    for suite in plan.suites:
        echo(f"    left out: {suite} (a JSON-Schema test suite: its cases are no schemas)")
    count, folders = sum(t.count for t in plan.templates), len(plan.templates)
    shown = f"{count} in {folders} folder{'s' if folders != 1 else ''}" if count else "none found"
    echo(f"  templates: {shown}")
    if plan.environments:
        echo("  environments, in promotion order:")
        for env in plan.environments:
            ups = ", ".join(env.promotes_from) or "nothing"
            mark = "  (order guessed)" if env.rank is None else ""
            where = f" {env.found.path}" if env.found.path else ""
            echo(f"    {env.name} <- {ups}   [{env.found.how}{where}]{mark}")
    else:
        echo("  environments: none found")
    teams = ", ".join(t.id for t in outcome.teams) or "none found"
    echo(f"  teams: {teams}")
    echo()
    echo("what to fix first:")
    fixes = [
        f"  {rule}: {count} finding{'s' if count != 1 else ''} at error, lowered to warning in "
        "pipeline-docs.yml: fix them, then remove the line"
        for rule, count in outcome.lowered
    ]
    if outcome.unowned:
        fixes.append(f"  owners not found for {len(outcome.unowned)} services "
                     f"({', '.join(outcome.unowned[:10])}{', ...' if len(outcome.unowned) > 10 else ''}): "
                     "add owner labels, or overrides in owners.yml")  # fmt: skip
    if not outcome.teams:
        fixes.append("  no team found: add yours to owners.yml")
    for env in plan.guessed:
        fixes.append(
            f"  {env.name}: its place in the promotion order is a guess: check promotes_from"
        )
    if len(plan.schemas) > 1:
        fixes.append("  schemas were found in several folders; pipeline-docs.yml names one")
    for source in plan.sources:
        if source.cut:
            fixes.append(f"  {source.given}: too many (or too large) files, not all were looked at")
    echo("\n".join(fixes) if fixes else "  nothing")
    echo()
    echo("next: pipeline-docs build")


@click.command("init")
@click.argument("paths", nargs=-1, metavar="[PATH or git URL...]")
@click.option("--out", "out", default=".", show_default=True, type=click.Path(file_okay=False),
              help="Folder to write the project into.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite files that exist.")
def init_command(paths: tuple[str, ...], out: str, force: bool) -> None:
    """Write a starting pipeline-docs.yml, mkdocs.yml, owners.yml and onboarding guide.

    Looks at the folders given (default: the current one), or clones the git URLs into the
    cache, and guesses the schemas, the CI templates, the environments in promotion order and
    the teams; then runs the checks once, so that `build` succeeds right after."""
    target = Path(out)
    existing = [name for name in WRITTEN if (target / name).exists()]
    if existing and not force:
        _fail(f"{', '.join(existing)} already exist in {out}: not overwritten (--force overwrites)")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        _fail(f"cannot write into {out}: {error.strerror}")
    cache = target / ".cache"
    sources: list[Source] = []
    for given in paths or (".",):
        try:
            sources.append(open_source(given, cache, skip=(cache, target / "site")))
        except SourceError as error:
            _fail(str(error))
    plan = make_plan(sources, target)
    try:
        outcome, _ = write_project(
            plan, target, _title(target), lambda m: click.echo(f"init: {m}", err=True)
        )
    except ConfigError as error:
        for problem in error.problems:
            click.echo(f"init: the config written has an error: {problem}", err=True)
        sys.exit(2)
    except OSError as error:
        _fail(f"cannot write into {out}: {error.strerror or error}")
    _report(plan, outcome, target)
