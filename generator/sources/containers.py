"""What the risk rules read of a pod: each container's resources, readiness probe and security
context, and the HorizontalPodAutoscalers that keep a workload above one replica.

Input is hostile: a value of the wrong type (a string `securityContext`, `minReplicas: "2"`) is
read as if it were absent, so that it can only ever add a finding, never hide one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..model import Container
from ..yamlload import Document, as_dict, as_list

MAX_CONTAINERS = 256  # per pod and per list (containers, initContainers): far past real pods
AUTOSCALER = "HorizontalPodAutoscaler"


def _int(value: Any) -> int | None:
    """An integer as YAML wrote it (`true` is not one), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _privileged(value: Any) -> bool:
    """`privileged: true`, and (conservatively) the string "true" Kubernetes would refuse."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _non_root(pod: dict[str, Any], own: dict[str, Any]) -> bool:
    """Whether the pod's securityContext, overridden key by key by the container's, says the
    container never runs as root: `runAsNonRoot: true` or a non-zero `runAsUser`."""
    effective = {**{k: v for k, v in pod.items() if v is not None},
                 **{k: v for k, v in own.items() if v is not None}}  # fmt: skip
    user = _int(effective.get("runAsUser"))
    return effective.get("runAsNonRoot") is True or (user is not None and user > 0)


def _container(raw: dict[str, Any], pod_context: dict[str, Any], init: bool) -> Container:
    resources = as_dict(raw.get("resources"))
    context = as_dict(raw.get("securityContext"))
    image = raw.get("image")
    return Container(
        name=str(raw.get("name") or ""),
        image=str(image) if image is not None else "",
        init=init,
        requests=bool(as_dict(resources.get("requests"))),
        limits=bool(as_dict(resources.get("limits"))),
        readiness=bool(as_dict(raw.get("readinessProbe"))),
        privileged=_privileged(context.get("privileged")),
        non_root=_non_root(pod_context, context),
    )


def pod_containers(pod: dict[str, Any]) -> tuple[Container, ...]:
    """The facts of a pod spec's containers, then of its init containers (each list bounded)."""
    context = as_dict(pod.get("securityContext"))
    found = []
    for key, init in (("containers", False), ("initContainers", True)):
        for raw in as_list(pod.get(key))[:MAX_CONTAINERS]:
            if isinstance(raw, dict):
                found.append(_container(raw, context, init))
    return tuple(found)


@dataclass(frozen=True)
class Autoscaler:
    """A HorizontalPodAutoscaler: what it scales and the fewest replicas it keeps."""

    kind: str
    namespace: str
    names: tuple[str, ...]  # its target's name, and that name with the HPA's own prefix/suffix
    min_replicas: int


def autoscaler_from(document: Document, origin_name: str = "") -> Autoscaler | None:
    """The HPA a document describes, or None. `origin_name` is the HPA's name as written: when an
    overlay renamed it, its target may be named as written too (the built-in renderer does not
    rewrite references), so the target's name with the same prefix and suffix matches as well."""
    data = document.data
    if not isinstance(data, dict) or data.get("kind") != AUTOSCALER:
        return None
    metadata = as_dict(data.get("metadata"))
    spec = as_dict(data.get("spec"))
    target = as_dict(spec.get("scaleTargetRef"))
    kind, name = target.get("kind"), target.get("name")
    if not isinstance(kind, str) or not isinstance(name, str) or not kind or not name:
        return None
    names = [name]
    own = str(metadata.get("name") or "")
    if origin_name and origin_name != own and origin_name in own:
        prefix, _, suffix = own.partition(origin_name)
        names.append(f"{prefix}{name}{suffix}")
    minimum = _int(spec.get("minReplicas"))
    return Autoscaler(
        kind=kind,
        namespace=str(metadata.get("namespace") or ""),
        names=tuple(names),
        min_replicas=minimum if minimum is not None else 1,  # Kubernetes' default; unreadable: 1
    )


def autoscaled(autoscalers: Iterable[Autoscaler]) -> dict[tuple[str, str, str], int]:
    """(kind, namespace, name) -> the highest `minReplicas` of the HPAs that scale it."""
    floors: dict[tuple[str, str, str], int] = {}
    for hpa in autoscalers:
        for name in hpa.names:
            key = (hpa.kind, hpa.namespace, name)
            floors[key] = max(floors.get(key, hpa.min_replicas), hpa.min_replicas)
    return floors
