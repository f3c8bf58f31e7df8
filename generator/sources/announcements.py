"""Changelog fragments: Markdown with YAML front matter."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from ..ids import slug
from ..model import Announcement, Finding, Severity
from ..yamlload import Document, YamlError, load_one, read_text

TYPES = ("feature", "change", "deprecation", "removal", "fix", "security")
# the body `announce` writes into a new fragment: one still holding it would be published as is
PLACEHOLDER = "What changed, for whom, and what they need to do."


def _split(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts), or None without front matter."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value if v is not None)
    return (str(value),) if value else ()


def _is_date(text: str) -> bool:
    """`2026-06-01`, or an RFC 3339 time such as `2026-06-01T09:30:00+02:00`."""
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _lines(document: Document | None, key: str, data: dict[str, Any]) -> tuple[int | None, ...]:
    """The file line of each item of a front matter list (the front matter starts at line 2)."""
    if document is None:
        return ()
    items = data.get(key)
    count = len(items) if isinstance(items, list) else (1 if items else 0)
    return tuple(
        document.line((key, index) if isinstance(items, list) else (key,)) + 1
        for index in range(count)
    )


def read_announcement(path: Path, display: str) -> tuple[Announcement | None, list[Finding]]:
    """One fragment; None (with a finding) when its front matter is unusable."""
    try:
        text = read_text(path, display, limit=1024 * 1024)
    except YamlError as error:
        return None, [error.finding]
    parts = _split(text)
    if parts is None:
        return None, [
            Finding(
                "changelog/invalid-front-matter",
                Severity.ERROR,
                display,
                1,
                "fragment has no front matter",
                "start the file with `---`, title, type, date, release, `---`",
            )
        ]
    front, body, body_line = parts
    document, findings = load_one(front, display)
    findings = [
        Finding(f.rule, f.severity, f.file, (f.line or 0) + 1, f.message, f.hint) for f in findings
    ]
    data = document.data if document is not None else None
    if not isinstance(data, dict):
        findings.append(
            Finding(
                "changelog/invalid-front-matter",
                Severity.ERROR,
                display,
                2,
                "front matter must be a mapping",
            )
        )
        return None, findings
    missing = [key for key in ("title", "type", "date") if not data.get(key)]
    for key in missing:
        findings.append(
            Finding(
                "changelog/invalid-front-matter",
                Severity.ERROR,
                display,
                2,
                f"front matter lacks `{key}`",
                f"add `{key}:`",
            )
        )
    when = (document.text(("date",)) if document else None) or ""
    if when and not _is_date(when):
        findings.append(Finding(
            "changelog/invalid-front-matter", Severity.ERROR, display,
            document.line(("date",)) + 1 if document else 2,
            f"date {when!r} is not a date", "write it as YYYY-MM-DD",
        ))  # fmt: skip
        missing.append("date")
    kind = str(data.get("type") or "")
    if kind and kind not in TYPES:
        findings.append(
            Finding(
                "changelog/unknown-type",
                Severity.ERROR,
                display,
                document.line(("type",)) + 1 if document else 2,
                f"unknown type {kind!r}",
                f"use one of: {', '.join(TYPES)}",
            )
        )
    if missing:
        return None, findings
    findings += _placeholder(body, body_line, display)
    announcement = Announcement(
        id=path.stem,
        file=display,
        title=str(data["title"]),
        type=kind if kind in TYPES else "change",
        date=str(document.text(("date",)) if document else data["date"]),
        release=str(document.text(("release",)) or "") if document else "",
        body=body.strip(),
        options=_strings(data.get("options")),
        templates=_strings(data.get("templates")),
        option_lines=_lines(document, "options", data),
        template_lines=_lines(document, "templates", data),
    )
    return announcement, findings


def _placeholder(body: str, line: int, display: str) -> list[Finding]:
    """A finding when the body is still the one `announce` wrote (whitespace aside)."""
    if " ".join(body.split()) != PLACEHOLDER:
        return []
    blank = len(body) - len(body.lstrip())
    return [Finding(
        "changelog/placeholder", Severity.ERROR, display, line + body[:blank].count("\n"),
        "the fragment's body is still the placeholder `announce` wrote: it would be published as is",
        "write what changed, for whom, and what they need to do, in place of the placeholder",
    )]  # fmt: skip


def read_announcements(
    folder: Path | None, display: Any
) -> tuple[list[Announcement], list[Finding]]:
    """Every `*.md` fragment of the folder, newest first."""
    if folder is None or not folder.is_dir():
        return [], []
    announcements, findings = [], []
    for path in sorted(folder.glob("*.md")):
        announcement, found = read_announcement(path, display(path))
        findings.extend(found)
        if announcement is not None:
            announcements.append(announcement)
    announcements.sort(key=lambda a: (a.date, a.id), reverse=True)
    return announcements, findings


def write_fragment(
    folder: Path, title: str, kind: str, options: tuple[str, ...], templates: tuple[str, ...],
    release: str, day: str | None,
) -> Path:  # fmt: skip
    """A new fragment file with its front matter filled in and a body to write; never overwrites."""
    when = day or date.today().isoformat()
    stem = f"{when}-{slug(title).lower()[:60]}"
    path = folder / f"{stem}.md"
    counter = 2
    while path.exists():
        path = folder / f"{stem}-{counter}.md"
        counter += 1
    front = {"title": title, "type": kind, "date": when, "release": release,
             "options": list(options), "templates": list(templates)}  # fmt: skip
    text = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---\n"
    text += f"\n{PLACEHOLDER}\n"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
