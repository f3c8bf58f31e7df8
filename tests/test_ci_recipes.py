"""The CI recipes of docs/guides/ci.md work as written (issue 17).

The recipes are read from the guide's fenced YAML blocks, never copied here. Each names this
project's repository once, by a placeholder URL; the tests put a local mirror in its place (a
clone of this repo, tagged as the guide tells a team to tag its mirror), install from it as the
recipes do (`pip install "$PIPELINE_DOCS"` into a fresh virtual environment, dependencies from
the configured package index), run every `pipeline-docs` line of each recipe on the sample
pipeline and on a service repo, and run the pre-commit recipes and hooks with pre-commit itself.
The recipes that rebuild the site on every merge to an env repo (issue 20) run their other lines
too, against a local stand-in of the forge (`ci_standin`): the trigger API call and the
`repository_dispatch` request, the credential helper that reads a private env repo; the trigger
job's rules are read as GitLab reads them, and the docs job builds twice with the cache kept.
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
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import jsonschema
import pytest
import yaml
from ci_standin import StandIn, standin
from conftest import (
    CORPUS,
    REPO,
    copy_sample,
    git,
    git_commit,
    git_init,
    needs_corpus,
    serve_folder,
)

from generator.config import load_config
from generator.sample import prepare_sample

GUIDE = REPO / "docs" / "guides" / "ci.md"
PLACEHOLDER = "https://git.example.com/platform/pipeline-docs.git"
REF = (
    "v" + tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
)
GITLAB_SCHEMA = CORPUS / "schemas" / "gitlab-ci" / "gitlab-ci.json"
GITHUB_SCHEMA = CORPUS / "schemas" / "schemastore" / "github-workflow.json"
INSTALL = 'pip install "$PIPELINE_DOCS"'
SCHEMA_COPY = "pipeline-schemas"
SITE_URL = "https://docs.example.com/"  # where the service recipes say the pipeline's site is
INSTALL_TIMEOUT = 1800
RUN_TIMEOUT = 600

# The first line of every recipe says which file of which repo it is, and which variant of it
# where a repo has two (the pipeline's, rebuilt on every merge to an env repo).
_HEADER = re.compile(r"^# (\S+) of (the pipeline's|a service's|an env) repository(?:, (.+))?$")
_REPOS = {"the pipeline's": "pipeline", "a service's": "service", "an env": "env"}
LIVE = "rebuilt on every merge to an env repo"
TOKEN = "with a trigger token"
_FENCE = re.compile(r"^(?P<indent>\s*)```yaml\s*$")


@dataclass(frozen=True)
class Recipe:
    """One fenced YAML block of the guide: which file it is, for which repo, and its text."""

    file: str  # .gitlab-ci.yml, .github/workflows/NAME.yml or .pre-commit-config.yaml
    repo: str  # "pipeline", "service" or "env"
    text: str
    line: int  # of its first line in the guide
    variant: str = ""  # LIVE, TOKEN, or "" for a repo's first recipe of a kind

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
        variant = f", {self.variant}" if self.variant else ""
        return f"{self.kind} recipe of the {self.repo} repo{variant} (ci.md line {self.line})"


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
        repo = _REPOS[header.group(2)]
        recipes.append(Recipe(header.group(1), repo, body, start + 1, header.group(3) or ""))
    return recipes


RECIPES = read_recipes(GUIDE.read_text(encoding="utf-8"))


def recipe(kind: str, repo: str, variant: str = "") -> Recipe:
    [found] = [r for r in RECIPES if (r.kind, r.repo, r.variant) == (kind, repo, variant)]
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
    lines = [
        line
        for r in of_kind("gitlab") + of_kind("github")
        if r.repo == repo
        for line in lines_of(r)
    ]
    return list(dict.fromkeys(line for line in lines if line.startswith("pipeline-docs ")))


# --- what the recipes say ----------------------------------------------------------------------


def test_the_guide_has_each_recipe_once() -> None:
    assert sorted((r.kind, r.repo, r.variant) for r in RECIPES) == [
        ("github", "env", ""),
        ("github", "pipeline", ""),
        ("github", "pipeline", LIVE),
        ("github", "service", ""),
        ("gitlab", "env", ""),
        ("gitlab", "env", TOKEN),
        ("gitlab", "pipeline", ""),
        ("gitlab", "pipeline", LIVE),
        ("gitlab", "service", ""),
        ("pre-commit", "pipeline", ""),
        ("pre-commit", "service", ""),
    ]


def test_every_recipe_names_the_repository_in_one_place_at_one_release() -> None:
    for found in RECIPES:
        if found.repo == "env":  # an env repo's job installs nothing: it starts the docs pipeline
            assert PLACEHOLDER not in found.text and "pip " not in found.text, found
            continue
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
        if found.repo == "env":
            continue
        installs = [line for line in lines_of(found) if line.startswith("pip ")]
        assert installs and set(installs) == {INSTALL}, found


# The lines that are neither the install nor a `pipeline-docs` command, by the recipes they may
# be in; each kind is run by a test of its own below, against the local stand-in.
OTHER_LINES = {
    "git config --global credential.": ("pipeline", LIVE),  # private env repos
    "curl ": ("env", TOKEN),  # GitLab's trigger API
    "gh api ": ("env", ""),  # GitHub's repository_dispatch
}


def test_every_line_of_the_ci_recipes_is_one_the_tests_run() -> None:
    # so that the tests below, which run these kinds, run every line there is
    for found in of_kind("gitlab") + of_kind("github"):
        for line in lines_of(found):
            other = [(repo, variant) for start, (repo, variant) in OTHER_LINES.items()
                     if line.startswith(start)]  # fmt: skip
            assert (
                line == INSTALL or line.startswith("pipeline-docs ")
                or other == [(found.repo, found.variant)]
            ), (found, line)  # fmt: skip
            assert "${{" not in line, (found, line)


@needs_corpus
@pytest.mark.parametrize("found", of_kind("gitlab"), ids=str)
def test_the_gitlab_recipes_are_valid_gitlab_ci(found: Recipe) -> None:
    schema = json.loads(GITLAB_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(found.data)]
    assert errors == [], found
    # the schema bites: a job key GitLab does not know is refused
    wrong = {**found.data, "docs-typo": {"script": ["true"], "rulez": []}}
    assert any(validator.iter_errors(wrong)), found


def github_workflow_schema() -> Any:
    """SchemaStore's workflow schema: the corpus's copy, else the one check-jsonschema ships."""
    if GITHUB_SCHEMA.is_file():
        return json.loads(GITHUB_SCHEMA.read_text(encoding="utf-8"))
    try:
        vendored = resources.files("check_jsonschema") / "builtin_schemas" / "vendor"
    except ModuleNotFoundError:
        pytest.skip(
            "check-jsonschema is not installed (a test dependency: pip install -e '.[test]')"
        )
    return json.loads((vendored / "github-workflows.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("found", of_kind("github"), ids=str)
def test_the_github_recipes_are_workflows(found: Recipe) -> None:
    data = found.data
    allowed = {"name", "run-name", "on", True, "env", "permissions", "concurrency", "jobs"}
    assert set(data) <= allowed
    assert workflow_on(data), found
    assert data["jobs"], found
    for name, job in data["jobs"].items():
        assert isinstance(job["runs-on"], str), (found, name)
        for step in job["steps"]:
            assert len({"uses", "run"} & set(step)) == 1, (found, step)
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), (found, step)
    as_json = {("on" if k is True else k): v for k, v in data.items()}
    validator = jsonschema.Draft7Validator(github_workflow_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(as_json)]
    assert errors == [], found
    wrong = {**as_json, "jobs": {**as_json["jobs"], "typo": {"runs-on": "x", "stepz": []}}}
    assert any(validator.iter_errors(wrong)), found


@pytest.mark.parametrize("variant", ["", LIVE])
def test_the_pipeline_repo_recipes_clone_in_full_for_the_changelog_gate(variant: str) -> None:
    gitlab = recipe("gitlab", "pipeline", variant).data
    assert gitlab["variables"]["GIT_DEPTH"] == 0
    assert all(
        "GIT_DEPTH" not in job.get("variables", {})
        for job in gitlab.values()
        if isinstance(job, dict)
    )
    github = recipe("github", "pipeline", variant)
    for name, job in github.data["jobs"].items():
        runs = github_runs(github)[name]
        if any(line.startswith(("pipeline-docs check", "pipeline-docs build")) for line in runs):
            [checkout] = [
                s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")
            ]
            assert checkout["with"]["fetch-depth"] == 0, (github, name)


@pytest.mark.parametrize("variant", ["", LIVE])
def test_the_gitlab_pipeline_recipe_reports_and_publishes_what_its_commands_write(
    variant: str,
) -> None:
    data = recipe("gitlab", "pipeline", variant).data
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


@pytest.fixture
def published_site(installed: dict[str, str], pipeline_repo: Path, tmp_path: Path) -> Iterator[str]:
    """The sample's site as `generate` writes it, on a local HTTP server: what the service
    recipes' schema URL names (`https://docs.example.com/` there); yields its base URL."""
    site = tmp_path / "published" / "site"
    done = sh(f"pipeline-docs generate --out {site}", pipeline_repo, installed)
    assert done.returncode == 0, done.stderr[-3000:]
    with serve_folder(site) as base:
        yield base


