"""The Jinja environment and the escaping filters every page goes through.

Pages are Markdown, so autoescaping HTML is not enough: text from the inputs must not break a
table (`|`, newlines), open a code span (backticks) or inject HTML. Every value reaches a page
through one of these filters.
"""

from __future__ import annotations

import html
import json
import posixpath
import re
from typing import Any

import jinja2
import yaml

from ..ids import slug
from .schema_view import usage

_BLOCK_START = re.compile(r"^(\s*)([#>=\-+*]|\d+\.)", re.MULTILINE)


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


def code(value: Any) -> str:
    """A value as an inline code span: literal, safe in tables (Markdown escapes its HTML)."""
    shown = (
        value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    )
    shown = " ".join(shown.split()) if shown.strip() else json.dumps(shown)
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


# What Python-Markdown reads as code: a fence closed by the same fence, or a run of backticks
# not escaped and closed by a run of the same length. Text is escaped everywhere else; erring
# toward "not code" only escapes twice, which shows, but never lets HTML through.
_CODE = re.compile(
    r"(?:^|(?<=\n))(?P<fence>```+|~~~+)[^\n]*\n.*?\n(?P=fence)[ \t]*(?=\n|$)"
    r"|(?<![\\`])(?P<ticks>`+)(?!`).+?(?<!`)(?P=ticks)(?!`)",
    re.DOTALL,
)
_LINK_TARGET = re.compile(r"(\]\(\s*<?)([^)\s>]*)|(^\s*\[[^\]\n]+\]:\s*<?)(\S*)", re.MULTILINE)
_SAFE_SCHEME = re.compile(r"^(https?:|mailto:|#|/|\.|[^:]*$)", re.IGNORECASE)


def _outside_code(value: str, escape: Any) -> str:
    """Apply `escape` to the text between code spans and fences; Markdown escapes code itself."""
    out, last = [], 0
    for match in _CODE.finditer(value):
        out += [escape(value[last : match.start()]), match.group()]
        last = match.end()
    out.append(escape(value[last:]))
    return "".join(out)


def _safe_links(part: str) -> str:
    """Link targets other than http(s), mailto, anchors and relative paths become `#`."""

    def fix(match: re.Match[str]) -> str:
        lead, target = (
            (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        )
        return lead + (target if _SAFE_SCHEME.match(target) else "#")

    return _LINK_TARGET.sub(fix, part)


def _escape_text(part: str) -> str:
    """Markdown text as text: HTML shown, no attribute lists (`{: onclick=...}`), safe links."""
    escaped = html.escape(part, quote=False).replace("{", "&#123;").replace("}", "&#125;")
    return _safe_links(escaped)


def markdown(value: Any) -> str:
    """A description as Markdown block content: formatting kept, raw HTML shown as text."""
    if not value:
        return ""
    text = str(value).strip().replace("\r", "")
    return _outside_code(text, _escape_text)


def inline_markdown(value: Any) -> str:
    """A description squeezed into one table cell: Markdown kept, no HTML, no breaking `|`."""
    if not value:
        return ""
    text = " ".join(str(value).split())
    return _outside_code(text, lambda part: _escape_text(part).replace("|", "&#124;"))


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


def href(value: Any, label: Any = None) -> str:
    """An external link, only for http(s) and mailto URLs; anything else is shown as text."""
    url = str(value or "")
    if not re.match(r"^(https?://|mailto:)[^\s<>\"']+$", url):
        return text(label if label is not None else url)
    return f'<a href="{attr(url)}">{text(label if label is not None else url)}</a>'


def contact(value: Any) -> str:
    """An e-mail address as a mailto link, any other contact as text."""
    value = str(value or "")
    if re.match(r"^[^@\s<>\"']+@[^@\s<>\"']+$", value):
        return href(f"mailto:{value}", value)
    return href(value)


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


def make_environment() -> jinja2.Environment:
    """The environment rendering every page, with the filters above."""
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
        md=markdown,
        md_inline=inline_markdown,
        yaml=yaml_block,
        attr=attr,
        href=href,
        contact=contact,
        first_sentence=first_sentence,
        cpu=cpu,
        memory=memory,
        slug=slug,
    )
    env.globals["usage"] = usage
    return env


def relative(from_page: str, to_page: str) -> str:
    """The link from one generated page to another (or to `page.md#anchor`)."""
    target, _, fragment = to_page.partition("#")
    link = posixpath.relpath(target, posixpath.dirname(from_page) or ".") if target else ""
    return f"{link}#{fragment}" if fragment else link
