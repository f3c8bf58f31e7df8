"""pipeline-docs.yml is validated by its own schema, and every error names the key at fault."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import invoke, make_config, run_cli, write

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