def test_the_service_repo_commands_validate_its_config(
    installed: dict[str, str], service_repo: Path, published_site: str
) -> None:
    named = commands_of("service")
    assert named and all(line.startswith("pipeline-docs validate .pipeline.yml") for line in named)
    assert all(f"--schema {SITE_URL}schemas/" in line for line in named)  # the published schema
    commands = [line.replace(SITE_URL, published_site) for line in named]
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


# --- rebuilt on every merge to an env repo: the trigger, the dispatch, the cache, private repos -

DEFAULT_BRANCH = "main"  # the pipeline repo's, as its workflows' `branches: [main]` say
ENV_CI = {  # what GitLab and GitHub tell a job of the env repo dev
    "CI_PROJECT_PATH": "platform/env-dev",
    "CI_COMMIT_SHA": "4f2c9e0b7d1a6c3e8f5b2a9d0c7e4b1a6f3d8c2e",
    "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
    "GITHUB_REPOSITORY": "acme/env-dev",
    "GITHUB_SHA": "4f2c9e0b7d1a6c3e8f5b2a9d0c7e4b1a6f3d8c2e",
}
GH = shutil.which("gh")
_VAR = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_TERM = re.compile(r'^\$(\w+)(?:\s*(==|!=)\s*(?:\$(\w+)|"([^"]*)"))?$')


