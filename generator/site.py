"""The MkDocs side: the gen-files hook, and `build`/`serve` around MkDocs' own commands.

The core (`generate`) knows nothing of MkDocs; this module is the thin adapter. A model already
collected by `build` is handed to the gen-files script, so inputs are read once per build.
The facts the guides quote are files (pymdownx.snippets reads no page held in memory): written
before MkDocs runs and again by the hook (`serve` rebuilds), and pymdownx.snippets is given
their folder, absolute, as its only `base_path`, never URLs.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from . import engines, pagereuse, progress, siteconfig
from .collect import collect
from .config import Config, load_config
from .facts import facts_folder, guide_facts, inert, write_facts
from .generate import generate
from .model import Model
from .render import htmlblocks
from .render.pages import html_title
from .siteconfig import SNIPPETS, Adapted, snippets_settings
from .sources.gitrepo import is_url

CONFIG_ENV = "PIPELINE_DOCS_CONFIG"
MKDOCS_BUILTINS = ["toc", "tables", "fenced_code"]  # MkDocs adds these to every site's list
_prepared: dict[Path, Model] = {}
# pages `build` already rendered from that model, for use_directory_urls true (MkDocs' default)
_rendered: dict[Path, tuple[Model, dict[str, str]]] = {}
MAX_WATCHED = 1_000  # entries at the top of a local env repo that `serve` watches


@dataclass(frozen=True)
class SiteMarkdown:
    """Where the hand-written pages are, and the Markdown extensions MkDocs renders pages with."""

    docs: Path
    extensions: tuple[str, ...]
    configs: dict[str, dict[str, Any]]


def _extensions(value: object) -> tuple[tuple[str, ...], dict[str, dict[str, Any]]]:
    """`markdown_extensions:` read by MkDocs' own option: its builtins added, configs split off."""
    from mkdocs.config import config_options

    option = config_options.MarkdownExtensions(builtins=MKDOCS_BUILTINS)
    extensions = option.validate(value if value is not None else [])  # type: ignore[no-untyped-call]
    return tuple(extensions), option.configdata


def _read_mkdocs(file: Path) -> dict[str, Any]:
    """A mkdocs.yml as MkDocs reads it (its tags, INHERIT); raises on a broken one."""
    from mkdocs.utils.yaml import yaml_load

    with file.open("rb") as handle:
        data = yaml_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{file} is not a mapping")
    return data


def site_markdown(config: Config) -> SiteMarkdown:
    """The docs folder and Markdown extensions the site is built with: those of the project's
    mkdocs.yml beside the config with what the generated pages need added (as `build` adds
    them), else of the default one (whose docs/ is the one beside the config)."""
    own = config.root / "mkdocs.yml"
    if own.is_file() and not engines.made_by_generate(own):
        try:
            data = _read_mkdocs(own)
            entries = siteconfig.markdown_extensions(data, config, True, [])
            extensions, configs = _extensions(entries)
            return SiteMarkdown(
                own.parent / str(data.get("docs_dir") or "docs"), extensions, configs
            )
        except Exception:  # the build reports a broken mkdocs.yml; `check` goes on without it
            pass
    extensions, configs = _extensions(siteconfig.default_mkdocs()["markdown_extensions"])
    return SiteMarkdown(config.root / "docs", extensions, configs)


def write_with_gen_files() -> None:
    """Write the facts, then every generated page through mkdocs-gen-files (the docs/ script
    calls this), from the config `build` named, else ./pipeline-docs.yml; pymdownx.snippets is
    pointed at the facts (for a plain `mkdocs build` too) and finds nothing to obey in a
    generated page."""
    import mkdocs_gen_files

    config = load_config(os.environ.get(CONFIG_ENV, "pipeline-docs.yml"))
    model = _prepared.get(config.file)
    model = collect(config) if model is None else model
    folder = facts_folder(config)
    write_facts(folder, guide_facts(model))
    live = mkdocs_gen_files.config  # read by each page's render, after this hook
    snippets = SNIPPETS in live.markdown_extensions
    if snippets:
        own = live.mdx_configs.get(SNIPPETS, {})
        live.mdx_configs[SNIPPETS] = snippets_settings(folder, own, own.get("check_paths", True))
    directory_urls = bool(live.use_directory_urls)
    rendered, pages = _rendered.get(config.file, (None, None))
    if pages is None or rendered is not model or not directory_urls:
        pages = generate(config, model, directory_urls)
    for name, text in pages.items():
        with mkdocs_gen_files.open(name, "w") as handle:
            handle.write(inert(text) if snippets and name.endswith(".md") else text)


