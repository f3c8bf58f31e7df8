"""The CI recipes of docs/guides/ci.md work as written (issue 17).

The recipes are read from the guide's fenced YAML blocks, never copied here. Each names this
project's repository once, by a placeholder URL; the tests put a local mirror in its place (a
clone of this repo, tagged as the guide tells a team to tag its mirror), install from it as the
recipes do (`pip install "$PIPELINE_DOCS"` into a fresh virtual environment, dependencies from
the configured package index), run every `pipeline-docs` line of each recipe on the sample
pipeline and on a service repo, and run the pre-commit recipes and hooks with pre-commit itself.
Slow parts (the install, the pre-commit hook environment) are made once for the module."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import CORPUS, REPO, copy_sample, git, git_commit, git_init, needs_corpus

GUIDE = REPO / "docs" / "guides" / "ci.md"
PLACEHOLDER = "https://git.example.com/platform/pipeline-docs.git"
REF = (
    "v" + tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
)
GITLAB_SCHEMA = CORPUS / "schemas" / "gitlab-ci" / "gitlab-ci.json"
GITHUB_SCHEMA = CORPUS / "schemas" / "schemastore" / "github-workflow.json"
INSTALL = 'pip install "$PIPELINE_DOCS"'
SCHEMA_COPY = "pipeline-schemas"
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 600

# The first line of every recipe says which file of which repo it is.
_HEADER = re.compile(r"^# (\S+) of (the pipeline's|a service's) repository$")
_FENCE = re.compile(r"^(?P<indent>\s*)```yaml\s*$")


@dataclass(frozen=True)
class Recipe:
    """One fenced YAML block of the guide: which file it is, for which repo, and its text."""

    file: str  # .gitlab-ci.yml, .github/workflows/NAME.yml or .pre-commit-config.yaml
    repo: str  # "pipeline" or "service"
    text: str
    line: int  # of its first line in the guide

    @property
    def kind(self) -> str:
        if self.file == ".gitlab-ci.yml":
            return "gitlab"
        if self.file.startswith(".github/workflows/"):
            return "github"
        return "pre-commit" if self.file == ".pre-commit-config.yaml" else "unknown"

    @property
    def data(self) -> Any:
        return yaml.safe_load(self.text)

    def __str__(self) -> str:
        return f"{self.kind} recipe of the {self.repo} repo (ci.md line {self.line})"


def read_recipes(text: str) -> list[Recipe]:
    """Every fenced YAML block of a Markdown text, dedented out of its tab."""
    lines = text.splitlines()
    recipes = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        index += 1
        if fence is None:
            continue
        indent, start, block = fence.group("indent"), index, []
        while index < len(lines) and lines[index].rstrip() != f"{indent}```":
            block.append(lines[index])
            index += 1
        index += 1
        body = textwrap.dedent("\n".join(block)) + "\n"
        header = _HEADER.match(body.splitlines()[0]) if body.strip() else None
        assert header, f"the YAML block at ci.md line {start + 1} does not say which file it is"
        repo = "pipeline" if header.group(2) == "the pipeline's" else "service"
        recipes.append(Recipe(header.group(1), repo, body, start + 1))
    return recipes


RECIPES = read_recipes(GUIDE.read_text(encoding="utf-8"))


def recipe(kind: str, repo: str) -> Recipe:
    [found] = [r for r in RECIPES if r.kind == kind and r.repo == repo]
    return found


def of_kind(kind: str) -> list[Recipe]:
    return [r for r in RECIPES if r.kind == kind]


def workflow_on(data: dict[Any, Any]) -> Any:
    """A workflow's `on:`; YAML 1.1 (PyYAML) reads the bare key as True."""
    return data.get("on", data.get(True))


def install_spec(found: Recipe) -> str:
    """The value of PIPELINE_DOCS in a GitLab or GitHub recipe."""
    data = found.data
    value = (data["variables"] if found.kind == "gitlab" else data["env"])["PIPELINE_DOCS"]
    assert isinstance(value, str), found
    return value


