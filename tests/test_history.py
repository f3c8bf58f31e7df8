"""Deployment history: every change of version in an env repo's git log, from -> to, with who,
when, which commit and which merge request; on the pages, and through `pipeline-docs history`.

The env repos here are real git repos made with the `git` command: an `environment.yml` that
lists bundle URLs, changed one merge request at a time. Their bundles are mostly not in the
mirror: a bundle that cannot be fetched still has a history, read from its URL.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import NEXUS, git, git_init, invoke, make_config, tarball
from pagedom import dom

from generator.collect import collect
from generator.config import load_config
from generator.generate import generate
from generator.model import Change, Severity

ALICE = "Alice Martin <alice@acme.test>"
BOB = "Bob Nguyen <bob@acme.test>"
GITLAB_WEB = "https://gitlab.acme.test/platform/env-prod"
GITHUB_WEB = "https://github.com/acme/env-prod"


def bundle_url(service: str, version: str) -> str:
    return f"{NEXUS}{service}/{version}/{service}-{version}.tar.gz"


class EnvRepo:
    """An env repo of our own layout, changed commit by commit as its users would."""

    def __init__(self, path: Path, file: str = "environment.yml") -> None:
        self.path = git_init(path)
        self.file = file

    def write(self, versions: dict[str, str]) -> None:
        document = {
            "name": self.path.name,
            "bundles": [bundle_url(s, v) for s, v in sorted(versions.items())],
        }
        (self.path / self.file).write_text(yaml.safe_dump(document, sort_keys=False))

    def commit(self, message: str, date: str, author: str = ALICE) -> str:
        git(self.path, "add", "--all")
        git(
            self.path, "commit", "--quiet", "--message", message, "--date", date, "--author", author
        )
        return git(self.path, "rev-parse", "HEAD").strip()

    def deploy(self, versions: dict[str, str], message: str, date: str, author: str = ALICE) -> str:
        self.write(versions)
        return self.commit(message, date, author)


def config_for(root: Path, *environments: dict[str, str], **keys: Any) -> Path:
    """A config over these environments; bundles mirrored to `nexus/` (which may be empty)."""
    (root / "nexus").mkdir(exist_ok=True)
    return make_config(
        root,
        environments=list(environments),
        bundles={"mirrors": {NEXUS: "nexus/"}},
        **keys,
    )


def history_of(config: Path, environment: str = "prod") -> list[Change]:
    """The changes of one environment, oldest first, as the model has them."""
    model = collect(load_config(config))
    return list(next(e for e in model.environments if e.name == environment).history)


def moves(changes: list[Change]) -> list[tuple[str, str | None, str | None]]:
    return [(c.service, c.from_version, c.to_version) for c in changes]


def cli_history(config: Path, service: str, *args: str) -> list[dict[str, Any]]:
    result = invoke("history", service, "--config", str(config), "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    changes: list[dict[str, Any]] = json.loads(result.stdout)
    return changes


@pytest.fixture
def prod(tmp_path: Path) -> EnvRepo:
    return EnvRepo(tmp_path / "envs" / "prod")


# --- reading the git log ------------------------------------------------------------------------


def test_a_linear_history_lists_each_change_with_author_date_commit_and_subject(
    tmp_path: Path, prod: EnvRepo
) -> None:
    first = prod.deploy(
        {"cart": "1.0.0", "orders": "2.0.0"},
        "Create production\n\nAll services as in staging.\n\nSee merge request platform/env-prod!1",
        "2026-03-02T09:15:00+01:00",
    )
    second = prod.deploy(
        {"cart": "1.1.0", "orders": "2.0.0"},
        "Promote cart 1.1.0\n\nSee merge request platform/env-prod!2",
        "2026-03-09T14:40:00+01:00",
        author=BOB,
    )
    third = prod.deploy(
        {"cart": "1.1.0", "orders": "2.1.0"},
        "Promote orders 2.1.0",
        "2026-03-16T10:05:00+01:00",
    )
    model = collect(load_config(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})))
    # no bundle is in the (empty) mirror: the history comes from the URLs alone
    not_found = [f for f in model.findings if f.rule == "bundle/not-found"]
    assert len(not_found) == 2
    changes = list(model.environments[0].history)
    assert moves(changes) == [
        ("cart", None, "1.0.0"),
        ("orders", None, "2.0.0"),
        ("cart", "1.0.0", "1.1.0"),
        ("orders", "2.0.0", "2.1.0"),
    ]
    assert [c.commit for c in changes] == [first, first, second, third]
    assert [c.author for c in changes] == [
        "Alice Martin",
        "Alice Martin",
        "Bob Nguyen",
        "Alice Martin",
    ]
    assert changes[2].date == "2026-03-09T14:40:00+01:00"
    assert changes[0].message == "Create production"  # the subject only, not the body
    assert changes[2].merge_request == "platform/env-prod!2"
    assert changes[3].merge_request == ""
    assert {c.environment for c in changes} == {"prod"}


def test_a_merge_is_one_change_and_the_branch_commits_are_not_listed(
    tmp_path: Path, prod: EnvRepo
) -> None:
    prod.deploy({"cart": "1.0.0"}, "Create production", "2026-03-02T09:00:00+01:00")
    git(prod.path, "checkout", "--quiet", "-b", "promote-cart")
    prod.deploy({"cart": "1.1.0"}, "Try cart 1.1.0", "2026-03-03T09:00:00+01:00")
    prod.deploy({"cart": "1.2.0"}, "No, cart 1.2.0", "2026-03-04T09:00:00+01:00")
    git(prod.path, "checkout", "--quiet", "main")
    git(prod.path, "merge", "--quiet", "--no-ff", "--no-commit", "promote-cart")
    merge = prod.commit(
        "Merge branch 'promote-cart' into 'main'\n\nSee merge request platform/env-prod!7",
        "2026-03-05T11:30:00+01:00",
        author=BOB,
    )
    changes = history_of(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"}))
    assert moves(changes) == [("cart", None, "1.0.0"), ("cart", "1.0.0", "1.2.0")]
    assert changes[-1].commit == merge
    assert changes[-1].author == "Bob Nguyen"
    assert changes[-1].merge_request == "platform/env-prod!7"
    assert "1.1.0" not in {c.to_version for c in changes}


def test_a_rollback_is_a_change_to_an_older_version(tmp_path: Path, prod: EnvRepo) -> None:
    prod.deploy({"auth": "1.1.0"}, "Create production", "2026-03-02T09:00:00+01:00")
    prod.deploy({"auth": "1.2.0"}, "Promote auth 1.2.0", "2026-03-03T09:00:00+01:00")
    rollback = prod.deploy(
        {"auth": "1.1.0"}, "Roll back auth to 1.1.0 (INC-42)", "2026-03-03T16:45:00+01:00"
    )
    changes = history_of(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"}))
    assert moves(changes)[-1] == ("auth", "1.2.0", "1.1.0")
    assert changes[-1].commit == rollback
    assert changes[-1].message == "Roll back auth to 1.1.0 (INC-42)"


def test_a_service_removed_and_added_again(tmp_path: Path, prod: EnvRepo) -> None:
    prod.deploy({"cart": "1.0.0", "mailer": "0.1.0"}, "Create", "2026-03-02T09:00:00+01:00")
    prod.deploy({"cart": "1.0.0"}, "Remove mailer for now", "2026-03-03T09:00:00+01:00")
    prod.deploy({"cart": "1.0.0", "mailer": "0.2.0"}, "Mailer is back", "2026-03-04T09:00:00+01:00")
    changes = history_of(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"}))
    mailer = [c for c in changes if c.service == "mailer"]
    assert moves(mailer) == [
        ("mailer", None, "0.1.0"),
        ("mailer", "0.1.0", None),
        ("mailer", None, "0.2.0"),
    ]
    assert [c.message for c in mailer] == ["Create", "Remove mailer for now", "Mailer is back"]


def test_changes_made_before_the_env_file_was_renamed_are_still_listed(tmp_path: Path) -> None:
    repo = EnvRepo(tmp_path / "envs" / "prod", file="env.yml")
    repo.deploy({"cart": "1.0.0"}, "Create", "2026-03-02T09:00:00+01:00")
    repo.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-03T09:00:00+01:00")
    git(repo.path, "mv", "env.yml", "environment.yml")
    repo.commit("Rename env.yml to environment.yml", "2026-03-04T09:00:00+01:00")
    repo.file = "environment.yml"
    repo.deploy({"cart": "1.2.0"}, "Promote cart 1.2.0", "2026-03-05T09:00:00+01:00")
    changes = history_of(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"}))
    assert moves(changes) == [
        ("cart", None, "1.0.0"),
        ("cart", "1.0.0", "1.1.0"),
        ("cart", "1.1.0", "1.2.0"),
    ]


def _five_deploys(repo: EnvRepo) -> list[str]:
    return [
        repo.deploy(
            {"cart": f"1.{n}.0", "orders": "2.0.0"},
            f"Promote cart 1.{n}.0",
            f"2026-03-0{n + 1}T09:00:00+01:00",
        )
        for n in range(5)
    ]


def test_a_shallow_clone_gives_the_history_it_has_and_says_it_is_partial(tmp_path: Path) -> None:
    origin = EnvRepo(tmp_path / "origin" / "prod")
    commits = _five_deploys(origin)
    git(tmp_path, "clone", "--quiet", "--depth", "3", f"file://{origin.path}", "shallow")
    config = config_for(tmp_path, {"name": "prod", "repo": "shallow"})
    model = collect(load_config(config))
    changes = list(model.environments[0].history)
    assert moves(changes)[-2:] == [("cart", "1.2.0", "1.3.0"), ("cart", "1.3.0", "1.4.0")]
    assert [c.commit for c in changes][-2:] == commits[-2:]
    assert not {c.commit for c in changes} & set(commits[:2])  # older than the clone goes
    partial = [f for f in model.findings if f.rule == "history/partial"]
    assert [(f.severity, f.file) for f in partial] == [(Severity.WARNING, "prod:environment.yml")]
    assert "prod" in partial[0].message


def test_a_shallow_clone_does_not_invent_first_deployments_at_its_oldest_commit(
    tmp_path: Path,
) -> None:
    origin = EnvRepo(tmp_path / "origin" / "prod")
    commits = _five_deploys(origin)
    git(tmp_path, "clone", "--quiet", "--depth", "3", f"file://{origin.path}", "shallow")
    changes = history_of(config_for(tmp_path, {"name": "prod", "repo": "shallow"}))
    # orders has run 2.0.0 since the first commit, which the clone does not have: its oldest
    # commit (whose parent is missing) only changed cart, and is no first deployment of anything
    invented = [c for c in changes if c.commit == commits[2] and c.from_version is None]
    assert invented == [], moves(invented)


@pytest.mark.parametrize(
    ("message", "reference"),
    [
        ("Promote cart 1.1.0\n\nSee merge request platform/env-prod!123", "platform/env-prod!123"),
        ("Merge branch 'x' into 'main'\n\nSee merge request a/b/c!9", "a/b/c!9"),
        ("Merge pull request #123 from acme/promote-cart\n\nPromote cart 1.1.0", "#123"),
        ("Promote cart 1.1.0 (#45)", "#45"),
        ("Promote cart 1.1.0, see #77 for why", ""),
        ("Pushed directly during the incident", ""),
    ],
)
def test_merge_request_references_are_read_from_the_commit_message(
    tmp_path: Path, prod: EnvRepo, message: str, reference: str
) -> None:
    prod.deploy({"cart": "1.0.0"}, message, "2026-03-02T09:00:00+01:00")
    [change] = history_of(config_for(tmp_path, {"name": "prod", "repo": "envs/prod"}))
    assert change.merge_request == reference


def test_a_second_collect_reads_only_the_new_commits_from_the_cache(
    tmp_path: Path, prod: EnvRepo
) -> None:
    prod.deploy({"cart": "1.0.0"}, "Create", "2026-03-02T09:00:00+01:00")
    prod.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-03T09:00:00+01:00")
    config = config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})
    before = history_of(config)
    [stored] = list((tmp_path / ".cache" / "history").glob("*.json"))
    # mark what the cache says: a commit read again from git would lose the mark
    cached = json.loads(stored.read_text())
    assert len(cached["commits"]) == len(before) == 2
    for item in cached["commits"]:
        item["author"] = "Read From The Cache"
    stored.write_text(json.dumps(cached))

    new = prod.deploy({"cart": "1.2.0"}, "Promote cart 1.2.0", "2026-03-04T09:00:00+01:00", BOB)
    after = history_of(config)
    assert len(after) == len(before) + 1
    assert [c.author for c in after] == ["Read From The Cache"] * 2 + ["Bob Nguyen"]
    assert (after[-1].commit, after[-1].from_version, after[-1].to_version) == (
        new,
        "1.1.0",
        "1.2.0",
    )


# --- pages --------------------------------------------------------------------------------------


def _section(page: str, heading: str) -> str:
    """The text under one Markdown heading, up to the next heading of the same or higher level."""
    level = heading.split(" ", 1)[0]
    start = page.index(heading + " ") if heading + " " in page else page.index(heading)
    rest = page[start + len(heading) :]
    ends = [rest.find(f"\n{'#' * n} ") for n in range(1, len(level) + 1)]
    ends = [e for e in ends if e >= 0]
    return rest[: min(ends)] if ends else rest


def _publish(root: Path, service: str, version: str, repository: str) -> None:
    """A readable bundle in the mirror, whose bundle.yml names the service's source repository."""
    facts = f"service: {service}\nversion: {version}\nowner: team-shop\nrepository: {repository}\n"
    target = root / "nexus" / service / version / f"{service}-{version}.tar.gz"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(tarball({"bundle.yml": facts.encode()}))


