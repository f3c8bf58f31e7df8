"""GitOps objects that deploy a folder of the env repo itself: a Flux `Kustomization` (its source
the repo's own `GitRepository`, or an `ExternalArtifact` an `ArtifactGenerator` copies from it)
and an Argo CD `Application` whose source is the repo. Each becomes a `Follow`: the folder to
render and the transformations its object applies (as a kustomization would write them).
Anything that cannot be followed is a finding that names the object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..model import Finding, Severity
from ..yamlload import Document, as_dict, as_list
from .kustomize.tree import normalise

_API = {"flux": "kustomize.toolkit.fluxcd.io", "argo": "argoproj.io"}


@dataclass(frozen=True)
class Follow:
    """A folder of the repo that a GitOps object deploys, with what that object changes."""

    document: Document  # the Flux Kustomization or Argo CD Application
    folder: str  # in the repo ("" for its root)
    spec: dict[str, Any]  # the object's transformations, as a kustomization would write them
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)  # spec key -> line
    substitute: dict[str, str] = field(default_factory=dict)  # Flux postBuild.substitute
    via: str = ""  # "Flux Kustomization flux-system/apps"


def _name(document: Document) -> str:
    metadata = as_dict(as_dict(document.data).get("metadata"))
    namespace = str(metadata.get("namespace") or "")
    return f"{namespace}/{metadata.get('name')}" if namespace else str(metadata.get("name"))


def _same_repo(url: str, repo_urls: set[str]) -> bool:
    def plain(value: str) -> str:
        value = re.sub(r"^[a-z+]+://([^@/]*@)?", "", value.strip().lower())
        value = re.sub(r"^[^@/]+@([^:/]+):", r"\1/", value)  # git@host:group/repo
        return value.removesuffix("/").removesuffix(".git")

    return bool(url) and plain(url) in {plain(u) for u in repo_urls if u}


def _artifact_folders(documents: list[Document], name: str, own: set[str]) -> dict[str, str]:
    """An ExternalArtifact's folders -> the repo folders an ArtifactGenerator copies into them."""
    folders: dict[str, str] = {}
    for document in documents:
        data = as_dict(document.data)
        if data.get("kind") != "ArtifactGenerator":
            continue
        spec = as_dict(data.get("spec"))
        aliases = {
            str(as_dict(s).get("alias")) for s in as_list(spec.get("sources"))
            if as_dict(s).get("kind") == "GitRepository" and str(as_dict(s).get("name")) in own
        }  # fmt: skip
        for artifact in as_list(spec.get("artifacts")):
            if as_dict(artifact).get("name") != name:
                continue
            for rule in as_list(as_dict(artifact).get("copy")):
                source, target = str(as_dict(rule).get("from")), str(as_dict(rule).get("to"))
                match = re.fullmatch(r"@([\w.-]+)/(.*?)/?\*\*", source)
                if match and match[1] in aliases and target.startswith("@artifact/"):
                    folders[target.removeprefix("@artifact/").strip("/")] = match[2].strip("/")
    return folders


def _in_artifact(path: str, folders: dict[str, str]) -> str | None:
    for inside, repo in sorted(folders.items(), key=lambda item: -len(item[0])):
        if path == inside or path.startswith(f"{inside}/") or not inside:
            rest = path[len(inside) :].strip("/") if inside else path
            return "/".join(p for p in (repo, rest) if p)
    return None


def _flux(document: Document, documents: list[Document], repo_urls: set[str]) -> Follow | str:
    spec = as_dict(as_dict(document.data).get("spec"))
    source = as_dict(spec.get("sourceRef"))
    kind, name = str(source.get("kind") or ""), str(source.get("name") or "")
    own = {"flux-system"} | {
        str(as_dict(as_dict(d.data).get("metadata")).get("name"))
        for d in documents
        if as_dict(d.data).get("kind") == "GitRepository"
        and _same_repo(str(as_dict(as_dict(d.data).get("spec")).get("url") or ""), repo_urls)
    }
    path = normalise(PurePosixPath(str(spec.get("path") or "."))) or ""
    if kind == "GitRepository" and name in own:
        folder: str | None = path
    elif kind == "ExternalArtifact":
        folder = _in_artifact(path, _artifact_folders(documents, name, own))
        if folder is None:
            return f"its ExternalArtifact {name} is not made from this repo by an ArtifactGenerator"
    else:
        return f"its source {kind} {name} is not this repo"
    if folder is None:
        return f"its path {spec.get('path')} leaves the repo"
    common = as_dict(spec.get("commonMetadata"))
    transforms = {
        "namespace": spec.get("targetNamespace"), "namePrefix": spec.get("namePrefix"),
        "nameSuffix": spec.get("nameSuffix"), "images": spec.get("images"),
        "patches": spec.get("patches"), "commonAnnotations": common.get("annotations"),
        "labels": [{"pairs": common["labels"]}] if isinstance(common.get("labels"), dict) else None,
    }  # fmt: skip
    post = as_dict(spec.get("postBuild"))
    substitute = {str(k): str(v) for k, v in as_dict(post.get("substitute")).items()}
    return Follow(
        document, folder, {k: v for k, v in transforms.items() if v},
        {(key, index): document.line(("spec", key, index))
         for key in ("images", "patches") for index in range(len(as_list(spec.get(key))))},
        substitute, f"Flux Kustomization {_name(document)}",
    )  # fmt: skip


