"""Progress (#18): a status line rewritten in place on a terminal, a few times a second at most,
for clones, downloads, history walks and the MkDocs build; none when stderr is not a terminal or
in CI; no colour with NO_COLOR. And every command ends with one line on stderr that says what it
did and where, so that stdout holds the product alone."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import GIT_IDENTITY, REPO, invoke, make_config, write
from test_changelog import ANNOUNCE, project
from test_cli_small import env_repo

from generator import progress

TOOK = r" (in|for) [0-9]+(\.[0-9])? s"  # how long it took, as the last line says it


class Terminal(io.StringIO):
    """stderr as a terminal: what was written, kept."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """stderr on a terminal, outside CI, colour allowed; `as_stderr` puts it in place in
    the test itself (pytest sets its own capture back between a fixture and the test)."""
    for name in ("CI", "PIPELINE_DOCS_QUIET", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    return Terminal()


def as_stderr(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO) -> None:
    monkeypatch.setattr(sys, "stderr", stream)


class Clock:
    """time.monotonic() for progress, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress, "monotonic", fake)
    return fake


# --- the status line ----------------------------------------------------------------------------


def test_a_count_shows_on_a_terminal_in_place(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    as_stderr(monkeypatch, terminal)
    count = progress.Count("walking history of prod", "commit")
    clock.now += 1
    count.set(1_200)
    shown = terminal.getvalue()
    assert "\n" not in shown  # rewritten with \r, never a new line
    assert shown.count("\r") == 2
    assert "pipeline-docs: walking history of prod: 1,200 commits" in shown
    count.done()
    assert re.search(r"\r +\r$", terminal.getvalue())  # wiped: the next line starts clean


def test_a_count_is_shown_a_few_times_a_second_at_most(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    as_stderr(monkeypatch, terminal)
    count = progress.Count("walking history of prod", "commit")
    for _ in range(10_000):  # 10,000 commits in 10 s
        clock.now += 0.001
        count.add()
    count.done()
    assert count.number == 10_000
    # the first line, then one per INTERVAL (0.25 s) of the 10 s
    assert 10 / progress.INTERVAL - 1 <= count.updates <= 1 + 10 / progress.INTERVAL
    assert terminal.getvalue().count("\r") <= count.updates + 2


def test_a_count_with_a_total_says_of_how_many(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    as_stderr(monkeypatch, terminal)
    count = progress.Count("building the site: converting", "page", 2_117)
    clock.now += 1
    count.set(1_200)
    assert "building the site: converting: 1,200 of 2,117 pages" in terminal.getvalue()


@pytest.mark.parametrize("env", [{"CI": "1"}, {"CI": "true"}, {"PIPELINE_DOCS_QUIET": "1"}])
def test_none_in_ci_or_when_asked(
    terminal: Terminal, clock: Clock, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    as_stderr(monkeypatch, terminal)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    count = progress.Count("walking history of prod", "commit")
    count.add()
    count.done()
    with progress.working("cloning https://git.example.com/env.git"):
        pass
    progress.say("anything")
    assert terminal.getvalue() == ""


def test_none_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    monkeypatch.delenv("CI", raising=False)
    stream = io.StringIO()  # a pipe, a file, a CI log
    as_stderr(monkeypatch, stream)
    assert not progress.shown()
    count = progress.Count("walking history of prod", "commit")
    count.add()
    count.done()
    assert stream.getvalue() == ""


def test_dimmed_unless_no_color(
    terminal: Terminal, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_stderr(monkeypatch, terminal)
    progress.say("cloning")
    progress.clear()
    assert "\x1b[2m" in terminal.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    terminal.seek(0)
    terminal.truncate()
    progress.say("cloning")
    progress.clear()
    assert "cloning" in terminal.getvalue()
    assert "\x1b" not in terminal.getvalue()


def test_a_name_cannot_send_the_terminal_escapes(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    as_stderr(monkeypatch, terminal)
    progress.Count("walking history of \x1b]0;owned\x07prod\x9b2J", "commit").done()
    shown = terminal.getvalue().replace("\x1b[2m", "").replace("\x1b[0m", "")
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "walking history of ?]0;owned?prod?2J" in shown


def test_a_line_never_wraps(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    as_stderr(monkeypatch, terminal)
    progress.say("downloading https://nexus.example.com/" + "x" * 500)
    progress.clear()
    written = terminal.getvalue().split("\r")[1].replace("\x1b[2m", "").replace("\x1b[0m", "")
    assert len(written) < 80


def test_a_step_without_count_shows_the_seconds_it_takes(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_stderr(monkeypatch, terminal)
    monkeypatch.setattr(progress, "TICK", 0.01)
    with progress.working("cloning https://git.example.com/env.git"):
        deadline = time.monotonic() + 5
        while "s)" not in terminal.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    shown = terminal.getvalue()
    assert "pipeline-docs: cloning https://git.example.com/env.git" in shown
    assert re.search(r"cloning https://git\.example\.com/env\.git \([0-9]+ s\)", shown)
    assert re.search(r"\r +\r$", shown)  # wiped when it ends


def test_amounts_read_as_people_write_them() -> None:
    assert progress.amount(1, "commit") == "1 commit"
    assert progress.amount(1_200, "commit") == "1,200 commits"
    assert progress.amount(512, "byte") == "512 bytes"
    assert progress.amount(3 * 1024 * 1024 + 100_000, "byte") == "3.1 MB"
    assert [progress.took(s) for s in (0.42, 3.14, 24.4, 185)] == [
        "0.4 s", "3.1 s", "24 s", "3 min 5 s",
    ]  # fmt: skip


# --- on a real terminal: a pseudo-terminal as the command's stderr ------------------------------


def _on_a_pty(args: list[str], cwd: Path, **env: str) -> tuple[str, str, int]:
    """`python -m generator ARGS` with stderr on a pseudo-terminal: (stdout, what the terminal
    got, exit code)."""
    master, slave = pty.openpty()
    clean = {
        k: v for k, v in os.environ.items() if k not in ("CI", "NO_COLOR", "PIPELINE_DOCS_QUIET")
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args], cwd=cwd, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=slave, env={**clean, **GIT_IDENTITY, **env},
    )  # fmt: skip
    os.close(slave)
    got: list[bytes] = []

    def drain() -> None:  # the terminal read as it is written, so the command never blocks
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed its end
                return
            if not data:
                return
            got.append(data)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        out, _ = process.communicate(timeout=300)
    finally:
        reader.join(timeout=30)
        os.close(master)
    return out.decode(), b"".join(got).decode("utf-8", "replace"), process.returncode


@pytest.fixture
def walked(tmp_path: Path) -> Path:
    """Two environments with a few days of history each."""
    return make_config(tmp_path, environments=[
        env_repo(tmp_path, "dev", {"shop": "1.0.0"}, {"shop": "1.1.0"}, {"shop": "1.2.0"}),
        env_repo(tmp_path, "prod", {"shop": "1.0.0"}, {"shop": "1.1.0"}),
    ])  # fmt: skip


def test_a_history_walk_counts_its_commits_on_a_terminal(walked: Path) -> None:
    out, terminal, code = _on_a_pty(["history", "shop", "--config", str(walked)], walked.parent)
    assert code == 0, terminal
    dim = "\x1b[2m"  # colour allowed: the status line is dimmed
    assert re.search(
        rf"\r{re.escape(dim)}pipeline-docs: walking history of dev: [0-9]+ commits?", terminal
    )
    assert "walking history of prod" in terminal
    assert "walking history" not in out  # the table alone on stdout
    last = terminal.replace("\r\n", "\n").rsplit("\r", 1)[-1]  # after the last wipe
    assert re.fullmatch(r" *history of shop: 5 changes in 2 environments" + TOOK + r"\n", last)


def test_no_progress_in_ci_even_on_a_terminal(walked: Path) -> None:
    _, terminal, code = _on_a_pty(["history", "shop", "--config", str(walked)], walked.parent,
                                    CI="1")  # fmt: skip
    assert code == 0, terminal
    assert "walking history" not in terminal and "\r" not in terminal.replace("\r\n", "")
    assert re.fullmatch(r"history of shop: 5 changes in 2 environments" + TOOK + r"\r\n", terminal)


def test_json_stays_clean_with_progress_as_stderr(walked: Path) -> None:
    out, terminal, code = _on_a_pty(
        ["catalog", "--config", str(walked), "--format", "json"], walked.parent
    )
    assert code == 0, terminal
    assert [s["name"] for s in json.loads(out)["services"]] == ["shop"]
    assert "walking history of dev" in terminal


def test_the_build_counts_its_pages_on_a_terminal(walked: Path) -> None:
    site = walked.parent / "site"
    _, terminal, code = _on_a_pty(
        ["build", "--config", str(walked), "--site-dir", str(site), "--fail-on", "never"],
        walked.parent, NO_COLOR="1",
    )  # fmt: skip
    assert code == 0, terminal
    pages = len(list(site.rglob("index.html")))
    assert re.search(r"building the site: converting: [0-9,]+ of [0-9,]+ pages", terminal)
    assert re.search(r"building the site: writing: [0-9,]+ of [0-9,]+ pages", terminal)
    assert "\x1b" not in terminal  # NO_COLOR
    last = terminal.replace("\r\n", "\n").rsplit("\r", 1)[-1]
    assert re.fullmatch(rf" *built {pages} pages into {re.escape(str(site))}/" + TOOK + r"\n", last)


# --- the last line of every command -------------------------------------------------------------


@pytest.fixture
def whole(tmp_path: Path) -> Path:
    """Environments with history, schemas with releases, a template and fragments."""
    return project(tmp_path, environments=[
        env_repo(tmp_path, "dev", {"shop": "1.0.0"}, {"shop": "1.2.0"}),
        env_repo(tmp_path, "staging", {"shop": "1.0.0"}, {"shop": "1.1.0"}),
    ])  # fmt: skip


def _last_line(stderr: str) -> str:
    assert stderr.endswith("\n"), stderr
    return stderr.splitlines()[-1]


def _lines(tmp_path: Path, config: Path) -> dict[str, tuple[list[str], str]]:
    """Each command, and the pattern of its last line."""
    service = tmp_path / "service.pipeline.yml"
    write(service, "deploy:\n  replicas: 2\n")
    c = str(config)
    totals = r"[0-9]+ errors?, [0-9]+ warnings?, [0-9]+ notes?"
    found = r"(; [0-9]+ (error|warning|note)s?.*; --findings lists them)?"
    return {
        "generate": (["generate", "--config", c, "--out", str(tmp_path / "out")],
                     rf"wrote [0-9]+ files to {re.escape(str(tmp_path / 'out'))}{TOOK}; "
                     r"(\S*/)?mkdocs\.yml beside it builds them \(zensical build -f (\S*/)?mkdocs\.yml\)"),
        "check": (["check", "--config", c, "--fail-on", "never"],
                  rf"checked pipeline-docs\.yml \(1 service in 2 environments\): {totals}{TOOK}"),
        "check json": (["check", "--config", c, "--format", "json", "--fail-on", "never"],
                       rf"checked pipeline-docs\.yml \(1 service in 2 environments\): {totals}{TOOK}"),
        "check output": (["check", "--config", c, "--format", "sarif", "--output",
                          str(tmp_path / "r.sarif"), "--fail-on", "never"],
                         rf"checked .*: {totals}{TOOK}; the sarif report in r\.sarif"),
        "catalog": (["catalog", "--config", c], rf"catalog of 1 service in 2 environments{TOOK}{found}"),
        "catalog env": (["catalog", "--config", c, "--env", "dev"],
                        rf"catalog of 1 service in dev{TOOK}{found}"),
        "history": (["history", "shop", "--config", c],
                    rf"history of shop: 4 changes in 2 environments{TOOK}{found}"),
        "history none": (["history", "nothing", "--config", c],
                         rf"history of nothing: no change found{TOOK}{found}"),
        "diff": (["diff", "dev", "staging", "--config", c],
                 rf"diff dev -> staging: 1 service would change{TOOK}{found}"),
        "diff upstreams": (["diff", "staging", "--config", c],
                           rf"diff staging against 1 upstream: from dev, 1 service would change{TOOK}{found}"),
        "diff root": (["diff", "dev", "--config", c], rf"diff dev: no upstream to compare with{TOOK}"),
        "schema-diff": (["schema-diff", "--config", c],
                        rf"schema diff 1\.10\.0 -> work: [0-9]+ changes?( \([0-9]+ breaking\))?{TOOK}{found}"),
        "validate": (["validate", str(service), "--schema", "service", "--config", c, "--fail-on", "never"],
                     rf"validated 1 file against service: {totals}{TOOK}"),
        "announce": (["announce", "--config", c, *ANNOUNCE],
                     rf"scaffolded changes/2026-12-01-t\.md{TOOK}; write its body in place of the "
                     r"placeholder: `check` fails until then"),
        "init": (["init", str(REPO / "schemas"), "--out", str(tmp_path / "new")],
                 rf"wrote a pipeline-docs project into {re.escape(str(tmp_path / 'new'))}{TOOK}"),
    }  # fmt: skip


COMMANDS = ("generate", "check", "check json", "check output", "catalog", "catalog env", "history",
            "history none", "diff", "diff upstreams", "diff root", "schema-diff", "validate",
            "announce", "init")  # fmt: skip


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_ends_with_one_line_saying_what_it_did(
    tmp_path: Path, whole: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    args, pattern = _lines(tmp_path, whole)[name]
    result = invoke(*args)
    assert result.exit_code in (0, 1), result.stderr
    assert re.fullmatch(pattern, _last_line(result.stderr)), result.stderr
    if "json" in args:
        json.loads(result.stdout)  # the product alone on stdout


def test_build_ends_with_the_pages_it_built_and_where(
    tmp_path: Path, walked: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(walked.parent)
    result = invoke("build", "--config", str(walked), "--fail-on", "never")
    assert result.exit_code == 0, result.stderr
    pages = len(list((walked.parent / "site").rglob("index.html")))
    assert re.fullmatch(rf"built {pages} pages into site/{TOOK}", _last_line(result.stderr))


def test_serve_ends_with_how_long_it_served(walked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import generator.site

    monkeypatch.setattr(generator.site, "serve_site", lambda config, address: None)  # Ctrl+C'd
    result = invoke("serve", "--config", str(walked), "--dev-addr", "127.0.0.1:8765")
    assert result.exit_code == 0, result.stderr
    assert re.fullmatch(r"served the site on 127\.0\.0\.1:8765" + TOOK, _last_line(result.stderr))
