"""Long values and odd names: a version of thousands of digits, names of hundreds of characters,
names that differ only by case, names a file system reserves. Every command ends normally (0 or
1 by the findings, never a traceback); what is over a limit is kept whole in catalog.json, shown
cut on pages and in tables, and named by a `limits/cut` finding with its file and line; every
page file is distinct even where case is ignored, and stays under the output folder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    NEXUS,
    deployment_yaml,
    git_commit,
    git_init,
    invoke,
    make_config,
    tarball,
    write,
)

from generator.analysis.versions import compare, semver_key, version_limit
from generator.ids import MAX_PAGE_NAME, page_name
from generator.render.paths import service_page, team_page, template_page

BIG = "1" + "0" * 5000  # more digits than Python converts to a number
LONG = "s" + "a" * 299  # a 300-character service name
TEAM = "t" * 300


def _manifest_site(
    root: Path, dev: dict[str, str], prod: dict[str, str], labels: dict[str, str] | None = None
) -> Path:
    """Two environments, dev promoting to prod, each a git repo of plain manifests (name ->
    image, with these labels per environment) whose first commit ran other versions, so that
    the history has them too."""
    envs = []
    for env, workloads in (("dev", dev), ("prod", prod)):
        repo = git_init(root / env)
        extra = {"app.kubernetes.io/version": labels[env]} if labels else {}
        text = "---\n".join(
            deployment_yaml(n, i, {"team": "team", **extra}) for n, i in workloads.items()
        )
        if BIG in text:  # first another long version: the history has one too
            write(repo / "apps.yaml", text.replace(BIG, BIG + "7"))
            git_commit(repo, "first")
        write(repo / "apps.yaml", text)
        git_commit(repo, "deploy")
        envs.append({"name": env, "repo": env})
    write(root / "owners.yml", yaml.safe_dump({"teams": {"team": {"name": "Team"}}}))
    return make_config(root, environments=envs, owners="owners.yml")


def _bundle_site(root: Path, service: str, versions: tuple[str, str]) -> Path:
    """dev and prod, each an environment.yml listing one bundle whose bundle.yml says
    `service:` and an unquoted `version:`, as written."""
    envs = []
    for number, (env, version) in enumerate(zip(("dev", "prod"), versions, strict=True)):
        folder = root / "mirror" / "svc" / f"1.0.{number}"
        folder.mkdir(parents=True)
        bundle = f"service: {service}\nversion: {version}\nowner: team\n".encode()
        manifest = deployment_yaml("svc", f"corp/svc:1.0.{number}").encode()
        (folder / f"svc-1.0.{number}.tar.gz").write_bytes(
            tarball({"bundle.yml": bundle, "manifests/svc.yaml": manifest})
        )
        repo = git_init(root / env)
        url = f"{NEXUS}svc/1.0.{number}/svc-1.0.{number}.tar.gz"
        write(repo / "environment.yml", yaml.safe_dump({"name": env, "bundles": [url]}))
        git_commit(repo, "deploy")
        envs.append({"name": env, "repo": env})
    write(root / "owners.yml", yaml.safe_dump({"teams": {"team": {"name": "Team"}}}))
    return make_config(
        root, environments=envs, owners="owners.yml", bundles={"mirrors": {NEXUS: "mirror/"}}
    )


def _run_all(config: Path, tmp_path: Path, service: str) -> dict[str, Any]:
    """check, catalog (table and JSON), generate, build, history and diff: none raises (the
    in-process runner re-raises any exception), each exits 0 or 1; the JSON catalog returned."""
    for args in (
        ["check"],
        ["catalog"],
        ["generate", "--out", str(tmp_path / "out")],
        ["history", service],
        ["diff", "dev", "prod"],
        ["diff", "prod"],
        ["build", "--fail-on", "never", "--site-dir", str(tmp_path / "site")],
    ):
        result = invoke(*args, "--config", str(config))
        assert result.exit_code in (0, 1), (args, result.output)
    result = invoke("catalog", "--format", "json", "--config", str(config))
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _cut_findings(config: Path) -> list[dict[str, Any]]:
    result = invoke("check", "--format", "json", "--fail-on", "never", "--config", str(config))
    return [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "limits/cut"]


def _versions(document: dict[str, Any], service: str) -> dict[str, str]:
    found = next(s for s in document["services"] if s["name"] == service)
    return {d["environment"]: d["version"] for d in found["deployments"]}


# --- a version of thousands of digits ------------------------------------------------------------


@pytest.mark.parametrize("where", ["image tag", "version label"])
def test_a_version_of_thousands_of_digits_in_a_manifest(tmp_path: Path, where: str) -> None:
    if where == "image tag":
        config = _manifest_site(tmp_path, {"svc": f"corp/svc:{BIG}1"}, {"svc": f"corp/svc:{BIG}"})
    else:  # app.kubernetes.io/version, with an image tag that is no version
        image = {"svc": "corp/svc:latest"}
        config = _manifest_site(tmp_path, image, image, {"dev": BIG + "1", "prod": BIG})
    document = _run_all(config, tmp_path, "svc")
    assert _versions(document, "svc") == {"dev": BIG + "1", "prod": BIG}  # kept whole
    findings = _cut_findings(config)
    places = {(f["file"], f["line"]) for f in findings}
    assert ("dev:apps.yaml", 1) in places and ("prod:apps.yaml", 1) in places
    assert all("5002 characters" in f["message"] or "5001 characters" in f["message"]
               or "5003 characters" in f["message"] for f in findings)  # fmt: skip
    page = (tmp_path / "out" / service_page("svc")).read_text("utf-8")
    assert f"<code>{BIG[:127]}…</code>" in page  # shown cut, in HTML (other findings may quote it)
    catalog_page = (tmp_path / "out" / "catalog" / "index.md").read_text("utf-8")
    assert BIG[:127] + "…" in catalog_page and BIG not in catalog_page
    table = invoke("catalog", "--config", str(config)).stdout
    assert BIG[:127] + "…" in table and BIG not in table


def test_a_version_of_thousands_of_digits_in_bundle_yml(tmp_path: Path) -> None:
    config = _bundle_site(tmp_path, "svc", (BIG + "1", BIG))
    document = _run_all(config, tmp_path, "svc")
    assert _versions(document, "svc") == {"dev": BIG + "1", "prod": BIG}
    findings = _cut_findings(config)
    # at the line of environment.yml that lists the bundle
    assert {(f["file"], f["line"]) for f in findings} == {
        ("dev:environment.yml", 2), ("prod:environment.yml", 2)
    }  # fmt: skip
    catalog_page = (tmp_path / "out" / "catalog" / "index.md").read_text("utf-8")
    assert BIG[:127] + "…" in catalog_page and BIG not in catalog_page


def test_a_version_of_thousands_of_digits_in_a_bundle_url_of_environment_yml(
    tmp_path: Path,
) -> None:
    envs = []
    for env, version in (("dev", BIG + "1"), ("prod", BIG)):
        repo = git_init(tmp_path / env)
        url = f"{NEXUS}svc/{version}/svc-{version}.tar.gz"
        write(repo / "environment.yml", yaml.safe_dump({"name": env, "bundles": [url]}))
        git_commit(repo, "deploy")
        envs.append({"name": env, "repo": env})
    (tmp_path / "mirror").mkdir()
    config = make_config(tmp_path, environments=envs, bundles={"mirrors": {NEXUS: "mirror/"}})
    document = _run_all(config, tmp_path, "svc")
    assert _versions(document, "svc") == {"dev": BIG + "1", "prod": BIG}  # guessed from the URL
    places = {(f["file"], f["line"]) for f in _cut_findings(config)}
    assert places == {("dev:environment.yml", 2), ("prod:environment.yml", 2)}


def test_versions_compare_without_turning_thousands_of_digits_into_a_number() -> None:
    assert semver_key(BIG) is None  # over the limit: a string
    assert compare(BIG, BIG) == 0
    assert compare(BIG + "1", BIG) is None  # not comparable by semver...
    assert compare(BIG + "1", BIG, {BIG: "2026-01-01", BIG + "1": "2026-02-01"}) == 1  # ...by time
    assert compare(f"1.0.0-{BIG}", "1.0.0") is None
    big_number = "9" * 70  # within the version limit, but no version number is that long
    assert semver_key(f"{big_number}.0.0") is None
    assert compare("1.10.0", "1.9.0") == 1 and compare("1.0.0-rc.2", "1.0.0-rc.10") == -1
    arabic = "\u0661.\u0660.\u0660"  # 1.0.0 in Arabic-Indic digits: not semver's digits
    assert semver_key(arabic) is None
    with version_limit(5):  # a configured limit: a longer version is a string
        assert semver_key("1.2.3") is not None and semver_key("1.2.30") is None


def test_a_configured_version_limit_cuts_and_compares_as_a_string(tmp_path: Path) -> None:
    config = _manifest_site(tmp_path, {"svc": "corp/svc:1.10.0"}, {"svc": "corp/svc:1.9.0"})
    data = yaml.safe_load(config.read_text("utf-8"))
    data["limits"] = {"version_chars": 5}
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    document = _run_all(config, tmp_path, "svc")
    assert _versions(document, "svc") == {"dev": "1.10.0", "prod": "1.9.0"}
    findings = _cut_findings(config)
    assert [(f["file"], f["line"]) for f in findings] == [("dev:apps.yaml", 1)]
    table = invoke("catalog", "--config", str(config)).stdout
    assert "1.10…" in table and "1.10.0" not in table


# --- names of hundreds of characters -------------------------------------------------------------


@pytest.mark.parametrize("label", [True, False], ids=["name label", "metadata.name"])
def test_a_service_name_of_300_characters_in_a_manifest(tmp_path: Path, label: bool) -> None:
    config = _manifest_site(tmp_path, {LONG: "corp/svc:1.1.0"}, {LONG: "corp/svc:1.0.0"})
    if not label:
        for env in ("dev", "prod"):
            data = yaml.safe_load((tmp_path / env / "apps.yaml").read_text("utf-8"))
            del data["metadata"]["labels"]["app.kubernetes.io/name"]
            write(tmp_path / env / "apps.yaml", yaml.safe_dump(data))
            git_commit(tmp_path / env, "no name label")
    document = _run_all(config, tmp_path, LONG)
    assert [s["name"] for s in document["services"]] == [LONG]  # kept whole
    findings = [f for f in _cut_findings(config) if "service name" in f["message"]]
    assert {(f["file"], f["line"]) for f in findings} == {
        ("dev:apps.yaml", 1),
        ("prod:apps.yaml", 1),
    }
    page = tmp_path / "out" / service_page(LONG)
    assert page.is_file() and len(page.name) <= MAX_PAGE_NAME + len(".md")
    text = page.read_text("utf-8")
    assert f"\n# {LONG[:119]}…\n" in text  # its heading cut (other findings may quote it)
    index = (tmp_path / "out" / "catalog" / "services" / "index.md").read_text("utf-8")
    assert LONG[:119] + "…" in index and LONG not in index
    assert f"\ntitle: {LONG}\n" in text  # the front-matter title stays whole (search finds it)
    assert LONG[:119] + "…" in invoke("catalog", "--config", str(config)).stdout
    assert (tmp_path / "site" / "catalog" / "services" / page.stem / "index.html").is_file()


def test_a_service_name_of_300_characters_in_bundle_yml(tmp_path: Path) -> None:
    config = _bundle_site(tmp_path, LONG, ("1.0.1", "1.0.0"))
    document = _run_all(config, tmp_path, LONG)
    assert LONG in [s["name"] for s in document["services"]]
    findings = [f for f in _cut_findings(config) if "service name" in f["message"]]
    assert {(f["file"], f["line"]) for f in findings} == {
        ("dev:environment.yml", 2), ("prod:environment.yml", 2)
    }  # fmt: skip
    assert (tmp_path / "out" / service_page(LONG)).is_file()


def test_a_team_of_300_characters_in_owners_yml(tmp_path: Path) -> None:
    config = _manifest_site(tmp_path, {"svc": "corp/svc:1.1.0"}, {"svc": "corp/svc:1.0.0"})
    owners = f"teams:\n  team: {{name: Team}}\n  {TEAM}:\n    name: {'N' * 300}\nservices:\n  svc: {TEAM}\n"
    (tmp_path / "owners.yml").write_text(owners, encoding="utf-8")
    document = _run_all(config, tmp_path, "svc")
    assert [t["id"] for t in document["teams"]] == ["team", TEAM]
    findings = _cut_findings(config)
    line = 3  # where the team is defined
    assert {(f["file"], f["line"], f["message"].split(" '")[0]) for f in findings} == {
        ("owners.yml", line, "team id"), ("owners.yml", line, "team name")
    }  # fmt: skip
    page = (tmp_path / "out" / team_page(TEAM)).read_text("utf-8")
    assert f"\n# {'N' * 119}…\n" in page  # the heading cut; the front-matter title whole
    index = (tmp_path / "out" / "catalog" / "teams" / "index.md").read_text("utf-8")
    assert "N" * 119 + "…" in index and "N" * 300 not in index


# --- names that differ only by case, and names a file system reserves ------------------------------


ODD = ["API", "api", "Api", "../../etc", "CON", "con", "NUL", "aux", "com1.x", "lpt9", "🙂",
       "a/b", "a\\b", "a\x00b", "index", "INDEX", ".", "..", "a.", "a", "~", ""]  # fmt: skip


def test_page_names_are_distinct_where_case_is_ignored_and_safe_everywhere() -> None:
    names = [page_name(n) for n in ODD] + [page_name("x" * 300), page_name("X" * 300)]
    assert len({n.lower() for n in names}) == len(names)  # distinct on macOS and Windows
    reserved = {"con", "prn", "aux", "nul", *(f"{d}{n}" for d in ("com", "lpt") for n in range(10))}
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", name), name
        assert name.split(".")[0].lower() not in reserved, name
        assert not name.startswith(".") and not name.endswith("."), name
        assert len(name) <= MAX_PAGE_NAME
    assert page_name("payments-api") == "payments-api"  # lower-case names keep their pages
    assert page_name("a b") == "a~20b"
    assert page_name("\udcff") == "~ed~b3~bf"  # a file name that is not UTF-8: no exception
    for part in ("..", "."):
        assert ".." not in template_page(f"{part}/x").split("/")


def test_services_and_teams_that_differ_only_by_case_get_pages_of_their_own(
    tmp_path: Path,
) -> None:
    services = {n: f"corp/{i}:1.0.0" for i, n in enumerate([*ODD[:8], "🙂", "index", "INDEX"])}
    config = _manifest_site(tmp_path, services, services)
    owners = {"teams": {"API": {"name": "Upper"}, "api": {"name": "Lower"}, "team": {"name": "T"},
                        "CON": {"name": "Con"}}}  # fmt: skip
    write(tmp_path / "owners.yml", yaml.safe_dump(owners))
    document = _run_all(config, tmp_path, "API")
    assert {s["name"] for s in document["services"]} == set(services)
    out = (tmp_path / "out").resolve()
    pages = [p for p in out.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(out) for p in pages)
    for folder in ("catalog/services", "catalog/teams"):
        names = [p.name for p in (out / folder).iterdir()]
        assert len({n.lower() for n in names}) == len(names), names
    for name in services:
        assert (out / service_page(name)).is_file(), name
    for team in owners["teams"]:
        assert (out / team_page(team)).is_file(), team
    assert not (tmp_path / "etc").exists() and not (tmp_path / "out" / "etc").exists()
    site = (tmp_path / "site").resolve()
    built = [p for p in site.rglob("index.html")]
    assert all(p.resolve().is_relative_to(site) for p in built)
    assert len({str(p.relative_to(site)).lower() for p in built}) == len(built)
