"""What the generated pages need from the MkDocs config, added to the one a project gives.

A project's own `mkdocs.yml` may be two lines (`site_name`, `theme: material`) or a site of its
own with a `custom_dir`. `build` and `serve` hand MkDocs that file with these top-level keys set
over it, each the project's value plus what the generated pages need: the gen-files plugin that
writes them (and `search`), the Markdown extensions they are written in, `not_in_nav` for the
pages reached by their index pages, the stylesheet and script, a nav when the project has none
(and the generated sections it lacks when it has one), Material with the package's template
overrides merged under the project's `custom_dir`, pymdownx.snippets reading the facts only, and
the site name made safe. What cannot be added without overriding the project's choice (another
theme) is said as the exact lines to add: `build` exits 2 with them.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .config import Config
from .facts import facts_folder
from .render.pages import html_title

SNIPPETS = "pymdownx.snippets"
GEN_FILES = "gen-files"
HOOK = "write_with_gen_files"  # what a gen-files script that writes the pages calls
SEARCH = ("search", "/".join(("material", "search")))  # MkDocs' plugin, or Material's
MAX_NAV_ENTRIES = 10_000  # a nav is walked this far to find what it links
# the pages the generator always writes; a hand-written page of one of these names is replaced
GENERATED_PAGES = frozenset({
    "index.md", "health.md", "pitfalls.md", "reference/index.md", "reference/rules.md",
    "reference/releases.md",
    "reference/templates/index.md", "catalog/index.md", "changelog/index.md",
    "catalog/services/index.md", "catalog/teams/index.md", "catalog/environments/index.md",
})  # fmt: skip
GENERATED_FOLDERS = (
    "reference/schemas/", "reference/templates/", "catalog/services/", "catalog/teams/",
    "catalog/environments/", "catalog/history/", "health/",
)  # fmt: skip


# each earlier release's reference (`reference/<release>/`), reached from the release picker
RELEASE_PATTERNS = ("/reference/*/schemas/", "/reference/*/index.md")


class SiteConfigError(Exception):
    """The project's mkdocs.yml needs lines pipeline-docs does not add for it."""

    def __init__(self, file: Path, lines: list[str], why: str) -> None:
        super().__init__(f"{file}: {why}")
        self.file, self.lines, self.why = file, lines, why


@dataclass
class Adapted:
    """The keys set over a mkdocs.yml, and in a few words what was added (for the log)."""

    overrides: dict[str, Any]
    added: list[str] = field(default_factory=list)
    watch: list[Path] = field(default_factory=list)  # the project's own theme folder


def default_mkdocs() -> dict[str, Any]:
    """The package's default mkdocs.yml, as data (its markers unreplaced)."""
    text = resources.files("generator").joinpath("formats/mkdocs.default.yml").read_text("utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def package_overrides() -> Path:
    """The package's template overrides: the feed link in every head, the build time."""
    return Path(str(resources.files("generator"))) / "render" / "overrides"


def gen_files_script(config: Config) -> Path:
    """The gen-files script in the cache that writes every generated page."""
    folder = config.cache / "mkdocs"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "gen_pages.py"
    text = f"from generator.site import {HOOK}\n\n{HOOK}()\n"
    if not script.is_file() or script.read_text(encoding="utf-8") != text:
        script.write_text(text, encoding="utf-8")
    return script


def _entries(value: object) -> list[Any]:
    """A plugins or markdown_extensions value as MkDocs takes it (a list of names or one-key
    mappings, or a mapping), as a list."""
    if isinstance(value, dict):
        return [{name: settings} for name, settings in value.items()]
    return list(value) if isinstance(value, list) else []


def _name(entry: object) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, dict) and len(entry) == 1:
        return str(next(iter(entry)))
    return None


def _settings(entry: object) -> dict[str, Any]:
    if isinstance(entry, dict) and len(entry) == 1:
        value = next(iter(entry.values()))
        return dict(value) if isinstance(value, dict) else {}
    return {}


def _writes_pages(script: object, base: Path) -> bool:
    """Whether a gen-files script of the project calls the hook that writes the pages."""
    try:
        return HOOK in (base / str(script)).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False