def expand(value: str, variables: dict[str, str]) -> str:
    """A value with its variables expanded as GitLab expands them (an unknown one is empty)."""
    return _VAR.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)


def rule_matches(condition: str, variables: dict[str, str]) -> bool:
    """A `rules: if:` of the recipes as GitLab reads it: comparisons and bare variables joined by
    `&&` and `||` (the recipes have no parentheses); an unset variable is null."""

    def term(text: str) -> bool:
        match = _TERM.match(text.strip())
        assert match, f"an expression this test cannot read: {text!r}"
        name, operator, other, literal = match.groups()
        left = variables.get(name)
        if operator is None:
            return bool(left)
        right = variables.get(other) if other else literal
        return (left == right) == (operator == "==")

    return any(all(term(t) for t in part.split("&&")) for part in condition.split("||"))


def first_rule(rules: list[dict[str, Any]], variables: dict[str, str]) -> dict[str, Any] | None:
    """The rule GitLab stops at: the first whose `if:` holds (or that has none)."""
    return next((r for r in rules if "if" not in r or rule_matches(r["if"], variables)), None)


def job_runs(job: dict[str, Any], variables: dict[str, str]) -> bool:
    if "rules" not in job:
        return True
    rule = first_rule(job["rules"], variables)
    return rule is not None and rule.get("when", "on_success") != "never"


