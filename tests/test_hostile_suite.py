"""The hostile-input suite (issue 14): one case per class of bad input DESIGN.md's "Bad input"
names. Each case is a small pipeline with a sane schema, a sane environment and a sane bundle,
plus one hostile input; `check --format json` and `generate --out` run on it in a subprocess
(tests/hostile.py: a deadline as the hang guard, an address-space limit as the bomb guard, a
private HOME and TMPDIR, every proxy variable pointing to a recording proxy).

Each case asserts: the expected finding with its file and line (or URL); no traceback; exit code
0 or 1; the rest of the site built; nothing new under the config's folder, HOME or TMPDIR but
the output and cache folders; and no request outside the hosts the case configured.

`line` of an expectation is the exact line, ANY_LINE (a 1-based line, whichever), or
FILE_LEVEL: the finding is about a whole file that has no line to point at (over the size
limit, not text, a symbolic link, a shallow clone), so its line may be null.
"""

from __future__ import annotations

import gzip
import json
import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from catalogschema import assert_valid_catalog
from conftest import NEXUS, deployment_yaml, git, git_commit, git_init, make_config, tarball, write
from hostile import BundleServer, Run, Sandbox, everything_written, generated_files, sandbox

from generator.render.paths import environment_page, schema_page, service_page, team_page

ANY_LINE = "any line"
FILE_LEVEL = "file level"
MIB = 1024 * 1024
LIMITS = {"download_seconds": 3, "connect_seconds": 1}
HOSTILE = "hostile"
BUNDLE_LINE = 3  # environment.yml as `env_yml` writes it: the first bundle is on line 3


@dataclass
class Expect:
    """What one case must show."""

    rules: tuple[str, ...] = ()  # a finding of one of these rules (none: no finding is asked)
    file: str | None = None  # ... in this file (exact), or
    file_prefix: str | None = None  # ... in a file starting with this
    line: int | str | tuple[str, str] = ANY_LINE  # or ("config", text): the line holding text
    services: tuple[str, ...] = ()  # cataloged in the hostile environment
    service_prefixes: tuple[str, ...] = ()  # a service of the hostile env starts with each
    pages: tuple[str, ...] = ()  # generated files that must exist
    absent: tuple[str, ...] = ()  # text that must appear in no output and no page
    absent_files: tuple[str, ...] = ()  # generated files that must not exist
    markers: tuple[Path, ...] = ()  # files that must never be created
    env: dict[str, str] = field(default_factory=dict)  # for the runs
    asked: BundleServer | None = None  # a bundle server the generator must have asked


Builder = Callable[[Sandbox, dict[str, Any]], Expect]


# -- the sane part of every case -------------------------------------------------------------

SANE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Sane config",
    "description": "A schema nothing is wrong with.",
    "type": "object",
    "properties": {
        "replicas": {"type": "integer", "description": "How many pods run.", "default": 2}
    },
}


def bundle(service: str, version: str, owner: str | None = "team-sane") -> bytes:
    facts = f"service: {service}\nversion: {version}\n" + (f"owner: {owner}\n" if owner else "")
    manifest = deployment_yaml(service, f"registry.example/{service}:{version}")
    return tarball({"bundle.yml": facts.encode(), "k8s/deployment.yaml": manifest.encode()})


def nexus_url(service: str, version: str) -> str:
    return f"{NEXUS}{service}/{version}/{service}-{version}.tar.gz"


def mirror(box: Sandbox, url: str, data: bytes) -> str:
    """Put a tarball in the mirror folder where `url` (under NEXUS) is mirrored."""
    path = box.root / "mirror" / url[len(NEXUS) :]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return url


def env_yml(*entries: str | dict[str, str], manifests: str | None = None) -> str:
    """environment.yml of the hostile env; the first bundle is on line 3 (BUNDLE_LINE)."""
    lines = [f"name: {HOSTILE}", "bundles:"]
    for entry in entries:
        if isinstance(entry, str):
            lines.append(f"  - {json.dumps(entry)}")
        else:
            lines.append(f"  - url: {json.dumps(entry['url'])}")
            lines += [f"    {k}: {json.dumps(v)}" for k, v in entry.items() if k != "url"]
    if manifests:
        lines.append(f"manifests: {manifests}")
    return "\n".join(lines) + "\n"


