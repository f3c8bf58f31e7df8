"""The files `init` writes: pipeline-docs.yml (every guess in a comment), mkdocs.yml, owners.yml,
docs/gen_pages.py and a starter onboarding guide; and the one run of the checks that says which
rules to lower so that the first `build` succeeds."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from ..analysis.links import dead_links
from ..analysis.quotes import missing_facts
from ..collect import collect
from ..config import DEFAULT_OWNER_LABELS, Config, load_config
from ..facts import guide_facts, option_fact, template_fact
from ..generate import generate
from ..model import Finding, Model, Severity
from ..render.jinja import code, text
from ..render.paths import schema_page, template_page
from ..sources.owners import CODEOWNERS_PLACES, CodeOwners
from .plan import Environment, Plan, relative
from .promotion import STAGES

CONFIG = "pipeline-docs.yml"
MKDOCS = "mkdocs.yml"
OWNERS = "owners.yml"
SCRIPT = "docs/gen_pages.py"
GUIDE = "docs/guides/onboarding.md"
WRITTEN = (CONFIG, MKDOCS, OWNERS, SCRIPT, GUIDE)
MAX_LISTED = 200  # unowned services listed in owners.yml
MAX_CODEOWNERS_LINES = 10_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
KINDS = {"gitlab": "GitLab component", "github-action": "GitHub action",
         "github-workflow": "reusable workflow"}  # fmt: skip


def one_line(value: Any) -> str:
    """Text for a YAML comment or a terminal: on one line, no control character obeyed."""
    return _CONTROL.sub(" ", str(value))


def _yaml(value: Any) -> str:
    """A YAML scalar: a JSON string is a YAML string, whatever it holds."""
    return json.dumps(value)


def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator.scaffold", "templates"),
        autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True,
    )  # fmt: skip
    env.filters.update(comment=one_line, yaml=_yaml, text=text, code=code)
    return env


@dataclass(frozen=True)
class Team:
    """A team found, and where."""

    id: str
    name: str
    where: str


@dataclass
class Outcome:
    """What the first run of the checks said."""

    lowered: list[tuple[str, int]] = field(default_factory=list)  # rule, findings at error
    teams: list[Team] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)


def _count(names: list[str]) -> str:
    counts = Counter(names)
    return ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(counts.items()))


def _stage_word(rank: int | None) -> str:
    return STAGES[rank][0] if rank is not None else ""


def _env_view(env: Environment, out: Path, families: dict[str, int]) -> dict[str, Any]:
    found = env.found
    where = f"{found.how} {found.path}" if found.path else found.how
    repo = found.repo_value(out)
    why = f"{env.name}: {where} of {repo}"
    notes = []
    if env.rank is None:
        notes.append(
            f"GUESSED: {found.base!r} holds no stage word, so it promotes from nothing; set "
            "promotes_from if versions reach it from another environment, or remove it if it "
            "is no environment"
        )
    elif env.promotes_from:
        notes.append(f"a {_stage_word(env.rank)} stage: promotes from "
                     f"{', '.join(env.promotes_from)}, the stage before it")  # fmt: skip
    else:
        notes.append(f"a {_stage_word(env.rank)} stage, the first of "
                     f"{'its repo' if families.get(repo, 0) > 1 else 'the repos'}")  # fmt: skip
    production_why = (
        "its name says production"
        if env.production
        else "its name starts with prod, but names no production stage"
    )
    return {
        "name": env.name, "repo": repo, "path": found.path, "why": why, "notes": notes,
        "promotes_from": env.promotes_from, "production": env.production,
        "production_why": production_why,
    }  # fmt: skip


def render_config(plan: Plan, out: Path, title: str, checks: list[tuple[str, int]]) -> str:
    """pipeline-docs.yml, commented."""
    families = Counter(e.found.repo_value(out) for e in plan.environments)
    templates = [
        {
            "path": relative(out, t.source, t.path),
            "what": _count([KINDS[k] for k in t.kinds]),
            "url": t.source.url,
        }
        for t in plan.templates
    ]
    summary = _count([KINDS[k] for t in plan.templates for k in t.kinds])
    total = sum(t.count for t in plan.templates)
    schemas = [
        {"path": relative(out, s.source, s.folder), "count": s.count, "url": s.source.url}
        for s in plan.schemas
    ]
    return _templates().get_template("pipeline-docs.yml.j2").render(
        sources=[s.given for s in plan.sources], title=title, schemas=schemas, suites=plan.suites,
        templates=templates, template_summary=f"{total} in {len(templates)} "
        f"folder{'s' if len(templates) != 1 else ''} ({summary})",
        environments=[_env_view(e, out, families) for e in plan.environments], checks=checks,
    )  # fmt: skip


def render_owners(outcome: Outcome) -> str:
    """owners.yml, in the format sources/owners.py reads."""
    return (
        _templates()
        .get_template("owners.yml.j2")
        .render(
            labels=DEFAULT_OWNER_LABELS, teams=outcome.teams, unowned=outcome.unowned[:MAX_LISTED]
        )
    )


def render_mkdocs(title: str) -> str:
    """mkdocs.yml: the sample's, without its own guides."""
    return _templates().get_template("mkdocs.yml.j2").render(title=title)


