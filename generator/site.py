"""The MkDocs side: the gen-files hook, and `build`/`serve` around MkDocs' own commands.

The core (`generate`) knows nothing of MkDocs; this module is the thin adapter. A model already
collected by `build` is handed to the gen-files script, so inputs are read once per build.
"""

from __future__ import annotations

import json
import logging
import os
from importlib import resources
from pathlib import Path

from .config import Config, load_config
from .generate import generate
from .model import Model

CONFIG_ENV = "PIPELINE_DOCS_CONFIG"
_prepared: dict[Path, Model] = {}


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
        "@TITLE@": config.title, "@SITE_DIR@": str(config.root / "site"), "@DOCS_DIR@": str(docs),
        "@SCRIPT@": str(script), "@OVERRIDES@": str(overrides),
    }  # fmt: skip
    text = default
    for marker, value in values.items():
        text = text.replace(f'"{marker}"', json.dumps(value))
    target = folder / "mkdocs.yml"
    target.write_text(text)
    return target


def _show_mkdocs_log() -> None:
    """MkDocs' warnings on stderr, as `mkdocs build` would show them."""
    logger = logging.getLogger("mkdocs")
    if not any(getattr(h, "_pipeline_docs", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        handler.setLevel(logging.WARNING)
        handler._pipeline_docs = True  # type: ignore[attr-defined]
        logger.addHandler(handler)


def build_site(config: Config, model: Model, site_dir: Path | None = None) -> None:
    """A strict MkDocs build of the site; raises mkdocs' own exceptions on failure."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config as load_mkdocs_config

    _show_mkdocs_log()
    os.environ[CONFIG_ENV] = str(config.file)
    _prepared[config.file] = model
    try:
        mkdocs_config = load_mkdocs_config(
            config_file=str(mkdocs_config_file(config)),
            strict=True,
            site_dir=str(site_dir) if site_dir is not None else None,
        )
        mkdocs_config.plugins.on_startup(command="build", dirty=False)
        try:
            build(mkdocs_config)
        finally:
            mkdocs_config.plugins.on_shutdown()
    finally:
        _prepared.pop(config.file, None)


def serve_site(config: Config, address: str) -> None:
    """MkDocs' development server over the site, rebuilt when inputs change."""
    from mkdocs.commands.serve import serve

    os.environ[CONFIG_ENV] = str(config.file)
    serve(config_file=str(mkdocs_config_file(config)), dev_addr=address, strict=True)
