"""The MkDocs site: dead links and anchors in guides fail the build as they fail `check`, builds
are otherwise strict, and the built site works in a browser."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, run_cli


def test_a_guide_linking_to_a_missing_option_fails_the_build(sample_config: Path) -> None:
    guide = sample_config.parent / "docs" / "guides" / "onboarding.md"
    text = guide.read_text(encoding="utf-8")
    assert "../reference/schemas/service.md#deploy.replicas" in text
    guide.write_text(
        text.replace(
            "../reference/schemas/service.md#deploy.replicas",
            "../reference/schemas/service.md#no-such-option",
        ),
        encoding="utf-8",
    )
    site = sample_config.parent / "site-out"
    done = run_cli(
        "build", "--config", str(sample_config), "--site-dir", str(site), cwd=sample_config.parent
    )
    assert done.returncode == 1
    assert "no-such-option" in done.stderr
    assert "docs/guides/onboarding.md" in done.stderr
    assert "[docs/dead-link]" in done.stderr
    assert "Traceback" not in done.stderr


DEAD_LINKS = """
## Links

An [option that is not](../reference/schemas/service.md#no-such-option), and
[a page that is not](../reference/no-such-page.md).
"""


def add_to_the_ci_guide(root: Path, text: str) -> None:
    """Text at the end of a guide of the sample (one in the nav: a guide the nav lacks is a
    warning of MkDocs that no finding reports)."""
    guide = root / "docs" / "guides" / "ci.md"
    guide.write_text(guide.read_text(encoding="utf-8") + text, encoding="utf-8")


# the sample has warnings (drift) and no error: with dead links as errors, or as notes
EXPECTED = {
    ("error", "error"): 1, ("error", "warning"): 1, ("error", "info"): 1, ("error", "never"): 0,
    ("info", "error"): 0, ("info", "warning"): 1, ("info", "info"): 1, ("info", "never"): 0,
}  # fmt: skip


@pytest.mark.parametrize("fail_on", ["error", "warning", "info", "never"])
@pytest.mark.parametrize("severity", ["error", "info"])
def test_build_exits_as_check_does_at_every_fail_on(
    sample_config: Path, severity: str, fail_on: str
) -> None:
    root = sample_config.parent
    add_to_the_ci_guide(root, DEAD_LINKS)
    if severity != "error":
        text = sample_config.read_text(encoding="utf-8")
        sample_config.write_text(text + f"checks:\n  docs/dead-link: {severity}\n", "utf-8")
    args = ["--config", str(sample_config), "--fail-on", fail_on]
    checked = run_cli("check", *args, cwd=root)
    built = run_cli("build", *args, "--site-dir", str(root / "out"), cwd=root)
    assert checked.returncode == EXPECTED[severity, fail_on], checked.stdout
    assert built.returncode == checked.returncode, built.stderr
    assert checked.stdout.count("[docs/dead-link]") == 2
    assert built.stderr.count("[docs/dead-link]") == 2
    assert "Traceback" not in built.stderr
    if built.returncode == 0:  # MkDocs showed its own warnings, and did not fail on them
        assert "no-such-option" in (root / "out" / "guides" / "ci" / "index.html").read_text()
        assert "does not contain an anchor '#no-such-option'" in built.stderr
        assert "no-such-page.md" in built.stderr


def test_build_stays_strict_on_what_no_finding_reports(sample_config: Path) -> None:
    root = sample_config.parent
    # the sample's mkdocs.yml warns of absolute links; `check` leaves them to MkDocs
    add_to_the_ci_guide(root, DEAD_LINKS + "\nAn [absolute link](/x.md).\n")
    args = ["--config", str(sample_config), "--fail-on", "never"]
    assert run_cli("check", *args, cwd=root).returncode == 0
    built = run_cli("build", *args, "--site-dir", str(root / "out"), cwd=root)
    assert built.returncode == 1
    assert "contains an absolute link '/x.md'" in built.stderr
    assert "build failed: aborted with 1 warning in strict mode" in built.stderr


def test_the_sample_builds_strictly_with_every_guide_anchor_found(
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    assert "does not contain an anchor" not in done.stderr
    page = (site / "reference" / "schemas" / "service" / "index.html").read_text(encoding="utf-8")
    assert 'id="deploy.replicas"' in page
    guide = (site / "guides" / "onboarding" / "index.html").read_text(encoding="utf-8")
    assert "../../reference/schemas/service/#deploy.replicas" in guide


@pytest.mark.browser
def test_the_site_in_a_browser(chromium: str, served_site: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(served_site)
            hrefs = page.eval_on_selector_all("article a[href]", "els => els.map(e => e.href)")
            assert any("/reference/schemas/service/" in h for h in hrefs), hrefs
            assert any("/reference/templates/build/" in h for h in hrefs), hrefs
            assert any(h.rstrip("/").endswith("/catalog") for h in hrefs), hrefs
            assert any("/catalog/environments/production/" in h for h in hrefs), hrefs

            page.locator("article").get_by_role("link", name="Catalog", exact=True).first.click()
            page.wait_for_url("**/catalog/")
            row = page.locator("article table tr", has_text="payments-api")
            assert row.count() == 1
            cells = row.locator("td").all_inner_texts()
            assert cells[0] == "payments-api"
            assert "1.4.2" in cells[2] and "1.4.1" in cells[3] and "skipped" in cells[4]

            page.goto(served_site + "reference/schemas/service/#deploy.replicas")
            option = page.locator('[id="deploy.replicas"]')
            assert option.count() == 1
            assert "deploy.replicas" in option.inner_text()
        finally:
            browser.close()
