"""Shared fixtures: the sample copied into a temporary folder, configs written by tests, git
repos with their own identity, tarballs, and the command line run in and out of process."""

from __future__ import annotations

import contextlib
import difflib
import functools
import html.parser
import http.server
import importlib.util
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from generator.cli import main
from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Finding, Model, Option, Schema
from generator.render import render_pages
from generator.render.paths import schema_page
from generator.sources.schemas import read_schemas

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
CORPUS_PRESENT = CORPUS.is_dir()
CORPUS_ABSENT = "../shared/corpus is absent (a fresh clone): the real-world inputs are not here"
needs_corpus = pytest.mark.skipif(not CORPUS_PRESENT, reason=CORPUS_ABSENT)
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_HINT = "pytest tests --update-golden"
SAMPLE_PARTS = ("schemas", "examples", "pipeline-docs.yml", "mkdocs.yml", "docs")
NEXUS = "https://nexus.example.com/repository/k8s-bundles/"


def corpus_cases(
    cases: Callable[[], Iterable[Any]], id: Callable[[Any], str] | None = None
) -> list[Any]:
    """Parameters read from the corpus; without it, one placeholder that skips saying why
    (an empty parameter list would skip with pytest's own words, not ours)."""
    if not CORPUS_PRESENT:
        return [pytest.param(None, id="corpus-absent", marks=needs_corpus)]
    return [pytest.param(case, id=id(case)) if id else case for case in cases()]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the golden files under tests/golden from what the generator makes now",
    )
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        default=False,
        help="rewrite the screenshots under docs/images (the README's) from the built sample",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite golden files (`--update-golden`)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture
