"""What the guides quote: a marker naming a fact the generated data lacks (an option a schema no
longer has, a template gone), or one pymdownx.snippets would leave as literal text on the page.

Checked without MkDocs, against the facts in memory (`facts.guide_facts`): `check` and `build`
report the same findings, each at the guide's line, and `build` never meets a missing snippet.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ..config import Config
from ..facts import Quote, quotes, section_marker
from ..model import Finding, Severity
from ..site import site_markdown
from .links import guide_pages

RULE = "docs/missing-fact"
KINDS = (
    "`option/<schema>/<option anchor>/default.md`, `templates/list.md`, "
    "`template/<template>/include.md`, `environments/order.md`, `environments/production.md`"
)


def _problem(quote: Quote, facts: Mapping[str, str]) -> tuple[str, str] | None:
    """What is wrong with one quote of a guide (message, hint), or None when it names a fact."""
    if quote.name is None:
        return _literal(quote.text), (
            'quote a fact alone on its line, the name in double quotes: `--8<-- "templates/list.md"`'
        )
    if quote.name in facts:
        return None
    return f"quotes `{quote.name}`, a fact the generated data does not have", _hint(
        quote.name, facts
    )


def _literal(line: str) -> str:
    """What pymdownx.snippets would make of a line holding `-8<-` that is no fact marker."""
    if line.strip(" \t").strip("-") == "8<":
        return (
            "`--8<--` alone opens a block of snippet paths: the lines up to the next one are lost"
        )
    if section_marker(line) is not None:
        return "`--8<-- [start:…]` is a snippet section marker: the page would lose the whole line"
    return "`--8<--` is no fact marker here: the page would show it as text"


def _hint(name: str, facts: Mapping[str, str]) -> str:
    """The fact of the same kind whose name is closest (a typo, an option renamed), compared
    on what sets facts of one kind apart (`service/deploy.replicas`, not the whole name)."""
    kind, _, rest = name.partition("/")
    middle, _, leaf = rest.rpartition("/")
    same = {
        n.partition("/")[2].rpartition("/")[0]: n
        for n in facts
        if n.startswith(f"{kind}/") and n.endswith(f"/{leaf}")
    }
    close = difflib.get_close_matches(middle, sorted(same), n=1, cutoff=0.85)
    if close:
        return f"did you mean `{same[close[0]]}`?"
    if kind == "option":
        return (
            "the option has no default now, or is gone (`pipeline-docs schema-diff` says which): "
            "quote another fact, or drop the marker"
        )
    return f"quote a fact the generator writes: {KINDS}"


def missing_facts(
    config: Config, pages: Mapping[str, str], facts: Mapping[str, str]
) -> list[Finding]:
    """A `docs/missing-fact` finding per marker of a guide that names no fact, or that
    pymdownx.snippets would leave as text; `pages` are the generated ones, `facts` the facts."""
    docs = site_markdown(config).docs
    found = []
    for page in guide_pages(docs, pages):
        path = docs / page
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for quote in quotes(text):
            problem = _problem(quote, facts)
            if problem is not None:
                message, hint = problem
                file = config.display(path)
                found.append(Finding(RULE, Severity.ERROR, file, quote.line, message, hint))
    return found
