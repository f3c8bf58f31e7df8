"""The promotion graph: `promotes_from:` in the config, drift against direct upstreams only,
`diff ENV` against each upstream, and the catalog's columns in the graph's order.

Env repos with a history are real git repos of plain manifests, one image tag changed per
commit; the drift rules themselves are also tested on models made in code."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import git, git_init, invoke, make_config, write
from pagedom import dom

from generator.analysis.drift import drift
from generator.analysis.promotion import ordered_environments, promotion_order
from generator.collect import collect
from generator.config import ConfigError, load_config
from generator.generate import generate
from generator.model import Change, Deployment, Environment, Model, Severity

SKIPPED = "catalog/skipped-environment"


def manifest(tag: str) -> str:
    """The shop's Deployment at one image tag, as a plain env repo writes it."""
    return f"""
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: shop
          labels:
            owner: team-shop
        spec:
          template:
            spec:
              containers:
                - name: shop
                  image: corp/shop:{tag}
        """


def env_repo(root: Path, name: str, *tags: str) -> dict[str, Any]:
    """An env repo `envs/<name>` that ran these tags of shop in turn, one commit each (a plain
    folder when no tag is given); its config entry."""
    repo = git_init(root / "envs" / name)
    for day, tag in enumerate(tags, start=1):
        write(repo / "shop.yaml", manifest(tag))
        git(repo, "add", "--all")
        date = f"2026-04-{day:02d}T10:00:00+00:00"
        git(repo, "commit", "--quiet", "--message", f"Deploy shop {tag}", "--date", date)
    return {"name": name, "repo": f"envs/{name}"}


def states_of(model: Model) -> dict[str, str]:
    return {env: state for service, env, state in model.drift if service == "shop"}


def skipped(model: Model) -> list[str]:
    return [f.message for f in model.findings if f.rule == SKIPPED]


# --- the config ---------------------------------------------------------------------------------

CONFIG_HEAD = """\
title: Test pipeline
cache: .cache
environments:
"""


def config_text(tmp_path: Path, environments: str) -> Path:
    """A config whose `environments:` is this YAML text (so that its lines are known); every
    environment's repo is an empty folder."""
    for name in re.findall(r"name: ([\w.-]+)", environments):
        (tmp_path / "envs" / name).mkdir(parents=True, exist_ok=True)
    path = tmp_path / "pipeline-docs.yml"
    path.write_text(CONFIG_HEAD + environments, encoding="utf-8")
    return path


def problems(config: Path) -> list[tuple[str, int | None, str]]:
    with pytest.raises(ConfigError) as raised:
        load_config(config)
    return [(p.key, p.line, p.message) for p in raised.value.problems]


def test_by_default_each_environment_promotes_from_the_previous_one(tmp_path: Path) -> None:
    config = config_text(tmp_path, """\
  - {name: dev, repo: envs/dev}
  - {name: staging, repo: envs/staging}
  - {name: prod, repo: envs/prod}
  - {name: hotfix, repo: envs/hotfix, promotes_from: []}
  - {name: edge, repo: envs/edge, promotes_from: staging}
  - {name: all, repo: envs/all, promotes_from: [edge, dev]}
""")  # fmt: skip
    upstreams = {e.name: e.promotes_from for e in load_config(config).environments}
    assert upstreams == {
        "dev": (),
        "staging": ("dev",),
        "prod": ("staging",),
        "hotfix": (),
        "edge": ("staging",),
        "all": ("edge", "dev"),
    }
    model = collect(load_config(config))
    assert {e.name: e.upstreams for e in model.environments} == upstreams


def test_an_unknown_upstream_is_a_config_error_naming_the_key_and_line(tmp_path: Path) -> None:
    config = config_text(tmp_path, """\
  - name: dev
    repo: envs/dev
  - name: staging
    repo: envs/staging
    promotes_from: stagin
  - name: prod
    repo: envs/prod
    promotes_from:
      - staging
      - qa
""")  # fmt: skip
    assert problems(config) == [
        ("environments[1].promotes_from", 8, "unknown environment 'stagin'; did you mean 'staging'?"),
        ("environments[2].promotes_from[1]", 13, "unknown environment 'qa'; known: dev, staging, prod"),
    ]  # fmt: skip
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 2
    assert (
        f"{config}:8: environments[1].promotes_from: unknown environment 'stagin'" in result.stderr
    )
    assert (
        f"{config}:13: environments[2].promotes_from[1]: unknown environment 'qa'" in result.stderr
    )


