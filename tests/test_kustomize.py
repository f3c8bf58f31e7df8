"""Overlays rendered as kustomize renders them: every workload of catalog.json, by (kind,
namespace, name), with its images and replicas, held against `kubectl kustomize` itself, for
the real renderer and the built-in one, on the corpus and on generated overlay repos."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import (
    CORPUS,
    GOLDEN,
    check_golden,
    corpus_cases,
    git,
    git_commit,
    git_init,
    invoke,
    make_config,
    needs_corpus,
    write,
)
from overlayrepo import make_overlay_repo
from pagedom import dom

from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.sources.workloads import values_images

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
GITOPS = {"HelmRelease": "fluxcd.io", "Kustomization": "fluxcd.io", "Application": "argoproj.io",
          "ApplicationSet": "argoproj.io"}  # fmt: skip
RENDERERS = ("auto", "builtin")
Key = tuple[str, str | None, str]
Facts = dict[Key, tuple[list[str], int | None]]


def _kubectl_version() -> str:
    if shutil.which("kubectl") is None:
        return ""
    out = subprocess.run(["kubectl", "version", "--client"], capture_output=True, text=True,
                         check=False, timeout=60).stdout  # fmt: skip
    match = re.search(r"Kustomize Version: (v\d+\.\d+\.\d+)", out)
    return match[1] if match else ""


KUBECTL = _kubectl_version()
needs_kubectl = pytest.mark.skipif(
    not KUBECTL.startswith("v5."), reason="kubectl with kustomize v5 not installed"
)


def _pod(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    template = spec.get("template")
    if obj["kind"] == "CronJob":
        template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    return (template or {}).get("spec") or {}


def kubectl_kustomize(folder: Path) -> tuple[Facts | None, str]:
    """What `kubectl kustomize` renders: each workload or GitOps object's images and replicas;
    None and kubectl's message when it fails."""
    done = subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    if done.returncode != 0:
        return None, done.stderr
    facts: Facts = {}
    for obj in yaml.safe_load_all(done.stdout):
        if not isinstance(obj, dict):
            continue
        kind, api = str(obj.get("kind")), str(obj.get("apiVersion"))
        if kind not in WORKLOADS and not (kind in GITOPS and GITOPS[kind] in api):
            continue
        metadata = obj.get("metadata") or {}
        containers = _pod(obj).get("containers") or [] if kind in WORKLOADS else []
        replicas = (obj.get("spec") or {}).get("replicas") if kind in WORKLOADS else None
        images = sorted(str(c["image"]) for c in containers if c.get("image"))
        if (
            kind == "HelmRelease"
        ):  # a chart's images, as its values name them, from kubectl's output
            images = sorted(values_images((obj.get("spec") or {}).get("values")))
        facts[(kind, metadata.get("namespace"), str(metadata.get("name") or ""))] = (
            images, replicas if isinstance(replicas, int) else None
        )  # fmt: skip
    return facts, ""


def catalog_facts(document: dict[str, Any]) -> Facts:
    """The same facts as catalog.json lists them: services' workloads and the other objects."""
    facts: Facts = {}
    workloads = [w for s in document["services"] for d in s["deployments"] for w in d["workloads"]]
    workloads += [w for env in document["environments"] for w in env["other_objects"]]
    for w in workloads:
        kind = w["kind"].removesuffix(" (Flux)")
        facts[(kind, w["namespace"], w["name"])] = (sorted(w["images"]), w["replicas"])
    return facts


def read(config: Path) -> dict[str, Any]:
    result = invoke("catalog", "--config", str(config), "--format", "json")
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def root_overlays(repo: Path) -> list[str]:
    """Folders of kustomizations (not components) that no other one includes, found here apart
    from the code under test."""
    names = ("kustomization.yaml", "kustomization.yml", "Kustomization")
    folders: dict[Path, dict[str, Any]] = {}
    for path in sorted(repo.rglob("*")):
        if path.name in names and ".git" not in path.parts:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if "fluxcd.io" not in str(data.get("apiVersion")):
                folders[path.parent.resolve()] = data
    included = set()
    for folder, data in folders.items():
        for key in ("resources", "bases", "components"):
            for entry in data.get(key) or []:
                included.add((folder / str(entry)).resolve())
    return sorted(
        folder.relative_to(repo.resolve()).as_posix() or "."
        for folder, data in folders.items()
        if folder not in included and data.get("kind") != "Component"
    )