def trigger_job(found: Recipe) -> dict[str, Any]:
    [job] = [job for job in found.data.values() if isinstance(job, dict) and "trigger" in job]
    return job


def handed_on(job: dict[str, Any], variables: dict[str, str]) -> dict[str, str]:
    """The variables an env repo's job hands the docs pipeline, expanded in the env repo."""
    return {name: expand(value, variables) for name, value in job["variables"].items()}


def pipeline(source: str, branch: str | None, **more: str) -> dict[str, str]:
    """What GitLab tells a pipeline of the pipeline's repository."""
    variables = {"CI_PIPELINE_SOURCE": source, "CI_DEFAULT_BRANCH": DEFAULT_BRANCH, **more}
    return {**variables, "CI_COMMIT_BRANCH": branch} if branch else variables


def pipeline_name(docs: dict[str, Any], variables: dict[str, str]) -> str:
    """The docs pipeline's name: `workflow: name:` with its rules' variables."""
    known = {**docs["variables"], **variables}
    rule = first_rule(docs["workflow"]["rules"], known) or {}
    known |= {k: expand(v, known) for k, v in rule.get("variables", {}).items()}
    return expand(docs["workflow"]["name"], known)


def test_a_merge_to_an_env_repo_triggers_the_docs_pipeline_with_what_it_reads() -> None:
    job = trigger_job(recipe("gitlab", "env"))
    docs = recipe("gitlab", "pipeline", LIVE).data
    merged = {**ENV_CI, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": DEFAULT_BRANCH}
    assert job_runs(job, merged)
    assert not job_runs(job, {**merged, "CI_COMMIT_BRANCH": "feature"})
    assert not job_runs(job, {**ENV_CI, "CI_PIPELINE_SOURCE": "merge_request_event"})
    assert job["inherit"]["variables"] is False  # the env repo's GIT_DEPTH and such stay there
    assert set(job["trigger"]) == {"project", "branch"}  # no strategy: depend
    assert job["trigger"]["branch"] == DEFAULT_BRANCH
    # it hands on exactly the variables the docs pipeline's workflow reads, besides its own
    handed = handed_on(job, merged)
    read = {a or b for a, b in _VAR.findall(yaml.safe_dump(docs["workflow"]))}
    assert set(handed) == {
        n for n in read if not n.startswith("CI_") and n not in docs["variables"]
    }
    downstream = pipeline("pipeline", job["trigger"]["branch"], **handed)
    name = pipeline_name(docs, downstream)
    assert ENV_CI["CI_PROJECT_PATH"] in name and ENV_CI["CI_COMMIT_SHA"] in name, name
    assert ENV_CI["CI_PROJECT_PATH"] not in pipeline_name(docs, pipeline("push", DEFAULT_BRANCH))
    assert job_runs(docs["pages"], downstream) and job_runs(docs["docs-check"], downstream)


@pytest.mark.parametrize(
    ("source", "branch", "publishes"),
    [
        ("pipeline", DEFAULT_BRANCH, True),  # an env repo's trigger job
        ("trigger", DEFAULT_BRANCH, True),  # an env repo's trigger token
        ("push", DEFAULT_BRANCH, True),
        ("web", DEFAULT_BRANCH, True),
        ("pipeline", "feature", False),
        ("push", "feature", False),
        ("merge_request_event", None, False),
    ],
)
def test_the_docs_pipeline_publishes_from_its_default_branch_only(
    source: str, branch: str | None, publishes: bool
) -> None:
    docs = recipe("gitlab", "pipeline", LIVE).data
    assert job_runs(docs["pages"], pipeline(source, branch)) is publishes
    assert "rules" not in docs["docs-check"]  # checked in every pipeline of a branch


def clean_env(home: Path) -> dict[str, str]:
    """base_env without proxies or forge tokens of this machine, with a home of its own."""
    drop = {"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GH_HOST", "CI_JOB_TOKEN"}
    env = {k: v for k, v in base_env().items() if k not in drop and "proxy" not in k.lower()}
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


def test_the_trigger_token_recipe_calls_the_trigger_api_as_the_trigger_job_would(
    tmp_path: Path,
) -> None:
    found = recipe("gitlab", "env", TOKEN)
    [job] = [job for job in found.data.values() if isinstance(job, dict) and "script" in job]
    trigger = trigger_job(recipe("gitlab", "env"))
    token = "glptt-0123456789abcdefghij"
    merged = {**ENV_CI, "CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": DEFAULT_BRANCH}
    assert job_runs(job, merged) and not job_runs(job, {**merged, "CI_COMMIT_BRANCH": "feature"})

    def run(server: StandIn) -> subprocess.CompletedProcess[str]:
        variables = {**merged, "CI_API_V4_URL": f"{server.url}/api/v4", "DOCS_TRIGGER_TOKEN": token}
        variables |= {k: expand(v, variables) for k, v in job["variables"].items()}
        [line] = job["script"]
        return sh(line, tmp_path, {**clean_env(tmp_path / "home"), **variables})

    with standin(StandIn(status=201, answer=b'{"id": 1, "status": "created"}')) as server:
        done = run(server)
    assert done.returncode == 0, done.stderr
    [sent] = server.api()
    assert sent.method == "POST"
    assert (
        unquote(sent.path) == f"/api/v4/projects/{trigger['trigger']['project']}/trigger/pipeline"
    )
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(sent.body.decode(), keep_blank_values=True, strict_parsing=True)
    handed = {f"variables[{k}]": [v] for k, v in handed_on(trigger, merged).items()}
    assert form == {"token": [token], "ref": [trigger["trigger"]["branch"]], **handed}
    assert token not in sent.path + sent.query  # in the body, never in a URL a log shows
    # a token GitLab does not know fails the job instead of passing in silence
    with standin(StandIn(status=404, answer=b'{"message": "404 Not Found"}')) as refused:
        assert run(refused).returncode != 0


def step_env(
    found: Recipe, job: dict[str, Any], step: dict[str, Any], secrets: dict[str, str]
) -> dict[str, str]:
    """A step's environment as the runner makes it: the workflow's, the job's, the step's `env:`,
    each `${{ secrets.NAME }}` replaced by the secret."""
    merged = {**found.data.get("env", {}), **job.get("env", {}), **step.get("env", {})}
    env = {
        k: re.sub(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", lambda m: secrets[m.group(1)], str(v))
        for k, v in merged.items()
    }
    assert not any("${{" in v for v in env.values()), (found, env)
    return env


@pytest.mark.skipif(
    GH is None,
    reason="gh is not installed (Debian's package gh): the GitHub env repo recipe runs it",
)
def test_the_env_workflow_dispatches_the_event_the_docs_workflow_runs_on(tmp_path: Path) -> None:
    found = recipe("github", "env")
    docs = recipe("github", "pipeline", LIVE)
    assert workflow_on(found.data) == {"push": {"branches": [DEFAULT_BRANCH]}}
    [job] = found.data["jobs"].values()
    [step] = [s for s in job["steps"] if "run" in s]
    secret = "github_pat_0123456789abcdefghij"

    def run(server: StandIn) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
        env = {
            **clean_env(tmp_path / "home"),
            **step_env(found, job, step, {"DOCS_DISPATCH_TOKEN": secret}),
            **{k: v for k, v in ENV_CI.items() if k.startswith("GITHUB_")},
            # gh speaks plain HTTP to the host github.localhost alone; its API host resolves
            # nowhere, so a proxy leads gh's request to the stand-in
            "GH_HOST": "github.localhost", "HTTP_PROXY": server.url,
            "GH_CONFIG_DIR": str(tmp_path / "gh"), "GH_NO_UPDATE_NOTIFIER": "1",
        }  # fmt: skip
        return sh(step["run"], tmp_path, env), env

    with standin() as server:
        done, env = run(server)
    assert done.returncode == 0, done.stderr
    [sent] = server.api()
    assert sent.method == "POST"
    assert sent.path == f"/repos/{env['DOCS_REPO']}/dispatches"
    assert sent.headers["Authorization"] == f"token {secret}"
    body = json.loads(sent.body)
    assert body["event_type"] in workflow_on(docs.data)["repository_dispatch"]["types"]
    read = set(re.findall(r"github\.event\.client_payload\.(\w+)", docs.text))
    assert set(body["client_payload"]) == read
    assert set(body["client_payload"].values()) == {
        ENV_CI["GITHUB_REPOSITORY"],
        ENV_CI["GITHUB_SHA"],
    }
    with standin(StandIn(status=401, answer=b'{"message": "Bad credentials"}')) as refused:
        assert run(refused)[0].returncode != 0


# the job that publishes and the job that only checks, in each docs recipe
LIVE_JOBS = {"gitlab": ("pages", "docs-check"), "github": ("pages", "check")}


def job_lines(found: Recipe, job: str) -> list[str]:
    """A job's lines but the install (done once for the module: `installed`)."""
    scripts = gitlab_scripts(found) if found.kind == "gitlab" else github_runs(found)
    return [line for line in scripts[job] if line != INSTALL]


def cache_of(found: Recipe, job: str) -> dict[str, Any]:
    """A job's cache: GitLab's `cache:`, or the actions/cache step's `with:` (and which action)."""
    if found.kind == "gitlab":
        return dict(found.data[job]["cache"])
    [step] = [
        s for s in found.data["jobs"][job]["steps"] if s.get("uses", "").startswith("actions/cache")
    ]
    return {**step["with"], "uses": step["uses"].split("@")[0]}


def test_the_docs_recipes_check_with_the_cache_the_build_keeps() -> None:
    gitlab = recipe("gitlab", "pipeline", LIVE)
    built, checked = cache_of(gitlab, "pages"), cache_of(gitlab, "docs-check")
    assert built["paths"] == [".cache/"] and "policy" not in built  # pulled and pushed
    assert checked == {**built, "policy": "pull"}
    github = recipe("github", "pipeline", LIVE)
    built, checked = cache_of(github, "pages"), cache_of(github, "check")
    assert built["path"] == ".cache" and built["uses"] == "actions/cache"
    assert checked == {**built, "uses": "actions/cache/restore"}
    # a cache entry is never overwritten: each run saves its own, the next restores the newest
    assert built["key"].endswith("${{ github.run_id }}")
    assert built["key"].startswith(built["restore-keys"])


def ci_variables(found: Recipe, server_url: str) -> dict[str, str]:
    """The forge's URL as GitLab or GitHub names it to a job."""
    return {"CI_SERVER_URL" if found.kind == "gitlab" else "GITHUB_SERVER_URL": server_url}


@pytest.mark.parametrize("kind", ["gitlab", "github"])
def test_a_rebuild_after_a_merge_reuses_the_pages_the_kept_cache_holds(
    kind: str, installed: dict[str, str], pipeline_repo: Path, tmp_path: Path
) -> None:
    found = recipe(kind, "pipeline", LIVE)
    cache = cache_of(found, "pages")
    paths = cache["paths"] if kind == "gitlab" else [cache["path"]]
    checkout, kept = tmp_path / "builds" / "delivery-pipeline", tmp_path / "runner-cache"
    env = {**installed, **clean_env(tmp_path / "home"), "PATH": installed["PATH"]}
    env |= ci_variables(found, "https://git.example.com")
    lasts = []
    for _run in range(2):  # a fresh clone each time, in the same folder, as a runner clones
        shutil.rmtree(checkout, ignore_errors=True)
        git(tmp_path, "clone", "--quiet", str(pipeline_repo), str(checkout))
        for path in paths:
            if (kept / path).is_dir():
                shutil.copytree(kept / path, checkout / path)
        for line in job_lines(found, "pages"):
            done = sh(line, checkout, env)
            assert done.returncode == 0, (line, done.stderr[-3000:])
        assert (checkout / "public" / "index.html").is_file()
        lasts.append(done.stderr.strip().splitlines()[-1])
        for path in paths:  # what the runner keeps after the job
            shutil.rmtree(kept / path, ignore_errors=True)
            shutil.copytree(checkout / path, kept / path)
    reuse = re.compile(r"; (\d+) pages? unchanged, from the cache")
    assert reuse.search(lasts[0]) is None, lasts
    second = reuse.search(lasts[1])
    assert second and int(second.group(1)) > 0, lasts


@pytest.mark.parametrize("kind", ["gitlab", "github"])
def test_a_private_env_repo_is_read_with_the_token_the_credential_helper_gives(
    kind: str, installed: dict[str, str], pipeline_repo: Path, tmp_path: Path
) -> None:
    found = recipe(kind, "pipeline", LIVE)
    checkout, served = tmp_path / "delivery-pipeline", tmp_path / "forge"
    git(tmp_path, "clone", "--quiet", str(pipeline_repo), str(checkout))
    [dev, *_] = prepare_sample(load_config(checkout / "pipeline-docs.yml"))
    git(tmp_path, "clone", "--quiet", "--bare", str(dev), str(served / "platform" / "env-dev.git"))
    shutil.rmtree(checkout / ".cache")  # the job starts without the replayed env repos' cache
    token, user = "glpat-0123456789abcdefghij", "docs-deploy-token"
    with standin(StandIn(git_root=served, password=token)) as server:
        config = checkout / "pipeline-docs.yml"
        text = config.read_text(encoding="utf-8")
        private = f"repo: {server.url}/platform/env-dev.git"
        config.write_text(text.replace("repo: .cache/sample/envs/dev", private), encoding="utf-8")
        assert private in config.read_text(encoding="utf-8")
        git_commit(checkout, "dev is a private repo of the forge")
        secrets = {"ENV_REPOS_TOKEN": token, "ENV_REPOS_USER": user}  # CI/CD variables, secrets
        env = {**installed, **clean_env(tmp_path / "home"), "PATH": installed["PATH"], **secrets}
        env |= ci_variables(found, server.url)
        lines = job_lines(found, LIVE_JOBS[kind][1])
        assert lines[0].startswith("git config --global credential.")
        for line in lines:
            done = sh(line, checkout, env)
            assert done.returncode == 0, (line, done.stdout[-3000:], done.stderr[-3000:])
            assert server.url not in done.stdout + done.stderr, line  # read: no finding names it
        assert server.users() == {user if kind == "gitlab" else "x-access-token"}
        # without the helper, check cannot read the repo, and fails saying so
        unhelped = clean_env(tmp_path / "bare-home")
        shutil.rmtree(checkout / ".cache")
        probe = "pipeline-docs check"
        done = sh(probe, checkout, {**installed, **unhelped, "PATH": installed["PATH"]})
        assert done.returncode == 1, done.stderr[-3000:]
        [unread] = [line for line in done.stdout.splitlines() if "[envrepo/unreadable]" in line]
        assert "environment dev" in unread and server.url in unread, unread
    kept = [
        p
        for p in (checkout / ".cache").rglob("*")
        if p.is_file() and token.encode() in p.read_bytes()
    ]
    assert kept == []  # the token is asked for, never written into what the cache keeps
