"""The MkDocs side: the gen-files hook, and `build`/`serve` around MkDocs' own commands.

The core (`generate`) knows nothing of MkDocs; this module is the thin adapter. A model already
collected by `build` is handed to the gen-files script, so inputs are read once per build.
The facts the guides quote are files (pymdownx.snippets reads no page held in memory): written
before MkDocs runs and again by the hook (`serve` rebuilds), and pymdownx.snippets is given
their folder, absolute, as its only `base_path`, never URLs.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .collect import collect
from .config import Config, load_config
from .facts import facts_folder, guide_facts, inert, write_facts
from .generate import generate
from .model import Model
from .render.pages import html_title

CONFIG_ENV = "PIPELINE_DOCS_CONFIG"
MKDOCS_BUILTINS = ["toc", "tables", "fenced_code"]  # MkDocs adds these to every site's list
SNIPPETS = "pymdownx.snippets"
_prepared: dict[Path, Model] = {}


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


def site_markdown(config: Config) -> SiteMarkdown:
    """The docs folder and Markdown extensions of the project's mkdocs.yml beside the config,
    else of the default one (whose docs/ is the one beside the config)."""
    from mkdocs.utils.yaml import yaml_load

    own = config.root / "mkdocs.yml"
    if own.is_file():
        try:
            with own.open("rb") as handle:  # as MkDocs reads it: its tags, INHERIT
                data = yaml_load(handle)
            extensions, configs = _extensions(data.get("markdown_extensions"))
            return SiteMarkdown(
                own.parent / str(data.get("docs_dir") or "docs"), extensions, configs
            )
        except Exception:  # the build reports a broken mkdocs.yml; `check` goes on without it
            pass
    default = resources.files("generator").joinpath("formats/mkdocs.default.yml").read_text("utf-8")
    extensions, configs = _extensions(yaml.safe_load(default)["markdown_extensions"])
    return SiteMarkdown(config.root / "docs", extensions, configs)


def snippets_settings(folder: Path, own: dict[str, Any], check_paths: bool) -> dict[str, Any]:
    """pymdownx.snippets' config: the site's own, reading only the facts folder, no URL."""
    return {
        **own, "base_path": [str(folder)], "restrict_base_path": True, "url_download": False,
        "check_paths": check_paths,
    }  # fmt: skip


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
    for name, text in generate(config, model).items():
        with mkdocs_gen_files.open(name, "w") as handle:
            handle.write(inert(text) if snippets and name.endswith(".md") else text)


def mkdocs_config_file(config: Config) -> Path:
    """The project's mkdocs.yml beside the config, or a default one made in the cache."""
    own = config.root / "mkdocs.yml"
    if own.is_file():
        return own
    folder = config.cache / "mkdocs"
    docs = folder / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    script = folder / "gen_pages.py"
    script.write_text("from generator.site import write_with_gen_files\n\nwrite_with_gen_files()\n")
    default = resources.files("generator").joinpath("formats/mkdocs.default.yml").read_text("utf-8")
    overrides = Path(str(resources.files("generator"))) / "render" / "overrides"
    values = {  # JSON strings are YAML strings: a title or a path cannot break the file
        "@TITLE@": html_title(config.title), "@SITE_DIR@": str(config.root / "site"),
        "@DOCS_DIR@": str(docs), "@SCRIPT@": str(script), "@OVERRIDES@": str(overrides),
        "@FACTS@": str(facts_folder(config)),
    }  # fmt: skip
    text = default
    for marker, value in values.items():
        # the title as it is (an emoji's JSON surrogate pair would not survive YAML's \u)
        shown = json.dumps(value, ensure_ascii=marker != "@TITLE@")
        text = text.replace(f'"{marker}"', shown)
    target = folder / "mkdocs.yml"
    target.write_text(text, encoding="utf-8")
    return target


def _overrides(config: Config, file: Path, check_paths: bool = True) -> dict[str, Any]:
    """What `build` and `serve` set over the mkdocs.yml they run: its Markdown extensions with
    pymdownx.snippets reading the facts folder (added when it lacks it: a guide's marker never
    stays literal text), and the site name of the project's own mkdocs.yml made safe as
    `html_title` makes the config's title (MkDocs and Material print `site_name` as HTML on
    every page; the default mkdocs.yml is written safe already)."""
    from mkdocs.utils.yaml import yaml_load

    try:
        with file.open("rb") as handle:  # as MkDocs reads it: its tags, INHERIT
            data = yaml_load(handle)
        entries = data.get("markdown_extensions") or []
        if isinstance(entries, dict):  # MkDocs takes a mapping too
            entries = [{name: value} for name, value in entries.items()]
        own = next(
            (e[SNIPPETS] or {} for e in entries if isinstance(e, dict) and SNIPPETS in e), {}
        )
        extensions = [
            e for e in entries if e != SNIPPETS and not (isinstance(e, dict) and SNIPPETS in e)
        ]
        extensions.append({SNIPPETS: snippets_settings(facts_folder(config), own, check_paths)})
    except Exception:  # MkDocs reports a broken mkdocs.yml itself
        return {}
    overrides: dict[str, Any] = {"markdown_extensions": extensions}
    name = data.get("site_name")
    if file == config.root / "mkdocs.yml" and isinstance(name, str):
        overrides["site_name"] = html_title(name)
    return overrides


def _show_mkdocs_log() -> None:
    """MkDocs' warnings on stderr, as `mkdocs build` would show them."""
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_pipeline_docs", False) for h in logger.handlers):
        handler = logging.StreamHandler()
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


def build_site(
    config: Config,
    model: Model,
    site_dir: Path | None = None,
    strict: bool = True,
    check_paths: bool = True,
) -> list[str]:
    """An MkDocs build of the site, strict unless told; return MkDocs' warnings. Raises
    mkdocs' own exceptions on failure (in strict mode, on any warning), and pymdownx.snippets'
    `SnippetMissingError` for a fact no file holds, unless `check_paths` is off (the marker
    then quotes nothing: for facts `check` found missing and reported)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config as load_mkdocs_config

    _show_mkdocs_log()
    os.environ[CONFIG_ENV] = str(config.file)
    _prepared[config.file] = model
    write_facts(facts_folder(config), guide_facts(model))
    warnings = _Warnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    try:
        file = mkdocs_config_file(config)
        mkdocs_config = load_mkdocs_config(
            config_file=str(file),
            strict=strict,
            site_dir=str(site_dir) if site_dir is not None else None,
            **_overrides(config, file, check_paths),
        )
        mkdocs_config.plugins.on_startup(command="build", dirty=False)
        try:
            build(mkdocs_config)
        finally:
            mkdocs_config.plugins.on_shutdown()
    finally:
        logger.removeHandler(warnings)
        _prepared.pop(config.file, None)
    return warnings.messages


def serve_site(config: Config, address: str) -> None:
    """MkDocs' development server over the site, rebuilt when inputs change."""
    from mkdocs.commands.serve import serve

    os.environ[CONFIG_ENV] = str(config.file)
    file = mkdocs_config_file(config)
    serve(config_file=str(file), dev_addr=address, strict=True, **_overrides(config, file))
