"""Walking a long env repo history: pipeline-docs against plain `git log -p`.

Makes a synthetic env repo (our `environment.yml` layout, 50 services) with N commits, each
changing one service's version, then times in one run:
- `git log -p` over the whole repo, output discarded: the floor any history reader stands on;
- pipeline-docs' history walk of the same repo, first run (nothing cached) and second run
  (cached by commit, nothing new to read).

    .venv/bin/python benchmarks/history.py --commits 20000
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from generator.sources.history import HistorySource, bundle_facts, read_history

SERVICES = 50
URL = "https://nexus.example.com/repository/k8s-bundles/{s}/{v}/{s}-{v}.tar.gz"


def make_repo(root: Path, commits: int) -> None:
    """A git repo of `commits` commits, made in one `git fast-import`."""
    subprocess.run(["git", "init", "--quiet", "--initial-branch", "main", str(root)], check=True)
    versions = {f"service-{i:02d}": (1, 0, 0) for i in range(SERVICES)}
    chunks: list[bytes] = []
    for number in range(commits):
        name = f"service-{number % SERVICES:02d}"
        major, minor, patch = versions[name]
        versions[name] = (major, minor, patch + 1) if number % 7 else (major, minor + 1, 0)
        lines = ["name: synthetic", "bundles:"]
        for service, (a, b, c) in sorted(versions.items()):
            lines.append(f"  - {URL.format(s=service, v=f'{a}.{b}.{c}')}")
        body = ("\n".join(lines) + "\n").encode()
        message = f"Deploy {name}\n\nSee merge request platform/env!{number + 1}\n".encode()
        stamp = 1_700_000_000 + number * 600
        who = f"Dev {number % 9} <dev{number % 9}@example.com> {stamp} +0000"
        chunks.append(f"commit refs/heads/main\nauthor {who}\ncommitter {who}\n".encode())
        chunks.append(f"data {len(message)}\n".encode() + message + b"\n")
        chunks.append(
            f"M 100644 inline environment.yml\ndata {len(body)}\n".encode() + body + b"\n"
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=b"".join(chunks), check=True)


def timed(work: object) -> tuple[float, object]:
    start = time.perf_counter()
    result = work() if callable(work) else None
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "env", Path(tmp) / "cache"
        made, _ = timed(lambda: make_repo(root, args.commits))
        print(f"made {args.commits} commits in {made:.1f} s")
        plain, _ = timed(lambda: subprocess.run(
            ["git", "log", "-p"], cwd=root, stdout=subprocess.DEVNULL, check=True
        ))  # fmt: skip
        source = HistorySource("synthetic", root, "HEAD", ("environment.yml",), True)
        ours, changes = timed(
            lambda: read_history(source, cache, bundle_facts({}), "environment.yml")
        )
        again, _ = timed(lambda: read_history(source, cache, bundle_facts({}), "environment.yml"))
        count = len(changes[0]) if isinstance(changes, tuple) else 0
        print(f"git log -p: {plain:.2f} s")
        print(
            f"pipeline-docs history: {ours:.2f} s for {count} changes ({ours / plain:.2f}x git log -p)"
        )
        print(f"pipeline-docs history, cached: {again:.3f} s")


if __name__ == "__main__":
    main()