def sane_site(box: Sandbox) -> dict[str, Any]:
    """A schema, an environment running a mirrored bundle, and its team; the config's keys."""
    root = box.root
    write(root / "schemas" / "sane.schema.json", json.dumps(SANE_SCHEMA, indent=2))
    url = mirror(box, nexus_url("sane-service", "1.0.0"), bundle("sane-service", "1.0.0"))
    write(root / "envs" / "good" / "environment.yml", f"name: good\nbundles:\n  - {url}\n")
    write(root / "owners.yml", "teams:\n  team-sane: {name: Sane, contact: sane@example.com}\n")
    return {
        "schemas": "schemas/",
        "environments": [{"name": "good", "repo": "envs/good"}],
        "bundles": {"mirrors": {NEXUS: "mirror/"}, "cache": ".cache/bundles"},
        "owners": "owners.yml",
        "limits": dict(LIMITS),
    }


def hostile_env(keys: dict[str, Any], repo: str = "envs/hostile", **more: Any) -> None:
    keys["environments"].append({"name": HOSTILE, "repo": repo, "promotes_from": [], **more})


def hostile_repo(box: Sandbox) -> Path:
    return box.root / "envs" / HOSTILE


def allow(keys: dict[str, Any], *prefixes: str) -> None:
    keys["bundles"]["allow"] = list(prefixes)


def outside(box: Sandbox) -> Path:
    """A folder next to the config's folder (still watched: nothing may appear in it)."""
    folder = box.base / "outside"
    folder.mkdir(exist_ok=True)
    return folder


def ok_workload(box: Sandbox, name: str = "hostile-ok") -> str:
    """A sane workload in the hostile env, read next to the hostile file."""
    manifest = deployment_yaml(name, f"registry.example/{name}:2.0.0", {"team": "team-sane"})
    write(hostile_repo(box) / "app.yaml", manifest)
    return name


# -- YAML ------------------------------------------------------------------------------------


def yaml_case(content: bytes, **expect: Any) -> Builder:
    def build(box: Sandbox, keys: dict[str, Any]) -> Expect:
        hostile_env(keys)
        name = ok_workload(box)
        (hostile_repo(box) / "bad.yaml").write_bytes(content)
        return Expect(file=f"{HOSTILE}:bad.yaml", services=(name,), **expect)

    return build


BILLION_LAUGHS = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]\n"
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
).encode()


def bom_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """A byte order mark is allowed: the file is read as if it had none."""
    hostile_env(keys)
    text = "\ufeff" + deployment_yaml("bom-service", "registry.example/bom-service:1.0.0")
    (hostile_repo(box)).mkdir(parents=True, exist_ok=True)
    (hostile_repo(box) / "bom.yaml").write_bytes(text.encode("utf-8"))
    schema = "\ufeff" + json.dumps({**SANE_SCHEMA, "title": "BOM schema"}, indent=2)
    (box.root / "schemas" / "bom.schema.json").write_bytes(schema.encode("utf-8"))
    return Expect(services=("bom-service",), pages=(schema_page("bom"),))


def huge_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    keys["limits"]["file_bytes"] = 100_000
    build = yaml_case(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: "
        + b"x" * 200_000
        + b"\n",
        rules=("yaml/too-large", "envrepo/unreadable-file"),
        line=FILE_LEVEL,
    )
    return build(box, keys)


# -- bundle tarballs -------------------------------------------------------------------------


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE, **attrs: Any) -> bytes:
    """One raw tar member: its header and its data padded to 512 bytes."""
    info = tarfile.TarInfo(name)
    info.size = len(data) if kind == tarfile.REGTYPE else attrs.pop("size", 0)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    padding = b"\0" * (-len(data) % 512)
    return info.tobuf(tarfile.USTAR_FORMAT) + data + padding


_ZEROS: dict[int, bytes] = {}


def zeros_gz(count: int) -> bytes:
    """`count` gzip members of 16 MiB of zeros each (gzip allows members one after the other)."""
    if 16 not in _ZEROS:
        _ZEROS[16] = gzip.compress(b"\0" * 16 * MIB, compresslevel=9)
    return _ZEROS[16] * count


