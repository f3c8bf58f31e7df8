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
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown  # type: ignore[import-untyped]  # no type stubs installed
from markdown.extensions import Extension  # type: ignore[import-untyped]
from markdown.preprocessors import Preprocessor  # type: ignore[import-untyped]

BEGIN = "<!-- pipeline-docs: html -->"
END = "<!-- /pipeline-docs: html -->"
NAME = "generator.render.htmlblocks"  # as mkdocs.yml names the extension
# after fenced code (superfences and fenced_code, 25) is stashed, before html_block (20)
PRIORITY = 22


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
