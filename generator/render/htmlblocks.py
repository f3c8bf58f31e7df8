"""A Python-Markdown extension: the generated pages' big HTML blocks passed through unread.

The catalog's tables (a service's history, an environment's services, the matrix) and the
pictures are raw HTML, every value in them escaped by the `html*` filters. Python-Markdown
would still parse each of their tags (md_in_html's HTML parser, in pure Python: most of the time
MkDocs spent on a service page). A template puts such a block between two comment lines,
`BEGIN` and `END`; this extension's preprocessor, run after the fenced code blocks are put
aside and before the HTML blocks are parsed, stores what is between them in Markdown's HTML
stash as it is, like any raw HTML block, without parsing it.

Without the extension (an engine that does not load it), the comments are HTML comments and the
block between them is parsed as before: the page reads the same. A value cannot write a marker:
every filter escapes `<`, and a marker counts only as a whole line.

`build` goes further for a block that search skips (`data-search-exclude` on its first line):
while a page converts between `defer()` and `deferred()`, such a block is kept aside and a
numbered comment stands in its place, so the search plugin never parses it (most of a service
page's HTML is its history and timeline); `restore` puts it back into the page's final HTML.
The page's bytes are the same either way.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from markdown import Markdown  # type: ignore[import-untyped]  # no type stubs installed
from markdown.extensions import Extension  # type: ignore[import-untyped]
from markdown.preprocessors import Preprocessor  # type: ignore[import-untyped]

BEGIN = "<!-- pipeline-docs: html -->"
END = "<!-- /pipeline-docs: html -->"
# after fenced code (superfences and fenced_code, 25) is stashed, before html_block (20)
PRIORITY = 22
_SEARCH_SKIPS = " data-search-exclude"  # on a block's first line: search would not index it
_DEFERRED = re.compile(r"<!-- pipeline-docs: deferred (\d+) -->")
_deferred: ContextVar[list[str] | None] = ContextVar("pipeline_docs_deferred", default=None)


def defer() -> None:
    """From now on, blocks search skips are kept aside (for the page converted next)."""
    _deferred.set([])


def deferred() -> list[str]:
    """The blocks kept aside since `defer()`, which stops keeping them."""
    blocks = _deferred.get() or []
    _deferred.set(None)
    return blocks


def pending() -> list[str]:
    """The blocks kept aside since `defer()` so far, which go on being kept aside."""
    return list(_deferred.get() or [])


def restore(html: str, blocks: list[str]) -> str:
    """The page's HTML with each block kept aside back in its place."""
    if not blocks:
        return html

    def block(found: re.Match[str]) -> str:
        index = int(found[1])
        return blocks[index] if index < len(blocks) else found[0]

    return _DEFERRED.sub(block, html)


class _Blocks(Preprocessor):  # type: ignore[misc]  # Preprocessor is untyped
    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        block: list[str] | None = None
        for line in lines:
            if block is None:
                if line == BEGIN:
                    block = []
                else:
                    out.append(line)
            elif line == END:
                html = "\n".join(block).strip("\n")
                aside = _deferred.get()
                if aside is not None and _SEARCH_SKIPS in html.split("\n", 1)[0]:
                    aside.append(html)
                    html = f"<!-- pipeline-docs: deferred {len(aside) - 1} -->"
                if html:
                    out += ["", self.md.htmlStash.store(html), ""]
                block = None
            else:
                block.append(line)
        if block is not None:  # never closed: the lines as they were, for Markdown to read
            out += [BEGIN, *block]
        return out


class HtmlBlocks(Extension):  # type: ignore[misc]  # Extension is untyped
    """Blocks between `BEGIN` and `END` lines go to the output as they are."""

    def extendMarkdown(self, md: Markdown) -> None:
        md.preprocessors.register(_Blocks(md), "pipeline_docs_html", PRIORITY)


def makeExtension(**kwargs: Any) -> HtmlBlocks:  # the name Markdown looks up
    return HtmlBlocks(**kwargs)