def bomb_with_header(kind: bytes, name: str, gib_16ths: int) -> bytes:
    """bundle.yml, then a member whose header declares `gib_16ths` x 16 MiB (less the end
    blocks), followed by that many zeros: tiny on disk, huge once decompressed."""
    size = gib_16ths * 16 * MIB - 1024
    head = member("bundle.yml", b"service: bomb-service\nversion: 1.0.0\nowner: team-sane\n")
    head += member(name, kind=kind, size=size)
    return gzip.compress(head, compresslevel=9) + zeros_gz(gib_16ths)


def many_members(count: int) -> bytes:
    """bundle.yml and `count` empty members `k8s/m000000.txt`...: the headers made from one,
    its digits and checksum patched (tarfile would take many seconds for 100,000)."""
    head = member("bundle.yml", b"service: many-service\nversion: 1.0.0\nowner: team-sane\n")
    template = bytearray(member("k8s/m000000.txt"))
    start = template.index(b"000000")
    checksum = sum(template[:148]) + sum(template[156:]) + 8 * ord(" ") - 6 * ord("0")
    blocks = [head]
    for index in range(count):
        digits = b"%06d" % index
        template[start : start + 6] = digits
        template[148:156] = b"%06o\0 " % (checksum + sum(digits))
        blocks.append(bytes(template))
    return gzip.compress(b"".join(blocks) + b"\0" * 1024, compresslevel=1)


def special(name: str, kind: bytes, **attrs: Any) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in attrs.items():
        setattr(info, key, value)
    return info


def tar_case(
    data: Callable[[], bytes],
    rules: tuple[str, ...] = ("bundle/unsafe",),
    pinned: str | None = None,
) -> Builder:
    """A mirrored bundle of the hostile env made of `data`; the sane bundle listed after it."""

    def build(box: Sandbox, keys: dict[str, Any]) -> Expect:
        hostile_env(keys)
        url = mirror(box, nexus_url("hostile-service", "6.6.6"), data())
        entry: str | dict[str, str] = {"url": url, "sha256": pinned} if pinned else url
        write(
            hostile_repo(box) / "environment.yml",
            env_yml(entry, nexus_url("sane-service", "1.0.0")),
        )
        return Expect(rules=rules, file=f"{HOSTILE}:environment.yml", line=BUNDLE_LINE,
                      services=("sane-service",))  # fmt: skip

    return build


def with_sane(*extra: tarfile.TarInfo, members: dict[str, bytes] | None = None) -> bytes:
    facts = b"service: odd-service\nversion: 1.0.0\nowner: team-sane\n"
    manifest = deployment_yaml("odd-service", "registry.example/odd-service:1.0.0").encode()
    return tarball({"bundle.yml": facts, "k8s/deployment.yaml": manifest, **(members or {})}, extra)


# -- bundle servers --------------------------------------------------------------------------


def server_case(mode: str, rules: tuple[str, ...], location: str = "") -> Builder:
    def build(box: Sandbox, keys: dict[str, Any]) -> Expect:
        server = box.server(mode, location=location)
        allow(keys, server.base)
        hostile_env(keys)
        url = f"{server.base}hostile-service/1.0.0/hostile-service-1.0.0.tar.gz"
        write(
            hostile_repo(box) / "environment.yml", env_yml(url, nexus_url("sane-service", "1.0.0"))
        )
        return Expect(rules=rules, file=f"{HOSTILE}:environment.yml", line=BUNDLE_LINE,
                      services=("sane-service",), asked=server)  # fmt: skip

    return build


def metadata_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """The cloud's metadata address is never requested (the proxy would record it)."""
    server = box.server("files")
    allow(keys, server.base)  # an allow list that does not hold it
    hostile_env(keys)
    url = "http://169.254.169.254/latest/meta-data/iam/security-credentials/x-1.0.0.tar.gz"
    write(hostile_repo(box) / "environment.yml", env_yml(url, nexus_url("sane-service", "1.0.0")))
    return Expect(rules=("bundle/not-allowed",), file=f"{HOSTILE}:environment.yml",
                  line=BUNDLE_LINE, services=("sane-service",))  # fmt: skip