def _argo_images(images: list[Any]) -> list[dict[str, str]]:
    """Argo CD's `kustomize.images` (`name=new:tag`, `name:tag`, `name@digest`) as rules."""
    rules = []
    for entry in images:
        text = str(entry)
        name, _, new = text.partition("=") if "=" in text else ("", "", text)
        body, at, digest = new.partition("@")
        head, colon, tag = (
            body.rpartition(":") if ":" in body.rsplit("/", 1)[-1] else (body, "", "")
        )
        rule: dict[str, str] = {"name": name or head}
        if name and head != name:
            rule["newName"] = head
        if colon:
            rule["newTag"] = tag
        if at:
            rule["digest"] = digest
        rules.append(rule)
    return rules


def _argo(document: Document, repo_urls: set[str]) -> Follow | str | None:
    spec = as_dict(as_dict(document.data).get("spec"))
    sources = (
        [as_dict(spec["source"])]
        if spec.get("source")
        else [as_dict(s) for s in as_list(spec.get("sources"))]
    )
    ours = [
        s for s in sources if _same_repo(str(s.get("repoURL") or ""), repo_urls) and "path" in s
    ]
    if not ours:
        return None  # an Application of another repo or a chart: cataloged as it is
    if len(ours) > 1:
        return "it has several sources in this repo; only one is followed"
    source = ours[0]
    folder = normalise(PurePosixPath(str(source.get("path") or ".")))
    if folder is None:
        return f"its path {source.get('path')} leaves the repo"
    kustomize = as_dict(source.get("kustomize"))
    transforms = {
        "namePrefix": kustomize.get("namePrefix"), "nameSuffix": kustomize.get("nameSuffix"),
        "images": _argo_images(as_list(kustomize.get("images"))) or None,
        "commonAnnotations": kustomize.get("commonAnnotations"),
        "labels": [{"pairs": kustomize["commonLabels"]}] if isinstance(kustomize.get("commonLabels"), dict) else None,
    }  # fmt: skip
    return Follow(document, folder, {k: v for k, v in transforms.items() if v}, {}, {},
                  f"Argo CD Application {_name(document)}")  # fmt: skip


def follows(
    documents: list[Document], repo_urls: set[str]
) -> tuple[list[Follow], list[tuple[Document, str]], list[Finding]]:
    """The folders of this repo that its Flux Kustomizations and Argo CD Applications deploy;
    the Flux Kustomizations that cannot be followed, and why."""
    found: list[Follow] = []
    stuck: list[tuple[Document, str]] = []
    findings: list[Finding] = []
    for document in documents:
        data = as_dict(document.data)
        kind, api = str(data.get("kind") or ""), str(data.get("apiVersion") or "")
        if kind == "Kustomization" and _API["flux"] in api:
            result: Follow | str | None = _flux(document, documents, repo_urls)
        elif kind == "Application" and _API["argo"] in api:
            result = _argo(document, repo_urls)
        else:
            continue
        if isinstance(result, Follow):
            found.append(result)
            spec = as_dict(data.get("spec"))
            if as_dict(spec.get("postBuild")).get("substituteFrom"):
                findings.append(Finding(
                    "envrepo/not-followed", Severity.WARNING, document.file, document.line(("spec", "postBuild")),
                    f"{kind} {_name(document)}: postBuild.substituteFrom reads ConfigMaps or Secrets "
                    "of the cluster: those variables are left as written",
                    "use postBuild.substitute for values the catalog should see",
                ))  # fmt: skip
        elif result is not None:
            if kind == "Kustomization":
                stuck.append((document, f"not followed: {result}"))
            findings.append(Finding(
                "envrepo/not-followed", Severity.WARNING, document.file, document.start_line,
                f"{kind} {_name(document)} is not followed: {result}; what it deploys is not cataloged",
                "point it at a folder of this env repo, or catalog its repo as an environment",
            ))  # fmt: skip
    return found, stuck, findings


# A default runs up to the next `}` but never over another `${`: each character is read by one
# try at most, so a value of `${x:=` repeated 20,000 times costs its length, not its square.
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=((?:[^}$]|\$(?!\{))*))?\}")


def substitute(value: Any, variables: dict[str, str], depth: int = 0) -> Any:
    """Flux's postBuild substitution: `${var}` and `${var:=default}` in every string."""
    if depth > 100:
        return value
    if isinstance(value, str) and "${" in value:
        return _VARIABLE.sub(
            lambda m: variables.get(m[1], m[2] if m[2] is not None else m[0]), value
        )
    if isinstance(value, dict):
        return {k: substitute(v, variables, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables, depth + 1) for v in value]
    return value
