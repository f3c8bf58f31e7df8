"""Every page of the site, rendered from the model through the Jinja templates."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import itertools
import json
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .. import forked
from ..analysis.promotion import ordered_environments
from ..analysis.versions import version_limit
from ..cachekey import digest_of
from ..codec import replaced
from ..ids import slug
from ..jsontext import compact_json
from ..kept import Blobs, Kept, KeptPages
from ..model import Environment, Model, Schema, Severity, Template
from ..rules import RULES
from . import matrix, paths, pictures, pitfalls
from .catalog import catalog_document, catalog_schema
from .changelog import (
    UNRELEASED,
    link_for_option,
    notes_for_options,
    notes_for_templates,
    option_links,
    releases,
)
from .feed import render_feed
from .jinja import converted_in, make_environment, relative

WHATS_NEW = 5
WORST_RISKS = 5  # risks the home page lists
# changes a service page shows per environment, the rest on a page of its own; changes that page
# shows per environment (catalog.json has them all)
LATEST_PER_ENVIRONMENT = 10
HISTORY_PAGE_CHANGES = 500
# services from which the catalog's pages are rendered in a second process, when there is a core
# for it (`forked`): below, a fork costs more than it saves
PARALLEL_FROM = 300

_ENTITY_START = re.compile(r"&(?=[A-Za-z0-9#])")  # where a browser would read a character reference
_NOT_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ESCAPED = re.compile(r"[&<>\\]")  # in a heading, a sign that the `text` filter escaped it


def html_title(value: object) -> str:
    """A title or site name made safe for how MkDocs and Material print it: as HTML, unescaped,
    into `<title>`, the header, the nav and attribute values (`aria-label="..."`).

    `<`, `>`, quotes and an `&` that would start a character reference become entities, so the
    browser shows the very text given and nothing runs; a lone `&` (`Orders & Checkout`) stays,
    which also reads right where a theme escapes the value once more (`title="{{ x | e }}"`).
    Whitespace is collapsed to single spaces; control characters are dropped."""
    shown = " ".join(_NOT_TEXT.sub(" ", str(value)).split())
    shown = _ENTITY_START.sub("&amp;", shown)
    for char, entity in (("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#39;")):
        shown = shown.replace(char, entity)
    return shown


def front_matter_title(page: str, title: object) -> str:
    """The page with `title:` (made safe by `html_title`) added to its front matter, or to a
    new one. MkDocs then takes this, not the first heading, as the page's title: Material prints
    a heading's title through `striptags`, which decodes the entities that kept it harmless."""
    line = yaml.safe_dump(
        {"title": html_title(title)}, allow_unicode=True, width=1_000_000, sort_keys=False
    )
    if page.startswith("---\n"):
        end = page.find("\n---\n", 3)
        if end == -1:
            raise ValueError("a page's front matter is not closed by ---")
        existing = yaml.safe_load(page[4:end]) or {}
        if "title" in existing:
            raise ValueError("a template sets its own title: pass title= to _Site.add instead")
        return "---\n" + line + page[4:]
    return "---\n" + line + "---\n" + page


def _heading(page: str, path: str) -> str:
    """The text of a page's first `# ` heading, when the template wrote it itself."""
    found = re.search(r"^# (.*)$", page, flags=re.MULTILINE)
    if found is None or _ESCAPED.search(found.group(1)):
        # an escaped heading came from the inputs: its title must come from the raw value
        raise ValueError(f"{path}: pass the page's title to _Site.add(title=...)")
    return found.group(1).strip()


def template_usage(template: Template) -> Any:
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


def _text_key(facts: Any) -> str | None:
    """The cache key of a text made of these facts alone, None when they are not JSON-able."""
    try:
        return digest_of(compact_json(facts, _jsonable))
    except TypeError:
        return None