# -- env repos -------------------------------------------------------------------------------


def committed_repo(box: Sandbox, files: dict[str, str], message: str = "Deploy") -> Path:
    repo = git_init(hostile_repo(box))
    for name, text in files.items():
        write(repo / name, text)
    git_commit(repo, message)
    return repo


def missing_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    hostile_env(keys, repo="envs/nowhere")
    return Expect(rules=("envrepo/unreadable",), file="pipeline-docs.yml",
                  line=("config", "repo: envs/nowhere"))  # fmt: skip


def not_git_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    hostile_env(keys, ref="main")
    write(hostile_repo(box) / "environment.yml", env_yml(nexus_url("sane-service", "1.0.0")))
    return Expect(rules=("envrepo/unreadable",), file="pipeline-docs.yml")


def shallow_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    source = git_init(outside(box) / "source")
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        url = mirror(box, nexus_url("hostile-service", version), bundle("hostile-service", version))
        write(source / "environment.yml", env_yml(url))
        git_commit(source, f"Deploy hostile-service {version}")
    git(box.root / "envs", "clone", "--quiet", "--depth", "1", f"file://{source}", HOSTILE)
    hostile_env(keys)
    return Expect(rules=("history/partial",), file=f"{HOSTILE}:environment.yml",
                  line=FILE_LEVEL, services=("hostile-service",))  # fmt: skip


def corrupt_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    url = mirror(box, nexus_url("hostile-service", "1.0.0"), bundle("hostile-service", "1.0.0"))
    repo = committed_repo(box, {"environment.yml": env_yml(url)})
    blob = git(repo, "rev-parse", "HEAD:environment.yml").strip()
    path = repo / ".git" / "objects" / blob[:2] / blob[2:]
    path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    path.write_bytes(b"\x78\x9c not a zlib stream at all")
    hostile_env(keys, ref="main")
    return Expect(rules=("envrepo/unreadable", "envrepo/unreadable-file"), line=FILE_LEVEL)


def other_owner_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """A repo another user owns: git refuses it (simulated with git's own test switch)."""
    url = mirror(box, nexus_url("hostile-service", "1.0.0"), bundle("hostile-service", "1.0.0"))
    committed_repo(box, {"environment.yml": env_yml(url)})
    hostile_env(keys, ref="main")
    return Expect(rules=("envrepo/unreadable",), file="pipeline-docs.yml",
                  env={"GIT_TEST_ASSUME_DIFFERENT_OWNER": "1"})  # fmt: skip


SECRET_ENV = "SECRET-ENV-MARKER-7f3a"
SECRET_OWNER = "SECRET-OWNER-MARKER-91c2"


def symlinked_env_file_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    secret = outside(box) / "secret.yml"
    secret.write_text(
        f"name: {SECRET_ENV}\nbundles:\n  - https://{SECRET_ENV.lower()}.example/x/1.0/x-1.0.tar.gz\n"
    )
    hostile_repo(box).mkdir(parents=True)
    (hostile_repo(box) / "environment.yml").symlink_to(os.path.relpath(secret, hostile_repo(box)))
    hostile_env(keys)
    return Expect(rules=("envrepo/symlink-outside",), file=f"{HOSTILE}:environment.yml",
                  line=FILE_LEVEL, absent=(SECRET_ENV, SECRET_ENV.lower()))  # fmt: skip


def symlinked_codeowners_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    secret = outside(box) / "CODEOWNERS"
    secret.write_text(f"* @{SECRET_OWNER}\n")
    url = mirror(box, nexus_url("orphan-service", "1.0.0"), bundle("orphan-service", "1.0.0", None))
    write(hostile_repo(box) / "environment.yml", env_yml(url))
    (hostile_repo(box) / "CODEOWNERS").symlink_to(os.path.relpath(secret, hostile_repo(box)))
    hostile_env(keys)
    return Expect(rules=("envrepo/symlink-outside",), file=f"{HOSTILE}:CODEOWNERS",
                  line=FILE_LEVEL, services=("orphan-service",), absent=(SECRET_OWNER,))  # fmt: skip


