"""Descriptions through a real parser and a sanitiser: whatever a description says, the page MkDocs
makes of it holds no element, attribute or URL scheme outside the allow-list.

Each case is rendered by the `md`/`md_inline` filters, put where the templates put it (a block of
its own, an admonition's body, a table cell), rendered again as MkDocs renders a page (the
extensions of the repo's mkdocs.yml; and a wider set a user's site might have, snippets
included), and the result parsed with html.parser and checked element by element.
"""

from __future__ import annotations

import html.parser
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from conftest import REPO, render_schema_folder, write
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.limits import Limits
from generator.render.jinja import inline_markdown, make_environment
from generator.render.jinja import markdown as md

# The allow-list, written out again here so that the test does not trust the code it checks.
TAGS = {
    "p", "a", "code", "pre", "em", "strong", "ul", "ol", "li", "blockquote", "br", "hr", "div",
    "span", "details", "summary", "del", "sup", "sub", "table", "thead", "tbody", "tr", "th", "td",
    "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
INLINE_TAGS = {"a", "code", "em", "strong", "br", "del", "sup", "sub"}
ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "div": {"class"},
    "p": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "details": {"class", "open"},
}
ADMONITION_TYPES = (
    "note abstract summary tldr info todo tip hint important success check done question help "
    "faq warning caution attention failure fail missing danger error bug example quote cite"
)
ADMONITIONS = set(ADMONITION_TYPES.split(" "))
CLASSES = {
    "div": ADMONITIONS | {"admonition", "highlight"},
    "p": {"admonition-title"},
    "pre": {"highlight"},
    "details": ADMONITIONS,
}
SCHEMES = {"http", "https", "mailto"}
SECRET = "TOP-SECRET-FILE-CONTENT"


def site_extensions() -> tuple[list[str], dict[str, Any]]:
    """The Markdown extensions of the repo's mkdocs.yml, with the ones MkDocs always adds."""
    data = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    names: list[str] = []
    configs: dict[str, Any] = {}
    for item in data["markdown_extensions"]:
        if isinstance(item, dict):
            [(name, config)] = item.items()
            names.append(name)
            configs[name] = config or {}
        else:
            names.append(item)
    for builtin in ("toc", "tables", "fenced_code"):
        if builtin not in names:
            names.append(builtin)
    assert {"attr_list", "md_in_html", "tables", "admonition", "pymdownx.details"} <= set(names)
    assert {"pymdownx.superfences", "toc"} <= set(names)
    return names, configs


# What a user's own mkdocs.yml may add: every extension that gives characters a meaning inline,
# and snippets, which reads files.
WIDE = [
    "abbr", "def_list", "footnotes", "attr_list", "md_in_html", "tables", "admonition", "toc",
    "pymdownx.details", "pymdownx.superfences", "pymdownx.magiclink", "pymdownx.tilde",
    "pymdownx.caret", "pymdownx.mark", "pymdownx.betterem", "pymdownx.smartsymbols",
    "pymdownx.inlinehilite", "pymdownx.keys", "pymdownx.critic", "pymdownx.tasklist",
    "pymdownx.escapeall", "pymdownx.snippets",
]  # fmt: skip


@pytest.fixture(scope="module")
def passes(tmp_path_factory: pytest.TempPathFactory) -> list[markdown.Markdown]:
    """MkDocs' pass over a page: the site's extensions, and the wide set with snippets on."""
    base = tmp_path_factory.mktemp("snippets")
    for name in ("secret.txt", "x", "a", "file"):
        write(base / name, SECRET + "\n")
    names, configs = site_extensions()
    wide_configs = {"pymdownx.snippets": {"base_path": [str(base)], "check_paths": False}}
    return [
        markdown.Markdown(extensions=names, extension_configs=configs),
        markdown.Markdown(extensions=WIDE, extension_configs=wide_configs),
    ]


def page_of(description: str) -> str:
    """A page with the description wherever the templates put one."""
    block, inline = md(description), inline_markdown(description)
    assert "\n" not in block and "\n" not in inline
    assert "|" not in inline
    indented = textwrap.indent(block, "    ")
    return (
        f"{block}\n\n"
        f'<div class="admonition warning"><p class="admonition-title">Pitfall</p>{block}</div>\n\n'
        f'!!! warning "Deprecated"\n{indented}\n\n'
        f"| Option | Description |\n|---|---|\n| `a` | {inline} |\n| `b` | plain |\n\n"
        f"- {inline}\n- item\n\n"
        f"Closing text.\n"
    )


