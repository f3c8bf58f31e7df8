"""The catalog: what runs in every environment, who owns it, which version, and how far each
environment is along the promotion order; read from env repos of every layout out there, and
shown as catalog.json, pages, and the `catalog` and `diff` commands."""

from __future__ import annotations

import hashlib
import http.server
import json
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    CHROMIUM_ARGS,
    CORPUS,
    GOLDEN,
    NEXUS,
    QuietHandler,
    check_golden,
    corpus_cases,
    deployment_yaml,
    git,
    git_commit,
    git_init,
    invoke,
    make_config,
    needs_corpus,
    tarball,
    write,
)
from pagedom import dom

from generator.analysis.drift import drift
from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Deployment, Environment, Model, Severity
from generator.render.catalog import catalog_document

MI = 2**20
GI = 2**30


@dataclass
class Catalog:
    """What one collect made of a config: the model, catalog.json, and the config's path."""

    config: Path
    model: Model
    document: dict[str, Any]

    def deployments(self, environment: str = "prod") -> dict[str, dict[str, Any]]:
        """The deployments of one environment by service name, as catalog.json has them."""
        return {
            s["name"]: d
            for s in self.document["services"]
            for d in s["deployments"]
            if d["environment"] == environment
        }

    def service(self, name: str) -> dict[str, Any]:
        return next(s for s in self.document["services"] if s["name"] == name)

    def findings(self, rule: str) -> list[Any]:
        return [f for f in self.model.findings if f.rule == rule]


def read_catalog(config: Path) -> Catalog:
    model = collect(load_config(config))
    return Catalog(config, model, catalog_document(model))


def repo_catalog(
    tmp_path: Path, files: dict[str, str], environment: dict[str, str] | None = None, **keys: Any
) -> Catalog:
    """The catalog of one environment, `prod`, whose repo is a folder of these files."""
    for name, text in files.items():
        write(tmp_path / "repo" / name, text)
    env = {"name": "prod", "repo": "repo", **(environment or {})}
    return read_catalog(make_config(tmp_path, environments=[env], **keys))


# --- layouts: plain workloads -------------------------------------------------------------------

PLAIN = {
    "apps/shop.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shop
          labels: {team: team-shop}
        spec:
          replicas: 3
          template:
            spec:
              containers:
                - name: shop
                  image: registry.acme.test/shop:1.4.2
                  resources:
                    requests: {cpu: 250m, memory: 256Mi}
                - name: proxy
                  image: envoyproxy/envoy:v1.30.1
                  resources:
                    requests: {cpu: 100m, memory: 64Mi}
        """,
    "apps/postgres.yaml": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: postgres, namespace: data, labels: {owner: team-data}}
        spec:
          replicas: 2
          template:
            spec:
              containers:
                - name: postgres
                  image: postgres:16.2
                  resources: {requests: {cpu: "1", memory: 1Gi}}
        """,
    "apps/log-agent.yaml": """
        apiVersion: apps/v1
        kind: DaemonSet
        metadata: {name: log-agent, labels: {owner: team-platform}}
        spec:
          template:
            spec:
              containers:
                - name: fluent-bit
                  image: fluent/fluent-bit:3.0.4
                  resources: {requests: {cpu: 50m, memory: 100M}}
        """,
    "apps/nightly-report.yaml": """
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly-report, labels: {owner: team-shop}}
        spec:
          schedule: "30 1 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                    - name: report
                      image: registry.acme.test/reports:2.1.0
                      resources: {requests: {cpu: 500m, memory: 512Mi}}
        """,
    "apps/migrate.yaml": """
        apiVersion: batch/v1
        kind: Job
        metadata: {name: shop-migrate, labels: {owner: team-shop}}
        spec:
          template:
            spec:
              containers:
                - name: migrate
                  image: registry.acme.test/shop-migrations:1.4.2
        """,
}


def test_plain_workloads_with_image_replicas_requests_and_owner_label(tmp_path: Path) -> None:
    catalog = repo_catalog(tmp_path, PLAIN)
    found = catalog.deployments()
    assert set(found) == {"shop", "postgres", "log-agent", "nightly-report", "shop-migrate"}

    shop = found["shop"]
    assert shop["kinds"] == ["Deployment"]
    assert shop["version"] == "1.4.2"  # the tag of the image named after the service
    assert shop["images"] == ["envoyproxy/envoy:v1.30.1", "registry.acme.test/shop:1.4.2"]
    assert shop["replicas"] == 3
    # requests of both containers, times three replicas
    assert shop["cpu_requests"] == pytest.approx(1.05)
    assert shop["memory_requests"] == 3 * (256 + 64) * MI
    assert (shop["owner"], shop["owner_source"]) == ("team-shop", "label team")
    assert shop["source"] == "manifest"
    assert shop["file"] == "prod:apps/shop.yaml"

    postgres = found["postgres"]
    assert (postgres["kinds"], postgres["version"], postgres["namespace"]) == (
        ["StatefulSet"],
        "16.2",
        "data",
    )
    assert (postgres["cpu_requests"], postgres["memory_requests"]) == (2.0, 2 * GI)
    assert postgres["owner"] == "team-data"

    agent = found["log-agent"]
    assert (agent["kinds"], agent["version"], agent["replicas"]) == (["DaemonSet"], "3.0.4", None)
    assert (agent["cpu_requests"], agent["memory_requests"]) == (0.05, 100_000_000)

    report = found["nightly-report"]
    assert (report["kinds"], report["version"]) == (["CronJob"], "2.1.0")
    assert report["images"] == ["registry.acme.test/reports:2.1.0"]
    assert (report["cpu_requests"], report["memory_requests"]) == (0.5, 512 * MI)

    migrate = found["shop-migrate"]
    assert (migrate["kinds"], migrate["version"]) == (["Job"], "1.4.2")
    assert (migrate["cpu_requests"], migrate["memory_requests"]) == (None, None)

    prod = catalog.document["environments"][0]
    assert prod["services"] == 5
    assert prod["totals"]["cpu_requests"] == pytest.approx(1.05 + 2 + 0.05 + 0.5)
    # without an owners.yml, the owner a label names is taken as it is
    assert catalog.service("shop")["owner"] == "team-shop"


