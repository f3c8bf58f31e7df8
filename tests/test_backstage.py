"""`catalog --format backstage`: the catalog as Backstage entities (#20).

Every export here (the sample, whole and per environment, with a site URL; a synthetic
organisation; a project of hostile names) is checked the same ways: every name by Backstage's
rule, every owner ref naming a Group of the export and every system ref a System of it
(`test_every_export_follows_the_name_rule_and_its_refs_resolve`), and each entity against
Backstage's own schemas and SchemaStore's `catalog-info.json` from ../shared/corpus, resolved
locally by one `referencing` registry, never over the network (`test_every_export_validates`)."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, CORPUS_ABSENT, CORPUS_PRESENT, REPO, invoke, write
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from generator.collect import collect
from generator.config import ConfigError, load_config
from generator.render.backstage import (
    MAX_NAME,
    UNOWNED,
    assign_names,
    backstage_yaml,
    email_of,
    entities,
    follows_rule,
    web_url,
)
from generator.render.catalog import catalog_document

BACKSTAGE = CORPUS / "formats" / "backstage"
SCHEMASTORE = CORPUS / "schemas" / "schemastore" / "catalog-info.json"
NAME = re.compile(r"^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$")  # Backstage's rule, as the issue says
PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
KIND_SCHEMAS = {
    "Component": "ComponentV1alpha1",
    "Group": "GroupV1alpha1",
    "System": "SystemV1alpha1",
}


@cache
def validators() -> tuple[dict[str, Draft7Validator], Draft7Validator]:
    """Backstage's schema of each kind, and SchemaStore's catalog-info.json: one registry of
    every schema file, so that `$ref`s (`Entity`, `common#relation`) resolve locally; the
    registry has no retriever, so a ref to anything else fails rather than fetching it."""
    resources = []
    for path in sorted(BACKSTAGE.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, DRAFT7)))
    store = json.loads(SCHEMASTORE.read_text(encoding="utf-8"))
    resources.append((store["$id"], Resource.from_contents(store, DRAFT7)))
    registry: Registry[Any] = Registry().with_resources(resources)
    kinds = {
        kind: Draft7Validator({"$ref": schema_id}, registry=registry)
        for kind, schema_id in KIND_SCHEMAS.items()
    }
    return kinds, Draft7Validator(store, registry=registry)


def parse(text: str) -> list[dict[str, Any]]:
    """The export as a Backstage catalog reads it: YAML documents, each opened by `---`."""
    documents = list(yaml.safe_load_all(text))
    assert all(isinstance(d, dict) for d in documents)
    assert text.splitlines().count("---") == len(documents)  # each one opened explicitly
    assert not documents or text.startswith("---\n")
    return documents


def check_names_and_refs(documents: list[dict[str, Any]]) -> None:
    """Names by the rule and unique per kind (whatever the case), annotations' keys by the rule
    and their values strings, links web URLs, and every owner and system ref resolved."""
    seen: dict[str, set[str]] = {}
    for entity in documents:
        metadata = entity["metadata"]
        name = metadata["name"]
        assert NAME.match(name) and len(name) <= MAX_NAME, name
        names = seen.setdefault(entity["kind"], set())
        assert name.lower() not in names, f"two {entity['kind']}s named {name}"
        names.add(name.lower())
        for key, value in metadata.get("annotations", {}).items():
            assert isinstance(value, str), (name, key, value)
            prefix, _, part = key.rpartition("/")
            assert NAME.match(part) and len(part) <= MAX_NAME, key
            assert not prefix or (PREFIX.match(prefix) and len(prefix) <= 253), key
        for link in metadata.get("links", []):
            assert re.match(r"^https?://[^\s@]+$", link["url"]), link
    groups, systems = seen.get("Group", set()), seen.get("System", set())
    for entity in documents:
        spec = entity["spec"]
        if entity["kind"] in ("Component", "System"):
            kind, _, group = spec["owner"].partition(":default/")
            assert kind == "group" and group.lower() in groups, spec["owner"]
        if "system" in spec:
            kind, _, system = spec["system"].partition(":default/")
            assert kind == "system" and system.lower() in systems, spec["system"]


def check_schemas(documents: list[dict[str, Any]]) -> None:
    """Each entity against its kind's Backstage schema and SchemaStore's catalog-info.json."""
    by_kind, store = validators()
    for entity in documents:
        errors = [e.message for e in by_kind[entity["kind"]].iter_errors(entity)]
        errors += [e.message for e in store.iter_errors(entity)]
        assert not errors, (entity["metadata"]["name"], errors)


def export(config: Path, *args: str) -> tuple[list[dict[str, Any]], str]:
    result = invoke("catalog", "--config", str(config), "--format", "backstage", *args)
    assert result.exit_code == 0, result.stderr
    return parse(result.stdout), result.stderr


def of_kind(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


SITE = "https://docs.acme.example/pipeline/"
ORG_SIZES = {"services": 30, "environments": 3, "commits": 60, "options": 20, "templates": 2,
             "fragments": 3}  # fmt: skip
CASES = ("sample", "sample --env staging", "sample with site_url", "synthetic organisation",
         "odd names")  # fmt: skip


class Exports:
    """Each case's export (documents, stderr), made once for the module."""

    def __init__(self, root: Path, sample: Path) -> None:
        self.root, self.sample = root, sample
        self.made: dict[str, tuple[list[dict[str, Any]], str]] = {}
        self.org: Any = None

    def __getitem__(self, case: str) -> tuple[list[dict[str, Any]], str]:
        if case not in self.made:
            self.made[case] = self._make(case)
        return self.made[case]

    def _make(self, case: str) -> tuple[list[dict[str, Any]], str]:
        if case == "sample":
            return export(self.sample)
        if case == "sample --env staging":
            return export(self.sample, "--env", "staging")
        if case == "sample with site_url":
            document = catalog_document(collect(load_config(self.sample)))
            return parse(backstage_yaml(document, "experimental", SITE)), ""
        if case == "synthetic organisation":
            sys.path.insert(0, str(REPO / "benchmarks"))
            import org as made  # type: ignore[import-not-found]  # the benchmark's generator

            self.org = made.make_org(self.root / "org", made.Sizes(**ORG_SIZES))
            return export(self.org.config)
        config = odd_project(self.root / "odd", backstage={"lifecycle": "experimental"},
                             site_url="https://docs.example.com/")  # fmt: skip
        return export(config)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory, shared_sample: Path) -> Exports:
    return Exports(tmp_path_factory.mktemp("backstage"), shared_sample)


