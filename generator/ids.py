"""Ids and anchors, as DESIGN.md's Contracts define them."""

from __future__ import annotations

import functools
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


# names Windows keeps for devices, whatever the case and the extension (`con.md` is one too)
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"{device}{n}" for device in ("com", "lpt") for n in "0123456789"]
)


@functools.lru_cache(maxsize=16384)  # asked for each link to a page, many times a name
def page_name(text: str) -> str:
    """A file name for a page, one per name: `payments-api` stays, `a b` is `a~20b`.

    Unlike a slug, two names never share a page, and no name takes an index page's place;
    nor on a file system that ignores case (macOS, Windows): a name with capitals ends in `~u`
    and where they are (`API` is `API~u7`, `Api` is `Api~u1`, `api` stays). A name Windows
    keeps for a device (`con`, `NUL`, `com1`...) has its first letter encoded (`~63on`), a
    trailing `.` (which Windows drops) is `~2e`, and a name longer than MAX_PAGE_NAME (what file
    systems allow, whatever `limits.name_chars` shows) is cut, ending in a digest of the whole
    name. `~` is always encoded (`~7e`), so none of these marks can be
    made by an encoded name itself."""
    out = []
    for char in text:
        if char.isascii() and (char.isalnum() or char in "-_."):
            out.append(char)
        else:  # a lone surrogate (a file name that is not UTF-8) too
            out.extend(f"~{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
    name = "".join(out) or "~"
    if name.startswith("."):
        name = "~2e" + name[1:]
    if name.endswith("."):  # Windows drops a trailing dot: `a.` would be `a`
        name = name[:-1] + "~2e"
    if name.split(".", 1)[0].lower() in _RESERVED:
        name = f"~{ord(name[0]):02x}{name[1:]}"
    capitals = sum(1 << i for i, char in enumerate(name) if "A" <= char <= "Z")
    if capitals:
        name += f"~u{capitals:x}"
    if len(name) > MAX_PAGE_NAME:  # file systems refuse long names: cut, and keep it unique
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = f"{name[: MAX_PAGE_NAME - 18]}~~{digest}"  # `~~` is never made by the encoding
    return name + "~" if name.lower() == "index" else name


def slug(text: str) -> str:
    """A file-name-safe slug for page paths (services, teams, environments)."""
    value = _NOT_ANCHOR.sub("-", text.strip()).strip("-.")
    return value or "unnamed"
