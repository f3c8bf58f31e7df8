"""Guides quote facts of the generated data (`--8<-- "name"` on a line of their own): the facts
are files the generator writes outside docs/, read by pymdownx.snippets; a fact the data no
longer has, or a marker inside a sentence, is a `docs/missing-fact` finding at the guide's line,
in `check` and in `build`, never a traceback."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import markdown
import pytest
from conftest import REPO, invoke, run_cli, write
from mkdocs.config import load_config as load_mkdocs_config

from generator.analysis.quotes import missing_facts
from generator.collect import collect
from generator.config import load_config
from generator.facts import expand, facts_folder, guide_facts, inert, quotes, write_facts
from generator.generate import generate
from generator.model import Model
from generator.site import SNIPPETS, mkdocs_config_file, mkdocs_overrides, site_markdown

REPLICAS = "option/service/deploy.replicas/default.md"
GUIDES = ("onboarding", "promote", "ci", "incident")


def marker_line(guide: Path, name: str) -> int:
    """The line of a guide that quotes `name`."""
    lines = guide.read_text(encoding="utf-8").splitlines()
    return lines.index(next(line for line in lines if f'--8<-- "{name}"' in line)) + 1


def edit_schema(root: Path, change: Any) -> None:
    """Change the sample's service schema in place: `change(schema)`."""
    path = root / "schemas" / "service.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")