def compare_overlay(tmp_path: Path, repo: Path, overlay: str, renderer: str) -> None:
    """catalog.json of one environment (that overlay) against kubectl's rendering of it."""
    expected, message = kubectl_kustomize(repo / overlay)
    config = make_config(tmp_path, f"{renderer}.yml", kustomize=renderer,
                         environments=[{"name": "env", "repo": str(repo), "path": overlay}])  # fmt: skip
    document = read(config)
    [env] = document["environments"]
    findings = [f.as_dict() for f in collect(load_config(config)).findings]
    if expected is None:  # kubectl itself fails: the environment must say so, never look rendered
        if renderer == "auto":
            assert env["status"] == "not rendered by kustomize"
            failed = [f for f in findings if f["rule"] == "envrepo/kustomize-failed"]
            assert failed, findings
            words = re.search(r"err=\"(.{20,60})", message)
            assert words is None or words[1][:20] in failed[0]["message"]
            assert str(repo) not in failed[0]["message"]
            assert all(d["problem"] for s in document["services"] for d in s["deployments"])
        else:
            assert any(f["rule"] == "envrepo/kustomize-invalid" for f in findings), findings
            assert env["status"] == "incomplete"
        return
    assert catalog_facts(document) == expected
    assert env["status"] == "read"
    if renderer == "auto":
        assert env["renderer"] == f"kustomize {KUBECTL} (kubectl kustomize)"
    else:
        assert env["renderer"] == "built-in"


CORPUS_OVERLAYS = corpus_cases(
    lambda: [
        (repo.name, overlay)
        for repo in sorted((CORPUS / "envrepos").iterdir())
        if repo.is_dir()
        for overlay in root_overlays(repo)
    ],
    id=lambda case: f"{case[0]}:{case[1]}",
)


@needs_kubectl
@needs_corpus
@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("case", CORPUS_OVERLAYS)
def test_corpus_overlays_render_as_kubectl_renders_them(
    tmp_path: Path, case: tuple[str, str], renderer: str
) -> None:
    name, overlay = case
    repo = tmp_path / name
    shutil.copytree(CORPUS / "envrepos" / name, repo)
    compare_overlay(tmp_path, repo, overlay, renderer)


@needs_kubectl
@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("layout", ["mixed", "images", "patch", "component"])
def test_generated_overlays_render_as_kubectl_renders_them(
    tmp_path: Path, layout: str, renderer: str
) -> None:
    envs = ("dev", "qa", "staging", "prod-eu", "prod-us")
    made = make_overlay_repo(tmp_path / "repo", environments=envs, services=4, commits=5,
                             layout=layout, name_label=layout == "images")  # fmt: skip
    for env in envs:
        compare_overlay(tmp_path, made.root, made.overlays[env], renderer)