class _Site:
    """Renders pages; each page gets a `link` function relative to its own path."""

    def __init__(self, model: Model, directory_urls: bool = True, kept: Path | None = None,
                 compiled: Path | None = None) -> None:  # fmt: skip
        self.model = model
        self.directory_urls = directory_urls
        self.kept = Blobs(kept)
        # small texts (a row of a table, of a picture), thousands to a page: in one file, as a
        # file each costs more to open than to make; None in a forked child (`_in_parallel`)
        self.rows: Kept | None = Kept(kept, "rows")
        # in a forked child: the kept pages it found, by path, left for the parent to read
        self.unread: dict[str, str] | None = None
        self.later: list[tuple[dict[str, str], str, Callable[[], str]]] = []  # and those to make
        # in the parent, when its caller reads kept pages only as it needs them: those the child
        # left unread, by path, their key (`KeptPages`); None: read them here (`_read_unread`)
        self.lazy: dict[str, str] | None = None
        self.keys: dict[str, str] = {}  # every kept page's key, by path (its text is the blob's)
        self.env = make_environment(model.limits, compiled)
        self.pages: dict[str, str] = {}
        self.catalog = catalog_document(model)
        self.services = {s["name"] for s in self.catalog["services"]}  # those with a page
        self.template_ids = {t.id for t in model.templates}
        self.env_order = ordered_environments(model)
        # the matrix's columns (and a team page's): stage by stage of the promotion graph
        self.groups = matrix.groups(model, self.catalog)
        by_name = {env.name: env for env in model.environments}
        self.columns = [e for g in self.groups for e in g.environments]
        self.column_envs = [by_name[e["name"]] for e in self.columns]
        # a service page's order: production first, then from the nearest to production back
        self.now_order = [e for e in self.env_order if e.production] + [
            e for e in reversed(self.env_order) if not e.production
        ]
        # what a service page reads of each environment, in that order
        self.now_views = [{"name": e.name, "production": e.production,
                           "history_note": e.history_note, "earlier": e.earlier}
                          for e in self.now_order]  # fmt: skip
        self.defined = {  # where each deployment's version is set: (service, environment) ->
            (s["name"], d["environment"]): d["defined_in"]
            for s in self.catalog["services"]
            for d in s["deployments"]
        }

    def add(self, path: str, layout: str, title: str | None = None, **context: Any) -> None:
        """Render a page, with an explicit front-matter title: `title`, the raw value its first
        heading shows (a name from the inputs), else the heading the template wrote itself."""
        self._render(path, layout, title, dict(
            model=self.model, catalog=self.catalog, page=path, services=self.services,
            defined=self.defined, template_ids=self.template_ids, env_order=self.column_envs,
            now_order=self.now_order, **context,
        ))  # fmt: skip

    def add_kept(self, path: str, layout: str, title: str | None,
                 made: dict[str, tuple[Any, Callable[[], Any]]] | None = None,
                 keyed: dict[str, str | None] | None = None,
                 **context: Any) -> None:  # fmt: skip
        """A page made of `context` alone (JSON-able values, and the `link`, `url` and `paths`
        every page has): rendered once for the same context and code, kept in the cache, and
        taken from it while its context is the same. `made`: values costly to make, each by
        name as (what it is made from, JSON-able; how to make it), made only to render.
        `keyed`: values of `context` whose `_text_key` the caller made already (one value that
        several pages show), by name: the key holds those rather than the values."""
        made = made or {}
        sources = {name: facts for name, (facts, _) in made.items()}
        shown = context  # a value without a key (not JSON-able) goes in as it is, and fails there
        if keyed and None not in keyed.values():
            shown = context | {name: ["keyed", key] for name, key in keyed.items()}

        def render() -> str:  # its descriptions' HTML not kept: the page is, and a run that
            # takes the page from the cache would not use them, so they would go at every save
            with converted_in(None):
                self._render(path, layout, title, context | {n: m() for n, (_, m) in made.items()})
            return self.pages[path]

        facts = [layout, path, self.directory_urls, title, self.model.limits, shown, sources]
        key = _text_key(facts)
        if key is not None:
            self.keys[path] = key
        if self.unread is not None and key is not None:  # in a forked child
            self.pages[path] = ""
            if self.kept.has(key):
                self.unread[path] = key  # the parent reads it: not read, decoded and sent here
            else:  # made once the parent knows which pages it reads (`_in_parallel`)
                self.later.append((self.pages, path, functools.partial(self.kept_text, facts,
                                                                       render, key)))  # fmt: skip
            return
        self.pages[path] = self.kept_text(facts, render, key)

    def kept_text(self, facts: Any, make: Callable[[], str], key: str | None = None) -> str:
        """The text `make` makes of `facts` alone (whose key is `key`, when known): from the
        cache while the facts and the code are the same, else made and kept; made each time
        when the facts are not JSON-able."""
        if (key := key or _text_key(facts)) is None:
            return make()
        if (kept := self.kept.get(key)) is not None:
            return kept.decode("utf-8")
        text = make()
        self.kept.put(key, text.encode("utf-8"))
        return text

    def kept_row(self, facts: Any, make: Callable[[], str]) -> str:
        """As `kept_text`, for a small text of which a page has thousands: kept with the others
        in one file (in a forked child, whose file the parent would not keep, as `kept_text`)."""
        if self.rows is None:
            return self.kept_text(facts, make)
        if (key := _text_key(facts)) is None:
            return make()
        if isinstance(kept := self.rows.get(key), str):
            return kept
        text = make()
        self.rows.put(text, key)
        return text

    def url_in(self, page: str) -> Callable[[str], str]:
        """How a page links in raw HTML, which MkDocs neither checks nor rewrites: with the
        built site's URLs."""
        return lambda target: paths.url_from(page, target, self.directory_urls)

    def _render(self, path: str, layout: str, title: str | None, context: dict[str, Any]) -> None:
        link: Callable[[str], str] = lambda target: relative(path, target)  # noqa: E731
        url = self.url_in(path)
        page = self.env.get_template(layout).render(link=link, url=url, paths=paths, **context)
        shown = _heading(page, path) if title is None else title
        if not html_title(shown):  # a blank name: the page's file name rather than no title
            shown = posixpath.splitext(posixpath.basename(path))[0]
        self.pages[path] = front_matter_title(page, shown)


