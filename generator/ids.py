"""Ids and anchors, as DESIGN.md's Contracts define them."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

_SUFFIXES = (".json", ".yaml", ".yml")
_NOT_ANCHOR = re.compile(r"[^A-Za-z0-9._-]+")
MAX_PAGE_NAME = 120  # characters of a page's file name (most file systems allow 255 bytes)


def schema_id(path: Path) -> str:
    """`service.schema.json` -> `service`, `aiproj-1.10.json` -> `aiproj-1.10`."""
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if name.lower().endswith(".schema"):
        name = name[: -len(".schema")]
    return name


def template_id(path: Path, root: Path) -> str:
    """The path under the templates folder without extension; the folder for `action.yml`."""
    relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
    if relative.name in ("action.yml", "action.yaml"):
        parent = relative.parent.as_posix()
        return parent if parent != "." else root.name
    return relative.with_suffix("").as_posix()


def anchor(path: str, prefix: str = "") -> str:
    """A stable HTML id for an option path: letters, digits, `.`, `_` and `-` only."""
    # `[]` adds nothing an array's own path lacks; `<name>` keeps its brackets as `_`.
    text = path.replace("[]", "").replace("<", "_").replace(">", "_").replace("$", "")
    text = _NOT_ANCHOR.sub("_", text).strip(".") or "root"
    return f"{prefix}{text}"


def page_name(text: str) -> str:
    """A file name for a page, one per name: `payments-api` stays, `a b` is `a~20b`.

    Unlike a slug, two names never share a page, and no name takes an index page's place."""
    out = []
    for char in text:
        if char.isascii() and (char.isalnum() or char in "-_."):
            out.append(char)
        else:
            out.extend(f"~{byte:02x}" for byte in char.encode("utf-8"))
    name = "".join(out) or "~"
    if name.startswith("."):
        name = "~2e" + name[1:]
    if len(name) > MAX_PAGE_NAME:  # file systems refuse long names: cut, and keep it unique
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = f"{name[: MAX_PAGE_NAME - 18]}~~{digest}"  # `~~` is never made by the encoding
    return name + "~" if name.lower() == "index" else name


def slug(text: str) -> str:
    """A file-name-safe slug for page paths (services, teams, environments)."""
    value = _NOT_ANCHOR.sub("-", text.strip()).strip("-.")
    return value or "unnamed"
