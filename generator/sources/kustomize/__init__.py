"""Root overlays rendered the way kustomize renders them: by the real kustomize when there is one
(and the overlay stays inside the repo), else by the built-in renderer, which says what it could
not follow. Either way, each object comes with the repo file it was written in."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ...limits import Limits
from ...model import Finding, Severity
from ...yamlload import Document, as_dict
from .builtin import BuiltinRenderer, Rendered, images_of
from .real import Kustomize, KustomizeError, build, find_kustomize
from .tree import KUSTOMIZATION_FILES, Kustomizations, Tree, is_kustomization

__all__ = ["KUSTOMIZATION_FILES", "Kustomizations", "Overlay", "RenderedObject", "Tree", "is_kustomization",
           "render_overlays"]  # fmt: skip
BUILTIN = "built-in"
NOT_RENDERED = "not rendered by kustomize"


@dataclass(frozen=True)
class RenderedObject:
    """An object an overlay renders to: its document (file and line where it is written) and its
    name as written there, before any prefix or suffix."""

    document: Document
    origin_name: str
    set_at: tuple[str, int] | None = None  # the repo file and line that set its images
    via: str = ""  # the GitOps object that deploys it, when one was followed


@dataclass(frozen=True)
class Overlay:
    """One root overlay of an environment, and what rendered it."""

    path: str  # the overlay's folder in the repo ("" for the root)
    renderer: str  # "kustomize v5.5.0 (kubectl kustomize)", or "built-in"
    problem: str = ""  # "not rendered by kustomize: <its message>", or why it is incomplete
    objects: tuple[RenderedObject, ...] = field(default=(), compare=False)


@dataclass
class Renderer:
    """Renders the root overlays of one repo."""

    tree: Tree
    documents: Callable[[str], list[Document]]
    display: Callable[[str], str]
    setting: str | tuple[str, ...]
    place: Callable[[], Path]  # the repo's files on disk, as the environment reads them
    work: Path
    config_file: str
    findings: list[Finding] = field(default_factory=list)
    limits: Limits = field(default_factory=Limits)  # the config's

    def __post_init__(self) -> None:
        self.builtin = BuiltinRenderer(self.tree, self.documents, self.limits.overlay_objects)
        if self.setting in ("auto", "builtin"):
            return  # kustomize looked for when an overlay is rendered (`found`): none, no call
        kustomize, why = self.found
        if kustomize is None:
            self.findings.append(Finding(
                "envrepo/kustomize-failed", Severity.ERROR, self.config_file, None,
                f"the configured kustomize cannot be used: {why}",
                "fix `kustomize:` in the config; overlays are rendered by the built-in renderer",
            ))  # fmt: skip

    @functools.cached_property
    def found(self) -> tuple[Kustomize | None, str]:
        """The kustomize the setting asks for, or None and why (asking it its version takes a
        process: only done when it is needed)."""
        return find_kustomize(self.setting)

    def render(self, root: str) -> Overlay:
        folder = str(PurePosixPath(root).parent).removeprefix(".")
        _, remote = self.tree.closure(root)
        for name, ref in remote:
            self.findings.append(Finding(
                "envrepo/remote-base", Severity.WARNING, self.display(name), ref.line,
                f"remote {ref.key} entry {ref.entry} is not fetched; what it deploys is not cataloged",
                "vendor it into the repo to have it cataloged and rendered by kustomize",
            ))  # fmt: skip
        outside = any(
            ref.target is None and not ref.remote
            for name in self.tree.closure(root)[0] for ref in self.tree.references(name)
        )  # fmt: skip
        kustomize, _ = self.found
        if kustomize is not None and not remote and not outside:
            try:
                outputs = build(kustomize, self.place(), folder, self.work, self.limits)
            except KustomizeError as error:
                self.findings.append(Finding(
                    "envrepo/kustomize-failed", Severity.ERROR, self.display(root), None,
                    f"{NOT_RENDERED}: {error}",
                    "run `kubectl kustomize` on the overlay and fix what it says; until then the "
                    "catalog shows the built-in renderer's reading, marked as not rendered",
                ))  # fmt: skip
                return self._builtin(root, folder, f"{NOT_RENDERED}: {error}")
            objects = tuple(self._from_output(o.document, o.file, root) for o in outputs)
            return Overlay(folder, kustomize.label, "", self._placed(root, objects))
        why = "remote references" if remote else ""  # what leaves the repo: refused by the builtin
        return self._builtin(root, folder, why)

    def _builtin(self, root: str, folder: str, problem: str) -> Overlay:
        before = len(self.builtin.gaps)
        rendered = self.builtin.render(root)
        for gap in self.builtin.gaps[before:]:
            self.findings.append(Finding(
                gap.rule or ("envrepo/kustomize-invalid" if gap.fatal else "envrepo/kustomize-gap"),
                Severity.ERROR if gap.fatal else Severity.WARNING,
                self.display(gap.file), gap.line,
                ("kustomize would refuse this: " if gap.fatal else "") + gap.message,
                "fix the overlay" if gap.fatal
                else "what this overlay deploys may be incomplete in the catalog",
            ))  # fmt: skip
        if not problem and self.builtin.gaps[before:]:
            problem = "the built-in renderer could not follow all of it"
        objects = tuple(self._from_rendered(r) for r in rendered)
        return Overlay(folder, BUILTIN, problem, objects)

    def _from_rendered(self, rendered: Rendered) -> RenderedObject:
        document = Document(rendered.data, self.display(rendered.file), rendered.line)
        return RenderedObject(
            document, rendered.names[0] if rendered.names else "", rendered.set_at
        )

    def _placed(self, root: str, objects: tuple[RenderedObject, ...]) -> tuple[RenderedObject, ...]:
        """kustomize's objects, each with where its images are set, as the built-in renderer
        reads it, where both agree on the images."""
        before = len(self.builtin.gaps)
        ours = {_key(r.data): r for r in self.builtin.render(root)}
        del self.builtin.gaps[before:]  # kustomize rendered it: the built-in reading is a hint
        placed = []
        for obj in objects:
            mine = ours.get(_key(obj.document.data))
            if mine is not None and images_of(mine.data) == images_of(obj.document.data):
                obj = RenderedObject(obj.document, obj.origin_name, mine.set_at)
            placed.append(obj)
        return tuple(placed)

    def _from_output(self, output: Document, file: str, root: str) -> RenderedObject:
        """An object of kustomize's output, placed at the document it was written as."""
        data = output.data
        kind = str(data.get("kind") or "")
        name = str(as_dict(data.get("metadata")).get("name") or "")
        line, origin = 1, name
        candidates = [
            d for d in (self.documents(file) if file else [])
            if isinstance(d.data, dict) and d.data.get("kind") == kind
        ]  # fmt: skip
        named = [
            (len(n), d, n) for d in candidates
            if (n := str(as_dict(d.data.get("metadata")).get("name") or "")) and n in name
        ]  # fmt: skip
        if named:
            _, source, origin = max(named, key=lambda item: item[0])
            line = source.start_line
        elif len(candidates) == 1:
            line = candidates[0].start_line
            origin = str(as_dict(candidates[0].data.get("metadata")).get("name") or name)
        shown = self.display(file or root)
        return RenderedObject(Document(data, shown, line, texts=output.texts), origin)


def _key(data: dict[str, Any]) -> tuple[str, str, str]:
    metadata = as_dict(data.get("metadata"))
    return (str(data.get("kind")), str(metadata.get("namespace") or ""),
            str(metadata.get("name") or ""))  # fmt: skip


def render_overlays(renderer: Renderer, roots: list[str]) -> list[Overlay]:
    """Each root overlay rendered; findings are left in `renderer.findings`."""
    return [renderer.render(root) for root in roots]
