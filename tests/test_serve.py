"""`serve`: prints its URL, watches every input the config names and rebuilds on a change, a
new commit of a local env repo included (#17)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from generator.config import load_config
from generator.site import watched_inputs
from tests.conftest import (
    GIT_IDENTITY,
    deployment_yaml,
    git,
    git_commit,
    git_init,
    make_config,
    write,
)

WAIT_SECONDS = 180  # polling bound: the first build, then each rebuild
POLL_SECONDS = 0.5


def schema(properties: dict[str, str]) -> str:
    return json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Shop config", "description": "The shop's config.", "type": "object",
        "properties": {name: {"type": "string", "description": text}
                       for name, text in properties.items()},
    })  # fmt: skip


def project(root: Path) -> Path:
    """One schema, one env repo read at its `release` branch (its work tree stays on main)."""
    write(root / "schemas" / "shop.schema.json", schema({"image": "The image to run."}))
    repo = git_init(root / "env-prod")
    write(repo / "shop.yaml", deployment_yaml("shop", "shop:1.0.0", {"team": "web"}))
    git_commit(repo, "Deploy shop 1.0.0")
    git(repo, "branch", "release")
    return make_config(
        root, schemas="schemas",
        environments=[{"name": "production", "repo": "env-prod", "ref": "release"}],
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            text: str = response.read().decode("utf-8")
            return text
    except (urllib.error.URLError, OSError):
        return None


def wait_for(what: str, check: Callable[[], bool], log: Path) -> None:
    """Poll `check` until it holds, at most WAIT_SECONDS; fail with serve's log otherwise."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(POLL_SECONDS)
    pytest.fail(f"{what} not seen in {WAIT_SECONDS} s; serve said:\n{log.read_text()[-4000:]}")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, Path]]:
    config = project(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "generator", "serve", "--config", str(config),
             "--dev-addr", f"127.0.0.1:{port}"],
            cwd=tmp_path, stdout=err, stderr=err,
            env={**os.environ, **GIT_IDENTITY, "NO_COLOR": "1"},
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for("the first build", lambda: f"serving {url}" in log.read_text(), log)
        yield config, url, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_rebuilds_on_a_schema_change_and_on_a_new_commit(
    served: tuple[Path, str, Path], tmp_path: Path
) -> None:
    config, url, log = served
    reference = url + "reference/schemas/shop/"
    service = url + "catalog/services/shop/"
    first = fetch(reference)
    assert first is not None and "The image to run." in first
    assert "canary" not in first
    assert "1.0.0" in (fetch(service) or "")

    write(config.parent / "schemas" / "shop.schema.json",
          schema({"image": "The image to run.", "canary": "Send some traffic to the new pods."}))  # fmt: skip
    wait_for("the new option", lambda: "Send some traffic" in (fetch(reference) or ""), log)

    # a commit to the env repo's branch from another clone: only its refs change, not its files
    clone = tmp_path / "clone"
    git(
        tmp_path,
        "clone",
        "--quiet",
        "--branch",
        "release",
        str(config.parent / "env-prod"),
        str(clone),
    )
    write(clone / "shop.yaml", deployment_yaml("shop", "shop:2.0.0", {"team": "web"}))
    git_commit(clone, "Deploy shop 2.0.0")
    git(clone, "push", "--quiet", "origin", "release")
    wait_for("the new version", lambda: "2.0.0" in (fetch(service) or ""), log)
    page = fetch(service) or ""
    assert "1.0.0" in page  # what ran before, from the new commit's history
    assert "Traceback" not in log.read_text()


def test_serve_watches_every_input_the_config_names(tmp_path: Path) -> None:
    config_file = project(tmp_path)
    write(tmp_path / "owners.yml", "teams: {}\n")
    write(tmp_path / "changes" / "a.md", "---\ntitle: A\n---\n")
    write(tmp_path / "templates" / "build.yml", "spec:\n  inputs: {}\n---\njob: {}\n")
    text = (
        config_file.read_text()
        + "owners: owners.yml\nannouncements: changes\ntemplates: [templates]\n"
    )
    config_file.write_text(text)
    (tmp_path / "env-prod" / "overlays").mkdir()
    watched = dict(watched_inputs(load_config(config_file)))
    repo = (tmp_path / "env-prod").resolve()
    assert watched[config_file] is False
    for name in ("schemas", "owners.yml", "changes", "templates"):
        assert watched[tmp_path / name] is True, name
    assert watched[repo] is False  # the top of the repo, and each folder but .git in depth
    assert watched[repo / "overlays"] is True
    assert watched[repo / ".git" / "refs"] is True and watched[repo / ".git"] is False
    assert not any(path.is_relative_to(repo / ".git" / "objects") for path in watched)