def test_an_environment_that_promotes_from_itself_is_a_config_error(tmp_path: Path) -> None:
    config = config_text(tmp_path, """\
  - name: dev
    repo: envs/dev
  - name: staging
    repo: envs/staging
    promotes_from: [dev, staging]
""")  # fmt: skip
    assert problems(config) == [
        ("environments[1].promotes_from[1]", 8, "'staging' cannot promote from itself"),
    ]
    result = invoke("catalog", "--config", str(config))
    assert result.exit_code == 2
    assert "environments[1].promotes_from[1]: 'staging' cannot promote from itself" in result.stderr


def test_a_cycle_is_a_config_error_naming_the_environments_in_it(tmp_path: Path) -> None:
    # dev <- prod written out; staging <- dev and prod <- staging by default
    config = config_text(tmp_path, """\
  - name: dev
    repo: envs/dev
    promotes_from: prod
  - name: staging
    repo: envs/staging
  - name: prod
    repo: envs/prod
  - name: a
    repo: envs/a
    promotes_from: [b]
  - name: b
    repo: envs/b
    promotes_from: [dev, a]
""")  # fmt: skip
    assert problems(config) == [
        ("environments[0].promotes_from", 6, "promotion cycle: dev -> staging -> prod -> dev"),
        ("environments[3].promotes_from", 13, "promotion cycle: a -> b -> a"),
    ]
    result = invoke("check", "--config", str(config))
    assert result.exit_code == 2
    assert (
        f"{config}:6: environments[0].promotes_from: promotion cycle: dev -> staging -> prod -> dev"
        in result.stderr
    )


def test_promotes_from_must_be_a_name_or_a_list_of_names(tmp_path: Path) -> None:
    config = config_text(tmp_path, """\
  - name: dev
    repo: envs/dev
  - name: staging
    repo: envs/staging
    promotes_from: {dev: true}
""")  # fmt: skip
    [(key, line, message)] = problems(config)
    assert (key, line) == ("environments[1].promotes_from", 8)
    assert message == (
        "expected an environment's name or a list of names ([] for none),"
        ' got a mapping ({"dev": true})'
    )


# --- drift against direct upstreams -------------------------------------------------------------


def model_of(*environments: tuple[str, tuple[str, ...], str | None, tuple[str, ...]]) -> Model:
    """Environments (name, upstreams, shop's version or None, the versions its history shows)."""
    built = []
    for name, upstreams, version, ran in environments:
        deployments = () if version is None else (
            Deployment("shop", name, version, "team", "label owner", "manifest", f"{name}:shop.yaml", 1),
        )  # fmt: skip
        history = tuple(
            Change(name, "shop", before, after, f"c{i}", "A", f"2026-04-0{i + 1}", "m")
            for i, (before, after) in enumerate(zip((None, *ran), ran, strict=False))
        )
        built.append(Environment(name, name, deployments=deployments, history=history,
                                 upstreams=upstreams))  # fmt: skip
    return Model(title="t", environments=tuple(built))


def drift_of(model: Model) -> tuple[dict[str, str], list[str]]:
    states, findings = drift(model)
    assert all(f.rule == SKIPPED and f.severity is Severity.WARNING for f in findings)
    return {env: state for _, env, state in states}, [f.message for f in findings]


def test_a_gap_is_reported_once_at_the_first_environment_that_skipped() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "1.0.0", ()),
        ("staging", ("dev",), "1.1.0", ()),
        ("prod", ("staging",), "1.1.0", ()),
    ))  # fmt: skip
    assert states == {"staging": "skipped"}  # prod runs what staging runs
    assert messages == ["shop 1.1.0 runs in staging but skipped dev, which runs 1.0.0"]


def test_a_version_older_than_a_history_less_upstream_runs_is_pending() -> None:
    # without a history, the upstream may have run the older version before
    states, messages = drift_of(model_of(
        ("dev", (), "1.2.0", ()),
        ("staging", ("dev",), "1.0.0", ()),
    ))  # fmt: skip
    assert (states, messages) == ({"staging": "pending"}, [])


def test_with_a_history_a_version_the_upstream_never_ran_is_skipped_even_if_older() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "1.2.0", ("1.0.0", "1.2.0")),
        ("staging", ("dev",), "1.1.0", ("1.1.0",)),
    ))  # fmt: skip
    assert states == {"staging": "skipped"}
    assert messages == ["shop 1.1.0 runs in staging but skipped dev, which runs 1.2.0 and never ran 1.1.0"]  # fmt: skip


