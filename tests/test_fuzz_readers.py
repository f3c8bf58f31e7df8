"""Fuzzing of the readers that meet untrusted bytes first (issue 14): the YAML loader, the schema
flattener and the tar reader. Whatever they are given, they return what they read and findings,
and never raise. Derandomized with a fixed number of examples, so that every run tries the same
inputs; no deadline (nothing is timed), no example database (nothing written into the repo)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import deployment_yaml, tarball
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from generator.limits import Limits
from generator.model import Finding
from generator.rules import RULES
from generator.sources.bundles import read_bundle
from generator.sources.schemas import read_schemas
from generator.yamlload import Document, load_data_file, load_documents, load_file, load_one

EXAMPLES = 300
FUZZ = settings(
    derandomize=True,
    deadline=None,
    max_examples=EXAMPLES,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def assert_findings(findings: list[Finding]) -> None:
    """Findings as every reader must make them: a known rule, a file, a 1-based line or none."""
    assert isinstance(findings, list)
    for finding in findings:
        assert isinstance(finding, Finding), finding
        assert finding.rule in RULES, finding.rule
        assert finding.file, finding
        assert finding.line is None or (isinstance(finding.line, int) and finding.line >= 1), (
            finding
        )


# -- the YAML loader -------------------------------------------------------------------------

TOKENS = [
    "a", "b", "key", ": ", ":", "- ", "-", "\n", "  ", "    ", "\t", "&x ", "*x", "&y ", "*y",
    "[", "]", "{", "}", ", ", "<<: ", "<<: *x", "? ", "!!str ", "!!int ", "!!float ", "!!binary ",
    "!!timestamp ", "!!set ", "!!omap ", "!!python/object/apply:os.system ", "!reference ", "!!",
    "'", '"', "\\", "# c", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "|", ">-",
    "1.10", "0x1F", "0o17", "1e400", "-.inf", ".nan", "~", "null", "yes", "2024-02-30", "12:30:00",
    "\ufeff", "\x00", "\x85", "\u2028", "\ud7ff", "\U0001f680", "9" * 5000, "a" * 1024,
]  # fmt: skip

yaml_texts = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=60).map("".join),
    st.text(max_size=400),
)

BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
DEEP = "[" * 5000 + "]" * 5000
DEEP_MAPPINGS = "".join(" " * i + "k:\n" for i in range(300))
SELF_MERGE = "a: &a\n  <<: *a\n"
RECURSIVE = "&a [*a]"


def assert_documents(documents: list[Document]) -> None:
    assert isinstance(documents, list)
    for document in documents:
        assert isinstance(document, Document)
        assert isinstance(document.start_line, int) and document.start_line >= 1
        document.line(("anything", 0))  # lines can be asked for anywhere
        document.text(())


@FUZZ
@given(yaml_texts)
@example(BILLION_LAUGHS)
@example(DEEP)
@example(DEEP_MAPPINGS)
@example(SELF_MERGE)
@example(RECURSIVE)
@example("a: 1\na: 2\n")
@example("\ufeffa: 1\n")
def test_yaml_loader_reads_any_text(text: str) -> None:
    documents, findings = load_documents(text, "fuzz.yaml")
    assert_documents(documents)
    assert_findings(findings)
    document, findings = load_one(text, "fuzz.yaml")
    assert document is None or isinstance(document, Document)
    assert_findings(findings)
    json.dumps([d.data for d in documents], default=str)  # plain data, no cycle


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=400),
        yaml_texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
        yaml_texts.map(lambda t: t.encode("utf-16")),
    ),
    st.sampled_from(["fuzz.yaml", "fuzz.json"]),
)
@example(b"\xff\xfe\x00\x00", "fuzz.yaml")
@example(b"caf\xe9: 1\n", "fuzz.yaml")
@example(b'{"a": 1, "a": 2}', "fuzz.json")
@example(b"\xef\xbb\xbf{}", "fuzz.json")
@example(b"[" * 100_000, "fuzz.json")
def test_yaml_loader_reads_any_file(scratch: Path, data: bytes, name: str) -> None:
    path = scratch / name
    path.write_bytes(data)
    for load in (load_file, load_data_file):
        document, findings = load(path, name)
        assert document is None or isinstance(document, Document)
        if document is not None:
            assert_documents([document])
        assert_findings(findings)


# -- the schema flattener --------------------------------------------------------------------

DEFS = ["a", "b", "c", "d"]
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
refs = st.one_of(
    st.sampled_from(DEFS).map(lambda name: {"$ref": f"#/$defs/{name}"}),
    st.sampled_from([
        {"$ref": "#"}, {"$ref": "#/properties/x"}, {"$ref": "#/$defs/missing"},
        {"$ref": "#/$defs/a/properties/x"}, {"$ref": "other.json#/x"}, {"$ref": "#/$defs/a/allOf/0"},
        {"$ref": "https://schemas.example/remote.json"}, {"$ref": "#%2Fbroken~2"}, {"$ref": 5},
        {"$dynamicRef": "#meta"}, {"$recursiveRef": "#"},
    ]),
)  # fmt: skip
keywords = {
    "type": st.sampled_from(["object", "array", "string", "integer", "number", "boolean", "null"])
    | st.lists(st.sampled_from(["string", "null", "object"]), max_size=2)
    | json_values,
    "description": st.text(max_size=30) | json_values,
    "title": st.text(max_size=10),
    "default": json_values,
    "examples": st.lists(json_values, max_size=2) | json_values,
    "enum": st.lists(json_scalars, max_size=3) | json_values,
    "const": json_values,
    "pattern": st.sampled_from(["^a+$", "(", "(a+)+$", "[[:alpha:]]"]),
    "required": st.lists(st.sampled_from(["x", "y", "z"]), max_size=2) | json_values,
    "deprecated": st.booleans() | json_values,
    "x-deprecated-message": st.text(max_size=10),
    "x-since": st.text(max_size=5) | json_values,
    "x-pitfalls": st.lists(
        st.fixed_dictionaries(
            {"severity": st.sampled_from(["warning", "danger", 1]), "text": st.text(max_size=10)}
        )
        | json_values,
        max_size=2,
    )
    | json_values,
    "minimum": st.integers() | json_values,
    "maxItems": st.integers(),
    "format": st.text(max_size=6),
    "$anchor": st.sampled_from(["meta", "x", ""]),
    "$dynamicAnchor": st.just("meta"),
    "$id": st.sampled_from(["https://schemas.example/x.json", "x.json", "#frag", ""]),
}
property_names = st.sampled_from(
    ["x", "y", "z", "", "a b", "$ref", "<name>", "[]", "..", "__proto__"]
)


def with_children(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    child = children | json_values
    return st.fixed_dictionaries(
        {},
        optional={
            **keywords,
            "properties": st.dictionaries(property_names, child, max_size=3) | json_values,
            "patternProperties": st.dictionaries(st.sampled_from(["^x", "(", "(a+)+$"]), child, max_size=2),
            "additionalProperties": child,
            "items": child | st.lists(child, max_size=2),
            "prefixItems": st.lists(child, max_size=2),
            "allOf": st.lists(child, max_size=3) | json_values,
            "anyOf": st.lists(child, max_size=3),
            "oneOf": st.lists(child, max_size=3),
            "not": child,
            "if": child,
            "then": child,
            "else": child,
            "dependentSchemas": st.dictionaries(property_names, child, max_size=2),
            "definitions": st.dictionaries(st.sampled_from(DEFS), child, max_size=2),
            "$ref": st.sampled_from(["#", "#/$defs/a", "#/$defs/b", "#/definitions/c"]),
        },
    )  # fmt: skip


leaf_schemas = st.one_of(refs, st.booleans(), st.fixed_dictionaries({}, optional=keywords))
schema_nodes = st.recursive(leaf_schemas, with_children, max_leaves=12)
schemas = st.builds(
    lambda root, defs, draft: {
        **(root if isinstance(root, dict) else {"allOf": [root]}),
        **({"$defs": defs} if defs is not None else {}),
        **({"$schema": draft} if draft is not None else {}),
    },
    schema_nodes,
    st.none() | st.dictionaries(st.sampled_from(DEFS), schema_nodes, max_size=4) | json_values,
    st.none()
    | st.sampled_from([
        "https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2019-09/schema",
        "https://unknown.example/schema",
    ])
    | json_values,
)  # fmt: skip

CYCLE = {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}}
SELF = {"properties": {"x": {"$ref": "#"}}, "description": "me"}
CHAIN = {
    "$ref": "#/$defs/d0",
    "$defs": {
        **{f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}] * 2} for i in range(12)},
        "d12": {"properties": {"leaf": {"type": "string"}}},
    },
}


@FUZZ
@given(schemas)
@example(CYCLE)
@example(SELF)
@example(CHAIN)
@example({"properties": [1, 2], "items": "x", "allOf": {"a": 1}, "$defs": []})
def test_schema_flattener_reads_any_schema(scratch: Path, schema: dict[str, Any]) -> None:
    folder = scratch / "schemas"
    folder.mkdir(exist_ok=True)
    (folder / "fuzz.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    flattened, findings = read_schemas(folder, lambda path: path.relative_to(scratch).as_posix())
    assert_findings(findings)
    assert len(flattened) <= 1
    for item in flattened:
        assert item.id == "fuzz"
        assert len(item.options) <= Limits().options, len(item.options)
        for option in item.options:
            assert isinstance(option.path, str)
            assert len(option.path) <= 10_000


# -- the tar reader --------------------------------------------------------------------------


def _valid_tar(compressed: bool) -> bytes:
    members = {
        "bundle.yml": b"service: fuzz\nversion: 1.0.0\nowner: team-a\n",
        "k8s/deployment.yaml": deployment_yaml("fuzz", "registry.example/fuzz:1.0.0").encode(),
        "k8s/notes.txt": b"not yaml",
    }
    if compressed:
        return tarball(members)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        long = tarfile.TarInfo("k8s/" + "l" * 200 + ".yaml")  # a GNU long name
        long.size = 6
        tar.addfile(long, io.BytesIO(b"a: 1\n\n"))
    return raw.getvalue()


VALID_GZ = _valid_tar(True)
VALID_TAR = _valid_tar(False)


@st.composite
def mutated_tarballs(draw: st.DrawFn) -> bytes:
    """A valid tarball (plain or gzipped) with bytes overwritten, cut, or inserted; the plain
    ones gzipped again half of the time, so that mutated headers get through decompression."""
    data = bytearray(draw(st.sampled_from([VALID_TAR, VALID_GZ])))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["set", "cut", "insert", "digits"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "set" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "digits" and data:  # header fields are octal text: huge sizes, odd types
            data[at : at + 12] = draw(
                st.sampled_from([b"77777777777\0", b"99999999999\0", b"\x80" + b"\xff" * 11])
            )
    out = bytes(data)
    if out[:2] != b"\x1f\x8b" and draw(st.booleans()):
        out = gzip.compress(out, compresslevel=1, mtime=0)
    return out  # fmt: skip


@FUZZ
@given(st.one_of(st.binary(max_size=2048), mutated_tarballs()))
@example(b"")
@example(b"\x1f\x8b")
@example(gzip.compress(b"\0" * 10240))
@example(VALID_GZ[: len(VALID_GZ) // 2])
@example(b"BZh91AY&SY" + b"\0" * 64)
@example(b"\xfd7zXZ\0" + b"\0" * 64)
def test_tar_reader_reads_any_bytes(data: bytes) -> None:
    url = "https://bundles.example/fuzz/1.0.0/fuzz-1.0.0.tar.gz"
    found, findings = read_bundle(data, url, "env:environment.yml", 3)
    assert found.url == url
    assert_findings(findings)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in found.facts.items())
    assert len(found.workloads) <= Limits().bundle_members


def test_the_fuzzed_tarballs_are_read_when_intact() -> None:
    """The inputs the mutations start from are good bundles: the fuzzing starts from real ones."""
    for data in (VALID_GZ, VALID_TAR):
        found, findings = read_bundle(data, "https://bundles.example/x.tar.gz", "env:e.yml", 1)
        assert found.facts.get("service") == "fuzz", findings
        assert [w.name for w in found.workloads] == ["fuzz"]
