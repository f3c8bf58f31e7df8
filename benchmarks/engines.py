"""Time one site built by each engine: MkDocs and ProperDocs (`pipeline-docs build --engine`),
and Zensical (`zensical build` over `pipeline-docs generate --out`).

    python benchmarks/engines.py PIPELINE-DOCS.YML [--json FILE] [--runs N]

Each build starts with no page cache (`pages`, `site-pages` and `runs` of the cache, Zensical's own
cache) and the inputs' caches warm (a first `generate` reads them), so the figures compare what
the engines do with the same pages. Each figure is the best of `--runs` (default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from generator.config import load_config


def _run(command: list[str], cwd: Path) -> float:
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    took = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return took


def _cold_pages(cache: Path, *more: Path) -> None:
    for folder in (cache / "pages", cache / "site-pages", cache / "runs", *more):
        shutil.rmtree(folder, ignore_errors=True)


def measure(config: Path, work: Path, runs: int) -> dict[str, Any]:
    """Seconds per engine, and the pages each built."""
    tool = [sys.executable, "-m", "generator"]
    project = config.parent
    cache = load_config(config).cache  # the config's `cache:`
    generated = work / "zensical" / "docs"
    _run([*tool, "generate", "--config", str(config), "--out", str(generated)], project)
    figures: dict[str, Any] = {}
    for engine in ("mkdocs", "properdocs"):
        best = float("inf")
        site = work / engine
        for _ in range(runs):
            _cold_pages(cache)
            best = min(best, _run([*tool, "build", "--config", str(config), "--site-dir",
                                   str(site), "--engine", engine, "--fail-on", "never"], project))  # fmt: skip
        figures[engine] = {"seconds": round(best, 2), "pages": len(list(site.rglob("*.html")))}
    zensical = shutil.which("zensical", path=str(Path(sys.executable).parent)) or "zensical"
    best_generate = best_build = float("inf")
    for _ in range(runs):
        _cold_pages(cache, work / "zensical" / ".cache", work / "zensical" / "site")
        best_generate = min(best_generate, _run(
            [*tool, "generate", "--config", str(config), "--out", str(generated)], project))  # fmt: skip
        best_build = min(
            best_build, _run([zensical, "build", "-f", "mkdocs.yml"], work / "zensical")
        )
    figures["zensical"] = {
        "seconds": round(best_generate + best_build, 2),
        "generate_seconds": round(best_generate, 2),
        "engine_seconds": round(best_build, 2),
        "pages": len(list((work / "zensical" / "site").rglob("*.html"))),
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="engines-") as folder:
        figures = measure(args.config.resolve(), Path(folder), max(1, args.runs))
    for engine, figure in figures.items():
        more = (
            f" (generate {figure['generate_seconds']} s + zensical {figure['engine_seconds']} s)"
            if engine == "zensical" else ""
        )  # fmt: skip
        print(f"{engine:<11} {figure['seconds']:>7.2f} s  {figure['pages']:>6} pages{more}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
