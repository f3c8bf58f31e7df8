"""pipeline-docs.yml is validated by its own schema, and every error names the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import git, git_commit, git_init, invoke, make_config, run_cli, write

from generator.config import ConfigError, load_config


def problems_of(path: Path) -> list:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value.problems


def test_a_valid_config_resolves_paths_against_its_own_folder(tmp_path: Path) -> None:
    config_file = make_config(
        tmp_path,
        schemas="contracts/",
        templates="ci/",
        environments=[
            {"name": "qa", "repo": "envs/qa"},
            {"name": "live", "repo": "envs/live", "ref": "main"},
        ],
        bundles={"mirrors": {"https://artifacts.test/b/": "mirror/"}},
        owners="teams.yml",
        checks={"catalog/skipped-environment": "info"},
    )
    config = load_config(config_file)
    assert config.title == "Test pipeline"
    assert config.schemas == tmp_path / "contracts/"
    assert config.templates == (tmp_path / "ci/",)
    assert [(e.name, e.repo, e.ref) for e in config.environments] == [
        ("qa", "envs/qa", None),
        ("live", "envs/live", "main"),
    ]
    assert config.mirrors == (("https://artifacts.test/b/", tmp_path / "mirror/"),)
    assert config.owners == tmp_path / "teams.yml"
    assert config.severity_for("catalog/skipped-environment") == "info"


def test_a_misspelt_key_is_reported_by_its_own_name_with_a_suggestion(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        environmnets:
          - name: dev
            repo: envs/dev
        """,
    )
    [problem] = problems_of(config_file)
    assert problem.key == "environmnets"
    assert problem.line == 2
    assert "did you mean 'environments'" in problem.message


def test_a_misspelt_nested_key_is_named_by_its_full_path(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        bundles:
          mirors:
            "https://nexus.test/": nexus/
        """,
    )
    [problem] = problems_of(config_file)
    assert problem.key == "bundles.mirors"
    assert problem.line == 3
    assert "did you mean 'mirrors'" in problem.message


def test_a_wrong_type_names_the_key_path_and_its_line(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        environments:
          - name: dev
            repo: envs/dev
          - name: 5
            repo: envs/prod
        """,
    )
    [problem] = problems_of(config_file)
    assert problem.key == "environments[1].name"
    assert problem.line == 5
    assert "string" in problem.message
    assert str(problem).startswith(f"{config_file}:5: environments[1].name:")


def test_every_error_is_reported_not_only_the_first(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        schemass: schemas/
        environments:
          - name: dev
          - name: prod
            repo: 7
        checks:
          catalog/skipped-environment: loud
        """,
    )
    problems = problems_of(config_file)
    by_key = {p.key: p for p in problems}
    assert set(by_key) == {
        "schemass",
        "environments[0]",
        "environments[1].repo",
        "checks.catalog/skipped-environment",
    }
    assert "'repo' is required" in by_key["environments[0]"].message
    assert by_key["environments[1].repo"].line == 6
    assert by_key["checks.catalog/skipped-environment"].line == 8
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_a_missing_title_is_reported(tmp_path: Path) -> None:
    config_file = write(tmp_path / "pipeline-docs.yml", "schemas: schemas/\n")
    [problem] = problems_of(config_file)
    assert "'title' is required" in problem.message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "nope.yml")
    assert problem.key == "(file)"
    assert "not found" in problem.message


def test_a_syntax_error_gives_its_line(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        environments: [
          {name: dev, repo: envs/dev}
        schemas: schemas/
        """,
    )
    problems = problems_of(config_file)
    syntax = [p for p in problems if p.key == "(syntax)"]
    assert syntax, problems
    assert syntax[0].line in (3, 4)


def test_a_config_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    config_file = write(tmp_path / "pipeline-docs.yml", "- title\n- Pipeline\n")
    [problem] = problems_of(config_file)
    assert problem.key == "(top level)"
    assert "mapping" in problem.message


