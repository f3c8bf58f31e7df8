"""Risks: how the services' workloads are configured, container by container.

Everywhere: no resource requests or limits, no readiness probe (Deployments and StatefulSets),
a privileged container, one that may run as root. In production only (`environments[].production`):
a mutable image tag and a single replica no HPA raises. A bundle's unpinned entry in
environment.yml is found where the entry is read (`sources/envrepos.py`): the digest is not kept.

One finding per rule, workload and container. A bundle deployed in several environments is one
file (`<bundle URL>#<member>`): its finding is given once, naming every environment that runs it.
Hooks and the other objects that are not services are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..model import Container, Environment, Finding, WorkloadRef
from ..rules import RULES
from ..sources.workloads import WORKLOAD_KINDS, image_parts

SERVING_KINDS = ("Deployment", "StatefulSet")  # what traffic is sent to: probes and replicas


@dataclass(frozen=True)
class _Risk:
    rule: str
    container: str  # "" for the workload as a whole
    says: str  # what is wrong, after "container `x` of Deployment `y`"
    hint: str


def _subject(container: Container) -> str:
    """How a message names a container (containers without a name are told apart by nothing)."""
    return f"container `{container.name}`" if container.name else "a container without a name"


def _resources(container: Container) -> str:
    missing = [what for what, has in (("requests", container.requests),
                                      ("limits", container.limits)) if not has]  # fmt: skip
    return " or ".join(missing)


def _container_risks(container: Container, label: str, production: bool) -> Iterator[_Risk]:
    if production and container.image:
        _, tag, digest = image_parts(container.image)
        if digest is None and tag in (None, "latest"):
            yield _Risk(
                "risk/mutable-image", label,
                f"runs `{container.image}`, "
                + ("the mutable tag `latest`" if tag else "without a tag (that is `latest`)"),
                "pin a version tag or a digest (`image: <repo>:1.4.2` or `<repo>@sha256:…`) so a "
                "restart cannot pull something else than what was tested",
            )  # fmt: skip
    if not (container.requests and container.limits):
        yield _Risk(
            "risk/no-resources", label, f"declares no resource {_resources(container)}",
            "set `resources.requests` (what the scheduler reserves) and `resources.limits` "
            "(cpu, memory) so one pod cannot starve the node",
        )  # fmt: skip
    if container.privileged:
        yield _Risk(
            "risk/privileged", label, "runs privileged (`securityContext.privileged: true`)",
            "drop `privileged: true`; add only the capabilities it needs "
            "(`securityContext.capabilities.add`)",
        )  # fmt: skip
    if not container.non_root:
        yield _Risk(
            "risk/runs-as-root", label, "may run as root",
            "set `securityContext.runAsNonRoot: true` (on the pod or the container) and a non-zero "
            "`runAsUser`",
        )  # fmt: skip


def _risks(workload: WorkloadRef, production: bool) -> Iterator[_Risk]:
    """What is risky in one workload, container by container (init containers included)."""
    serving = workload.kind in SERVING_KINDS
    if production and serving:
        replicas = workload.replicas if workload.replicas is not None else 1
        kept = workload.min_replicas or 0
        if replicas == 1 and kept <= 1:
            yield _Risk(
                "risk/single-replica", "",
                "runs 1 replica"
                + (" (`replicas` is not set to a number)" if workload.replicas is None else "")
                + (f" and its HPA's `minReplicas` is {kept}" if workload.min_replicas else ""),
                "set `replicas: 2` or more, or an HPA with `minReplicas: 2`, so that a node drain "
                "or a crash does not take it down",
            )  # fmt: skip
    for container in workload.containers:
        label = _subject(container)
        yield from _container_risks(container, label, production)
        if serving and not container.init and not container.readiness:
            yield _Risk(
                "risk/no-readiness-probe", label, "has no readiness probe",
                "add `readinessProbe:` so that traffic waits until the container is ready",
            )  # fmt: skip


def risk_findings(environments: tuple[Environment, ...]) -> list[Finding]:
    """The risk/* findings of every service's workloads in every environment."""
    found: dict[tuple[object, ...], tuple[_Risk, str, WorkloadRef, list[str]]] = {}
    for env in environments:
        for deployment in env.deployments:
            for workload in deployment.workloads:
                if workload.note or workload.kind not in WORKLOAD_KINDS:
                    continue
                for risk in _risks(workload, env.production):
                    key = (risk.rule, risk.container, deployment.service, workload.file,
                           workload.line, workload.kind, workload.namespace, workload.name)  # fmt: skip
                    found.setdefault(key, (risk, deployment.service, workload, []))[3].append(
                        env.name
                    )
    findings = []
    for risk, service, workload, names in found.values():
        where = ", ".join(dict.fromkeys(names))
        subject = f"{workload.kind} `{workload.name}`"
        if risk.container:
            subject = f"{risk.container} of {subject}"
        findings.append(Finding(
            risk.rule, RULES[risk.rule].severity, workload.file, workload.line,
            f"{service} in {where}: {subject} {risk.says}", risk.hint,
        ))  # fmt: skip
    return findings
