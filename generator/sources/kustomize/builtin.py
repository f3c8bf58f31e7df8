"""The built-in renderer: an overlay built the way `kustomize build` builds it, as far as the
catalog needs (which objects, their names, namespaces, labels, images and replicas).

Per kustomization, as kustomize v5 does: resources and bases (each folder built first), then
components applied onto what was accumulated, then the transformers in kustomize's order:
strategic merge patches, patches, namespace, name prefix and suffix, labels, annotations, JSON
6902 patches, replicas, images, and last the `transformers:` files of built-in kinds. What it
cannot follow (generators' output, Helm charts, replacements, plugins, remote bases) is said in a
`Gap`, never silently skipped.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ...limits import Limits
from ...yamlload import Document, as_dict, as_list, input_regex, load_documents
from .merge import BUILTIN_KINDS, PatchError, json_patch, strategic_merge
from .tree import GENERATOR_KEYS, Reference, Tree, clone, normalise, textual

METADATA_LABELS = "/".join(("metadata", "labels"))  # a LabelTransformer's field spec
COPIES = 5  # objects copied from bases into overlays, in one render, per object allowed
MAX_COMPONENTS = 100  # components nested in components: deeper is an attack, not an overlay
RESOURCES = ("resources", "bases")
REPLICA_KINDS = ("Deployment", "StatefulSet", "ReplicaSet", "ReplicationController")
CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
NOT_FOLLOWED = {
    "helmCharts": "Helm charts (kustomize needs --enable-helm, which is never passed)",
    "replacements": "replacements",
    "vars": "vars",
    "generators": "generator plugins",
    "validators": "validator plugins",
}


@dataclass
class Rendered:
    """One object as the overlay renders it, and where it was written."""

    data: dict[str, Any]
    file: str  # repo-relative file it was read from
    line: int
    names: list[str]  # metadata.name as written first, then each rename
    set_at: tuple[str, int] | None = None  # the file and line that last changed its images

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "")

    @property
    def name(self) -> str:
        return str(as_dict(self.data.get("metadata")).get("name") or "")

    @property
    def namespace(self) -> str:
        return str(as_dict(self.data.get("metadata")).get("namespace") or "")


@dataclass(frozen=True)
class Gap:
    """Something the built-in renderer could not follow, or that kustomize would refuse."""

    file: str
    line: int | None
    message: str
    fatal: bool = False  # kustomize itself would fail here
    rule: str = ""  # a rule of its own, when it has one


def _objects(document: Document, file: str) -> list[Rendered]:
    data = textual(document)
    if not isinstance(data, dict):
        return []
    items = as_list(data.get("items")) if data.get("kind") == "List" else [data]
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("kind"):
            name = str(as_dict(item.get("metadata")).get("name") or "")
            out.append(Rendered(item, file, document.start_line, [name]))
    return out


class BadPattern(Exception):
    """A patch target's regex RE2 (kustomize's Go regexp) does not accept."""


def _anchored(pattern: Any, value: str) -> bool:
    """`value` matches a target's regex whole, as kustomize matches it: with RE2, in linear time
    (Python's `re` backtracks for ever on `(a+)+$`); BadPattern where kustomize would fail."""
    compiled = input_regex(f"^(?:{pattern})$")
    if compiled is None:
        raise BadPattern(str(pattern))
    return compiled.search(value) is not None


def _selector(expression: Any, values: dict[str, Any]) -> bool:
    """An equality-based label selector: `a=b,c!=d,e`."""
    for term in str(expression or "").split(","):
        term = term.strip()
        if not term:
            continue
        if "!=" in term:
            key, _, value = term.partition("!=")
            if str(values.get(key.strip())) == value.strip():
                return False
        elif "=" in term:
            key, _, value = term.replace("==", "=").partition("=")
            if str(values.get(key.strip(), "\0")) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in values:
                return False
        elif term not in values:
            return False
    return True


def _group(api: str) -> str:
    return api.rsplit("/", 1)[0] if "/" in api else ""


def targets(objects: list[Rendered], target: dict[str, Any]) -> list[Rendered]:
    """The objects a patch `target` selects: kind, name, namespace as anchored regexes
    (BadPattern when one is not a regex kustomize accepts)."""
    found = []
    for obj in objects:
        metadata = as_dict(obj.data.get("metadata"))
        api = str(obj.data.get("apiVersion") or "")
        checks = (
            ("kind", obj.kind), ("namespace", obj.namespace), ("group", _group(api)),
            ("version", api.rsplit("/", 1)[-1]),
        )  # fmt: skip
        if any(key in target and not _anchored(target[key], value) for key, value in checks):
            continue
        if "name" in target and not any(_anchored(target["name"], n) for n in (obj.names)):
            continue
        if "labelSelector" in target and not _selector(
            target["labelSelector"], as_dict(metadata.get("labels"))
        ):
            continue
        if "annotationSelector" in target and not _selector(
            target["annotationSelector"], as_dict(metadata.get("annotations"))
        ):
            continue
        found.append(obj)
    return found


@dataclass
class BuiltinRenderer:
    """Renders root overlays of one repo; each kustomization is built once per repo (a base
    included twice, or by two overlays, is built once and its objects copied)."""

    tree: Tree
    documents: Callable[[str], list[Document]]  # a repo file -> its YAML documents
    objects_limit: int = Limits().overlay_objects  # objects one kustomization may hold
    gaps: list[Gap] = field(default_factory=list)
    _built: dict[str, list[Rendered]] = field(default_factory=dict)
    _cyclic: set[tuple[str, str]] = field(default_factory=set)  # (kustomization, base) edges
    _exhausted: bool = False  # the objects limit was hit in this render: the rest is not read
    _copies: int = 0  # objects copied from a built base in this render
    _here: tuple[str, int] | None = None  # where the transformation being applied is written

    def render(self, root: str) -> list[Rendered]:
        """The objects a root overlay renders to."""
        if self._exhausted:  # what was built past the limit is cut: build it again
            self._built.clear()
            self._exhausted = False
        self._copies = 0
        collecting = gc.isenabled()
        gc.disable()  # YAML data holds no cycles; collecting while copying it is quadratic
        # Bases first, deepest first, without recursion: however deep the overlays are nested,
        # building one only copies what its bases were built to.
        try:
            for name in self._order(root):
                if name not in self._built and self.tree.kind(name) != "Component":
                    self._build(name, ())
            return self._build(root, ())
        except RecursionError:  # what is left recursive is bounded; this is the last guard
            self._gap(root, None, "nested too deep to render", rule="limits/too-many")
            return []
        finally:
            if collecting:
                gc.enable()

    def _included(self, name: str) -> Iterator[tuple[Reference, str]]:
        for ref in self.tree.references(name):
            if (ref.key in (*RESOURCES, "components") and ref.kustomization is not None
                    and not ref.remote):  # fmt: skip
                yield ref, ref.kustomization

    def _order(self, root: str) -> list[str]:
        """The kustomizations an overlay includes, each after those it includes (a post-order,
        walked without recursion); an inclusion that closes a cycle is a gap, and not followed."""
        if root not in self.tree.files:
            return []
        order: list[str] = []
        done: set[str] = set()
        on_path = {root}
        todo = [(root, self._included(root))]
        while todo:
            name, children = todo[-1]
            for ref, child in children:
                if child in on_path:
                    if (name, child) not in self._cyclic:
                        self._cyclic.add((name, child))
                        self._gap(name, ref.line, f"{ref.entry}: kustomizations include each "
                                  "other in a cycle", fatal=True)  # fmt: skip
                    continue
                if child in done or child in self._built or child not in self.tree.files:
                    continue
                on_path.add(child)
                todo.append((child, self._included(child)))
                break
            else:
                todo.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
        return order

    def _gap(self, name: str, line: int | None, message: str, fatal: bool = False,
             rule: str = "") -> None:  # fmt: skip
        gap = Gap(name, line, message, fatal, rule)
        if gap not in self.gaps:
            self.gaps.append(gap)

    def _build(self, name: str, stack: tuple[str, ...]) -> list[Rendered]:
        if name in stack:
            self._gap(name, None, "kustomizations include each other in a cycle", fatal=True)
            return []
        if self._exhausted:
            return []
        if name not in self._built:
            self._built[name] = self._accumulate(name, [], (*stack, name))
        self._copies += len(self._built[name])
        if self._copies > COPIES * self.objects_limit:  # bases of many objects, nested deep
            if self._exhausted:
                return []
            self._exhausted = True
            self._gap(name, None, f"more than {COPIES * self.objects_limit} objects copied from "
                      "bases into overlays (5 x limits.overlay_objects): the rest is not read",
                      rule="limits/too-many")  # fmt: skip
            return []
        return [
            Rendered(clone(r.data), r.file, r.line, list(r.names), r.set_at)
            for r in self._built[name]
        ]

    def _accumulate(
        self, name: str, objects: list[Rendered], stack: tuple[str, ...]
    ) -> list[Rendered]:
        spec = self.tree.spec(name)
        refs = self.tree.references(name)
        ids = {_id(o) for o in objects}
        for ref in refs:
            if ref.key in RESOURCES:
                self._add(name, ref, objects, ids, self._resource(name, ref, stack))
        for ref in refs:
            if ref.key == "components":
                objects = self._component(name, ref, objects, stack)
        self._generators(name, spec, refs)
        for key, what in NOT_FOLLOWED.items():
            if spec.get(key):
                line = self.tree.files[name].line((key,))
                self._gap(name, line, f"{key}: {what} not followed by the built-in renderer")
        return self._transform(name, spec, objects)

    def _add(self, name: str, ref: Reference, objects: list[Rendered],
             ids: set[tuple[str, str, str]], found: list[Rendered]) -> None:  # fmt: skip
        """Objects a resource entry adds, as kustomize adds them: an id already there is refused
        (kustomize stops there; the built-in renderer keeps the first and goes on), and past the
        objects limit the rest is not read."""
        for obj in found:
            key = _id(obj)
            if key in ids:
                self._gap(name, ref.line, f"{ref.entry}: {obj.kind} {obj.name} is included twice "
                          "(kustomize: may not add resource with an already registered id)",
                          fatal=True)  # fmt: skip
                continue
            if len(objects) >= self.objects_limit:
                self._exhausted = True
                self._gap(name, ref.line, f"{ref.entry}: more than {self.objects_limit} objects "
                          "(limits.overlay_objects): the rest is not read",
                          rule="limits/too-many")  # fmt: skip
                return
            ids.add(key)
            objects.append(obj)

    def _resource(self, name: str, ref: Reference, stack: tuple[str, ...]) -> list[Rendered]:
        if ref.remote or ref.target is None:
            what = "remote" if ref.remote else "outside the repo"
            self._gap(name, ref.line, f"{ref.key} {ref.entry} is {what}: not followed")
            return []
        if ref.kustomization is not None:
            if (name, ref.kustomization) in self._cyclic:
                return []  # the cycle is a gap already
            if self.tree.kind(ref.kustomization) == "Component":
                self._gap(name, ref.line, f"{ref.entry} is a Component listed as a resource", True)
                return []
            return self._build(ref.kustomization, stack)
        if not self.tree.exists(ref.target):
            self._gap(name, ref.line, f"resource {ref.entry} is neither a file nor a folder with a "
                      "kustomization", fatal=True, rule="envrepo/missing-resource")  # fmt: skip
            return []
        if not self.tree.is_file(ref.target):
            self._gap(name, ref.line, f"{ref.entry} is a folder without a kustomization", True)
            return []
        folder = str(PurePosixPath(name).parent)
        if folder not in (".", "") and not ref.target.startswith(f"{folder}/"):
            self._gap(name, ref.line, f"{ref.entry} is a file outside the kustomization's folder: "
                      "kustomize refuses it (load restrictor)", fatal=True)  # fmt: skip
        found = [o for d in self.documents(ref.target) for o in _objects(d, ref.target)]
        for obj in found:
            if not obj.name:
                self._gap(name, ref.line, f"{obj.kind} in {ref.entry} has no metadata.name", True)
        return found

    def _component(self, name: str, ref: Reference, objects: list[Rendered],
                   stack: tuple[str, ...]) -> list[Rendered]:  # fmt: skip
        if ref.remote or ref.target is None:
            self._gap(name, ref.line, f"component {ref.entry} is remote: not followed")
            return objects
        if ref.kustomization is None or self.tree.kind(ref.kustomization) != "Component":
            self._gap(name, ref.line, f"component {ref.entry} is not a kind: Component", True)
            return objects
        if ref.kustomization in stack or (name, ref.kustomization) in self._cyclic:
            self._gap(name, ref.line, "components include each other in a cycle", fatal=True)
            return objects
        if len(stack) > MAX_COMPONENTS:
            self._gap(name, ref.line, f"components nested more than {MAX_COMPONENTS} deep: "
                      "not followed", rule="limits/too-many")  # fmt: skip
            return objects
        return self._accumulate(ref.kustomization, objects, (*stack, ref.kustomization))

    def _generators(self, name: str, spec: dict[str, Any], refs: list[Reference]) -> None:
        for ref in refs:
            if (
                ref.key in GENERATOR_KEYS
                and ref.target is not None
                and not self.tree.exists(ref.target)
            ):
                self._gap(name, ref.line, f"{ref.key} file {ref.entry} does not exist", fatal=True)

    # -- transformers, in kustomize's order -------------------------------------------------

    def transform(self, document: Document, objects: list[Rendered]) -> list[Rendered]:
        """Objects transformed as a kustomization written as `document` would (a GitOps object's
        images, patches, prefixes and namespace, put in kustomization terms)."""
        name = document.file
        return self._transform(name, as_dict(document.data), objects, document)

    def _transform(
        self, name: str, spec: dict[str, Any], objects: list[Rendered],
        document: Document | None = None,
    ) -> list[Rendered]:  # fmt: skip
        document = document or self.tree.files[name]
        for index, entry in enumerate(as_list(spec.get("patchesStrategicMerge"))):
            line = document.line(("patchesStrategicMerge", index))
            where = self._where(name, entry, line)
            for patch in self._patch_documents(name, entry, line):
                step = functools.partial(self._smp, name, patch=patch, target=None, line=line)
                objects = self._tracked(objects, where, step)
        for index, item in enumerate(as_list(spec.get("patches"))):
            line = document.line(("patches", index))
            where = self._where(name, as_dict(item).get("path"), line)
            step = functools.partial(self._patch_item, name, item=as_dict(item), line=line)
            objects = self._tracked(objects, where, step)
        objects = self._namespace(objects, spec.get("namespace"))
        objects = [self._rename(o, spec.get("namePrefix"), spec.get("nameSuffix")) for o in objects]
        for obj in objects:
            self._labels(obj, spec)
            annotations = {
                str(k): str(v) for k, v in as_dict(spec.get("commonAnnotations")).items()
            }
            if annotations:
                metadata = _mapping(obj.data, "metadata")
                metadata["annotations"] = {**as_dict(metadata.get("annotations")), **annotations}
        for index, item in enumerate(as_list(spec.get("patchesJson6902"))):
            line = document.line(("patchesJson6902", index))
            where = self._where(name, as_dict(item).get("path"), line)
            step = functools.partial(
                self._patch_item, name, item=as_dict(item), line=line, json6902=True
            )
            objects = self._tracked(objects, where, step)
        self._replicas(objects, as_list(spec.get("replicas")))
        for index, rule in enumerate(as_list(spec.get("images"))):
            where = (name, document.line(("images", index)))
            objects = self._tracked(
                objects, where, functools.partial(self._images, rules=[as_dict(rule)])
            )
        for index, entry in enumerate(as_list(spec.get("transformers"))):
            line = document.line(("transformers", index))
            step = functools.partial(self._transformer_file, name, entry=entry, line=line)
            objects = self._tracked(objects, self._where(name, entry, line), step)
        return objects  # fmt: skip

    def _where(self, name: str, entry: Any, line: int) -> tuple[str, int]:
        """Where a transformation is written: the file an entry names, else the kustomization."""
        if isinstance(entry, str) and "\n" not in entry:
            target = normalise(PurePosixPath(name).parent / entry.strip())
            if target is not None and self.tree.is_file(target):
                docs = self.documents(target)
                return target, docs[0].start_line if docs else 1
        return name, line

    def _tracked(self, objects: list[Rendered], where: tuple[str, int],
                 step: Callable[[list[Rendered]], list[Rendered] | None]) -> list[Rendered]:  # fmt: skip
        """Run one transformation; the objects whose images it changes remember where it is
        (the patch and image steps mark them, as they change them)."""
        self._here = where
        try:
            result = step(objects)
        finally:
            self._here = None
        return objects if result is None else result

    def _mark(self, obj: Rendered, before: list[Any]) -> None:
        if self._here is not None and images_of(obj.data) != before:
            obj.set_at = self._here

    def _patch_documents(self, name: str, entry: Any, line: int) -> list[Any]:
        """The patches a `patchesStrategicMerge` entry or a `path:` names: inline or a file."""
        if not isinstance(entry, str):
            return [entry] if isinstance(entry, dict) else []
        folder = PurePosixPath(name).parent
        target = normalise(folder / entry.strip()) if "\n" not in entry else None
        if target is not None and self.tree.exists(target):
            return [textual(d) for d in self.documents(target)]
        parsed, _ = load_documents(entry, name)
        if parsed and all(isinstance(d.data, dict | list) for d in parsed):
            return [textual(d) for d in parsed]
        self._gap(name, line, f"patch {entry.strip()[:80]} does not exist", fatal=True)
        return []

    def _patch_item(self, name: str, objects: list[Rendered], item: dict[str, Any], line: int,
                    json6902: bool = False) -> list[Rendered]:  # fmt: skip
        if "path" in item:
            patches = self._patch_documents(name, item["path"], line)
        elif isinstance(item.get("patch"), str):
            parsed, _ = load_documents(item["patch"], name)
            patches = [textual(d) for d in parsed]
        else:
            self._gap(name, line, "a patch with neither `path` nor `patch`", fatal=True)
            return objects
        target = as_dict(item.get("target")) if item.get("target") else None
        for patch in patches:
            if json6902 or isinstance(patch, list):
                if target is None:
                    self._gap(name, line, "a JSON 6902 patch without a target", fatal=True)
                    continue
                for obj in self._targets(name, line, objects, target):
                    try:
                        before = images_of(obj.data)
                        patched = json_patch(obj.data, as_list(patch))
                        if isinstance(patched, dict):  # kustomize ignores a root replaced whole
                            obj.data = patched
                        self._mark(obj, before)
                    except PatchError as error:
                        self._gap(name, line, f"JSON patch on {obj.kind} {obj.name}: {error}", True)
            elif isinstance(patch, dict):
                objects = self._smp(name, objects, patch, target, line)
        return objects

    def _targets(self, name: str, line: int, objects: list[Rendered],
                 target: dict[str, Any]) -> list[Rendered]:  # fmt: skip
        try:
            return targets(objects, target)
        except BadPattern as error:
            self._gap(name, line, f"patch target: {str(error)[:200]!r} is not a regex kustomize "
                      "accepts (RE2 syntax)", fatal=True)  # fmt: skip
            return []

    def _smp(self, name: str, objects: list[Rendered], patch: dict[str, Any],
             target: dict[str, Any] | None, line: int) -> list[Rendered]:  # fmt: skip
        if target is None:
            metadata = as_dict(patch.get("metadata"))
            selected = [
                o for o in objects
                if o.kind == patch.get("kind") and str(metadata.get("name")) in o.names
                and (not metadata.get("namespace") or metadata.get("namespace") == o.namespace)
            ]  # fmt: skip
            if not selected:
                what = f"{patch.get('kind')} {metadata.get('name')}"
                self._gap(name, line, f"patch for {what} matches no object", fatal=True)
        else:
            selected = self._targets(name, line, objects, target)
        body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}
        metadata = {
            k: v
            for k, v in as_dict(patch.get("metadata")).items()
            if k not in ("name", "namespace")
        }
        body["metadata"] = metadata
        kept = []
        for obj in objects:
            if obj in selected:
                try:
                    merged = strategic_merge(obj.data, body, obj.kind in BUILTIN_KINDS)
                except PatchError as error:
                    self._gap(name, line, f"patch on {obj.kind} {obj.name}: {error}")
                    kept.append(obj)
                    continue
                if merged is None:
                    continue  # `$patch: delete` removes the object
                before = images_of(obj.data)
                obj.data = merged
                self._mark(obj, before)
            kept.append(obj)
        return kept  # fmt: skip

    def _namespace(self, objects: list[Rendered], namespace: Any) -> list[Rendered]:
        if not namespace:
            return objects
        for obj in objects:
            if obj.kind in ("Namespace", "CustomResourceDefinition", "ClusterRole",
                            "ClusterRoleBinding", "PersistentVolume", "StorageClass"):  # fmt: skip
                continue
            _mapping(obj.data, "metadata")["namespace"] = str(namespace)
        return objects

    def _rename(self, obj: Rendered, prefix: Any, suffix: Any) -> Rendered:
        if (prefix or suffix) and obj.kind not in ("Namespace", "CustomResourceDefinition"):
            metadata = _mapping(obj.data, "metadata")
            metadata["name"] = f"{prefix or ''}{metadata.get('name') or ''}{suffix or ''}"
            obj.names.append(metadata["name"])
        return obj

    def _labels(self, obj: Rendered, spec: dict[str, Any]) -> None:
        common = {str(k): str(v) for k, v in as_dict(spec.get("commonLabels")).items()}
        metadata_labels = dict(common)
        template_labels = dict(common)
        for entry in as_list(spec.get("labels")):
            pairs = {str(k): str(v) for k, v in as_dict(as_dict(entry).get("pairs")).items()}
            metadata_labels.update(pairs)
            if as_dict(entry).get("includeTemplates") or as_dict(entry).get("includeSelectors"):
                template_labels.update(pairs)
        self._set_labels(obj, metadata_labels, template_labels)

    def _set_labels(self, obj: Rendered, labels: dict[str, str], template: dict[str, str]) -> None:
        if labels:
            metadata = _mapping(obj.data, "metadata")
            metadata["labels"] = {**as_dict(metadata.get("labels")), **labels}
        pod = as_dict(as_dict(obj.data.get("spec")).get("template"))
        if template and pod and obj.kind in BUILTIN_KINDS:
            pod_metadata = _mapping(pod, "metadata")
            pod_metadata["labels"] = {**as_dict(pod_metadata.get("labels")), **template}

    def _replicas(self, objects: list[Rendered], rules: list[Any]) -> None:
        for rule in (as_dict(r) for r in rules):
            count = rule.get("count")
            if not isinstance(count, int) or isinstance(count, bool):
                continue
            for obj in objects:
                if obj.kind in REPLICA_KINDS and str(rule.get("name")) in obj.names:
                    _mapping(obj.data, "spec")["replicas"] = count

    def _images(self, objects: list[Rendered], rules: list[dict[str, Any]]) -> None:
        if not rules:
            return
        for obj in objects:
            for container in _containers(obj.data):
                if isinstance(container.get("image"), str):
                    image = new_image(container["image"], rules)
                    if image != container["image"] and self._here is not None:
                        obj.set_at = self._here
                    container["image"] = image

    def _transformer_file(self, name: str, objects: list[Rendered], entry: Any,
                          line: int) -> list[Rendered]:  # fmt: skip
        configs = self._patch_documents(name, entry, line)
        for config in configs:
            kind = str(as_dict(config).get("kind") or "")
            config = as_dict(config)
            if kind == "LabelTransformer":
                paths = [str(as_dict(f).get("path")) for f in as_list(config.get("fieldSpecs"))]
                labels = {str(k): str(v) for k, v in as_dict(config.get("labels")).items()}
                template = labels if any("template" in p for p in paths) else {}
                for obj in objects:
                    self._set_labels(obj, labels if METADATA_LABELS in paths else {}, template)
            elif kind == "AnnotationsTransformer":
                values = {str(k): str(v) for k, v in as_dict(config.get("annotations")).items()}
                for obj in objects:
                    metadata = _mapping(obj.data, "metadata")
                    metadata["annotations"] = {**as_dict(metadata.get("annotations")), **values}
            elif kind == "PrefixSuffixTransformer":
                objects = [
                    self._rename(o, config.get("prefix"), config.get("suffix")) for o in objects
                ]
            elif kind == "NamespaceTransformer":
                objects = self._namespace(objects, as_dict(config.get("metadata")).get("namespace"))
            elif kind == "ImageTagTransformer":
                self._images(objects, [as_dict(config.get("imageTag"))])
            elif kind == "ReplicaCountTransformer":
                self._replicas(objects, [config.get("replica")])
            elif kind in (
                "PatchTransformer",
                "PatchStrategicMergeTransformer",
                "PatchJson6902Transformer",
            ):
                objects = self._patch_item(
                    name, objects, config, line, kind.endswith("Json6902Transformer")
                )
            else:
                self._gap(
                    name, line, f"transformer {kind or entry} not followed by the built-in renderer"
                )
        return objects  # fmt: skip