TRICKY = {
    "base/kustomization.yaml": "resources: [web.yaml, worker.yaml]\nnamePrefix: base-\n",
    "base/web.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {app: web}}
        spec:
          replicas: 1
          template:
            spec:
              containers:
                - {name: web, image: "reg.example.com/web:1.0"}
                - {name: side, image: "busybox:1"}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: nightly}
        spec:
          jobTemplate:
            spec:
              template:
                spec:
                  containers: [{name: job, image: "reg.example.com/job:1.0"}]
        """,
    "base/worker.yaml": """
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: worker, namespace: other}
        spec:
          replicas: 2
          template:
            spec:
              containers: [{name: worker, image: "reg.example.com/worker@sha256:aaaa"}]
        """,
    "comp/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        images:
          - {name: reg.example.com/web, newTag: "2.0"}
          - {name: reg.example.com/job, newName: reg.example.com/job2, newTag: "3.1"}
        patches:
          - target: {kind: StatefulSet}
            patch: |-
              - op: replace
                path: /spec/replicas
                value: 5
        """,
    "mid/kustomization.yaml": "resources: [../base]\nnameSuffix: -mid\ncommonLabels: {tier: mid}\n",
    "envs/a/kustomization.yaml": """
        resources: [../../mid]
        namePrefix: a-
        namespace: env-a
        patches:
          - path: version.yml
        images:
          - {name: reg.example.com/worker, newTag: "9.9", digest: "sha256:bbbb"}
          - {name: reg.example.com/web, digest: "sha256:cccc"}
          - {name: reg.example.com/web, newTag: "1.10"}
        replicas:
          - {name: base-web-mid, count: 4}
        """,
    "envs/a/version.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers:
                - {name: web, image: "reg.example.com/web:1.5"}
        """,
    "envs/b/kustomization.yaml": """
        resources: [../../base]
        components: [../../comp]
        namePrefix: b-
        patchesStrategicMerge: [p.yml]
        images:
          - {name: reg.example.com/web, newTag: "2.5"}
        replicas:
          - {name: web, count: 7}
        """,
    "envs/b/p.yml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: base-web}
        spec:
          replicas: 3
          template:
            spec:
              containers:
                - {name: side, $patch: delete}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: base-nightly}
        $patch: delete
        """,
    "envs/c/kustomization.yaml": """
        resources: [../../base]
        patches:
          - target: {kind: Deployment, name: "base-.*"}
            patch: |-
              apiVersion: apps/v1
              kind: Deployment
              metadata: {name: whatever}
              spec:
                replicas: 6
          - target: {kind: StatefulSet, namespace: other}
            path: ops.json
        images:
          - {name: reg.example.com/worker, newName: "x.io/w", newTag: "v2"}
        """,
    "envs/c/ops.json": '[{"op": "add", "path": "/spec/template/spec/containers/-", '
    '"value": {"name": "extra", "image": "extra:1"}}]\n',
}


@needs_kubectl
@pytest.mark.parametrize("renderer", RENDERERS)
@pytest.mark.parametrize("overlay", ["envs/a", "envs/b", "envs/c", "mid"])
def test_patches_components_and_transformers_as_kubectl(
    tmp_path: Path, overlay: str, renderer: str
) -> None:
    for name, text in TRICKY.items():
        write(tmp_path / "repo" / name, text)
    compare_overlay(tmp_path, tmp_path / "repo", overlay, renderer)


@pytest.mark.parametrize("renderer", RENDERERS)
def test_eleven_prefixed_environments_are_one_service_with_one_owner(
    tmp_path: Path, renderer: str
) -> None:
    envs = [f"env{i:02d}" for i in range(11)]
    made = make_overlay_repo(tmp_path / "repo", environments=envs, services=2, commits=3)
    write(tmp_path / "owners.yml", """
        teams:
          team-a: {name: Team A}
        services:
          svc-0: team-a
        """)  # fmt: skip
    config = make_config(tmp_path, owners="owners.yml", kustomize=renderer, environments=[
        {"name": env, "repo": str(made.root), "path": made.overlays[env]} for env in envs
    ])  # fmt: skip
    document = read(config)
    assert [s["name"] for s in document["services"]] == ["svc-0", "svc-1"]
    svc = document["services"][0]
    assert [d["environment"] for d in svc["deployments"]] == envs
    assert {d["owner"] for d in svc["deployments"]} == {"team-a"}
    assert (svc["owner"], svc["owner_source"]) == ("team-a", "owners.yml")
    names = {d["environment"]: d["workloads"][0]["name"] for d in svc["deployments"]}
    assert names == {env: f"{env}-svc-0" for env in envs}
    versions = {d["environment"]: d["version"] for d in svc["deployments"]}
    assert versions == {env: made.state[(env, "svc-0")].version for env in envs}