def textconv_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """The repo's own git config names programs (a diff textconv driver, a clean/smudge filter,
    an fsmonitor hook) that would leave a marker if git ran them while the repo is read."""
    markers = outside(box) / "markers"
    markers.mkdir()
    scripts = {}
    for name in ("textconv", "filter", "fsmonitor"):
        script = outside(box) / f"evil-{name}.sh"
        script.write_text(f'#!/bin/sh\ntouch "{markers / name}"\ncat "$@"\n')
        script.chmod(0o755)
        scripts[name] = script
    repo = git_init(hostile_repo(box))
    write(repo / ".gitattributes", "* diff=evil filter=evil\n")
    for version in ("1.0.0", "1.1.0"):
        url = mirror(box, nexus_url("hostile-service", version), bundle("hostile-service", version))
        write(repo / "environment.yml", env_yml(url))
        git_commit(repo, f"Deploy hostile-service {version}")
    # only now that everything is committed: `git add` would have run them
    with (repo / ".git" / "config").open("a") as config:
        config.write(
            f'[diff "evil"]\n\ttextconv = {scripts["textconv"]}\n'
            f'[filter "evil"]\n\tclean = {scripts["filter"]}\n\tsmudge = {scripts["filter"]}\n'
            f"[core]\n\tfsmonitor = {scripts['fsmonitor']}\n"
        )
    hostile_env(keys)
    return Expect(services=("hostile-service",),
                  markers=tuple(markers / n for n in scripts))  # fmt: skip


# -- names and versions ----------------------------------------------------------------------


def names_case(name: str, long: bool = False) -> Builder:
    """A service and a team of this name: cataloged, each on its own page inside the output."""

    def build(box: Sandbox, keys: dict[str, Any]) -> Expect:
        labels = {"app.kubernetes.io/name": name, "team": name}
        write(hostile_repo(box) / "app.yaml",
              deployment_yaml("web", "registry.example/web:1.0.0", labels))  # fmt: skip
        owners = yaml.safe_load((box.root / "owners.yml").read_text())
        owners["teams"][name] = {"name": "Hostile team", "contact": "h@example.com"}
        (box.root / "owners.yml").write_text(yaml.safe_dump(owners, allow_unicode=True))
        hostile_env(keys)
        if long:
            return Expect(rules=("limits/cut",), file_prefix=f"{HOSTILE}:",
                          service_prefixes=(name[:100],))  # fmt: skip
        return Expect(services=(name,), pages=(service_page(name), team_page(name)),
                      absent_files=("etc.md", "catalog/etc.md"))  # fmt: skip

    return build


def version_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """5,000 digits as a version label, unquoted (an integer to YAML), promoted from `good`."""
    digits = "1" * 5000
    text = deployment_yaml("sane-service", f"registry.example/sane-service:{digits}")
    text = text.replace("app.kubernetes.io/name: sane-service",
                        f"app.kubernetes.io/name: sane-service\n    app.kubernetes.io/version: {digits}")  # fmt: skip
    write(hostile_repo(box) / "app.yaml", text)
    hostile_env(keys, promotes_from=["good"])
    return Expect(rules=("limits/cut",), file=f"{HOSTILE}:app.yaml", services=("sane-service",))


# -- time bombs: kustomize, regexes, schemas -------------------------------------------------


def kustomize_twice_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """25 levels of kustomizations, each listing the next level twice: 2^25 copies of one base."""
    files = {
        "base/kustomization.yaml": "resources:\n  - deployment.yaml\n",
        "base/deployment.yaml": deployment_yaml("twice", "registry.example/twice:1.0.0"),
    }
    for level in range(25):
        below = "../base" if level == 24 else f"../l{level + 1}"
        files[f"l{level}/kustomization.yaml"] = f"resources:\n  - {below}\n  - {below}\n"
    committed_repo(box, files)
    hostile_env(keys)
    return Expect(rules=("envrepo/kustomize-invalid", "envrepo/kustomize-failed"),
                  file_prefix=f"{HOSTILE}:")  # fmt: skip