def _plugins(data: dict[str, Any], base: Path, config: Config, added: list[str]) -> list[Any]:
    plugins = _entries(data["plugins"]) if "plugins" in data else ["search"]  # MkDocs' default
    names = [_name(p) for p in plugins]
    defaults = _entries(default_mkdocs()["plugins"])
    if not any(name in SEARCH for name in names):
        plugins.insert(0, next(p for p in defaults if _name(p) == "search"))
        added.append("plugins: search")
    script = str(gen_files_script(config))
    names = [_name(p) for p in plugins]
    if GEN_FILES not in names:
        plugins.append({GEN_FILES: {"scripts": [script]}})
        added.append("plugins: gen-files")
        return plugins
    at = names.index(GEN_FILES)
    settings = _settings(plugins[at])
    scripts = list(settings.get("scripts") or [])
    if not any(_writes_pages(s, base) for s in scripts):
        plugins[at] = {GEN_FILES: {**settings, "scripts": [*scripts, script]}}
        added.append("gen-files: the script that writes the pages")
    return plugins


def markdown_extensions(
    data: dict[str, Any], config: Config, check_paths: bool, added: list[str]
) -> list[Any]:
    entries = [e for e in _entries(data.get("markdown_extensions")) if _name(e) != SNIPPETS]
    own_snippets = next(
        (_settings(e) for e in _entries(data.get("markdown_extensions")) if _name(e) == SNIPPETS),
        {},
    )
    names = [_name(e) for e in entries]
    for needed in _entries(default_mkdocs()["markdown_extensions"]):
        name = _name(needed)
        if name == SNIPPETS or name in names:
            continue
        entries.append(needed)
        added.append(f"markdown_extensions: {name}")
    if "toc" in names:  # the reference's anchors each show their permalink
        at = names.index("toc")
        settings = _settings(entries[at])
        if "permalink" not in settings:
            entries[at] = {"toc": {**settings, "permalink": True}}
            added.append("toc: permalink")
    entries.append({SNIPPETS: snippets_settings(facts_folder(config), own_snippets, check_paths)})
    return entries


def snippets_settings(folder: Path, own: dict[str, Any], check_paths: bool) -> dict[str, Any]:
    """pymdownx.snippets' config: the site's own, reading only the facts folder, no URL."""
    return {
        **own, "base_path": [str(folder)], "restrict_base_path": True, "url_download": False,
        "check_paths": check_paths,
    }  # fmt: skip


def _theme(data: dict[str, Any], file: Path, config: Config, adapted: Adapted) -> dict[str, Any]:
    theme = data.get("theme")
    if theme is None:
        theme = {"name": "material"}
        adapted.added.append("theme: material")
    elif isinstance(theme, str):
        theme = {"name": theme}
    elif not isinstance(theme, dict):
        theme = {}
    if theme.get("name") != "material":
        raise SiteConfigError(
            file, ["theme:", "  name: material"],
            f"the generated pages are written for the Material theme, not {theme.get('name')!r}",
        )  # fmt: skip
    theme = dict(theme)
    if "font" not in theme:  # no request to Google Fonts: the site needs no other host
        theme["font"] = False
        adapted.added.append("theme: font: false")
    ours = package_overrides()
    own = theme.get("custom_dir")
    if own is None:
        theme["custom_dir"] = str(ours)
        return theme
    folder = (file.parent / str(own)).resolve()
    if folder == ours.resolve():
        return theme
    if not folder.is_dir():
        raise SiteConfigError(file, [], f"theme.custom_dir {own!r} is not a folder")
    merged = config.cache / "mkdocs" / "theme"
    shutil.rmtree(merged, ignore_errors=True)
    shutil.copytree(ours, merged)
    shutil.copytree(folder, merged, dirs_exist_ok=True, symlinks=False)  # the project's win
    theme["custom_dir"] = str(merged)
    adapted.watch.append(folder)
    adapted.added.append("theme: pipeline-docs' templates under your custom_dir")
    return theme