@needs_kubectl
def test_the_real_renderer_reads_the_ref_not_the_work_tree(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "repo")
    write(repo / "base/kustomization.yaml", "resources: [web.yaml]\n")
    write(repo / "base/web.yaml", """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          template:
            spec:
              containers: [{name: web, image: "reg.example.com/web:1.0.0"}]
        """)  # fmt: skip
    overlay = "resources: [../../base]\nimages:\n  - {name: reg.example.com/web, newTag: %s}\n"
    write(repo / "envs/prod/kustomization.yaml", overlay % "1.1.0")
    git_commit(repo, "Deploy web 1.1.0")
    write(repo / "envs/prod/kustomization.yaml", overlay % "9.9.9")  # not committed
    config = make_config(tmp_path, environments=[
        {"name": "prod", "repo": "repo", "ref": "main", "path": "envs/prod"},
    ])  # fmt: skip
    [web] = read(config)["services"]
    assert web["deployments"][0]["version"] == "1.1.0"
    [env] = read(config)["environments"]
    assert env["renderer"].startswith("kustomize v5.")
    assert not list((repo / "envs").glob("**/.pipeline-docs*"))  # nothing written in the repo


@needs_kubectl
def test_an_overlay_with_a_remote_base_is_not_given_to_kustomize(tmp_path: Path) -> None:
    files = {
        "envs/prod/kustomization.yaml": """
            resources:
              - web.yaml
              - https://github.com/acme/platform//deploy/monitoring?ref=v1.2.0
            """,
        "envs/prod/web.yaml": TRICKY["base/worker.yaml"],
    }
    for name, text in files.items():
        write(tmp_path / "repo" / name, text)
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "repo", "path": "envs/prod"}]
    )
    [env] = read(config)["environments"]
    assert env["renderer"] == "built-in"
    assert "remote" in env["overlays"][0]["problem"]
    rules = {f.rule for f in collect(load_config(config)).findings}
    assert "envrepo/remote-base" in rules


@needs_kubectl
def test_a_failing_overlay_is_marked_not_rendered_with_kubectls_message(tmp_path: Path) -> None:
    write(tmp_path / "repo/envs/prod/kustomization.yaml", """
        resources: [web.yaml]
        configMapGenerator:
          - name: settings
            files: [settings.properties]
        """)  # fmt: skip
    write(tmp_path / "repo/envs/prod/web.yaml", TRICKY["base/worker.yaml"])
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "repo", "path": "envs/prod"}]
    )
    document = read(config)
    [env] = document["environments"]
    assert env["status"] == "not rendered by kustomize"
    [worker] = document["services"]
    assert worker["deployments"][0]["problem"] == "not rendered by kustomize"
    [failed] = [
        f for f in collect(load_config(config)).findings if f.rule == "envrepo/kustomize-failed"
    ]
    assert "settings.properties" in failed.message
    assert str(tmp_path) not in failed.message
    pages = generate(load_config(config), None)
    assert "Not rendered by kustomize" in pages["catalog/environments/prod.md"]


@needs_kubectl
def test_kubectls_message_on_several_lines_reaches_the_finding_whole(tmp_path: Path) -> None:
    # a Helm chart without --enable-helm: klog writes `err=<`, the message indented, then `>`
    write(tmp_path / "repo/envs/prod/kustomization.yaml", """
        resources: [web.yaml]
        helmCharts:
          - name: some-chart
            repo: https://charts.example/
        """)  # fmt: skip
    write(tmp_path / "repo/envs/prod/web.yaml", TRICKY["base/worker.yaml"])
    config = make_config(
        tmp_path, environments=[{"name": "prod", "repo": "repo", "path": "envs/prod"}]
    )
    [failed] = [
        f for f in collect(load_config(config)).findings if f.rule == "envrepo/kustomize-failed"
    ]
    assert "some-chart" in failed.message and "--enable-helm" in failed.message, failed.message
    assert str(tmp_path) not in failed.message