def long_http_line_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    committed_repo(
        box, {"environment.yml": env_yml("http://" * 100_000, nexus_url("sane-service", "1.0.0"))}
    )
    hostile_env(keys)
    return Expect(rules=("bundle/not-allowed", "bundle/unknown-url"),
                  file=f"{HOSTILE}:environment.yml", line=BUNDLE_LINE, services=("sane-service",))  # fmt: skip


def dash_one_url_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    url = f"{NEXUS}svc/{'-1' * 50_000}"
    committed_repo(box, {"environment.yml": env_yml(url, nexus_url("sane-service", "1.0.0"))})
    hostile_env(keys)
    return Expect(rules=("bundle/not-found", "bundle/unreadable", "limits/cut"),
                  file=f"{HOSTILE}:environment.yml", line=BUNDLE_LINE, services=("sane-service",))  # fmt: skip


def allof_chain_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """30 definitions, each an allOf of the next one twice: 2^30 paths to the last one, whose
    option without a description must still be found."""
    defs: dict[str, Any] = {}
    for level in range(30):
        ref = {"$ref": f"#/$defs/d{level + 1}"}
        defs[f"d{level}"] = {"allOf": [ref, dict(ref)], "description": f"Level {level}."}
    defs["d30"] = {"type": "object", "properties": {"leaf": {"type": "string"}}}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Chain",
        "description": "A chain of allOf.",
        "$ref": "#/$defs/d0",
        "$defs": defs,
    }
    text = json.dumps(schema, indent=2)
    write(box.root / "schemas" / "chain.schema.json", text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if '"leaf"' in t)
    return Expect(rules=("schema/missing-description",), file="schemas/chain.schema.json",
                  line=line, pages=(schema_page("chain"),))  # fmt: skip


def regex_target_case(box: Sandbox, keys: dict[str, Any]) -> Expect:
    """A patch whose target name is the regex `(a+)+$`, against a service of 5,000 `a`s and a
    `b` (so the regex backtracks, if anything backtracks; and the name is shown cut)."""
    name = "a" * 5000 + "b"
    committed_repo(box, {
        "kustomization.yaml": (
            "resources:\n  - deploy.yaml\npatches:\n  - target:\n      kind: Deployment\n"
            "      name: (a+)+$\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n"
            "        value: 3\n"
        ),
        "deploy.yaml": deployment_yaml(name, "registry.example/regex:1.0.0", {"team": "team-sane"}),
    })  # fmt: skip
    hostile_env(keys)
    return Expect(rules=("limits/cut",), file_prefix=f"{HOSTILE}:", service_prefixes=("a" * 100,))


# -- the cases -------------------------------------------------------------------------------