@pytest.mark.parametrize("case", CASES)
def test_every_export_follows_the_name_rule_and_its_refs_resolve(
    exports: Exports, case: str
) -> None:
    documents, _ = exports[case]
    assert of_kind(documents, "Component") and of_kind(documents, "Group")
    check_names_and_refs(documents)


@pytest.mark.skipif(not CORPUS_PRESENT, reason=CORPUS_ABSENT)
@pytest.mark.parametrize("case", CASES)
def test_every_export_validates(exports: Exports, case: str) -> None:
    check_schemas(exports[case][0])


@pytest.mark.skipif(not CORPUS_PRESENT, reason=CORPUS_ABSENT)
def test_the_schemas_refuse_what_backstage_refuses() -> None:
    """The validators are real: an entity missing its owner, or with a number as an
    annotation, is refused by both."""
    by_kind, store = validators()
    good = {"apiVersion": "backstage.io/v1alpha1", "kind": "Component",
            "metadata": {"name": "a"}, "spec": {"type": "service", "lifecycle": "production",
                                                "owner": "group:default/x"}}  # fmt: skip
    assert by_kind["Component"].is_valid(good) and store.is_valid(good)
    no_owner = {**good, "spec": {"type": "service", "lifecycle": "production"}}
    number = {**good, "metadata": {"name": "a", "annotations": {"x/y": 1}}}
    for bad in (no_owner, number):
        assert not by_kind["Component"].is_valid(bad)
        assert not store.is_valid(bad)


