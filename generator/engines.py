"""The engines a site is built with, from the same mkdocs.yml.

- **MkDocs** 1.6: `build` runs it in this process (`site.build_site`).
- **ProperDocs**, the maintained continuation of MkDocs 1.x: the same build in a child process
  of this Python in which every `mkdocs.*` import is ProperDocs' own module (its
  `properdocs.replacement`, as the `properdocs` command does), so the theme, the plugins and ours
  run on it unchanged. A child, because a process that has imported MkDocs cannot switch.
- **Zensical**, which runs no MkDocs plugin: it builds what `generate --out DIR` wrote, with the
  `mkdocs.yml` that `generate` writes beside DIR (`generated_mkdocs`): relative paths only, no
  gen-files script, no theme folder of this machine.
"""

from __future__ import annotations

import importlib.util
import logging
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from .config import Config

ENGINES = ("mkdocs", "properdocs")
GENERATED_MARK = "# Made by `pipeline-docs generate`"  # the first line of the mkdocs.yml it writes
_GENERATED_NOTE = "# for the folder of pages beside it: `zensical build` (or `mkdocs build`) here"


def aliased() -> bool:
    """Whether `mkdocs.*` is ProperDocs in this process (the child `run_child` starts)."""
    return "properdocs.replacement" in sys.modules


def missing(engine: str) -> str | None:
    """Why `engine` cannot run here, or None when it can."""
    if engine == "properdocs" and importlib.util.find_spec("properdocs") is None:
        return "ProperDocs is not installed: pip install 'properdocs>=1.6.7,<2'"
    return None


def logger_name() -> str:
    """The logger the running engine reports its warnings on (ProperDocs takes MkDocs' one,
    which Material and other plugins log to, as a child of its own, as its command does)."""
    return "properdocs" if aliased() else "mkdocs"


def run_child(engine: str, args: list[str]) -> int:
    """`pipeline-docs ARGS` in a child process running on `engine`; its exit code. Its output is
    this process's: the child writes the findings and the last line."""
    command = [sys.executable, "-m", "generator.engines", engine, *args]
    code = subprocess.run(command, check=False).returncode
    return code if code >= 0 else 1  # killed by a signal: a failed build


def _adopt_mkdocs_logger() -> None:
    """MkDocs' logger as a child of ProperDocs' (what its own command sets up), so a warning a
    plugin logs there counts in strict mode."""
    parent = logging.getLogger("properdocs")
    legacy = logging.getLogger("mkdocs")
    legacy.parent = parent
    legacy.propagate = True


def made_by_generate(file: Path) -> bool:
    """Whether this mkdocs.yml is the one `generate` wrote for its output (`build` and `serve`
    do not take it for the project's own)."""
    try:
        with file.open("rb") as handle:
            return handle.readline().rstrip(b"\r\n") == GENERATED_MARK.encode()
    except OSError:
        return False


@dataclass(frozen=True)
class GeneratedConfig:
    """The mkdocs.yml `generate` writes beside its output, or why it did not."""

    file: Path
    written: bool
    why: str = ""


def generated_mkdocs(config: Config, out: Path) -> GeneratedConfig:
    """Write `mkdocs.yml` beside the folder `out` (docs_dir: `out`'s name; site_dir: `site`),
    so that `zensical build` or `mkdocs build` turns `generate`'s output into a site. A
    mkdocs.yml there that `generate` did not write is left as it is."""
    folder = out.resolve()
    target = folder.parent / "mkdocs.yml"
    holds = [Path.cwd().resolve(), config.root.resolve()]
    if folder.parent == folder or any(folder == p or folder in p.parents for p in holds):
        return GeneratedConfig(
            target, False, "the output folder is (or holds) the project's or the current folder: "
            "give --out a folder of its own to get one",
        )  # fmt: skip
    if target.exists() and not made_by_generate(target):
        return GeneratedConfig(target, False, f"{target.name} there is not one it wrote")
    text = _generated_text(config.title, folder.name)
    try:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
    except OSError as error:
        return GeneratedConfig(target, False, f"cannot write it: {error.strerror}")
    return GeneratedConfig(target, True)


def _generated_text(title: str, docs: str) -> str:
    """The mkdocs.yml of a `generate` output: the default one's theme, Markdown, nav and
    not_in_nav, without its plugins (the pages are there already) and its paths of this
    machine (the theme's partial, the facts folder); dumped by PyYAML, so a title or a folder
    name cannot break the file."""
    from .render import htmlblocks
    from .render.pages import html_title
    from .siteconfig import SNIPPETS, default_mkdocs

    default = default_mkdocs()
    theme = {k: v for k, v in default["theme"].items() if k != "custom_dir"}
    # without pymdownx.snippets (no facts folder here) and the package's own extension (an engine
    # installed apart from pipeline-docs cannot import it; without it the pages read the same,
    # their big HTML blocks parsed by Markdown instead of passed through)
    ours = (SNIPPETS, htmlblocks.__name__)
    extensions = [
        e for e in default["markdown_extensions"]
        if not (e in ours or (isinstance(e, dict) and any(name in e for name in ours)))
    ]  # fmt: skip
    data = {
        "site_name": html_title(title), "docs_dir": docs, "site_dir": "site", "theme": theme,
        "extra_css": default["extra_css"], "extra_javascript": default["extra_javascript"],
        "markdown_extensions": extensions, "nav": default["nav"],
        "not_in_nav": default["not_in_nav"],
    }  # fmt: skip
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return f"{GENERATED_MARK}\n{_GENERATED_NOTE}\n{body}"


def _child() -> None:
    """`python -m generator.engines ENGINE ARGS...`: `pipeline-docs ARGS` on ENGINE."""
    engine, args = sys.argv[1], sys.argv[2:]
    if engine != "properdocs":
        raise SystemExit(f"unknown engine {engine!r}")
    import properdocs.replacement  # noqa: F401  # every mkdocs.* import is ProperDocs from here

    _adopt_mkdocs_logger()
    from .cli import main

    main(args, prog_name="pipeline-docs")


if __name__ == "__main__":
    _child()
