"""The engines (issue 20): `build --engine mkdocs|properdocs` from the same mkdocs.yml, and
`generate --out DIR` with the mkdocs.yml it writes beside DIR, which Zensical (no MkDocs
plugin) and MkDocs build. MkDocs and ProperDocs are installed with the project; Zensical is
optional here, pinned and installed by .ci/run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import GIT_IDENTITY, REPO, copy_sample, run_cli, serve_folder

ZENSICAL = shutil.which("zensical", path=str(Path(sys.executable).parent)) or shutil.which(
    "zensical"
)
needs_zensical = pytest.mark.skipif(
    ZENSICAL is None, reason="Zensical is not installed (pip install zensical==0.0.73)"
)


def _pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("index.html")}


def _generator(site: Path) -> str:
    html = (site / "index.html").read_text(encoding="utf-8")
    start = html.index('<meta name="generator" content="') + len('<meta name="generator" content="')
    return html[start : html.index('"', start)]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_sample(tmp_path_factory.mktemp("engines") / "project")


def _ok(*args: str) -> subprocess.CompletedProcess[str]:
    """`pipeline-docs ARGS`, which must succeed."""
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def by_mkdocs(sample: Path) -> Path:
    site = sample.parent / "site-mkdocs"
    _ok("build", "--config", str(sample), "--site-dir", str(site))
    return site


def test_properdocs_builds_the_sample_from_the_same_mkdocs_yml(
    sample: Path, by_mkdocs: Path
) -> None:
    site = sample.parent / "site-properdocs"
    done = _ok("build", "--config", str(sample), "--site-dir", str(site), "--engine", "properdocs")
    said = done.stderr.rstrip().splitlines()[-1]
    assert said.startswith(f"built {len(_pages(by_mkdocs))} pages into "), said
    assert "ProperDocs" in _generator(site) and "ProperDocs" not in _generator(by_mkdocs)
    assert _pages(site) == _pages(by_mkdocs)
    for same in ("catalog.json", "feed.xml", "assets/pipeline-docs/catalog.js"):
        assert (site / same).read_bytes() == (by_mkdocs / same).read_bytes(), same
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    titles = {doc["title"] for doc in index["docs"]}
    assert "payments-api" in titles  # a service page, found by search
    page = (site / "catalog" / "services" / "payments-api" / "index.html").read_text("utf-8")
    assert 'class="pd-built"' in page and "feed.xml" in page  # the package's theme partial


def _generate(sample: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return _ok("generate", "--config", str(sample), "--out", str(out))


def test_generate_writes_a_mkdocs_yml_beside_its_output_with_relative_paths(
    tmp_path: Path, sample: Path
) -> None:
    out = tmp_path / "built" / "docs"
    done = _generate(sample, out)
    file = tmp_path / "built" / "mkdocs.yml"
    assert f"{file.as_posix()} beside it builds them" in done.stderr.splitlines()[-1]
    text = file.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["docs_dir"] == "docs" and data["site_dir"] == "site"
    assert str(tmp_path) not in text and str(REPO) not in text  # nothing of this machine
    assert "plugins" not in data  # Zensical runs none: the pages are all there already
    # MkDocs builds it as it is
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(file)],
        capture_output=True, text=True, check=False, env={**os.environ, **GIT_IDENTITY},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _pages(tmp_path / "built" / "site") >= {"index.html", "catalog/index.html"}
    # a second run writes it again the same; a mkdocs.yml it did not write is left alone
    _generate(sample, out)
    assert file.read_text(encoding="utf-8") == text
    file.write_text("site_name: mine\n", encoding="utf-8")
    done = _generate(sample, out)
    assert file.read_text(encoding="utf-8") == "site_name: mine\n"
    assert "no mkdocs.yml written beside it: mkdocs.yml there is not one it wrote" in done.stderr


def test_the_generated_mkdocs_yml_keeps_a_hostile_title_a_string(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    text = config.read_text(encoding="utf-8")
    title = 'x"\n]: {a: !!python/object:os.system b}'
    config.write_text(
        "\n".join(f"title: {json.dumps(title)}" if line.startswith("title:") else line
                  for line in text.splitlines()) + "\n", encoding="utf-8",
    )  # fmt: skip
    _generate(config, tmp_path / "out" / "docs")
    data = yaml.safe_load((tmp_path / "out" / "mkdocs.yml").read_text(encoding="utf-8"))
    assert isinstance(data["site_name"], str) and "python/object" in data["site_name"]


def _zensical(folder: Path) -> subprocess.CompletedProcess[str]:
    assert ZENSICAL is not None
    return subprocess.run(
        [ZENSICAL, "build", "-f", "mkdocs.yml"], cwd=folder, capture_output=True, text=True,
        check=False, timeout=600, env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip


@needs_zensical
def test_zensical_builds_the_generate_output_of_the_sample(tmp_path: Path, sample: Path) -> None:
    _generate(sample, tmp_path / "docs")
    done = _zensical(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    site = tmp_path / "site"
    generated = {
        p.relative_to(tmp_path / "docs").as_posix() for p in (tmp_path / "docs").rglob("*.md")
    }
    for page in generated:  # every generated page is a page of the site
        stem = page[: -len(".md")]
        target = (
            f"{stem[: -len('index')]}index.html" if stem.endswith("index") else f"{stem}/index.html"
        )
        assert (site / target).is_file(), page
    for same in ("catalog.json", "build.json", "feed.xml"):
        assert (site / same).read_bytes() == (tmp_path / "docs" / same).read_bytes()
    search = json.loads((site / "search.json").read_text(encoding="utf-8"))
    assert "payments-api" in json.dumps(search)


SERVICES = 40


@pytest.fixture(scope="module")
def organisation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic organisation of the benchmark's (40 services, 3 environments); its config."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    import org as made  # the benchmark's organisation generator
    import scale

    root = tmp_path_factory.mktemp("engines-org") / "org"
    sizes = made.Sizes(services=SERVICES, environments=3, commits=80, options=20, templates=2,
                       fragments=3)  # fmt: skip
    scale.prepare_org(root, sizes, "environment")
    return root / "pipeline-docs.yml"


def _service_pages(site: Path) -> int:
    return len(list((site / "catalog" / "services").glob("*/index.html")))


@pytest.mark.parametrize("engine", ["mkdocs", "properdocs"])
def test_mkdocs_and_properdocs_build_a_synthetic_organisation(
    organisation: Path, engine: str
) -> None:
    site = organisation.parent / f"site-{engine}"
    _ok("build", "--config", str(organisation), "--site-dir", str(site), "--engine", engine,
        "--fail-on", "never")  # fmt: skip
    assert _service_pages(site) >= SERVICES
    assert ("ProperDocs" in _generator(site)) == (engine == "properdocs")


@needs_zensical
def test_zensical_builds_a_synthetic_organisation(organisation: Path) -> None:
    _generate(organisation, organisation.parent / "generated")
    done = _zensical(organisation.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _service_pages(organisation.parent / "site") >= SERVICES


def test_generate_writes_no_mkdocs_yml_beside_the_project_itself(tmp_path: Path) -> None:
    config = copy_sample(tmp_path / "project")
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_cli("generate", "--config", str(config), "--out", ".", cwd=tmp_path / "project")
    assert done.returncode == 0, done.stderr
    assert (
        "no mkdocs.yml written beside it: the output folder is (or holds) the project"
        in (done.stderr.splitlines()[-1])
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing beside the project


@needs_zensical
@pytest.mark.browser
def test_a_zensical_page_shows_the_build_stamp_without_the_theme_partial(
    browser: Any, tmp_path: Path, sample: Path
) -> None:
    _generate(sample, tmp_path / "docs")
    assert _zensical(tmp_path).returncode == 0
    site = tmp_path / "site"
    html = (site / "catalog" / "index.html").read_text(encoding="utf-8")
    assert "pd-built" not in html  # no partial: the script makes the line
    build = json.loads((site / "build.json").read_text(encoding="utf-8"))
    with serve_folder(site) as base:
        page = browser.new_context().new_page()
        page.goto(f"{base}catalog/")
        stamp = page.locator(".pd-built")
        stamp.wait_for(state="visible")
        assert build["built"][:16].replace("T", " ") in stamp.inner_text()
        assert page.locator(".pd-stale").count() == 0
        page.context.close()
        # read two days after the build, the page says its data is stale
        late = browser.new_context().new_page()
        built = datetime.strptime(build["built"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        late.clock.set_fixed_time(built + timedelta(days=2))
        late.goto(f"{base}catalog/")
        warning = late.locator(".pd-stale")
        warning.wait_for(state="visible")
        assert "older than 24 hours" in warning.inner_text()
        late.context.close()


def test_properdocs_is_installed_with_the_project() -> None:
    assert importlib.util.find_spec("properdocs") is not None
