"""Risk rules (issue 15): mutable images, unpinned bundles, missing resources, single replicas,
missing readiness probes, privileged containers and root, with their file, line and hint; the
production-only ones in production environments only; the sample clean but for one service."""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import NEXUS, invoke, make_config, tarball, write

from generator.collect import collect
from generator.config import load_config
from generator.model import Model
from generator.render import render_pages
from generator.rules import RULES

RISKS = sorted(rule for rule in RULES if rule.startswith("risk/"))
DIGEST = "sha256:" + "ab" * 32

# One Deployment with every risk, then one with none: a digest, an HPA, non-root at pod level.
RISKY = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, labels: {app.kubernetes.io/name: shop}}
    spec:
      replicas: 1
      template:
        spec:
          containers:
            - name: web
              image: corp/web:latest
              securityContext: {privileged: true}
            - name: proxy
              image: envoyproxy/envoy
              resources: {requests: {cpu: 100m}}
              readinessProbe: {tcpSocket: {port: 8080}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api, labels: {app.kubernetes.io/name: shop-api}}
    spec:
      template:
        spec:
          securityContext: {runAsNonRoot: true}
          initContainers:
            - name: migrate
              image: corp/migrate:1.0.0
              resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
          containers:
            - name: api
              image: corp/api@DIGEST
              resources: {requests: {cpu: 100m}, limits: {cpu: 200m}}
              readinessProbe: {httpGet: {path: /ready, port: 8080}}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: api}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
      minReplicas: 2
      maxReplicas: 6
    """.replace("DIGEST", DIGEST)

# A StatefulSet without `replicas` (one, by default) whose HPA keeps one; the container
# overrides the pod's securityContext both ways.
STATEFUL = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db, labels: {app.kubernetes.io/name: db}}
    spec:
      template:
        spec:
          securityContext: {runAsNonRoot: true, runAsUser: 0}
          containers:
            - name: db
              image: postgres:16.2
              resources: {requests: {cpu: "1"}, limits: {memory: 1Gi}}
              readinessProbe: {exec: {command: [pg_isready]}}
              securityContext: {runAsNonRoot: false}
            - name: exporter
              image: corp/exporter:1.0.0
              resources: {requests: {cpu: 10m}, limits: {memory: 64Mi}}
              readinessProbe: {httpGet: {path: /, port: 9187}}
              securityContext: {runAsUser: 1000}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: db}
    spec:
      scaleTargetRef: {kind: StatefulSet, name: db}
      minReplicas: 1
    """

# Kinds and objects whose rules differ: a DaemonSet needs no probe nor replicas; a hook is no
# service and is not checked.
OTHERS = """
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec:
      template:
        spec:
          securityContext: {runAsUser: 65534}
          containers:
            - {name: agent, image: "fluent/fluent-bit:3.0.4",
               resources: {requests: {cpu: 50m}, limits: {memory: 100Mi}}}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: smoke
      annotations: {argocd.argoproj.io/hook: PostSync}
    spec:
      template:
        spec:
          containers:
            - {name: smoke, image: "corp/smoke:latest", securityContext: {privileged: true}}
    """


def _deployment(name: str, image: str, replicas: int = 1, non_root: bool = True) -> str:
    """A Deployment with probe and resources, by default with one replica and not as root."""
    return yaml.safe_dump({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
        "spec": {"replicas": replicas, "template": {"spec": {
            "securityContext": {"runAsNonRoot": non_root},
            "containers": [{
                "name": name, "image": image, "readinessProbe": {"tcpSocket": {"port": 80}},
                "resources": {"requests": {"cpu": "10m"}, "limits": {"memory": "64Mi"}},
            }],
        }}},
    }, sort_keys=False)  # fmt: skip


def _check(config: Path) -> list[dict[str, Any]]:
    result = invoke("check", "--config", str(config), "--format", "json", "--fail-on", "never")
    assert result.exit_code == 0, result.output
    return [f for f in json.loads(result.stdout)["findings"] if f["rule"].startswith("risk/")]


def _by(findings: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["rule"] == rule]