def test_the_sample_exports_a_component_per_service_and_a_group_per_team(
    exports: Exports, shared_sample: Path
) -> None:
    documents, stderr = exports["sample"]
    document = catalog_document(collect(load_config(shared_sample)))
    components, groups = of_kind(documents, "Component"), of_kind(documents, "Group")
    assert set(components) == {s["name"] for s in document["services"]}
    assert set(groups) == {t["id"] for t in document["teams"]}  # every sample service is owned
    assert [d["kind"] for d in documents] == sorted(
        (d["kind"] for d in documents), key=["Group", "System", "Component"].index
    )
    for service in document["services"]:
        component = components[service["name"]]
        assert component["spec"]["owner"] == f"group:default/{service['owner']}"
        assert component["spec"]["type"] == "service"
        assert component["spec"]["lifecycle"] == "production"
        annotations = component["metadata"]["annotations"]
        versions = {k.removeprefix("pipeline-docs/version."): v for k, v in annotations.items()
                    if k.startswith("pipeline-docs/version.")}  # fmt: skip
        assert versions == {d["environment"]: d["version"] for d in service["deployments"]}
        links = {link["url"] for link in component["metadata"].get("links", [])}
        if service["repository"]:
            assert service["repository"] in links
            assert annotations["backstage.io/source-location"] == f"url:{service['repository']}"
        else:  # a service that runs from raw manifests: no bundle names its source
            assert "backstage.io/source-location" not in annotations
        webs = {e["web"] for e in document["environments"]}
        deployed = {e["web"] for e in document["environments"]
                    for d in service["deployments"] if d["environment"] == e["name"]}  # fmt: skip
        assert links & webs == deployed
        # the sample's config names no site_url: no link to a page
        assert not any("/catalog/services/" in url for url in links)
    payments = groups["team-payments"]
    assert payments["spec"]["profile"] == {
        "displayName": "Payments", "email": "payments@acme.example"
    }  # fmt: skip
    assert payments["metadata"]["annotations"] == {"pipeline-docs/chat": "#payments"}
    assert payments["metadata"]["links"] == [
        {"url": "https://oncall.acme.example/payments", "title": "On call"}
    ]
    assert payments["spec"]["children"] == []
    assert "catalog of" in stderr


def test_with_env_only_that_environment_is_exported(exports: Exports, shared_sample: Path) -> None:
    documents, _ = exports["sample --env staging"]
    document = catalog_document(collect(load_config(shared_sample)))
    staged = {s["name"]: d["version"] for s in document["services"]
              for d in s["deployments"] if d["environment"] == "staging"}  # fmt: skip
    components = of_kind(documents, "Component")
    assert set(components) == set(staged)
    assert set(staged) != {s["name"] for s in document["services"]}  # some run elsewhere only
    for name, component in components.items():
        annotations = component["metadata"]["annotations"]
        versions = [k for k in annotations if k.startswith("pipeline-docs/version.")]
        assert versions == ["pipeline-docs/version.staging"]
        assert annotations["pipeline-docs/version.staging"] == staged[name]
        titles = [link["title"] for link in component["metadata"]["links"]]
        assert [t for t in titles if t.startswith("Environment")] == ["Environment repo: staging"]


def test_site_url_links_each_component_to_its_page(exports: Exports) -> None:
    documents, _ = exports["sample with site_url"]
    for name, component in of_kind(documents, "Component").items():
        assert component["spec"]["lifecycle"] == "experimental"
        pages = [link["url"] for link in component["metadata"]["links"]
                 if link["title"] == "Catalog page"]  # fmt: skip
        assert pages == [f"{SITE}catalog/services/{name}/"]


def test_a_synthetic_organisation_has_a_component_per_service(exports: Exports) -> None:
    documents, _ = exports["synthetic organisation"]
    org = exports.org
    assert set(of_kind(documents, "Component")) == set(org.services)
    groups = of_kind(documents, "Group")
    teams = max(3, ORG_SIZES["services"] // 25)  # as benchmarks/org.py makes them
    assert len(groups) == teams
    for group in groups.values():
        email = group["spec"]["profile"]["email"]
        assert email == f"{group['metadata']['name']}@example.com"
    owners = Counter(c["spec"]["owner"] for c in of_kind(documents, "Component").values())
    assert sum(owners.values()) == len(org.services) and len(owners) == teams


def _workload(name: str, labels: dict[str, str], version: str = "1.0.0") -> str:
    """A Deployment whose name label is `name` (any text), the object's own name kept tame."""
    tame = re.sub(r"[^a-z0-9-]", "x", name.lower())[:40].strip("-") or "x"
    document = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": tame, "labels": {"app.kubernetes.io/name": name, **labels}},
        "spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": f"registry.example.com/{tame}:{version}"}
        ]}}},
    }  # fmt: skip
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


LONG = "a" * 70  # over 63 characters
ODD = {  # service name -> its labels
    "payments api": {"team": "Team Payments"},  # a space: mapped
    "payments/api": {"team": "Team Payments"},  # differs from the one above in a mapped character
    "payments-api": {"team": "Team Payments"},  # follows the rule: kept as it is
    "API": {"team": "unowned"},  # the team named `unowned`, not the placeholder
    "api": {"team": "unowned", "app.kubernetes.io/part-of": "Checkout System"},
    LONG: {"team": "Team Payments", "app.kubernetes.io/part-of": "Checkout System"},
    LONG + "b": {"team": "unowned", "app.kubernetes.io/part-of": "Checkout System"},
    "Zahlungsdienst-é": {"app.kubernetes.io/part-of": "lonely"},  # owner: part-of, no team
    "orphan": {},  # no owner at all
    "-dash-": {"team": "Team Payments"},
}


