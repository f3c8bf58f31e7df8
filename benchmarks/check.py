"""`pipeline-docs check` on the bundled sample: the work after start-up, and the whole command.

    .venv/bin/python benchmarks/check.py

Start-up (Python, imports) is measured apart: the issue asks for the work to take under a second.
The sample's env repos are made once before timing, as any second run finds them made.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    start = time.perf_counter()
    from generator.collect import collect
    from generator.config import load_config
    from generator.report import text_report

    imports = time.perf_counter() - start
    config = load_config(ROOT / "pipeline-docs.yml")
    collect(config)  # makes the sample's env repos and warms the history cache
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        findings = collect(config).findings
        text_report(findings)
        runs.append(time.perf_counter() - start)
    whole = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "generator", "check", "--config", str(config.file)],
                       capture_output=True, check=False)  # fmt: skip
        whole.append(time.perf_counter() - start)
    print(f"imports: {imports:.2f} s")
    print(
        f"check's work on the sample: median {statistics.median(runs):.3f} s, max {max(runs):.3f} s"
    )
    print(f"whole command (start-up included): median {statistics.median(whole):.2f} s")


if __name__ == "__main__":
    main()