def mkdocs_config_file(config: Config) -> Path:
    """The project's mkdocs.yml beside the config, or a default one made in the cache (its
    docs folder the project's docs/ when there is one)."""
    own = config.root / "mkdocs.yml"
    if own.is_file() and not engines.made_by_generate(own):  # not the one for `generate`'s output
        return own
    folder = config.cache / "mkdocs"
    docs = config.root / "docs"
    if not docs.is_dir():
        docs = folder / "docs"
        docs.mkdir(parents=True, exist_ok=True)
    script = siteconfig.gen_files_script(config)
    default = resources.files("generator").joinpath("formats/mkdocs.default.yml").read_text("utf-8")
    values = {  # JSON strings are YAML strings: a title or a path cannot break the file
        "@TITLE@": html_title(config.title), "@SITE_DIR@": str(config.root / "site"),
        "@DOCS_DIR@": str(docs), "@SCRIPT@": str(script),
        "@OVERRIDES@": str(siteconfig.package_overrides()), "@FACTS@": str(facts_folder(config)),
    }  # fmt: skip
    text = default
    for marker, value in values.items():
        # the title as it is (an emoji's JSON surrogate pair would not survive YAML's \u)
        shown = json.dumps(value, ensure_ascii=marker != "@TITLE@")
        text = text.replace(f'"{marker}"', shown)
    target = folder / "mkdocs.yml"
    target.write_text(text, encoding="utf-8")
    return target


def mkdocs_overrides(config: Config, file: Path, check_paths: bool = True) -> Adapted:
    """What `build` and `serve` set over the mkdocs.yml they run (`siteconfig.adapt`): what the
    generated pages need, pymdownx.snippets reading the facts folder, the site name safe.
    Raises SiteConfigError with the lines to add when they cannot be added for the project."""
    try:
        data = _read_mkdocs(file)
    except Exception:  # MkDocs reports a broken mkdocs.yml itself
        return Adapted({})
    return siteconfig.adapt(config, file, data, check_paths)


class _BesideProgress(logging.StreamHandler):  # type: ignore[type-arg]
    """A log handler that wipes the status line (`progress`) before it writes a record."""

    def emit(self, record: logging.LogRecord) -> None:
        progress.clear()
        super().emit(record)


def _show_mkdocs_log() -> None:
    """MkDocs' warnings on stderr, as `mkdocs build` would show them."""
    logger = logging.getLogger(engines.logger_name())
    if not any(getattr(h, "_pipeline_docs", False) for h in logger.handlers):
        handler = _BesideProgress()
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._pipeline_docs = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


