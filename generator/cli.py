"""The `pipeline-docs` command line."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import gc
import json
import os
import re
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import engines, progress
from .analysis.links import DeadLink, dead_links, replaced_pages
from .analysis.promotion import Step, from_upstreams, promotion
from .analysis.quotes import missing_facts
from .analysis.schemadiff import schema_diff
from .analysis.versions import version_limit
from .collect import collect, first_seen
from .config import Config, ConfigError, load_config
from .facts import guide_facts
from .findings import apply_policy, fails
from .generate import generate, generate_into, write_pages
from .ids import schema_id
from .limits import Limits, cut
from .model import Finding, Model, Severity
from .progress import amount
from .render import paths
from .render.catalog import catalog_document, history, source_repositories
from .render.pages import build_json
from .report import REPORTERS, clean, plural, tally, text_report, use_colour
from .runs import RunRecord, inputs_key
from .sample import SampleError, prepare_sample
from .siteconfig import SiteConfigError
from .sources import download
from .sources.announcements import TYPES, write_fragment
from .sources.gitrepo import fetching_once
from .sources.schemas import read_schema_folder
from .validation import Validator, make_validator, schema_file_validator
from .yamlload import load_data_file

FAIL_ON = ("error", "warning", "info", "never")
_C1 = re.compile("[\x80-\x9f]")  # C1 controls: a terminal may obey U+009B as ESC [


def _config(path: str) -> Config:
    try:
        return load_config(path)
    except ConfigError as error:
        for problem in error.problems:
            click.echo(f"config error: {problem}", err=True)
        sys.exit(2)


def _exit_for(findings: tuple[Finding, ...], fail_on: str) -> NoReturn:
    sys.exit(1 if fail_on != "never" and fails(findings, Severity(fail_on)) else 0)


@dataclasses.dataclass(frozen=True)
class _Checked:
    """What `check` and `build` know before MkDocs runs: the model, the guides' dead links and
    missing facts, and the pages rendered from it when they are the pages of this very model."""

    model: Model
    dead: list[DeadLink]
    missing: list[Finding]
    pages: dict[str, str] | None  # for MkDocs' default use_directory_urls


def _checked(config: Config) -> _Checked:
    """The model with the guides' dead links and missing facts among its findings (`check` and
    `build` agree), and those links and facts; the policy is applied to them as to every other
    finding, once. The pages the checks read are kept when those checks found nothing: the
    findings did not change, so neither did a page (`build` renders them once)."""
    model = collect(config)
    pages, facts = generate(config, model), guide_facts(model)
    dead = dead_links(config, pages, facts)
    missing = missing_facts(config, pages, facts)
    more = [d.finding for d in dead] + missing + replaced_pages(config, pages)
    findings = tuple(apply_policy(more, config, applied=model.findings))
    if findings == model.findings:
        return _Checked(model, dead, missing, pages)
    return _Checked(dataclasses.replace(model, findings=findings), dead, missing, None)


# how MkDocs words a link it cannot follow: "Doc file 'a.md' contains a link 'b.md#c', but ..."
_MKDOCS_LINK = re.compile(
    r"^Doc file '(?P<page>.*?)' contains (?:a|an unrecognized relative) link '(?P<link>.*?)', "
)


def _not_dead_links(warnings: list[str], dead: list[DeadLink]) -> list[str]:
    """MkDocs' warnings but those about a dead link `check` found (which did not reach
    --fail-on, or the config ignores)."""
    known = {(d.page, d.link) for d in dead}
    return [
        w for w in warnings
        if not ((found := _MKDOCS_LINK.match(w)) and (found["page"], found["link"]) in known)
    ]  # fmt: skip


def _summary(model: Model) -> None:
    """Findings on stderr, for the commands whose stdout is their product."""
    _report_findings(model.findings)


def _report_findings(findings: tuple[Finding, ...]) -> None:
    if findings:
        progress.clear()
        click.echo(text_report(findings, use_colour(sys.stderr.isatty())), err=True, nl=False)


_STARTED = [time.monotonic()]  # when the command started: `main` sets it for each run
GC_THRESHOLDS = (100_000, 10, 10)  # the cyclic collector's, for a run of the command line


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The cyclic collector off for the block (as it was after it): `generate` makes no cycles
    that live long enough to matter (at 2,000 services its peak is the same without it), while
    collecting them costs a tenth of a second after one merge, scanning objects that live to
    the end. Not for `build`, whose MkDocs and Markdown make cycles page after page."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _done(what: str, more: str = "", during: str = "in") -> None:
    """A command's last line on stderr: what it did and where, how long it took, and `more`
    (the findings counted), so that stdout holds the product alone (`--format json`)."""
    progress.clear()
    took = progress.took(time.monotonic() - _STARTED[0])
    click.echo(f"{what} {during} {took}" + (f"; {more}" if more else ""), err=True)


def _count_line(model: Model, listed: bool, what: str) -> None:
    """For the read-only commands, one last line on stderr: what was done, with the findings
    counted in it, or with `--findings` after the whole text report."""
    if listed:
        _summary(model)
    _done(
        what,
        f"{tally(model.findings)}; --findings lists them" if model.findings and not listed else "",
    )


def _totals(findings: tuple[Finding, ...]) -> str:
    """`0 errors, 7 warnings, 0 notes`, as the text report ends."""
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    words = ((Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "note"))
    return ", ".join(plural(counts[s], word) for s, word in words)


def _services_in(model: Model, env: str | None = None) -> str:
    """`12 services in 3 environments`, or `12 services in staging`."""
    envs = [e for e in model.environments if env is None or e.name == env]
    services = {d.service for e in envs for d in e.deployments}
    where = env if env is not None else amount(len(envs), "environment")
    return f"{amount(len(services), 'service')} in {where}"


findings_flag = click.option(
    "--findings", "listed", is_flag=True,
    help="List the findings on stderr (default: count them in one line).",
)  # fmt: skip

Place = tuple[str | None, int | None]


def _findings_at(model: Model) -> dict[tuple[str, str], list[Finding]]:
    """(service, environment) -> the findings written where that deployment is written: its
    entry, the line that sets its version, or one of its workloads (a bundle's member is in
    every environment that lists the bundle). A finding anywhere else is tied to no row."""
    at: dict[Place, list[Finding]] = defaultdict(list)
    for finding in model.findings:
        at[(finding.file, finding.line)].append(finding)
    tied: dict[tuple[str, str], list[Finding]] = {}
    for env in model.environments:
        for deployment in env.deployments:
            places: set[Place] = {(deployment.file, deployment.line)}
            places |= {(w.file, w.line) for w in deployment.workloads}
            if deployment.version_file:
                places.add((deployment.version_file, deployment.version_line))
            found = {f for place in places for f in at.get(place, ())}
            if found:
                key = (deployment.service, env.name)
                tied[key] = sorted(found | set(tied.get(key, ())), key=Finding.sort_key)
    return tied


def _with_findings(
    rows: list[list[str]], found: list[list[Finding]], legend: str
) -> tuple[list[list[str]], str]:
    """The rows with a FINDINGS column that counts each row's findings, and the line that says
    what they are, when a row has any (`found`: one list per row, the header aside)."""
    if not any(found):
        return rows, ""
    counted = [[*r, tally(f)] for r, f in zip(rows[1:], found, strict=True)]
    return [[*rows[0], "FINDINGS"], *counted], f"FINDINGS: {legend}; --findings lists them\n"


if TYPE_CHECKING:  # generic since click 8.2; a plain class before
    _DateParam = click.ParamType[date, Any]
else:
    _DateParam = click.ParamType


class IsoDate(_DateParam):
    """A date, `YYYY-MM-DD`, or an ISO 8601 date and time with its UTC offset."""

    name = "date"

    def __init__(self, times: bool = True) -> None:
        self.times = times

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, date):
            return value
        text = str(value).strip()
        try:
            if len(text) == len("YYYY-MM-DD"):
                return date.fromisoformat(text)
            if self.times:
                moment = datetime.fromisoformat(text)
                if moment.tzinfo is not None:
                    return moment
                self.fail(f"{value!r} has no UTC offset: add one (Z, +02:00)", param, ctx)
        except ValueError:
            pass
        self.fail(f"cannot read {value!r} as a date (YYYY-MM-DD)", param, ctx)


def _on_or_after(when: str, since: date | datetime) -> bool:
    """Whether a change's date (ISO 8601, with its offset) is on or after `since`: the day as the
    change wrote it for a date, the instant for a date and time."""
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return False
    if isinstance(since, datetime):
        return moment.tzinfo is not None and moment >= since
    return moment.date() >= since


config_option = click.option(
    "--config",
    "config_path",
    default="pipeline-docs.yml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The pipeline-docs config file.",
)
fail_on_option = click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)


def report_options(command: Any) -> Any:
    """`--format` and `--output`, for the commands that report findings."""
    command = click.option(
        "--output", type=click.Path(dir_okay=False),
        help="Write this format to a file; text goes to the terminal.",
    )(command)  # fmt: skip
    return click.option(
        "--format", "fmt", type=click.Choice(sorted(REPORTERS)), default="text", show_default=True
    )(command)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pipeline-docs")
def main() -> None:
    """Documentation site of a GitOps delivery pipeline, built from the pipeline itself."""
    _STARTED[0] = time.monotonic()
    # A run makes millions of objects that live to its end (the model, the catalog, the pages)
    # and few reference cycles: the default thresholds (700, 10, 10) traverse them all again and
    # again, a sixth of a run after one merge at 2,000 services; refcounting frees the rest
    gc.set_threshold(*GC_THRESHOLDS)


def entry() -> NoReturn:
    """The `pipeline-docs` command: `main`, then the process ends without freeing what the run
    made one object at a time (a fifth of a second at 2,000 services, for memory the system
    takes back at once), as mypy does; the exit functions run and the output is flushed first,
    as at a normal exit. With other threads still running, it exits as Python does."""
    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if threading.active_count() > 1:
        sys.exit(code)  # type: ignore[arg-type]
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what it was told is lost, as it would be
            code = code or 1
    os._exit(code)


@main.command("generate")
@config_option
@click.option(
    "--out", "out", required=True, type=click.Path(file_okay=False), help="Folder to write into."
)
def generate_command(config_path: str, out: str) -> None:
    """Write every generated page, catalog.json and the feed into OUT.

    When nothing it reads changed since the last run into OUT, and OUT is as that run left it,
    only build.json is written anew (`runs`)."""
    with _no_cycle_collection():
        _generate_into(config_path, out)


def _generate_into(config_path: str, out: str) -> None:
    config = _config(config_path)
    folder = Path(out)
    record = RunRecord(config, folder)
    with fetching_once():  # the commits the key holds are those collect reads
        key = _inputs_key(config)
        last = record.unchanged(key)
        if last is not None:
            findings, environments, count = last
            stamp = build_json(environments, datetime.now(UTC), config.stale_after)
            write_pages({paths.BUILD_JSON: stamp}, folder)
            beside = _engine_config(config, folder)  # as the last run left it, or made again
            _report_findings(tuple(findings))
            _done(f"wrote {amount(1, 'file')} to {out}",
                  f"the {amount(count, 'other')} unchanged, as nothing they are made of changed; "
                  + beside)  # fmt: skip
            return
        with download.recording() as fetched:
            model = collect(config)
    pages, written, keys = generate_into(config, model, folder, record.known_pages())
    environments = json.loads(pages[paths.BUILD_JSON])["environments"]
    kept = [path for path in written if path != folder / paths.BUILD_JSON]
    record.save(key, fetched, kept, model.findings, environments, keys)
    _summary(model)
    _done(f"wrote {amount(len(written), 'file')} to {out}", _engine_config(config, folder))


def _engine_config(config: Config, folder: Path) -> str:
    """The mkdocs.yml beside `generate`'s output, for Zensical (or MkDocs) to build it: what
    the last line says of it."""
    made = engines.generated_mkdocs(config, folder)
    here = Path.cwd().resolve()
    shown = (
        made.file.relative_to(here) if made.file.is_relative_to(here) else made.file
    ).as_posix()
    if made.written:
        return f"{shown} beside it builds them (zensical build -f {shown})"
    return f"no mkdocs.yml written beside it: {made.why}"


def _inputs_key(config: Config) -> str | None:
    """`runs.inputs_key` once the sample's repos are made (collect reports a failure)."""
    try:
        prepare_sample(config)
    except (SampleError, OSError):
        return None
    return inputs_key(config)