def test_check_exits_2_and_prints_every_error_on_stderr(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "bad.yml",
        """
        title: Pipeline
        schemass: schemas/
        environments:
          - name: dev
            repo: envs/dev
          - name: 5
            repo: envs/prod
        bundles:
          mirrors: 3
        """,
    )
    done = run_cli("check", "--config", str(config_file), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 3
    assert "schemass: unknown key; did you mean 'schemas'?" in lines[0]
    assert "bad.yml:6: environments[1].name:" in lines[1]
    assert "bundles.mirrors:" in lines[2]


@pytest.mark.parametrize("command", ["generate", "catalog", "build"])
def test_every_command_exits_2_on_a_config_error(tmp_path: Path, command: str) -> None:
    config_file = write(tmp_path / "bad.yml", "title: Pipeline\ntemplate: ci/\n")
    args = ["--config", str(config_file)]
    if command == "generate":
        args += ["--out", str(tmp_path / "out")]
    result = invoke(command, *args)
    assert result.exit_code == 2
    assert "template: unknown key; did you mean 'templates'?" in result.stderr
    assert not (tmp_path / "out").exists()


def test_check_exits_2_when_the_config_file_is_missing(tmp_path: Path) -> None:
    result = invoke("check", "--config", str(tmp_path / "missing.yml"))
    assert result.exit_code == 2
    assert "config file not found" in result.stderr


# --- an environment's `path:` must be a folder of its repo -------------------------------------


def _env_config(tmp_path: Path, **env: str) -> Path:
    """A config with one environment, its keys each on a line of their own."""
    lines = "".join(f"    {key}: {value}\n" for key, value in env.items())
    return write(
        tmp_path / "pipeline-docs.yml", f"title: Pipeline\nenvironments:\n  - name: dev\n{lines}"
    )


def test_a_path_missing_from_a_local_folder_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "envs" / "dev" / "overlays" / "dev").mkdir(parents=True)
    config_file = _env_config(tmp_path, repo="envs/dev", path="overlays/staging")
    [problem] = problems_of(config_file)
    assert (problem.key, problem.line) == ("environments[0].path", 5)
    assert "overlays/staging does not exist in envs/dev" in problem.message


def test_a_path_that_is_a_file_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "envs" / "dev" / "kustomization.yaml", "resources: []\n")
    config_file = _env_config(tmp_path, repo="envs/dev", path="kustomization.yaml")
    [problem] = problems_of(config_file)
    assert problem.key == "environments[0].path"
    assert "is a file, not a folder" in problem.message


@pytest.mark.parametrize("path", ["overlays/dev", "overlays/dev/", "./overlays/dev", "/", "."])
def test_a_folder_of_the_repo_is_a_valid_path(tmp_path: Path, path: str) -> None:
    (tmp_path / "envs" / "dev" / "overlays" / "dev").mkdir(parents=True)
    config = load_config(_env_config(tmp_path, repo="envs/dev", path=f'"{path}"'))
    assert config.environments[0].path == path


def test_a_path_in_a_missing_repo_is_left_to_the_env_repo_reader(tmp_path: Path) -> None:
    # the repo itself is reported as unreadable when it is read, once
    config = load_config(_env_config(tmp_path, repo="envs/nowhere", path="overlays/dev"))
    assert config.environments[0].path == "overlays/dev"


def test_a_remote_repo_path_is_not_checked_at_load(tmp_path: Path) -> None:
    config_file = _env_config(
        tmp_path, repo="https://git.example.com/platform/env-dev.git", path="overlays/dev"
    )
    assert load_config(config_file).environments[0].repo.startswith("https://")


def test_with_a_ref_the_path_is_checked_at_that_ref_not_on_disk(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "envs" / "dev")
    write(repo / "overlays" / "old" / "kustomization.yaml", "resources: []\n")
    git_commit(repo, "old overlay")
    git(repo, "tag", "v1")
    git(repo, "rm", "--quiet", "-r", "overlays/old")
    write(repo / "overlays" / "new" / "kustomization.yaml", "resources: []\n")
    git_commit(repo, "new overlay")
    git(repo, "checkout", "--quiet", "v1")  # on disk: only overlays/old

    assert load_config(_env_config(tmp_path, repo="envs/dev", ref="main", path="overlays/new"))
    [problem] = problems_of(_env_config(tmp_path, repo="envs/dev", ref="main", path="overlays/old"))
    assert (problem.key, problem.line) == ("environments[0].path", 6)
    assert "overlays/old does not exist in envs/dev at main" in problem.message
    [problem] = problems_of(
        _env_config(tmp_path, repo="envs/dev", ref="v1", path="overlays/old/kustomization.yaml")
    )
    assert "is a file, not a folder in envs/dev at v1" in problem.message


def test_with_a_ref_that_names_nothing_the_path_is_not_checked(tmp_path: Path) -> None:
    repo = git_init(tmp_path / "envs" / "dev")
    write(repo / "environment.yml", "name: dev\n")
    git_commit(repo, "first")
    # the unknown ref is reported when the env repo is read; a ref is never read as an option
    for ref in ("no-such-branch", "--output=x"):
        config = load_config(_env_config(tmp_path, repo="envs/dev", ref=f'"{ref}"', path="x"))
        assert config.environments[0].ref == ref
    assert not (repo / "x").exists()


