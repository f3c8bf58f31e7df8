"""Generated pages as a browser would get them from MkDocs' Markdown pass, as a small tree to
query in tests: `dom(page)` converts with the extensions `generate`'s output needs."""

from __future__ import annotations

import html.parser
from dataclasses import dataclass, field

import markdown

EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.details",
              "pymdownx.superfences", "toc"]  # fmt: skip
VOID = {"br", "hr", "img", "input", "meta", "link", "col"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def all(self, tag: str, **attrs: str) -> list[Element]:
        """Every element below this one with this tag (`*` for any) and these attributes
        (`class_` matches one class of the element)."""
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if (tag in ("*", child.tag)) and _matches(child, attrs):
                found.append(child)
            found.extend(child.all(tag, **attrs))
        return found

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]


def _matches(element: Element, attrs: dict[str, str]) -> bool:
    for key, value in attrs.items():
        if key == "class_":
            if value not in element.attrs.get("class", "").split():
                return False
        elif element.attrs.get(key.replace("_", "-")) != value:
            return False
    return True


class _Builder(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def dom(page: str) -> Element:
    """A generated page (front matter and all) as the tree of its HTML."""
    if page.startswith("---\n"):
        page = page[page.index("\n---\n", 3) + 5 :]
    builder = _Builder()
    builder.feed(markdown.markdown(page, extensions=EXTENSIONS))
    builder.close()
    return builder.root