@pytest.fixture
def two_forges(tmp_path: Path) -> Path:
    """prod on GitLab, staging on GitHub, both with history; cart's source repo is known."""
    prod = EnvRepo(tmp_path / "envs" / "prod")
    prod.deploy(
        {"cart": "1.0.0"},
        "Create\n\nSee merge request platform/env-prod!1",
        "2026-03-02T09:00:00+01:00",
    )
    prod.deploy(
        {"cart": "1.1.0"},
        "Promote cart 1.1.0\n\nSee merge request platform/env-prod!2",
        "2026-03-09T09:00:00+01:00",
    )
    staging = EnvRepo(tmp_path / "envs" / "staging")
    staging.deploy({"cart": "1.0.0"}, "Create (#3)", "2026-03-01T09:00:00+01:00")
    staging.deploy(
        {"cart": "1.1.0"}, "Merge pull request #4 from acme/cart", "2026-03-05T09:00:00+01:00"
    )
    _publish(tmp_path, "cart", "1.1.0", "https://gitlab.acme.test/shop/cart.git")
    write_owners = tmp_path / "owners.yml"
    write_owners.write_text("teams:\n  team-shop: {name: Shop}\n")
    return config_for(
        tmp_path,
        {"name": "staging", "repo": "envs/staging", "web": GITHUB_WEB},
        {"name": "prod", "repo": "envs/prod", "web": GITLAB_WEB},
        owners="owners.yml",
    )