def _environment_shown(env: Environment) -> Environment:
    """An environment as its page reads it (its history and objects are in the catalog's
    document of it): so its key is quick to make, in every build the same."""
    deployments = tuple(replaced(d, workloads=()) for d in env.deployments)
    return replaced(env, deployments=deployments, history=(), others=(), renderings=())


def _unpinned(service: dict[str, Any]) -> dict[str, Any]:
    """A service of the catalog without the links to its env repos' files at their commit,
    which its page does not show (it links to the branch, and its script pins the link to the
    commit in build.json): so that a commit changing another service leaves its page as it was."""
    deployments = [
        {**d, "defined_in": {k: v for k, v in d["defined_in"].items() if k != "url"}}
        for d in service["deployments"]
    ]
    return {**service, "deployments": deployments}


def _timeline(timelines: pictures.Timelines | None, service: str) -> tuple[Any, Callable[[], Any]]:
    """A service page's timeline, as `add_kept` takes it: what it is drawn from, how to draw it."""
    if timelines is None:
        return None, lambda: None
    return timelines.facts(service), lambda: timelines.of(service)


def _jsonable(value: object) -> Any:
    """How a page's context goes into its key: a date as ISO 8601, a data class as its fields;
    anything else is not JSON-able (TypeError), and the page is rendered each time."""
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} in a page's context")


def _schema_context(schema: Schema, notes: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema": schema,
        "options": schema.options,
        "anchors": {o.anchor: o.path for o in schema.options},
        "notes": notes,
    }