def test_a_multi_document_file_gives_each_workload_with_its_own_line(tmp_path: Path) -> None:
    text = """
        apiVersion: v1
        kind: Service
        metadata: {name: api}
        spec: {ports: [{port: 80}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, labels: {owner: team-api}}
        spec:
          template: {spec: {containers: [{name: api, image: "corp/api:3.1.4"}]}}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: api-settings}
        data: {LEVEL: info}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: api-cleanup, labels: {owner: team-api}}
        spec:
          schedule: "@daily"
          jobTemplate:
            spec: {template: {spec: {containers: [{name: c, image: "corp/api:3.1.4"}]}}}
        """
    catalog = repo_catalog(tmp_path, {"all-in-one.yaml": text})
    found = catalog.deployments()
    assert set(found) == {"api", "api-cleanup"}
    lines = (tmp_path / "repo" / "all-in-one.yaml").read_text().splitlines()
    starts = [n for n, line in enumerate(lines, 1) if line == "apiVersion: apps/v1"]
    assert found["api"]["line"] == starts[0]
    cron = [n for n, line in enumerate(lines, 1) if line == "apiVersion: batch/v1"]
    assert found["api-cleanup"]["line"] == cron[0]
    assert (found["api"]["kinds"], found["api-cleanup"]["kinds"]) == (["Deployment"], ["CronJob"])


# --- layouts: Kustomize -------------------------------------------------------------------------

BASE = {
    "base/shop/kustomization.yaml": "resources: [deployment.yaml]\n",
    "base/shop/deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shop
          labels: {app.kubernetes.io/name: shop}
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - name: shop
                  image: registry.acme.test/shop:1.0.0
                  resources: {requests: {cpu: 200m, memory: 128Mi}}
                - name: proxy
                  image: registry.acme.test/envoy:1.29
        """,
    "base/worker/kustomization.yaml": "resources: [worker.yaml]\n",
    "base/worker/worker.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: worker}
        spec:
          template:
            spec:
              containers: [{name: worker, image: "registry.acme.test/worker:0.9.0"}]
        """,
}

OVERLAY = """
    apiVersion: kustomize.config.k8s.io/v1beta1
    kind: Kustomization
    resources:
      - ../../base/shop
      - ../../base/worker
    namespace: shop-prod
    namePrefix: prod-
    commonLabels:
      owner: team-shop
    images:
      - name: registry.acme.test/shop
        newName: mirror.acme.test/shop
        newTag: 1.4.2
      - name: registry.acme.test/worker
        newTag: 0.9.3
    replicas:
      - name: shop
        count: 4
    patches:
      - path: more-memory.yaml
    """

PATCH = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: shop}
    spec:
      template:
        spec:
          containers:
            - name: shop
              env: [{name: JAVA_OPTS, value: "-Xmx1g"}]
    """


def test_a_kustomize_overlay_over_a_base_elsewhere_in_the_repo(tmp_path: Path) -> None:
    files = {
        **BASE,
        "overlays/prod/kustomization.yaml": OVERLAY,
        "overlays/prod/more-memory.yaml": PATCH,
    }
    catalog = repo_catalog(tmp_path, files)
    found = catalog.deployments()
    # the patch is part of the overlay, not a workload of its own; the worker has no name
    # label, so it is known by its name without the overlay's prefix
    assert set(found) == {"shop", "worker"}
    shop = found["shop"]
    assert shop["namespace"] == "shop-prod"
    assert shop["version"] == "1.4.2"
    assert shop["images"] == ["mirror.acme.test/shop:1.4.2", "registry.acme.test/envoy:1.29"]
    assert shop["replicas"] == 4
    assert (shop["cpu_requests"], shop["memory_requests"]) == (0.8, 4 * 128 * MI)
    assert (shop["owner"], shop["owner_source"]) == ("team-shop", "label owner")
    assert shop["file"] == "prod:base/shop/deployment.yaml"
    worker = found["worker"]
    assert [w["name"] for w in worker["workloads"]] == ["prod-worker"]
    assert (worker["version"], worker["namespace"], worker["owner"]) == (
        "0.9.3",
        "shop-prod",
        "team-shop",
    )
    assert catalog.findings("catalog/missing-owner") == []


def test_a_kustomize_digest_pins_the_image_in_place_of_its_tag(tmp_path: Path) -> None:
    digest = "sha256:" + "ab" * 32
    overlay = f"""
        resources: [../../base/shop]
        images:
          - name: registry.acme.test/shop
            digest: {digest}
        """
    catalog = repo_catalog(tmp_path, {**BASE, "overlays/prod/kustomization.yaml": overlay})
    shop = catalog.deployments()["shop"]
    # as `kustomize build` writes it: a digest replaces the tag, and it is what runs
    assert "registry.acme.test/shop@" + digest in shop["images"]
    assert shop["version"] == digest


def test_a_remote_base_is_a_warning_and_a_missing_resource_an_error(
    tmp_path: Path,
) -> None:
    overlay = """
        resources:
          - ../../base/shop
          - https://github.com/acme/platform//deploy/monitoring?ref=v1.2.0
          - ../../base/does-not-exist
        """
    catalog = repo_catalog(tmp_path, {**BASE, "overlays/prod/kustomization.yaml": overlay})
    assert "shop" in catalog.deployments()
    [remote] = catalog.findings("envrepo/remote-base")
    assert (remote.severity, remote.file, remote.line) == (
        Severity.WARNING,
        "prod:overlays/prod/kustomization.yaml",
        3,
    )
    assert "https://github.com/acme/platform//deploy/monitoring?ref=v1.2.0" in remote.message
    [missing] = catalog.findings("envrepo/missing-resource")
    assert (missing.severity, missing.file, missing.line) == (
        Severity.ERROR,
        "prod:overlays/prod/kustomization.yaml",
        4,
    )
    assert "../../base/does-not-exist" in missing.message


def test_an_environment_path_reads_only_that_overlay(tmp_path: Path) -> None:
    def overlay(namespace: str, tag: str) -> str:
        return f"""
            resources: [../../base/shop]
            namespace: {namespace}
            commonLabels: {{owner: team-shop}}
            images: [{{name: registry.acme.test/shop, newTag: "{tag}"}}]
            """

    files = {
        **BASE,
        "overlays/staging/kustomization.yaml": overlay("shop-staging", "1.5.0"),
        "overlays/production/kustomization.yaml": overlay("shop-prod", "1.4.2"),
        "elsewhere/tool.yaml": PLAIN["apps/log-agent.yaml"],
    }
    for name, text in files.items():
        write(tmp_path / "repo" / name, text)
    config = make_config(
        tmp_path,
        environments=[
            {"name": "staging", "repo": "repo", "path": "overlays/staging"},
            {"name": "prod", "repo": "repo", "path": "overlays/production/"},
        ],
    )
    catalog = read_catalog(config)
    assert {n: d["version"] for n, d in catalog.deployments("staging").items()} == {"shop": "1.5.0"}
    assert {n: d["version"] for n, d in catalog.deployments("prod").items()} == {"shop": "1.4.2"}
    assert catalog.deployments("prod")["shop"]["namespace"] == "shop-prod"
    assert catalog.deployments("prod")["shop"]["drift"] == "pending"


# --- layouts: GitOps objects --------------------------------------------------------------------

FLUX = """
    apiVersion: source.toolkit.fluxcd.io/v1
    kind: HelmRepository
    metadata: {name: bitnami, namespace: flux-system}
    spec: {url: "https://charts.bitnami.com/bitnami"}
    ---
    apiVersion: helm.toolkit.fluxcd.io/v2
    kind: HelmRelease
    metadata:
      name: redis
      namespace: cache
      labels: {owner: team-platform}
    spec:
      interval: 10m
      chart:
        spec:
          chart: redis
          version: "19.6.1"
          sourceRef: {kind: HelmRepository, name: bitnami, namespace: flux-system}
    ---
    apiVersion: kustomize.toolkit.fluxcd.io/v1
    kind: Kustomization
    metadata:
      name: apps
      namespace: flux-system
      labels: {owner: team-platform}
    spec:
      interval: 1h
      path: ./apps/production
      prune: true
      sourceRef: {kind: GitRepository, name: flux-system}
    """


def test_flux_helm_release_and_kustomization(tmp_path: Path) -> None:
    catalog = repo_catalog(tmp_path, {"clusters/prod/infra.yaml": FLUX})
    found = catalog.deployments()
    assert set(found) == {"redis"}
    redis = found["redis"]
    assert (redis["kinds"], redis["version"], redis["deploys"], redis["namespace"]) == (
        ["HelmRelease"],
        "19.6.1",
        "redis",
        "cache",
    )
    # the Kustomization deploys a folder of this repo: it is followed, not a service itself;
    # here that folder is missing, which is said
    [apps] = catalog.document["environments"][0]["other_objects"]
    assert (apps["kind"], apps["name"], apps["note"]) == (
        "Kustomization (Flux)", "apps", "deploys apps/production",
    )  # fmt: skip
    [missing] = catalog.findings("envrepo/not-followed")
    assert "apps/production" in missing.message and missing.file == "prod:clusters/prod/infra.yaml"


FLUX_APPS = {
    "clusters/prod/apps.yaml": """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: apps, namespace: flux-system}
        spec:
          path: ./apps/prod
          sourceRef: {kind: GitRepository, name: flux-system}
          targetNamespace: shop
          namePrefix: p-
          images:
            - {name: registry.acme.test/shop, newTag: "2.0.0"}
          postBuild:
            substitute: {replicas: "4"}
        ---
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: elsewhere, namespace: flux-system}
        spec:
          path: ./deploy
          sourceRef: {kind: OCIRepository, name: vendor}
        """,
    "apps/prod/shop.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: shop, labels: {owner: team-shop}}
        spec:
          replicas: ${replicas}
          template:
            spec:
              containers: [{name: shop, image: "registry.acme.test/shop:1.0.0"}]
        """,
    "apps/prod/cache.yaml": """
        apiVersion: helm.toolkit.fluxcd.io/v2
        kind: HelmRelease
        metadata: {name: cache, labels: {owner: team-shop}}
        spec:
          chart: {spec: {chart: redis, version: ">=19.0.0"}}
          values:
            image: {registry: docker.io, repository: bitnami/redis, tag: 7.2.4}
        """,
}


