"""Every page of the site, rendered from the model through the Jinja templates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from importlib import resources
from typing import Any

from ..analysis.promotion import ordered_environments
from ..model import Model, Schema, Severity, Template
from ..rules import RULES
from . import paths
from .catalog import catalog_document
from .changelog import (
    link_for_option,
    notes_for_options,
    notes_for_templates,
    option_links,
    releases,
)
from .feed import render_feed
from .jinja import make_environment, relative

WHATS_NEW = 5


def _usage(template: Template) -> Any:
    """A ready-to-copy snippet that includes the template with its mandatory inputs."""
    mandatory = {
        i.name: (i.examples[0] if i.examples else f"<{i.name}>")
        for i in template.inputs
        if i.required
    }
    if template.kind == "gitlab":
        entry: dict[str, Any] = {
            "component": f"$CI_SERVER_FQDN/<group>/<project>/{template.name}@<version>"
        }
        if mandatory:
            entry["inputs"] = mandatory
        return {"include": [entry]}
    if template.kind == "github-workflow":
        job: dict[str, Any] = {"uses": f"<owner>/<repo>/{template.name}@<ref>"}
        if mandatory:
            job["with"] = mandatory
        secrets = {s.name: f"${{{{ secrets.{s.name} }}}}" for s in template.secrets if s.required}
        if secrets:
            job["secrets"] = secrets
        # a job id is letters, digits, `-` and `_`, starting with a letter or `_`
        job_id = re.sub(r"[^A-Za-z0-9_-]", "_", template.id.rsplit("/", 1)[-1])
        return {"jobs": {job_id if job_id[:1].isalpha() else f"_{job_id}": job}}
    where = f"/{template.name}" if template.name else ""
    step: dict[str, Any] = {"uses": f"<owner>/<repo>{where}@<ref>"}
    if mandatory:
        step["with"] = mandatory
    return {"steps": [step]}


class _Site:
    """Renders pages; each page gets a `link` function relative to its own path."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.env = make_environment()
        self.pages: dict[str, str] = {}
        self.catalog = catalog_document(model)
        self.services = {s["name"] for s in self.catalog["services"]}  # those with a page
        self.defined = {  # where each deployment's version is set: (service, environment) ->
            (s["name"], d["environment"]): d["defined_in"]
            for s in self.catalog["services"]
            for d in s["deployments"]
        }

    def add(self, path: str, layout: str, **context: Any) -> None:
        link: Callable[[str], str] = lambda target: relative(path, target)  # noqa: E731
        self.pages[path] = self.env.get_template(layout).render(
            link=link, paths=paths, model=self.model, catalog=self.catalog, page=path,
            services=self.services, defined=self.defined, env_order=ordered_environments(self.model), **context,
        )  # fmt: skip


def _schema_context(schema: Schema, notes: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": schema,
        "options": schema.options,
        "anchors": {o.anchor: o.path for o in schema.options},
        "notes": notes,
    }


def _summary(body: str) -> str:
    """The first paragraph of a fragment, as plain text for the feed."""
    paragraph = body.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def render_pages(model: Model) -> dict[str, str]:
    """Every page of the site by path, plus `catalog.json`."""
    site = _Site(model)
    site.add(paths.HOME, "home.md.j2", whats_new=model.announcements[:WHATS_NEW])
    site.add(paths.REFERENCE, "reference_index.md.j2")
    option_notes = notes_for_options(model)
    for schema in model.schemas:
        site.add(
            paths.schema_page(schema.id), "schema.md.j2", **_schema_context(schema, option_notes)
        )
    site.add(paths.TEMPLATES, "templates_index.md.j2")
    template_notes = notes_for_templates(model)
    for template in model.templates:
        site.add(
            paths.template_page(template.id),
            "template.md.j2",
            template=template,
            usage=_usage(template),
            notes=template_notes.get(template.id, []),
        )
    site.add(paths.CATALOG, "catalog_index.md.j2")
    site.add(paths.SERVICES, "services_index.md.j2")
    for service in site.catalog["services"]:
        site.add(paths.service_page(service["name"]), "service.md.j2", service=service)
    site.add(paths.TEAMS, "teams_index.md.j2")
    for team in site.catalog["teams"]:
        site.add(paths.team_page(team["id"]), "team.md.j2", team=team)
    site.add(paths.ENVIRONMENTS, "environments_index.md.j2")
    for env in model.environments:
        site.add(paths.environment_page(env.name), "environment.md.j2", environment=env)
    links = option_links(model)
    site.add(
        paths.CHANGELOG,
        "changelog.md.j2",
        releases=releases(model),
        option_link=lambda option_id: link_for_option(option_id, links),
    )
    site.pages[paths.FEED] = render_feed(
        model, {a.id: _summary(a.body) for a in model.announcements}
    )
    site.add(paths.HEALTH, "health.md.j2", severities=[s.value for s in reversed(Severity)])
    site.add(paths.RULES, "rules.md.j2", rules=sorted(RULES.values(), key=lambda r: r.id))
    site.pages[paths.CATALOG_JSON] = json.dumps(site.catalog, indent=2, sort_keys=True) + "\n"
    site.pages[paths.CATALOG_SCRIPT] = (
        resources.files("generator.render").joinpath("assets/catalog.js").read_text("utf-8")
    )
    return site.pages
