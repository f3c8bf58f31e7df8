"""Dead links in the guides: a link from a hand-written page of docs/ to a page or an anchor the
site will not have, found the way MkDocs finds them.

Pages are rendered by Python-Markdown with the site's own extensions; a page's anchors are the
ids of its HTML, and a guide's links are those of the parsed document (what MkDocs checks), so
neither a code span nor a fenced block is mistaken for a link. pymdownx.snippets is left out: a
guide's facts are put in place from memory (`facts.expand`), so nothing but them is read.
"""

from __future__ import annotations

import difflib
import html.parser
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

import markdown  # type: ignore[import-untyped]  # no type stubs installed
from markdown.util import AMP_SUBSTITUTE  # type: ignore[import-untyped]

from ..config import Config
from ..facts import expand
from ..model import Finding, Severity
from ..site import SiteMarkdown, site_markdown
from ..siteconfig import SNIPPETS

RULE = "docs/dead-link"


@dataclass(frozen=True)
class DeadLink:
    """A link of a guide to nothing: the guide as MkDocs names it (relative to the docs folder),
    the link as written, and the finding that reports it."""

    page: str
    link: str
    finding: Finding


class _Links:
    """A tree processor: every link and image of the parsed document, in order (what MkDocs'
    own link check sees)."""

    def __init__(self) -> None:
        self.links: list[str] = []

    def run(self, root: ElementTree.Element) -> None:
        for element in root.iter():
            target = element.get("href") if element.tag == "a" else None
            if element.tag == "img":
                target = element.get("src")
            if target is not None:
                self.links.append(target)


class _Ids(html.parser.HTMLParser):
    """The anchors of an HTML text: every `id`, and the `name` of an `<a>`, as MkDocs counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (key == "name" and tag == "a")):
                self.ids.add(value)


class _Site:
    """The pages of the site (generated, then hand-written) and their anchors, rendered once."""

    def __init__(
        self,
        settings: SiteMarkdown,
        pages: dict[str, str],
        files: set[str],
        facts: Mapping[str, str],
    ) -> None:
        self.settings = settings
        self.extensions = [e for e in settings.extensions if e != SNIPPETS]
        self.pages = pages
        self.files = files | set(pages)
        self.facts = facts
        self.anchors: dict[str, set[str]] = {}  # by page, rendered when first asked for

    def render(self, text: str) -> tuple[set[str], list[str]]:
        """The anchors and the links of a page's Markdown."""
        md = markdown.Markdown(extensions=self.extensions, extension_configs=self.settings.configs)
        links = _Links()
        md.treeprocessors.register(links, "pipeline_docs_links", 0)  # where MkDocs looks
        parser = _Ids()
        parser.feed(md.convert(text))
        parser.close()
        return parser.ids, links.links

    def ids(self, page: str) -> set[str]:
        """The anchors of a page of the site (a generated one replaces a hand-written one)."""
        if page not in self.anchors:
            text = self.pages.get(page)
            if text is None:
                try:
                    text = expand((self.settings.docs / page).read_text("utf-8"), self.facts)
                except (OSError, UnicodeDecodeError):
                    text = ""
            self.anchors[page] = self.render(text)[0]
        return self.anchors[page]


def _hand_written(docs: Path) -> set[str]:
    """Every file of the docs folder, relative to it; dot files are not part of a site."""
    if not docs.is_dir():
        return set()
    return {
        path.relative_to(docs).as_posix()
        for path in docs.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(docs).parts)
    }


def guide_pages(docs: Path, pages: Mapping[str, str]) -> list[str]:
    """The guides: the hand-written Markdown pages of the docs folder, relative to it, that no
    generated page replaces (`generate --out docs` may have written some there)."""
    return sorted(f for f in _hand_written(docs) if f.endswith(".md") and f not in pages)


def _relative(target: str, page: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page) or ".")


