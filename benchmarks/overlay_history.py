"""History of an overlay repo in the catalog's terms: pipeline-docs against plain `git log -p`.

Makes a Kustomize overlay repo with the tests' fixture generator (11 overlays, tags set in
patch files, in `images:` and in components, replicas changed too) with N commits, then times:
- `git log -p` over the whole repo, output discarded: the floor any history reader stands on;
- the history walk of all 11 environments (each commit that touches an environment rendered by
  the built-in renderer from git objects), first run (nothing cached) and second run (cached
  with the state at the head: nothing new to render).

    .venv/bin/python benchmarks/overlay_history.py --commits 20000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from overlayrepo import make_overlay_repo

from generator.config import load_config
from generator.sources.envrepos import read_environment
from generator.sources.owners import Owners
from generator.validation import make_validator

ENVS = tuple(f"env{i:02d}" for i in range(11))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--layout", default="patch", help="mixed, images, patch or component")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        made = make_overlay_repo(root / "repo", environments=ENVS, services=10,
                                 commits=args.commits, layout=args.layout)  # fmt: skip
        print(f"made {args.commits} commits in {time.perf_counter() - start:.1f} s")
        config_file = root / "pipeline-docs.yml"
        config_file.write_text(yaml.safe_dump({
            "title": "bench", "cache": ".cache", "kustomize": "builtin",
            "environments": [{"name": e, "repo": "repo", "path": made.overlays[e]} for e in ENVS],
        }))  # fmt: skip
        start = time.perf_counter()
        subprocess.run(["git", "log", "-p"], cwd=made.root, stdout=subprocess.DEVNULL, check=True)
        floor = time.perf_counter() - start
        print(f"git log -p: {floor:.2f} s")
        config = load_config(config_file)
        validator = make_validator({}, [])
        for run in ("cold", "warm"):
            start = time.perf_counter()
            rows = 0
            for env in config.environments:
                environment, _ = read_environment(config, env, Owners(), validator)
                rows += len(environment.history)
            spent = time.perf_counter() - start
            print(
                f"{run}: {spent:.2f} s for 11 environments, {rows} rows ({spent / floor:.1f}x git log -p)"
            )


if __name__ == "__main__":
    main()
