"""Reference pages for every schema of the corpus: pipeline-docs against json-schema-for-humans.

json-schema-for-humans is not a dependency of the project: install it in a separate virtual
environment and pass its Python with --jsfh, e.g.

    python3 -m venv /tmp/jsfh && /tmp/jsfh/bin/pip install json-schema-for-humans
    .venv/bin/python benchmarks/schema_reference.py --jsfh /tmp/jsfh/bin/python

Both render the same files, each timed inside its own process (start-up excluded):
pipeline-docs reads, resolves and flattens them and renders the Markdown pages;
json-schema-for-humans renders each file with its Markdown template (`md`), then with its
default HTML one (`js`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "schemas"

_JSFH = """
import json, sys, time, traceback
from pathlib import Path
from json_schema_for_humans.generate import generate_from_filename
from json_schema_for_humans.generation_configuration import GenerationConfiguration
files, out, template = json.loads(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
config = GenerationConfiguration(template_name=template, copy_css=False, copy_js=False,
                                 link_to_reused_ref=True, show_breadcrumbs=False)
failed = 0
start = time.perf_counter()
for index, name in enumerate(files):
    try:
        generate_from_filename(name, str(out / f"{index}.{'md' if template == 'md' else 'html'}"),
                               config=config)
    except Exception:
        failed += 1
print(json.dumps({"seconds": time.perf_counter() - start, "failed": failed}))
"""


def corpus_files(work: Path) -> list[Path]:
    """SchemaStore's and GitLab's schemas, and each schema of the JSON Schema test suite."""
    files = sorted((CORPUS / "schemastore").glob("*.json")) + sorted(
        (CORPUS / "gitlab-ci").glob("*.json")
    )
    suite = CORPUS / "json-schema-test-suite" / "tests"
    for draft in ("draft7", "draft2020-12"):
        for test_file in sorted((suite / draft).rglob("*.json")):
            for index, case in enumerate(json.loads(test_file.read_text())):
                if isinstance(case.get("schema"), dict):
                    target = work / "suite" / f"{draft}-{test_file.stem}-{index}.json"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(json.dumps(case["schema"]))
                    files.append(target)
    return files


def ours(files: list[Path], work: Path) -> dict[str, float]:
    from generator.model import Model
    from generator.render import render_pages
    from generator.sources.schemas import read_schemas

    folder = work / "ours"
    folder.mkdir()
    for index, path in enumerate(files):  # one folder, unique names: ids must not collide
        (folder / f"{index:04d}-{path.name}").write_bytes(path.read_bytes())
    start = time.perf_counter()
    schemas, findings = read_schemas(folder, lambda p: p.name)
    pages = render_pages(Model(title="corpus", schemas=tuple(schemas)))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "schemas": len(schemas),
        "options": sum(len(s.options) for s in schemas),
        "pages": len(pages),
        "findings": len(findings),
    }


def theirs(
    python: str, files: list[Path], work: Path, template: str, timeout: int
) -> dict[str, float]:
    out = work / f"jsfh-{template}"
    out.mkdir()
    try:
        done = subprocess.run(
            [python, "-c", _JSFH, json.dumps([str(f) for f in files]), str(out), template],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": float(timeout), "failed": -1, "timed_out": 1}
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jsfh", help="a Python with json-schema-for-humans installed")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds for each jsfh run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        files = corpus_files(work)
        print(f"{len(files)} schema files")
        mine = ours(files, work)
        print(
            f"pipeline-docs: {mine['seconds']:.2f} s for {mine['schemas']} schemas, "
            f"{mine['options']} options, {mine['pages']} pages"
        )
        if not args.jsfh:
            print("json-schema-for-humans: not measured (no --jsfh)")
            return
        for template in ("md", "js"):
            other = theirs(args.jsfh, files, work, template, args.timeout)
            ratio = other["seconds"] / mine["seconds"]
            note = (
                " (timed out)"
                if other.get("timed_out")
                else f", {int(other['failed'])} files failed"
            )
            print(
                f"json-schema-for-humans ({template}): {other['seconds']:.2f} s{note}; "
                f"pipeline-docs is {ratio:.1f}x faster"
            )


if __name__ == "__main__":
    sys.exit(main())