class _ReleaseHistory:
    """What the releases say of each option, step by step (each earlier release, oldest first,
    then the schemas now): the release it last appeared in, and for an option of an earlier
    release that is no longer current, the first later release without it; and each earlier
    release's schema pages."""

    def __init__(self, model: Model) -> None:
        self.model = model
        views = releases(model)  # newest first; each with the changes since the one before
        self.diff_to = {v.since: v.name for v in views if v.changes and v.since}
        last = model.releases[-1].name if model.releases else ""
        upcoming = self.diff_to.get(last, "")
        # the schemas now: the release the fragments name next, else not released yet
        now = upcoming if upcoming and upcoming != UNRELEASED else (
            f"the next release (after {last})" if last else "")  # fmt: skip
        self.names = [r.name for r in model.releases] + [now]
        self.sets = [{o.id for sc in r.schemas for o in sc.options} for r in model.releases]
        self.sets.append({o.id for sc in model.schemas for o in sc.options})
        self.pages: dict[tuple[str, str], str] = {}
        folders: set[str] = set()
        for release in model.releases:
            folder = paths.release_folder(release.name)
            if folder in folders:
                continue  # a release of the same name twice: its first one's pages stand
            folders.add(folder)
            for schema in release.schemas:
                self.pages[(release.name, schema.id)] = paths.release_schema_page(
                    release.name, schema.id
                )

    def added_in(self, step: int, options: Any) -> dict[str, str]:
        """Option id -> the release it appeared in (the step after the last one without it), as
        of `step`; none for an option every step up to there has (it came before them)."""
        found: dict[str, str] = {}
        for option in options:
            for index in range(step, 0, -1):
                if option.id in self.sets[index] and option.id not in self.sets[index - 1]:
                    found[option.id] = self.names[index]
                    break
                if option.id not in self.sets[index]:
                    break
        return found

    def removed_in(self, step: int, options: Any) -> dict[str, str]:
        """Option id -> the first later step without it, for the options of `step` that are not
        current now."""
        found: dict[str, str] = {}
        for option in options:
            if option.id in self.sets[-1]:
                continue
            later = next(
                (i for i in range(step + 1, len(self.sets)) if option.id not in self.sets[i]), None
            )
            if later is not None:
                found[option.id] = self.names[later] or "the schemas now"
        return found

    def pages_of(self, schema_id: str) -> list[list[str]]:
        """[release, page] of this schema in each earlier release that has it, newest first."""
        return [
            [r.name, self.pages[(r.name, schema_id)]]
            for r in reversed(self.model.releases)
            if (r.name, schema_id) in self.pages
        ]

    def diff_link(self, release: str) -> tuple[str, str] | None:
        """The changelog's schema changes from `release` to the next one, and that one's name."""
        after = self.diff_to.get(release)
        return (f"{paths.CHANGELOG}#changes-{slug(after)}", after) if after else None


def _earlier_references(site: _Site, history: _ReleaseHistory) -> None:
    """Each earlier release's reference: its schemas' pages with the current ones' anchors, out
    of search, each linking its options' current pages and the schema changes to the next
    release; an index per release, and the release picker."""
    model = site.model
    current = {s.id for s in model.schemas}
    links = option_links(model)
    naming: dict[str, list[Any]] = {}  # option id -> the announcements that name it
    for item in model.announcements:
        for named in item.options:
            naming.setdefault(named, []).append(item)
    shown, folders = [], set()
    for step, release in enumerate(model.releases):
        if paths.release_folder(release.name) in folders:
            continue  # a second release of that name: its first one's pages stand
        folders.add(paths.release_folder(release.name))
        shown.append(release)
        diff = history.diff_link(release.name)
        for schema in release.schemas:
            ids = {o.id for o in schema.options}
            site.add_kept(  # its own options' facts only: another schema's change leaves it
                paths.release_schema_page(release.name, schema.id), "schema.md.j2",
                title=f"{schema.title} ({release.name})", release=release.name,
                current_page=paths.schema_page(schema.id) if schema.id in current else None,
                current_links={i: links[i] for i in ids if i in links},
                removed_in=history.removed_in(step, schema.options),
                added_in=history.added_in(step, schema.options), diff=diff, last=step == len(model.releases) - 1,
                published=None, earlier=None,
                **_schema_context(schema, {i: naming[i] for i in ids if i in naming}),
            )  # fmt: skip
        site.add(
            paths.release_index(release.name), "release_index.md.j2",
            title=f"Reference of release {release.name}", release=release,
            pages={s.id: paths.release_schema_page(release.name, s.id) for s in release.schemas},
            diff=diff, current=current,
        )  # fmt: skip
    site.add(
        paths.RELEASES, "releases.md.j2", title="Earlier releases",
        indexes=[(r, paths.release_index(r.name)) for r in reversed(shown)],
    )  # fmt: skip


def _summary(body: str) -> str:
    """The first paragraph of a fragment, as plain text for the feed."""
    paragraph = body.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def rule_area(rule: str) -> str:
    """The part of a rule id before its `/` (`risk` for `risk/no-resources`): its health page."""
    return rule.split("/", 1)[0] or rule


def _health(site: _Site) -> None:
    """The health page's totals by severity and rule, and a page of findings per rule area."""
    severities = [s.value for s in reversed(Severity)]
    by_area: dict[str, list[Any]] = {}
    tally: Counter[tuple[str, str]] = Counter()
    for finding in site.model.findings:
        by_area.setdefault(rule_area(finding.rule), []).append(finding)
        tally[(finding.severity.value, finding.rule)] += 1
    counts = {
        level: sorted((rule, n) for (at, rule), n in tally.items() if at == level)
        for level in severities
    }
    site.add(paths.HEALTH, "health.md.j2", severities=severities, counts=counts,
             areas=sorted(by_area), area_of=rule_area)  # fmt: skip
    for area, findings in sorted(by_area.items()):
        site.add(paths.health_page(area), "health_area.md.j2", title=f"Health: {area}",
                 area=area, findings=findings, severities=severities)  # fmt: skip


