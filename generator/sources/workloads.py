"""Kubernetes workloads found in YAML documents: what runs, which image, which labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..yamlload import Document, as_dict

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
NAME_LABEL = "app.kubernetes.io/name"
VERSION_LABEL = "app.kubernetes.io/version"


@dataclass(frozen=True)
class Workload:
    """One workload resource, as far as the catalog needs it."""

    kind: str
    name: str
    namespace: str
    labels: dict[str, str]
    annotations: dict[str, str]
    images: tuple[str, ...]
    replicas: int | None
    cpu_request: str
    memory_request: str
    file: str
    line: int
    version_text: str | None  # the version label as written

    @property
    def service(self) -> str:
        return self.labels.get(NAME_LABEL) or self.name


def _strings(raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): str(v) for k, v in raw.items() if v is not None}


def _pod_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    template: Any = spec.get("template")
    if kind == "CronJob":
        job = spec.get("jobTemplate")
        template = job.get("spec", {}).get("template") if isinstance(job, dict) else None
    if not isinstance(template, dict):
        return {}
    pod = template.get("spec")
    return pod if isinstance(pod, dict) else {}


def _sum_requests(containers: list[Any], key: str) -> str:
    values = []
    for container in containers:
        resources = container.get("resources") if isinstance(container, dict) else None
        requests = resources.get("requests") if isinstance(resources, dict) else None
        if isinstance(requests, dict) and requests.get(key) is not None:
            values.append(str(requests[key]))
    return "+".join(values)


def workload_from(document: Document) -> Workload | None:
    """The workload a document describes, or None when it describes something else."""
    data = document.data
    if not isinstance(data, dict) or data.get("kind") not in WORKLOAD_KINDS:
        return None
    metadata = as_dict(data.get("metadata"))
    spec = as_dict(data.get("spec"))
    kind = str(data["kind"])
    pod = _pod_spec(kind, spec)
    containers = [c for c in pod.get("containers", []) or [] if isinstance(c, dict)]
    images = tuple(str(c["image"]) for c in containers if c.get("image"))
    replicas = spec.get("replicas")
    labels = _strings(metadata.get("labels"))
    return Workload(
        kind=kind,
        name=str(metadata.get("name") or ""),
        namespace=str(metadata.get("namespace") or ""),
        labels=labels,
        annotations=_strings(metadata.get("annotations")),
        images=images,
        replicas=replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else None,
        cpu_request=_sum_requests(containers, "cpu"),
        memory_request=_sum_requests(containers, "memory"),
        file=document.file,
        line=document.start_line,
        version_text=document.text(("metadata", "labels", VERSION_LABEL)),
    )


def image_tag(image: str) -> str | None:
    """The tag (or digest) of an image reference: `redis:7.2.4` -> `7.2.4`."""
    if "@" in image:
        return image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None
