"""The Jinja environment and the escaping filters every page goes through.

Pages are Markdown, so autoescaping HTML is not enough: text from the inputs must not break a
table (`|`, newlines), open a code span (backticks) or inject HTML. Every value reaches a page
through one of these filters. Descriptions (`md`, `md_inline`) are Markdown rendered to HTML,
cleaned with nh3 against an allow-list and written so that MkDocs reads nothing in them again.
"""

from __future__ import annotations

import contextlib
import functools
import html
import html.parser
import json
import posixpath
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import jinja2
import markdown as markdown_lib  # type: ignore[import-untyped]  # no type stubs installed
import nh3
import yaml
from markdown.extensions import Extension  # type: ignore[import-untyped]

from ..cachekey import code_digest
from ..ids import slug
from ..kept import Kept
from ..limits import Limits, cut
from . import htmlblocks
from .schema_view import usage

_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def text(value: Any) -> str:
    """Plain inline text: HTML escaped, Markdown and table syntax neutralised, on one line."""
    if value is None:
        return ""
    escaped = html.escape(str(value), quote=True)
    escaped = escaped.replace("\\", "\\\\")
    for char in "*[]":
        escaped = escaped.replace(char, "\\" + char)
    escaped = _LONE_UNDERSCORE.sub(r"\\_", escaped)
    escaped = escaped.replace("|", "&#124;").replace("`", "&#96;")
    escaped = escaped.replace("{", "&#123;").replace("}", "&#125;")  # no attribute lists
    return " ".join(escaped.split())


def html_text(value: Any) -> str:
    """Plain inline text for HTML that Markdown never reads (a raw HTML block): control
    characters dropped, on one line, HTML escaped (quotes too, for attributes), nothing else:
    the Markdown filters' backslashes would show there as they are."""
    if value is None:
        return ""
    return " ".join(html.escape(_CONTROL.sub("", str(value)), quote=True).split())


def _shown_code(value: Any) -> str:
    """What a code span shows of a value: a string on one line, anything else as JSON."""
    shown = (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )
    return " ".join(shown.split()) if shown.strip() else json.dumps(shown)


def html_code(value: Any) -> str:
    """A value as `<code>` for a raw HTML block, shown as the `code` filter shows it."""
    return f"<code>{html_text(_shown_code(value))}</code>"


def code(value: Any) -> str:
    """A value as an inline code span: literal, safe in tables (Markdown escapes its HTML)."""
    shown = _shown_code(value)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


_BACKTICKS = re.compile(r"(`+)")


def _spaced(part: str, escape: Callable[[Any], str]) -> str:
    """`escape` of a piece of a line, keeping the one space it starts or ends with."""
    shown = escape(part)
    if not shown:
        return " " if part else ""
    return (" " if part[0] == " " else "") + shown + (" " if part[-1] == " " else "")


def message(value: Any, escape: Callable[[Any], str] = text) -> str:
    """A finding's message on one line: its backtick spans as `<code>`, the rest as `text`
    (or `escape`: `html_text` for a raw HTML block).

    A run of backticks closes at the next run as long, as in Markdown; a run that closes none
    is shown as it is. What a span holds is escaped as `text` escapes it (`<script>` stays
    literal). Each run's closer is found in one pass from the end: linear in the message.
    """
    if value is None:
        return ""
    parts = _BACKTICKS.split(" ".join(str(value).split()))  # text, run, text, run, ..., text
    closer: dict[int, int] = {}
    following: dict[int, int] = {}  # run length -> index of the nearest such run after here
    for index in range(len(parts) - 2, 0, -2):
        closer[index] = following.get(len(parts[index]), -1)
        following[len(parts[index])] = index
    shown: list[str] = []
    index = 0
    while index < len(parts):
        end = closer.get(index, -1)
        if index % 2 == 0 or end < 0:
            shown.append(_spaced(parts[index], escape))
            index += 1
        else:
            shown.append(f"<code>{escape(''.join(parts[index + 1 : end]))}</code>")
            index = end + 1
    return "".join(shown)


_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T ]|$)")


def day(value: Any) -> str:
    """The day of an ISO 8601 date or timestamp, as the timestamp's own offset has it
    (`2026-06-01T10:00:00+02:00` -> `2026-06-01`); anything else as it is (then `text`)."""
    shown = str(value or "")
    found = _ISO_DAY.match(shown)
    return found.group(1) if found else shown


# Descriptions: Markdown rendered by Python-Markdown, the HTML cleaned by nh3 against the allow-list
# below, then written so that MkDocs' own Markdown pass finds nothing to read in it (see
# `_Reserialise`). The extensions are the site's, less those that read files or the network
# (pymdownx.snippets), attr_list (attributes are what an attacker wants), md_in_html, toc and
# pymdownx.tabbed (ids). SuperFences stands in for fenced_code; code is not highlighted.
_MD_EXTENSIONS = [
    "tables",
    "admonition",
    "pymdownx.details",
    "pymdownx.superfences",
    "pymdownx.highlight",
    "sane_lists",
]
_MD_CONFIG: dict[str, dict[str, Any]] = {
    "tables": {"use_align_attribute": True},
    "pymdownx.highlight": {"use_pygments": False},
}