class _Warnings(logging.Handler):
    """MkDocs' warnings as they are logged, for the caller to weigh."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _PageCount:
    """A tiny MkDocs plugin: the pages converted, then written, counted on the status line
    (`progress.Count`, a few updates a second at most), and how many were written."""

    def __init__(self) -> None:
        self.total: int | None = None
        self.written = 0
        self.count: progress.Count | None = None

    def _step(self, what: str) -> None:
        if self.count is not None:
            self.count.done()
        self.count = progress.Count(f"building the site: {what}", "page", self.total)

    def on_files(self, files: Any, config: Any) -> Any:
        self.total = len(files.documentation_pages())
        self._step("converting")
        return files

    on_files.mkdocs_priority = -100  # type: ignore[attr-defined]  # last: the generated pages too

    def on_page_content(self, html: str, **_: Any) -> str:
        if self.count is not None:
            self.count.add()
        return html

    def on_env(self, env: Any, **_: Any) -> Any:
        self._step("writing")
        return env

    def on_post_page(self, output: str, **_: Any) -> str:
        self.wrote()
        return output

    def wrote(self) -> None:
        """One more page written (by MkDocs, or reused from the cache)."""
        self.written += 1
        if self.count is not None:
            self.count.add()

    def on_post_build(self, **_: Any) -> None:
        self.done()
        progress.say("building the site: the search index and the theme's files")

    on_post_build.mkdocs_priority = 100  # type: ignore[attr-defined]  # first: before the index

    def done(self) -> None:
        if self.count is not None:
            self.count.done()
        self.count = None
        progress.clear()


class _Deferring:
    """A tiny MkDocs plugin: the blocks of a page that search skips are kept out of its HTML
    while search reads it, and put back before it is written (`htmlblocks.defer`)."""

    def __init__(self) -> None:
        self.aside: dict[str, list[str]] = {}

    def on_page_markdown(self, markdown: str, page: Any, **_: Any) -> str:
        htmlblocks.defer()
        return markdown

    def on_page_content(self, html: str, page: Any, **_: Any) -> str:
        if blocks := htmlblocks.deferred():
            self.aside[page.file.src_uri] = blocks
        return html

    def on_post_page(self, output: str, page: Any, **_: Any) -> str:
        return htmlblocks.restore(output, self.aside.pop(page.file.src_uri, []))

    on_post_page.mkdocs_priority = 100  # type: ignore[attr-defined]  # first: the page whole


@dataclass(frozen=True)
class Built:
    """What `build_site` did: MkDocs' warnings, how many pages it wrote, and where; how many of
    them were copied from the cache (`pagereuse`)."""

    warnings: list[str]
    pages: int
    site_dir: Path
    reused: int = 0


def _add_plugins(mkdocs_config: Any) -> _PageCount:
    """Our two plugins added to the loaded config's: the page counter (last: it only counts),
    which is returned, and the one that keeps what search skips out of its way."""
    from mkdocs.plugins import BasePlugin  # imported here: MkDocs only loads for a build

    class Plugin(_PageCount, BasePlugin):  # type: ignore[type-arg,no-untyped-call]
        """`_PageCount` as MkDocs takes a plugin."""

    class Deferring(_Deferring, BasePlugin):  # type: ignore[type-arg,no-untyped-call]
        """`_Deferring` as MkDocs takes a plugin."""

    counter = Plugin()
    mkdocs_config.plugins["pipeline-docs/progress"] = counter
    mkdocs_config.plugins["pipeline-docs/deferred"] = Deferring()
    return counter


def build_site(
    config: Config,
    model: Model,
    site_dir: Path | None = None,
    strict: bool = True,
    check_paths: bool = True,
    pages: dict[str, str] | None = None,
) -> Built:
    """An MkDocs build of the site, strict unless told; return its warnings and pages. Raises
    mkdocs' own exceptions on failure (in strict mode, on any warning), SiteConfigError when the
    project's mkdocs.yml needs lines added, and pymdownx.snippets' `SnippetMissingError` for a
    fact no file holds, unless `check_paths` is off (the marker then quotes nothing: for facts
    `check` found missing and reported). `pages`: those `generate` made of this `model` for
    MkDocs' default use_directory_urls, not rendered again if the site uses it."""
    from mkdocs.commands.build import build

    _show_mkdocs_log()
    os.environ[CONFIG_ENV] = str(config.file)
    _prepared[config.file] = model
    if pages is not None:
        _rendered[config.file] = (model, pages)
    write_facts(facts_folder(config), guide_facts(model))
    warnings = _Warnings()
    logger = logging.getLogger(engines.logger_name())
    logger.addHandler(warnings)
    try:
        mkdocs_config, _ = _load_mkdocs(config, strict, site_dir, check_paths, say=True)
        counter = _add_plugins(mkdocs_config)
        # pages whose inputs did not change since the last build are taken from the cache; with
        # MkDocs itself only (whose build steps it wraps)
        pages_cache = None if engines.aliased() else config.cache / "site-pages"
        reuse = pagereuse.PageReuse.of(mkdocs_config, pages_cache, counter.wrote)
        mkdocs_config.plugins.on_startup(command="build", dirty=False)
        try:
            with pagereuse.reusing(reuse):
                build(mkdocs_config)
            if reuse is not None:
                reuse.save()
        finally:
            counter.done()
            htmlblocks.deferred()  # a page that failed to convert keeps nothing aside
            mkdocs_config.plugins.on_shutdown()
    finally:
        logger.removeHandler(warnings)
        _prepared.pop(config.file, None)
        _rendered.pop(config.file, None)
    reused = reuse.reused["written"] if reuse is not None else 0
    return Built(warnings.messages, counter.written, Path(mkdocs_config.site_dir), reused)


