"""The MkDocs site: strict builds catch dead anchors in guides, and the built site works in a
browser."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, run_cli


def test_a_guide_linking_to_a_missing_option_fails_the_strict_build(sample_config: Path) -> None:
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
    assert "guides/onboarding.md" in done.stderr
    assert "Traceback" not in done.stderr


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