def test_the_service_page_has_a_history_per_environment_newest_first_with_links(
    two_forges: Path,
) -> None:
    config = load_config(two_forges)
    model = collect(config)
    prod_commits = [c.commit for c in model.environments[1].history]
    staging_commits = [c.commit for c in model.environments[0].history]
    page = generate(config, model)["catalog/services/cart.md"]
    history = _section(page, "## History")

    prod = _section(history, "### prod")
    assert prod.index("1.1.0") < prod.index("deployed")  # newest first
    assert f"{GITLAB_WEB}/-/commit/{prod_commits[1]}" in prod
    assert f"{GITLAB_WEB}/-/commit/{prod_commits[0]}" in prod
    assert "https://gitlab.acme.test/platform/env-prod/-/merge_requests/2" in prod
    # the bundle names the source repository: the upgrade links to the diff of the source
    assert "https://gitlab.acme.test/shop/cart/-/compare/1.0.0...1.1.0" in prod

    staging = _section(history, "### staging")
    assert staging.index("1.1.0") < staging.index("deployed")
    assert f"{GITHUB_WEB}/commit/{staging_commits[1]}" in staging
    assert f"{GITHUB_WEB}/pull/4" in staging
    assert f"{GITHUB_WEB}/pull/3" in staging
    assert "/-/commit/" not in staging and "/-/merge_requests/" not in staging
    assert history.index("### prod") < history.index("### staging")  # production first