def render_pages(
    model: Model, directory_urls: bool = True, built_at: datetime | None = None,
    kept: Path | None = None, compiled: Path | None = None, lazy: bool = False,
) -> Mapping[str, str]:  # fmt: skip
    """Every page of the site by path, plus `catalog.json` and `build.json` (made at
    `built_at`, default now). Links written in raw HTML are the URLs of the built site:
    `directory_urls` is MkDocs' `use_directory_urls` (its default). The service pages are kept
    in the folder `kept` (when given) and taken from it while what they show is the same; the
    templates' bytecode in the folder `compiled` (when given). `lazy`: the kept pages a forked
    child found are read from the cache only when asked for (`KeptPages`, which raises
    `BlobGone` when one went meanwhile); else every text is read here."""
    when = built_at or datetime.now(UTC)
    with version_limit(model.limits.version_chars):  # releases are ordered as collect compares
        site = _Site(model, directory_urls, kept, compiled)
        if lazy:
            site.lazy = {}
        with converted_in(site.rows):
            _render_pages(site, when)
        site.kept.save()
        if site.rows is not None:
            site.rows.save()
        return KeptPages(site.pages, site.lazy or {}, site.keys, site.kept) if lazy else site.pages


def build_document(catalog: dict[str, Any], built_at: datetime, stale_after: int) -> str:
    """`build.json`: when the site was built and each env repo's commit then. It is the only
    generated file that changes from one build of the same inputs to the next: the theme's
    partial shows it by a script, so no page's HTML holds the time."""
    return build_json(build_environments(catalog), built_at, stale_after)


