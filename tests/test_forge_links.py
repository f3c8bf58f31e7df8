"""Links into the forges: GitHub's and GitLab's URL schemes for a commit, a comparison of two
versions, a merge request and a file at a line."""

from __future__ import annotations

import pytest

from generator.render.links import commit_url, compare_url, file_url, merge_request_url

GITHUB = "https://github.com/shop/env-production"
GITLAB = "https://gitlab.example/platform/env-production/"


@pytest.mark.parametrize(
    ("web", "sha", "url"),
    [
        (GITHUB, "abc123", "https://github.com/shop/env-production/commit/abc123"),
        (GITLAB, "abc123", "https://gitlab.example/platform/env-production/-/commit/abc123"),
        ("", "abc123", ""),
        (GITHUB, "", ""),
    ],
)
def test_a_commit_links_to_its_page(web: str, sha: str, url: str) -> None:
    assert commit_url(web, sha) == url


@pytest.mark.parametrize(
    ("repository", "before", "after", "url"),
    [
        ("https://github.com/shop/cart.git", "1.0.0", "1.1.0",
         "https://github.com/shop/cart/compare/1.0.0...1.1.0"),
        ("https://gitlab.example/shop/cart/", "1.0.0", "1.1.0",
         "https://gitlab.example/shop/cart/-/compare/1.0.0...1.1.0"),
        ("git@github.com:shop/cart.git", "1.0.0", "1.1.0", ""),  # no web page known
        ("https://github.com/shop/cart", None, "1.1.0", ""),  # a first deployment
        ("", "1.0.0", "1.1.0", ""),
    ],
)  # fmt: skip
def test_two_versions_link_to_their_comparison(
    repository: str, before: str | None, after: str | None, url: str
) -> None:
    assert compare_url(repository, before, after) == url


def test_a_merge_request_and_a_file_link_to_their_pages() -> None:
    assert merge_request_url(GITHUB, "#12") == "https://github.com/shop/env-production/pull/12"
    assert merge_request_url(GITLAB, "platform/env-production!7") == (
        "https://gitlab.example/platform/env-production/-/merge_requests/7"
    )
    assert file_url(GITLAB, "abc", "apps/cart v2.yml", 3) == (
        "https://gitlab.example/platform/env-production/-/blob/abc/apps/cart%20v2.yml#L3"
    )
