"""The kustomizations of a repo: what each one reads, which are root overlays, and what an
overlay's whole closure is (every file and folder kustomize would open to build it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ...yamlload import Document, as_dict, as_list

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Keys whose entries are folders (a kustomization) or files of resources.
RESOURCE_KEYS = ("resources", "bases", "components")
# Keys whose entries name files kustomize reads (or folders, for transformers and the like).
FILE_LIST_KEYS = ("patchesStrategicMerge", "crds", "configurations", "transformers",
                  "generators", "validators")  # fmt: skip
PATH_ITEM_KEYS = ("patches", "patchesJson6902", "replacements")
GENERATOR_KEYS = ("configMapGenerator", "secretGenerator")


def is_kustomization(name: str, document: Document | None) -> bool:
    """A Kustomize file (not a Flux `Kustomization` object, which is a GitOps resource)."""
    if PurePosixPath(name).name not in KUSTOMIZATION_FILES or document is None:
        return False
    if not isinstance(document.data, dict):
        return False
    api = str(document.data.get("apiVersion") or "")
    return "fluxcd.io" not in api


def clone(value: Any) -> Any:
    """A copy of YAML data (mappings, lists, scalars): much cheaper than `copy.deepcopy`."""
    if isinstance(value, dict):
        return {k: clone(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) if isinstance(v, dict | list) else v for v in value]
    return value


_TEXTUAL: dict[int, tuple[Document, Any]] = {}


def textual(document: Document) -> Any:
    """A copy of the document's data with decimal scalars as written (`1.10` stays `1.10`), as
    kustomize keeps them."""
    known = _TEXTUAL.get(id(document))
    if known is None or known[0] is not document:
        data = clone(document.data)
        for path, text in document.texts.items():
            if not path or not isinstance(document.get(path), float):
                continue
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = text
        if len(_TEXTUAL) > 100_000:
            _TEXTUAL.clear()
        known = _TEXTUAL[id(document)] = (document, data)
    return clone(known[1])


def is_remote(entry: str) -> bool:
    """A reference kustomize would fetch: a URL, an scp-like git address, a `?ref=` base."""
    lowered = entry.lower()
    return (
        "://" in entry
        or entry.startswith("git@")
        or "?ref=" in entry
        or lowered.startswith(("github.com/", "gitlab.com/", "bitbucket.org/"))
    )


def normalise(path: PurePosixPath) -> str | None:
    """A repo-relative path with `.` and `..` resolved; None when it leaves the repo."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", "", "/"):
            parts.append(part)
    return "/".join(parts)


class Kustomizations(Mapping[str, Document]):
    """The kustomization files of a repo, each read only when asked for: rendering one overlay
    reads its own closure, not every kustomization of the repo."""

    def __init__(self, names: list[str], documents: Callable[[str], list[Document]]) -> None:
        self.names = names
        self._candidates = set(names)
        self._documents = documents
        self._read: dict[str, Document | None] = {}

    def _load(self, name: str) -> Document | None:
        if name not in self._read:
            docs = self._documents(name) if name in self._candidates else []
            self._read[name] = docs[0] if docs and is_kustomization(name, docs[0]) else None
        return self._read[name]

    def __getitem__(self, name: str) -> Document:
        document = self._load(name)
        if document is None:
            raise KeyError(name)
        return document

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._load(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter([n for n in self.names if self._load(n) is not None])

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True)
class Reference:
    """One entry of a kustomization that names something to read."""

    key: str  # resources, components, patches, configMapGenerator, ...
    entry: str  # as written
    line: int
    target: str | None  # repo-relative path; None when remote or outside the repo
    remote: bool = False
    kustomization: str | None = None  # the kustomization file, when the target is one's folder


def _generator_files(item: dict[str, Any]) -> list[str]:
    files = [str(f).split("=", 1)[-1] for f in as_list(item.get("files"))]
    files += [str(f) for f in as_list(item.get("envs"))]
    if isinstance(item.get("env"), str):
        files.append(item["env"])
    return files


