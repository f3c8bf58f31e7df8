"""Progress of long work (clones, downloads, history walks): on a terminal, never in CI logs."""

from __future__ import annotations

import os
import sys


def shown() -> bool:
    """Progress shows on an interactive terminal, and not when CI (or the user) says otherwise."""
    return (
        sys.stderr.isatty()
        and not os.environ.get("CI")
        and not os.environ.get("PIPELINE_DOCS_QUIET")
    )


def say(message: str) -> None:
    """One line of progress on stderr, when progress shows."""
    if shown():
        print(f"pipeline-docs: {message}", file=sys.stderr, flush=True)
