"""Kustomize overlays, rendered as far as the catalog needs: which workloads, which images.

A kustomization's `resources` are followed (folders and files, bases anywhere in the repo;
remote bases are not fetched); its `images` (`newName`, `newTag`, `digest`), `namespace`,
`namePrefix`/`nameSuffix` and `commonLabels`/`labels` are applied to what it includes, inner
kustomizations first. Roots are the kustomizations no other one includes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from ..model import Finding, Severity
from ..yamlload import Document, as_dict, as_list
from .workloads import Workload, image_parts, workload_from

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def is_kustomization(name: str, document: Document | None) -> bool:
    """A Kustomize file (not a Flux `Kustomization` object, which is a GitOps resource)."""
    if PurePosixPath(name).name not in KUSTOMIZATION_FILES or document is None:
        return False
    api = str(as_dict(document.data).get("apiVersion") or "")
    return "fluxcd.io" not in api


@dataclass
class Kustomizations:
    """The kustomizations of a repo, how they include each other, and what they render to."""

    files: dict[str, Document]  # kustomization file -> its document
    documents: Callable[[str], list[Document]]  # any YAML file -> its documents
    display: Callable[[str], str]
    exists: Callable[[str], bool]
    findings: list[Finding] = field(default_factory=list)
    covered: set[str] = field(default_factory=set)  # every file some kustomization includes

    def _targets(self, name: str) -> list[tuple[str, bool]]:
        """(path, is a kustomization) of each resource of one kustomization."""
        document = self.files[name]
        folder = PurePosixPath(name).parent
        targets = []
        raw = [
            (key, index, item)
            for key in ("resources", "bases")
            for index, item in enumerate(as_list(as_dict(document.data).get(key)))
        ]
        for key, index, item in raw:
            entry = str(item)
            if "://" in entry or entry.startswith("git@") or "?ref=" in entry:
                self.findings.append(Finding(
                    "envrepo/remote-base", Severity.INFO, self.display(name),
                    document.line((key, index)),
                    f"remote resource {entry} is not fetched; what it deploys is not cataloged",
                    "vendor the base into the repo to have it cataloged",
                ))  # fmt: skip
                continue
            target = _normalise(folder / entry)
            if target is None:
                continue
            for candidate in KUSTOMIZATION_FILES:
                child = f"{target}/{candidate}" if target else candidate
                if child in self.files:
                    targets.append((child, True))
                    break
            else:
                if self.exists(target):
                    targets.append((target, False))
                else:
                    self.findings.append(Finding(
                        "envrepo/missing-resource", Severity.WARNING, self.display(name),
                        document.line((key, index)),
                        f"resource {entry} is neither a file nor a folder with a kustomization",
                        "fix the path, or remove the resource",
                    ))  # fmt: skip
        return targets

    def _patches(self, name: str) -> list[Document]:
        """Patch documents of one kustomization (strategic merge patches by path)."""
        spec = as_dict(self.files[name].data)
        folder = PurePosixPath(name).parent
        paths = [
            as_dict(p).get("path") if isinstance(p, dict) else p
            for p in as_list(spec.get("patches"))
        ]
        paths += as_list(spec.get("patchesStrategicMerge"))
        documents = []
        for entry in paths:
            target = _normalise(folder / str(entry)) if isinstance(entry, str) else None
            if target is not None and self.exists(target):
                self.covered.add(target)
                documents += self.documents(target)
        return documents

    def roots(self, under: str = "") -> list[str]:
        """Kustomizations under a folder that no other kustomization includes."""
        included = {t for name in self.files for t, nested in self._targets(name) if nested}
        prefix = f"{under.strip('/')}/" if under.strip("/") else ""
        return sorted(n for n in self.files if n not in included and n.startswith(prefix))

    def render(self, name: str, stack: tuple[str, ...] = ()) -> list[Workload]:
        """The workloads one kustomization produces, its transformations applied."""
        if name in stack:
            return []
        self.covered.add(name)
        workloads: list[Workload] = []
        for target, nested in self._targets(name):
            if nested:
                workloads += self.render(target, (*stack, name))
                continue
            self.covered.add(target)
            for document in self.documents(target):
                workload = workload_from(document)
                if workload is not None:
                    workloads.append(workload)
        patches = self._patches(name)
        spec = as_dict(self.files[name].data)
        return [_transform(_patch(w, patches), spec, self.display(name)) for w in workloads]


def _patch(workload: Workload, patches: list[Document]) -> Workload:
    """What a strategic merge patch changes that the catalog shows: chart version, replicas."""
    for patch in patches:
        data = as_dict(patch.data)
        if data.get("kind") != workload.kind.split(" ")[0]:
            continue
        name = as_dict(data.get("metadata")).get("name")
        if name not in (None, workload.name):
            continue
        version = patch.text(("spec", "chart", "spec", "version"))
        replicas = as_dict(data.get("spec")).get("replicas")
        workload = replace(
            workload,
            version=version or workload.version,
            replicas=replicas
            if isinstance(replicas, int) and not isinstance(replicas, bool)
            else workload.replicas,
        )
    return workload


def _normalise(path: PurePosixPath) -> str | None:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None  # outside the repo
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _labels(spec: dict[str, Any]) -> dict[str, str]:
    labels = {str(k): str(v) for k, v in as_dict(spec.get("commonLabels")).items()}
    for entry in as_list(spec.get("labels")):
        labels.update({str(k): str(v) for k, v in as_dict(as_dict(entry).get("pairs")).items()})
    return labels


def _image(image: str, rules: list[dict[str, Any]]) -> str:
    repo, tag, digest = image_parts(image)
    for rule in rules:
        if str(rule.get("name")) not in (repo, repo.rsplit("/", 1)[-1]):
            continue
        repo = str(rule.get("newName") or repo)
        if rule.get("newTag") is not None:
            tag, digest = str(rule["newTag"]), None
        if rule.get("digest"):
            digest = str(rule["digest"])
            if rule.get("newTag") is None:
                tag = None  # kustomize pins by digest alone
    return repo + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _transform(workload: Workload, spec: dict[str, Any], via: str) -> Workload:
    rules = [as_dict(r) for r in as_list(spec.get("images"))]
    name = f"{spec.get('namePrefix') or ''}{workload.name}{spec.get('nameSuffix') or ''}"
    labels = {**workload.labels, **_labels(spec)}
    replicas = workload.replicas
    for entry in as_list(spec.get("replicas")):
        if as_dict(entry).get("name") == workload.name and isinstance(
            as_dict(entry).get("count"), int
        ):
            replicas = as_dict(entry)["count"]
    return replace(
        workload,
        name=name,
        namespace=str(spec.get("namespace") or workload.namespace),
        labels=labels,
        images=tuple(_image(i, rules) for i in workload.images),
        replicas=replicas,
        via=(*workload.via, via),
    )