@main.command("build")
@config_option
@fail_on_option
@click.option(
    "--site-dir", type=click.Path(file_okay=False), help="Where to build (default: site/)."
)
@click.option(
    "--engine", type=click.Choice(engines.ENGINES), default="mkdocs", show_default=True,
    help="What builds the site from the same mkdocs.yml: MkDocs 1.6, or ProperDocs.",
)  # fmt: skip
def build_command(config_path: str, fail_on: str, site_dir: str | None, engine: str) -> None:
    """Build the site, strict; exit 1 when a finding reaches --fail-on.

    A dead link or a missing fact of a guide below --fail-on is reported, as `check` does, and
    not failed on. With `--engine properdocs`, ProperDocs builds it, in a child process."""
    if engine == "properdocs" and not engines.aliased():
        if why := engines.missing(engine):
            click.echo(f"cannot build with {engine}: {why}", err=True)
            sys.exit(2)
        args = ["build", "--config", config_path, "--fail-on", fail_on, "--engine", engine]
        sys.exit(engines.run_child(engine, args + (["--site-dir", site_dir] if site_dir else [])))
    from mkdocs.exceptions import ConfigurationError, MkDocsException
    from pymdownx.snippets import SnippetMissingError  # type: ignore[import-untyped]

    from .site import build_site

    config = _config(config_path)
    checked = _checked(config)
    model, dead, missing = checked.model, checked.dead, checked.missing
    _summary(model)
    if fail_on != "never" and fails(model.findings, Severity(fail_on)):
        click.echo(f"not built: findings reach --fail-on {fail_on}", err=True)
        sys.exit(1)
    try:
        # strict, but for the dead links already reported: MkDocs warns of them and goes on; a
        # missing fact already reported quotes nothing
        built = build_site(
            config, model, Path(site_dir) if site_dir else None,
            strict=not dead, check_paths=not missing, pages=checked.pages,
        )  # fmt: skip
    except SiteConfigError as error:
        _site_config_error(error)
    except (ConfigurationError, ConfigError) as error:
        click.echo(f"config error: {error}", err=True)
        sys.exit(2)
    except (MkDocsException, SnippetMissingError) as error:
        click.echo(f"build failed: {error}", err=True)
        sys.exit(1)
    if dead and (others := _not_dead_links(built.warnings, dead)):
        progress.clear()
        click.echo(
            f"build failed: aborted with {plural(len(others), 'warning')} in strict mode", err=True
        )
        sys.exit(1)
    where = site_dir if site_dir else config.display(built.site_dir)
    reused = f"{amount(built.reused, 'page')} unchanged, from the cache" if built.reused else ""
    _done(f"built {amount(built.pages, 'page')} into {where.rstrip('/')}/", reused)