def test_a_version_the_upstream_rolled_back_from_is_not_skipped() -> None:
    states, messages = drift_of(model_of(
        ("staging", (), "1.0.0", ("1.0.0", "1.1.0", "1.0.0")),
        ("prod", ("staging",), "1.1.0", ("1.1.0",)),
    ))  # fmt: skip
    assert (states, messages) == ({}, [])


def test_a_version_any_direct_upstream_ran_is_not_skipped() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "2.0.0", ("1.0.0", "1.1.0", "2.0.0")),
        ("integration-gpu", ("dev",), "2.0.0", ("1.0.0", "2.0.0")),
        ("integration-non-gpu", ("dev",), "1.0.0", ("1.0.0",)),
        ("staging", ("integration-gpu", "integration-non-gpu"), "2.0.0", ("1.0.0", "2.0.0")),
    ))  # fmt: skip
    # staging took 2.0.0 from integration-gpu: fine, though integration-non-gpu never ran it
    assert (states, messages) == ({"integration-non-gpu": "pending"}, [])


def test_a_version_no_direct_upstream_ran_is_one_finding_naming_each_upstream() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "2.0.0", ("1.0.0", "1.1.0", "2.0.0")),
        ("integration-gpu", ("dev",), "2.0.0", ("1.0.0", "2.0.0")),
        ("integration-non-gpu", ("dev",), None, ()),
        ("staging", ("integration-gpu", "integration-non-gpu"), "1.1.0", ("1.1.0",)),
    ))  # fmt: skip
    assert states == {"staging": "skipped"}
    assert messages == [
        "shop 1.1.0 runs in staging but skipped each of its upstreams: integration-gpu, which "
        "runs 2.0.0 and never ran 1.1.0; integration-non-gpu, which does not run it"
    ]


def test_pending_when_either_upstream_runs_a_newer_version() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "2.0.0", ()),
        ("integration-gpu", ("dev",), "2.0.0", ()),
        ("integration-non-gpu", ("dev",), "1.0.0", ()),
        ("staging", ("integration-gpu", "integration-non-gpu"), "1.0.0", ()),
    ))  # fmt: skip
    assert states == {"integration-non-gpu": "pending", "staging": "pending"}
    assert messages == []


def test_an_unreadable_upstream_is_never_blamed_the_other_one_is() -> None:
    model = model_of(
        ("a", (), "1.0.0", ()),
        ("b", (), None, ()),
        ("c", ("a", "b"), "2.0.0", ()),
    )
    b = model.environments[1]
    unreadable = Model(title="t", environments=(
        model.environments[0], Environment(b.name, b.repo, status="unreadable"), model.environments[2],
    ))  # fmt: skip
    assert drift_of(unreadable) == (
        {"c": "skipped"},
        ["shop 2.0.0 runs in c but skipped a, which runs 1.0.0"],
    )
    only_unreadable = Model(title="t", environments=unreadable.environments[1:])
    assert drift_of(only_unreadable) == ({}, [])


def test_a_root_is_compared_with_nothing() -> None:
    states, messages = drift_of(model_of(
        ("dev", (), "1.0.0", ()),
        ("hotfix", (), "9.0.0", ()),
    ))  # fmt: skip
    assert (states, messages) == ({}, [])


# --- drift on real env repos: lanes and rollbacks -----------------------------------------------


def test_fanned_out_lanes_blame_only_the_upstream_that_was_skipped(tmp_path: Path) -> None:
    environments = [
        env_repo(tmp_path, "dev", "1.0.0", "1.1.0", "1.2.0"),
        {**env_repo(tmp_path, "staging-eu", "1.0.0", "1.1.0"), "promotes_from": "dev"},
        {**env_repo(tmp_path, "staging-us", "1.0.0", "1.2.0"), "promotes_from": "dev"},
        {**env_repo(tmp_path, "prod-eu", "1.0.0", "1.2.0"), "promotes_from": "staging-eu"},
        {**env_repo(tmp_path, "prod-us", "1.0.0", "1.2.0"), "promotes_from": ["staging-us"]},
    ]
    model = collect(load_config(make_config(tmp_path, environments=environments)))
    # prod-eu runs 1.2.0, which staging-eu never ran; prod-us took it through staging-us
    assert skipped(model) == [
        "shop 1.2.0 runs in prod-eu but skipped staging-eu, which runs 1.1.0 and never ran 1.2.0"
    ]
    assert not any("staging-us" in f.message for f in model.findings if f.rule[:5] != "risk/")
    assert states_of(model) == {"staging-eu": "pending", "prod-eu": "skipped"}