_INLINE_TAGS = frozenset({"a", "code", "em", "strong", "br", "del", "sup", "sub"})
_BLOCK_TAGS = _INLINE_TAGS | {
    "p", "pre", "ul", "ol", "li", "blockquote", "hr", "div", "span", "details", "summary",
    "table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6",
}  # fmt: skip
# No <img>: an image would be fetched from wherever its author says, when the page is read.
_VOID_TAGS = frozenset({"br", "hr"})
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
    "div": {"class"},
    "p": {"class"},
    "pre": {"class"},
    "code": {"class"},
    "details": {"class", "open"},
}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})  # and relative URLs
_ADMONITION_TYPES = frozenset(
    {
        "note", "abstract", "summary", "tldr", "info", "todo", "tip", "hint", "important",
        "success", "check", "done", "question", "help", "faq", "warning", "caution", "attention",
        "failure", "fail", "missing", "danger", "error", "bug", "example", "quote", "cite",
    }
)  # fmt: skip
_CLASSES: dict[str, frozenset[str]] = {
    "div": _ADMONITION_TYPES | {"admonition", "highlight"},
    "p": frozenset({"admonition-title"}),
    "pre": frozenset({"highlight"}),
    "details": _ADMONITION_TYPES,
}
_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_ALIGN = frozenset({"left", "center", "right"})

# Characters Python-Markdown (or an extension a site may add) gives a meaning to anywhere in a
# line, written as entities wherever they occur in text or in an attribute. Characters that mean
# something only at the start of a line (`-`, `.`, digits) stay: the output is one line that
# starts with a tag. Newlines are entities too, and so is what `str.splitlines` (Jinja's
# `indent`) takes for a line break.
_SPECIAL = set("\\`*_{}[]()#+!|~:^=$@\"'") | {"\n", "\t", "\u2028", "\u2029"}
_NAMED = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
_ENTITIES = {ord(c): f"&#{ord(c)};" for c in _SPECIAL} | {ord(c): e for c, e in _NAMED.items()}
# C0 controls but tab and newline, DEL and C1 controls are dropped: Python-Markdown marks what it
# has set aside with \x02 and \x03, and `str.splitlines` breaks lines at \x0b-\x0d, \x1c-\x1e, \x85.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# A line pymdownx.snippets would read as a marker (`--8<-- "file"`, `;--8<--`, a lone `--8<--`).
_SNIPPET = re.compile(r"^([ \t]*;*-+8)<(?=-)", re.MULTILINE)
# What opens a block at the start of a line; a one-line description must stay text.
_LEADING_BLOCK = re.compile(r"^(?:[#>+*=|:~`!-]|\d+[.)])")


def _entities(value: str) -> str:
    return _CONTROL.sub("", value).translate(_ENTITIES)


def _safe_url(url: str) -> bool:
    """http(s), mailto or relative, read as a browser reads it (whitespace and controls out)."""
    squeezed = re.sub(r"[\x00-\x20\x7f]", "", url)
    scheme = _SCHEME.match(squeezed)
    return scheme is None or scheme.group(1).lower() in _URL_SCHEMES


def _attribute(tag: str, name: str, value: str | None) -> str | None:
    """An attribute as it may stay, or None; the last word after nh3, in case it lets more by."""
    if name not in _ATTRIBUTES.get(tag, ()):
        return None
    value = value or ""
    if name == "class":
        kept = [
            c
            for c in value.split()
            if c in _CLASSES.get(tag, ()) or (tag == "code" and _LANGUAGE_CLASS.fullmatch(c))
        ]
        return " ".join(kept) or None
    if name == "href":
        return value if _safe_url(value) else None
    if name == "align":
        return value if value in _ALIGN else None
    if name == "start":
        return value if value.isdigit() and len(value) < 10 else None
    if name == "open":
        return ""
    return value