@main.command("serve")
@config_option
@click.option(
    "--dev-addr", default="127.0.0.1:8000", show_default=True, help="Address to serve on."
)
def serve_command(config_path: str, dev_addr: str) -> None:
    """Serve the site locally, rebuilt when its inputs change."""
    from mkdocs.exceptions import ConfigurationError

    from .site import serve_site

    try:
        serve_site(_config(config_path), dev_addr)
    except SiteConfigError as error:
        _site_config_error(error)
    except ConfigurationError as error:
        click.echo(f"config error: {error}", err=True)
        sys.exit(2)
    _done(f"served the site on {dev_addr}", during="for")


def _site_config_error(error: SiteConfigError) -> NoReturn:
    """The project's mkdocs.yml lacks what cannot be added for it: the lines to add."""
    click.echo(f"config error: {error}", err=True)
    if error.lines:
        click.echo(f"add to {error.file}:\n" + "\n".join(error.lines), err=True)
    sys.exit(2)


@main.command("check")
@config_option
@fail_on_option
@report_options
def check_command(config_path: str, fail_on: str, fmt: str, output: str | None) -> None:
    """The CI gate: report findings; exit 1 when one reaches --fail-on."""
    config = _config(config_path)
    model = _checked(config).model
    findings = model.findings
    _report(findings, fmt, output)
    _done(
        f"checked {config.display(config.file)} ({_services_in(model)}): {_totals(findings)}",
        f"the {fmt} report in {config.display(output)}" if output else "",
    )
    _exit_for(findings, fail_on)


