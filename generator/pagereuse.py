"""An incremental MkDocs build: a page whose inputs did not change is not converted again.

MkDocs' `--dirty` cannot serve here: gen-files writes every generated page anew on each build,
so every page counts as modified, and a dirty build's search index covers only the pages it
rebuilt. Instead, `build` keeps, in the cache, what each page turned into, by the digest of what
it is made from, in two steps as MkDocs makes it:

- **converted**: a page's Markdown (after the plugins' `on_page_markdown`) gives its HTML body,
  table of contents, title, anchors, links and any warning logged. The key holds the Markdown,
  the page's path, the MkDocs config, the code and, for a page quoting snippets (`--8<--`),
  every file of pymdownx.snippets' `base_path`; it is reused only while each file its links
  looked up is still there as it was (or still missing), so that a page added elsewhere makes
  again only the pages linking to it.
- **written**: the page's final HTML and the search entries made of it. The key adds the nav
  (every title and URL in it), the page's title, URL and neighbours, and the theme's files.

A page found under both keys is copied from the cache; one found only under the first skips
Markdown and goes through the theme; the rest are built as MkDocs builds them. Every other step
(the nav, static files, the sitemap, the search index written from all entries, the anchor
check) runs as always, so the site is the same, byte for byte, as a clean build's.

It runs with MkDocs itself only (MkDocs 1.6, the last of 1.x, whose build steps are fixed), by
wrapping two of `mkdocs.commands.build`'s functions for the length of one build, and only when
every plugin is one it knows (search, gen-files, ours): another plugin's page events would be
skipped. Otherwise, or with no cache folder, the build is a full one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .cachekey import key_of, stated_files
from .kept import Blobs, Kept
from .pagehalves import Halves
from .render import htmlblocks

# Material's search registers under both names; ours are added by `build`
KNOWN_PLUGINS = frozenset(
    {"search", "gen-files", *(f"material/{name}" for name in ("search",)),
     *(f"pipeline-docs/{name}" for name in ("progress", "deferred"))}
)  # fmt: skip
MOST_THEME_FILES = 50_000  # theme files looked at for its digest; more: no reuse
MOST_SNIPPET_FILES = 10_000
SNIPPETS = "pymdownx.snippets"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # in a repr: differs from one run to the next


def _stable(value: object) -> str:
    return _ADDRESS.sub("", repr(value))


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def _tree_digest(folders: list[str], most: int) -> str | None:
    """Of every file under the folders, by path, size and modification time; None past `most`."""
    rows = stated_files([Path(f) for f in folders], most)
    return None if rows is None else _digest(json.dumps(rows))


def _config_digest(config: Any) -> str:
    """Of the loaded MkDocs config: every value, each plugin's own config, the theme's."""
    # where the site is written is no part of any page
    values = {k: v for k, v in config.items() if k not in ("plugins", "theme", "site_dir")}
    plugins = [(name, dict(plugin.config)) for name, plugin in config.plugins.items()]
    theme = (config.theme.name, list(config.theme.dirs), dict(config.theme))
    return _digest(json.dumps([values, plugins, theme], sort_keys=True, default=_stable))


def _toc(items: Any) -> list[Any]:
    return [[item.title, item.id, item.level, _toc(item.children)] for item in items]


def _anchor_links(data: list[Any]) -> list[Any]:
    from mkdocs.structure.toc import AnchorLink

    links = []
    for title, anchor, level, children in data:
        link = AnchorLink(title, anchor, level)
        link.children = _anchor_links(children)
        links.append(link)
    return links


def _nav(items: Any) -> list[Any]:
    return [
        [type(item).__name__, item.title, getattr(item, "url", None), _nav(item.children or [])]
        for item in items
    ]


class _Logged(logging.Handler):
    """The warnings MkDocs logs while a page is made, to log again when it is reused."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[list[Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append([record.name, record.levelno, record.getMessage()])


@contextmanager
def _logged() -> Iterator[_Logged]:
    handler = _Logged()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def _found(file: Any) -> Any:
    """What a link's conversion reads of the file it names: its URL, and if it is left out."""
    return None if file is None else [file.url, file.inclusion.is_excluded()]


@contextmanager
def _recording(files: Any, lookups: dict[str, Any]) -> Iterator[None]:
    """Every file the links of a page look up while it converts, into `lookups`."""
    look = files.get_file_from_path

    def recorded(path: str) -> Any:
        found = look(path)
        lookups[path] = _found(found)
        return found

    files.get_file_from_path = recorded
    try:
        yield
    finally:
        del files.get_file_from_path