CASES: dict[str, Builder] = {
    "yaml-billion-laughs": yaml_case(BILLION_LAUGHS, rules=("yaml/too-large",)),
    "yaml-not-utf8": yaml_case(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
        rules=("envrepo/unreadable-file", "yaml/unreadable"), line=FILE_LEVEL,
    ),
    "yaml-bom": bom_case,
    "yaml-tabs": yaml_case(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: tabbed\n",
        rules=("yaml/parse-error",), line=4,
    ),
    "yaml-over-size-limit": huge_case,
    "yaml-duplicate-keys": yaml_case(
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  name: two\n",
        rules=("yaml/duplicate-key",), line=5,
    ),
    "tar-parent-path": tar_case(lambda: with_sane(members={"../x.yaml": b"kind: Secret\n"})),
    "tar-absolute-path": tar_case(lambda: with_sane(members={"/etc/x.yaml": b"kind: Secret\n"})),
    "tar-symlink": tar_case(
        lambda: with_sane(special("k8s/link.yaml", tarfile.SYMTYPE, linkname="/etc/passwd"))
    ),
    "tar-hardlink": tar_case(
        lambda: with_sane(special("k8s/hard.yaml", tarfile.LNKTYPE, linkname="/etc/passwd"))
    ),
    "tar-device": tar_case(
        lambda: with_sane(special("k8s/sda.yaml", tarfile.BLKTYPE, devmajor=8, devminor=0))
    ),
    "tar-100000-members": tar_case(
        lambda: many_members(100_000), rules=("bundle/unsafe", "bundle/too-large", "limits/too-many")
    ),
    "tar-gzip-bomb": tar_case(
        lambda: bomb_with_header(tarfile.REGTYPE, "k8s/bomb.yaml", 128),
        rules=("bundle/unsafe", "bundle/too-large"),
    ),
    "tar-gnu-long-name-huge": tar_case(
        lambda: bomb_with_header(tarfile.GNUTYPE_LONGNAME, "././@LongLink", 96),
        rules=("bundle/unsafe", "bundle/unreadable", "bundle/too-large"),
    ),
    "tar-pax-header-huge": tar_case(
        lambda: bomb_with_header(tarfile.XHDTYPE, "././@PaxHeader", 96),
        rules=("bundle/unsafe", "bundle/unreadable", "bundle/too-large"),
    ),
    "tar-wrong-sha256": tar_case(
        lambda: with_sane(), rules=("bundle/sha256-mismatch",), pinned="0" * 64
    ),
    "http-404": server_case("404", ("bundle/download-failed",)),
    "http-500": server_case("500", ("bundle/download-failed",)),
    "http-hang": server_case("hang", ("bundle/too-slow",)),
    "http-reset": server_case("reset", ("bundle/download-failed",)),
    "http-trickle": server_case("trickle", ("bundle/too-slow",)),
    "http-redirect-other-host": server_case(
        "redirect", ("bundle/not-allowed", "bundle/download-failed"),
        location="http://redirected.example/steal/x-1.0.0.tar.gz",
    ),
    "http-redirect-ftp": server_case(
        "redirect", ("bundle/not-allowed", "bundle/download-failed", "bundle/unknown-url"),
        location="ftp://redirected.example/steal/x-1.0.0.tar.gz",
    ),
    "http-metadata-address": metadata_case,
    "envrepo-missing": missing_case,
    "envrepo-not-git": not_git_case,
    "envrepo-shallow": shallow_case,
    "envrepo-corrupt": corrupt_case,
    "envrepo-other-owner": other_owner_case,
    "envrepo-symlinked-environment-yml": symlinked_env_file_case,
    "envrepo-symlinked-codeowners": symlinked_codeowners_case,
    "envrepo-git-config-programs": textconv_case,
    "name-parent-path": names_case("../../etc"),
    "name-con": names_case("CON"),
    "name-emoji": names_case("\U0001f680\U0001f4a5"),
    "name-300-chars": names_case("n" * 300, long=True),
    "version-5000-digits": version_case,
    "kustomize-base-twice-25-levels": kustomize_twice_case,
    "env-file-100000-http": long_http_line_case,
    "bundle-url-50000-dash-one": dash_one_url_case,
    "schema-allof-chain-30": allof_chain_case,
    "kustomize-target-regex": regex_target_case,
}  # fmt: skip


# -- the assertions --------------------------------------------------------------------------


def _is_url(text: str) -> bool:
    return "://" in text.split("#", 1)[0][:16]


def _expected_line(box: Sandbox, expect: Expect) -> int | str:
    if isinstance(expect.line, tuple):  # ("config", text): the config's line holding text
        _, text = expect.line
        lines = (box.root / "pipeline-docs.yml").read_text().splitlines()
        return next(i for i, line in enumerate(lines, 1) if text in line)
    return expect.line


def assert_finding(box: Sandbox, expect: Expect, findings: list[dict[str, Any]]) -> None:
    if not expect.rules:
        return
    line = _expected_line(box, expect)
    shown = [f"{f['rule']} {f['file']}:{f['line']} {f['message'][:160]}" for f in findings]
    ours = [f for f in findings if f["rule"] in expect.rules]
    assert ours, f"no finding of {expect.rules}; the findings were:\n" + "\n".join(shown)
    if expect.file is not None:
        ours = [f for f in ours if f["file"] == expect.file]
    elif expect.file_prefix is not None:
        ours = [f for f in ours if str(f["file"]).startswith(expect.file_prefix)]
    else:
        ours = [f for f in ours if f["file"]]
    where = expect.file or expect.file_prefix or "a file"
    assert ours, f"no finding of {expect.rules} in {where}; the findings were:\n" + "\n".join(shown)

    def placed(f: dict[str, Any]) -> bool:
        if _is_url(str(f["file"])) or line == FILE_LEVEL:
            return True
        if line == ANY_LINE:
            return isinstance(f["line"], int) and f["line"] >= 1
        return bool(f["line"] == line)

    assert any(placed(f) for f in ours), (
        f"the finding of {expect.rules} in {where} has no line"
        + ("" if line in (ANY_LINE, FILE_LEVEL) else f" {line}")
        + ":\n"
        + "\n".join(shown)
    )