def gitlab_scripts(found: Recipe) -> dict[str, list[str]]:
    """Each job's lines as GitLab runs them: the default before_script, then its script."""
    data = found.data
    before = data.get("default", {}).get("before_script", [])
    jobs = {k: v for k, v in data.items() if isinstance(v, dict) and "script" in v}
    return {name: [*job.get("before_script", before), *job["script"]] for name, job in jobs.items()}


def github_runs(found: Recipe) -> dict[str, list[str]]:
    return {
        name: [step["run"] for step in job["steps"] if "run" in step]
        for name, job in found.data["jobs"].items()
    }


def lines_of(found: Recipe) -> list[str]:
    scripts = gitlab_scripts(found) if found.kind == "gitlab" else github_runs(found)
    return [line for lines in scripts.values() for line in lines]


def commands_of(repo: str) -> list[str]:
    """The distinct `pipeline-docs` lines of the GitLab and GitHub recipes of a repo, in order."""
    lines = [line for kind in ("gitlab", "github") for line in lines_of(recipe(kind, repo))]
    return list(dict.fromkeys(line for line in lines if line.startswith("pipeline-docs ")))


# --- what the recipes say ----------------------------------------------------------------------


def test_the_guide_has_each_recipe_once() -> None:
    assert sorted((r.kind, r.repo) for r in RECIPES) == [
        ("github", "pipeline"),
        ("github", "service"),
        ("gitlab", "pipeline"),
        ("gitlab", "service"),
        ("pre-commit", "pipeline"),
        ("pre-commit", "service"),
    ]


def test_every_recipe_names_the_repository_in_one_place_at_one_release() -> None:
    for found in RECIPES:
        assert found.text.count(PLACEHOLDER) == 1, found
        if found.kind == "pre-commit":
            [entry] = found.data["repos"]
            assert (entry["repo"], entry["rev"]) == (PLACEHOLDER, REF), found
        else:
            assert install_spec(found) == f"git+{PLACEHOLDER}@{REF}", found
    guide = GUIDE.read_text(encoding="utf-8")
    assert "the one line to change" in guide
    assert f"git tag {REF}" in guide  # the ref exists once a team tags its mirror


def test_no_recipe_installs_from_a_package_index() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    assert re.search(r"pip install\s+['\"]?pipeline-docs", guide) is None
    for found in of_kind("gitlab") + of_kind("github"):
        installs = [line for line in lines_of(found) if line.startswith("pip ")]
        assert installs and set(installs) == {INSTALL}, found


def test_every_line_of_the_ci_recipes_is_an_install_or_a_pipeline_docs_command() -> None:
    # so that the tests below, which run these two kinds, run every line there is
    for found in of_kind("gitlab") + of_kind("github"):
        for line in lines_of(found):
            assert line == INSTALL or line.startswith("pipeline-docs "), (found, line)
            assert "${{" not in line, (found, line)


@needs_corpus
@pytest.mark.parametrize("repo", ["pipeline", "service"])
def test_the_gitlab_recipes_are_valid_gitlab_ci(repo: str) -> None:
    schema = json.loads(GITLAB_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    found = recipe("gitlab", repo)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(found.data)]
    assert errors == [], found


@pytest.mark.parametrize("repo", ["pipeline", "service"])
def test_the_github_recipes_are_workflows(repo: str) -> None:
    found = recipe("github", repo)
    data = found.data
    assert set(data) <= {"name", "on", True, "env", "permissions", "concurrency", "jobs"}
    assert workflow_on(data), found
    assert data["jobs"], found
    for name, job in data["jobs"].items():
        assert isinstance(job["runs-on"], str), (found, name)
        for step in job["steps"]:
            assert len({"uses", "run"} & set(step)) == 1, (found, step)
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), (found, step)
    if GITHUB_SCHEMA.is_file():  # SchemaStore's workflow schema, when the corpus has it
        as_json = {("on" if k is True else k): v for k, v in data.items()}
        schema = json.loads(GITHUB_SCHEMA.read_text(encoding="utf-8"))
        assert list(jsonschema.Draft7Validator(schema).iter_errors(as_json)) == [], found