def _load_mkdocs(
    config: Config, strict: bool, site_dir: Path | None, check_paths: bool = True,
    say: bool = False, **more: Any,
) -> tuple[Any, Adapted]:  # fmt: skip
    """The MkDocs config `build` and `serve` run: the project's (or the default) mkdocs.yml with
    what the generated pages need set over it; what was added said on stderr when `say`."""
    from mkdocs.config import load_config as load_mkdocs_config

    file = mkdocs_config_file(config)
    adapted = mkdocs_overrides(config, file, check_paths)
    if say and adapted.added:
        shown = "; ".join(adapted.added)
        print(f"{file.name}: added for the generated pages: {shown}", file=sys.stderr)
    loaded = load_mkdocs_config(
        config_file=str(file), strict=strict,
        site_dir=str(site_dir) if site_dir is not None else None,
        **adapted.overrides, **more,
    )  # fmt: skip
    return loaded, adapted


def watched_inputs(config: Config) -> list[tuple[Path, bool]]:
    """What `serve` watches, each (path, recursive): every input the config names that is on
    disk: the config itself, schemas, templates, owners, announcements, release folders, bundle
    mirrors, the project's docs/, and each local env repo: its files (the top of the repo and
    each folder in it, `.git` apart) and its refs, so a new commit is a change too."""
    paths: list[tuple[Path, bool]] = [(config.file, False)]
    named = [config.schemas, *config.templates, config.owners, config.announcements,
             *(config.root / r.schemas for r in config.releases if r.schemas),
             *(folder for _, folder in config.mirrors),
             config.root / "docs", config.root / "mkdocs.yml"]  # fmt: skip
    paths += [(p, True) for p in named if p is not None and p.exists()]
    for env in config.environments:
        if is_url(env.repo):
            continue  # cloned into the cache: fetched on each build, not watched
        root = (config.root / env.repo).resolve()
        if not root.is_dir():
            continue
        paths.append((root, False))
        entries = sorted(itertools.islice(root.iterdir(), MAX_WATCHED))
        paths += [(p, True) for p in entries if p.is_dir() and p.name != ".git"]
        git_dir = root / ".git"
        if git_dir.is_dir():  # HEAD and packed-refs; every branch and tag
            paths += [(git_dir, False), (git_dir / "refs", True)]
    unique: dict[Path, bool] = {}
    for path, recursive in paths:
        unique[path] = unique.get(path, False) or recursive
    return list(unique.items())


def serve_site(config: Config, address: str) -> None:
    """A development server over the site, rebuilt when an input changes (`watched_inputs`):
    MkDocs' own live-reload server, its builder reading the config and the inputs anew each
    time; a rebuild that fails says why in one line and the last good site stays served."""
    from urllib.parse import urlsplit

    from mkdocs.commands.build import build
    from mkdocs.livereload import LiveReloadServer

    _show_mkdocs_log()
    os.environ[CONFIG_ENV] = str(config.file)
    site_dir = Path(tempfile.mkdtemp(prefix="pipeline-docs-serve-"))
    first, adapted = _load_mkdocs(config, False, site_dir, say=True, dev_addr=address)
    host, port = first.dev_addr
    mount = urlsplit(first.site_url or "/").path
    state = {"config": config}

    def builder(mkdocs_config: Any = None) -> None:
        started = time.monotonic()
        try:
            if mkdocs_config is None:
                state["config"] = load_config(config.file)
                mkdocs_config, _ = _load_mkdocs(state["config"], False, site_dir, dev_addr=address)
            mkdocs_config.site_url = server.url
            build(mkdocs_config, serve_url=server.url)
        except Exception as error:  # a broken input: the last good site stays served
            print(f"not rebuilt: {type(error).__name__}: {error}", file=sys.stderr)
            return
        took = time.monotonic() - started
        print(f"built {server.url} in {took:.1f} s", file=sys.stderr)

    server = LiveReloadServer(builder=builder, host=host, port=port, root=str(site_dir),
                              mount_path=mount)  # fmt: skip
    first.plugins.on_startup(command="serve", dirty=False)
    try:
        builder(first)
        watched = watched_inputs(config) + [(p, True) for p in adapted.watch]
        for path, recursive in watched:
            server.watch(str(path), recursive=recursive)
        print(f"serving {server.url} (rebuilt when one of {len(watched)} watched inputs "
              "changes; Ctrl+C stops)", file=sys.stderr, flush=True)  # fmt: skip
        try:
            server.serve()  # type: ignore[no-untyped-call]
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
    finally:
        first.plugins.on_shutdown()
        shutil.rmtree(site_dir, ignore_errors=True)