def test_a_flux_kustomization_of_this_repo_is_followed_with_its_own_changes(tmp_path: Path) -> None:
    catalog = repo_catalog(tmp_path, FLUX_APPS, {"path": "clusters/prod"}, kustomize="builtin")
    found = catalog.deployments()
    assert set(found) == {"shop", "cache"}
    shop = found["shop"]
    assert (shop["version"], shop["namespace"], shop["replicas"]) == ("2.0.0", "shop", None)
    assert shop["workloads"][0]["name"] == "p-shop"
    assert "via Flux Kustomization flux-system/apps" in shop["note"]
    cache = found["cache"]
    assert cache["images"] == ["docker.io/bitnami/redis:7.2.4"]
    assert cache["version"] == ">=19.0.0"  # a range, shown as it is
    [unpinned] = catalog.findings("catalog/unpinned-version")
    assert "not pinned" in unpinned.message
    [other] = catalog.findings("envrepo/not-followed")
    assert "elsewhere" in other.message and "OCIRepository vendor" in other.message


ARGO = """
    apiVersion: argoproj.io/v1alpha1
    kind: Application
    metadata:
      name: guestbook
      namespace: argocd
      labels: {team: team-web}
    spec:
      project: default
      source:
        repoURL: https://git.acme.test/web/guestbook-deploy.git
        path: k8s/production
        targetRevision: v2.3.1
      destination: {server: "https://kubernetes.default.svc", namespace: guestbook}
    ---
    apiVersion: argoproj.io/v1alpha1
    kind: ApplicationSet
    metadata:
      name: cluster-addons
      namespace: argocd
      labels: {team: team-platform}
    spec:
      generators:
        - list:
            elements:
              - {cluster: eu-west, url: "https://eu.k8s.acme.test"}
              - {cluster: us-east, url: "https://us.k8s.acme.test"}
        - git:
            repoURL: https://git.acme.test/platform/addons.git
            revision: HEAD
            directories: [{path: "addons/*"}]
      template:
        metadata: {name: "{{cluster}}-addons"}
        spec:
          project: default
          source:
            repoURL: https://git.acme.test/platform/addons.git
            targetRevision: HEAD
            path: "{{path}}"
          destination: {server: "{{url}}", namespace: addons}
    """


def test_argo_cd_application_and_application_set(tmp_path: Path) -> None:
    found = repo_catalog(tmp_path, {"apps/argo.yaml": ARGO}).deployments()
    # the ApplicationSet is listed once, with its generators, not expanded per cluster
    assert set(found) == {"guestbook", "cluster-addons"}
    guestbook = found["guestbook"]
    assert (guestbook["kinds"], guestbook["version"]) == (["Application"], "v2.3.1")
    assert guestbook["deploys"] == "https://git.acme.test/web/guestbook-deploy.git k8s/production"
    assert guestbook["owner"] == "team-web"
    addons = found["cluster-addons"]
    assert addons["kinds"] == ["ApplicationSet"]
    assert addons["note"] == "generators: list, git"
    assert addons["deploys"] == "https://git.acme.test/platform/addons.git"


def test_an_application_set_with_go_templates_is_listed_not_skipped_as_helm(
    tmp_path: Path,
) -> None:
    # `goTemplate: true` ApplicationSets write `{{ .name }}`: the file is still plain YAML
    text = (
        textwrap.dedent(ARGO.split("---")[1])
        .replace("spec:\n  generators:", "spec:\n  goTemplate: true\n  generators:")
        .replace("{{cluster}}", "{{ .cluster }}")
        .replace("{{path}}", "{{ .path.path }}")
        .replace("{{url}}", "{{ .url }}")
    )
    assert "goTemplate: true" in text
    catalog = repo_catalog(tmp_path, {"apps/addons.yaml": text})
    assert catalog.findings("envrepo/skipped-template") == []
    assert catalog.deployments()["cluster-addons"]["note"] == "generators: list, git"