def service_history(model: Model, service: str) -> list[dict[str, Any]]:
    """One service's changes in every environment, newest first, as catalog.json has them
    (a service no longer deployed anywhere keeps its history)."""
    return [c for c in history(model, source_repositories(model)) if c["service"] == service]


def _catalog_table(
    document: dict[str, Any], env: str | None, limits: Limits,
    tied: dict[tuple[str, str], list[Finding]],
) -> str:  # fmt: skip
    envs = [e["name"] for e in document["environments"] if env is None or e["name"] == env]
    rows = [["SERVICE", "OWNER", *[e.upper() for e in envs]]]
    found: list[list[Finding]] = []
    unreadable = {e["name"] for e in document["environments"] if e["status"] == "unreadable"}
    for service in document["services"]:
        cells = {d["environment"]: d for d in service["deployments"]}
        if env is not None and env not in cells:
            continue
        owner = service["owner"] or service["declared_owner"] or "-"
        row = [cut(service["name"], limits.name_chars), cut(owner, limits.name_chars)]
        for name in envs:
            cell = cells.get(name)
            mark = {"pending": " <", "skipped": " !"}.get(cell["drift"], "") if cell else ""
            if cell and cell["problem"]:
                mark += " ?"
            absent = "unreadable" if name in unreadable else "-"
            version = (
                cut(cell["version"], limits.version_chars) if cell and cell["version"] else "?"
            )
            row.append(f"{version}{mark}" if cell else absent)
        rows.append(row)
        found.append(sorted(
            {f for name in envs for f in tied.get((service["name"], name), ())},
            key=Finding.sort_key,
        ))  # fmt: skip
    if env is not None and env in unreadable:
        rows.append(["(unreadable)", "-", "unreadable"])
        found.append([])
    rows, findings_legend = _with_findings(
        rows, found, "what check finds where the service is deployed"
    )
    legend = "< pending (an earlier env is ahead)  ! skipped (an earlier env never ran it)\n"
    for e in document["environments"]:
        if e["name"] in envs and e["earlier"]:
            shown = e["earlier"]["read"][:16].replace("T", " ")
            legend += f"{e['name']}: from {shown} UTC, repo unreadable now\n"
    if any(cell["problem"] for s in document["services"] for cell in s["deployments"]):
        legend += "? not known for sure: see the environment's findings\n"
    return _table(rows) + (legend if envs else "") + findings_legend