@pytest.fixture(scope="module")
def manifest_risks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Risk findings of a production environment read as plain manifests."""
    root = tmp_path_factory.mktemp("manifests")
    write(root / "repo" / "apps" / "shop.yaml", RISKY)
    write(root / "repo" / "apps" / "db.yaml", STATEFUL)
    write(root / "repo" / "apps" / "others.yaml", OTHERS)
    return _check(make_config(root, environments=[{"name": "production", "repo": "repo"}]))


def test_each_risk_of_a_container_is_reported_at_its_workload_with_severity_and_hint(
    manifest_risks: list[dict[str, Any]],
) -> None:
    web = [f for f in manifest_risks if f["file"] == "production:apps/shop.yaml"]
    assert {(f["rule"], f["line"], f["severity"]) for f in web} == {
        ("risk/mutable-image", 1, "error"),
        ("risk/privileged", 1, "error"),
        ("risk/no-resources", 1, "warning"),
        ("risk/single-replica", 1, "warning"),
        ("risk/no-readiness-probe", 1, "warning"),
        ("risk/runs-as-root", 1, "warning"),
    }
    messages = {(f["rule"], f["message"]): f["hint"] for f in web}
    assert messages == {
        ("risk/mutable-image", "shop in production: container `web` of Deployment `web` runs "
         "`corp/web:latest`, the mutable tag `latest`"): RULE_HINTS["risk/mutable-image"],
        ("risk/mutable-image", "shop in production: container `proxy` of Deployment `web` runs "
         "`envoyproxy/envoy`, without a tag (that is `latest`)"): RULE_HINTS["risk/mutable-image"],
        ("risk/privileged", "shop in production: container `web` of Deployment `web` runs "
         "privileged (`securityContext.privileged: true`)"): RULE_HINTS["risk/privileged"],
        ("risk/no-resources", "shop in production: container `web` of Deployment `web` declares "
         "no resource requests or limits"): RULE_HINTS["risk/no-resources"],
        ("risk/no-resources", "shop in production: container `proxy` of Deployment `web` "
         "declares no resource limits"): RULE_HINTS["risk/no-resources"],
        ("risk/single-replica", "shop in production: Deployment `web` runs 1 replica"):
            RULE_HINTS["risk/single-replica"],
        ("risk/no-readiness-probe", "shop in production: container `web` of Deployment `web` "
         "has no readiness probe"): RULE_HINTS["risk/no-readiness-probe"],
        ("risk/runs-as-root", "shop in production: container `web` of Deployment `web` may run "
         "as root"): RULE_HINTS["risk/runs-as-root"],
        ("risk/runs-as-root", "shop in production: container `proxy` of Deployment `web` may run "
         "as root"): RULE_HINTS["risk/runs-as-root"],
    }  # fmt: skip


RULE_HINTS = {
    "risk/mutable-image": "pin a version tag or a digest (`image: <repo>:1.4.2` or "
    "`<repo>@sha256:…`) so a restart cannot pull something else than what was tested",
    "risk/privileged": "drop `privileged: true`; add only the capabilities it needs "
    "(`securityContext.capabilities.add`)",
    "risk/no-resources": "set `resources.requests` (what the scheduler reserves) and "
    "`resources.limits` (cpu, memory) so one pod cannot starve the node",
    "risk/single-replica": "set `replicas: 2` or more, or an HPA with `minReplicas: 2`, so that "
    "a node drain or a crash does not take it down",
    "risk/no-readiness-probe": "add `readinessProbe:` so that traffic waits until the container "
    "is ready",
    "risk/runs-as-root": "set `securityContext.runAsNonRoot: true` (on the pod or the container) "
    "and a non-zero `runAsUser`",
}


def test_a_digest_an_hpa_of_two_and_non_root_at_pod_level_raise_nothing(
    manifest_risks: list[dict[str, Any]],
) -> None:
    # `api`: pinned by digest, two replicas kept by its HPA, runAsNonRoot on the pod, an init
    # container without readiness probe
    assert [f for f in manifest_risks if "`api`" in f["message"]] == []
    assert [f for f in manifest_risks if "`migrate`" in f["message"]] == []
    assert all(f["line"] == 1 for f in manifest_risks if f["file"] == "production:apps/shop.yaml")


def test_an_hpa_of_one_keeps_the_single_replica_and_the_container_overrides_the_pod(
    manifest_risks: list[dict[str, Any]],
) -> None:
    db = [f for f in manifest_risks if f["file"] == "production:apps/db.yaml"]
    assert [(f["rule"], f["line"], f["message"]) for f in db] == [
        ("risk/runs-as-root", 1,
         "db in production: container `db` of StatefulSet `db` may run as root"),
        ("risk/single-replica", 1, "db in production: StatefulSet `db` runs 1 replica "
         "(`replicas` is not set to a number) and its HPA's `minReplicas` is 1"),
    ]  # fmt: skip


def test_a_daemonset_needs_no_probe_nor_replicas_and_a_hook_is_not_checked(
    manifest_risks: list[dict[str, Any]],
) -> None:
    assert [f for f in manifest_risks if f["file"] == "production:apps/others.yaml"] == []
    assert len(manifest_risks) == 11  # the nine of `web`, the two of `db`: nothing else


def test_an_hpa_renamed_by_an_overlay_still_keeps_its_renamed_target(tmp_path: Path) -> None:
    """The built-in renderer does not rewrite `scaleTargetRef`: matched with the same prefix."""
    write(tmp_path / "repo" / "base" / "kustomization.yaml", "resources: [api.yaml, hpa.yaml]\n")
    write(tmp_path / "repo" / "base" / "api.yaml", _deployment("api", "corp/api:1.0.0"))
    write(tmp_path / "repo" / "base" / "hpa.yaml", """
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: api}
        spec: {scaleTargetRef: {kind: Deployment, name: api}, minReplicas: 3, maxReplicas: 9}
        """)  # fmt: skip
    write(
        tmp_path / "repo" / "prod" / "kustomization.yaml", "resources: [../base]\nnamePrefix: eu-\n"
    )
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "repo", "path": "prod"}], kustomize="builtin"
    )  # fmt: skip
    [env] = collect(load_config(config)).environments
    [workload] = [w for d in env.deployments for w in d.workloads]
    assert (workload.name, workload.min_replicas) == ("eu-api", 3)
    assert _check(config) == []


# --- production: what the config says, else the name; bundles ----------------------------------


def _bundle(root: Path, service: str, manifest: str) -> tuple[str, str]:
    """A bundle in the mirror: its URL and its sha256."""
    data = tarball({
        "bundle.yml": f"service: {service}\nversion: 1.0.0\nowner: team-x\n".encode(),
        "manifests/deployment.yaml": manifest.encode(),
    })  # fmt: skip
    target = root / "nexus" / service / "1.0.0" / f"{service}-1.0.0.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return f"{NEXUS}{service}/1.0.0/{service}-1.0.0.tar.gz", hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def bundle_risks(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """One bundle (`svc`: no tag, runs as root) in `staging`, in `live` (production: true) and in
    `prod-x` (production: false); `live` also pins a second bundle, `ok`."""
    root = tmp_path_factory.mktemp("bundles")
    svc, _ = _bundle(root, "svc", _deployment("svc", "corp/svc", non_root=False))
    ok, digest = _bundle(root, "ok", _deployment("ok", "corp/ok:1.0.0", replicas=2))
    write(root / "staging" / "environment.yml", f"name: staging\nbundles:\n  - {svc}\n")
    write(root / "live" / "environment.yml",
          f"name: live\nbundles:\n  - url: {ok}\n    sha256: {digest}\n  - {svc}\n")  # fmt: skip
    write(root / "prod-x" / "environment.yml", f"name: prod-x\nbundles:\n  - {svc}\n")
    write(root / "prod-x" / "manifests" / "app.yaml", _deployment("app", "corp/app:latest"))
    environments = [
        {"name": "staging", "repo": "staging"},
        {"name": "live", "repo": "live", "production": True},
        {"name": "prod-x", "repo": "prod-x", "production": False},
    ]
    config = make_config(root, environments=environments, bundles={"mirrors": {NEXUS: "nexus/"}})
    assert [e.production for e in collect(load_config(config)).environments] == [False, True, False]
    return _check(config)


def test_an_unpinned_bundle_of_a_production_environment_is_found_at_its_entry(
    bundle_risks: list[dict[str, Any]],
) -> None:
    [unpinned] = _by(bundle_risks, "risk/unpinned-bundle")
    svc = f"{NEXUS}svc/1.0.0/svc-1.0.0.tar.gz"
    assert (unpinned["file"], unpinned["line"], unpinned["severity"]) == (
        "live:environment.yml",
        5,
        "warning",
    )
    assert unpinned["message"].startswith(f"svc in live: bundle {svc} is not pinned by its sha256")
    assert unpinned["hint"] == "write the entry as `url:` and `sha256: <hex digest of the tarball>`"


def test_a_bundle_workload_is_found_in_the_bundle_once_naming_its_environments(
    bundle_risks: list[dict[str, Any]],
) -> None:
    member = f"{NEXUS}svc/1.0.0/svc-1.0.0.tar.gz#manifests/deployment.yaml"
    found = sorted((f["rule"], f["file"], f["line"], f["message"]) for f in bundle_risks
                   if f["rule"] != "risk/unpinned-bundle")  # fmt: skip
    assert found == [
        ("risk/mutable-image", member, 1, "svc in live: container `svc` of Deployment `svc` "
         "runs `corp/svc`, without a tag (that is `latest`)"),
        ("risk/runs-as-root", member, 1, "svc in staging, live, prod-x: container `svc` of "
         "Deployment `svc` may run as root"),
        ("risk/single-replica", member, 1, "svc in live: Deployment `svc` runs 1 replica"),
    ]  # fmt: skip


def test_production_false_on_a_prod_name_turns_the_production_rules_off(
    bundle_risks: list[dict[str, Any]],
) -> None:
    # prod-x runs `corp/app:latest` with one replica, and `svc` unpinned: none of it is found
    assert [f for f in bundle_risks if f["file"].startswith("prod-x:")] == []
    assert not any("prod-x" in f["message"] and f["rule"] != "risk/runs-as-root"
                   for f in bundle_risks)  # fmt: skip


def test_a_name_starting_with_prod_is_production_by_default(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "app.yaml", _deployment("app", "corp/app:latest"))
    config = make_config(tmp_path, environments=[{"name": "prod-eu", "repo": "repo"}])
    assert {f["rule"] for f in _check(config)} == {"risk/mutable-image", "risk/single-replica"}
    config = make_config(tmp_path, environments=[{"name": "qa", "repo": "repo"}])
    assert _check(config) == []


# --- hostile shapes: no traceback, and nothing hidden ----------------------------------------


def test_values_of_the_wrong_type_count_as_absent(tmp_path: Path) -> None:
    write(tmp_path / "repo" / "odd.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: odd}
        spec:
          replicas: "3"
          template:
            spec:
              securityContext: [runAsNonRoot]
              containers:
                - name: odd
                  image: corp/odd:1.0.0
                  resources: {requests: 100m, limits: [cpu]}
                  readinessProbe: yes
                  securityContext: {privileged: "true", runAsUser: "1000"}
                - just a string
                - {image: 42}
        ---
        apiVersion: autoscaling/v2
        kind: HorizontalPodAutoscaler
        metadata: {name: odd}
        spec: {scaleTargetRef: {kind: Deployment, name: odd}, minReplicas: "5"}
        """)  # fmt: skip
    findings = _check(make_config(tmp_path, environments=[{"name": "prod", "repo": "repo"}]))
    found = {(f["rule"], f["message"].split(": ", 1)[1].split(" of ")[0]) for f in findings}
    assert found == {
        ("risk/single-replica", "Deployment `odd` runs 1 replica (`replicas` is not set to a "
         "number) and its HPA's `minReplicas` is 1"),
        *((rule, "container `odd`") for rule in ("risk/no-resources", "risk/no-readiness-probe",
                                                 "risk/privileged", "risk/runs-as-root")),
        *((rule, "a container without a name") for rule in (
            "risk/mutable-image", "risk/no-resources", "risk/no-readiness-probe",
            "risk/runs-as-root")),
    }  # fmt: skip
    assert len(findings) == len(found)


