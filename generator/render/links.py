"""Links into the forges env repos and source repos live on (GitLab and GitHub URL schemes)."""

from __future__ import annotations

import functools
from urllib.parse import quote, urlsplit


@functools.lru_cache(maxsize=4096)  # a few forges' URLs, asked for every change of history
def _is_github(web: str) -> bool:
    return "github" in urlsplit(web).netloc


@functools.lru_cache(maxsize=8192)
def _quoted(path: str) -> str:
    return "/".join(quote(part) for part in path.split("/"))


def commit_url(web: str, sha: str) -> str:
    """The web page of one commit of the env repo, or "" when its web URL is unknown."""
    if not web or not sha:
        return ""
    return _commit_base(web) + sha


@functools.lru_cache(maxsize=4096)
def _commit_base(web: str) -> str:
    base = web.rstrip("/")
    return f"{base}/commit/" if _is_github(base) else f"{base}/-/commit/"


def file_url(web: str, commit: str, path: str, line: int | None) -> str:
    """A file of the env repo at a commit, at a line, when the repo's web URL is known."""
    if not web or not commit or not path:
        return ""
    base = web.rstrip("/")
    middle = "blob" if _is_github(base) else "-/blob"
    return f"{base}/{middle}/{commit}/{_quoted(path)}" + (f"#L{line}" if line else "")


def merge_request_url(web: str, reference: str) -> str:
    """`group/project!12` or `#12` as a link, when the env repo's web URL is known."""
    if not web or not reference:
        return ""
    number = reference.rsplit("!", 1)[-1].lstrip("#")
    base = web.rstrip("/")
    if "!" in reference:  # GitLab names the project the merge request belongs to
        scheme = urlsplit(base)
        project = reference.rsplit("!", 1)[0]
        return f"{scheme.scheme}://{scheme.netloc}/{project}/-/merge_requests/{number}"
    return f"{base}/pull/{number}" if _is_github(base) else f"{base}/-/merge_requests/{number}"


def compare_url(repository: str, before: str | None, after: str | None) -> str:
    """What changed in the service's source between two versions, when its repository is known."""
    if not repository or not before or not after:
        return ""
    base = _compare_base(repository)
    return f"{base}{before}...{after}" if base else ""


@functools.lru_cache(maxsize=8192)  # a service's repository, asked for every change of it
def _compare_base(repository: str) -> str:
    if not repository.startswith(("http://", "https://")):
        return ""
    base = repository.rstrip("/").removesuffix(".git")
    return f"{base}/compare/" if _is_github(base) else f"{base}/-/compare/"