@main.command("catalog")
@config_option
@click.option("--env", help="Only this environment.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "backstage"]), default="table",
    show_default=True, help="backstage: Backstage catalog entities, as multi-document YAML.",
)  # fmt: skip
@findings_flag
def catalog_command(config_path: str, env: str | None, fmt: str, listed: bool) -> None:
    """What runs where, who owns it, which version."""
    config = _config(config_path)
    if env is not None and env not in [e.name for e in config.environments]:
        click.echo(
            f"unknown environment {env!r}; known: {', '.join(e.name for e in config.environments)}",
            err=True,
        )
        sys.exit(2)
    model = collect(config)
    document = catalog_document(model)
    if fmt == "json":
        click.echo(json.dumps(document, indent=2, sort_keys=True))
    elif fmt == "backstage":
        from .render.backstage import backstage_yaml

        text = backstage_yaml(document, config.backstage.lifecycle, config.site_url, env)
        click.echo(text, nl=False)
    else:
        click.echo(_catalog_table(document, env, model.limits, _findings_at(model)), nl=False)
    _count_line(model, listed, f"catalog of {_services_in(model, env)}")


def _cell(value: str) -> str:
    """A table cell with control characters shown, not obeyed, as the text report shows them
    (`\\x1b`); line ends and tabs too, which would break the row, and C1 controls."""
    shown = clean(value).replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t")
    return _C1.sub(lambda m: f"\\x{ord(m.group()):02x}", shown)