def test_a_helm_template_outside_a_templates_folder_is_skipped_with_an_info_finding(
    tmp_path: Path,
) -> None:
    template = """
        {{- if .Values.enabled }}
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{ .Release.Name }}}
        {{- end }}
        """
    catalog = repo_catalog(
        tmp_path, {"deploy/web.yaml": template, "deploy/api.yaml": PLAIN["apps/shop.yaml"]}
    )
    assert set(catalog.deployments()) == {"shop"}
    [skipped] = catalog.findings("envrepo/skipped-template")
    assert (skipped.severity, skipped.file) == (Severity.INFO, "prod:deploy/web.yaml")


# --- versions and owners ------------------------------------------------------------------------


def test_a_version_label_that_disagrees_with_the_image_tag_is_a_warning(tmp_path: Path) -> None:
    def deployment(name: str, label: str, tag: str) -> str:
        return f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: {name}
              labels: {{owner: team-shop, app.kubernetes.io/version: "{label}"}}
            spec:
              template: {{spec: {{containers: [{{name: {name}, image: "corp/{name}:{tag}"}}]}}}}
            """

    catalog = repo_catalog(
        tmp_path,
        {
            "stale.yaml": deployment("stale", "1.4.1", "1.4.2"),
            "fine.yaml": deployment("fine", "2.0.0", "2.0.0"),
        },
    )
    [mismatch] = catalog.findings("catalog/version-mismatch")
    assert (mismatch.severity, mismatch.file, mismatch.line) == (
        Severity.WARNING,
        "prod:stale.yaml",
        1,
    )
    assert "1.4.1" in mismatch.message and "1.4.2" in mismatch.message

    def rules(service: str) -> list[str]:  # the risk/* rules find these bare workloads too
        found = catalog.deployments()[service]["findings"]
        return [f["rule"] for f in found if not f["rule"].startswith("risk/")]

    assert rules("stale") == ["catalog/version-mismatch"]
    assert rules("fine") == []


OWNERS = """
    teams:
      team-override: {name: Override}
      team-bundle: {name: Bundle, contact: bundle@acme.test}
      team-label: {name: Label}
      team-annotation: {name: Annotation}
      team-part-of: {name: Part of}
      "@acme/web": {name: Web (CODEOWNERS)}
    services:
      overridden: team-override
    """


def _owner_repo(root: Path) -> None:
    """An env repo of our layout where each service gets its owner by another rule."""
    urls = []
    for service, owner in (("overridden", "team-bundle"), ("bundled", "team-bundle")):
        facts = f"service: {service}\nversion: 1.0.0\nowner: {owner}\n"
        manifest = yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": service, "labels": {"owner": "team-label"}},
            }
        )
        data = tarball(
            {"bundle.yml": facts.encode(), "manifests/deployment.yaml": manifest.encode()}
        )
        target = root / "nexus" / service / "1.0.0" / f"{service}-1.0.0.tar.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        urls.append(f"{NEXUS}{service}/1.0.0/{service}-1.0.0.tar.gz")
    repo = root / "repo"
    write(
        repo / "environment.yml",
        yaml.safe_dump({"name": "prod", "bundles": urls, "manifests": "manifests/"}),
    )
    write(repo / "CODEOWNERS", "* @acme/everyone\n/manifests/web* @acme/web\n")

    def workload(name: str, labels: dict[str, str], annotations: dict[str, str]) -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": name, "labels": labels, "annotations": annotations},
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": name, "image": f"corp/{name}:1.0.0"}]}
                    }
                },
            }
        )

    write(
        repo / "manifests" / "labelled.yaml",
        workload(
            "labelled",
            {"app.kubernetes.io/part-of": "team-part-of", "team": "team-label"},
            {"a8r.io/owner": "team-annotation"},
        ),
    )
    write(
        repo / "manifests" / "annotated.yaml",
        workload(
            "annotated",
            {"app.kubernetes.io/part-of": "team-part-of"},
            {"a8r.io/owner": "team-annotation"},
        ),
    )
    write(
        repo / "manifests" / "part-of.yaml",
        workload("part-of", {"app.kubernetes.io/part-of": "team-part-of"}, {}),
    )
    write(repo / "manifests" / "web.yaml", workload("web", {}, {}))
    write(root / "owners.yml", OWNERS)


def test_owners_come_by_the_documented_order_of_rules(tmp_path: Path) -> None:
    _owner_repo(tmp_path)
    config = make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "repo"}],
        bundles={"mirrors": {NEXUS: "nexus/"}},
        owners="owners.yml",
    )
    catalog = read_catalog(config)
    owners = {s["name"]: (s["owner"], s["owner_source"]) for s in catalog.document["services"]}
    assert owners == {
        "overridden": ("team-override", "owners.yml"),  # beats bundle.yml and labels
        "bundled": ("team-bundle", "bundle.yml"),  # beats the label inside the bundle
        "labelled": ("team-label", "label team"),  # `team` comes before `a8r.io/owner`
        "annotated": ("team-annotation", "label a8r.io/owner"),  # before `part-of`
        "part-of": ("team-part-of", "label app.kubernetes.io/part-of"),
        "web": ("@acme/web", "CODEOWNERS"),  # the last matching CODEOWNERS rule
    }
    assert catalog.service("bundled")["team"]["contact"] == "bundle@acme.test"
    assert catalog.findings("catalog/missing-owner") == []
    assert catalog.findings("catalog/unknown-owner") == []


def test_the_order_of_owner_labels_is_configurable(tmp_path: Path) -> None:
    _owner_repo(tmp_path)
    config = make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "repo"}],
        bundles={"mirrors": {NEXUS: "nexus/"}},
        owners="owners.yml",
        owner_labels=["app.kubernetes.io/part-of", "a8r.io/owner"],
    )
    owners = {s["name"]: s["owner"] for s in read_catalog(config).document["services"]}
    assert owners["labelled"] == "team-part-of"
    assert owners["annotated"] == "team-part-of"
    assert owners["overridden"] == "team-override"
    assert owners["bundled"] == "team-bundle"


def test_a_service_without_owner_or_with_an_unknown_one_is_a_finding(tmp_path: Path) -> None:
    def deployment(name: str, labels: str) -> str:
        return f"""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {{name: {name}, labels: {labels}}}
            spec: {{template: {{spec: {{containers: [{{name: c, image: "corp/{name}:1.0.0"}}]}}}}}}
            """

    write(tmp_path / "owners.yml", "teams:\n  team-shop: {name: Shop}\n")
    catalog = repo_catalog(
        tmp_path,
        {
            "orphan.yaml": deployment("orphan", "{}"),
            "stranger.yaml": deployment("stranger", "{owner: team-nobody}"),
            "known.yaml": deployment("known", "{owner: team-shop}"),
        },
        owners="owners.yml",
    )
    [missing] = catalog.findings("catalog/missing-owner")
    assert (missing.severity, missing.file, missing.line) == (Severity.ERROR, "prod:orphan.yaml", 1)
    assert "orphan" in missing.message
    [unknown] = catalog.findings("catalog/unknown-owner")
    assert (unknown.severity, unknown.file) == (Severity.WARNING, "prod:stranger.yaml")
    assert "team-nobody" in unknown.message
    assert (catalog.service("orphan")["owner"], catalog.service("orphan")["declared_owner"]) == (
        None,
        None,
    )
    stranger = catalog.service("stranger")
    assert (stranger["owner"], stranger["declared_owner"]) == (None, "team-nobody")
    assert catalog.service("known")["owner"] == "team-shop"
    index = generate(load_config(catalog.config))["catalog/index.md"]
    orphan_row = next(tr for tr in dom(index).all("tr") if "orphan" in tr.text)
    assert orphan_row.all("td")[1].text == "no owner" and orphan_row.all("td")[1].all("strong")


# --- env repos behind a git URL -----------------------------------------------------------------


def shop_manifest(tag: str) -> str:
    """The shop's Deployment at one image tag, in block style as env repos write it."""
    return f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shop
          labels:
            owner: team-shop
        spec:
          template:
            spec:
              containers:
                - name: shop
                  image: corp/shop:{tag}
        """


@dataclass
class Remote:
    """A local bare repo served through file://, and the work repo that pushes to it."""

    url: str
    work: Path

    def deploy(self, tag: str, message: str) -> str:
        write(self.work / "shop.yaml", shop_manifest(tag))
        sha = git_commit(self.work, message)
        git(self.work, "push", "--quiet", "origin", "--all")
        return sha


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    bare = tmp_path / "server" / "env-prod.git"
    bare.mkdir(parents=True)
    git(bare, "init", "--quiet", "--bare", "--initial-branch", "main")
    work = git_init(tmp_path / "work")
    git(work, "remote", "add", "origin", bare.as_uri())
    return Remote(bare.as_uri(), work)


