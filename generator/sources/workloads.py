"""What runs, from Kubernetes and GitOps objects: workloads, Flux and Argo CD objects.

Every object the catalog lists becomes a `Workload`: Deployments, StatefulSets, DaemonSets,
CronJobs and Jobs with their images, replicas and resource requests; Flux `HelmRelease` (chart
and version) and `Kustomization` (source path); Argo CD `Application` (source and
`targetRevision`) and `ApplicationSet` (listed with its generators, not expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..model import Container
from ..yamlload import Document, as_dict, as_list
from .containers import pod_containers

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
GITOPS_KINDS = ("HelmRelease", "Kustomization", "Application", "ApplicationSet")
NAME_LABEL = "app.kubernetes.io/name"
VERSION_LABEL = "app.kubernetes.io/version"
HOOK_ANNOTATIONS = ("argocd.argoproj.io/hook", "helm.sh/hook")
_QUANTITY = re.compile(r"^(\d{1,15}(?:\.\d{1,9})?|\.\d{1,9})([a-zA-Z]{0,2})$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}


@dataclass(frozen=True)
class Workload:
    """One object that runs something, as far as the catalog needs it."""

    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    images: tuple[str, ...]
    replicas: int | None
    cpu: float | None  # cores requested by one pod, all containers together
    memory: int | None  # bytes requested by one pod
    file: str
    line: int
    version_text: str | None  # the version label as written
    version: str | None = None  # the version the object itself pins (chart, targetRevision)
    source: str = ""  # chart, repository or path it deploys
    note: str = ""  # e.g. an ApplicationSet's generators
    origin_name: str = ""  # its name as written, before an overlay's prefix or suffix
    set_at: tuple[str, int] | None = None  # the repo file and line that set its images
    generate_name: str = ""
    containers: tuple[Container, ...] = ()  # what the risk rules read of each container
    min_replicas: int | None = None  # the highest `minReplicas` of the HPAs that scale it

    def service(self, label: str = NAME_LABEL) -> str:
        """The service it runs: its name label, else its name without prefix or suffix."""
        return self.labels.get(label) or self.origin_name or self.name

    @property
    def not_a_service(self) -> str:
        """Why this object is not a service of its own (a hook, a generateName object), or ""."""
        if any(key in self.annotations for key in HOOK_ANNOTATIONS):
            return "Argo CD hook" if HOOK_ANNOTATIONS[0] in self.annotations else "Helm hook"
        if not self.name:
            return "generateName only" if self.generate_name else "no name"
        return ""


def _strings(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in as_dict(raw).items() if v is not None}


def cpu_cores(value: Any) -> float | None:
    """A CPU quantity in cores: `250m` -> 0.25, `1` -> 1.0; None when unreadable."""
    match = _QUANTITY.match(str(value).strip()) if value is not None else None
    if match is None:
        return None
    number, unit = float(match[1]), match[2]
    if unit == "m":
        return number / 1000
    return number * _DECIMAL[unit] if unit in _DECIMAL else None


def memory_bytes(value: Any) -> int | None:
    """A memory quantity in bytes: `384Mi`, `1G`, `512000`; None when unreadable."""
    match = _QUANTITY.match(str(value).strip()) if value is not None else None
    if match is None:
        return None
    number, unit = float(match[1]), match[2]
    scale = _BINARY.get(unit) or _DECIMAL.get(unit)
    return int(number * scale) if scale else None


def _pod_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    template: Any = spec.get("template")
    if kind == "CronJob":
        template = as_dict(as_dict(spec.get("jobTemplate")).get("spec")).get("template")
    return as_dict(as_dict(template).get("spec"))


def _requests(containers: list[dict[str, Any]]) -> tuple[float | None, int | None]:
    cpu: float | None = None
    memory: int | None = None
    for container in containers:
        requests = as_dict(as_dict(container.get("resources")).get("requests"))
        if (value := cpu_cores(requests.get("cpu"))) is not None:
            cpu = (cpu or 0) + value
        if (amount := memory_bytes(requests.get("memory"))) is not None:
            memory = (memory or 0) + amount
    return cpu, memory


def _workload(document: Document, data: dict[str, Any], kind: str) -> Workload:
    metadata = as_dict(data.get("metadata"))
    spec = as_dict(data.get("spec"))
    pod = _pod_spec(kind, spec)
    containers = [c for c in as_list(pod.get("containers")) if isinstance(c, dict)]
    replicas = spec.get("replicas")
    cpu, memory = _requests(containers)
    return Workload(
        kind=kind,
        name=str(metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        labels=_strings(metadata.get("labels")),
        annotations=_strings(metadata.get("annotations")),
        images=tuple(str(c["image"]) for c in containers if c.get("image")),
        replicas=replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None,
        cpu=cpu,
        memory=memory,
        file=document.file,
        line=document.start_line,
        version_text=document.text(("metadata", "labels", VERSION_LABEL)),
        generate_name=str(metadata.get("generateName") or ""),
        containers=pod_containers(pod),
    )


def _gitops(document: Document, data: dict[str, Any], kind: str) -> Workload | None:
    api = str(data.get("apiVersion") or "")
    metadata = as_dict(data.get("metadata"))
    spec = as_dict(data.get("spec"))
    version: str | None = None
    source = note = ""
    images: tuple[str, ...] = ()
    if kind == "HelmRelease" and "fluxcd.io" in api:
        chart = as_dict(as_dict(spec.get("chart")).get("spec"))
        version = document.text(("spec", "chart", "spec", "version"))
        images = values_images(spec.get("values"))
        if spec.get("valuesFrom"):
            note = "values also from valuesFrom (ConfigMaps or Secrets): not read"
        source = str(chart.get("chart") or as_dict(spec.get("chartRef")).get("name") or "")
        kind = "HelmRelease"
    elif kind == "Kustomization" and "fluxcd.io" in api:
        source = str(spec.get("path") or "")
        kind = "Kustomization (Flux)"
    elif kind == "Application" and "argoproj.io" in api:
        sources = (
            [as_dict(spec.get("source"))] if spec.get("source") else as_list(spec.get("sources"))
        )
        first = as_dict(sources[0]) if sources else {}
        helm = as_dict(first.get("helm"))
        images = values_images(helm.get("valuesObject"))
        pointer = ("spec", "source") if spec.get("source") else ("spec", "sources", 0)
        version = document.text((*pointer, "targetRevision")) or "HEAD"
        source = str(first.get("chart") or first.get("path") or first.get("repoURL") or "")
        if first.get("repoURL") and source != first.get("repoURL"):
            source = f"{first['repoURL']} {source}"
    elif kind == "ApplicationSet" and "argoproj.io" in api:
        generators = [next(iter(as_dict(g)), "?") for g in as_list(spec.get("generators"))]
        note = "generators: " + ", ".join(str(g) for g in generators) if generators else ""
        template = as_dict(as_dict(spec.get("template")).get("spec"))
        source = str(as_dict(template.get("source")).get("repoURL") or "")
    else:
        return None
    return Workload(
        kind=kind,
        name=str(metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        labels=_strings(metadata.get("labels")),
        annotations=_strings(metadata.get("annotations")),
        images=images,
        replicas=None,
        cpu=None,
        memory=None,
        file=document.file,
        line=document.start_line,
        version_text=document.text(("metadata", "labels", VERSION_LABEL)),
        version=version,
        source=source,
        note=note,
    )


def values_images(values: Any, depth: int = 0) -> tuple[str, ...]:
    """Images a chart's values set, as charts conventionally write them: `image: repo:tag`, or a
    mapping with `repository` and `tag` (or `digest`), at `image` or under any key."""
    found: list[str] = []
    todo: list[tuple[Any, int]] = [(values, 0)]
    while todo and len(found) < 50:
        node, level = todo.pop(0)
        if not isinstance(node, dict) or level > 4:
            continue
        repository = node.get("repository")
        if isinstance(repository, str) and (node.get("tag") is not None or node.get("digest")):
            registry = node.get("registry")
            name = (
                f"{registry}/{repository}" if isinstance(registry, str) and registry else repository
            )
            tag = f":{node['tag']}" if node.get("tag") is not None else ""
            found.append(name + tag + (f"@{node['digest']}" if node.get("digest") else ""))
        for key, value in node.items():
            if key == "image" and isinstance(value, str) and value:
                found.append(value)
            elif isinstance(value, dict):
                todo.append((value, level + 1))
    return tuple(dict.fromkeys(found))


def is_range(version: str | None) -> bool:
    """A version constraint (`>=1.0.0`, `1.x`, `~1.2`, `*`), not a version."""
    return bool(version) and bool(re.search(r"^[<>=~^*]|[\s|]|\.[xX*](\.|$)|^[xX*]$", str(version)))


def workload_from(document: Document) -> Workload | None:
    """The workload or GitOps object a document describes, or None for anything else."""
    data = document.data
    if not isinstance(data, dict):
        return None
    kind = str(data.get("kind") or "")
    if kind in WORKLOAD_KINDS:
        return _workload(document, data, kind)
    if kind in GITOPS_KINDS:
        return _gitops(document, data, kind)
    return None


def image_parts(image: str) -> tuple[str, str | None, str | None]:
    """`registry/repo:tag@sha256:...` -> (`registry/repo`, tag, digest)."""
    name, _, digest = image.partition("@")
    head, _, last = name.rpartition("/")
    repo, _, tag = last.partition(":")
    return (f"{head}/{repo}" if head else repo), (tag or None), (digest or None)


def image_tag(image: str) -> str | None:
    """The tag (or else the digest) of an image reference: `redis:7.2.4` -> `7.2.4`."""
    _, tag, digest = image_parts(image)
    return tag or digest