def odd_project(root: Path, **keys: Any) -> Path:
    """A project with hostile names: services, teams, a system and an environment."""
    for index, (name, labels) in enumerate(ODD.items()):
        version = "3e45678" if name == "orphan" else f"1.{index}.0"  # a YAML 1.2 float
        write(
            root / "envs" / "prod__eu" / "manifests" / f"w{index}.yaml",
            _workload(name, labels, version),
        )
    write(root / "owners.yml", """
        teams:
          Team Payments: {name: Payments, contact: "https://chat.example/payments", chat: "#pay"}
          unowned: {name: Really a team, contact: "mailto:real@example.com"}
    """)  # fmt: skip
    config = {"title": "Odd", "cache": ".cache", "owners": "owners.yml",
              "environments": [{"name": "prod__eu", "repo": "envs/prod__eu",
                                "web": "https://git.example.com/envs/prod-eu"}], **keys}  # fmt: skip
    path = root / "pipeline-docs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def test_hostile_names_are_mapped_distinct_and_refs_follow(exports: Exports) -> None:
    documents, stderr = exports["odd names"]
    components = of_kind(documents, "Component")
    by_original = {c["metadata"].get("title", n): c for n, c in components.items()}
    assert set(by_original) == set(ODD)  # each service once, its original kept
    for original, component in by_original.items():
        name = component["metadata"]["name"]
        assert ("title" in component["metadata"]) == (name != original)
        assert component["spec"]["lifecycle"] == "experimental"
    mapped = {o: c["metadata"]["name"] for o, c in by_original.items()}
    assert mapped["payments-api"] == "payments-api" and mapped["api"] == "api"
    assert mapped["payments api"] != mapped["payments/api"]
    assert mapped["payments api"].startswith("payments-api-")
    assert mapped["API"] != "API" and mapped["API"].lower() != "api"  # case-insensitively unique
    assert len(mapped[LONG]) <= MAX_NAME and mapped[LONG] != mapped[LONG + "b"]
    assert mapped["-dash-"].startswith("dash-")
    # the page link uses the page's own name, not the Backstage one
    page = [x["url"] for x in by_original["payments api"]["metadata"]["links"]
            if x["title"] == "Catalog page"]  # fmt: skip
    assert page == ["https://docs.example.com/catalog/services/payments~20api/"]
    groups = of_kind(documents, "Group")
    team = next(g for g in groups.values() if g["metadata"].get("title") == "Team Payments")
    assert team["metadata"]["links"] == [
        {"url": "https://chat.example/payments", "title": "Contact"}
    ]
    assert team["metadata"]["annotations"] == {"pipeline-docs/chat": "#pay"}
    real = next(g for g in groups.values() if g["metadata"].get("title") == "unowned")
    assert real["metadata"]["name"] != UNOWNED
    assert real["spec"]["profile"]["email"] == "real@example.com"
    assert UNOWNED in groups and "title" not in groups[UNOWNED]["metadata"]
    for original in ("orphan", "Zahlungsdienst-é"):
        assert by_original[original]["spec"]["owner"] == f"group:default/{UNOWNED}"
    assert by_original["API"]["spec"]["owner"] == f"group:default/{real['metadata']['name']}"
    annotations = by_original["Zahlungsdienst-é"]["metadata"]["annotations"]
    assert annotations["pipeline-docs/declared-owner"] == "lonely"  # named, but not a team
    # the environment's name is mapped in the annotation key; the version stays a string
    orphan = by_original["orphan"]["metadata"]["annotations"]
    (key,) = [k for k in orphan if k.startswith("pipeline-docs/version.")]
    assert key.startswith("pipeline-docs/version.prod_eu-")
    assert orphan[key] == "3e45678"
    # systems: owned by the Group owning most of their components, else unowned
    systems = {s["metadata"].get("title", n): s for n, s in of_kind(documents, "System").items()}
    assert set(systems) == {"Checkout System", "lonely"}
    checkout = systems["Checkout System"]
    assert checkout["spec"]["owner"] == f"group:default/{real['metadata']['name']}"  # 2 of 3
    assert systems["lonely"]["spec"]["owner"] == f"group:default/{UNOWNED}"
    ref = f"system:default/{checkout['metadata']['name']}"
    members = {o for o, c in by_original.items() if c["spec"].get("system") == ref}
    assert members == {"api", LONG, LONG + "b"}
    # the unowned services keep their findings, which the command's last line counts
    assert "--findings lists them" in stderr
    config = exports.root / "odd" / "pipeline-docs.yml"
    listed = invoke("catalog", "--config", str(config), "--format", "backstage", "--findings")
    assert "catalog/missing-owner" in listed.stderr and "orphan" in listed.stderr


