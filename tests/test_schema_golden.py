"""Golden files: the sample schemas' reference pages, byte for byte.

A change to a page shows up as a diff here. When the change is intended, rewrite the golden
files with `pytest tests/test_schema_golden.py --update-golden` and review them in the commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GOLDEN, REPO, SchemaPages, check_golden, render_schema_folder

from generator.ids import schema_id
from generator.render.paths import schema_page

SAMPLE_FILES = sorted((REPO / "schemas").glob("*.schema.json"))


@pytest.fixture(scope="module")
def sample() -> SchemaPages:
    return render_schema_folder(REPO / "schemas", root=REPO)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.name for p in SAMPLE_FILES])
def test_a_sample_schema_page_matches_its_golden_file(
    sample: SchemaPages, path: Path, update_golden: bool
) -> None:
    sid = schema_id(path)
    page = schema_page(sid)
    assert page == f"reference/schemas/{sid}.md"
    check_golden(GOLDEN / page, sample.pages[sid], update_golden)


def test_every_golden_schema_page_belongs_to_a_sample_schema() -> None:
    pages = {schema_page(schema_id(p)) for p in SAMPLE_FILES}
    golden = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.glob("reference/schemas/*.md")}
    assert golden == pages


def test_the_pages_are_the_same_on_every_run(sample: SchemaPages) -> None:
    again = render_schema_folder(REPO / "schemas", root=REPO)
    assert again.pages == sample.pages


def test_a_missing_golden_file_fails_and_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="--update-golden") as failed:
        check_golden(tmp_path / "nothing.md", "# page\n", update=False)
    assert "missing" in str(failed.value)
    assert not (tmp_path / "nothing.md").exists()


def test_a_different_page_fails_with_a_diff(tmp_path: Path) -> None:
    golden = tmp_path / "page.md"
    golden.write_text("# page\nold line\n", encoding="utf-8")
    with pytest.raises(pytest.fail.Exception, match="--update-golden") as failed:
        check_golden(golden, "# page\nnew line\n", update=False)
    assert "-old line" in str(failed.value)
    assert "+new line" in str(failed.value)


def test_update_golden_rewrites_the_file(tmp_path: Path) -> None:
    golden = tmp_path / "reference" / "page.md"
    check_golden(golden, "# page\n", update=True)
    assert golden.read_text(encoding="utf-8") == "# page\n"
    check_golden(golden, "# page\n", update=False)  # and now it matches