# --- the sample and the rules page --------------------------------------------------------------


def test_the_sample_raises_risks_for_its_one_risky_service_only(sample_model: Model) -> None:
    risks = [f for f in sample_model.findings if f.rule.startswith("risk/")]
    legacy = "legacy-reports/4.2.1/legacy-reports-4.2.1.tar.gz#manifests/deployment.yaml"
    assert [(f.rule, f.file, f.message) for f in risks] == [
        ("risk/runs-as-root", f"{NEXUS}{legacy}", "legacy-reports in staging, production: "
         "container `legacy-reports` of Deployment `legacy-reports` may run as root"),
        ("risk/single-replica", f"{NEXUS}{legacy}",
         "legacy-reports in production: Deployment `legacy-reports` runs 1 replica"),
    ]  # fmt: skip
    # what the rules read is there: every production workload has its containers' facts
    [production] = [e for e in sample_model.environments if e.name == "production"]
    assert production.production
    workloads = [w for d in production.deployments for w in d.workloads]
    assert len(workloads) >= 9 and all(w.containers for w in workloads)
    assert all(c.non_root and c.requests and c.limits for w in workloads
               if w.name != "legacy-reports" for c in w.containers)  # fmt: skip


def test_the_rules_page_lists_every_risk_rule() -> None:
    page = render_pages(Model(title="Test pipeline"))["reference/rules.md"]
    assert len(RISKS) == 7
    for rule in RISKS:
        row = next(line for line in page.splitlines() if f"`{rule}`" in line)
        assert f"| {RULES[rule].severity.value} |" in row, rule
        shown = html.unescape(re.sub(r"<[^>]+>", "", row))  # as a reader sees it
        assert RULES[rule].description.replace("`", "") in shown, rule