def test_without_a_web_url_the_history_names_commits_and_merge_requests_without_links(
    tmp_path: Path, prod: EnvRepo
) -> None:
    sha = prod.deploy(
        {"cart": "1.0.0"},
        "Create\n\nSee merge request platform/env-prod!1",
        "2026-03-02T09:00:00+01:00",
    )
    config = config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})
    history = _section(generate(load_config(config))["catalog/services/cart.md"], "## History")
    assert sha[:8] in history
    assert "platform/env-prod!1" in history
    assert "http" not in history


def test_the_environment_page_shows_the_latest_changes(two_forges: Path) -> None:
    pages = generate(load_config(two_forges))
    latest = dom(_section(pages["catalog/environments/prod.md"], "## Latest changes"))
    rows = latest.one("tbody").all("tr")
    assert len(rows) == 2
    assert [cell.text for cell in rows[0].all("td")][1:3] == ["cart", "1.0.0 → 1.1.0"]
    assert rows[1].all("td")[2].text == "deployed 1.0.0"
    # the built site's URL of the service page, relative to this page's
    assert rows[0].all("td")[1].one("a").attrs["href"] == "../../services/cart/"
    [request] = rows[0].all("td")[4].all("a")
    assert request.attrs["href"] == "https://gitlab.acme.test/platform/env-prod/-/merge_requests/2"