def test_a_version_staging_ran_and_rolled_back_from_is_not_skipped_downstream(
    tmp_path: Path,
) -> None:
    environments = [
        env_repo(tmp_path, "dev", "1.0.0", "1.1.0"),
        {**env_repo(tmp_path, "staging-eu", "1.0.0", "1.1.0", "1.0.0"), "promotes_from": "dev"},
        {**env_repo(tmp_path, "prod-eu", "1.0.0", "1.1.0"), "promotes_from": "staging-eu"},
    ]
    model = collect(load_config(make_config(tmp_path, environments=environments)))
    versions = {e.name: e.deployments[0].version for e in model.environments}
    assert versions == {"dev": "1.1.0", "staging-eu": "1.0.0", "prod-eu": "1.1.0"}
    assert skipped(model) == []
    assert states_of(model) == {"staging-eu": "pending"}


def test_parallel_environments_give_no_false_skipped(tmp_path: Path) -> None:
    environments = [
        env_repo(tmp_path, "dev", "1.0.0", "1.1.0", "1.2.0"),
        env_repo(tmp_path, "integration-gpu", "1.0.0", "1.2.0"),
        {**env_repo(tmp_path, "integration-non-gpu", "1.0.0", "1.1.0"), "promotes_from": "dev"},
        {
            **env_repo(tmp_path, "staging", "1.0.0", "1.2.0"),
            "promotes_from": ["integration-gpu", "integration-non-gpu"],
        },
    ]
    config = make_config(tmp_path, environments=environments)
    model = collect(load_config(config))
    assert skipped(model) == []
    assert states_of(model) == {"integration-non-gpu": "pending"}
    assert [e.upstreams for e in model.environments] == [
        (), ("dev",), ("dev",), ("integration-gpu", "integration-non-gpu"),
    ]  # fmt: skip


# --- diff ENV -----------------------------------------------------------------------------------


@pytest.fixture
def parallel(tmp_path: Path) -> Path:
    environments = [
        env_repo(tmp_path, "dev", "1.0.0", "1.2.0"),
        env_repo(tmp_path, "integration-gpu", "1.0.0", "1.2.0"),
        {**env_repo(tmp_path, "integration-non-gpu", "1.0.0"), "promotes_from": "dev"},
        {
            **env_repo(tmp_path, "staging", "1.0.0", "1.1.0"),
            "promotes_from": ["integration-gpu", "integration-non-gpu"],
        },
    ]
    return make_config(tmp_path, environments=environments)


def test_diff_env_shows_one_titled_table_per_upstream(parallel: Path) -> None:
    result = invoke("diff", "staging", "--config", str(parallel))
    assert result.exit_code == 0, result.stderr
    # each env runs shop with three risks, and staging skipped both upstreams: 3 + 4 findings
    assert result.stdout == (
        "integration-gpu -> staging\n"
        "SERVICE  CHANGE    STAGING NOW  AFTER  FINDINGS\n"
        "shop     upgraded  1.1.0        1.2.0  7 warnings\n"
        "FINDINGS: what check finds where the service is deployed in integration-gpu or staging;"
        " --findings lists them\n"
        "\n"
        "integration-non-gpu -> staging\n"
        "SERVICE  CHANGE      STAGING NOW  AFTER  FINDINGS\n"
        "shop     downgraded  1.1.0        1.0.0  7 warnings\n"
        "FINDINGS: what check finds where the service is deployed in integration-non-gpu or"
        " staging; --findings lists them\n"
    )
    same = invoke("diff", "integration-gpu", "--config", str(parallel))
    assert same.stdout == "dev -> integration-gpu\nintegration-gpu already runs what dev runs\n"


def test_diff_env_as_json_is_a_list_per_upstream(parallel: Path) -> None:
    result = invoke("diff", "staging", "--config", str(parallel), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {
            "from": "integration-gpu",
            "to": "staging",
            "changes": [{"service": "shop", "change": "upgraded", "from": "1.1.0", "to": "1.2.0"}],
        },
        {
            "from": "integration-non-gpu",
            "to": "staging",
            "changes": [
                {"service": "shop", "change": "downgraded", "from": "1.1.0", "to": "1.0.0"}
            ],
        },
    ]