def test_a_configured_kustomize_may_not_enable_helm_or_plugins(tmp_path: Path) -> None:
    write(tmp_path / "repo/kustomization.yaml", "resources: [web.yaml]\n")
    write(tmp_path / "repo/web.yaml", TRICKY["base/worker.yaml"])
    config = make_config(tmp_path, kustomize=["kubectl", "kustomize", "--enable-helm"],
                         environments=[{"name": "prod", "repo": "repo"}])  # fmt: skip
    [env] = read(config)["environments"]
    assert env["renderer"] == "built-in"
    [finding] = [
        f for f in collect(load_config(config)).findings if f.rule == "envrepo/kustomize-failed"
    ]
    assert "--enable-helm" in finding.message


HOOKS = """
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: migrate
      annotations: {argocd.argoproj.io/hook: PreSync}
    spec: {template: {spec: {containers: [{name: m, image: "reg.example.com/web:2.0.0"}]}}}
    ---
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: seed
      annotations: {helm.sh/hook: post-install}
    spec: {template: {spec: {containers: [{name: s, image: "reg.example.com/seed:1"}]}}}
    """
TWO_WORKLOADS = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app.kubernetes.io/name: web, owner: team-web}
    spec: {template: {spec: {containers: [{name: web, image: "reg.example.com/web:2.0.0"}]}}}
    ---
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: web-cleanup
      labels: {app.kubernetes.io/name: web}
    spec:
      jobTemplate: {spec: {template: {spec: {containers: [{name: c, image: "reg.example.com/web:1.9.0"}]}}}}
    """


@pytest.mark.parametrize("renderer", RENDERERS)
def test_hooks_are_other_objects_and_one_identity_is_one_service(
    tmp_path: Path, renderer: str
) -> None:
    write(
        tmp_path / "repo/kustomization.yaml", "resources: [web.yaml, hooks.yaml]\nnamePrefix: p-\n"
    )
    write(tmp_path / "repo/web.yaml", TWO_WORKLOADS)
    write(tmp_path / "repo/hooks.yaml", HOOKS)
    config = make_config(
        tmp_path, kustomize=renderer, environments=[{"name": "prod", "repo": "repo"}]
    )
    document = read(config)
    [web] = document["services"]
    assert web["name"] == "web"
    [deployment] = web["deployments"]
    assert [(w["kind"], w["name"]) for w in deployment["workloads"]] == [
        ("CronJob", "p-web-cleanup"), ("Deployment", "p-web"),
    ] or [(w["kind"], w["name"]) for w in deployment["workloads"]] == [
        ("Deployment", "p-web"), ("CronJob", "p-web-cleanup"),
    ]  # fmt: skip
    assert deployment["versions"] == ["1.9.0", "2.0.0"]
    assert deployment["version"] == "2.0.0"  # the Deployment's, not the CronJob's
    others = {
        (w["kind"], w["name"], w["note"]) for w in document["environments"][0]["other_objects"]
    }
    assert others == {("Job", "p-migrate", "Argo CD hook"), ("Job", "p-seed", "Helm hook")}
    [mixed] = [
        f for f in collect(load_config(config)).findings if f.rule == "catalog/mixed-versions"
    ]
    assert "1.9.0, 2.0.0" in mixed.message
    pages = generate(load_config(config), None)
    assert "Helm hook" in pages["catalog/environments/prod.md"]
    assert "p-web-cleanup" in pages["catalog/services/web.md"]


def test_an_object_with_only_a_generate_name_is_listed_not_a_service(tmp_path: Path) -> None:
    write(tmp_path / "repo/smoke.yaml", """
        apiVersion: batch/v1
        kind: Job
        metadata:
          generateName: smoke-
        spec: {template: {spec: {containers: [{name: s, image: "reg.example.com/smoke:1"}]}}}
        """)  # fmt: skip
    config = make_config(tmp_path, environments=[{"name": "prod", "repo": "repo"}])
    document = read(config)
    assert document["services"] == []
    [other] = document["environments"][0]["other_objects"]
    assert (other["name"], other["note"], other["line"]) == ("smoke-…", "generateName only", 1)


def test_kustomize_refuses_an_object_without_a_name_and_so_does_the_builtin(tmp_path: Path) -> None:
    write(tmp_path / "repo/kustomization.yaml", "resources: [smoke.yaml]\n")
    write(tmp_path / "repo/smoke.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {generateName: x-}\n")
    config = make_config(
        tmp_path, kustomize="builtin", environments=[{"name": "prod", "repo": "repo"}]
    )
    [finding] = [
        f for f in collect(load_config(config)).findings if f.rule == "envrepo/kustomize-invalid"
    ]
    assert "metadata.name" in finding.message


def test_an_unreadable_upstream_is_unreadable_and_skips_nothing(tmp_path: Path) -> None:
    write(tmp_path / "prod/web.yaml", TWO_WORKLOADS.split("---")[0])
    config = make_config(tmp_path, environments=[
        {"name": "dev", "repo": "no-such-folder"},
        {"name": "prod", "repo": "prod"},
    ])  # fmt: skip
    document = read(config)
    statuses = {e["name"]: e["status"] for e in document["environments"]}
    assert statuses == {"dev": "unreadable", "prod": "read"}
    [web] = document["services"]
    assert [(d["environment"], d["drift"]) for d in web["deployments"]] == [("prod", "")]
    model = collect(load_config(config))
    assert [f for f in model.findings if f.rule == "catalog/skipped-environment"] == []
    assert any(f.rule == "envrepo/unreadable" for f in model.findings)
    pages = generate(load_config(config), model)
    row = next(tr for tr in dom(pages["catalog/index.md"]).all("tr") if "web" in tr.text)
    dev = next(td for td in row.all("td") if td.attrs.get("data-env") == "dev")
    assert [b.text for b in dev.all("span", class_="pd-badge")] == ["unreadable"]
    assert "skipped" not in row.text
    table = invoke("catalog", "--config", str(config)).stdout
    # its four risks (no resources, probe, non-root; one replica in prod) are counted on its row
    assert re.search(
        r"^web\s+team-web\s+unreadable\s+2\.0\.0\s+4 warnings$", table, re.MULTILINE
    ), table


def test_a_path_under_a_remote_repo_that_is_not_there_is_an_error_with_its_line(
    tmp_path: Path,
) -> None:
    remote = git_init(tmp_path / "remote")
    write(remote / "envs/prod/web.yaml", TWO_WORKLOADS.split("---")[0])
    git_commit(remote, "first")
    config = make_config(tmp_path, environments=[
        {"name": "prod", "repo": f"file://{remote}", "path": "envs/nope"},
    ])  # fmt: skip
    model = collect(load_config(config))
    [finding] = [f for f in model.findings if f.rule == "envrepo/unreadable"]
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1) if "path:" in text)
    assert (finding.file, finding.line) == ("pipeline-docs.yml", line)
    assert "envs/nope" in finding.message
    assert model.environments[0].status == "unreadable"


def test_the_environment_page_of_an_overlay_repo_is_stable_with_the_builtin_renderer(
    tmp_path: Path, update_golden: bool
) -> None:
    made = make_overlay_repo(tmp_path / "repo", environments=("dev", "prod"), services=2, commits=4)
    config = make_config(tmp_path, kustomize="builtin", environments=[
        {"name": env, "repo": "repo", "path": made.overlays[env]} for env in ("dev", "prod")
    ])  # fmt: skip
    pages = generate(load_config(config), None)
    for page in ("catalog/environments/prod.md", "catalog/services/svc-1.md"):
        check_golden(GOLDEN / "overlays" / page, pages[page], update_golden)


# --- corpus repos with a history, one environment per root overlay ----------------------------


def _bump(repo: Path, step: int) -> None:
    """A new image tag in every root overlay (its `images:`), or in the base files' image lines."""
    for overlay in root_overlays(repo):
        path = next((repo / overlay / n for n in ("kustomization.yaml", "kustomization.yml")
                     if (repo / overlay / n).is_file()), None)  # fmt: skip
        if path is None:
            continue
        text = path.read_text(encoding="utf-8")
        images = re.findall(r"image:\s*[\"']?([^\s\"'@:]+)", "\n".join(
            p.read_text(encoding="utf-8", errors="replace") for p in (repo / overlay).parent.rglob("*.yaml")
        ))  # fmt: skip
        if images and "images:" not in text:
            text += f"images:\n  - name: {images[0]}\n    newTag: v{step}.0.0\n"
            path.write_text(text, encoding="utf-8")
        elif images:
            path.write_text(re.sub(r"newTag: \S+", f"newTag: v{step}.0.0", text), encoding="utf-8")