def _table(rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; every cell through `_cell`."""
    rows = [[_cell(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return (
        "\n".join(
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        )
        + "\n"
    )


def _known_env(config: Config, name: str) -> None:
    if name not in [e.name for e in config.environments]:
        known = ", ".join(e.name for e in config.environments)
        click.echo(f"unknown environment {name!r}; known: {known}", err=True)
        sys.exit(2)


@main.command("history")
@config_option
@click.argument("service")
@click.option("--env", help="Only this environment.")
@click.option(
    "--since", type=IsoDate(),
    help="Only changes on or after this date (YYYY-MM-DD), or this time (2026-03-10T09:00:00+01:00).",
)  # fmt: skip
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@findings_flag
def history_command(
    config_path: str, service: str, env: str | None, since: date | None, fmt: str, listed: bool
) -> None:
    """SERVICE's versions over time, newest first: from, to, who, when, which merge request."""
    config = _config(config_path)
    if env is not None:
        _known_env(config, env)
    model = collect(config)
    changes = [
        c for c in service_history(model, service)
        if (env is None or c["environment"] == env)
        and (since is None or _on_or_after(c["date"], since))
    ]  # fmt: skip
    if fmt == "json":
        keys = ("environment", "service", "from", "to", "commit", "author", "date", "message")
        click.echo(json.dumps([{k: c[k] for k in keys} for c in changes], indent=2))
    elif changes:
        click.echo(_history_table(model, service, changes), nl=False)
    where = (
        env if env is not None else amount(len({c["environment"] for c in changes}), "environment")
    )
    said = f"history of {service}: " + (
        f"{amount(len(changes), 'change')} in {where}" if changes else "no change found"
    )
    _count_line(model, listed, said)


def _history_table(model: Model, service: str, changes: list[dict[str, Any]]) -> str:
    """The changes, newest first; a FINDINGS column on the change that made what runs now in
    an environment, when check finds something where that deployment is written."""
    tied = _findings_at(model)
    running = {e.name: d.version for e in model.environments for d in e.deployments
               if d.service == service}  # fmt: skip
    rows = [["DATE", "ENV", "FROM", "TO", "AUTHOR", "COMMIT", "MERGE REQUEST"]]
    found: list[list[Finding]] = []
    met: set[str] = set()  # environments whose newest change is above
    chars = model.limits.version_chars
    for c in changes:
        rows.append([
            c["date"][:10], c["environment"], cut(c["from"] or "-", chars),
            cut(c["to"] or "(removed)", chars),
            c["author"][:20], c["commit"][:8], c["merge_request"] or "",
        ])  # fmt: skip
        env = c["environment"]
        now = env not in met and env in running and c["to"] == running[env]
        found.append(tied.get((service, env), []) if now else [])
        met.add(env)
    rows, legend = _with_findings(
        rows, found, "what check finds where the version this change made runs now"
    )
    return _table(rows) + legend


def _steps_json(steps: list[Step]) -> list[dict[str, str | None]]:
    return [
        {"service": s.service, "change": s.action, "from": s.current, "to": s.promoted}
        for s in steps
    ]


def _steps_table(
    from_env: str, to_env: str, steps: list[Step], limits: Limits,
    tied: dict[tuple[str, str], list[Finding]],
) -> str:  # fmt: skip
    if not steps:
        return f"{to_env} already runs what {from_env} runs\n"
    rows = [["SERVICE", "CHANGE", to_env.upper() + " NOW", "AFTER"]]
    name, version = limits.name_chars, limits.version_chars
    rows += [
        [cut(s.service, name), s.action, cut(s.current or "-", version),
         cut(s.promoted or "-", version)]
        for s in steps
    ]  # fmt: skip
    found = [
        sorted({*tied.get((s.service, from_env), ()), *tied.get((s.service, to_env), ())},
               key=Finding.sort_key)
        for s in steps
    ]  # fmt: skip
    rows, legend = _with_findings(
        rows, found, f"what check finds where the service is deployed in {from_env} or {to_env}"
    )
    return _table(rows) + legend


@main.command("diff")
@config_option
@click.argument("from_env")
@click.argument("to_env", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@findings_flag
def diff_command(
    config_path: str, from_env: str, to_env: str | None, fmt: str, listed: bool
) -> None:
    """What promoting FROM_ENV to TO_ENV would change: services added, removed, up or down.

    With one environment, what promoting each of its upstreams (`promotes_from`) to it would
    change: one table per upstream."""
    config = _config(config_path)
    _known_env(config, from_env)
    if to_env is None:
        _diff_upstreams(config, from_env, fmt, listed)
        return
    _known_env(config, to_env)
    model = collect(config)
    with version_limit(model.limits.version_chars):
        steps = promotion(model, from_env, to_env, first_seen(model))
    if fmt == "json":
        click.echo(json.dumps(_steps_json(steps), indent=2))
    else:
        click.echo(
            _steps_table(from_env, to_env, steps, model.limits, _findings_at(model)), nl=False
        )
    _count_line(model, listed, f"diff {from_env} -> {to_env}: {_would_change(steps)}")


def _would_change(steps: list[Step]) -> str:
    """`3 services would change`, or `nothing would change`."""
    if not steps:
        return "nothing would change"
    return f"{amount(len(steps), 'service')} would change"


def _diff_upstreams(config: Config, env: str, fmt: str, listed: bool) -> None:
    """`diff ENV`: ENV against each of its direct upstreams; a root says it has none."""
    [upstreams] = [e.promotes_from for e in config.environments if e.name == env]
    if not upstreams:
        said = f"{env} has no upstream: nothing is promoted to it (promotes_from)"
        if fmt == "json":
            click.echo("[]")
            _done(f"diff {env}: {env} has no upstream, nothing is promoted to it (promotes_from)")
        else:
            click.echo(said)
            _done(f"diff {env}: no upstream to compare with")
        return
    model = collect(config)
    with version_limit(model.limits.version_chars):
        compared = from_upstreams(model, env, first_seen(model))
    if fmt == "json":
        click.echo(json.dumps([
            {"from": upstream, "to": env, "changes": _steps_json(steps)} for upstream, steps in compared
        ], indent=2))  # fmt: skip
    else:
        status = {e.name: e.status for e in model.environments}
        tied = _findings_at(model)
        tables = []
        for upstream, steps in compared:
            title = f"{upstream} -> {env}"
            if status.get(upstream):
                title += f" ({upstream} is {status[upstream]}: what it runs is not known)"
            tables.append(f"{title}\n{_steps_table(upstream, env, steps, model.limits, tied)}")
        click.echo("\n".join(tables), nl=False)
    each = "; ".join(f"from {upstream}, {_would_change(steps)}" for upstream, steps in compared)
    _count_line(model, listed, f"diff {env} against {amount(len(compared), 'upstream')}: {each}")


WORK_TREE = "work"


@main.command("schema-diff")
@config_option
@click.argument("from_release", required=False)
@click.argument("to_release", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@findings_flag
def schema_diff_command(
    config_path: str, from_release: str | None, to_release: str | None, fmt: str, listed: bool
) -> None:
    """What changed in the schemas between two releases (default: the latest one and the work tree).

    FROM and TO are release names, or `work` for the schemas as they are now."""
    config = _config(config_path)
    model = collect(config)
    releases = {r.name: r.schemas for r in model.releases}
    releases[WORK_TREE] = model.schemas
    before = from_release or (model.releases[-1].name if model.releases else None)
    after = to_release or WORK_TREE
    for name in (before, after):
        if name is None:
            from .sources.releases import no_release_finding  # why there is none: shallow, no tags

            why = no_release_finding(config, config.display)
            reason = (
                f"no earlier release: {why.message}\n{why.hint}" if why else "no earlier release"
            )
            click.echo(reason, err=True)
            sys.exit(2)
        if name not in releases:
            click.echo(f"unknown release {name!r}; known: {', '.join(releases)}", err=True)
            sys.exit(2)
    assert before is not None
    changes = schema_diff(releases[before], releases[after])
    if fmt == "json":
        click.echo(json.dumps([
            {"option": c.option, "change": c.kind, "breaking": c.breaking, "detail": c.detail} for c in changes
        ], indent=2))  # fmt: skip
    elif not changes:
        click.echo(f"no schema change from {before} to {after}")
    else:
        rows = [["OPTION", "CHANGE", "BREAKING", "DETAIL"]]
        rows += [[c.option, c.kind, "yes" if c.breaking else "", c.detail[:60]] for c in changes]
        click.echo(_table(rows), nl=False)
    breaking = sum(1 for c in changes if c.breaking)
    _count_line(model, listed, f"schema diff {before} -> {after}: {amount(len(changes), 'change')}"
                + (f" ({breaking} breaking)" if breaking else ""))  # fmt: skip


@main.command("announce")
@config_option
@click.option("--title", help="What changed, in a few words.")
@click.option("--type", "kind", type=click.Choice(TYPES), help="The kind of change.")
@click.option(
    "--option", "options", multiple=True, help="An option it concerns, `<schema>:<path>`."
)
@click.option("--template", "templates", multiple=True, help="A template it concerns.")
@click.option("--release", default="", help="The release it ships in.")
@click.option("--date", "day", type=IsoDate(times=False), help="YYYY-MM-DD (default: today).")
def announce_command(
    config_path: str, title: str | None, kind: str | None, options: tuple[str, ...],
    templates: tuple[str, ...], release: str, day: date | None,
) -> None:  # fmt: skip
    """Scaffold a changelog fragment in the announcements folder (asks for what is missing)."""
    config = _config(config_path)
    if config.announcements is None:
        click.echo("the config names no `announcements:` folder", err=True)
        sys.exit(2)
    if title is None or kind is None:
        if not sys.stdin.isatty():
            click.echo("give --title and --type (no terminal to ask on)", err=True)
            sys.exit(2)
        title = title or click.prompt("Title")
        kind = kind or click.prompt("Type", type=click.Choice(TYPES))
        if not options:
            answer = click.prompt(
                "Options (comma separated, empty for none)", default="", show_default=False
            )
            options = tuple(o.strip() for o in answer.split(",") if o.strip())
    when = day.isoformat() if day else None
    path = write_fragment(config.announcements, title, kind, options, templates, release, when)
    click.echo(f"wrote {config.display(path)}")
    _done(
        f"scaffolded {config.display(path)}",
        "write its body in place of the placeholder: `check` fails until then",
    )


@main.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--schema", "schema_ref", required=True,
              help="A schema id of the pipeline (its `schemas:` folder), the path of a schema file, or "
                   "the http(s) URL of a schema the site publishes (schemas/<id>.json), fetched on "
                   "each run; its last copy is kept in the config's cache folder, else in "
                   "./.cache/pipeline-docs/, and used when the server cannot be reached.")  # fmt: skip
@click.option("--config", "config_path", default="pipeline-docs.yml", show_default=True,
              type=click.Path(dir_okay=False), help="Where the pipeline's schemas are named.")  # fmt: skip
@fail_on_option
@report_options
def validate_command(files: tuple[str, ...], schema_ref: str, config_path: str, fail_on: str, fmt: str,
                     output: str | None) -> None:  # fmt: skip
    """Check FILES against a pipeline schema: invalid values, undocumented and deprecated options.

    For the CI of any repo: `pipeline-docs validate .pipeline.yml --schema service`."""
    validator, schema_id = _validator_for(schema_ref, config_path)
    findings: list[Finding] = []
    for name in files:
        document, found = load_data_file(Path(name), name)
        findings += found
        if document is not None:
            findings += validator.check(document, schema_id)
    ordered = tuple(sorted(set(findings), key=Finding.sort_key))
    _report(ordered, fmt, output)
    _done(
        f"validated {amount(len(files), 'file')} against {schema_id}: {_totals(ordered)}",
        f"the {fmt} report in {output}" if output else "",
    )
    _exit_for(ordered, fail_on)


def _validator_for(schema_ref: str, config_path: str) -> tuple[Validator, str]:
    """The validator and schema id for `--schema`: a file path, an http(s) URL the site
    publishes a schema at (sources/schemaurl.py), or an id in the config's schemas."""
    from .sources import schemaurl

    if schemaurl.is_url(schema_ref):
        config = _config(config_path) if Path(config_path).is_file() else None
        cache = schemaurl.cache_folder(config.cache if config else None)
        try:
            validator, sid, note = schemaurl.url_validator(
                schema_ref, cache, config.limits if config else Limits()
            )
        except schemaurl.SchemaFetchError as error:
            click.echo(str(error), err=True)
            sys.exit(2)
        if note:
            click.echo(note, err=True)
        return validator, sid
    path = Path(schemaurl.local_path(schema_ref))
    if path.suffix.lower() in (".json", ".yaml", ".yml") and path.is_file():
        validator = schema_file_validator(path)
        if not validator.known(schema_id(path)):
            click.echo(f"{schema_ref} is not a schema that can be read", err=True)
            sys.exit(2)
        return validator, schema_id(path)
    config = _config(config_path) if Path(config_path).is_file() else None
    limits = config.limits if config else None
    folder = config.schemas if config else None
    loaded, schemas, _ = read_schema_folder(folder, lambda p: p.name, limits=limits)
    validator = make_validator(loaded, schemas, limits)
    if not validator.known(schema_ref):
        known = ", ".join(sorted(validator.loaded)) or "none"
        click.echo(f"unknown schema {schema_ref!r}; known: {known}", err=True)
        sys.exit(2)
    return validator, schema_ref


def _report(findings: tuple[Finding, ...], fmt: str, output: str | None) -> None:
    rendered = REPORTERS[fmt](findings, use_colour(sys.stdout.isatty()) and output is None)
    if output:
        Path(output).write_text(rendered, encoding="utf-8")
        click.echo(text_report(findings, use_colour(sys.stdout.isatty())), nl=False)
    else:
        click.echo(rendered, nl=False)


def _register() -> None:
    """Commands written in their own modules; `init` ends with its last line too."""
    from .init import init_command

    write = init_command.callback
    assert write is not None

    @functools.wraps(write)
    def init_then_say(*args: Any, **kwargs: Any) -> None:
        write(*args, **kwargs)
        _done(f"wrote a pipeline-docs project into {kwargs.get('out', '.')}")

    init_command.callback = init_then_say
    main.add_command(init_command)


_register()