def test_the_pipeline_repo_recipes_clone_in_full_for_the_changelog_gate() -> None:
    gitlab = recipe("gitlab", "pipeline").data
    assert gitlab["variables"]["GIT_DEPTH"] == 0
    assert all(
        "GIT_DEPTH" not in job.get("variables", {})
        for job in gitlab.values()
        if isinstance(job, dict)
    )
    github = recipe("github", "pipeline")
    for name, job in github.data["jobs"].items():
        runs = github_runs(github)[name]
        if any(line.startswith(("pipeline-docs check", "pipeline-docs build")) for line in runs):
            [checkout] = [
                s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")
            ]
            assert checkout["with"]["fetch-depth"] == 0, (github, name)


def test_the_gitlab_pipeline_recipe_reports_and_publishes_what_its_commands_write() -> None:
    data = recipe("gitlab", "pipeline").data
    reports = data["docs-check"]["artifacts"]["reports"]
    script = " ".join(data["docs-check"]["script"])
    assert f"--output {reports['junit']}" in script and "--format junit" in script
    assert f"--output {reports['codequality']}" in script and "--format codequality" in script
    assert data["docs-check"]["artifacts"]["when"] == "always"
    assert data["pages"]["artifacts"]["paths"] == ["public"]
    assert data["pages"]["script"] == ["pipeline-docs build --site-dir public"]