def _id(obj: Rendered) -> tuple[str, str, str]:
    return obj.kind, obj.namespace, obj.name


def _mapping(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]` as a mapping to write into (made one when it is missing or not a mapping)."""
    if not isinstance(parent.get(key), dict):
        parent[key] = {}
    value: dict[str, Any] = parent[key]
    return value


def images_of(data: Any) -> list[Any]:
    return [c.get("image") for c in _containers(data)] if isinstance(data, dict) else []


_POD_AT = {
    "Deployment": ("spec", "template", "spec"), "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"), "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"), "ReplicationController": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"), "Pod": ("spec",),
}  # fmt: skip


def _containers(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every container of an object, wherever its pod spec sits."""
    path = _POD_AT.get(str(data.get("kind")))
    if path is not None:  # the built-in kinds: straight to the pod spec
        pod: Any = data
        for key in path:
            pod = pod.get(key) if isinstance(pod, dict) else None
        if not isinstance(pod, dict):
            return []
        return [c for key in CONTAINER_LISTS for c in as_list(pod.get(key)) if isinstance(c, dict)]
    found: list[dict[str, Any]] = []
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        node, depth = todo.pop()
        if depth > 12:
            continue
        if isinstance(node, dict):
            for key, value in node.items():
                if key in CONTAINER_LISTS and isinstance(value, list):
                    found += [c for c in value if isinstance(c, dict)]
                elif isinstance(value, dict | list):
                    todo.append((value, depth + 1))
        elif isinstance(node, list):
            todo += [(item, depth + 1) for item in node if isinstance(item, dict | list)]
    return found


def _split(image: str) -> tuple[str, str, str]:
    """`name:tag@digest` -> (name, `:tag` or "", `@digest` or "")."""
    name, at, digest = image.partition("@")
    head, slash, last = name.rpartition("/")
    repo, colon, tag = last.partition(":")
    return f"{head}{slash}{repo}", (f":{tag}" if colon else ""), (f"@{digest}" if at else "")


def new_image(image: str, rules: list[dict[str, Any]]) -> str:
    """An image after kustomize's `images:` rules, each rule naming it applied in turn."""
    name, tag, digest = _split(image)
    for rule in rules:
        if str(rule.get("name") or "") != name:
            continue
        name = str(rule.get("newName") or name)
        new_tag, new_digest = rule.get("newTag"), rule.get("digest")
        if new_tag is not None and new_digest:
            tag, digest = f":{new_tag}", f"@{new_digest}"
        elif new_digest:
            tag, digest = "", f"@{new_digest}"
        elif new_tag is not None:
            tag, digest = f":{new_tag}", ""
    return f"{name}{tag}{digest}"