def _best_option(model: Model, facts: dict[str, str]) -> dict[str, str] | None:
    """An option with a default to quote: described, with a default that says something, near
    the top, of the first schema."""
    candidates = [
        (not option.description, option.default in ("", None, [], {}), option.path.count("."),
         schema.id, option.path, schema, option)
        for schema in model.schemas for option in schema.options
        if option.has_default and option_fact(schema.id, option.anchor) in facts
    ]  # fmt: skip
    if not candidates:
        return None
    *_, schema, option = min(candidates, key=lambda c: c[:5])
    return {"path": code(option.path), "anchor": option.anchor, "schema": schema.id,
            "page": schema_page(schema.id), "fact": option_fact(schema.id, option.anchor)}  # fmt: skip


def render_guide(title: str, model: Model, pages: dict[str, str], facts: dict[str, str]) -> str:
    """The starter onboarding guide: only the facts this pipeline has, links only to its pages."""
    option = _best_option(model, facts)
    template = next(
        ({"id": t.id, "page": template_page(t.id), "fact": template_fact(t.id)}
         for t in sorted(model.templates, key=lambda t: (t.id.startswith("."), t.id))
         if template_fact(t.id) in facts and template_page(t.id) in pages),
        None,
    )  # fmt: skip
    sections, number = {}, 1 if model.schemas else 0
    for key, present in (("templates", template), ("environments", model.environments)):
        if present:
            number += 1
            sections[key] = number
    sections["more"] = number + 1
    return _templates().get_template("onboarding.md.j2").render(
        title=title, option=option, schemas=model.schemas, template=template,
        environments=model.environments, production=any(e.production for e in model.environments),
        sections=sections,
    )  # fmt: skip


def codeowners_teams(plan: Plan) -> dict[str, str]:
    """Every owner named in the env repos' CODEOWNERS files, with the file."""
    teams: dict[str, str] = {}
    for repo in dict.fromkeys((id(e.found.source), e.found.repo) for e in plan.environments):
        found = next(e.found for e in plan.environments
                     if (id(e.found.source), e.found.repo) == repo)  # fmt: skip
        for place in CODEOWNERS_PLACES:
            name = f"{found.repo}/{place}" if found.repo else place
            content = found.source.text(name) if name in found.source.files else None
            for line in (content or "").splitlines()[:MAX_CODEOWNERS_LINES]:
                rules = CodeOwners.parse(line).rules
                owners = line.split("#", 1)[0].split()[1:] if rules else []
                for owner in owners:
                    teams.setdefault(owner, f"CODEOWNERS of {found.repo or found.source.given}")
    return teams


def _team_name(team_id: str) -> str:
    return team_id.lstrip("@").rsplit("/", 1)[-1] or team_id


def owners_of(model: Model, plan: Plan) -> tuple[list[Team], list[str]]:
    """The teams the catalog found (labels, annotations, CODEOWNERS) and the services without."""
    where: dict[str, str] = {}
    unowned: set[str] = set()
    for env in model.environments:
        for deployment in env.deployments:
            if deployment.owner is None:
                unowned.add(deployment.service)
            else:
                source = deployment.owner_source or "a label"
                where.setdefault(deployment.owner, f"{source} of {deployment.service}")
    for team, place in codeowners_teams(plan).items():
        where.setdefault(team, place)
    teams = [Team(t, _team_name(t), where[t]) for t in sorted(where)]
    owned = {d.service for e in model.environments for d in e.deployments if d.owner}
    return teams, sorted(unowned - owned)


def first_run(config: Config) -> tuple[Model, dict[str, str], dict[str, str]]:
    """The checks, once, as `build` runs them: the model, its pages and its facts."""
    model = collect(config)
    return model, generate(config, model), guide_facts(model)


def guide_findings(config: Config, pages: dict[str, str], facts: dict[str, str]) -> list[Finding]:
    """The starter guide's dead links and missing facts (none, when it is right)."""
    return [d.finding for d in dead_links(config, pages, facts)] + missing_facts(
        config, pages, facts
    )


def lowered(findings: list[Finding]) -> list[tuple[str, int]]:
    """Each rule with findings at error, and how many."""
    counts = Counter(f.rule for f in findings if f.severity is Severity.ERROR)
    return sorted(counts.items())


def write(out: Path, name: str, content: str) -> None:
    target = out / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8", newline="\n")


def write_project(
    plan: Plan, out: Path, title: str, progress: Callable[[str], None]
) -> tuple[Outcome, Model]:
    """Every file, the checks run once on the config written, and what they said."""
    outcome = Outcome()
    write(out, OWNERS, render_owners(outcome))
    write(out, CONFIG, render_config(plan, out, title, []))
    write(out, MKDOCS, render_mkdocs(title))
    write(out, SCRIPT, _templates().get_template("gen_pages.py.j2").render())
    write(out, GUIDE, f"# Onboarding onto {title}\n")  # the home page lists it meanwhile
    config = load_config(out / CONFIG)
    progress("running the checks once, as `build` will")
    model, pages, facts = first_run(config)
    write(out, GUIDE, render_guide(title, model, pages, facts))
    outcome.teams, outcome.unowned = owners_of(model, plan)
    outcome.lowered = lowered([*model.findings, *guide_findings(config, pages, facts)])
    write(out, OWNERS, render_owners(outcome))
    write(out, CONFIG, render_config(plan, out, title, outcome.lowered))
    load_config(out / CONFIG)  # what was written validates, or this is a bug to see
    return outcome, model