def test_a_git_url_is_cloned_once_into_the_cache_then_fetched(
    tmp_path: Path, remote: Remote
) -> None:
    first = remote.deploy("1.0.0", "Deploy shop 1.0.0")
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": remote.url}])
    catalog = read_catalog(config)
    assert catalog.deployments()["shop"]["version"] == "1.0.0"
    assert catalog.document["environments"][0]["commit"] == first
    assert catalog.deployments()["shop"]["file"] == "prod:shop.yaml"
    [clone] = list((tmp_path / ".cache" / "repos").iterdir())
    (clone / "marker").write_text("made by the first clone")

    second = remote.deploy("1.1.0", "Deploy shop 1.1.0")
    again = read_catalog(config)
    assert again.deployments()["shop"]["version"] == "1.1.0"
    assert again.document["environments"][0]["commit"] == second
    assert [p.name for p in (tmp_path / ".cache" / "repos").iterdir()] == [clone.name]
    assert (clone / "marker").is_file()  # fetched into, not cloned again
    assert [c.to_version for c in again.model.environments[0].history] == ["1.0.0", "1.1.0"]


def test_a_git_url_is_read_at_the_branch_or_tag_its_ref_names(
    tmp_path: Path, remote: Remote
) -> None:
    tagged = remote.deploy("1.0.0", "Deploy shop 1.0.0")
    git(remote.work, "tag", "v1.0.0")
    git(remote.work, "push", "--quiet", "origin", "v1.0.0")
    git(remote.work, "checkout", "--quiet", "-b", "release")
    branch = remote.deploy("1.1.0-rc.1", "Release candidate")
    git(remote.work, "checkout", "--quiet", "main")
    head = remote.deploy("1.2.0", "Deploy shop 1.2.0")
    config = make_config(
        tmp_path,
        environments=[
            {"name": "at-tag", "repo": remote.url, "ref": "v1.0.0"},
            {"name": "at-branch", "repo": remote.url, "ref": "release"},
            {"name": "at-head", "repo": remote.url},
        ],
    )
    catalog = read_catalog(config)
    read_at = {e["name"]: e["commit"] for e in catalog.document["environments"]}
    assert read_at == {"at-tag": tagged, "at-branch": branch, "at-head": head}
    versions = {d["environment"]: d["version"] for d in catalog.service("shop")["deployments"]}
    assert versions == {"at-tag": "1.0.0", "at-branch": "1.1.0-rc.1", "at-head": "1.2.0"}


def test_an_unknown_ref_of_a_git_url_is_an_error_finding(tmp_path: Path, remote: Remote) -> None:
    remote.deploy("1.0.0", "Deploy shop 1.0.0")
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": remote.url, "ref": "no-such-branch"}]
    )
    catalog = read_catalog(config)
    [unreadable] = catalog.findings("envrepo/unreadable")
    assert unreadable.severity is Severity.ERROR
    assert "no-such-branch" in unreadable.message
    assert catalog.document["environments"][0]["commit"] is None


# --- bundles over HTTP --------------------------------------------------------------------------


@dataclass
class BundleServer:
    base: Path
    url: str
    requests: list[str]