# --- a mirror of this project, and pipeline-docs installed from it as the recipes install it ---


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repo holding its work tree as it would be committed (in CI, a fresh
    clone: HEAD itself), tagged as the guide tells a team to tag its mirror."""
    dest = tmp_path_factory.mktemp("mirror") / "pipeline-docs"
    git(dest.parent, "clone", "--quiet", str(REPO), dest.name)
    listed = git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        source, target = REPO / name, dest / name
        if source.is_file() or source.is_symlink():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
        elif target.exists():
            target.unlink()  # deleted in the work tree
    if git(dest, "status", "--porcelain"):
        git_commit(dest, "the work tree")
    git(dest, "tag", REF)
    return dest


def base_env() -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    return {**env, "NO_COLOR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


def sh(
    line: str, cwd: Path, env: dict[str, str], timeout: int = RUN_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """One line of a recipe, run by bash as a CI runner runs it."""
    return subprocess.run(
        ["bash", "-c", line], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )  # fmt: skip


@pytest.fixture(scope="module")
def installed(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pipeline-docs installed by the recipes' install line into a fresh virtual environment;
    the environment a recipe's lines run in (its PIPELINE_DOCS pointing at the mirror)."""
    venv = tmp_path_factory.mktemp("ci") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=RUN_TIMEOUT)
    spec = install_spec(recipe("gitlab", "pipeline")).replace(PLACEHOLDER, f"file://{mirror}")
    env = {
        **base_env(),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PIPELINE_DOCS": spec,
    }
    done = sh(INSTALL, venv.parent, env, timeout=INSTALL_TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return env


def test_the_install_line_installs_pipeline_docs_from_the_mirror(installed: dict[str, str]) -> None:
    assert installed["PIPELINE_DOCS"].startswith("git+file://") and installed[
        "PIPELINE_DOCS"
    ].endswith(f"@{REF}")
    where = sh("python -c 'import generator; print(generator.__file__)'", Path("/"), installed)
    assert where.returncode == 0, where.stderr
    assert "/venv/lib/" in where.stdout and not where.stdout.startswith(
        str(REPO)
    )  # not this work tree
    assert sh("pipeline-docs --help", Path("/"), installed).returncode == 0


# --- the recipes' commands on a pipeline repo and on a service repo ----------------------------


@pytest.fixture(scope="module")
def pipeline_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample pipeline as a git repo of its own (a full clone: GIT_DEPTH 0, fetch-depth 0)."""
    root = copy_sample(tmp_path_factory.mktemp("acme") / "pipeline").parent
    (root / ".gitignore").write_text(".cache/\npublic/\n", encoding="utf-8")
    git_init(root)
    git_commit(root, "the ACME pipeline")
    return root


@pytest.fixture(scope="module")
def service_repo(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service's repo: its `.pipeline.yml` and the copy of the pipeline's schemas the guide
    tells it to keep."""
    root = git_init(tmp_path_factory.mktemp("payments") / "payments-api")
    shutil.copy2(mirror / "examples" / "services" / "payments-api" / ".pipeline.yml", root)
    shutil.copytree(mirror / "schemas", root / SCHEMA_COPY)
    git_commit(root, "payments-api")
    return root


@contextlib.contextmanager
def undocumented_option(repo: Path, path: str) -> Iterator[None]:
    """A change a gate must refuse, undone afterwards: a schema option without a description,
    or a service config using an option no schema documents."""
    file = repo / path
    if path.endswith(".json"):
        schema = json.loads(file.read_text(encoding="utf-8"))
        schema["properties"]["undocumented"] = {"type": "string"}
        file.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    else:
        file.write_text(file.read_text(encoding="utf-8") + "colour: blue\n", encoding="utf-8")
    try:
        yield
    finally:
        git(repo, "checkout", "--quiet", "HEAD", "--", path)


def expected_exit(line: str, broken: bool) -> int:
    return 1 if broken and "--fail-on never" not in line else 0


def test_the_pipeline_repo_commands_pass_on_the_sample_and_write_what_ci_collects(
    installed: dict[str, str], pipeline_repo: Path
) -> None:
    commands = commands_of("pipeline")
    assert any(line.startswith("pipeline-docs build") for line in commands)
    for line in commands:
        done = sh(line, pipeline_repo, installed)
        assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
    assert isinstance(
        json.loads((pipeline_repo / "gl-code-quality.json").read_text(encoding="utf-8")), list
    )
    assert ET.parse(pipeline_repo / "pipeline-docs.xml").getroot().tag in (
        "testsuites",
        "testsuite",
    )
    sarif = json.loads((pipeline_repo / "pipeline-docs.sarif").read_text(encoding="utf-8"))
    assert sarif["version"] == "2.1.0"
    assert (pipeline_repo / "public" / "index.html").is_file()
    assert (pipeline_repo / "public" / "reference" / "schemas" / "service" / "index.html").is_file()


def test_the_pipeline_repo_gates_fail_on_an_undocumented_option(
    installed: dict[str, str], pipeline_repo: Path
) -> None:
    with undocumented_option(pipeline_repo, "schemas/service.schema.json"):
        for line in commands_of("pipeline"):
            if line.startswith("pipeline-docs build"):
                continue  # refuses as check does (tests/test_check.py); one site build is enough
            done = sh(line, pipeline_repo, installed)
            assert done.returncode == expected_exit(line, broken=True), (line, done.stderr[-3000:])
            assert "schema/missing-description" in done.stdout + done.stderr, line
    github = sh("pipeline-docs check --format github", pipeline_repo, installed)
    assert github.returncode == 0  # undone


def test_the_service_repo_commands_validate_its_config(
    installed: dict[str, str], service_repo: Path
) -> None:
    commands = commands_of("service")
    assert commands and all(
        line.startswith("pipeline-docs validate .pipeline.yml") for line in commands
    )
    for line in commands:
        done = sh(line, service_repo, installed)
        assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
    report = recipe("gitlab", "service").data["pipeline-config"]["artifacts"]["reports"][
        "codequality"
    ]
    assert json.loads((service_repo / report).read_text(encoding="utf-8")) == []
    with undocumented_option(service_repo, ".pipeline.yml"):
        for line in commands:
            done = sh(line, service_repo, installed)
            assert done.returncode == 1, (line, done.stderr[-3000:])
            assert "colour is not an option" in done.stdout, line


# --- pre-commit: the recipes as written, and the hooks through `try-repo` -----------------------


@pytest.fixture(scope="module")
def pre_commit_env(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """pre-commit with its own home in tmp (the hooks' environment is made once)."""
    home = tmp_path_factory.mktemp("pre-commit-home")
    return {**base_env(), "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env, capture_output=True, text=True,
        timeout=INSTALL_TIMEOUT, check=False,
    )  # fmt: skip


def use_recipe(repo: Path, kind: str, mirror: Path) -> None:
    """The repo's .pre-commit-config.yaml is the guide's, with the mirror in the placeholder's place."""
    found = recipe("pre-commit", kind)
    (repo / found.file).write_text(found.text.replace(PLACEHOLDER, str(mirror)), encoding="utf-8")
    git_commit(repo, "pre-commit")


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout[-4000:] + done.stderr[-4000:]


def test_the_service_pre_commit_recipe_passes_a_valid_config_and_fails_an_undocumented_option(
    mirror: Path, service_repo: Path, pre_commit_env: dict[str, str]
) -> None:
    use_recipe(service_repo, "service", mirror)
    passed = pre_commit(service_repo, pre_commit_env, "run", "--all-files")
    assert passed.returncode == 0, output(passed)
    assert re.search(r"pipeline-docs validate\.+Passed", passed.stdout), passed.stdout
    with undocumented_option(service_repo, ".pipeline.yml"):
        failed = pre_commit(service_repo, pre_commit_env, "run", "--all-files")
    assert failed.returncode == 1, output(failed)
    assert "colour is not an option" in failed.stdout


def shipped_hook(mirror: Path, hook: str, folder: Path) -> Path:
    """The config `try-repo` writes for one hook: the hook as shipped, without args of ours."""
    config = folder / f"{hook}.yaml"
    entry = {"repo": str(mirror), "rev": REF, "hooks": [{"id": hook}]}
    config.write_text(yaml.safe_dump({"repos": [entry]}), encoding="utf-8")
    return config


def test_the_validate_hook_works_as_shipped_in_a_service_repo(
    mirror: Path, service_repo: Path, pre_commit_env: dict[str, str], tmp_path: Path
) -> None:
    args = [
        "try-repo",
        str(mirror),
        "pipeline-docs-validate",
        "--ref",
        REF,
        "--files",
        ".pipeline.yml",
    ]
    passed = pre_commit(service_repo, pre_commit_env, *args)
    assert passed.returncode == 0, output(passed)
    assert re.search(r"pipeline-docs validate\.+Passed", passed.stdout), passed.stdout
    # try-repo makes the hook's environment anew on each run (a private store): the failing case
    # runs the same config in the module's store
    config = shipped_hook(mirror, "pipeline-docs-validate", tmp_path)
    with undocumented_option(service_repo, ".pipeline.yml"):
        failed = pre_commit(
            service_repo, pre_commit_env, "run", "-c", str(config), "--files", ".pipeline.yml"
        )
    assert failed.returncode == 1, output(failed)
    assert "colour is not an option" in failed.stdout


def test_the_pipeline_pre_commit_recipe_runs_the_check_hook_as_the_gate(
    mirror: Path, pipeline_repo: Path, pre_commit_env: dict[str, str]
) -> None:
    use_recipe(pipeline_repo, "pipeline", mirror)
    passed = pre_commit(pipeline_repo, pre_commit_env, "run", "--all-files")
    assert passed.returncode == 0, output(passed)
    assert re.search(r"pipeline-docs check\.+Passed", passed.stdout), passed.stdout
    with undocumented_option(pipeline_repo, "schemas/service.schema.json"):
        failed = pre_commit(pipeline_repo, pre_commit_env, "run", "--all-files")
    assert failed.returncode == 1, output(failed)
    assert "schema/missing-description" in failed.stdout