class Checker(html.parser.HTMLParser):
    """Every element, attribute and URL of the HTML, against the allow-list."""

    def __init__(self, tags: set[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = tags
        self.problems: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.allowed:
            self.problems.append(f"element <{tag}>")
        for name, value in attrs:
            if name not in ATTRIBUTES.get(tag, set()):
                self.problems.append(f"attribute {name} on <{tag}>")
            elif name == "class":
                for word in (value or "").split():
                    if word not in CLASSES.get(tag, set()) and not (
                        tag == "code" and re.fullmatch(r"language-[\w+#.-]+", word)
                    ):
                        self.problems.append(f"class {word} on <{tag}>")
            elif name == "href":
                squeezed = re.sub(r"[\x00-\x20\x7f]", "", value or "")
                scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", squeezed)
                if scheme and scheme.group(1).lower() not in SCHEMES:
                    self.problems.append(f"href {value!r}")
            elif name == "rel" and value != "noopener noreferrer":
                self.problems.append(f"rel {value!r}")
        if tag == "a" and "rel" not in dict(attrs):
            self.problems.append("a link without rel")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")


def problems(html_text: str, tags: set[str] = TAGS) -> list[str]:
    checker = Checker(tags)
    checker.feed(html_text)
    checker.close()
    found = checker.problems
    if SECRET in html_text:
        found.append("a snippet was read")
    return found


def second_pass(passes: list[markdown.Markdown], description: str) -> list[str]:
    """The HTML of the page in each pass, checked; the problems found (none expected)."""
    page = page_of(description)
    found = []
    for renderer in passes:
        rendered = renderer.reset().convert(page)
        found += problems(rendered)
    return found


def visible(passes: list[markdown.Markdown], description: str) -> str:
    """The text a reader sees of the page the site's own extensions make."""
    checker = Checker(TAGS)
    checker.feed(passes[0].reset().convert(page_of(description)))
    return "".join(checker.text)


HOSTILE = {
    "script": "Text <script>alert(1)</script> more",
    "script-block": "<script>\nalert(1)\n</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "img-markdown": "![x](https://evil.example/x.png) and ![y](x.png)",
    "svg": "<svg onload=alert(1)><circle/></svg>",
    "raw-link": '<a href="javascript:alert(1)" onclick="alert(2)">x</a>',
    "javascript-inline-link": "[x](javascript:alert(1))",
    "javascript-angle-link": "[x](<javascript:alert(1)>)",
    "javascript-titled-link": '[x](javascript:alert(1) "t")',
    "data-link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "vbscript-link": "[x](vbscript:msgbox(1))",
    "upper-case-scheme": "[x](JaVaScRiPt:alert(1))",
    "tab-in-scheme": "[x](java\tscript:alert(1))",
    "reference-definition": "[x][r]\n\n[r]: javascript:alert(1)",
    "reference-in-list": "- item\n\n    [r]: javascript:alert(1)\n\n    [x][r]",
    "reference-in-list-tight": "- [x][r]\n  [r]: javascript:alert(1)",
    "newline-in-target": "[x](java\nscript:alert(1))",
    "newline-in-angle-target": "[x](<java\nscript:alert(1)>)",
    "autolink": "<javascript:alert(1)> and <https://example.com> and <a@b.c>",
    "autolink-data": "<data:text/html,<script>alert(1)</script>>",
    "code-span-across-blank-line": "`a\n\n<script>alert(1)</script>\n\n`",
    "code-span-unclosed": "``a` <img src=x onerror=alert(1)>",
    "tilde-fences-mismatch": "~~~\ncode\n~~~~\n<script>alert(1)</script>\n~~~",
    "backtick-fences-mismatch": "````\ncode\n```\n<script>alert(1)</script>\n````x",
    "fence-unclosed": "```\n<script>alert(1)</script>",
    "fence-in-list": "- a\n\n    ```\n    <script>alert(1)</script>\n    ```",
    "html-comment": "<!-- <script>alert(1)</script> -->",
    "html-comment-unclosed": "<!-- x\n\n<script>alert(1)</script>",
    "entity-scheme": "[x](&#106;avascript:alert(1))",
    "hex-entity-scheme": "[x](&#x6A;avascript&#x3A;alert(1))",
    "named-entity-colon": "[x](javascript&colon;alert(1))",
    "entity-tag": "&lt;script&gt;alert(1)&lt;/script&gt;",
    "entity-link-text": "&#91;x&#93;&#40;javascript:alert(1)&#41;",
    "attribute-list-paragraph": "Text\n{: onclick=alert(1) }",
    "attribute-list-inline": "*x*{: onclick=alert(1) }",
    "attribute-list-link": "[x](https://example.com){: onclick=alert(1) .y #z }",
    "attribute-list-heading": "# Heading {: onclick=alert(1) }",
    "md-in-html": '<div markdown="1">\n[x](javascript:alert(1))\n</div>',
    "snippet-marker": '--8<-- "secret.txt"',
    "snippet-marker-indented": '  ;--8<-- "secret.txt"',
    "snippet-block": "--8<--\nsecret.txt\n--8<--",
    "snippet-in-code": '```\n--8<-- "secret.txt"\n```',
    "escaped-link-text": "\\[x\\](javascript:alert(1))",
    "text-that-is-a-link-again": "`[x](javascript:alert(1))`",
    "pipe-breaks-row": "a | b || `c|d` \\| e",
    "admonition-with-script": '!!! warning "<script>alert(1)</script>"\n    body <b onmouseover=x>',
    "details-ontoggle": '<details open ontoggle="alert(1)">x</details>',
    "control-characters": "a\x02wzxhzdk:0\x03b\x00c\x1bd\u2028e\x85f",
    "tabbed": '=== "Tab"\n    <script>alert(1)</script>',
    "footnote": "x[^1]\n\n[^1]: [y](javascript:alert(1))",
    "abbr": "*[HTML]: <script>alert(1)</script>\n\nHTML",
    "unknown-admonition-class": '!!! "evil" x\n    y\n\n!!! md-nav hidden\n    z',
    "iframe": "<iframe src=javascript:alert(1)></iframe>",
    "style": "<style>body{display:none}</style>",
    "form": '<form action="javascript:alert(1)"><input autofocus onfocus=alert(1)></form>',
    "object": '<object data="javascript:alert(1)"></object>',
    "setext-and-rule": "x\n===\n\n---\n\n***",
}


@pytest.mark.parametrize("description", HOSTILE.values(), ids=HOSTILE.keys())
def test_no_hostile_description_reaches_the_page(
    passes: list[markdown.Markdown], description: str
) -> None:
    assert second_pass(passes, description) == []


@pytest.mark.parametrize("description", HOSTILE.values(), ids=HOSTILE.keys())
def test_the_filters_own_output_is_within_the_allow_list(description: str) -> None:
    assert problems(md(description)) == []
    assert problems(inline_markdown(description), INLINE_TAGS) == []


def test_hostile_text_is_shown_not_run(passes: list[markdown.Markdown]) -> None:
    shown = visible(passes, "Text <script>alert(1)</script> and [x](javascript:alert(1)).")
    assert "<script>alert(1)</script>" in shown  # shown as text, as written
    assert "javascript:alert(1)" not in re.findall(r'href="([^"]*)"', md("[x](javascript:x)"))


def test_a_second_pass_does_not_make_a_link_of_text(passes: list[markdown.Markdown]) -> None:
    # written as code, `[x](javascript:...)` is text; MkDocs must not read it as a link again
    html_text = passes[0].reset().convert(page_of("`[x](javascript:alert(1))` and \\[y](z)"))
    assert "javascript" not in "".join(re.findall(r"<a [^>]*>", html_text))
    assert "[x](javascript:alert(1))" in visible(passes, "`[x](javascript:alert(1))`")


def test_snippet_markers_are_not_read(passes: list[markdown.Markdown]) -> None:
    for description in ('--8<-- "secret.txt"', "--8<--\nsecret.txt\n--8<--", ';--8<-- "x"'):
        for renderer in passes:
            assert SECRET not in renderer.reset().convert(page_of(description))
    assert '--8<-- "secret.txt"' in visible(passes, 'See --8<-- "secret.txt"')


def test_links_keep_safe_targets_and_get_rel() -> None:
    out = md("[a](https://example.com/x_y?z=1) [b](other.md#part) [c](#here) [d](mailto:a@b.c)")
    hrefs = re.findall(r'<a href="([^"]*)" rel="noopener noreferrer">', out)
    assert [html.unescape(h) for h in hrefs] == [
        "https://example.com/x_y?z=1",
        "other.md#part",
        "#here",
        "mailto:a@b.c",
    ]


NORMAL = """\
A first paragraph with *emphasis*, **strong** text and `inline <code>`.

A second paragraph: see [the docs](https://example.com/docs) or [the guide](../guides/ci.md).

- one
- two with `code`

1. first
2. second

```yaml
key: value
other: <b>
```

| Name | Meaning |
|------|---------|
| `a`  | the a   |

!!! warning "Careful"
    Replicas below two stop during updates.
"""


def test_a_normal_description_renders_as_such(passes: list[markdown.Markdown]) -> None:
    rendered = passes[0].reset().convert(f"{md(NORMAL)}\n")
    assert problems(rendered) == []

    class Tree(html.parser.HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    tree = Tree()
    tree.feed(rendered)
    tags = [t for t, _ in tree.tags]
    assert tags.count("p") >= 3
    assert {"em", "strong", "ul", "ol", "li", "pre", "table", "th", "td"} <= set(tags)
    links = [a["href"] for t, a in tree.tags if t == "a"]
    assert "https://example.com/docs" in links
    assert "../guides/ci.md" in links
    classes = [a.get("class") for t, a in tree.tags if t in ("div", "p", "code")]
    assert "admonition warning" in classes
    assert "admonition-title" in classes
    assert "language-yaml" in classes
    text = visible(passes, NORMAL)
    for words in (
        "A first paragraph with emphasis, strong text and inline <code>.",
        "key: value\nother: <b>",
        "Replicas below two stop during updates.",
        "Careful",
    ):
        assert words in text


def test_inline_descriptions_stay_in_their_cell(passes: list[markdown.Markdown]) -> None:
    out = inline_markdown("1. A | pipe,\n`co|de` and *em*\n\n- not a list | really")
    assert "\n" not in out and "|" not in out
    rendered = passes[0].reset().convert(page_of("A | pipe, `co|de`\n\n# not a heading"))
    rows = re.findall(r"<tr>(.*?)</tr>", rendered, flags=re.DOTALL)
    assert len(rows) == 3
    assert all(row.count("<td") == 2 for row in rows[1:])
    assert "<h1" not in inline_markdown("# x") and "<ol" not in inline_markdown("1. x")
    assert "# x" in html.unescape(inline_markdown("# x"))


def test_the_filters_are_the_sanitising_ones_cut_to_the_text_limit() -> None:
    filters = make_environment(Limits(text_chars=200)).filters
    payload = "<script>alert(1)</script> [x](javascript:alert(1)) *short*"
    assert filters["md"](payload) == md(payload)
    assert filters["md_inline"](payload) == inline_markdown(payload)
    assert filters["md"]("word " * 100) == md(("word " * 100)[:199] + "…")
    assert md("") == "" and md(None) == "" and inline_markdown(None) == ""


def test_every_description_field_of_a_schema_page(tmp_path: Path) -> None:
    payload = (
        "<script>alert(1)</script> <img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        "`a\n\n<script>alert(2)</script>\n\n` {: onclick=alert(3) }"
    )
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hostile",
        "description": payload,
        "type": "object",
        "properties": {
            "a": {
                "type": "string",
                "description": payload,
                "deprecated": True,
                "x-deprecated-message": payload,
                "x-pitfalls": [payload, {"text": payload, "severity": "danger"}],
            },
        },
    }
    write(tmp_path / "hostile.schema.json", json.dumps(schema))
    [page] = render_schema_folder(tmp_path).pages.values()
    if page.startswith("---\n"):  # front matter
        page = page.split("\n---\n", 1)[1]
    names, configs = site_extensions()
    rendered = markdown.markdown(page, extensions=names, extension_configs=configs)
    assert "<script" not in rendered
    assert "<img" not in rendered
    assert not re.search(r"\son\w+=", re.sub(r">[^<]*<", "><", rendered))
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', rendered)).lower()
    shown = html.unescape(rendered)
    assert shown.count("<script>alert(1)</script>") >= 5  # shown as text, in every field


FRAGMENTS = [
    "<script>alert(1)</script>", "<script>", "</script>", "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>", "<a href='javascript:alert(1)'>", "</a>", "<div markdown='1'>",
    "</div>", "<details open ontoggle=alert(1)>", "<!--", "-->", "<![CDATA[", "]]>",
    "[x](javascript:alert(1))", "[x](", "](", ")", "(", "[", "]", "[r]: javascript:alert(1)",
    "[r]:", "[x][r]", "[^1]", "[^1]: ", "javascript:", "data:text/html,", "vbscript:", "JaVa",
    "&#106;", "&#x6A;", "&colon;", "&lt;", "&gt;", "&amp;", "&", "&#", ";", "<", ">", "/",
    "<https://x.y>", "<javascript:alert(1)>", "mailto:", "https://x.y/", "a@b.c", "`", "``",
    "```", "````", "~~~", "~~~~", "\n", "\n\n", "    ", "\t", "- ", "* ", "1. ", "> ", "# ",
    "!!! warning ", "??? note ", '=== "t"', '"', "'", "{: onclick=alert(1) }", "{", "}",
    "{: ", " .x #y ", "|", "||", "\\", "*", "_", "**", "__", "~~", "^^", "==", "!", "#", "+",
    "-", ".", ":", "=", "--8<-- ", '"secret.txt"', "secret.txt", "--8<--", ";", "\x00", "\x02",
    "\x03", "\u2028", "\x85", "\r", "onerror=alert(1)", "on", "x", " ", "text", "---", "***",
    "*[HTML]: ", "HTML", "{++", "++}", "{--", "--}", "<style>", "<iframe src=x>",
]  # fmt: skip
descriptions = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=24
).map("".join)


@settings(
    derandomize=True,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(description=descriptions)
def test_fuzzed_descriptions_stay_within_the_allow_list(
    passes: list[markdown.Markdown], description: str
) -> None:
    assert second_pass(passes, description) == []
