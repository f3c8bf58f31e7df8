"""Where each generated page lives in the site; links are made from these only."""

from __future__ import annotations

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
FEED = "feed.xml"
CATALOG_SCRIPT = "assets/pipeline-docs/catalog.js"  # sorts and filters tables; in extra_javascript
SITE_CSS = "assets/pipeline-docs/site.css"  # the matrix, badges, cut values; in extra_css
PITFALLS = "pitfalls.md"


def schema_page(schema_id: str) -> str:
    return f"reference/schemas/{page_name(schema_id)}.md"


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
