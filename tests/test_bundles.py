"""Manifest bundles: packed reproducibly, read in memory, refused when unsafe, verified by sha256."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NEXUS, REPO, deployment_yaml, invoke, make_config, tarball, write
from hypothesis import given
from hypothesis import strategies as st

from generator.bundlepack import pack_bundle
from generator.collect import collect
from generator.config import load_config
from generator.limits import Limits
from generator.model import Severity
from generator.sources.bundles import read_bundle, url_facts
from generator.sources.download import mirror_path
from generator.sources.tarball import read_members

SOURCES = REPO / "examples" / "bundles"
MIRROR = REPO / "examples" / "nexus"
URL = NEXUS + "cart/2.0.0/cart-2.0.0.tar.gz"


def bundle_sources() -> list[Path]:
    return sorted(p for p in SOURCES.glob("*/*") if p.is_dir())


def mirrored_tarballs() -> list[Path]:
    return sorted(MIRROR.glob("*/*/*.tar.gz"))


@pytest.mark.parametrize("source", bundle_sources(), ids=lambda p: f"{p.parent.name}-{p.name}")
def test_packing_a_bundle_source_gives_the_mirrored_tarball_byte_for_byte(source: Path) -> None:
    service, version = source.parent.name, source.name
    tarball_path = MIRROR / service / version / f"{service}-{version}.tar.gz"
    assert tarball_path.is_file(), f"{source} has no tarball in examples/nexus/"
    assert pack_bundle(source) == tarball_path.read_bytes()


def test_every_tarball_has_a_source_and_every_source_a_tarball() -> None:
    sources = {(p.parent.name, p.name) for p in bundle_sources()}
    tarballs = {(p.parent.parent.name, p.parent.name) for p in mirrored_tarballs()}
    assert len(sources) >= 9
    assert sources == tarballs
    for path in mirrored_tarballs():
        assert path.name == f"{path.parent.parent.name}-{path.parent.name}.tar.gz"


def test_packing_is_independent_of_file_times_and_modes(tmp_path: Path) -> None:
    source = REPO / "examples" / "bundles" / "payments-api" / "1.4.2"
    copy = tmp_path / "payments-api"
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = copy / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
            target.chmod(0o600)
    assert pack_bundle(copy) == pack_bundle(source)
    with tarfile.open(fileobj=io.BytesIO(pack_bundle(copy))) as tar:
        names = tar.getnames()
    assert names == sorted(names)
    assert "bundle.yml" in names


def test_a_packed_bundle_reads_back_with_its_facts_and_workloads() -> None:
    source = REPO / "examples" / "bundles" / "payments-api" / "1.4.2"
    url = NEXUS + "payments-api/1.4.2/payments-api-1.4.2.tar.gz"
    bundle, findings = read_bundle(pack_bundle(source), url, "environment.yml", 4)
    assert findings == []
    assert bundle.readable
    assert bundle.facts["service"] == "payments-api"
    assert bundle.facts["version"] == "1.4.2"
    assert bundle.facts["owner"] == "team-payments"
    assert [w.kind for w in bundle.workloads] == ["Deployment"]


def test_a_bundle_without_bundle_yml_is_a_finding_and_its_facts_come_from_the_url() -> None:
    data = tarball({"manifests/deployment.yaml": deployment_yaml("web", "nginx:1").encode()})
    bundle, findings = read_bundle(data, URL, "envs/dev/environment.yml", 7)
    assert [(f.rule, f.severity, f.file, f.line) for f in findings] == [
        ("bundle/missing-bundle-yml", Severity.ERROR, "envs/dev/environment.yml", 7)
    ]
    assert bundle.readable
    assert bundle.facts == {}
    assert len(bundle.workloads) == 1
    assert url_facts(URL) == {"service": "cart", "version": "2.0.0"}


def _symlink() -> tarfile.TarInfo:
    info = tarfile.TarInfo("manifests/passwd.yaml")
    info.type = tarfile.SYMTYPE
    info.linkname = "/etc/passwd"
    return info


def _hardlink() -> tarfile.TarInfo:
    info = tarfile.TarInfo("manifests/other.yaml")
    info.type = tarfile.LNKTYPE
    info.linkname = "bundle.yml"
    return info


def _device() -> tarfile.TarInfo:
    info = tarfile.TarInfo("dev/null")
    info.type = tarfile.CHRTYPE
    return info


@pytest.mark.parametrize(
    ("members", "extra", "member"),
    [
        ({"../x": b"kind: Secret\n"}, (), "../x"),
        ({"manifests/../../x.yaml": b"kind: Secret\n"}, (), "manifests/../../x.yaml"),
        ({"/etc/cron.d/x": b"* * * * * root id\n"}, (), "/etc/cron.d/x"),
        ({}, (_symlink(),), "manifests/passwd.yaml"),
        ({}, (_hardlink(),), "manifests/other.yaml"),
        ({}, (_device(),), "dev/null"),
    ],
    ids=["parent", "nested-parent", "absolute", "symlink", "hardlink", "device"],
)
def test_unsafe_members_are_refused(
    members: dict[str, bytes], extra: tuple[tarfile.TarInfo, ...], member: str
) -> None:
    safe = {"bundle.yml": b"service: cart\nversion: 2.0.0\nowner: team-orders\n"}
    data = tarball({**safe, **members}, extra)
    bundle, findings = read_bundle(data, URL, "environment.yml", 3)
    unsafe = [f for f in findings if f.rule == "bundle/unsafe"]
    assert len(unsafe) == 1
    assert unsafe[0].severity is Severity.ERROR
    assert repr(member) in unsafe[0].message
    assert unsafe[0].line == 3
    # the safe part of the bundle is still read
    assert bundle.facts["service"] == "cart"


def test_a_corrupt_gzip_is_unreadable() -> None:
    good = pack_bundle(REPO / "examples" / "bundles" / "cart" / "2.0.0")
    corrupt = good[:10] + bytes(b ^ 0xFF for b in good[10:60]) + good[60:]
    bundle, findings = read_bundle(corrupt, URL, "environment.yml", 5)
    assert [f.rule for f in findings] == ["bundle/unreadable"]
    assert findings[0].line == 5
    assert not bundle.readable


def test_a_file_that_is_no_tarball_at_all_is_unreadable() -> None:
    bundle, findings = read_bundle(b"<html>404 Not Found</html>", URL, "environment.yml", 5)
    assert [f.rule for f in findings] == ["bundle/unreadable"]
    assert not bundle.readable


@pytest.mark.parametrize(
    ("url", "facts"),
    [
        (
            NEXUS + "payments-api/1.4.2/payments-api-1.4.2.tar.gz",
            {"service": "payments-api", "version": "1.4.2"},
        ),
        (
            NEXUS + "orders/3f9c2ab/orders-3f9c2ab.tar.gz",
            {"service": "orders", "version": "3f9c2ab"},
        ),
        (NEXUS + "aiproj/1.10/aiproj-1.10.tar.gz", {"service": "aiproj", "version": "1.10"}),
        (
            "https://files.test/bundles/my-svc-v2.3.4.tgz",
            {"service": "my-svc", "version": "v2.3.4"},
        ),
        (
            "https://files.test/bundles/my-svc-1.2.3-rc.1.tar.gz",
            {"service": "my-svc", "version": "1.2.3-rc.1"},
        ),
        ("https://files.test/b/worker-abc1234.tar", {"service": "worker", "version": "abc1234"}),
        (
            "https://files.test/b/cart/2.0.0/cart-2.0.0.tar.gz?download=1",
            {"service": "cart", "version": "2.0.0"},
        ),
        (
            "https://files.test/b/some%20thing/1.0/some%20thing-1.0.tar.gz",
            {"service": "some thing", "version": "1.0"},
        ),
        ("https://files.test/latest.tar.gz", {"service": "latest"}),
    ],
)
def test_url_facts_guess_service_and_version(url: str, facts: dict[str, str]) -> None:
    assert url_facts(url) == facts


def test_a_mirror_maps_urls_to_files_and_refuses_to_leave_its_folder(tmp_path: Path) -> None:
    mirrors = ((NEXUS, tmp_path / "nexus"), (NEXUS + "special/", tmp_path / "special"))
    assert mirror_path(NEXUS + "cart/2.0.0/cart-2.0.0.tar.gz", mirrors) == (
        tmp_path / "nexus" / "cart" / "2.0.0" / "cart-2.0.0.tar.gz"
    )
    assert mirror_path(NEXUS + "special/x.tar.gz", mirrors) == tmp_path / "special" / "x.tar.gz"
    assert mirror_path(NEXUS + "../../etc/passwd", mirrors) is None
    assert mirror_path(NEXUS + "cart/%2E%2E/%2E%2E/secret.tar.gz", mirrors) is None
    assert mirror_path("https://elsewhere.test/cart.tar.gz", mirrors) is None


def _env_with_pinned_bundle(tmp_path: Path, digest: str) -> Path:
    source = REPO / "examples" / "bundles" / "cart" / "2.0.0"
    mirror = tmp_path / "mirror"
    (mirror / "cart" / "2.0.0").mkdir(parents=True)
    (mirror / "cart" / "2.0.0" / "cart-2.0.0.tar.gz").write_bytes(pack_bundle(source))
    write(
        tmp_path / "envs" / "prod" / "environment.yml",
        f"""
        name: prod
        bundles:
          - url: {URL}
            sha256: {digest}
        """,
    )
    return make_config(
        tmp_path,
        environments=[{"name": "prod", "repo": "envs/prod"}],
        bundles={"mirrors": {NEXUS: "mirror/"}},
    )


def test_a_sha256_mismatch_is_an_error_and_the_service_stays_in_the_catalog(tmp_path: Path) -> None:
    # the digest of another tarball: someone re-uploaded the bundle since it was pinned
    config_file = _env_with_pinned_bundle(tmp_path, hashlib.sha256(b"earlier upload").hexdigest())
    model = collect(load_config(config_file))
    mismatch = [f for f in model.findings if f.rule == "bundle/sha256-mismatch"]
    assert len(mismatch) == 1
    assert mismatch[0].severity is Severity.ERROR
    assert mismatch[0].file == "prod:environment.yml"
    assert mismatch[0].line == 3
    [deployment] = model.environments[0].deployments
    assert (deployment.service, deployment.version) == ("cart", "2.0.0")
    assert deployment.verified is False
    assert deployment.problem == "sha256 mismatch"
    catalog = json.loads(invoke("catalog", "--config", str(config_file), "--format", "json").stdout)
    [service] = catalog["services"]
    assert service["name"] == "cart"
    assert service["deployments"][0]["sha256_verified"] is False
    assert service["deployments"][0]["problem"] == "sha256 mismatch"


def test_a_matching_sha256_marks_the_bundle_verified(tmp_path: Path) -> None:
    digest = hashlib.sha256(
        pack_bundle(REPO / "examples" / "bundles" / "cart" / "2.0.0")
    ).hexdigest()
    model = collect(load_config(_env_with_pinned_bundle(tmp_path, digest)))
    assert [f for f in model.findings if f.rule.startswith("bundle/")] == []
    [deployment] = model.environments[0].deployments
    assert deployment.verified is True
    assert deployment.problem == ""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def bundle_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a folder of bundles."""
    root = tmp_path / "served"
    root.mkdir()

    def handler(*args: object, **kwargs: object) -> _Quiet:
        return _Quiet(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_bundle_is_downloaded_verified_and_kept_in_the_cache(
    tmp_path: Path, bundle_server: tuple[str, Path]
) -> None:
    base, served = bundle_server
    data = pack_bundle(REPO / "examples" / "bundles" / "orders" / "3f9c2ab")
    (served / "orders-3f9c2ab.tar.gz").write_bytes(data)
    write(
        tmp_path / "envs" / "dev" / "environment.yml",
        f"""
        name: dev
        bundles:
          - url: {base}orders-3f9c2ab.tar.gz
            sha256: {hashlib.sha256(data).hexdigest()}
          - {base}missing-1.0.0.tar.gz
        """,
    )
    config_file = make_config(
        tmp_path,
        environments=[{"name": "dev", "repo": "envs/dev"}],
        bundles={"cache": "bundle-cache", "allow": [base]},
    )
    model = collect(load_config(config_file))
    deployments = {d.service: d for d in model.environments[0].deployments}
    assert deployments["orders"].version == "3f9c2ab"
    assert deployments["orders"].verified is True
    failed = [f for f in model.findings if f.rule == "bundle/download-failed"]
    assert [(f.file, f.line) for f in failed] == [("dev:environment.yml", 5)]
    # nothing is lost: the bundle that could not be downloaded is still in the catalog
    assert deployments["missing"].version == "1.0.0"
    assert deployments["missing"].problem == "unreadable"
    cached = list((tmp_path / "bundle-cache").iterdir())
    assert len(cached) == 1
    assert cached[0].read_bytes() == data

    # once cached, the bundle is read without the server
    (served / "orders-3f9c2ab.tar.gz").unlink()
    again = collect(load_config(config_file))
    assert {d.service: d.version for d in again.environments[0].deployments}["orders"] == "3f9c2ab"


# --- the bounded tar reader reads what tarfile reads --------------------------------------------

OLD_VERSION_IN_NAME = re.compile(r"^(?P<service>.+?)-(?P<version>v?\d[\w.+-]*|[0-9a-f]{7,40})$")


def _tarfile_members(data: bytes) -> dict[str, bytes]:
    """Regular files as Python's tarfile reads them (trusted input only: it has no limits)."""
    found = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
        for info in tar:
            extracted = tar.extractfile(info) if info.isfile() else None
            if extracted is not None:
                found[info.name] = extracted.read()
    return found


def _packed(fmt: int, mode: str, members: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode=mode, format=fmt) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


LONG = "manifests/" + "/".join(["a-rather-long-folder-name"] * 6) + "/deployment.yaml"
ODD = {
    "bundle.yml": b"service: odd\n",
    LONG: b"kind: Deployment\n" * 100,
    "manifests/caf\u00e9-\u00fcml\u00e4ut.yaml": b"kind: ConfigMap\n",
    "./manifests/empty.yaml": b"",
    "manifests/exactly-512.bin": bytes(512),
}


@pytest.mark.parametrize("path", mirrored_tarballs(), ids=lambda p: p.name)
def test_the_reader_reads_every_mirrored_tarball_as_tarfile_does(path: Path) -> None:
    data = path.read_bytes()
    members, findings = read_members(data, URL, "environment.yml", 1)
    assert findings == []
    assert members == _tarfile_members(data)


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
@pytest.mark.parametrize("mode", ["w", "w:gz", "w:bz2", "w:xz"])
def test_the_reader_reads_long_names_in_every_format_and_compression(fmt: int, mode: str) -> None:
    members = dict(ODD)
    if fmt == tarfile.USTAR_FORMAT:  # ustar has no long names, only a 155-byte prefix; ASCII
        members = {k: v for k, v in members.items() if k.isascii() and len(k) < 200}
        members["manifests/" + "p" * 120 + "/" + "n" * 90 + ".yaml"] = b"kind: Service\n"
    data = _packed(fmt, mode, members)
    read, findings = read_members(data, URL, "environment.yml", 1)
    assert findings == []
    expected = {k.removeprefix("./"): v for k, v in _tarfile_members(data).items()}
    assert read == expected
    assert set(read) == {k.removeprefix("./") for k in members}


def test_a_member_over_the_member_limit_is_skipped_and_the_rest_is_read() -> None:
    data = tarball({"big.yaml": bytes(5000), "bundle.yml": b"service: cart\n"})
    members, findings = read_members(data, URL, "environment.yml", 2, Limits(member_bytes=4096))
    assert list(members) == ["bundle.yml"]
    assert [(f.rule, f.line) for f in findings] == [("bundle/unsafe", 2)]
    assert "'big.yaml' is 5000 bytes" in findings[0].message


@given(st.text(alphabet="ab1f9v-.+_@ ", max_size=24))
def test_the_version_guess_splits_a_name_as_the_old_expression_did(name: str) -> None:
    old = OLD_VERSION_IN_NAME.match(name)
    expected = {"service": old["service"], "version": old["version"]} if old else None
    guessed = url_facts(f"https://files.test/b/{name}.tar.gz")
    if expected is not None:
        assert guessed == expected
    else:
        assert "version" not in guessed


def test_a_mirror_prefix_matches_the_parsed_url_not_its_text(tmp_path: Path) -> None:
    mirrors = (("https://nexus.example.com", tmp_path / "nexus"),)
    assert mirror_path("https://nexus.example.com.evil.org/x.tar.gz", mirrors) is None
    assert mirror_path("https://nexus.example.com@evil.org/x.tar.gz", mirrors) is None
    assert mirror_path("https://NEXUS.example.com:443/b/x.tar.gz", mirrors) == (
        tmp_path / "nexus" / "b" / "x.tar.gz"
    )
    other = (("s3://bucket/bundles/", tmp_path / "s3"),)  # no client requests it: by its text
    assert (
        mirror_path("s3://bucket/bundles/a/x.tar.gz?v=1", other)
        == tmp_path / "s3" / "a" / "x.tar.gz"
    )