def test_newest_first_compares_instants_not_the_text_of_dates_in_other_time_zones(
    tmp_path: Path, prod: EnvRepo
) -> None:
    # Paris at 10:00 is 09:00 UTC; Bob in London commits half an hour later, at 09:30 UTC
    prod.deploy({"cart": "1.0.0"}, "Create", "2026-03-02T10:00:00+01:00")
    later = prod.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-02T09:30:00+00:00", BOB)
    config = config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})
    [newest, oldest] = cli_history(config, "cart")
    assert newest["commit"] == later
    assert (oldest["from"], oldest["to"]) == (None, "1.0.0")
    latest = _section(
        generate(load_config(config))["catalog/environments/prod.md"], "## Latest changes"
    )
    assert latest.index("1.1.0") < latest.index("deployed")


# --- the history command ------------------------------------------------------------------------


def test_history_json_is_newest_first_with_exactly_the_documented_keys(
    tmp_path: Path, prod: EnvRepo
) -> None:
    first = prod.deploy({"cart": "1.0.0", "mailer": "0.1.0"}, "Create", "2026-03-02T09:00:00+01:00")
    prod.deploy(
        {"cart": "1.1.0", "mailer": "0.1.0"}, "Promote cart 1.1.0", "2026-03-03T09:00:00+01:00"
    )
    removal = prod.deploy({"cart": "1.1.0"}, "Remove mailer", "2026-03-04T09:00:00+01:00", BOB)
    config = config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})

    cart = cli_history(config, "cart")
    assert [(c["from"], c["to"]) for c in cart] == [("1.0.0", "1.1.0"), (None, "1.0.0")]
    for change in cart:
        assert list(change) == [
            "environment", "service", "from", "to", "commit", "author", "date", "message"
        ]  # fmt: skip
    assert cart[1] == {
        "environment": "prod",
        "service": "cart",
        "from": None,
        "to": "1.0.0",
        "commit": first,
        "author": "Alice Martin",
        "date": "2026-03-02T09:00:00+01:00",
        "message": "Create",
    }
    mailer = cli_history(config, "mailer")
    assert [(c["from"], c["to"], c["commit"]) for c in mailer] == [
        ("0.1.0", None, removal),
        (None, "0.1.0", first),
    ]
    assert cli_history(config, "nothing-by-that-name") == []


@pytest.fixture
def two_environments(tmp_path: Path) -> Path:
    staging = EnvRepo(tmp_path / "envs" / "staging")
    staging.deploy({"cart": "1.0.0"}, "Create staging", "2026-03-01T09:00:00+01:00")
    staging.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-10T09:00:00+01:00")
    prod = EnvRepo(tmp_path / "envs" / "prod")
    prod.deploy({"cart": "1.0.0"}, "Create prod", "2026-03-02T09:00:00+01:00")
    prod.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-20T09:00:00+01:00")
    return config_for(
        tmp_path,
        {"name": "staging", "repo": "envs/staging"},
        {"name": "prod", "repo": "envs/prod"},
    )