def update_screenshots(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite docs/images (`--update-screenshots`)."""
    return bool(request.config.getoption("--update-screenshots"))


def check_golden(golden: Path, actual: str, update: bool) -> None:
    """Compare `actual` with the golden file, or rewrite the file when asked to."""
    if update:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
        return
    if not golden.is_file():
        pytest.fail(f"golden file {golden} is missing; create it with `{UPDATE_HINT}`")
    expected = golden.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{golden} (golden)",
                tofile="generated",
            )
        )
        pytest.fail(f"page differs from {golden}; if intended, run `{UPDATE_HINT}`\n{diff}")


GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@tests.example",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@tests.example",
}


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every git command a test (or the code under test) runs has a known identity."""
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with the tests' identity; fail the test on error."""
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, f"git {' '.join(args)} failed: {done.stderr}"
    return done.stdout


def git_init(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch", "main")
    return path


def git_commit(path: Path, message: str) -> str:
    """Commit everything in the work tree; return the commit id."""
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "--message", message)
    return git(path, "rev-parse", "HEAD").strip()


def write(path: Path, text: str) -> Path:
    """Write a text file (dedented), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def make_config(tmp_path: Path, name: str = "pipeline-docs.yml", **keys: Any) -> Path:
    """A pipeline-docs config in `tmp_path` with these keys (a title and a cache in tmp)."""
    data = {"title": "Test pipeline", "cache": ".cache", **keys}
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def copy_sample(dest: Path) -> Path:
    """The bundled sample's inputs copied into `dest`; returns its pipeline-docs.yml."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in SAMPLE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy2(source, dest / part)
    return dest / "pipeline-docs.yml"


def tarball(
    members: dict[str, bytes] | None = None, extra: tuple[tarfile.TarInfo, ...] = ()
) -> bytes:
    """A tar.gz made in memory of regular files (name -> bytes) and any other members."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data in (members or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info)
    return raw.getvalue()


def deployment_yaml(name: str, image: str, labels: dict[str, str] | None = None) -> str:
    """A minimal Kubernetes Deployment as YAML text."""
    document = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name, **(labels or {})}},
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": name, "image": image}]}},
        },
    }
    return yaml.safe_dump(document, sort_keys=False)


def invoke(*args: str) -> Result:
    """The command line, in process; stdout and stderr kept apart."""
    result = CliRunner().invoke(main, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m generator ARGS` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture
def sample_config(tmp_path: Path) -> Path:
    """A private copy of the sample, for tests that edit it."""
    return copy_sample(tmp_path / "sample")


@pytest.fixture(scope="session")
def shared_sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One copy of the sample for every test that only reads it (its env repos made once)."""
    config = copy_sample(tmp_path_factory.mktemp("shared") / "sample")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in GIT_IDENTITY.items():
            patch.setenv(name, value)
        collect(load_config(config))  # makes the sample's env repos under its cache
        yield config


@pytest.fixture(scope="session")
def sample_model(shared_sample: Path) -> Model:
    return collect(load_config(shared_sample))


@pytest.fixture(scope="session")
def sample_pages(shared_sample: Path, sample_model: Model) -> dict[str, str]:
    return generate(load_config(shared_sample), sample_model)


@pytest.fixture(scope="session")
def built_sample_site(shared_sample: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The sample's site, built once by `pipeline-docs build` (a real, strict MkDocs build)."""
    site = shared_sample.parent.parent / "site"
    done = run_cli(
        "build", "--config", str(shared_sample), "--site-dir", str(site), cwd=shared_sample.parent
    )
    return done, site


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request to stderr."""

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served_site(built_sample_site: tuple[subprocess.CompletedProcess[str], Path]) -> Iterator[str]:
    """The built sample site on a local HTTP server; yields its base URL."""
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    with serve_folder(site) as base:
        yield base


@contextlib.contextmanager
def serve_folder(site: Path) -> Iterator[str]:
    """A folder on a local HTTP server on 127.0.0.1; yields its base URL."""
    with serving(functools.partial(QuietHandler, directory=str(site))) as base:
        yield base


class _SiteServer(http.server.ThreadingHTTPServer):
    # a browser opens many connections at once: the default backlog of 5 can overflow, and
    # the kernel then resets one (a console error, `net::ERR_CONNECTION_RESET`)
    request_queue_size = 128


@contextlib.contextmanager
def serving(handler: Any, daemon_threads: bool = False) -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 answering with `handler`; yields its base URL. With
    `daemon_threads`, closing it does not wait for a request still being answered."""
    server = _SiteServer(("127.0.0.1", 0), handler)
    server.daemon_threads = daemon_threads
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium() -> str:
    """Chromium's executable; a browser test skips, saying why, only when it cannot run."""
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).is_file():
        pytest.skip("Chromium not installed (Debian package chromium)")
    if importlib.util.find_spec("playwright") is None:
        pytest.skip("Playwright not installed (pip package playwright)")
    return executable


@pytest.fixture
def browser(chromium: str) -> Iterator[Any]:
    """Chromium through Playwright, closed after the test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass(frozen=True)
class SchemaPages:
    """The schemas of a folder as the generator reads them, and the page of each."""

    schemas: dict[str, Schema]
    findings: list[Finding]
    pages: dict[str, str]  # by schema id

    def options(self, schema_id: str) -> dict[str, Option]:
        return {o.path: o for o in self.schemas[schema_id].options}


def render_schema_folder(folder: Path, root: Path | None = None) -> SchemaPages:
    """Read every schema of `folder` in one `read_schemas` call and render their pages.

    Files are named relative to `root` (default: `folder`), as a config's folder would show them.
    """
    base = root or folder
    schemas, findings = read_schemas(folder, lambda path: path.relative_to(base).as_posix())
    pages = render_pages(Model(title="Test pipeline", schemas=tuple(schemas)))
    return SchemaPages(
        schemas={s.id: s for s in schemas},
        findings=findings,
        pages={s.id: pages[schema_page(s.id)] for s in schemas},
    )


def heading_label(page: str, anchor: str) -> str | None:
    """The label of the option heading with this anchor (`<hN id="..." markdown>label</hN>`)."""
    found = re.search(rf'<h([1-6]) id="{re.escape(anchor)}" markdown>(.*?)</h\1>', page)
    return found.group(2) if found else None


def option_section(page: str, anchor: str) -> str:
    """What a page shows under one option's heading, up to the next heading."""
    start = page.index(f'id="{anchor}"')
    following = re.search(r"^<h[1-6] |^#+ ", page[start:], flags=re.MULTILINE)
    return page[start : start + following.start()] if following else page[start:]


class HtmlTables(html.parser.HTMLParser):
    """Rows of every table of an HTML text, as lists of cell texts; and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="session")
def many_envs_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The eleven-environment project's site, built once by `pipeline-docs build`."""
    from manyenvs import make_many_envs_project

    folder = tmp_path_factory.mktemp("manyenvs")
    config = make_many_envs_project(folder / "project")
    site = folder / "site"
    # findings on purpose (overlayrepo promotes along a line, not the graph; one service has no
    # owner): the site is built whatever they are
    done = run_cli(
        "build", "--config", str(config), "--site-dir", str(site), "--fail-on", "never",
        cwd=config.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-5000:]
    return site


@pytest.fixture(scope="module")
def many_envs_site(many_envs_built: Path) -> Iterator[str]:
    """The eleven-environment site on a local HTTP server; yields its base URL. Per module:
    a server thread left running would keep later tests from forking (tests/test_forked.py)."""
    with serve_folder(many_envs_built) as base:
        yield base
