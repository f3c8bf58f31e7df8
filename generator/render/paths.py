"""Where each generated page lives in the site; links are made from these only."""

from __future__ import annotations

import posixpath

from ..ids import page_name

HOME = "index.md"
REFERENCE = "reference/index.md"
TEMPLATES = "reference/templates/index.md"
CATALOG = "catalog/index.md"
ENVIRONMENTS = "catalog/environments/index.md"
TEAMS = "catalog/teams/index.md"
SERVICES = "catalog/services/index.md"
CHANGELOG = "changelog/index.md"
HEALTH = "health.md"
RULES = "reference/rules.md"
CATALOG_JSON = "catalog.json"
CATALOG_SCHEMA = "catalog.schema.json"  # the JSON Schema of catalog.json, published beside it
BUILD_JSON = "build.json"  # when the site was built, from which commits: the one file that says
FEED = "feed.xml"
CATALOG_SCRIPT = "assets/pipeline-docs/catalog.js"  # sorts and filters tables; in extra_javascript
SITE_CSS = "assets/pipeline-docs/site.css"  # the matrix, badges, cut values; in extra_css
PITFALLS = "pitfalls.md"


def schema_page(schema_id: str) -> str:
    return f"reference/schemas/{page_name(schema_id)}.md"


RELEASES = "reference/releases.md"  # the release picker: every earlier release's reference
_TAKEN = frozenset({"schemas", "templates", "releases", "rules", "index"})  # of reference/


def release_folder(release: str) -> str:
    """`reference/<release>/`: an earlier release's reference. A name the current reference
    already uses for a folder or page is prefixed `~r-`, which no page name has (`page_name`
    writes every `~` as `~7e`)."""
    name = page_name(release)
    return f"reference/{'~r-' + name if name in _TAKEN else name}/"


def release_index(release: str) -> str:
    return f"{release_folder(release)}index.md"


def release_schema_page(release: str, schema_id: str) -> str:
    return f"{release_folder(release)}schemas/{page_name(schema_id)}.md"


def published_schema(schema_id: str) -> str:
    """A pipeline schema as the site publishes it for service repos (`validate --schema URL`)."""
    return f"schemas/{page_name(schema_id)}.json"


def published_link(schema_id: str, site_url: str) -> dict[str, str]:
    """What a schema's page says of its published file: where it is, and its URL ("" when the
    config names no `site_url`)."""
    path = published_schema(schema_id)
    return {"path": path, "url": f"{site_url.rstrip('/')}/{path}" if site_url else ""}


def template_page(template_id: str) -> str:
    return (
        "reference/templates/"
        + "/".join(page_name(part) for part in template_id.split("/"))
        + ".md"
    )


def service_page(name: str) -> str:
    return f"catalog/services/{page_name(name)}.md"


def service_history_page(name: str) -> str:
    return f"catalog/history/{page_name(name)}.md"


def team_page(team_id: str) -> str:
    return f"catalog/teams/{page_name(team_id)}.md"


def environment_page(name: str) -> str:
    return f"catalog/environments/{page_name(name)}.md"


def health_page(area: str) -> str:
    """The findings of one rule area (`risk` for `risk/no-resources`)."""
    return f"health/{page_name(area)}.md"


def page_url(page: str, directory_urls: bool = True) -> str:
    """Where MkDocs serves a page, relative to the site's root: `catalog/services/x.md` at
    `catalog/services/x/` (`use_directory_urls`, MkDocs' default), else at `.../x.html`; an
    `index.md` at its folder; a file that is no page (`catalog.json`) as it is."""
    if not page.endswith(".md"):
        return page
    stem = page[: -len(".md")]
    folder, _, name = stem.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    if name == "index":
        return prefix if directory_urls else f"{prefix}index.html"
    return f"{prefix}{name}/" if directory_urls else f"{prefix}{name}.html"


def url_from(from_page: str, to_page: str, directory_urls: bool = True) -> str:
    """The link from one page to another (`page.md#anchor` too) as the built site has it:
    relative from the folder `from_page` is served in to `to_page`'s URL, as MkDocs writes the
    Markdown links it rewrites. For HTML that MkDocs does not parse, so does not rewrite."""
    target, _, fragment = to_page.partition("#")
    here = page_url(from_page, directory_urls)
    base = here if here.endswith("/") or not here else here.rpartition("/")[0] + "/"
    if target:
        there = page_url(target, directory_urls)
        link = relative_path(there or ".", base.rstrip("/") or ".")
        if there.endswith("/") or not there:
            link = "./" if link == "." else link + "/"
    else:
        link = ""
    return f"{link}#{fragment}" if fragment else link


def relative_path(path: str, start: str) -> str:
    """`posixpath.relpath(path, start)` for two paths from the site's root, without asking for
    the working folder each time (which relpath does for every link of a page: thousands)."""
    if ".." in path.split("/") or ".." in start.split("/") or path[:1] == "/" or start[:1] == "/":
        return posixpath.relpath(path, start)
    to = [part for part in path.split("/") if part not in ("", ".")]
    here = [part for part in start.split("/") if part not in ("", ".")]
    common = 0
    for a, b in zip(to, here, strict=False):
        if a != b:
            break
        common += 1
    return "/".join([".."] * (len(here) - common) + to[common:]) or "."
