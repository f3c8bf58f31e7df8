"""Patches as kustomize applies them: strategic merge patches and JSON 6902 patches.

Strategic merge follows the Kubernetes rules for the fields a workload has: lists of containers,
volumes, env and the like are merged by their key (`name`, `mountPath`, `containerPort`); other
lists are replaced; `null` deletes a key; `$patch: delete` and `$patch: replace` are honoured. For
a kind Kubernetes does not define (a CRD such as a HelmRelease), every list is replaced, as
kustomize does without the CRD's schema.
"""

from __future__ import annotations

from typing import Any

from .tree import clone

# Lists merged by key in the built-in kinds, by the list's field name.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "ports": "containerPort",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
}
BUILTIN_KINDS = frozenset({
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod",
    "ReplicationController", "PodTemplate", "Service", "ConfigMap", "Secret", "ServiceAccount",
    "Namespace", "Ingress", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy",
})  # fmt: skip
DIRECTIVES = ("$patch", "$retainKeys", "$setElementOrder", "$deleteFromPrimitiveList")
MAX_DEPTH = 100


class PatchError(Exception):
    """A patch that cannot be applied, in kustomize's terms."""


def strategic_merge(target: Any, patch: Any, builtin: bool, depth: int = 0) -> Any:
    """`target` with `patch` merged into it; neither is modified. None: `$patch: delete`."""
    if depth > MAX_DEPTH:
        raise PatchError("patch nested too deep")
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return clone(patch)
    directive = patch.get("$patch")
    if directive == "delete":
        return None
    if directive == "replace":
        return {k: clone(v) for k, v in patch.items() if k not in DIRECTIVES}
    result = dict(target)
    for key, value in patch.items():
        if key in DIRECTIVES or key.startswith("$setElementOrder/"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = strategic_merge(result[key], value, builtin, depth + 1)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, list) and isinstance(result.get(key), list) and builtin:
            result[key] = _merge_list(result[key], value, MERGE_KEYS.get(key), depth)
        else:
            result[key] = _clean(value)
    return result


def _clean(value: Any) -> Any:
    """A value from a patch with its directives removed (a new list item carries none)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k not in DIRECTIVES}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _merge_list(target: list[Any], patch: list[Any], key: str | None, depth: int) -> list[Any]:
    if key is None or not all(isinstance(item, dict) for item in [*target, *patch]):
        if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
            return [_clean(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        return [_clean(i) for i in patch]
    if any(item.get("$patch") == "replace" for item in patch):
        return [_clean(i) for i in patch if "$patch" not in i]
    result = list(target)
    for item in patch:
        index = next(
            (i for i, old in enumerate(result) if key in item and old.get(key) == item.get(key)),
            None,
        )
        if index is None:
            if item.get("$patch") != "delete":
                result.append(_clean(item))
            continue
        merged = strategic_merge(result[index], item, True, depth + 1)
        if merged is None:
            del result[index]
        else:
            result[index] = merged
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"path {path!r} is not a JSON pointer")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _walk(document: Any, parts: list[str], path: str) -> Any:
    node = document
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif (
            isinstance(node, list)
            and part.isascii()
            and part.isdigit()
            and len(part) < 19
            and int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            raise PatchError(f"path {path!r} does not exist")
    return node


def _set(document: Any, path: str, value: Any, insert: bool) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _walk(document, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict):
        if not insert and last not in parent:
            raise PatchError(f"path {path!r} does not exist")
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-" and insert:
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent) - (0 if insert else 1):
            if insert:
                parent.insert(int(last), value)
            else:
                parent[int(last)] = value
        else:
            raise PatchError(f"path {path!r} does not exist")
    else:
        raise PatchError(f"path {path!r} does not exist")
    return document


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole object")
    parent = _walk(document, parts[:-1], path)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise PatchError(f"path {path!r} does not exist")


def json_patch(document: Any, operations: list[Any]) -> Any:
    """`document` with RFC 6902 operations applied (a copy); PatchError when one fails."""
    result = clone(document)
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("an operation is not a mapping")
        op, path = operation.get("op"), str(operation.get("path", ""))
        if op in ("add", "replace"):
            if "value" not in operation:
                raise PatchError(f"{op} at {path} has no value")
            result = _set(result, path, clone(operation["value"]), op == "add")
        elif op == "remove":
            _remove(result, path)
        elif op in ("move", "copy"):
            source = str(operation.get("from", ""))
            value = (
                _remove(result, source)
                if op == "move"
                else clone(_walk(result, _pointer(source), source))
            )
            result = _set(result, path, value, True)
        elif op == "test":
            if _walk(result, _pointer(path), path) != operation.get("value"):
                raise PatchError(f"test at {path} failed")
        else:
            raise PatchError(f"unknown operation {op!r}")
    return result