def deploy(schema: dict[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = schema["properties"]["deploy"]["properties"]
    return options


def build(config: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    site = config.parent / "out"
    done = run_cli(
        "build", "--config", str(config), "--site-dir", str(site), *args, cwd=config.parent
    )
    return done, site


def article(page: Path) -> str:
    """The content of a built page, without the theme around it."""
    text = page.read_text(encoding="utf-8")
    return text[text.index("<article") : text.index("</article>")]


def findings(config: Path, *args: str) -> tuple[int, list[dict[str, Any]]]:
    result = invoke("check", "--config", str(config), "--format", "json", *args)
    found = json.loads(result.stdout)["findings"]
    return result.exit_code, [f for f in found if f["rule"] == "docs/missing-fact"]


# --- the sample's guides and their facts ---------------------------------------------------------


def test_the_samples_facts_are_what_its_inputs_say(sample_model: Model) -> None:
    facts = guide_facts(sample_model)
    assert facts[REPLICAS] == "`2`"
    assert facts["option/service/deploy.strategy/default.md"] == "`RollingUpdate`"
    assert facts["environments/order.md"] == "`dev` → `staging` → `production`"
    assert facts["environments/production.md"] == "`production`"
    listed = facts["templates/list.md"]
    assert listed.startswith("\n|") and listed.endswith("|\n\n")  # a table, a block of its own
    for template in ("build", "package-bundle", "promote", "security-scan", "test"):
        assert f"| `{template}` |" in listed
    include = facts["template/build/include.md"]
    assert (
        "```yaml\ninclude:\n- component: $CI_SERVER_FQDN/<group>/<project>/build@<version>"
        in include
    )
    assert "    image: <image>\n```" in include


def test_every_guide_of_the_sample_quotes_facts_that_exist(sample_model: Model) -> None:
    facts = guide_facts(sample_model)
    quoted = {
        guide: [q.name for q in quotes((REPO / "docs" / "guides" / f"{guide}.md").read_text())]
        for guide in GUIDES
    }
    assert all(quoted.values()), quoted  # each of the four guides quotes at least one fact
    assert REPLICAS in quoted["onboarding"]
    assert "templates/list.md" in quoted["ci"] and "template/build/include.md" in quoted["ci"]
    assert "environments/order.md" in quoted["promote"]
    assert "environments/order.md" in quoted["incident"]
    assert [name for names in quoted.values() for name in names if name not in facts] == []


def test_the_samples_nav_lists_the_four_guides() -> None:
    nav = load_mkdocs_config(config_file=str(REPO / "mkdocs.yml"))["nav"]
    [guides] = [entry["Guides"] for entry in nav if isinstance(entry, dict) and "Guides" in entry]
    assert guides == [f"guides/{guide}.md" for guide in GUIDES]


def test_no_built_page_of_the_sample_holds_a_snippet_marker(
    built_sample_site: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, site = built_sample_site
    assert done.returncode == 0, done.stderr
    left = [
        path.relative_to(site).as_posix()
        for path in site.rglob("*")
        if path.suffix in (".html", ".json", ".xml")
        and re.search(r"-8(<|&lt;|&#60;)-", path.read_text(encoding="utf-8"))
    ]
    assert left == []
    # and the facts are there in their place
    guides = site / "guides"
    assert "defaults to\n  <code>2</code>\n  pods;" in article(guides / "onboarding" / "index.html")
    order = "<code>dev</code> → <code>staging</code> → <code>production</code>"
    assert order in article(guides / "promote" / "index.html")
    assert order in article(guides / "incident" / "index.html")
    ci = article(guides / "ci" / "index.html")
    assert "<td><code>security-scan</code></td>" in ci
    assert "build@&lt;version&gt;" in ci


# --- the acceptance: a default changed, an option removed ---------------------------------------


def test_a_changed_default_changes_the_guide_on_the_next_build(sample_config: Path) -> None:
    root = sample_config.parent
    guide = root / "docs" / "guides" / "onboarding.md"
    before = guide.read_text(encoding="utf-8")
    edit_schema(root, lambda schema: deploy(schema)["replicas"].update(default=5))
    done, site = build(sample_config)
    assert done.returncode == 0, done.stderr
    assert guide.read_text(encoding="utf-8") == before  # no edit to the guide
    shown = article(site / "guides" / "onboarding" / "index.html")
    assert "defaults to\n  <code>5</code>\n  pods;" in shown
    assert "<code>2</code>" not in shown


def test_removing_a_quoted_option_fails_check_at_the_guides_line(sample_config: Path) -> None:
    root = sample_config.parent
    edit_schema(root, lambda schema: deploy(schema).pop("replicas"))
    code, found = findings(sample_config)
    assert code == 1
    line = marker_line(root / "docs" / "guides" / "onboarding.md", REPLICAS)
    assert [(f["severity"], f["file"], f["line"]) for f in found] == [
        ("error", "docs/guides/onboarding.md", line)
    ]
    assert found[0]["message"] == f"quotes `{REPLICAS}`, a fact the generated data does not have"
    assert "schema-diff" in found[0]["hint"]


def test_removing_a_quoted_option_fails_the_build_with_the_finding(sample_config: Path) -> None:
    root = sample_config.parent
    edit_schema(root, lambda schema: deploy(schema).pop("replicas"))
    done, site = build(sample_config)
    assert done.returncode == 1
    line = marker_line(root / "docs" / "guides" / "onboarding.md", REPLICAS)
    # at the guide's path and line, as terminals and editors open it
    assert f"docs/guides/onboarding.md:{line}: error: quotes `{REPLICAS}`" in done.stderr
    assert "[docs/missing-fact]" in done.stderr
    assert "not built: findings reach --fail-on error" in done.stderr
    assert "Traceback" not in done.stderr and "SnippetMissingError" not in done.stderr
    assert not site.exists()


# what removing deploy.replicas finds: the fact, the guide's link to it, the sample's use of it
BELOW_FAIL_ON = (
    "docs/missing-fact",
    "docs/dead-link",
    "config/unknown-option",
    "changelog/missing-announcement",
)


@pytest.mark.parametrize("how", ["--fail-on never", "checks: warning"])
def test_a_missing_fact_below_fail_on_builds_without_a_traceback(
    sample_config: Path, how: str
) -> None:
    root = sample_config.parent
    edit_schema(root, lambda schema: deploy(schema).pop("replicas"))
    args: list[str] = []
    if how == "--fail-on never":
        args = ["--fail-on", "never"]
    else:  # below the default --fail-on error
        text = sample_config.read_text(encoding="utf-8")
        sample_config.write_text(
            text + "checks:\n" + "".join(f"  {rule}: warning\n" for rule in BELOW_FAIL_ON),
            "utf-8",
        )
    done, site = build(sample_config, *args)
    assert done.returncode == 0, done.stderr
    assert "[docs/missing-fact]" in done.stderr  # reported, not failed on
    assert "Traceback" not in done.stderr and "SnippetMissingError" not in done.stderr
    shown = article(site / "guides" / "onboarding" / "index.html")
    assert "defaults to\n  pods;" in shown  # the marker quotes nothing, and stays no text
    assert "8&lt;" not in shown


# --- markers a guide may not use ----------------------------------------------------------------

BAD_MARKERS = """# Markers

A sentence with --8<-- "environments/order.md" inside stays literal.

--8<-- "environments/order.md" and more after it

;--8<-- "environments/order.md"

--8<--
environments/order.md
--8<--

Some text `--8<-- [start:x]` with a section marker.

--8<-- "environments/ordre.md"

--8<-- "environments/order.md"
"""


def test_markers_inside_a_line_and_unknown_facts_are_findings_at_their_lines(
    sample_config: Path,
) -> None:
    write(sample_config.parent / "docs" / "guides" / "markers.md", BAD_MARKERS)
    code, found = findings(sample_config)
    assert code == 1
    assert {f["file"] for f in found} == {"docs/guides/markers.md"}
    assert [f["line"] for f in found] == [3, 5, 7, 9, 11, 13, 15]
    literal = "`--8<--` is no fact marker here: the page would show it as text"
    block = "`--8<--` alone opens a block of snippet paths: the lines up to the next one are lost"
    section = "`--8<-- [start:…]` is a snippet section marker: the page would lose the whole line"
    missing = "quotes `environments/ordre.md`, a fact the generated data does not have"
    assert [f["message"] for f in found] == [
        literal,
        literal,
        literal,
        block,
        block,
        section,
        missing,
    ]
    assert all('`--8<-- "templates/list.md"`' in f["hint"] for f in found[:6])
    assert "environments/order.md" in found[6]["hint"]  # the kinds of facts there are


def test_a_typo_in_an_option_gets_the_closest_fact_as_hint(
    sample_config: Path, sample_pages: dict[str, str], sample_model: Model
) -> None:
    write(
        sample_config.parent / "docs" / "guides" / "typo.md",
        '# Typo\n\n--8<-- "option/service/deploy.replica/default.md"\n',
    )
    [finding] = missing_facts(load_config(sample_config), sample_pages, guide_facts(sample_model))
    assert (finding.file, finding.line) == ("docs/guides/typo.md", 3)
    assert finding.hint == f"did you mean `{REPLICAS}`?"


def test_a_generated_page_in_docs_is_no_guide(
    sample_config: Path, sample_pages: dict[str, str], sample_model: Model
) -> None:
    write(sample_config.parent / "docs" / "health.md", '# Health\n\n--8<-- "nothing.md"\n')
    assert missing_facts(load_config(sample_config), sample_pages, guide_facts(sample_model)) == []


def test_the_dead_link_check_reads_nothing_but_the_facts(
    sample_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a file that pymdownx.snippets, with its default base path (".", the working folder), reads
    root = sample_config.parent
    monkeypatch.chdir(root)
    write(root / "secret.md", "[a link nowhere](nowhere.md)\n")
    write(
        root / "docs" / "guides" / "reads.md",
        '# Reads\n\n--8<-- "../../secret.md"\n\n--8<-- "secret.md"\n',
    )
    code, found = findings(sample_config)
    assert code == 1
    assert [(f["file"], f["line"]) for f in found] == [
        ("docs/guides/reads.md", 3),
        ("docs/guides/reads.md", 5),
    ]
    result = invoke("check", "--config", str(sample_config), "--format", "json")
    assert "nowhere.md" not in result.stdout  # the file was never rendered as part of the guide


# --- hostile facts ----------------------------------------------------------------------------

HOSTILE = '<script>alert(1)</script> `tick` ``two`` --8<-- "environments/order.md" {: #x }'


def test_a_hostile_default_is_inert_in_the_guide(sample_config: Path) -> None:
    root = sample_config.parent

    def hostile(schema: dict[str, Any]) -> None:
        deploy(schema)["hostile"] = {
            "type": "string",
            "description": "A default no guide should obey.",
            "default": HOSTILE + "\n--8<--\nenvironments/order.md\n--8<--",
        }

    edit_schema(root, hostile)
    guide = root / "docs" / "guides" / "ci.md"
    name = "option/service/deploy.hostile/default.md"
    guide.write_text(
        guide.read_text(encoding="utf-8") + f'\nIts default is\n--8<-- "{name}"\nand no more.\n',
        encoding="utf-8",
    )
    done, site = build(sample_config, "--fail-on", "never")
    assert done.returncode == 0, done.stderr
    shown = article(site / "guides" / "ci" / "index.html")
    sentence = shown[shown.index("Its default is") : shown.index("and no more.")]
    [code] = re.findall(r"<code>(.*?)</code>", sentence, flags=re.S)
    expected = " ".join((HOSTILE + " --8<-- environments/order.md --8<--").split())
    assert code == expected.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert "<script>alert" not in shown
    assert "<code>dev</code>" not in sentence  # no other fact was read into it


@pytest.mark.parametrize(
    "line",
    [
        '--8<-- "secret.md"',
        '  --8<-- "secret.md"',
        ";;--8<-- 'secret.md'",
        "--8<--",
        '-8<- "sec\\"ret.md"',
        "text --8<-- [start:part] more --8<-- [end:part]",
        "- item --8<-- [START: part ]",
    ],
)
def test_inert_lines_show_as_written_under_pymdownx_snippets(tmp_path: Path, line: str) -> None:
    (tmp_path / "secret.md").write_text("SECRET\n--8<-- [start:part]\nSECRET\n", encoding="utf-8")
    (tmp_path / 'sec\\"ret.md').write_text(
        "SECRET\n", encoding="utf-8"
    )  # as `"sec\\"ret.md"` reads
    for text in (f"{line}\n", f"```\n{line}\n```\n", f"{line}\nsecret.md\n--8<--\n"):
        rendered = markdown.markdown(
            inert(text),
            extensions=[SNIPPETS, "pymdownx.superfences"],
            extension_configs={SNIPPETS: {"base_path": [str(tmp_path)], "check_paths": True}},
        )
        assert "SECRET" not in rendered
        visible = re.sub(r"<[^>]+>", "", rendered).replace("&quot;", '"').replace("&lt;", "<")
        assert line.strip(" -") in visible.replace("&#x27;", "'").replace("&#39;", "'")
    untouched = 'nothing to see\n- 8 < 9\na --8<-- "x" b\n--8<-- unquoted\n--8<-- "x" \n'
    assert inert(untouched) == untouched  # what pymdownx.snippets leaves alone gets no `;`


def test_expand_puts_each_fact_in_place_as_pymdownx_snippets_does(tmp_path: Path) -> None:
    facts = {"a.md": "`one`", "b.md": "\n| x |\n|---|\n| y |\n\n"}
    text = '# T\n\n- item\n  --8<-- "a.md"\n  more\n\n--8<-- "b.md"\n--8<-- "gone.md"\nend\n'
    write_facts(tmp_path, facts)
    by_snippets = markdown.markdown(
        text, extensions=[SNIPPETS, "tables"],
        extension_configs={SNIPPETS: {"base_path": [str(tmp_path)]}},
    )  # fmt: skip
    assert markdown.markdown(expand(text, facts), extensions=["tables"]) == by_snippets
    assert "<code>one</code>" in by_snippets and "<td>y</td>" in by_snippets


# --- where the facts are, and how pymdownx.snippets is told -------------------------------------


def test_facts_are_written_outside_docs_and_gone_ones_removed(sample_config: Path) -> None:
    config = load_config(sample_config)
    folder = facts_folder(config)
    assert folder.is_absolute()
    assert not folder.is_relative_to(site_markdown(config).docs.resolve())
    write_facts(folder, {"a/b.md": "1", "c.md": "2"})
    write_facts(folder, {"c.md": "3"})
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) == ["c.md"]
    assert (folder / "c.md").read_text() == "3"


def _snippets(config_file: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    loaded = load_mkdocs_config(config_file=str(config_file), **overrides)
    assert SNIPPETS in loaded["markdown_extensions"]
    settings: dict[str, Any] = loaded["mdx_configs"][SNIPPETS]
    return settings


def test_mkdocs_reads_snippets_only_from_the_facts_folder(sample_config: Path) -> None:
    config = load_config(sample_config)
    own = sample_config.parent / "mkdocs.yml"
    assert str(sample_config.parent) not in own.read_text(encoding="utf-8")  # nothing absolute
    file = mkdocs_config_file(config)
    assert file == own
    settings = _snippets(file, mkdocs_overrides(config, file).overrides)
    assert settings["base_path"] == [str(facts_folder(config))]
    assert Path(settings["base_path"][0]).is_absolute()
    assert settings["url_download"] is False
    assert settings["restrict_base_path"] is True
    assert settings["check_paths"] is True
    assert (
        _snippets(file, mkdocs_overrides(config, file, check_paths=False).overrides)["check_paths"]
        is False
    )


def test_the_default_mkdocs_yml_reads_snippets_from_the_facts_folder(tmp_path: Path) -> None:
    # no mkdocs.yml beside the config: the one made in the cache, as a plain engine reads it
    (tmp_path / "pipeline-docs.yml").write_text("title: T\ncache: .cache\n", encoding="utf-8")
    config = load_config(tmp_path / "pipeline-docs.yml")
    file = mkdocs_config_file(config)
    assert file.is_relative_to(config.cache)
    for overrides in ({}, mkdocs_overrides(config, file).overrides):
        settings = _snippets(file, overrides)
        assert settings["base_path"] == [str(facts_folder(config))]
        assert settings["url_download"] is False and settings["restrict_base_path"] is True


def test_a_mkdocs_yml_without_snippets_gets_it(sample_config: Path) -> None:
    own = sample_config.parent / "mkdocs.yml"
    text = own.read_text(encoding="utf-8")
    start = text.index("  - pymdownx.snippets:")
    own.write_text(text[:start] + text[text.index("exclude_docs:") :], encoding="utf-8")
    config = load_config(sample_config)
    assert SNIPPETS not in load_mkdocs_config(config_file=str(own))["markdown_extensions"]
    settings = _snippets(own, mkdocs_overrides(config, own).overrides)
    assert settings["base_path"] == [str(facts_folder(config))]


def test_generated_pages_hold_no_line_snippets_would_obey(sample_config: Path) -> None:
    # an example of a template input on several lines: the include snippet is a YAML block
    sidecar = sample_config.parent / "examples" / "templates" / "build.docs.yml"
    example = 'a\n--8<-- "environments/order.md"\nb'
    sidecar.write_text(json.dumps({"inputs": {"image": {"examples": [example]}}}), "utf-8")
    config = load_config(sample_config)
    model = collect(config)
    marker = '\n      --8<-- "environments/order.md"\n'
    page = generate(config, model)["reference/templates/build.md"]
    assert marker in page  # as `generate --out` writes it, for any engine
    assert marker.replace("--8", ";--8") in inert(page)  # as the gen-files hook hands it to MkDocs
    include = guide_facts(model)["template/build/include.md"]
    assert marker.replace("--8", ";--8") in include