def _looked_up(files: Any, lookups: dict[str, Any]) -> dict[str, Any]:
    """The same lookups made in these files: a conversion is reused only if they agree, so a
    page added or removed elsewhere makes again only the pages that link to it."""
    return {path: _found(files.get_file_from_path(path)) for path in lookups}


def _replay(records: list[list[Any]]) -> None:
    for name, level, message in records:
        logging.getLogger(name).log(level, "%s", message)


class PageReuse:
    """What one build reuses and keeps: `converted` and `written` entries (`Kept`), with the
    HTML they name in files of `folder/pages/`, by digest."""

    def __init__(self, config: Any, folder: Path, written: Callable[[], None]) -> None:
        self.config = config
        self.blobs = Blobs(folder / "pages")
        self.base = key_of(_config_digest(config))
        self.theme = _tree_digest(list(config.theme.dirs), MOST_THEME_FILES)
        self.converted = Kept(folder, "pages-converted", self.base)
        self.written = Kept(folder, "pages-written", self.base)
        self.count_written = written
        self.snippets: str | None = None
        self.nav_key: str | None = None
        self.keys: dict[str, str | None] = {}  # each page's `converted` key, by its path
        self.unread: dict[str, str] = {}  # pages converted from the cache: their HTML's key
        self.files: Any = None  # MkDocs' files of this build
        self.reused = {"converted": 0, "written": 0}
        self.halves = Halves(self)  # a cold build shared with a forked child (`pagehalves`)
        # in the child: its pages, as written (the key, the record, whether from the cache)
        self.made: dict[str, tuple[str | None, dict[str, Any], bool]] = {}

    @classmethod
    def of(cls, config: Any, folder: Path | None, written: Callable[[], None]) -> PageReuse | None:
        """The reuse for this config, or None when a full build is the only safe one."""
        if folder is None or any(name not in KNOWN_PLUGINS for name in config.plugins):
            return None
        return cls(config, folder, written)

    @property
    def search(self) -> Any:
        """The search plugin's index, which it makes anew for each build (`on_config`)."""
        found = (p.search_index for p in self.config.plugins.values() if hasattr(p, "search_index"))
        return next(found, None)

    def _snippets_key(self) -> str | None:
        if self.snippets is None:
            settings = self.config.mdx_configs.get(SNIPPETS, {})
            folders = settings.get("base_path", ["."])
            folders = [folders] if isinstance(folders, str) else list(folders)
            self.snippets = _tree_digest(folders, MOST_SNIPPET_FILES) or ""
        return self.snippets or None

    def _converted_key(self, page: Any) -> str | None:
        parts = [page.file.src_uri, _digest(page.markdown)]
        if "--8<--" in page.markdown:
            if (snippets := self._snippets_key()) is None:
                return None
            parts.append(snippets)
        return key_of(self.base, *parts)

    def render(self, page: Any, config: Any, files: Any) -> None:
        """`Page.render`, or what it gave for the same Markdown in an earlier build."""
        from mkdocs.structure.pages import Page
        from mkdocs.structure.toc import TableOfContents

        self.files = files
        key = self._converted_key(page)
        self.keys[page.file.src_uri] = key
        kept = self.converted.get(key) if key else None
        same = kept is not None and _looked_up(files, kept["lookups"]) == kept["lookups"]
        if key is not None and kept is not None and same and self.blobs.has(key):
            links = {}
            for uri, anchors in kept["links"].items():
                if (target := files.get_file_from_path(uri)) is None:
                    break
                links[target] = anchors
            else:
                # read when the theme needs it: a page written from the cache needs none, and
                # the known plugins' `on_page_content` leave the HTML as it is
                page.content = ""
                self.unread[page.file.src_uri] = key
                page.toc = TableOfContents(_anchor_links(kept["toc"]))
                page._title_from_render = kept["title"]
                page.present_anchor_ids = set(kept["anchors"])
                page.links_to_anchors = links
                _replay(kept["logged"])
                self.reused["converted"] += 1
                return
        lookups: dict[str, Any] = {}
        with _logged() as logged, _recording(files, lookups):
            Page.render(page, config, files)
        if key is None:
            return
        # the blocks set aside for search go back in: a reused page is indexed whole
        content = htmlblocks.restore(page.content, htmlblocks.pending())
        self.blobs.put(key, content.encode("utf-8"))
        links = {
            target.src_uri: anchors for target, anchors in (page.links_to_anchors or {}).items()
        }
        self.converted.put({
            "toc": _toc(page.toc), "title": page._title_from_render,
            "anchors": sorted(page.present_anchor_ids or ()), "links": links,
            "logged": logged.records, "lookups": lookups,
        }, key)  # fmt: skip

    def _written_key(self, page: Any, nav: Any, excluded: bool) -> str | None:
        converted = self.keys.get(page.file.src_uri)
        if self.theme is None or converted is None:
            return None
        if self.nav_key is None:
            self.nav_key = _digest(json.dumps(_nav(nav.items)))
        near = [(p.url, p.title) if p else None for p in (page.previous_page, page.next_page)]
        meta = json.dumps(page.meta, sort_keys=True, default=_stable)
        # the body is what `converted` names, through the known plugins' `on_page_content`
        return key_of(self.base, self.theme, self.nav_key, converted, page.url, page.title,
                      page.edit_url, near, meta, excluded)  # fmt: skip

    def build_page(self, original: Callable[..., None], page: Any, config: Any, doc_files: Any,
                   nav: Any, env: Any, dirty: bool = False, excluded: bool = False) -> None:  # fmt: skip
        """MkDocs' `_build_page`, or the page an earlier build wrote for the same inputs."""
        key = self._written_key(page, nav, excluded)
        kept = self.written.get(key) if key else None
        output = self.blobs.get(key) if key is not None and kept is not None else None
        if kept is not None and output is not None:
            target = Path(page.file.abs_dest_path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(output)
            if self.search is not None:
                self.search.entries.extend(kept["entries"])
            _replay(kept["logged"])
            self.count_written()
            self.reused["written"] += 1
            if self.halves.state == "child":
                self.made[page.file.src_uri] = (key, kept, True)
            return
        if (unread := self.unread.pop(page.file.src_uri, None)) is not None:
            body = self.blobs.get(unread)
            if body is not None:
                page.content = body.decode("utf-8")
            else:  # gone from the cache meanwhile: converted after all
                from mkdocs.structure.pages import Page

                Page.render(page, config, self.files)
        before = len(self.search.entries) if self.search is not None else 0
        with _logged() as logged:
            original(page, config, doc_files, nav, env, dirty, excluded=excluded)
        target = Path(page.file.abs_dest_path)
        entries = self.search.entries[before:] if self.search is not None else []
        record = {"entries": entries, "logged": logged.records}
        if key is not None and target.is_file():
            self.blobs.put(key, target.read_bytes())
            self.written.put(record, key)
        else:
            key = None
        if self.halves.state == "child":
            self.made[page.file.src_uri] = (key, record, False)

    def take_written(self, page: Any, key: Any, record: dict[str, Any], cached: bool) -> None:
        """A page the forked child wrote (`pagehalves`): what it gave the search index and
        logged, as if written here, and kept in the cache as the child kept it (`cached`: the
        child copied it from the cache)."""
        self.unread.pop(page.file.src_uri, None)
        if self.search is not None:
            self.search.entries.extend(record.get("entries") or [])
        _replay(record.get("logged") or [])
        if isinstance(key, str):
            self.written.put(record, key)
            self.blobs.used.add(key)
        self.count_written()
        if cached is True:
            self.reused["written"] += 1

    def save(self) -> None:
        """Keep this build's entries, and only the HTML they name."""
        self.converted.save()
        self.written.save()
        self.blobs.save()


@contextmanager
def reusing(reuse: PageReuse | None) -> Iterator[None]:
    """For the length of one MkDocs build, pages made as `reuse` says (nothing when None)."""
    if reuse is None:
        yield
        return
    from mkdocs.commands import build as steps
    from mkdocs.structure.pages import Page

    original_populate, original_build = steps._populate_page, steps._build_page

    halves = reuse.halves

    def populate(page: Page, config: Any, files: Any, dirty: bool = False) -> None:
        if halves.state == "unstarted":
            halves.start(files, config, populate)
        if halves.populate(page):
            return
        page.render = lambda config, files: reuse.render(page, config, files)  # type: ignore[method-assign]
        try:
            original_populate(page, config, files, dirty)
        finally:
            del page.render

    def build_page(page: Page, config: Any, doc_files: Any, nav: Any, env: Any,
                   dirty: bool = False, excluded: bool = False) -> None:  # fmt: skip
        if halves.build_page(page):
            return
        reuse.build_page(original_build, page, config, doc_files, nav, env, dirty, excluded)
        halves.built(page)

    steps._populate_page, steps._build_page = populate, build_page
    try:
        yield
    finally:
        halves.end()  # a forked child ends here, whatever happened
        steps._populate_page, steps._build_page = original_populate, original_build