def _linked(nav: object) -> set[str]:
    """Every page path a nav names, walked breadth first and bounded."""
    found: set[str] = set()
    todo, seen = [nav], 0
    while todo and seen < MAX_NAV_ENTRIES:
        item = todo.pop()
        seen += 1
        if isinstance(item, str):
            found.add(item.lstrip("./"))
        elif isinstance(item, list):
            todo.extend(item)
        elif isinstance(item, dict):
            todo.extend(item.values())
    return found


def hand_written(docs: Path) -> list[str]:
    """The project's Markdown pages of the docs folder that no generated page replaces,
    onboarding first (as the home page lists the guides), then by path."""
    if not docs.is_dir():
        return []
    pages = []
    for path in docs.rglob("*.md"):
        name = path.relative_to(docs).as_posix()
        if any(part.startswith(".") for part in path.relative_to(docs).parts):
            continue
        if name in GENERATED_PAGES or name.startswith(GENERATED_FOLDERS):
            continue
        pages.append(name)
    return sorted(pages, key=lambda p: ("onboarding" not in p.rsplit("/", 1)[-1], p))


def _nav(data: dict[str, Any], docs: Path, made: bool, added: list[str]) -> list[Any]:
    """The project's nav with the generated sections it lacks; without one (or in the default
    mkdocs.yml, `made`), the generated sections and the project's own pages."""
    default = list(default_mkdocs()["nav"])
    own = None if made else data.get("nav")
    if own is None:  # MkDocs' own nav would list every service page
        guides = hand_written(docs)
        if guides:
            default.insert(1, {"Guides": guides})
        if not made:
            added.append("nav: the generated sections" + (" and your pages" if guides else ""))
        return default
    nav = list(own) if isinstance(own, list) else [own]
    linked = _linked(nav)
    missing = [entry for entry in default if _name(entry) and not (_linked(entry) & linked)]
    for entry in missing:
        if "index.md" in _linked(entry):
            nav.insert(0, entry)
        else:
            nav.append(entry)
    if missing:
        added.append("nav: " + ", ".join(str(_name(e)) for e in missing))
    return nav


def _listed(data: dict[str, Any], key: str, needed: list[str], added: list[str]) -> list[Any]:
    own = data.get(key)
    values = list(own) if isinstance(own, list) else ([] if own is None else [own])
    paths = {v if isinstance(v, str) else (v.get("path") if isinstance(v, dict) else None)
             for v in values}  # fmt: skip
    for path in needed:
        if path not in paths:
            values.append(path)
            added.append(f"{key}: {path}")
    return values


def adapt(config: Config, file: Path, data: dict[str, Any], check_paths: bool = True) -> Adapted:
    """The keys to set over `file` (read as `data`) so that MkDocs builds every generated page.
    Raises SiteConfigError with the lines to add when the project's choice is in the way."""
    adapted = Adapted({})
    added = adapted.added
    docs = file.parent / str(data.get("docs_dir") or "docs")
    overrides = adapted.overrides
    overrides["theme"] = _theme(data, file, config, adapted)
    overrides["plugins"] = _plugins(data, file.parent, config, added)
    overrides["markdown_extensions"] = markdown_extensions(data, config, check_paths, added)
    defaults = default_mkdocs()
    overrides["extra_css"] = _listed(data, "extra_css", defaults["extra_css"], added)
    overrides["extra_javascript"] = _listed(
        data, "extra_javascript", defaults["extra_javascript"], added
    )
    own = str(data.get("not_in_nav") or "")
    lines = [line for line in own.splitlines() if line.strip()]
    wanted = [f"/{folder}" for folder in GENERATED_FOLDERS] + list(RELEASE_PATTERNS)
    if any(line not in lines for line in wanted):
        overrides["not_in_nav"] = "\n".join(lines + [w for w in wanted if w not in lines]) + "\n"
        added.append("not_in_nav: the generated folders")
    own_file = file == config.root / "mkdocs.yml"
    overrides["nav"] = _nav(data, docs, not own_file, added)
    name = data.get("site_name")
    if own_file and isinstance(name, str):
        overrides["site_name"] = html_title(name)
    return adapted