def test_diff_of_two_environments_keeps_its_shape(parallel: Path) -> None:
    result = invoke("diff", "dev", "staging", "--config", str(parallel), "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"service": "shop", "change": "upgraded", "from": "1.1.0", "to": "1.2.0"}
    ]
    table = invoke("diff", "integration-non-gpu", "integration-gpu", "--config", str(parallel))
    header = ["SERVICE", "CHANGE", "INTEGRATION-GPU", "NOW", "AFTER", "FINDINGS"]
    assert table.stdout.splitlines()[0].split() == header


def test_diff_of_a_root_says_it_has_no_upstream(parallel: Path) -> None:
    result = invoke("diff", "dev", "--config", str(parallel))
    assert result.exit_code == 0
    assert result.stdout == "dev has no upstream: nothing is promoted to it (promotes_from)\n"
    as_json = invoke("diff", "dev", "--config", str(parallel), "--format", "json")
    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])
    assert "dev has no upstream" in as_json.stderr


def test_diff_of_an_unknown_environment_exits_2(parallel: Path) -> None:
    result = invoke("diff", "qa", "--config", str(parallel))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown environment 'qa'" in result.stderr


# --- the order of the catalog's columns ---------------------------------------------------------


def order_model(*environments: tuple[str, tuple[str, ...]]) -> Model:
    return Model(
        title="t",
        environments=tuple(Environment(name, name, upstreams=up) for name, up in environments),
    )


def test_the_promotion_order_puts_upstreams_first_and_keeps_lanes_together() -> None:
    model = order_model(
        ("prod-us", ("staging-us",)),
        ("dev", ()),
        ("staging-eu", ("dev",)),
        ("prod-eu", ("staging-eu",)),
        ("staging-us", ("dev",)),
    )
    assert promotion_order(model) == ["dev", "staging-eu", "prod-eu", "staging-us", "prod-us"]
    assert [e.name for e in ordered_environments(model)] == promotion_order(model)


def test_a_config_in_promotion_order_keeps_its_order() -> None:
    model = order_model(
        ("dev", ()),
        ("integration-gpu", ("dev",)),
        ("integration-non-gpu", ("dev",)),
        ("staging", ("integration-gpu", "integration-non-gpu")),
        ("hotfix", ()),
        ("prod", ("staging", "hotfix")),
    )
    assert promotion_order(model) == [e.name for e in model.environments]


def test_unknown_upstreams_and_cycles_in_a_model_still_give_every_environment() -> None:
    model = order_model(("a", ("b",)), ("b", ("a",)), ("c", ("nowhere",)))
    assert promotion_order(model) == ["c", "a", "b"]


def test_the_matrix_and_the_team_page_order_columns_by_the_graph(tmp_path: Path) -> None:
    environments = [
        {**env_repo(tmp_path, "prod-us", "1.0.0"), "promotes_from": "staging-us"},
        {**env_repo(tmp_path, "dev", "1.0.0"), "promotes_from": []},
        env_repo(tmp_path, "staging-eu", "1.0.0"),
        env_repo(tmp_path, "prod-eu", "1.0.0"),
        {**env_repo(tmp_path, "staging-us", "1.0.0"), "promotes_from": "dev"},
    ]
    write(tmp_path / "owners.yml", "teams:\n  team-shop: {name: Shop}\n")
    config = load_config(make_config(tmp_path, environments=environments, owners="owners.yml"))
    pages = generate(config, collect(config))
    expected = ["dev", "staging-eu", "staging-us", "prod-eu", "prod-us"]  # stage by stage
    matrix = dom(pages["catalog/index.md"]).one("table", class_="pd-matrix")
    heads = matrix.one("tr", class_="pd-heads").all("th")
    assert [th.text for th in heads] == ["Service", "Owner", *expected]
    assert [(g.text, g.attrs["colspan"]) for g in matrix.all("th", class_="pd-group")] == [
        ("Stage 1", "1"), ("Stage 2", "2"), ("Stage 3 · production", "2")]  # fmt: skip
    team = dom(pages["catalog/teams/team-shop.md"]).one("div", class_="pd-team").one("thead")
    assert [th.text for th in team.all("th")] == ["Service", *expected]
    row = next(tr for tr in matrix.all("tr") if "shop" in tr.text)
    assert [c.text for c in row.all("code")] == ["1.0.0"] * 5