CORPUS_REPOS = corpus_cases(
    lambda: sorted(p.name for p in (CORPUS / "envrepos").iterdir() if p.is_dir())
)


@needs_corpus
@pytest.mark.parametrize("name", CORPUS_REPOS)
def test_corpus_repos_with_history_build_strict_and_check_agrees(tmp_path: Path, name: str) -> None:
    repo = git_init(tmp_path / "repo")
    shutil.copytree(CORPUS / "envrepos" / name, repo, dirs_exist_ok=True)
    git_commit(repo, "Initial import")
    for step in (1, 2, 3):
        _bump(repo, step)
        git(repo, "add", "--all")
        git(
            repo,
            "commit",
            "--quiet",
            "--allow-empty",
            "-m",
            f"Bump images to v{step}.0.0 (#{step})",
        )
    overlays = root_overlays(repo)
    config = make_config(tmp_path, environments=[
        {"name": re.sub(r"[^A-Za-z0-9_.-]", "-", o).strip("-.") or "root", "repo": "repo", "path": o}
        for o in overlays
    ])  # fmt: skip
    model = collect(load_config(config))
    assert any(env.history for env in model.environments)
    for fail_on in ("never", "error"):
        built = invoke("build", "--config", str(config), "--site-dir", str(tmp_path / f"site-{fail_on}"),
                       "--fail-on", fail_on)  # fmt: skip
        checked = invoke("check", "--config", str(config), "--fail-on", fail_on)
        assert built.exit_code == checked.exit_code, (fail_on, built.stderr, checked.stdout)
        if fail_on == "never":
            assert built.exit_code == 0, built.stderr
            assert (tmp_path / "site-never" / "catalog" / "index.html").is_file()