def assert_site(box: Sandbox, expect: Expect) -> None:
    files = generated_files(box.out)
    config = yaml.safe_load((box.root / "pipeline-docs.yml").read_text())
    envs = [environment_page(e["name"]) for e in config["environments"]]
    for page in (
        schema_page("sane"), service_page("sane-service"), *envs, "health.md", "index.md",
        "catalog.json", *expect.pages,
    ):  # fmt: skip
        assert page in files, f"{page} was not generated; the rest of the site must be built"
    for name in expect.absent_files:
        assert name not in files, f"{name} was generated: a name led a page out of its folder"
    for path in files:
        too_long = [part for part in path.split("/") if len(part.encode()) > 255]
        assert not too_long, f"a page file name over 255 bytes: {too_long[0][:80]}..."
    document = json.loads(files["catalog.json"].read_text("utf-8"))
    assert_valid_catalog(document)  # against the schema published beside it
    where = {
        (d["environment"], s["name"]): d.get("version")
        for s in document["services"]
        for d in s["deployments"]
    }
    assert where.get(("good", "sane-service")) == "1.0.0", "the sane environment is not cataloged"
    hostile = {service for env, service in where if env == HOSTILE}
    for service in expect.services:
        assert service in hostile, f"{service!r} is not cataloged in {HOSTILE}: {sorted(hostile)}"
    for prefix in expect.service_prefixes:
        assert any(s.startswith(prefix) for s in hostile), (
            f"no service of {HOSTILE} starts with {prefix[:40]!r}...: {[s[:60] for s in hostile]}"
        )


def run_case(build: Builder, base: Path) -> None:
    """One case from its inputs to its last assertion; raises what the test reports."""
    with sandbox(base) as box:
        keys = sane_site(box)
        expect = build(box, keys)
        make_config(box.root, **keys)
        box.freeze()
        checked = box.run("check", "--format", "json", env=expect.env)
        assert checked.returncode in (0, 1), (
            f"check exited {checked.returncode}:\n{checked.stderr[-3000:]}"
        )
        assert_finding(box, expect, checked.json()["findings"])
        if expect.asked is not None:
            assert expect.asked.paths, "the bundle server the config allows was never asked"
        generated = box.run("generate", "--out", str(box.out), env=expect.env)
        assert generated.returncode == 0, (
            f"generate exited {generated.returncode}:\n{generated.stderr[-3000:]}"
        )
        assert_site(box, expect)
        runs: list[Run] = [checked, generated]
        if expect.absent:
            written = everything_written(runs, box.out)
            for text in expect.absent:
                assert text not in written, f"{text!r} (from outside the repo) was shown"
        for marker in expect.markers:
            assert not marker.exists(), f"git ran a program of the repo's own config: {marker.name}"
        box.assert_untouched()


# Cases run a few at a time (most of a case is waiting: on a subprocess, a deadline, a server),
# each in its own folders with its own proxy and servers; each test reports its own case.
WORKERS = min(4, (os.cpu_count() or 1) + 1)


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[None]]]:
    """The selected cases, started together as soon as the first of them runs."""
    wanted = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_hostile_input" and hasattr(item, "callspec")
    ]
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="hostile") as pool:
        futures = {
            name: pool.submit(run_case, CASES[name], tmp_path_factory.mktemp(name, numbered=True))
            for name in wanted
        }
        yield futures


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_input(case: str, outcomes: dict[str, Future[None]]) -> None:
    outcomes[case].result()  # the case's own failure (hang, bomb, assertion) is raised here