def _problem(site: _Site, page: str, ids: set[str], link: str) -> tuple[str, str] | None:
    """What is wrong with one link of a guide (message, hint), or None when it leads somewhere."""
    parts = urlsplit(link)
    if parts.scheme or parts.netloc or link.startswith(("/", "\\")) or AMP_SUBSTITUTE in link:
        return None  # external, mailto, or absolute: not a page of the docs folder
    if not parts.path:
        if not parts.fragment or parts.fragment in ids:
            return None
        return _missing_anchor(link, "", "this page", ids)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path)))
    if target not in site.files:
        if f"{target}/index.md" in site.files:
            index = _relative(f"{target}/index.md", page)
            return f"{link}: {target}/ is a folder, not a page", f"link to its page: {index!r}"
        what = "page" if target.endswith(".md") else "file"
        others = sorted(f for f in site.files if f.endswith(".md") == (what == "page"))
        close = difflib.get_close_matches(target, others, n=1)
        hint = (
            f"did you mean {_relative(close[0], page)!r}?"
            if close
            else f"link to a {what} of the site by its path relative to this guide"
        )
        return f"{link}: {target} is not a {what} of the site", hint
    if not parts.fragment or not target.endswith(".md") or parts.fragment in site.ids(target):
        return None
    return _missing_anchor(link, parts.path, target, site.ids(target))


def _missing_anchor(link: str, path: str, page: str, ids: set[str]) -> tuple[str, str]:
    anchor = urlsplit(link).fragment
    close = difflib.get_close_matches(anchor, sorted(ids), n=1)
    hint = (
        f"did you mean {path + '#' + close[0]!r}?"
        if close
        else f"link to an anchor {page} has: the permalink of one of its headings or options"
    )
    return f"{link}: there is no anchor #{anchor} on {page}", hint


def _line_of(lines: list[str], link: str, nth: int) -> int | None:
    """The line of the nth use of a link in a guide's source, as a link first, else as text."""
    for needle in (f"]({link}", f"]: {link}", f"<{link}>", link):
        found = [number for number, text in enumerate(lines, 1) if needle in text]
        if found:
            return found[min(nth, len(found) - 1)]
    return None


def dead_links(
    config: Config, pages: dict[str, str], facts: Mapping[str, str] | None = None
) -> list[DeadLink]:
    """Every link of a guide (a hand-written page of docs/) to a page or anchor the site lacks;
    `facts` are those the guides quote (`facts.guide_facts`), rendered in their place."""
    settings = site_markdown(config)
    files = _hand_written(settings.docs)
    site = _Site(settings, pages, files, facts or {})
    found: list[DeadLink] = []
    for page in guide_pages(settings.docs, pages):
        path = settings.docs / page
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        ids, links = site.render(expand(text, site.facts))
        site.anchors.setdefault(page, ids)
        lines, seen = text.splitlines(), dict[str, int]()
        for link in links:
            problem = _problem(site, page, ids, link)
            nth = seen[link] = seen.get(link, -1) + 1
            if problem is None:
                continue
            message, hint = problem
            line = _line_of(lines, link, nth)
            finding = Finding(RULE, Severity.ERROR, config.display(path), line, message, hint)
            found.append(DeadLink(page, link, finding))
    return found


def dead_link_findings(
    config: Config, pages: dict[str, str], facts: Mapping[str, str] | None = None
) -> list[Finding]:
    """A `docs/dead-link` finding per link of a guide to a page or anchor the site lacks;
    `pages` are the generated ones (`generate`'s result)."""
    return [dead.finding for dead in dead_links(config, pages, facts)]


def replaced_pages(config: Config, pages: Mapping[str, str]) -> list[Finding]:
    """A `docs/replaced-page` finding per hand-written page of the docs folder that a generated
    page of the same path replaces (mkdocs-gen-files writes over it): never silently lost. A
    docs folder holding `catalog.json` has had `generate --out` written into it: its pages of
    generated paths are generated ones."""
    docs = site_markdown(config).docs
    if (docs / "catalog.json").is_file():
        return []
    return [
        Finding(
            "docs/replaced-page", Severity.WARNING, config.display(docs / name), None,
            f"{name} is a page pipeline-docs generates: the generated one replaces this one",
            "rename it (guides go under guides/, which the home page lists)",
        )
        for name in sorted(_hand_written(docs) & set(pages))
        if name.endswith(".md")
    ]  # fmt: skip