def test_the_export_is_the_same_every_run_and_yaml_1_2_reads_strings(tmp_path: Path) -> None:
    config = odd_project(tmp_path)
    first = invoke("catalog", "--config", str(config), "--format", "backstage").stdout
    assert invoke("catalog", "--config", str(config), "--format", "backstage").stdout == first
    assert "'3e45678'" in first  # quoted: YAML 1.2, which Backstage reads, has it a number
    assert "lifecycle: production" in first  # the default
    # read by a YAML 1.2 parser, as Backstage reads it: every annotation and name stays a string
    from ruamel.yaml import YAML

    reader = YAML(typ="safe", pure=True)
    reader.version = (1, 2)
    read = [d for d in reader.load_all(first) if d]
    assert read == parse(first)  # the same documents as PyYAML (YAML 1.1) reads
    for document in read:
        meta = document["metadata"]
        assert all(isinstance(v, str) for v in meta.get("annotations", {}).values()), meta
        assert isinstance(meta["name"], str) and isinstance(meta.get("title", ""), str)


def test_part_of_is_kept_in_the_model_and_the_catalog_document(tmp_path: Path) -> None:
    model = collect(load_config(odd_project(tmp_path)))
    part_of = {d.service: d.part_of for e in model.environments for d in e.deployments}
    assert part_of["api"] == "Checkout System" and part_of["orphan"] == ""
    document = catalog_document(model)
    kept = {s["name"]: s["deployments"][0]["part_of"] for s in document["services"]}
    assert kept["api"] == "Checkout System" and kept["orphan"] is None


def test_names_are_assigned_by_the_rule_whatever_the_order() -> None:
    originals = ["a b", "a/b", "a-b", "A-B", "x" * 80, "x" * 80 + "y", "é", "", "..", "ok.name"]
    names = assign_names(originals)
    assert assign_names(reversed(originals)) == names
    assert len({n.lower() for n in names.values()}) == len(set(originals))
    assert all(follows_rule(n) and NAME.match(n) for n in names.values())
    assert names["a-b"] == "a-b" and names["ok.name"] == "ok.name"
    assert names["A-B"] != "A-B"  # `a-b` holds the name, whatever the case
    assert assign_names(["x"], reserved=["X"])["x"] != "x"
    assert all(len(n) <= 20 for n in assign_names(originals, 20).values())


def test_only_web_urls_become_links_and_only_emails_emails() -> None:
    assert web_url("https://user:token@git.example.com/a") == "https://git.example.com/a"
    for bad in ("javascript:alert(1)", "git@git.example.com:a/b.git", "https://a b", "https://",
                "ftp://x.example", None, ""):  # fmt: skip
        assert web_url(bad) is None, bad
    assert email_of("mailto:team@example.com") == "team@example.com"
    for bad in ("#team", "team@", "@example.com", "a@b", "a@b.", "a b@c.d", "a@b@c.d", None):
        assert email_of(bad) is None, bad


def test_an_export_with_nothing_deployed_is_empty() -> None:
    document: dict[str, Any] = {"environments": [], "teams": [], "services": []}
    assert entities(document) == []


@pytest.mark.parametrize(
    ("backstage", "key"),
    [({"lifecycle": 3}, "backstage.lifecycle"), ({"lifecycle": ""}, "backstage.lifecycle"),
     ({"owner": "x"}, "backstage.owner")],
)  # fmt: skip
def test_the_backstage_config_key_is_closed_and_checked(
    tmp_path: Path, backstage: dict[str, Any], key: str
) -> None:
    path = tmp_path / "pipeline-docs.yml"
    path.write_text(yaml.safe_dump({"title": "T", "backstage": backstage}), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert [p.key for p in raised.value.problems] == [key]
    path.write_text(yaml.safe_dump({"title": "T"}), encoding="utf-8")
    assert load_config(path).backstage.lifecycle == "production"
