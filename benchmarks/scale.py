"""The scale benchmark: pipeline-docs on synthetic organisations, beside two baselines.

    .venv/bin/python benchmarks/scale.py --sizes 500,1000,2000 --json out.json

For each size (services) and layout (`--layouts environment,overlay`; default the
environment.yml layout), makes the organisation of benchmarks/org.py in `--work DIR` (kept) or
a temporary folder (removed), then measures each of the following in a fresh subprocess, so
that no cache or memory is shared between them: wall time, and peak memory as the child's
`ru_maxrss` from `os.wait4` (the largest resident set of the process and its waited-for
children, git included).

- `generate`: `pipeline-docs generate --out DIR`, cold: the project's `.cache` (history walks,
  bare clones, bundles) removed first;
- `check`: `pipeline-docs check --format json`, right after `generate` (its cache warm);
- `generate_warm`: `generate` again, nothing changed; `generate_commit`: after one merge into
  one env repo (`one_commit`: a service promoted into the last environment, or in the overlay
  layout an image tag bumped in its overlay), taken back right after;
- `build`: `pipeline-docs build --fail-on never`, cold (cache and site removed); `build_warm`
  and `build_commit`: again, nothing changed, then after one merge, as for `generate`;
- stages: one more cold build, in a child that runs what `build` runs (`cli._checked`, then
  `site.build_site`, not strict, the cyclic collector's thresholds the command line's), with
  timers wrapped around:
  - *sources*: the readers `collect` runs (schemas, templates, owners, env repos with their
    history and bundles, announcements, `validate:` files, releases, guides);
  - *analysis*: the rest of `collect` (identity, schema diff, changelog checks, drift,
    owners, risks, limits, the findings policy);
  - *render*: `generate`, the model to pages: once for the checks before MkDocs runs, and again
    in the gen-files hook only when those checks found something (a page may show it);
  - *links*: the checks `build` (and `check`) run over the generated pages before MkDocs:
    the guides' dead links, missing facts, replaced pages;
  - *markdown*: MkDocs' `Page.render`: each page's Markdown converted to HTML;
  - *theme*: MkDocs' `_build_page` less the search plugin's part of it: the template context
    (nav included), Material's `main.html` rendered, `on_post_page`, the file written;
  - *search*: Material's search plugin: `on_page_context` (each page's HTML parsed into the
    index) and `on_post_build` (the index written);
  - *mkdocs other*: the rest of MkDocs' `build` (files, nav, gen-files' own work, static
    assets copied, other plugin events);
  a cold build shared with a forked child (`generator/pagehalves.py`, on two cores) is timed
  in the parent: *markdown*, *theme* and *search* are then its own pages' share, and its waits
  for the child's pages fall in *mkdocs other*;
- baseline (a), reading the inputs at all: PyYAML's C loader (`yaml.CSafeLoader`) over every
  YAML file in the env repos' work trees and every member of every bundle tarball (read in
  memory), plus `git log -p` of every env repo, output discarded;
- baseline (f), MkDocs alone: `mkdocs build` of as many trivial pages (a heading, a line) at
  the paths `generate` writes, its other files (catalog.json, the feed, CSS, script) copied as
  they are, with the default mkdocs.yml's theme (Material, its features, the package's template
  overrides), search plugin (same separator), Markdown extensions (snippets apart: nothing to
  quote), nav and `not_in_nav`;
- with `--profile`, a cProfile of a cold `generate` at the largest size (top 15 cumulative).

It prints a table: each figure per size, `generate`/(a) and `build`/(f), and per pair of sizes
the growth per doubling of services (2.0 is linear), and writes every figure as JSON. The
operating system's file cache is warm for every run alike (the org was just written). Other work
on the machine moves the figures: the JSON records the load average before and after.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import io
import itertools
import json
import math
import os
import platform
import pstats
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from org import LAYOUTS, Org, Sizes, _git, make_org  # noqa: E402

# frames of the command line itself, above the work: left out of the profile's top entries
WRAPPERS = (
    "runpy",
    "click/",
    "<string>",
    "builtins.exec",
    "generator/__main__.py",
    "generator/cli.py",
)
STAGES = ("sources", "analysis", "render", "links", "markdown", "theme", "search", "mkdocs_other")
COMMANDS = (
    "generate", "generate_warm", "generate_commit", "check", "build", "build_warm",
    "build_commit", "read_baseline", "mkdocs_baseline",
)  # fmt: skip


@dataclass(frozen=True)
class Run:
    """One child process: how long it took, its peak memory, how it ended."""

    seconds: float
    cpu_seconds: float  # user + system, its waited-for children included
    max_rss_mb: float
    exit_code: int


def measured(command: Sequence[str], cwd: Path, log: Path) -> Run:
    """Run `command` in a fresh process; its wall time, peak memory (os.wait4) and exit code."""
    env = os.environ | {"NO_COLOR": "1", "CI": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    with log.open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    cpu = usage.ru_utime + usage.ru_stime
    return Run(seconds, cpu, usage.ru_maxrss / 1024, process.returncode)


def _python(*args: str) -> list[str]:
    return [sys.executable, *args]


def _cold(org_root: Path, *more: Path) -> None:
    for path in (org_root / ".cache", *more):
        shutil.rmtree(path, ignore_errors=True)


# ---- the children ------------------------------------------------------------------------


def child_stages(config_file: Path, site_dir: Path, out: Path) -> None:
    """A build with timers around each stage (see the module's docstring); writes them."""
    import material.plugins.search.plugin as search  # type: ignore[import-untyped]
    import mkdocs.commands.build as mkbuild
    from mkdocs.structure.pages import Page

    from generator import site
    from generator.config import load_config

    collecting = importlib.import_module("generator.collect")  # the package exports `collect`
    command_line = importlib.import_module("generator.cli")
    gc.set_threshold(*command_line.GC_THRESHOLDS)  # as the command line runs
    spent: dict[str, float] = defaultdict(float)

    def timer(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - start

        return timed

    def wrap(module: Any, name: str, stage: str) -> None:
        if hasattr(module, name):  # the code measured may have moved on
            setattr(module, name, timer(stage, getattr(module, name)))

    readers = (
        "prepare_sample",
        "read_schema_folder",
        "read_templates",
        "read_owners",
        "read_environment",
        "read_announcements",
        "_validate_files",
        "read_releases",
        "read_guides",
    )
    for name in readers:
        wrap(collecting, name, "sources")
    wrap(command_line, "collect", "collect")
    wrap(command_line, "generate", "render_checked")
    for name in ("dead_links", "missing_facts", "replaced_pages"):
        wrap(command_line, name, "links")
    wrap(site, "generate", "render")
    Page.render = timer("markdown", Page.render)  # type: ignore[method-assign]
    mkbuild._build_page = timer("page", mkbuild._build_page)
    plugin = search.SearchPlugin
    plugin.on_page_context = timer("search_page", plugin.on_page_context)
    plugin.on_post_build = timer("search_index", plugin.on_post_build)
    mkbuild.build = timer("mkdocs", mkbuild.build)
    start = time.perf_counter()
    config = load_config(config_file)
    checked = getattr(command_line, "_checked", None)  # what `build` runs before MkDocs
    if checked is None:
        site.build_site(config, command_line.collect(config), site_dir, strict=False)
    else:  # the pages rendered for the checks, given to MkDocs as `build` gives them
        done = checked(config)
        site.build_site(config, done.model, site_dir, strict=False, pages=done.pages)
    total = time.perf_counter() - start
    stages = {
        "sources": spent["sources"],
        "analysis": spent["collect"] - spent["sources"],
        "render": spent["render"] + spent["render_checked"],
        "links": spent["links"],
        "markdown": spent["markdown"],
        "theme": spent["page"] - spent["search_page"],
        "search": spent["search_page"] + spent["search_index"],
        "mkdocs_other": spent["mkdocs"]
        - spent["render"]
        - spent["markdown"]
        - spent["page"]
        - spent["search_index"],
        "total": total,
    }
    out.write_text(json.dumps(stages, indent=2))


def child_read(manifest: Path, out: Path) -> None:
    """Baseline (a): every env file and bundle member through the C loader; `git log -p`."""
    listed = json.loads(manifest.read_text())
    start = time.perf_counter()
    documents = 0
    for name in listed["env_files"]:
        documents += sum(1 for _ in yaml.load_all(Path(name).read_bytes(), yaml.CSafeLoader))
    for name in listed["bundles"]:
        with tarfile.open(fileobj=io.BytesIO(Path(name).read_bytes()), mode="r:gz") as tar:
            for member in tar:
                handle = tar.extractfile(member) if member.isfile() else None
                if handle is not None:
                    documents += sum(1 for _ in yaml.load_all(handle.read(), yaml.CSafeLoader))
    loaded = time.perf_counter()
    for repo in listed["env_repos"]:
        subprocess.run(["git", "log", "-p"], cwd=repo, stdout=subprocess.DEVNULL, check=True)
    logged = time.perf_counter()
    out.write_text(
        json.dumps({"yaml": loaded - start, "git_log": logged - loaded, "documents": documents})
    )


# ---- baseline (f)'s project ----------------------------------------------------------------


def trivial_site(pages: Path, folder: Path) -> tuple[Path, int]:
    """A MkDocs project of trivial pages at the paths under `pages`; its mkdocs.yml, count."""
    from generator.siteconfig import package_overrides

    docs = folder / "docs"
    count = 0
    for path in sorted(p for p in pages.rglob("*") if p.is_file()):
        target = docs / path.relative_to(pages)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".md":
            target.write_text(f"# {path.stem}\n\nA trivial page.\n", encoding="utf-8")
            count += 1
        else:
            shutil.copyfile(path, target)
    default = resources.files("generator").joinpath("formats/mkdocs.default.yml").read_text("utf-8")
    data = yaml.safe_load(default)
    data |= {"site_name": "Trivial pages", "docs_dir": str(docs), "site_dir": str(folder / "site")}
    data["theme"]["custom_dir"] = str(package_overrides())
    data["plugins"] = [p for p in data["plugins"] if "search" in p]
    data["markdown_extensions"] = [
        e
        for e in data["markdown_extensions"]
        if not (isinstance(e, dict) and "pymdownx.snippets" in e)
    ]
    data["validation"] = {
        "omitted_files": "info",
        "not_found": "info",
        "anchors": "info",
        "unrecognized_links": "info",
    }
    file = folder / "mkdocs.yml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file, count


# ---- one merge -----------------------------------------------------------------------------

_TAG = re.compile(r"^(\s*newTag:\s*)(\S+)\s*$", re.MULTILINE)


def one_commit(org: dict[str, Any]) -> tuple[Path, str]:
    """One merge into one env repo, as a deploy is: in the environment.yml layout, one service
    promoted into the last environment (its URL and sha256 as the one before it has them); in
    the overlay layout, one image tag bumped in the last environment's overlay. Its repo and
    what it did; `undo_commit` takes it back. It is made ten minutes after the repo's last
    commit, as the next merge of a working day is (a timeline's window, and the pages drawing
    it, stay those of that day)."""
    if org["layout"] == "environment":
        repos = [Path(r) for r in org["env_repos"]]
        target = repos[-1]
        file = target / "environment.yml"
        ours = _bundle_entries(file)
        did = ""
        for source in reversed(repos[:-1]):  # the nearest environment that runs another version
            theirs = _bundle_entries(source / "environment.yml")
            service = next(
                (s for s, (url, _) in ours.items() if theirs.get(s, (url, ""))[0] != url), None
            )
            if service is not None:
                entry = _pinned_entry(theirs[service][0], org["bundles"])
                file.write_text(file.read_text().replace(ours[service][1], entry, 1))
                did = f"promote {service} from {source.name} into {target.name}"
                break
        if not did:  # every environment in sync (a tiny org): a commit all the same
            file.write_text(file.read_text() + "# benchmark\n")
            did = f"a comment in {target.name}'s environment.yml"
    else:
        target = Path(org["env_repos"][0])
        last = org["environments"][-1]
        file = next(
            Path(f) for f in sorted(org["env_files"])
            if f"/{last}/" in f and _TAG.search(Path(f).read_text())
        )  # fmt: skip
        text = file.read_text()
        found = _TAG.search(text)
        assert found is not None
        file.write_text(text[: found.start(2)] + found[2] + "-bench" + text[found.end(2) :])
        did = f"bump a tag in {file.relative_to(target)}"
    last = subprocess.run(["git", "log", "-1", "--format=%ct"], cwd=target, check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    when = f"@{int(last) + 600} +0000"
    dated = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    _git(target, "commit", "--quiet", "--all", "--message", f"Benchmark: {did}", env=dated)
    return target, did


def undo_commit(repo: Path) -> None:
    _git(repo, "reset", "--quiet", "--hard", "HEAD~1")


def _bundle_entries(file: Path) -> dict[str, tuple[str, str]]:
    """Each bundle entry of an environment.yml, by service: its URL, and its text (a plain URL
    line, or the `url:` and `sha256:` lines of a pinned one)."""
    lines, entries = file.read_text().splitlines(keepends=True), {}
    for index, line in enumerate(lines):
        item = line.strip()
        if item.startswith("- url: "):
            url = item.split("- url: ", 1)[1].strip()
            entries[url.rstrip("/").split("/")[-3]] = (url, "".join(lines[index : index + 2]))
        elif item.startswith("- http"):
            url = item[2:].strip()
            entries[url.rstrip("/").split("/")[-3]] = (url, line)
    return entries


def _pinned_entry(url: str, bundles: list[str]) -> str:
    """A pinned `url:` entry for this bundle URL, its sha256 that of the org's tarball."""
    name = "/".join(url.split("/")[-3:])
    tar = next(Path(b) for b in bundles if b.endswith("/" + name))
    return f"  - url: {url}\n    sha256: {hashlib.sha256(tar.read_bytes()).hexdigest()}\n"


# ---- one size ------------------------------------------------------------------------------


def prepare_org(root: Path, sizes: Sizes, layout: str) -> dict[str, Any]:
    """The org in `root`, made unless `org.json` there says it was made with these sizes."""
    marker = root / "org.json"
    wanted = {"layout": layout, "sizes": asdict(sizes)}
    if marker.is_file():
        known = json.loads(marker.read_text())
        if {k: known.get(k) for k in wanted} == wanted:
            return dict(known)
        shutil.rmtree(root)
    start = time.perf_counter()
    org: Org = make_org(root, sizes, layout)
    made = wanted | {
        "made_seconds": time.perf_counter() - start,
        "config": str(org.config),
        "services": list(org.services),
        "environments": list(org.environments),
        "env_repos": [str(p) for p in org.env_repos],
        "env_files": [str(p) for p in org.env_files],
        "bundles": [str(p) for p in org.bundles],
        "commits": _commits(org.env_repos),
    }
    marker.write_text(json.dumps(made))
    return made


def _commits(repos: Sequence[Path]) -> int:
    return sum(
        int(
            subprocess.run(
                ["git", "rev-list", "--count", "HEAD"],
                cwd=r,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for r in repos
    )


def measure(root: Path, sizes: Sizes, layout: str) -> dict[str, Any]:
    """Every figure for one org (see the module's docstring)."""
    org = prepare_org(root, sizes, layout)
    config, runs, logs = org["config"], {}, root / "logs"
    logs.mkdir(exist_ok=True)
    cli = _python("-m", "generator")
    out, site, staged = root / "out", root / "site", root / "site-stages"

    def run(name: str, command: Sequence[str], ok: tuple[int, ...] = (0,)) -> Run:
        done = measured(command, root, logs / f"{name}.log")
        if done.exit_code not in ok:
            tail = (logs / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited {done.exit_code} in {root}:\n{tail}")
        print(
            f"  {layout} {sizes.services}: {name} {done.seconds:.1f} s, {done.max_rss_mb:.0f} MB",
            file=sys.stderr,
            flush=True,
        )
        return done

    _cold(root, out)
    runs["generate"] = run("generate", [*cli, "generate", "--config", config, "--out", str(out)])
    runs["check"] = run(
        "check",
        [
            *cli,
            "check",
            "--config",
            config,
            "--format",
            "json",
            "--output",
            str(logs / "findings.json"),
        ],
        ok=(0, 1),
    )

    def warm_then_one_commit(name: str, command: Sequence[str]) -> str:
        """`command` again with nothing changed, then after one merge, taken back after."""
        runs[f"{name}_warm"] = run(f"{name}_warm", command)
        repo, did = one_commit(org)
        try:
            runs[f"{name}_commit"] = run(f"{name}_commit", command)
        finally:
            undo_commit(repo)
        return did

    warm_then_one_commit("generate", [*cli, "generate", "--config", config, "--out", str(out)])
    _cold(root, site)
    building = [*cli, "build", "--config", config, "--fail-on", "never", "--site-dir", str(site)]
    runs["build"] = run("build", building)
    did = warm_then_one_commit("build", building)
    _cold(root, staged)
    stage_file = logs / "stages.json"
    stages_run = run(
        "stages", _python(__file__, "--child", "stages", config, str(staged), str(stage_file))
    )
    stages = json.loads(stage_file.read_text())
    manifest, read_file = logs / "inputs.json", logs / "read.json"
    manifest.write_text(json.dumps({k: org[k] for k in ("env_files", "bundles", "env_repos")}))
    runs["read_baseline"] = run(
        "read_baseline", _python(__file__, "--child", "read", str(manifest), str(read_file))
    )
    trivial = root / "trivial"
    shutil.rmtree(trivial, ignore_errors=True)
    mkdocs_yml, trivial_pages = trivial_site(out, trivial)
    runs["mkdocs_baseline"] = run(
        "mkdocs_baseline", _python("-m", "mkdocs", "build", "-q", "-f", str(mkdocs_yml))
    )
    services = site / "catalog" / "services"
    figures: dict[str, Any] = {
        "layout": layout,
        "services": sizes.services,
        "environments": len(org["environments"]),
        "commits": org["commits"],
        "bundles": len(org["bundles"]),
        "env_files": len(org["env_files"]),
        "made_seconds": org["made_seconds"],
        "one_commit": did,
        "pages": sum(1 for p in out.rglob("*.md")),
        "trivial_pages": trivial_pages,
        "service_pages": sum(1 for p in services.iterdir() if (p / "index.html").is_file()),
        "site_html": sum(1 for _ in site.rglob("*.html")),
        "runs": {name: asdict(r) for name, r in runs.items()},
        "stages": stages,
        "stages_run": asdict(stages_run),
        "read_baseline_parts": json.loads(read_file.read_text()),
        "ratios": {
            "generate_to_read": runs["generate"].seconds / runs["read_baseline"].seconds,
            "build_to_mkdocs": runs["build"].seconds / runs["mkdocs_baseline"].seconds,
        },
    }
    return figures


def profiled(root: Path) -> list[dict[str, Any]]:
    """A cold `generate` of the org in `root` under cProfile: the 15 entries with the most
    cumulative time, the command line's own frames (runpy, click, cli.py) left out."""
    config, out, logs = str(root / "pipeline-docs.yml"), root / "out", root / "logs"
    _cold(root, out)
    stats_file = logs / "generate.prof"
    command = _python(
        "-m",
        "cProfile",
        "-o",
        str(stats_file),
        "-m",
        "generator",
        "generate",
        "--config",
        config,
        "--out",
        str(out),
    )
    measured(command, root, logs / "profile.log")
    stats = pstats.Stats(str(stats_file), stream=io.StringIO())
    rows = []
    for (file, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        if any(part in f"{file}:{function}" for part in WRAPPERS):
            continue
        rows.append(
            {
                "function": f"{_short(file)}:{line}({function})",
                "calls": calls,
                "own": own,
                "cumulative": cumulative,
            }
        )
    rows.sort(key=lambda r: -r["cumulative"])
    return rows[:15]


def _short(file: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


# ---- the table -----------------------------------------------------------------------------


def _rows(result: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, value, unit) of every figure of one size."""
    missing = float("nan")  # a figure an older run did not take
    none = {"seconds": missing, "cpu_seconds": missing, "max_rss_mb": missing}
    runs = {name: result["runs"].get(name, none) for name in COMMANDS}
    stages = result["stages"]
    rows = [(name, runs[name]["seconds"], "s") for name in COMMANDS]
    rows += [
        ("generate / (a)", result["ratios"]["generate_to_read"], "x"),
        ("build / (f)", result["ratios"]["build_to_mkdocs"], "x"),
    ]
    rows += [(f"stage: {name}", stages.get(name, missing), "s") for name in STAGES]
    cpu = {name: runs[name].get("cpu_seconds", missing) for name in COMMANDS}
    rows += [(f"cpu s: {name}", cpu[name], "s") for name in COMMANDS]
    rows += [
        ("cpu: generate / (a)", cpu["generate"] / cpu["read_baseline"], "x"),
        ("cpu: build / (f)", cpu["build"] / cpu["mkdocs_baseline"], "x"),
    ]
    rows += [(f"peak MB: {name}", runs[name]["max_rss_mb"], "MB") for name in COMMANDS]
    return rows


def per_doubling(small: float, large: float, size_a: int, size_b: int) -> float:
    """The growth of a figure per doubling of services between two sizes (2.0 is linear)."""
    if not small > 0 or not large > 0 or size_a == size_b:
        return float("nan")
    return float((large / small) ** (1 / math.log2(size_b / size_a)))


def table(results: Sequence[dict[str, Any]]) -> str:
    """Per layout: a row per figure, a column per size, then the growth per doubling."""
    lines = []
    for layout in dict.fromkeys(r["layout"] for r in results):
        mine = sorted((r for r in results if r["layout"] == layout), key=lambda r: r["services"])
        sizes = [r["services"] for r in mine]
        head = [
            f"{layout} layout",
            *(f"{s:,} svc" for s in sizes),
            *(f"x/2 {a}->{b}" for a, b in itertools.pairwise(sizes)),
        ]
        body = []
        for index, (label, _, unit) in enumerate(_rows(mine[0])):
            values = [_rows(r)[index][1] for r in mine]
            cells = [label, *(f"{v:.2f} {unit}" if unit != "MB" else f"{v:.0f} MB" for v in values)]
            if unit != "x":
                cells += [
                    f"{per_doubling(a, b, sa, sb):.2f}"
                    for a, b, sa, sb in zip(values, values[1:], sizes, sizes[1:], strict=False)
                ]
            else:
                cells += [""] * (len(sizes) - 1)
            body.append(cells)
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
        lines += [
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in body
        ]
        shape = mine[-1]
        lines.append(
            f"({shape['environments']} environments, {shape['commits']:,} commits in "
            f"the env repos; pages: "
            + ", ".join(f"{r['pages']:,}" for r in mine)
            + "; (a) = reading the inputs, (f) = MkDocs on trivial pages)"
        )
        lines.append("")
    return "\n".join(lines)


def _generator_source() -> dict[str, str]:
    """Which generator the children import (PYTHONPATH may name another copy) and its commit."""
    import generator

    folder = Path(generator.__file__).resolve().parent.parent
    done = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=folder,
        text=True,
        capture_output=True,
        check=False,
    )
    return {"path": str(folder), "commit": done.stdout.strip() if done.returncode == 0 else ""}


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--child"]:
        kind, *paths = map(Path, argv[1:])
        if str(kind) == "stages":
            child_stages(*paths)
        else:
            child_read(*paths)
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000", help="services, comma-separated")
    parser.add_argument("--layouts", default="environment", help="environment, overlay or both")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--work", type=Path, help="make the orgs here and keep them")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile generate at the largest size"
    )
    defaults = Sizes()
    for name in ("environments", "commits", "options", "templates", "fragments", "seed", "teams"):
        parser.add_argument(f"--{name}", type=int, default=getattr(defaults, name))
    parser.add_argument("--table", type=Path, help="print the table of a saved --json file")
    args = parser.parse_args(argv)
    if args.table:
        print(report(json.loads(args.table.read_text())["results"]))
        return
    sizes = sorted(int(s) for s in args.sizes.split(","))
    layouts = [layout.strip() for layout in args.layouts.split(",")]
    if unknown := [x for x in layouts if x not in LAYOUTS]:
        parser.error(f"unknown layout {unknown[0]!r}: use {', '.join(LAYOUTS)}")
    work = args.work or Path(tempfile.mkdtemp(prefix="pipeline-docs-scale-"))
    loads = [os.getloadavg()]
    started = time.time()
    results: list[dict[str, Any]] = []

    def save() -> None:  # after each size: a run cut short keeps what it measured
        if args.json:
            args.json.write_text(json.dumps(_document(results, loads, started), indent=2))

    try:
        for layout in layouts:
            for services in sizes:
                shape = Sizes(
                    services=services,
                    teams=args.teams,
                    environments=args.environments,
                    commits=args.commits,
                    options=args.options,
                    templates=args.templates,
                    fragments=args.fragments,
                    seed=args.seed,
                )
                root = work / f"{layout}-{services}"
                results.append(measure(root, shape, layout))
                loads.append(os.getloadavg())
                save()
                if args.profile and services == sizes[-1]:
                    results[-1]["profile"] = profiled(root)
                    save()
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(report(results))


def report(results: Sequence[dict[str, Any]]) -> str:
    """The table, then each profile taken."""
    lines = [table(results)]
    for result in results:
        if "profile" in result:
            lines.append(
                f"cProfile of a cold generate, {result['layout']} layout, "
                f"{result['services']:,} services (top 15 cumulative):"
            )
            lines += [
                f"  {row['cumulative']:8.2f} s  {row['calls']:>9}  {row['function']}"
                for row in result["profile"]
            ]
    return "\n".join(lines)


def _document(
    results: list[dict[str, Any]], loads: list[tuple[float, float, float]], started: float
) -> dict[str, Any]:
    """Every figure, with which generator was measured and how busy the machine was."""
    return {
        "generator": _generator_source(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_averages": loads,
            "seconds": time.time() - started,
        },
        "results": results,
    }


if __name__ == "__main__":
    main()