def build_environments(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """What `build.json` says of each environment."""
    keys = ("name", "repo", "commit", "commit_date", "status")
    return [
        {**{key: env[key] for key in keys}, "read": env["earlier"]["read"] if env["earlier"] else None}
        for env in catalog["environments"]
    ]  # fmt: skip


def build_json(environments: list[Any], built_at: datetime, stale_after: int) -> str:
    """`build.json` of these environments, built at `built_at`: each environment's data was
    read then, or at its `read` (an earlier run's, its repo unreadable now); a page that shows
    it warns when it is older than `stale_after` seconds."""
    document = {
        "built": built_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "environments": environments,
        "stale_after": stale_after,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n"


def _service_pages(site: _Site, timelines: pictures.Timelines | None) -> None:
    """Each service's page, and its history's when long."""
    for service in site.catalog["services"]:
        per_environment = Counter(change["environment"] for change in service["history"])
        long = max(per_environment.values(), default=0) > LATEST_PER_ENVIRONMENT
        history_page = paths.service_history_page(service["name"]) if long else None
        # a page of its own data alone: kept, and rendered again only when that changed
        shown = _unpinned(service)  # what the page shows, not what changes with each commit
        keyed = {"service": _text_key(shown)}  # once for both pages, the larger part of each key
        site.add_kept(
            paths.service_page(service["name"]),
            "service.md.j2",
            title=service["name"],
            keyed=keyed,
            service=shown,
            latest=LATEST_PER_ENVIRONMENT,
            history_page=history_page,
            now_order=site.now_views,
            made={"timeline": _timeline(timelines, service["name"])},
        )
        if history_page is not None:
            site.add_kept(
                history_page,
                "service_history.md.j2",
                title=f"{service['name']}: history",
                keyed=keyed,
                service=shown,
                most=HISTORY_PAGE_CHANGES,
                now_order=site.now_views,
            )


def _services_index(site: _Site) -> None:
    """The services' list: made of what it shows alone, kept as a service page is (a version
    bump leaves it as it was)."""
    shown = [
        {
            "name": s["name"], "owner": s["owner"], "declared_owner": s["declared_owner"],
            "team": {"name": s["team"]["name"]} if s["team"] else None,
            "environments": [d["environment"] for d in s["deployments"]],
        }
        for s in site.catalog["services"]
    ]  # fmt: skip
    site.add_kept(paths.SERVICES, "services_index.md.j2", title=None, index=shown)


def _team_pages(site: _Site) -> None:
    site.add(paths.TEAMS, "teams_index.md.j2")
    # what a team page shows of each service: its version in each environment
    versions = {
        service["name"]: [{"environment": d["environment"], "version": d["version"]}
                          for d in service["deployments"]]
        for service in site.catalog["services"]
    }  # fmt: skip
    columns = [env.name for env in site.column_envs]
    environments = [env.name for env in site.model.environments]
    for team in site.catalog["teams"]:
        site.add_kept(
            paths.team_page(team["id"]), "team.md.j2", title=team["name"], team=team,
            team_services=[{"name": name, "deployments": versions[name]}  # looked up, not scanned
                           for name in team["services"]],
            columns=columns, environments=environments,
        )  # fmt: skip


def _environment_pages(site: _Site) -> None:
    model = site.model
    documents = {doc["name"]: doc for doc in site.catalog["environments"]}
    services = sorted(site.services)
    for env in model.environments:
        env_defined = {s: where for (s, e), where in site.defined.items() if e == env.name}
        site.add_kept(
            paths.environment_page(env.name), "environment.md.j2", title=env.name,
            environment=_environment_shown(env), doc=documents[env.name], services=services,
            env_defined=env_defined,
        )  # fmt: skip


def _render_pages(site: _Site, built_at: datetime) -> None:
    model = site.model
    span = pictures.window(model)
    timelines = pictures.Timelines(site.column_envs, span, model.limits) if span else None
    # the bulk of the site, rendered in a second process when there are many services
    in_child = [(paths.SERVICES, functools.partial(_service_pages, site, timelines)),
                (paths.ENVIRONMENTS, functools.partial(_environment_pages, site))]  # fmt: skip
    with _in_parallel(site, in_child) as join:
        # what this process alone reads, made once the child is on its way
        found = pitfalls.risks(model, site.catalog)
        traps = pitfalls.traps(model)
        graph = pictures.promotion_graph(model)
        # the home page's H1 is the config's title, which is also the site name every page shows
        site.add(paths.HOME, "home.md.j2", title="Home", whats_new=model.announcements[:WHATS_NEW],
                 risks=found, traps=traps, worst=WORST_RISKS, graph=graph,
                 timeline=timelines.of() if timelines else None)  # fmt: skip
        site.add(paths.REFERENCE, "reference_index.md.j2")
        history = _ReleaseHistory(model)
        _schema_pages(site, history)
        _earlier_references(site, history)
        _template_pages(site)
        rows = matrix.rows(site.catalog, site.columns)
        site.add(
            paths.CATALOG,
            "catalog_index.md.j2",
            groups=site.groups,
            columns=site.columns,
            row_html=_matrix_rows(site, rows),
            graph=graph,
            heatmap=pictures.heatmap(rows, site.columns, model.limits, kept=site.kept_row),
        )
        _services_index(site)
        _team_pages(site)
        site.add(paths.ENVIRONMENTS, "environments_index.md.j2")
        _other_pages(site, found, traps, history, built_at)
        join()


_ROW_COLUMN = ("name", "status", "earlier", "history")  # what a matrix row reads of a column
_ROW_DEPLOYMENT = ("version", "versions", "drift", "problem", "last_change")


def _matrix_rows(site: _Site, rows: list[matrix.Row]) -> list[str]:
    """Each row of the catalog's matrix as HTML, made of what it shows alone (`_matrix_row.j2`),
    kept by that as a page is (`add_kept`): a merge renders again only the rows it changed."""
    columns = [{key: env[key] for key in _ROW_COLUMN} for env in site.columns]
    module: Any = None  # made for the first row to render

    def render(shown: dict[str, Any]) -> str:
        nonlocal module
        if module is None:
            module = site.env.get_template("_matrix_row.j2").make_module({
                "url": site.url_in(paths.CATALOG), "paths": paths, "columns": columns,
                "versions": matrix.versions,
            })  # fmt: skip
        return str(module.row(shown))

    base = ["matrix-row", paths.CATALOG, site.directory_urls, site.model.limits, columns]
    made = []
    for row in rows:
        service = row.service
        team = service["team"]
        shown = {
            "service": {
                "name": service["name"], "owner": service["owner"],
                "declared_owner": service["declared_owner"],
                "team": {"name": team["name"]} if team else team,
            },
            "cells": [[{key: d[key] for key in _ROW_DEPLOYMENT} for d in cell]
                      for cell in row.cells],
        }  # fmt: skip
        made.append(site.kept_row([*base, shown], functools.partial(render, shown)))
    return made


def _schema_pages(site: _Site, history: _ReleaseHistory) -> None:
    model = site.model
    option_notes = notes_for_options(model)
    published = {schema_id for schema_id, _ in model.published_schemas}
    for schema in model.schemas:
        mine = {o.id: option_notes[o.id] for o in schema.options if o.id in option_notes}
        download = paths.published_link(schema.id, model.site_url)
        site.add_kept(
            paths.schema_page(schema.id),
            "schema.md.j2",
            title=schema.title,
            published=download if schema.id in published else None,
            added_in=history.added_in(len(model.releases), schema.options),
            earlier=history.pages_of(schema.id),
            **_schema_context(schema, mine),
        )


def _template_pages(site: _Site) -> None:
    model = site.model
    site.add(paths.TEMPLATES, "templates_index.md.j2")
    template_notes = notes_for_templates(model)
    for template in model.templates:
        site.add_kept(
            paths.template_page(template.id),
            "template.md.j2",
            title=template.id,
            template=template,
            usage=template_usage(template),
            notes=template_notes.get(template.id, []),
        )


@contextlib.contextmanager
def _in_parallel(
    site: _Site, work: Sequence[tuple[str, Callable[[], None]]]
) -> Iterator[Callable[[], None]]:
    """`work` (each part adding pages to `site`) done in a forked child while this process
    renders the rest, when the site is large enough (`PARALLEL_FROM` services) and a child can
    be had; else, or when the child failed, done here. The block calls the function it is given
    once its own pages are added: each part's pages then take their place after the page it is
    paired with, in the order the part adds them, so the pages are those of one process."""

    def parts() -> list[dict[str, str]]:
        done = []
        for _, part in work:
            site.pages = {}
            part()
            done.append(site.pages)
        return done

    def child() -> list[str]:
        site.kept.used = set()
        site.rows = None  # what the child keeps, as files whose keys the parent is told
        site.unread = {}
        with converted_in(None):  # a description's HTML kept here would not be saved
            done = parts()
            # the kept pages first: the parent reads them while the others are made here
            forked.send_early([json.dumps(site.unread)])
            for pages, path, make in site.later:
                site.pages = pages
                pages[path] = make()
        texts = [""]  # then the keys of the kept pages it used, and of those left unread
        for pages in done:
            texts += [str(len(pages)), *itertools.chain.from_iterable(pages.items())]
        texts[0] = json.dumps({"used": sorted(site.kept.used), "unread": site.unread,
                               "keys": site.keys})  # fmt: skip
        return texts

    many = len(site.catalog["services"]) >= PARALLEL_FROM
    with contextlib.ExitStack() as stack:
        job = stack.enter_context(forked.forked(child)) if many else None

        def join() -> None:
            early = job.early() if job is not None else None
            early_read = _read_early(site, early) if site.lazy is None else {}
            texts = job.result() if job is not None else None
            mine = site.pages
            theirs = _parts_of(texts, len(work)) if texts is not None else None
            if theirs is not None:
                theirs = _read_unread(site, theirs, texts[0], early_read)  # type: ignore[index]
            if theirs is None:  # no child, or it failed: the work done here, as the child would
                theirs = parts()
            anchors = {anchor: pages for (anchor, _), pages in zip(work, theirs, strict=True)}
            site.pages = {}
            for path, text in mine.items():
                site.pages[path] = text
                site.pages.update(anchors.pop(path, {}))
            for pages in anchors.values():  # an anchor this process did not add: at the end
                site.pages.update(pages)

        yield join


def _read_early(site: _Site, early: list[str] | None) -> dict[str, tuple[str, str]]:
    """The kept pages the child said early it left unread, read here while it makes the others:
    by path, their key and text (those that cannot be read are left out, read again later)."""
    try:
        unread = dict(json.loads(early[0])) if early is not None and len(early) == 1 else {}
    except (ValueError, TypeError):
        return {}
    read = {}
    for path, key in unread.items():
        data = site.kept.get(str(key))
        if data is not None:
            with contextlib.suppress(UnicodeDecodeError):
                read[str(path)] = (str(key), data.decode("utf-8"))
    return read


def _read_unread(
    site: _Site, parts: list[dict[str, str]], told: str, early: dict[str, tuple[str, str]]
) -> list[dict[str, str]] | None:
    """The child's parts with the kept pages it left unread read here (`told`: the keys of the
    kept pages it used and of those it left unread, by path; `early`, those read already, with
    their key); None when one cannot be read. When the caller reads kept pages as it needs them
    (`site.lazy`), their keys are noted there instead, and their texts left empty."""
    try:
        keys = json.loads(told)
        used, unread, made = set(keys["used"]), dict(keys["unread"]), dict(keys["keys"])
    except (ValueError, KeyError, TypeError):
        return None
    for pages in parts:
        for path in pages.keys() & unread.keys():
            if site.lazy is not None:
                site.lazy[path] = str(unread[path])
                continue
            key, text = early.get(path, ("", ""))
            if key != unread[path]:
                data = site.kept.get(unread[path])
                if data is None:  # removed meanwhile: the child's work is done here again
                    return None
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            pages[path] = text
    site.kept.used.update(used)
    site.keys.update((str(path), str(key)) for path, key in made.items())
    return parts


def _parts_of(texts: list[str], count: int) -> list[dict[str, str]] | None:
    """The pages of each part, as `_in_parallel`'s child wrote them; None when they are not."""
    try:
        parts, at = [], 1
        for _ in range(count):
            size = int(texts[at])
            items = texts[at + 1 : at + 1 + 2 * size]
            if len(items) != 2 * size:
                return None
            parts.append(dict(zip(items[::2], items[1::2], strict=True)))
            at += 1 + 2 * size
        return parts if at == len(texts) else None
    except (ValueError, IndexError):
        return None


def _other_pages(
    site: _Site, found: list[Any], traps: list[Any], history: _ReleaseHistory, built_at: datetime
) -> None:
    """The pages after the catalog's: changelog, feed, pitfalls, health, rules and the files."""
    model = site.model
    links = option_links(model)
    # a removed option: on the page of the newest earlier release that has it
    gone = {
        o.id: f"{page}#{o.anchor}"
        for r in model.releases for s in r.schemas
        if (page := history.pages.get((r.name, s.id))) is not None for o in s.options
    }  # fmt: skip
    site.add(
        paths.CHANGELOG,
        "changelog.md.j2",
        releases=releases(model),
        option_link=lambda option_id: (
            links.get(option_id) or gone.get(option_id) or link_for_option(option_id, links)
        ),
        removed_link=gone.get,
    )
    site.pages[paths.FEED] = render_feed(
        model, {a.id: _summary(a.body) for a in model.announcements}
    )
    tally = Counter((r.finding.rule, r.production) for r in found)
    counts = {
        rule: {"production": tally[(rule, True)], "elsewhere": tally[(rule, False)]}
        for rule in pitfalls.RISK_RULES
    }
    site.add(
        paths.PITFALLS, "pitfalls.md.j2", risks=found, traps=traps,
        rule_order=pitfalls.RISK_RULES, counts=counts, rules=RULES, shown=pitfalls.SHOWN_PER_RULE,
        severities=[s.value for s in reversed(Severity)],
    )  # fmt: skip
    _health(site)
    site.add(paths.RULES, "rules.md.j2", rules=sorted(RULES.values(), key=lambda r: r.id))
    # compact, by orjson: tens of megabytes at thousands of services (`catalog --format json` is pretty)
    site.pages[paths.CATALOG_JSON] = compact_json(site.catalog).decode("utf-8") + "\n"
    site.pages[paths.CATALOG_SCHEMA] = catalog_schema()
    for schema_id, text in model.published_schemas:  # for `validate --schema URL` in service repos
        site.pages[paths.published_schema(schema_id)] = text
    site.pages[paths.BUILD_JSON] = build_document(site.catalog, built_at, model.stale_after)
    assets = resources.files("generator.render").joinpath("assets")
    site.pages[paths.CATALOG_SCRIPT] = assets.joinpath("catalog.js").read_text("utf-8")
    site.pages[paths.SITE_CSS] = assets.joinpath("site.css").read_text("utf-8")