@pytest.fixture
def bundle_server(tmp_path: Path) -> Iterator[BundleServer]:
    """An HTTP server on 127.0.0.1 serving a folder of bundles, counting the requests it gets."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests: list[str] = []

    class Counting(QuietHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(folder), **kwargs)

        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield BundleServer(folder, f"http://127.0.0.1:{server.server_address[1]}/", requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _served_bundle(server: BundleServer) -> tuple[str, bytes]:
    facts = b"service: cart\nversion: 2.0.0\nowner: team-orders\n"
    data = tarball({"bundle.yml": facts})
    target = server.base / "cart" / "2.0.0" / "cart-2.0.0.tar.gz"
    target.parent.mkdir(parents=True)
    target.write_bytes(data)
    return f"{server.url}cart/2.0.0/cart-2.0.0.tar.gz", data


def test_a_bundle_is_downloaded_once_then_read_from_the_cache(
    tmp_path: Path, bundle_server: BundleServer
) -> None:
    url, data = _served_bundle(bundle_server)
    write(tmp_path / "repo" / "environment.yml", f"name: prod\nbundles:\n  - {url}\n")
    config = make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "repo"}],
        bundles={"cache": "bundles", "allow": [bundle_server.url]},
    )
    assert read_catalog(config).deployments()["cart"]["version"] == "2.0.0"
    assert bundle_server.requests == ["/cart/2.0.0/cart-2.0.0.tar.gz"]
    assert [p.read_bytes() for p in (tmp_path / "bundles").iterdir()] == [data]

    assert read_catalog(config).deployments()["cart"]["version"] == "2.0.0"
    assert bundle_server.requests == ["/cart/2.0.0/cart-2.0.0.tar.gz"]  # none more


def test_a_downloaded_bundle_with_a_wrong_sha256_is_an_error_and_stays_marked(
    tmp_path: Path, bundle_server: BundleServer
) -> None:
    url, _ = _served_bundle(bundle_server)
    pinned = hashlib.sha256(b"the tarball as it was first uploaded").hexdigest()
    write(
        tmp_path / "repo" / "environment.yml",
        f"name: prod\nbundles:\n  - url: {url}\n    sha256: {pinned}\n",
    )
    config = make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "repo"}],
        bundles={"cache": "bundles", "allow": [bundle_server.url]},
    )
    for _ in range(2):  # downloaded, then from the cache: verified both times
        catalog = read_catalog(config)
        [mismatch] = catalog.findings("bundle/sha256-mismatch")
        assert (mismatch.severity, mismatch.file, mismatch.line) == (
            Severity.ERROR,
            "prod:environment.yml",
            3,
        )
        cart = catalog.deployments()["cart"]
        assert (cart["version"], cart["sha256_verified"], cart["problem"]) == (
            "2.0.0",
            False,
            "sha256 mismatch",
        )
    assert len(bundle_server.requests) == 1
    pages = generate(load_config(config))
    row = next(tr for tr in dom(pages["catalog/index.md"]).all("tr") if "cart" in tr.text)
    assert [b.text for b in row.all("span", class_="pd-problem")] == ["sha256 mismatch"]
    assert "**(sha256 mismatch)**" in pages["catalog/services/cart.md"]


# --- drift along the promotion order ------------------------------------------------------------


def _model(**environments: dict[str, str]) -> Model:
    """Environments in the order given, each promoted from the one before, running these
    versions."""
    names = list(environments)
    return Model(
        title="t",
        environments=tuple(
            Environment(
                name,
                f"envs/{name}",
                upstreams=tuple(names[index - 1 : index]) if index else (),
                deployments=tuple(
                    Deployment(
                        s, name, v, "team", "label owner", "manifest", f"envs/{name}/{s}.yaml", 1
                    )
                    for s, v in versions.items()
                ),
            )
            for index, (name, versions) in enumerate(environments.items())
        ),
    )


def _states(model: Model, first_seen: dict[str, str] | None = None) -> dict[tuple[str, str], str]:
    return {(s, e): state for s, e, state in drift(model, first_seen)[0]}


@pytest.mark.parametrize(
    ("dev", "staging", "state"),
    [
        ("1.10.0", "1.9.0", "pending"),  # precedence, not text: 1.10.0 is newer
        ("1.9.0", "1.10.0", "skipped"),
        ("2.0.0", "2.0.0-rc.1", "pending"),  # a pre-release comes before its release
        ("2.0.0-rc.1", "2.0.0", "skipped"),
        ("1.0.0-alpha.10", "1.0.0-alpha.2", "pending"),  # numeric identifiers as numbers
        ("1.0.0-beta", "1.0.0-alpha.10", "pending"),
        ("1.0.0+build.7", "1.0.0+build.9", None),  # build metadata does not count
        ("v3.2.0", "3.1.9", "pending"),
        ("3.1.0", "3.1.0", None),
    ],
)
def test_drift_compares_versions_by_semver_precedence(
    dev: str, staging: str, state: str | None
) -> None:
    states = _states(_model(dev={"shop": dev}, staging={"shop": staging}))
    assert states.get(("shop", "staging")) == state
    assert ("shop", "dev") not in states


def test_pending_and_skipped_along_the_promotion_order() -> None:
    model = _model(
        dev={"cart": "2.2.0", "orders": "1.0.0", "search": "0.3.0"},
        staging={"cart": "2.1.0", "orders": "1.0.0", "search": "0.3.0", "legacy": "4.0.0"},
        prod={"cart": "2.0.0", "orders": "1.1.0", "legacy": "4.0.0"},
    )
    states, findings = drift(model)
    assert sorted(states) == [
        ("cart", "prod", "pending"),
        ("cart", "staging", "pending"),
        ("legacy", "staging", "skipped"),  # dev never ran it: reported once, where it skipped
        ("orders", "prod", "skipped"),  # newer than its upstream, staging
    ]
    assert all(f.rule == "catalog/skipped-environment" for f in findings)
    assert all(f.severity is Severity.WARNING for f in findings)
    messages = sorted(f.message for f in findings)
    assert len(messages) == 2
    assert any(
        "orders 1.1.0 runs in prod but skipped staging, which runs 1.0.0" in m for m in messages
    )
    assert any(
        "legacy 4.0.0 runs in staging but skipped dev, which does not run it" in m for m in messages
    )
    assert {f.file for f in findings} == {"envs/prod/orders.yaml", "envs/staging/legacy.yaml"}


def _deploy_image(repo: Path, tag: str, date: str) -> None:
    write(repo / "shop.yaml", shop_manifest(tag))
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", f"Deploy shop {tag}", "--date", date)


def test_commit_hash_versions_are_ordered_by_when_each_first_appeared(tmp_path: Path) -> None:
    dev = git_init(tmp_path / "envs" / "dev")
    _deploy_image(dev, "abc1234", "2026-04-01T10:00:00+02:00")
    _deploy_image(dev, "def5678", "2026-04-08T10:00:00+02:00")
    prod = git_init(tmp_path / "envs" / "prod")
    _deploy_image(prod, "abc1234", "2026-04-03T10:00:00+02:00")
    edge = git_init(tmp_path / "envs" / "edge")
    _deploy_image(edge, "abc1234", "2026-04-02T10:00:00+02:00")
    _deploy_image(edge, "def5678", "2026-04-09T10:00:00+02:00")
    config = make_config(
        tmp_path,
        environments=[
            {"name": "dev", "repo": "envs/dev"},
            {"name": "prod", "repo": "envs/prod"},
            {"name": "edge", "repo": "envs/edge"},
        ],
    )
    catalog = read_catalog(config)
    states = {d["environment"]: d["drift"] for d in catalog.service("shop")["deployments"]}
    # prod runs abc1234, which came before def5678 in dev: prod is behind, not out of order
    assert states == {"dev": "", "prod": "pending", "edge": "skipped"}
    [skipped] = catalog.findings("catalog/skipped-environment")
    assert "def5678 runs in edge but skipped prod, which runs abc1234" in skipped.message


def test_commit_hashes_never_seen_in_any_history_are_not_compared(tmp_path: Path) -> None:
    model = _model(dev={"shop": "abc1234"}, prod={"shop": "def5678"})
    assert _states(model) == {}
    seen = {"abc1234": "2026-04-01T08:00:00+00:00", "def5678": "2026-04-08T08:00:00+00:00"}
    assert _states(model, seen) == {("shop", "prod"): "skipped"}


# --- nothing is lost ----------------------------------------------------------------------------

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"}
GITOPS = {
    "HelmRelease": "fluxcd.io",
    "Kustomization": "toolkit.fluxcd.io",
    "Application": "argoproj.io",
    "ApplicationSet": "argoproj.io",
}


def _is_chart_template(path: Path, root: Path) -> bool:
    """A file under the `templates/` folder of a Helm chart (a folder with a Chart.yaml)."""
    parts = path.relative_to(root).parts
    for index, part in enumerate(parts[:-1]):
        if part == "templates" and (root.joinpath(*parts[:index]) / "Chart.yaml").is_file():
            return True
    return False


@dataclass(frozen=True)
class Found:
    file: str  # relative to the repo
    kind: str
    name: str
    labels: tuple[str, ...]  # the values of its labels, any of which may name the service


def count_objects(root: Path) -> tuple[list[Found], list[str]]:
    """Every workload and GitOps object in the repo's YAML, and the Helm templates, by our own
    reading of the files (PyYAML, no code of the generator)."""
    objects: list[Found] = []
    templates: list[str] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(p.startswith(".") for p in relative.parts):
            continue
        if path.suffix not in (".yml", ".yaml"):
            continue
        if _is_chart_template(path, root):
            templates.append(relative.as_posix())
            continue
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict):
                continue
            kind, api = str(document.get("kind")), str(document.get("apiVersion"))
            if kind in WORKLOAD_KINDS or (kind in GITOPS and GITOPS[kind] in api):
                metadata = document.get("metadata") or {}
                labels = tuple(str(v) for v in (metadata.get("labels") or {}).values())
                objects.append(Found(relative.as_posix(), kind, str(metadata["name"]), labels))
    return objects, templates


def _lost(objects: list[Found], services: set[str], findings: list[dict[str, Any]]) -> list[Found]:
    """Objects neither in the catalog (by name, name label, or name with a kustomize prefix) nor
    named by a finding."""
    lost = []
    for found in objects:
        names = {found.name, *found.labels}
        if names & services or any(s.endswith(f"-{found.name}") for s in services):
            continue
        if any(found.name in f["message"] for f in findings):
            continue
        lost.append(found)
    return lost


CORPUS_REPOS = corpus_cases(
    lambda: sorted(p.name for p in (CORPUS / "envrepos").iterdir() if p.is_dir())
)


@needs_corpus
@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_nothing_in_a_real_world_env_repo_is_lost(tmp_path: Path, name: str) -> None:
    repo = (CORPUS / "envrepos" / name).resolve()
    objects, templates = count_objects(repo)
    assert objects, f"{name} has no workload: the count is wrong"
    config = make_config(tmp_path, environments=[{"name": "x", "repo": str(repo)}])
    result = invoke("catalog", "--config", str(config), "--format", "json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    services = {s["name"] for s in document["services"]}
    services |= {o["name"] for e in document["environments"] for o in e["other_objects"]}
    findings = [f.as_dict() for f in collect(load_config(config)).findings]
    assert _lost(objects, services, findings) == []
    skipped = {f["file"] for f in findings if f["rule"] == "envrepo/skipped-template"}
    assert {f"x:{t}" for t in templates} <= skipped


def test_nothing_in_the_sample_env_repos_is_lost(shared_sample: Path) -> None:
    document = json.loads(
        invoke("catalog", "--config", str(shared_sample), "--format", "json").stdout
    )
    findings = [f.as_dict() for f in collect(load_config(shared_sample)).findings]
    envs = shared_sample.parent / ".cache" / "sample" / "envs"
    for env in document["environments"]:
        root = envs / env["name"]
        services = {
            s["name"]
            for s in document["services"]
            for d in s["deployments"]
            if d["environment"] == env["name"]
        }
        objects, templates = count_objects(root)
        assert templates == []
        assert _lost(objects, services, findings) == []
        listed = yaml.safe_load((root / "environment.yml").read_text())["bundles"]
        urls = [b if isinstance(b, str) else b["url"] for b in listed]
        assert urls, env["name"]
        bundled = {url.rsplit("/", 3)[-3] for url in urls}
        assert bundled <= services, env["name"]
        assert env["services"] == len(bundled) + len(objects)


# --- pages, assets and the browser --------------------------------------------------------------


def test_the_catalog_table_is_sortable_and_the_site_ships_its_script(
    sample_pages: dict[str, str],
) -> None:
    index = sample_pages["catalog/index.md"]
    [box] = dom(index).all("div", class_="pd-table")
    heads = box.one("table", class_="pd-matrix").one("tr", class_="pd-heads")
    assert [th.text for th in heads.all("th")] == [
        "Service",
        "Owner",
        "dev",
        "staging",
        "production",
    ]
    assert "<script" not in index  # the script comes from the site's extra_javascript
    script = sample_pages["assets/pipeline-docs/catalog.js"]
    assert "pd-table" in script and "aria-sort" in script


def test_the_service_page_shows_owner_and_source_as_two_paragraphs(
    sample_pages: dict[str, str],
) -> None:
    page = sample_pages["catalog/services/payments-api.md"]
    owner = next(line for line in page.splitlines() if line.startswith("**Owner:**"))
    assert "[Payments](../teams/team-payments.md) (from bundle.yml)" in owner
    # Markdown joins lines that no blank line separates: "… on call Source: …"
    assert "\n\n**Source:** " in page


def test_the_built_site_loads_the_catalog_script(
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    assert (site / "assets" / "pipeline-docs" / "catalog.js").is_file()
    page = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    assert 'src="../assets/pipeline-docs/catalog.js"' in page
    assert 'class="pd-table pd-wide"' in page and '<table class="pd-matrix">' in page
    assert 'href="../assets/pipeline-docs/site.css"' in page
    assert (site / "assets" / "pipeline-docs" / "site.css").is_file()


@pytest.mark.browser
def test_the_catalog_filters_and_sorts_in_a_browser(
    chromium: str,
    served_site: str,
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    from playwright.sync_api import sync_playwright

    catalog = json.loads((built_sample_site[1] / "catalog.json").read_text(encoding="utf-8"))
    payments = {
        s["name"]
        for s in catalog["services"]
        if "payments" in s["name"] or (s["team"] and "payments" in s["team"]["name"].lower())
    }
    assert "payments-api" in payments
    assert len(payments) < len(catalog["services"])

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(served_site + "catalog/")
            table = page.locator("article .pd-table table")
            rows = table.locator("tbody tr")
            assert rows.count() == len(catalog["services"])

            def first_cells(visible_only: bool = True) -> list[str]:
                return [
                    row.locator("td").first.inner_text().strip()
                    for row in rows.all()
                    if row.is_visible() or not visible_only
                ]

            page.locator(".pd-table input.pd-filter").fill("payments")
            assert set(first_cells()) == payments
            page.locator(".pd-table input.pd-filter").fill("")
            assert len(first_cells()) == len(catalog["services"])

            headers = table.locator("thead th")
            headers.filter(has_text="Owner").click()
            by_owner = first_cells()
            assert by_owner != sorted(by_owner)
            service = headers.filter(has_text="Service")
            service.click()
            assert first_cells() == sorted(by_owner)
            assert service.get_attribute("aria-sort") == "ascending"
            service.click()
            assert first_cells() == sorted(by_owner, reverse=True)
            assert service.get_attribute("aria-sort") == "descending"
            assert errors == []
        finally:
            browser.close()


CATALOG_PAGES = [
    "catalog/index.md",
    "catalog/services/payments-api.md",
    "catalog/teams/team-payments.md",
    "catalog/environments/production.md",
]


@pytest.mark.parametrize("page", CATALOG_PAGES)
def test_a_sample_catalog_page_matches_its_golden_file(
    sample_pages: dict[str, str], page: str, update_golden: bool
) -> None:
    check_golden(GOLDEN / page, sample_pages[page], update_golden)


# --- the command line ---------------------------------------------------------------------------


def test_the_catalog_table_of_one_environment_fits_in_80_columns(shared_sample: Path) -> None:
    result = invoke(
        "catalog", "--config", str(shared_sample), "--env", "production", "--format", "table"
    )
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["SERVICE", "OWNER", "PRODUCTION", "FINDINGS"]
    assert any(line.split()[:3] == ["payments-api", "team-payments", "1.4.2"] for line in lines)
    too_wide = [line for line in lines if len(line) > 80]
    assert too_wide == []


def _diff(config: Path, *args: str) -> list[list[str]]:
    result = invoke("diff", *args, "--config", str(config))
    assert result.exit_code == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()]


def test_diff_lists_what_promoting_staging_to_production_would_change(shared_sample: Path) -> None:
    rows = _diff(shared_sample, "staging", "production")
    assert rows[0] == ["SERVICE", "CHANGE", "PRODUCTION", "NOW", "AFTER", "FINDINGS"]
    assert rows[1:-1] == [
        ["api-gateway", "upgraded", "3.5.0", "3.5.1"],
        ["billing-worker", "upgraded", "0.9.0", "1.0.0"],
        ["cart", "upgraded", "2.0.0", "2.1.0"],
        ["orders", "upgraded", "8d41e07", "b72c5f1"],  # commit hashes, by first appearance
        # the hotfix skipped staging, and so did redis: each a warning in production
        ["payments-api", "downgraded", "1.4.2", "1.4.1", "1", "warning"],
        ["redis", "downgraded", "7.2.5", "7.2.4", "1", "warning"],
    ]
    assert rows[-1][0] == "FINDINGS:"


def test_diff_lists_services_added_and_removed(shared_sample: Path) -> None:
    result = invoke("diff", "dev", "staging", "--config", str(shared_sample), "--format", "json")
    assert result.exit_code == 0
    steps = {s["service"]: s for s in json.loads(result.stdout)}
    assert steps["notifications"] == {
        "service": "notifications",
        "change": "added",
        "from": None,
        "to": "0.2.0",
    }
    assert steps["legacy-reports"] == {
        "service": "legacy-reports",
        "change": "removed",
        "from": "4.2.1",
        "to": None,
    }
    assert steps["cart"] == {
        "service": "cart",
        "change": "upgraded",
        "from": "2.1.0",
        "to": "2.2.1",
    }
    assert steps["orders"]["change"] == "upgraded"
    assert "auth-service" not in steps  # 2.1.1 in both


def test_diff_of_an_environment_with_itself_changes_nothing(shared_sample: Path) -> None:
    result = invoke("diff", "production", "production", "--config", str(shared_sample))
    assert result.exit_code == 0
    assert result.stdout == "production already runs what production runs\n"
    as_json = invoke(
        "diff", "production", "production", "--config", str(shared_sample), "--format", "json"
    )
    assert json.loads(as_json.stdout) == []


@pytest.mark.parametrize("pair", [("staging", "prod"), ("qa", "production")])
def test_diff_of_an_unknown_environment_exits_2(shared_sample: Path, pair: tuple[str, str]) -> None:
    result = invoke("diff", *pair, "--config", str(shared_sample))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown environment" in result.stderr
    assert "dev, staging, production" in result.stderr


@needs_corpus
def test_the_corpus_flux_repo_apps_are_services_under_the_kustomization_that_deploys_them(
    tmp_path: Path,
) -> None:
    repo = (CORPUS / "envrepos" / "fluxcd__flux2-kustomize-helm-example").resolve()
    config = make_config(tmp_path, environments=[
        {"name": "production", "repo": str(repo), "path": "clusters/production"},
    ])  # fmt: skip
    catalog = read_catalog(config)
    podinfo = catalog.deployments("production")["podinfo"]
    assert podinfo["kinds"] == ["HelmRelease"]
    assert podinfo["images"] == ["public.ecr.aws/docker/library/redis:8.6.2"]
    assert "via Flux Kustomization flux-system/apps" in podinfo["note"]
    assert podinfo["file"] == "production:apps/base/podinfo/release.yaml"
    others = {o["name"]: o["note"] for o in catalog.document["environments"][0]["other_objects"]}
    assert others["apps"] == "deploys apps/production"  # through the ArtifactGenerator's copy


def test_an_argo_application_of_this_repo_is_followed(tmp_path: Path) -> None:
    files = {
        "apps/guestbook.yaml": """
            apiVersion: argoproj.io/v1alpha1
            kind: Application
            metadata: {name: guestbook, namespace: argocd}
            spec:
              source:
                repoURL: https://git.acme.test/platform/env-prod.git
                path: workloads/guestbook
                kustomize:
                  namePrefix: gb-
                  images: ["registry.acme.test/guestbook:2.1.0"]
              destination: {namespace: web}
            """,
        "workloads/guestbook/kustomization.yaml": "resources: [deploy.yaml]\n",
        "workloads/guestbook/deploy.yaml": deployment_yaml(
            "guestbook", "registry.acme.test/guestbook:1.0.0", {"owner": "team-web"}
        ),
    }
    env = {"path": "apps", "web": "https://git.acme.test/platform/env-prod"}
    catalog = repo_catalog(tmp_path, files, env, kustomize="builtin")
    guestbook = catalog.deployments()["guestbook"]
    assert guestbook["version"] == "2.1.0"
    assert guestbook["workloads"][0]["name"] == "gb-guestbook"
    assert "via Argo CD Application argocd/guestbook" in guestbook["note"]
