"""Small inputs that would make every command hang: overlays and schemas that expand
exponentially, nest deeper than Python recurses, or hold a regex that backtracks for ever.

Each bomb runs in a subprocess (collect, then every page generated) under a timeout, the hang
guard, and an address-space limit, the bomb guard: exceeding either fails the test. Each test
asserts the finding (rule, file, line), that nothing was printed as a traceback, and that the rest
of the site is still there. The overlays are also given to `kubectl kustomize`, whose verdict the
built-in renderer must give.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GIT_IDENTITY, deployment_yaml, make_config, write
from test_kustomize import needs_kubectl

TIMEOUT = 120  # seconds: the hang guard (each bomb takes a few seconds)
MEMORY = 2 * 1024**3  # bytes of address space: the bomb guard

RUN = """
import json, sys
from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
config = load_config(sys.argv[1])
model = collect(config)
pages = generate(config, model)
print(json.dumps({
    "findings": [[f.rule, f.file, f.line, f.message] for f in model.findings],
    "pages": sorted(pages),
    "catalog": json.loads(pages["catalog.json"]),
}))
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_guarded(config: Path) -> dict[str, Any]:
    """Collect and generate in a subprocess under both guards; what it found and made."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUN, str(config)],
            cwd=config.parent,
            env={**os.environ, **GIT_IDENTITY, "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            check=False,
            timeout=TIMEOUT,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: no result within {TIMEOUT} s")
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "panicked" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 0, (
        f"exit {done.returncode} (MemoryError past the limit?)\n" + (done.stderr[-3000:])
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def kubectl(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", "kustomize", str(folder)], capture_output=True, text=True,
                          check=False, timeout=TIMEOUT)  # fmt: skip


def findings(result: dict[str, Any], rule: str) -> list[tuple[str, int | None, str]]:
    return [(file, line, message) for r, file, line, message in result["findings"] if r == rule]


def services(result: dict[str, Any]) -> set[str]:
    return {s["name"] for s in result["catalog"]["services"]}


# --- overlays -------------------------------------------------------------------------------


def overlay_config(tmp_path: Path, path: str, renderer: str = "builtin") -> Path:
    """Two environments: `bomb` renders the overlay at `path` of repo/, `good` a plain service."""
    write(tmp_path / "good/api.yaml", deployment_yaml("api", "reg.example.com/api:2.0.0"))
    return make_config(tmp_path, kustomize=renderer, environments=[
        {"name": "bomb", "repo": "repo", "path": path},
        {"name": "good", "repo": "good"},
    ])  # fmt: skip


def base(repo: Path, folder: str = "l0") -> None:
    write(repo / folder / "kustomization.yaml", "resources: [web.yaml]\n")
    write(repo / folder / "web.yaml", deployment_yaml("web", "reg.example.com/web:1.0.0"))


@needs_kubectl
def test_a_base_listed_twice_at_every_level_is_refused_at_once_like_kustomize(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    base(repo)
    for level in range(1, 26):
        write(repo / f"l{level}/kustomization.yaml",
              f"resources:\n- ../l{level - 1}\n- ../l{level - 1}\n")  # fmt: skip
    refused = kubectl(repo / "l25")
    assert refused.returncode != 0 and "already registered id" in refused.stderr
    result = run_guarded(overlay_config(tmp_path, "l25"))
    invalid = findings(result, "envrepo/kustomize-invalid")
    assert ("bomb:l1/kustomization.yaml", 3) in {(f, line) for f, line, _ in invalid}
    assert all("included twice" in message for _, _, message in invalid)
    assert services(result) == {"web", "api"}
    assert "catalog/services/api.md" in result["pages"]


@needs_kubectl
def test_an_overlay_a_thousand_bases_deep_renders_without_recursion(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    base(repo)
    for level in range(1, 1001):
        write(repo / f"l{level}/kustomization.yaml", f"resources: [../l{level - 1}]\n")
    assert kubectl(repo / "l1000").returncode == 0
    result = run_guarded(overlay_config(tmp_path, "l1000"))
    assert not [f for f in result["findings"] if f[0].startswith(("envrepo/kustomize", "limits/"))]
    assert services(result) == {"web", "api"}


def test_overlays_that_double_their_objects_at_every_level_stop_at_the_limit(
    tmp_path: Path,
) -> None:
    # kustomize renders 2^20 distinct objects here (for minutes): the real renderer has its
    # timeout; the built-in renderer stops at limits.overlay_objects
    repo = tmp_path / "repo"
    base(repo)
    for level in range(1, 21):
        for side in ("a", "b"):
            write(repo / f"l{level}/{side}/kustomization.yaml",
                  f"namePrefix: {side}-\nresources: [../../l{level - 1}]\n")  # fmt: skip
        write(repo / f"l{level}/kustomization.yaml", "resources: [a, b]\n")
    result = run_guarded(overlay_config(tmp_path, "l20"))
    [(file, _line, message)] = findings(result, "limits/too-many")  # where the copies add up
    assert file.startswith("bomb:l") and "limits.overlay_objects" in message
    assert "api" in services(result)
    assert "catalog/environments/bomb.md" in result["pages"]


def _target_repo(repo: Path, name: str, pattern: str) -> None:
    write(repo / "web.yaml", deployment_yaml(name, "reg.example.com/web:1.0.0"))
    write(repo / "kustomization.yaml", f"""
        resources: [web.yaml]
        patches:
        - target: {{kind: Deployment, name: {json.dumps(pattern)}}}
          patch: |-
            - op: replace
              path: /spec/replicas
              value: 7
        """)  # fmt: skip


@needs_kubectl
def test_a_target_regex_that_backtracks_is_matched_in_linear_time_like_kustomize(
    tmp_path: Path,
) -> None:
    repo = tmp_path / "repo"
    _target_repo(repo, "a" * 30_000 + "b", "(a+)+$")
    rendered = kubectl(repo)
    assert rendered.returncode == 0 and "replicas: 2" in rendered.stdout  # no match: unpatched
    result = run_guarded(overlay_config(tmp_path, ""))
    assert not findings(result, "envrepo/kustomize-invalid")
    [web] = [s for s in result["catalog"]["services"] if s["name"].startswith("aaa")]
    [deployment] = web["deployments"]
    assert [w["replicas"] for w in deployment["workloads"]] == [2]
    assert "api" in services(result)


@needs_kubectl
def test_a_target_regex_re2_does_not_accept_is_refused_like_kustomize(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _target_repo(repo, "web", "(?=w)web")
    refused = kubectl(repo)
    assert refused.returncode != 0 and "error parsing regexp" in refused.stderr
    result = run_guarded(overlay_config(tmp_path, ""))
    [(file, line, message)] = findings(result, "envrepo/kustomize-invalid")
    assert (file, line) == ("bomb:kustomization.yaml", 3)
    assert "(?=w)web" in message
    assert services(result) == {"web", "api"}


# --- schemas --------------------------------------------------------------------------------

DRAFT = "https://json-schema.org/draft/2020-12/schema"
GOOD_SCHEMA = {"$schema": DRAFT, "title": "Good", "type": "object", "properties": {
    "port": {"type": "integer", "description": "The port."}}}  # fmt: skip


def schema_config(tmp_path: Path, bomb: dict[str, Any]) -> Path:
    """A schemas folder with the bomb (one key a line, for lines) and a good schema."""
    write(tmp_path / "schemas/bomb.json", json.dumps(bomb, indent=1))
    write(tmp_path / "schemas/good.json", json.dumps(GOOD_SCHEMA, indent=1))
    return make_config(tmp_path, schemas="schemas")


def bomb_schema(defs: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": DRAFT, "title": "Bomb", "type": "object", "properties": {
        "a": {"$ref": "#/$defs/d0", "description": "A."},
        "b": {"type": "string", "description": "B."},
    }, "$defs": defs}  # fmt: skip


def line_of(tmp_path: Path, text: str) -> int:
    lines = (tmp_path / "schemas/bomb.json").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def assert_the_rest_is_there(result: dict[str, Any]) -> None:
    assert "reference/schemas/good.md" in result["pages"]
    assert "reference/schemas/bomb.md" in result["pages"]


@pytest.mark.parametrize("keyword", ["allOf", "anyOf", "oneOf"])
def test_a_chain_of_definitions_each_naming_the_next_twice_is_a_finding(
    tmp_path: Path, keyword: str
) -> None:
    defs: dict[str, Any] = {
        f"d{i}": {keyword: [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(30)
    }
    defs["d30"] = {"type": "object", "properties": {"x": {"type": "string", "description": "X."}}}
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    [(file, line, message)] = findings(result, "limits/too-many")
    assert file == "schemas/bomb.json" and "no file is validated" in message
    # d(k) applies ~3 x 2^(30-k) subschemas: the finding is at the first one over 50 x options
    assert line in {line_of(tmp_path, f'"d{k}": {{') for k in range(8, 15)}
    assert_the_rest_is_there(result)


@pytest.mark.parametrize("where", ["allOf", "if", "then", "else", "not", "oneOf", "ref"])
def test_a_definition_applied_to_itself_at_the_same_place_is_invalid(
    tmp_path: Path, where: str
) -> None:
    ref = {"$ref": "#/$defs/d0"}
    own: dict[str, Any] = {
        "allOf": {"allOf": [ref]}, "if": {"if": ref}, "then": {"if": True, "then": ref},
        "else": {"if": True, "else": ref}, "not": {"not": ref},
        "oneOf": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/d1"}]}, "ref": ref,
    }[where]  # fmt: skip
    defs = {"d0": {"description": "D.", **own}, "d1": {"$ref": "#/$defs/d0"}}
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    [(file, line, message)] = findings(result, "schema/invalid")
    assert file == "schemas/bomb.json" and "cycle" in message
    assert line in (line_of(tmp_path, '"d0": {'), line_of(tmp_path, '"d1": {'))
    assert_the_rest_is_there(result)


def test_recursion_below_a_property_or_an_item_is_no_cycle(tmp_path: Path) -> None:
    defs = {"d0": {"type": "object", "description": "D.", "properties": {
        "children": {"type": "array", "description": "C.", "items": {"$ref": "#/$defs/d0"}},
        "more": {"description": "M.", "additionalProperties": {"$ref": "#/$defs/d0"},
                 "patternProperties": {"^x": {"$ref": "#/$defs/d0"}}},
    }}}  # fmt: skip
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    assert not [f for f in result["findings"] if f[0] in ("schema/invalid", "limits/too-many")]
    assert_the_rest_is_there(result)


def test_a_long_chain_of_refs_stops_at_the_ref_depth(tmp_path: Path) -> None:
    defs: dict[str, Any] = {f"d{i}": {"$ref": f"#/$defs/d{i + 1}"} for i in range(2000)}
    defs["d2000"] = {"type": "string"}
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    too_many = findings(result, "limits/too-many")
    assert any("limits.ref_depth" in message for _, _, message in too_many), too_many
    assert not findings(result, "schema/unresolved-ref")
    assert_the_rest_is_there(result)


def test_definitions_nested_thousands_deep_stop_at_the_ref_depth(tmp_path: Path) -> None:
    defs: dict[str, Any] = {
        f"d{i}": {"type": "object", "description": "D.",
                  "properties": {"x": {"$ref": f"#/$defs/d{i + 1}", "description": "X."}}}
        for i in range(3000)
    }  # fmt: skip
    defs["d3000"] = {"type": "string"}
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    too_many = findings(result, "limits/too-many")
    assert any("nested more than 64" in message for _, _, message in too_many), too_many
    assert not findings(result, "schema/unresolved-ref")  # no RecursionError read as unresolved
    assert_the_rest_is_there(result)


def test_a_huge_enum_is_shown_cut(tmp_path: Path) -> None:
    defs = {"d0": {"type": "integer", "description": "D.", "enum": list(range(100_000)),
                   "examples": list(range(100_000))}}  # fmt: skip
    result = run_guarded(schema_config(tmp_path, bomb_schema(defs)))
    [(file, line, message)] = [
        f for f in findings(result, "limits/too-many") if "enum values" in f[2]
    ]
    assert file == "schemas/bomb.json" and "first 1000" in message
    assert line == line_of(tmp_path, '"a": {')
    assert_the_rest_is_there(result)
