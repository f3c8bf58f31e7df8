"""The MkDocs side: the gen-files hook, and `build`/`serve` around MkDocs' own commands.

The core (`generate`) knows nothing of MkDocs; this module is the thin adapter. A model already
collected by `build` is handed to the gen-files script, so inputs are read once per build.
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

from .config import Config, load_config
from .generate import generate
from .model import Model
from .render.pages import html_title

CONFIG_ENV = "PIPELINE_DOCS_CONFIG"
MKDOCS_BUILTINS = ["toc", "tables", "fenced_code"]  # MkDocs adds these to every site's list
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


def generated_pages() -> dict[str, str]:
    """The pages for the gen-files script: from the config `build` named, else ./pipeline-docs.yml."""
    config = load_config(os.environ.get(CONFIG_ENV, "pipeline-docs.yml"))
    return generate(config, _prepared.get(config.file))


def write_with_gen_files() -> None:
    """Write every generated page through mkdocs-gen-files (the docs/ script calls this)."""
    import mkdocs_gen_files

    for name, text in generated_pages().items():
        with mkdocs_gen_files.open(name, "w") as handle:
            handle.write(text)


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
    }  # fmt: skip
    text = default
    for marker, value in values.items():
        # the title as it is (an emoji's JSON surrogate pair would not survive YAML's \u)
        shown = json.dumps(value, ensure_ascii=marker != "@TITLE@")
        text = text.replace(f'"{marker}"', shown)
    target = folder / "mkdocs.yml"
    target.write_text(text, encoding="utf-8")
    return target


def _site_name(config: Config) -> dict[str, Any]:
    """The site name of the project's own mkdocs.yml made safe as `html_title` makes the
    config's title (MkDocs and Material print `site_name` as HTML on every page), as an
    override for MkDocs' config; nothing for the default mkdocs.yml, written safe already."""
    from mkdocs.utils.yaml import yaml_load

    own = config.root / "mkdocs.yml"
    if not own.is_file():
        return {}
    try:
        with own.open("rb") as handle:  # as MkDocs reads it: its tags, INHERIT
            name = yaml_load(handle).get("site_name")
    except Exception:  # MkDocs reports a broken mkdocs.yml itself
        return {}
    return {"site_name": html_title(name)} if isinstance(name, str) else {}


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
    config: Config, model: Model, site_dir: Path | None = None, strict: bool = True
) -> list[str]:
    """An MkDocs build of the site, strict unless told; return MkDocs' warnings. Raises
    mkdocs' own exceptions on failure (in strict mode, on any warning)."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config as load_mkdocs_config

    _show_mkdocs_log()
    os.environ[CONFIG_ENV] = str(config.file)
    _prepared[config.file] = model
    warnings = _Warnings()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(warnings)
    try:
        mkdocs_config = load_mkdocs_config(
            config_file=str(mkdocs_config_file(config)),
            strict=strict,
            site_dir=str(site_dir) if site_dir is not None else None,
            **_site_name(config),
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
    serve(
        config_file=str(mkdocs_config_file(config)),
        dev_addr=address,
        strict=True,
        **_site_name(config),
    )