def test_history_filters_by_environment_and_date(two_environments: Path) -> None:
    every = cli_history(two_environments, "cart")
    assert [(c["environment"], c["to"]) for c in every] == [
        ("prod", "1.1.0"),
        ("staging", "1.1.0"),
        ("prod", "1.0.0"),
        ("staging", "1.0.0"),
    ]
    staging = cli_history(two_environments, "cart", "--env", "staging")
    assert [(c["environment"], c["to"]) for c in staging] == [
        ("staging", "1.1.0"),
        ("staging", "1.0.0"),
    ]
    since = cli_history(two_environments, "cart", "--since", "2026-03-10")
    assert [(c["environment"], c["date"][:10]) for c in since] == [
        ("prod", "2026-03-20"),
        ("staging", "2026-03-10"),
    ]
    both = cli_history(two_environments, "cart", "--env", "prod", "--since", "2026-03-10")
    assert [c["date"][:10] for c in both] == ["2026-03-20"]


def test_history_of_an_unknown_environment_exits_2(two_environments: Path) -> None:
    result = invoke("history", "cart", "--config", str(two_environments), "--env", "qa")
    assert result.exit_code == 2
    assert "unknown environment 'qa'" in result.stderr
    assert result.stdout == ""


def test_history_as_a_table(two_environments: Path) -> None:
    result = invoke("history", "cart", "--config", str(two_environments))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    header = ["DATE", "ENV", "FROM", "TO", "AUTHOR", "COMMIT", "MERGE", "REQUEST", "FINDINGS"]
    assert lines[0].split() == header
    assert lines[-1].startswith("FINDINGS: ")  # the risks of what each environment runs now
    assert [line.split()[:4] for line in lines[1:-1]] == [
        ["2026-03-20", "prod", "1.0.0", "1.1.0"],
        ["2026-03-10", "staging", "1.0.0", "1.1.0"],
        ["2026-03-02", "prod", "-", "1.0.0"],
        ["2026-03-01", "staging", "-", "1.0.0"],
    ]
    assert "Alice Martin" in lines[1]


def test_the_sample_shows_the_auth_service_rollback_in_production(shared_sample: Path) -> None:
    production = cli_history(shared_sample, "auth-service", "--env", "production")
    assert [(c["from"], c["to"]) for c in production] == [
        ("2.0.3", "2.1.1"),
        ("2.1.0", "2.0.3"),
        ("2.0.3", "2.1.0"),
        (None, "2.0.3"),
    ]
    rollback = production[1]
    assert rollback["message"] == "Roll back auth-service to 2.0.3"
    assert rollback["author"] == "Dmitri Volkov"
    assert rollback["date"] == "2026-07-21T16:40:00+02:00"


def test_the_sample_shows_the_payments_api_hotfix_that_skipped_staging(shared_sample: Path) -> None:
    changes = cli_history(shared_sample, "payments-api")
    hotfix = [c for c in changes if c["to"] == "1.4.2"]
    assert [(c["environment"], c["from"]) for c in hotfix] == [
        ("dev", "1.4.1"),
        ("production", "1.4.1"),
    ]
    assert hotfix[1]["message"] == "Hotfix payments-api 1.4.2"
    assert hotfix[1]["date"] == "2026-09-10T03:47:00+02:00"
    staging = cli_history(shared_sample, "payments-api", "--env", "staging")
    assert staging[0]["to"] == "1.4.1"  # staging never ran 1.4.2
    table = invoke("history", "payments-api", "--config", str(shared_sample), "--env", "production")
    assert table.stdout.splitlines()[1].split()[:4] == [
        "2026-09-10",
        "production",
        "1.4.1",
        "1.4.2",
    ]
    assert "platform/env-production!9" in table.stdout.splitlines()[1]


