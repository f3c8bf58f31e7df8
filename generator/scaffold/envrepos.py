"""Env repos in a source and the environments each holds.

A repo is a git repo found in the source (else a top folder of it, or the folder given when
an overlay of a top folder includes another's) holding an `environment.yml`, a kustomization or
a workload manifest. Its environments, by what it holds:
each folder with an `environment.yml`; else each Flux cluster (`clusters/<name>`); else each
root overlay, as the catalog reads them (sources/kustomize/tree.py: a kustomization no other one
includes); else the repo as a whole."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..sources.envrepos import ENVIRONMENT_FILE, YAML_SUFFIXES
from ..sources.kustomize import KUSTOMIZATION_FILES, Kustomizations, Tree
from ..sources.kustomize.tree import RESOURCE_KEYS, is_remote, normalise
from ..sources.workloads import GITOPS_KINDS, WORKLOAD_KINDS
from ..yamlload import Document, as_dict, as_list, load_documents
from .walk import Source

_KIND = re.compile(r"^kind:[ \t]*[\"']?([A-Za-z]+)", re.MULTILINE)
FLUX = "kustomize.toolkit.fluxcd.io"
NAME = re.compile(r"[^A-Za-z0-9_.-]+")
ENV_WORDS = ("env", "envs", "environment", "environments")  # left out of a repo's name


@dataclass(frozen=True)
class Found:
    """An environment found: which repo, which folder of it, and how it was told."""

    source: Source
    repo: str  # the repo's folder in the source ("" for its root)
    path: str  # the folder of the repo it reads ("" for the whole repo)
    how: str  # "environment.yml", "Flux cluster", "root overlay", "manifests"
    base: str  # the name it is known by before names are made unique

    def repo_value(self, out: Path) -> str:
        """`repo:` as the config at `out` names it: the URL, or the folder relative to it."""
        if self.source.url:
            return self.source.url
        return Path(os.path.relpath(self.source.root / self.repo, out)).as_posix()

    @property
    def repo_name(self) -> str:
        """A name for the repo: its folder's (or the URL's last part), env words left out."""
        if self.repo:
            name = PurePosixPath(self.repo).name
        elif self.source.url:
            name = PurePosixPath(self.source.url.rstrip("/")).name.removesuffix(".git")
        else:
            name = self.source.root.name
        words = [w for w in re.split(r"([-_.]+)", name)]
        kept = [w for w in words[::2] if w.lower() not in ENV_WORDS]
        return clean_name("-".join(kept) if kept and len(kept) < len(words[::2]) else name)


def clean_name(text: str) -> str:
    """An environment name the config takes: letters, digits, `_`, `.`, `-`, a letter first."""
    name = NAME.sub("-", text).lstrip("-_.")
    return name or "env"


def _top(name: str) -> str:
    parts = PurePosixPath(name).parts
    return parts[0] if len(parts) > 1 else ""


def _reaches_out(source: Source, name: str) -> bool:
    """Whether a kustomization includes something outside its top folder (or is in none)."""
    if PurePosixPath(name).name not in KUSTOMIZATION_FILES:
        return False
    top = _top(name)
    folder = PurePosixPath(name).parent
    spec = as_dict(source.data(name))
    entries = [e for key in RESOURCE_KEYS for e in as_list(spec.get(key)) if isinstance(e, str)]
    for entry in entries:
        if is_remote(entry):
            continue
        target = normalise(folder / entry.strip())
        if not top or target is None or PurePosixPath(target).parts[:1] != (top,):
            return True
    return False


def _is_env_file(source: Source, name: str) -> bool:
    """A file that makes its repo an env repo: environment.yml, a kustomization, a workload."""
    base = PurePosixPath(name).name
    if base == ENVIRONMENT_FILE or base in KUSTOMIZATION_FILES:
        return True
    if not name.endswith(YAML_SUFFIXES) or "/templates/" in f"/{name}":  # a chart's templates
        return False
    text = source.text(name) or ""
    kinds = set(_KIND.findall(text)) if "apiVersion:" in text else set()
    return bool(kinds & {*WORKLOAD_KINDS, *GITOPS_KINDS})


def env_repos(source: Source) -> dict[str, list[str]]:
    """Each env repo of a source (its folder) with its files, relative to it."""
    repos: dict[str, list[str]] = {}
    hidden = {n for n in source.files if any(p.startswith(".") for p in PurePosixPath(n).parts)}
    env_files = [n for n in source.files if n not in hidden and _is_env_file(source, n)]
    loose = [n for n in env_files if source.repo_of(n) is None]
    # outside every git repo, each top folder is a repo, unless an overlay reaches out of its own
    whole = any(_reaches_out(source, n) for n in loose)
    for name in env_files:
        repo = source.repo_of(name)
        repos.setdefault(repo if repo is not None else "" if whole else _top(name), [])
    for repo in repos:
        prefix = f"{repo}/" if repo else ""
        inner = [r for r in source.repos if r != repo and r.startswith(prefix)]
        repos[repo] = [
            n[len(prefix) :] for n in source.files
            if n.startswith(prefix) and not any(n.startswith(f"{r}/") for r in inner)
        ]  # fmt: skip
    return dict(sorted(repos.items()))


def _documents(source: Source, prefix: str) -> Callable[[str], list[Document]]:
    def documents(name: str) -> list[Document]:
        text = source.text(prefix + name)
        return load_documents(text, name)[0] if text is not None else []

    return documents


def root_overlays(source: Source, repo: str, files: list[str]) -> list[str]:
    """The folders of the repo's root overlays, as the catalog renders them."""
    prefix = f"{repo}/" if repo else ""
    names = [n for n in files if PurePosixPath(n).name in KUSTOMIZATION_FILES]
    kustomizations = Kustomizations(names, _documents(source, prefix))
    known = set(files) | {str(p) for n in files for p in PurePosixPath(n).parents}
    tree = Tree(kustomizations, known.__contains__, set(files).__contains__)
    return [str(PurePosixPath(root).parent).removeprefix(".") for root in tree.roots()]


def _flux_clusters(source: Source, repo: str, files: list[str]) -> list[str]:
    prefix = f"{repo}/" if repo else ""
    clusters: set[str] = set()
    for name in files:
        parts = PurePosixPath(name).parts
        if "clusters" not in parts[:-2] or not name.endswith(YAML_SUFFIXES):
            continue
        at = parts.index("clusters")
        if FLUX in (source.text(prefix + name) or ""):
            clusters.add("/".join(parts[: at + 2]))
    return sorted(clusters)


def environments_of(source: Source, repo: str, files: list[str]) -> list[Found]:
    """The environments one env repo holds."""

    def found(path: str, how: str) -> Found:
        entry = Found(source, repo, path, how, "")
        base = clean_name(PurePosixPath(path).name) if path else entry.repo_name
        return Found(source, repo, path, how, base)

    homes = sorted(str(PurePosixPath(n).parent).removeprefix(".") for n in files
                   if PurePosixPath(n).name == ENVIRONMENT_FILE)  # fmt: skip
    if "" in homes or not files:
        return [found("", "environment.yml")]
    if homes:
        return [found(home, "environment.yml") for home in homes]
    clusters = _flux_clusters(source, repo, files)
    if clusters:
        return [found(cluster, "Flux cluster") for cluster in clusters]
    overlays = root_overlays(source, repo, files)
    if overlays and "" not in overlays:
        return [found(folder, "root overlay") for folder in overlays]
    return [found("", "root overlay" if overlays else "manifests")]