ROOT_REPLACE = """
    resources: [web.yaml]
    patches:
      - target: {kind: StatefulSet}
        patch: '[{"op": "replace", "path": "", "value": 5}]'
    """


@pytest.mark.parametrize("renderer", RENDERERS)
def test_odd_patches_and_followed_folders_never_end_in_a_traceback(
    tmp_path: Path, renderer: str
) -> None:
    write(tmp_path / "one/kustomization.yaml", ROOT_REPLACE)
    write(tmp_path / "one/web.yaml", TRICKY["base/worker.yaml"])
    write(tmp_path / "two/clusters/prod/apps.yaml", """
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: apps, namespace: flux-system}
        spec: {path: ./apps, sourceRef: {kind: GitRepository, name: flux-system}}
        """)  # fmt: skip
    write(tmp_path / "two/apps/list.yaml", "- not\n- an object\n")
    write(tmp_path / "two/apps/web.yaml", TRICKY["base/worker.yaml"])
    config = make_config(tmp_path, kustomize=renderer, environments=[
        {"name": "one", "repo": "one"}, {"name": "two", "repo": "two", "path": "clusters/prod"},
    ])  # fmt: skip
    document = read(config)
    [worker] = document["services"]
    assert [d["environment"] for d in worker["deployments"]] == ["one", "two"]
    assert worker["deployments"][0]["replicas"] == 2  # a root replaced whole is ignored