class _Reserialise(html.parser.HTMLParser):
    """Clean HTML written again so that a Markdown pass over it changes nothing.

    One line, every allowed tag and attribute as it was (anything else left out, keeping its
    text), every Markdown character of a text or an attribute value an entity: Python-Markdown
    sets the tags aside as raw HTML and finds no syntax between them.
    """

    def __init__(self, tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.out: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.tags:
            return
        kept = {}
        for name, value in attrs:
            cleaned = _attribute(tag, name, value)
            if cleaned is not None and name not in kept:
                kept[name] = cleaned
        if tag == "a":
            kept["rel"] = "noopener noreferrer"
        shown = "".join(
            f" {name}" if name == "open" else f' {name}="{_entities(value)}"'
            for name, value in kept.items()
        )
        self.out.append(f"<{tag}{shown}>")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in self.tags and tag not in _VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.tags and tag not in _VOID_TAGS:
            self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(_entities(data))


class _NoRawHtml(Extension):  # type: ignore[misc]  # Extension is untyped
    """Raw HTML in a description is text, as it always was here: `<name>` stays visible."""

    def extendMarkdown(self, md: markdown_lib.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


_LOCAL = threading.local()


# where a render keeps what each description's Markdown became (`converted_in`), if anywhere
_converted: ContextVar[Kept | None] = ContextVar("pipeline_docs_converted", default=None)


@contextlib.contextmanager
def converted_in(kept: Kept | None) -> Iterator[None]:
    """Descriptions' HTML kept in `kept` while the block runs (None: none kept), by their text
    and tags: a page made again converts only the descriptions it did not have before."""
    token = _converted.set(kept)
    try:
        yield
    finally:
        _converted.reset(token)


def _to_html(source: str, tags: frozenset[str]) -> str:
    """Description Markdown as clean HTML on one line, as `_Reserialise` writes it."""
    kept = _converted.get()
    if kept is None:
        return _converted_html(source, tags)
    parts = ("markdown", source, sorted(tags))
    if isinstance(done := kept.get(*parts), str):
        return done
    done = _converted_html(source, tags)
    kept.put(done, *parts)
    return done


def _converted_html(source: str, tags: frozenset[str]) -> str:
    renderer: markdown_lib.Markdown | None = getattr(_LOCAL, "markdown", None)
    if renderer is None:
        renderer = markdown_lib.Markdown(
            extensions=[*_MD_EXTENSIONS, _NoRawHtml()],
            extension_configs=_MD_CONFIG,
            output_format="html",
        )
        _LOCAL.markdown = renderer
    rendered = renderer.reset().convert(source)
    cleaned = nh3.clean(
        rendered,
        tags=set(tags),
        attributes={tag: set(names) for tag, names in _ATTRIBUTES.items() if tag in tags},
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    writer = _Reserialise(tags)
    writer.feed(cleaned)
    writer.close()
    return "".join(writer.out).strip()


def _source(value: Any) -> str:
    """Input text without control characters, and no line pymdownx.snippets would obey."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _SNIPPET.sub(r"\1&lt;", _CONTROL.sub("", text))


def markdown(value: Any) -> str:
    """A description as block content: Markdown rendered, sanitised, in a `<div>` on one line.

    The line is raw HTML MkDocs passes through (or, indented in an admonition, a paragraph whose
    text holds nothing Markdown reads): no `markdown` attribute, no Markdown syntax left.
    """
    if not value:
        return ""
    shown = _to_html(_source(value).strip(), _BLOCK_TAGS)
    return f"<div>{shown}</div>" if shown else ""


def inline_markdown(value: Any) -> str:
    """A description in one table cell: inline Markdown rendered and sanitised, one line, no `|`.

    Block syntax (lists, headings, quotes, code blocks) is not read: the text is squeezed onto
    one line and a leading block marker escaped; only inline tags are kept.
    """
    if not value:
        return ""
    text = " ".join(_source(value).split())
    if _LEADING_BLOCK.match(text):
        text = "\\" + text if text[0] in "#>+*-`!" else "&#" + str(ord(text[0])) + ";" + text[1:]
    return _to_html(text, _INLINE_TAGS)


def first_sentence(value: Any, limit: int = 160) -> str:
    """The first sentence (or line) of a description, for summary tables."""
    line = str(value or "").strip().split("\n\n", 1)[0].replace("\n", " ")
    match = re.match(r"^(.+?[.!?])(\s|$)", line)
    short = match.group(1) if match else line
    return short if len(short) <= limit else short[: limit - 1].rstrip() + "…"


_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def yaml_block(value: Any) -> str:
    """A value as YAML, for fenced code blocks (fences cannot be closed from inside)."""
    dumped = yaml.dump(
        value, Dumper=_DUMPER, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    if dumped.endswith("\n...\n"):  # the pure-Python dumper ends a lone scalar explicitly
        dumped = dumped[: -len("...\n")]
    return dumped.replace("```", "` ` `").rstrip()


def attr(value: Any) -> str:
    """A value for an HTML attribute."""
    return html.escape(str(value or ""), quote=True)


def markdown_attr(value: Any) -> str:
    """A value for an HTML attribute written inside Markdown (a `markdown="span"` cell): every
    character Markdown reads, quotes and `<>&` as entities, so no inline pattern reaches it."""
    return _entities(" ".join(str(value or "").split()))


def href(value: Any, label: Any = None) -> str:
    """An external link, only for http(s) and mailto URLs; anything else is shown as text."""
    url = str(value or "")
    if not re.match(r"^(https?://|mailto:)[^\s<>\"']+$", url):
        return text(label if label is not None else url)
    return f'<a href="{attr(url)}">{text(label if label is not None else url)}</a>'


def html_href(value: Any, label: Any = None) -> str:
    """`href` for a raw HTML block: the label escaped by `html_text`."""
    url = str(value or "")
    shown = html_text(label if label is not None else url)
    if not re.match(r"^(https?://|mailto:)[^\s<>\"']+$", url):
        return shown
    return f'<a href="{html_text(url)}">{shown}</a>'


def contact(value: Any, link: Callable[..., str] = href) -> str:
    """An e-mail address as a mailto link, any other contact as text (`link` makes either)."""
    value = str(value or "")
    if re.match(r"^[^@\s<>\"']+@[^@\s<>\"']+$", value):
        return link(f"mailto:{value}", value)
    return link(value)


def cpu(value: Any) -> str:
    """CPU cores as Kubernetes writes them: `0.25` -> `250m`, `2.5` -> `2.5`."""
    if value is None:
        return ""
    cores = float(value)
    return f"{round(cores * 1000)}m" if cores < 1 else f"{cores:g}"


def memory(value: Any) -> str:
    """Bytes in binary units: `402653184` -> `384 MiB`."""
    if value is None:
        return ""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{amount:.0f} {unit}" if unit in ("B", "KiB", "MiB") else f"{amount:.1f} {unit}"
        amount /= 1024
    return ""


def _cutter(limit: int) -> Any:
    """A filter showing a value cut to `limit` characters (`…` at the end when it was cut)."""
    return lambda value: cut(str(value), limit)


def _cut_text(value: Any, limit: int) -> Any:
    """A description over `limits.text_chars`, cut before it is rendered (the finding says so)."""
    return cut(value, limit) if isinstance(value, str) else value


def make_environment(
    limits: Limits | None = None, compiled: Path | None = None
) -> jinja2.Environment:
    """The environment rendering every page, with the filters above; `short_name`,
    `short_version`, `short_image` and `short_text` show a value cut to its limit (the
    `limits/cut` finding says so), before `text` or `code` escapes it. One per limits in a
    process: its templates are compiled once, and with `compiled` (a cache folder) kept there
    as Jinja's bytecode for the next process (`keep_compiled`)."""
    env = _environment(limits or Limits())
    keep_compiled(env, compiled)
    return env


class _KeptBytecode(jinja2.FileSystemBytecodeCache):
    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a cache that cannot be written keeps nothing
            super().dump_bytecode(bucket)


def keep_compiled(env: jinja2.Environment, folder: Path | None) -> None:
    """Jinja's bytecode of the templates `env` compiles kept under `folder` (none without
    one), in a folder of the generator's code digest (the environment's options are code too,
    and Jinja checks only each template's source): the folders of other code removed. The
    environment is this process's for these limits: each render says where its cache is."""
    env.bytecode_cache = None
    if folder is None:
        return
    here = folder / code_digest()[:32]
    try:
        here.mkdir(parents=True, exist_ok=True)
        for other in folder.iterdir():
            if other != here and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
    except OSError:
        return  # a cache that cannot be written: compiled each time
    env.bytecode_cache = _KeptBytecode(str(here))


@functools.lru_cache(maxsize=8)
def _environment(limits: Limits) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("generator.render", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        text=text,
        code=code,
        message=message,
        html=html_text,
        html_code=html_code,
        html_href=html_href,
        html_contact=lambda value: contact(value, html_href),
        html_message=lambda value: message(value, html_text),
        day=day,
        md=lambda value: markdown(_cut_text(value, limits.text_chars)),
        md_inline=lambda value: inline_markdown(_cut_text(value, limits.text_chars)),
        yaml=yaml_block,
        attr=attr,
        mattr=markdown_attr,
        href=href,
        contact=contact,
        first_sentence=first_sentence,
        cpu=cpu,
        memory=memory,
        slug=slug,
        short_name=_cutter(limits.name_chars),
        short_version=_cutter(limits.version_chars),
        short_image=_cutter(limits.name_chars + 1 + limits.version_chars),
        short_text=_cutter(limits.text_chars),
    )
    env.globals["usage"] = usage
    # the lines around a raw HTML block that Markdown passes through unread (htmlblocks.py)
    env.globals.update(html_begin=htmlblocks.BEGIN, html_end=htmlblocks.END)
    return env


def relative(from_page: str, to_page: str) -> str:
    """The link from one generated page to another (or to `page.md#anchor`)."""
    target, _, fragment = to_page.partition("#")
    link = posixpath.relpath(target, posixpath.dirname(from_page) or ".") if target else ""
    return f"{link}#{fragment}" if fragment else link