def test_check_exits_2_on_a_missing_environment_path(tmp_path: Path) -> None:
    (tmp_path / "envs" / "dev").mkdir(parents=True)
    result = invoke(
        "check", "--config", str(_env_config(tmp_path, repo="envs/dev", path="clusters/dev"))
    )
    assert result.exit_code == 2
    assert "pipeline-docs.yml:5: environments[0].path: clusters/dev does not exist" in result.stderr


# --- rule ids under `checks:` ------------------------------------------------------------------


def test_a_misspelt_rule_exits_2_with_the_rule_it_probably_means(tmp_path: Path) -> None:
    config_file = make_config(tmp_path, checks={"catalog/skiped-environment": "off"})
    result = invoke("check", "--config", str(config_file))
    assert result.exit_code == 2
    assert (
        "checks.catalog/skiped-environment: unknown rule; did you mean "
        "'catalog/skipped-environment'?" in result.stderr
    )


def test_an_unknown_rule_of_an_ignore_is_named_with_its_line(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pipeline-docs.yml",
        """
        title: Pipeline
        checks:
          config/unknown-option: warning
          ignore:
            - rule: "config/*"
              reason: globs are not rule ids
            - rule: config/unknown-optoin
              reason: a typo
        """,
    )
    [problem] = problems_of(config_file)
    assert (problem.key, problem.line) == ("checks.ignore[1].rule", 7)
    assert problem.message == "unknown rule; did you mean 'config/unknown-option'?"


def test_an_unknown_rule_far_from_any_lists_its_area_or_the_rules_page(tmp_path: Path) -> None:
    config_file = make_config(tmp_path, checks={"owners/zzz": "off", "nothing-like-it": "off"})
    problems = {p.key: p.message for p in problems_of(config_file)}
    assert problems["checks.owners/zzz"].startswith("unknown rule; the rules of owners/ are ")
    assert "owners/unknown-team" in problems["checks.owners/zzz"]
    assert "reference/rules.md" in problems["checks.nothing-like-it"]


# --- `kustomize` and `service_label` -----------------------------------------------------------


def test_kustomize_and_service_label_have_their_defaults(tmp_path: Path) -> None:
    config = load_config(make_config(tmp_path))
    assert (config.kustomize, config.service_label) == ("auto", "app.kubernetes.io/name")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", "auto"),
        ("builtin", "builtin"),
        (["kustomize", "build"], ("kustomize", "build")),
        (["kubectl", "kustomize"], ("kubectl", "kustomize")),
        (
            ["/opt/bin/kustomize", "build", "--enable-helm"],
            ("/opt/bin/kustomize", "build", "--enable-helm"),
        ),
    ],
)
def test_kustomize_is_auto_builtin_or_a_command(
    tmp_path: Path, value: object, expected: object
) -> None:
    assert load_config(make_config(tmp_path, kustomize=value)).kustomize == expected


@pytest.mark.parametrize("value", ["kubectl", "", [], [""], ["kustomize", 3], 3, {"cmd": "x"}])
def test_a_kustomize_that_is_neither_exits_2_naming_the_key(tmp_path: Path, value: object) -> None:
    config_file = make_config(tmp_path, kustomize=value)
    [problem] = problems_of(config_file)
    assert (problem.key, problem.line) == ("kustomize", 3)
    assert problem.message.startswith(
        "expected 'auto', 'builtin' or a command as a list of its words ([kustomize, build]), got "
    )
    result = invoke("check", "--config", str(config_file))
    assert result.exit_code == 2
    assert f"{config_file}:3: kustomize" in result.stderr


def test_service_label_names_the_label(tmp_path: Path) -> None:
    config = load_config(make_config(tmp_path, service_label="app"))
    assert config.service_label == "app"


@pytest.mark.parametrize("value", ["", 3, ["app"], None])
def test_a_service_label_that_is_no_label_exits_2_naming_the_key(
    tmp_path: Path, value: object
) -> None:
    config_file = make_config(tmp_path, service_label=value)
    [problem] = problems_of(config_file)
    assert (problem.key, problem.line) == ("service_label", 3)
    result = invoke("check", "--config", str(config_file))
    assert result.exit_code == 2
    assert "service_label" in result.stderr


def test_a_path_outside_the_configs_folder_is_shown_relative_to_it(tmp_path: Path) -> None:
    # `init` writes a config beside the inputs' folders: their findings name `../schemas/x.json`
    (tmp_path / "site").mkdir()
    config = load_config(make_config(tmp_path / "site"))
    assert config.display(tmp_path / "schemas" / "x.json") == "../schemas/x.json"
    assert config.display(tmp_path / "site" / "docs" / "a.md") == "docs/a.md"
    assert not config.display(tmp_path / "schemas").startswith("/")
