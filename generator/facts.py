"""Facts the guides quote: small files of the generated data, read by pymdownx.snippets.

A guide quotes a fact on a line of its own, `--8<-- "option/service/deploy.replicas/default.md"`,
and pymdownx.snippets puts the fact in its place when MkDocs renders the guide, so the guide says
what the schemas, templates and environments say now. Facts come from the inputs: they are
rendered through the page filters (render/templates/facts.md.j2) and made inert, then written
into a folder of the cache, outside every docs folder (mkdocs-gen-files' pages live in memory,
where pymdownx.snippets cannot read them).

Names: `option/<schema>/<option anchor>/default.md`, `templates/list.md`,
`template/<template id>/include.md`, `environments/order.md`, `environments/production.md`;
each part is the id or anchor itself when it is a safe file name, else as `ids.page_name`
writes it. A fact holds no link: it cannot know which page quotes it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .analysis.promotion import promotion_order, stages
from .config import Config
from .ids import page_name
from .model import Model
from .render.jinja import make_environment
from .render.pages import template_usage  # the snippet a template's page starts with

FOLDER = "facts"  # in the cache
# pymdownx.snippets reads a marker in a line holding this (`--8<--`, `-8<-`, `;--8<--`...)
CUT = "-8<-"
# A fact quoted as a guide must quote it: alone on its line (indented, in a list or an
# admonition), the name in double quotes, nothing after it; a subset of what pymdownx.snippets
# reads as a marker, so what `check` accepts is what MkDocs includes.
MARKER = re.compile(r'(?P<indent>[ \t]*)--8<--[ \t]+"(?P<name>[^"\\]+)"')


def facts_folder(config: Config) -> Path:
    """The folder facts are written to, absolute (pymdownx.snippets' `base_path`)."""
    return Path(os.path.abspath(config.cache / FOLDER))


def _segment(text: str) -> str:
    """One part of a fact's name: an id or anchor as it is when it is a safe file name (capitals
    too: `page_name` would mark them), else as `page_name` writes it (never the same name)."""
    return text if page_name(text.lower()) == text.lower() else page_name(text)


def option_fact(schema_id: str, anchor: str) -> str:
    """The name of an option's default: `option/service/deploy.replicas/default.md`."""
    return f"option/{_segment(schema_id)}/{_segment(anchor)}/default.md"


def template_fact(template_id: str) -> str:
    """The name of a template's include snippet: `template/build/include.md`."""
    return f"template/{'/'.join(_segment(part) for part in template_id.split('/'))}/include.md"


def guide_facts(model: Model) -> dict[str, str]:
    """Every fact a guide can quote, by name; each inert (no line pymdownx.snippets obeys).

    A fact that reads as one line (a default, the order of the environments) has no line end, so
    that a marker between two lines of a sentence keeps the sentence one paragraph; one that is a
    block (a table, a code block) starts and ends with an empty line."""
    shown: Any = make_environment(model.limits).get_template("facts.md.j2").module  # its macros
    facts: dict[str, str] = {}
    for schema in model.schemas:
        for option in schema.options:
            if option.has_default:
                facts.setdefault(option_fact(schema.id, option.anchor), shown.default(option))
    facts["templates/list.md"] = shown.templates(model.templates)
    for template in model.templates:
        facts.setdefault(template_fact(template.id), shown.include(template_usage(template)))
    stage = stages(model)
    order = promotion_order(model)
    steps = [[n for n in order if stage[n] == s] for s in sorted(set(stage.values()))]
    facts["environments/order.md"] = shown.order(steps)
    production = [e.name for e in model.environments if e.production]
    facts["environments/production.md"] = shown.names(production)
    return {name: inert(str(text)) for name, text in _without_clashes(facts).items()}


def _without_clashes(facts: dict[str, str]) -> dict[str, str]:
    """The facts less those whose name is a folder of another's (a template `a` and one
    `a/include.md`): a file system cannot hold both."""
    folders = {name.rsplit("/", i)[0] for name in facts for i in range(1, name.count("/") + 1)}
    return {name: text for name, text in facts.items() if name not in folders}


def write_facts(folder: Path, facts: Mapping[str, str]) -> None:
    """The facts as files of `folder`: those changed written, those gone removed (a guide must
    never quote a fact the inputs no longer have)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.rglob("*"), reverse=True):  # what a folder holds before it
        if path.is_symlink() or (
            path.is_file() and path.relative_to(folder).as_posix() not in facts
        ):
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for name, text in sorted(facts.items()):
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8", newline="\n")


@dataclass(frozen=True)
class Quote:
    """A line of a guide that pymdownx.snippets would act on: the fact it names, or None when
    it is no marker a guide may use (inside a sentence it stays literal text on the page)."""

    line: int  # 1-based
    text: str  # the line as written
    name: str | None
    indent: str = ""


def quotes(text: str) -> Iterator[Quote]:
    """Every line of a guide's Markdown that quotes a fact, or holds `-8<-` anywhere else."""
    for number, line in enumerate(_lines(text), 1):
        if CUT not in line:
            continue
        found = MARKER.fullmatch(line)
        if found is None:
            yield Quote(number, line, None)
        else:  # as pymdownx.snippets reads the name
            yield Quote(number, line, found["name"].strip(), found["indent"])


def expand(text: str, facts: Mapping[str, str]) -> str:
    """A guide with each marker replaced by its fact, indented as the marker is, as
    pymdownx.snippets does (a missing fact quotes nothing); for checks that render guides
    without reading files."""
    lines = _lines(text)
    for quote in sorted(quotes(text), key=lambda q: -q.line):
        if quote.name is not None:
            fact = facts.get(quote.name, "")
            indent = quote.indent.expandtabs(4)
            lines[quote.line - 1 : quote.line] = [indent + f for f in fact.split("\n") if fact]
    return "\n".join(lines)


def _lines(text: str) -> list[str]:
    """The lines Python-Markdown hands its preprocessors: STX and ETX gone, every line end one."""
    text = text.replace("\x02", "").replace("\x03", "")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


# What pymdownx.snippets obeys (its RE_ALL_SNIPPETS and RE_SNIPPET_SECTION), matched piece by
# piece from fixed places, so that no expression scans a run of dashes more than once.
_LEAD = re.compile(r"[ \t]*;*")  # indentation, then `;`, pymdownx.snippets' escape
_CUT = re.compile(r"-+8<-+")
_GAP = re.compile(r"[ \t]+")
_SECTION = re.compile(r"8<-+[ \t]+\[[ \t]*(?:start|end)[ \t]*:[ \t]*[a-z][-_0-9a-z]*[ \t]*\]", re.I)


def _whole_line(line: str) -> int | None:
    """Where to escape a line pymdownx.snippets reads as a marker: a lone `--8<--` (a block of
    paths) or `--8<-- "path"` alone; None for any other line."""
    start = _LEAD.match(line)
    assert start is not None  # it matches the empty string
    cut = _CUT.match(line, start.end())
    if cut is None:
        return None
    if cut.end() == len(line):
        return len(line) - len(line.lstrip(" \t"))
    gap = _GAP.match(line, cut.end())
    quoted = line[gap.end() :] if gap else ""
    if len(quoted) < 3 or quoted[0] not in "\"'" or quoted[-1] != quoted[0]:
        return None
    inner = quoted[1:-1]  # a quote inside must follow a backslash
    if any(c == quoted[0] and (i == 0 or inner[i - 1] != "\\") for i, c in enumerate(inner)):
        return None
    return len(line) - len(line.lstrip(" \t"))


def section_marker(line: str) -> int | None:
    """Where to escape the first section marker of a line (`--8<-- [start:name]`), which
    pymdownx.snippets would take out with the whole line; None when there is none."""
    at = line.find("8<-")
    while at != -1:
        dashes = at
        while dashes > 0 and line[dashes - 1] == "-":
            dashes -= 1
        if dashes < at and _SECTION.match(line, at):
            while dashes > 0 and line[dashes - 1] == ";":
                dashes -= 1
            return dashes
        at = line.find("8<-", at + 3)
    return None


def inert(text: str) -> str:
    """Markdown in which pymdownx.snippets finds nothing to obey: each line it would read as a
    marker gets one more `;` (its escape, which it takes off again), so a value shows as it is,
    in a code block too; other lines stay as they are."""
    if "8<-" not in text:
        return text
    out = []
    for line in _lines(text):
        at = None if CUT not in line else _whole_line(line)
        at = section_marker(line) if at is None and CUT in line else at
        out.append(line if at is None else f"{line[:at]};{line[at:]}")
    return "\n".join(out)