def test_a_local_repo_is_walked_in_a_clone_that_borrows_its_objects_and_is_made_anew_when_the_repo_is(
    tmp_path: Path, prod: EnvRepo
) -> None:
    prod.deploy({"cart": "1.0.0"}, "Create production", "2026-03-02T09:15:00+01:00")
    prod.deploy({"cart": "1.1.0"}, "Promote cart 1.1.0", "2026-03-09T14:40:00+01:00")
    config = config_for(tmp_path, {"name": "prod", "repo": "envs/prod"})
    assert moves(history_of(config)) == [("cart", None, "1.0.0"), ("cart", "1.0.0", "1.1.0")]
    [clone] = (tmp_path / ".cache" / "repos").glob("local-*")
    borrowed = (clone / "objects" / "info" / "alternates").read_text().strip()
    assert Path(borrowed) == (prod.path / ".git" / "objects").resolve()
    copied = [p for p in (clone / "objects").rglob("*") if p.is_file() and "info" not in p.parts]
    assert copied == []  # nothing copied: the clone is its refs
    # the repo made anew at the same path: none of the clone's commits exist any more
    shutil.rmtree(prod.path)
    again = EnvRepo(tmp_path / "envs" / "prod")
    again.deploy({"orders": "3.0.0"}, "Start over", "2026-04-01T10:00:00+01:00")
    assert moves(history_of(config)) == [("orders", None, "3.0.0")]


# --- a long first walk, cut in parts ------------------------------------------------------------


def _busy_repo(prod: EnvRepo) -> None:
    """Forty-odd first-parent commits, some not touching the env file, and merges of branches
    whose own commits change it (which a first-parent walk does not list)."""
    versions = {"cart": "1.0.0", "pay": "2.0.0"}
    prod.deploy(versions, "Create production", "2026-03-01T09:00:00+01:00")
    for day in range(2, 30):
        when = f"2026-03-{day:02d}T09:00:00+01:00"
        if day % 7 == 0:
            git(prod.path, "checkout", "--quiet", "-b", f"branch-{day}")
            prod.deploy({**versions, "cart": f"9.{day}.0"}, "Try it", when)
            versions = {**versions, "cart": f"1.{day}.0"}
            prod.deploy(versions, "Settle it", when)
            git(prod.path, "checkout", "--quiet", "main")
            git(prod.path, "merge", "--quiet", "--no-ff", "--no-commit", f"branch-{day}")
            prod.commit(f"Merge branch-{day}", when, author=BOB)
        elif day % 5 == 0:
            (prod.path / "README.md").write_text(f"day {day}\n")
            prod.commit("Docs only", when)
        else:
            versions = {**versions, "pay": f"2.{day}.0"}
            prod.deploy(versions, f"pay on day {day}", when)


@pytest.mark.parametrize("parts", [2, 3, 4])
def test_a_walk_cut_in_parts_lists_the_commits_of_one_walk(
    prod: EnvRepo, monkeypatch: pytest.MonkeyPatch, parts: int
) -> None:
    from generator.sources import history

    _busy_repo(prod)
    head = git(prod.path, "rev-parse", "HEAD").strip()
    source = history.HistorySource("prod", prod.path, "HEAD", ("environment.yml",), True)
    monkeypatch.setattr(history, "cores", lambda: 1)
    assert history._parts(prod.path, head) == [head]
    whole = history._walk(source, head)
    monkeypatch.setattr(history, "cores", lambda: parts)
    monkeypatch.setattr(history, "SPLIT_FROM", 10)
    cut = history._parts(prod.path, head)
    assert len(cut) == parts and cut[-1].endswith(f"..{head}")
    assert history._walk(source, head) == whole
    assert len(whole) > 20
    assert "9.7.0" not in {v for c in whole for v in c.added.values()}  # a branch's own commit
    assert history._parts(prod.path, f"{whole[3].sha}..{head}") == [f"{whole[3].sha}..{head}"]


def test_a_part_that_git_cannot_walk_is_an_error_of_the_walk(
    prod: EnvRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.sources import history
    from generator.sources.gitrepo import RepoError

    _busy_repo(prod)
    head = git(prod.path, "rev-parse", "HEAD").strip()
    monkeypatch.setattr(history, "_parts", lambda root, revisions: [revisions, "no-such-ref"])
    source = history.HistorySource("prod", prod.path, "HEAD", ("environment.yml",), True)
    with pytest.raises(RepoError, match="git log"):
        history._walk(source, head)
