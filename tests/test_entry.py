"""The `pipeline-docs` command's way out (`cli.entry`): the exit status and every line of output
as a normal exit gives them, and the exit functions run, though the run's objects are not freed
one by one."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=300, check=False, cwd=cwd
    )


def test_the_exit_status_and_the_output_are_those_of_the_command(tmp_path: Path) -> None:
    done = _run("-m", "generator", "--version")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith(f"version {metadata.version('pipeline-docs')}")
    missing = _run("-m", "generator", "check", "--config", str(tmp_path / "absent.yml"))
    assert missing.returncode == 2, missing.stderr  # click's usage error: the file is not there
    assert "absent.yml" in missing.stderr
    unknown = _run("-m", "generator", "no-such-command")
    assert unknown.returncode == 2
    assert "no-such-command" in unknown.stderr


@pytest.mark.parametrize(("code", "status", "said"), [(None, 0, ""), (3, 3, ""), ("why", 1, "why")])
def test_what_the_command_exits_with_is_kept(
    tmp_path: Path, code: object, status: int, said: str
) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        "import atexit, sys\n"
        "from generator import cli\n"
        f"atexit.register(lambda: open({str(tmp_path / 'ran')!r}, 'w').write('ran'))\n"
        f"cli.main = lambda: (print('a line, not flushed', end=''), sys.exit({code!r}))\n"
        "cli.entry()\n",
        encoding="utf-8",
    )
    done = _run(str(script))
    assert done.returncode == status
    assert done.stdout == "a line, not flushed"  # flushed before the process ended
    assert done.stderr.strip() == said
    assert (tmp_path / "ran").read_text(encoding="utf-8") == "ran"  # the exit functions ran