def _is_inline(entry: str) -> bool:
    """An inline patch or transformer written in place of a file name."""
    return "\n" in entry or entry.lstrip().startswith(("apiVersion:", "kind:", "{", "- op"))


@dataclass
class Tree:
    """Every kustomization of a repo, with what each one references."""

    files: Mapping[str, Document]  # kustomization file -> its document
    exists: Callable[[str], bool]  # a file or a folder of the repo
    is_file: Callable[[str], bool]
    _references: dict[str, list[Reference]] = field(default_factory=dict)
    _specs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def folder_kustomization(self, folder: str) -> str | None:
        for candidate in KUSTOMIZATION_FILES:
            name = f"{folder}/{candidate}" if folder else candidate
            if name in self.files:
                return name
        return None

    def kind(self, name: str) -> str:
        return str(as_dict(self.files[name].data).get("kind") or "Kustomization")

    def spec(self, name: str) -> dict[str, Any]:
        if name not in self._specs:
            self._specs[name] = as_dict(textual(self.files[name]))
        return self._specs[name]

    def references(self, name: str) -> list[Reference]:
        """Everything one kustomization names, in the order kustomize reads it."""
        if name not in self._references:
            self._references[name] = self._read_references(name)
        return self._references[name]

    def _read_references(self, name: str) -> list[Reference]:
        document = self.files[name]
        spec = as_dict(document.data)
        folder = PurePosixPath(name).parent
        found: list[Reference] = []

        def add(key: str, entry: Any, line: int, resource: bool = False) -> None:
            if not isinstance(entry, str) or not entry.strip():
                return
            if not resource and _is_inline(entry):
                return
            if is_remote(entry):
                found.append(Reference(key, entry, line, None, remote=True))
                return
            target = normalise(folder / entry.strip())
            nested = self.folder_kustomization(target) if target is not None else None
            found.append(Reference(key, entry, line, target, kustomization=nested))

        for key in RESOURCE_KEYS:
            for index, entry in enumerate(as_list(spec.get(key))):
                add(key, entry, document.line((key, index)), resource=True)
        for key in FILE_LIST_KEYS:
            for index, entry in enumerate(as_list(spec.get(key))):
                add(key, entry, document.line((key, index)))
        for key in PATH_ITEM_KEYS:
            for index, item in enumerate(as_list(spec.get(key))):
                add(key, as_dict(item).get("path"), document.line((key, index)))
        for key in GENERATOR_KEYS:
            for index, item in enumerate(as_list(spec.get(key))):
                for entry in _generator_files(as_dict(item)):
                    add(key, entry, document.line((key, index)))
        for key in ("openapi",):
            add(key, as_dict(spec.get(key)).get("path"), document.line((key,)))
        return found

    def included(self) -> set[str]:
        """Kustomizations some other kustomization includes as a resource, base or component."""
        return {
            ref.kustomization
            for name in self.files
            for ref in self.references(name)
            if ref.kustomization and ref.key in RESOURCE_KEYS
        }

    def roots(self, under: str = "") -> list[str]:
        """Root overlays under a folder: kustomizations (not components) nobody includes."""
        included = self.included()
        prefix = f"{under.strip('/')}/" if under.strip("/") else ""
        return sorted(
            name
            for name in self.files
            if name not in included and name.startswith(prefix) and self.kind(name) != "Component"
        )

    def closure(
        self, root: str, limit: int = 10_000
    ) -> tuple[set[str], list[tuple[str, Reference]]]:
        """Every kustomization an overlay reads, and the remote references among them."""
        seen: set[str] = set()
        remote: list[tuple[str, Reference]] = []
        todo = [root]
        while todo and len(seen) < limit:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for ref in self.references(name):
                if ref.remote:
                    remote.append((name, ref))
                elif ref.kustomization and ref.key in (*RESOURCE_KEYS, "transformers",
                                                       "generators", "validators"):  # fmt: skip
                    todo.append(ref.kustomization)
        return seen, remote
