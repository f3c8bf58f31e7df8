"""The bundled sample: three environments with history, a dozen services, drift, and its pages."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO

from generator.ids import schema_id
from generator.model import Model, Severity
from generator.render import paths

LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_three_environments_in_promotion_order_each_read_at_a_commit(sample_model: Model) -> None:
    assert [e.name for e in sample_model.environments] == ["dev", "staging", "production"]
    for env in sample_model.environments:
        assert re.fullmatch(r"[0-9a-f]{40}", env.commit), env.name
        assert env.commit_date
        assert env.deployments


def test_the_sample_has_services_teams_and_versions_that_differ(sample_model: Model) -> None:
    services = {d.service for e in sample_model.environments for d in e.deployments}
    assert len(services) >= 9
    assert len(sample_model.teams) >= 3
    owners = {d.owner for e in sample_model.environments for d in e.deployments}
    assert len(owners & {t.id for t in sample_model.teams}) >= 3
    versions = {
        env.name: {d.service: d.version for d in env.deployments}
        for env in sample_model.environments
    }
    assert versions["dev"] != versions["staging"] != versions["production"]
    assert versions["dev"]["payments-api"] == "1.4.2"
    assert versions["staging"]["payments-api"] == "1.4.1"
    assert versions["production"]["payments-api"] == "1.4.2"
    assert versions["dev"]["orders"] == "e19a3d4"  # a commit hash as the version


def test_payments_api_skipped_staging_in_production_and_is_pending_in_staging(
    sample_model: Model,
) -> None:
    states = {(s, e): state for s, e, state in sample_model.drift}
    assert states[("payments-api", "production")] == "skipped"
    assert states[("payments-api", "staging")] == "pending"
    assert ("payments-api", "dev") not in states
    skipped = [
        f
        for f in sample_model.findings
        if f.rule == "catalog/skipped-environment" and "payments-api" in f.message
    ]
    assert len(skipped) == 1
    assert skipped[0].severity is Severity.WARNING
    assert skipped[0].file == "production:environment.yml"
    assert skipped[0].line is not None


def test_the_sample_has_no_error_findings(sample_model: Model) -> None:
    errors = [f for f in sample_model.findings if f.severity is Severity.ERROR]
    assert errors == []


def test_production_bundles_are_pinned_and_verified(sample_model: Model) -> None:
    production = sample_model.environments[-1]
    bundles = [d for d in production.deployments if d.source == "bundle"]
    assert bundles
    assert all(d.verified is True for d in bundles)


def test_every_page_is_generated(sample_model: Model, sample_pages: dict[str, str]) -> None:
    expected = {paths.HOME, paths.CATALOG, paths.CATALOG_JSON, paths.REFERENCE, paths.TEMPLATES}
    for path in sorted((REPO / "schemas").glob("*.json")):
        expected.add(f"reference/schemas/{schema_id(path)}.md")
    for path in sorted((REPO / "examples" / "templates").glob("*.yml")):
        if not path.name.endswith(".docs.yml"):
            expected.add(f"reference/templates/{path.stem}.md")
    for env in sample_model.environments:
        expected.add(f"catalog/environments/{env.name}.md")
    for service in {d.service for e in sample_model.environments for d in e.deployments}:
        expected.add(f"catalog/services/{service}.md")
    for team in sample_model.teams:
        expected.add(f"catalog/teams/{team.id}.md")
    assert len(expected) > 30
    assert expected <= set(sample_pages)


def test_the_home_page_links_to_schemas_templates_catalog_and_environments(
    sample_pages: dict[str, str],
) -> None:
    links = set(LINK.findall(sample_pages[paths.HOME]))
    assert "reference/schemas/service.md" in links
    assert "reference/templates/build.md" in links
    assert "catalog/index.md" in links
    assert {f"catalog/environments/{e}.md" for e in ("dev", "staging", "production")} <= links


def test_every_link_between_generated_pages_has_a_target(sample_pages: dict[str, str]) -> None:
    guides = {p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")}
    missing = []
    for page, body in sorted(sample_pages.items()):
        if not page.endswith(".md"):
            continue
        for link in LINK.findall(body):
            target = link.split("#", 1)[0]
            if not target or re.match(r"^[a-z]+:", link):
                continue
            resolved = Path(page).parent.joinpath(target).as_posix()
            normal = "/".join(_normalise(resolved.split("/")))
            if normal not in sample_pages and normal not in guides:
                missing.append(f"{page} -> {link}")
    assert missing == []


def _normalise(parts: list[str]) -> list[str]:
    out: list[str] = []
    for part in parts:
        if part == "..":
            out.pop()
        elif part not in (".", ""):
            out.append(part)
    return out


def test_every_option_anchor_linked_from_a_guide_exists(sample_pages: dict[str, str]) -> None:
    guide = (REPO / "docs" / "guides" / "onboarding.md").read_text(encoding="utf-8")
    anchors = re.findall(r"\.\./reference/schemas/([\w-]+)\.md#([\w.-]+)", guide)
    assert anchors
    for schema, anchor in anchors:
        assert f'id="{anchor}"' in sample_pages[f"reference/schemas/{schema}.md"], anchor


def test_the_same_inputs_give_the_same_pages(
    shared_sample: Path, sample_pages: dict[str, str]
) -> None:
    from generator.collect import collect
    from generator.config import load_config
    from generator.generate import generate

    config = load_config(shared_sample)
    again = generate(config, collect(config))
    # but build.json, which says when: the one file meant to change from one run to the next
    stamped = {"build.json"}
    assert {k: v for k, v in again.items() if k not in stamped} == {
        k: v for k, v in sample_pages.items() if k not in stamped
    }
    assert set(again) == set(sample_pages)
