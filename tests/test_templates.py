"""CI templates: every input of a real template reaches its page, the sample's pages match their
golden copies, usage snippets can be pasted as they are, and each finding names the right line."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml
from conftest import CORPUS, REPO, HtmlTables, corpus_cases, needs_corpus, write

from generator.model import Finding, Model, Severity, Template
from generator.render import render_pages
from generator.render.paths import TEMPLATES, template_page
from generator.sources.templates import read_templates

TEMPLATE_CORPUS = CORPUS / "templates"
SAMPLE_TEMPLATES = REPO / "examples" / "templates"
GOLDEN = Path(__file__).parent / "golden"
SCRIPT = "<script>alert(1)</script>"
# the Markdown extensions of the sample's mkdocs.yml
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "pymdownx.superfences", "toc"]


def visible(page: str) -> str:
    """The text of rendered HTML as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# --- reading template files independently of the generator --------------------------------


class _AnyTagLoader(yaml.SafeLoader):
    """Safe YAML that reads any `!tag` (GitLab's `!reference`...) as the plain node under it."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_AnyTagLoader.add_multi_constructor("!", _untagged)


def load_all(path: Path) -> list[Any]:
    with path.open(encoding="utf-8") as stream:
        return [d for d in yaml.load_all(stream, Loader=_AnyTagLoader) if d is not None]


def _as_dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def declared_inputs(path: Path) -> list[str] | None:
    """The inputs a template file declares, or None when the file is no template."""
    documents = load_all(path)
    first = _as_dict(documents[0] if documents else None)
    if path.name in ("action.yml", "action.yaml"):
        return [str(name) for name in _as_dict(first.get("inputs"))]
    if ".github" in path.parts:  # a workflow: a template only when it can be called
        on = first.get(True, first.get("on"))  # PyYAML reads the key `on` as True
        triggers = on if isinstance(on, dict | list) else [on]
        if "workflow_call" not in triggers:
            return None
        workflow_call = _as_dict(on).get("workflow_call")
        return [str(name) for name in _as_dict(_as_dict(workflow_call).get("inputs"))]
    if not documents:
        return None
    return [str(name) for name in _as_dict(_as_dict(first.get("spec")).get("inputs"))]


def _corpus_files() -> list[Path]:
    gitlab = sorted(TEMPLATE_CORPUS.glob("gitlab/*/templates/**/*.yml"))
    actions = sorted(TEMPLATE_CORPUS.glob("github-actions/*/**/action.yml"))
    workflows = sorted(TEMPLATE_CORPUS.glob("github-actions/*/.github/workflows/*.yml"))
    return gitlab + actions + workflows


CORPUS_FILES = _corpus_files()


def _repo_of(path: Path) -> Path:
    """The corpus repository a file belongs to: `<kind>/<owner>__<repo>`."""
    kind, repo = path.relative_to(TEMPLATE_CORPUS).parts[:2]
    return TEMPLATE_CORPUS / kind / repo


# --- reading and rendering through the generator -------------------------------------------


@dataclass(frozen=True)
class Rendered:
    """The templates of one folder as the generator reads them, with their pages."""

    templates: dict[str, Template]  # by file, as displayed
    findings: list[Finding]
    site: dict[str, str]

    def page(self, file: str) -> str:
        return self.site[template_page(self.templates[file].id)]


def render_folder(folder: Path) -> Rendered:
    """Read every template under `folder` (files named relative to it) and render the site."""
    templates, findings = read_templates(
        (folder,), lambda path: path.relative_to(folder).as_posix()
    )
    site = render_pages(Model(title="Test pipeline", templates=tuple(templates)))
    return Rendered({t.file: t for t in templates}, findings, site)


render_corpus_repo = functools.cache(render_folder)


def located(findings: list[Finding], rule: str) -> list[tuple[Severity, str | None, int | None]]:
    """Where the findings of one rule are: (severity, file, line), in order."""
    return sorted((f.severity, f.file, f.line) for f in findings if f.rule == rule)


def section(page: str, anchor: str) -> str:
    """What a page shows under the heading with this id, up to the next heading."""
    start = page.index(f'id="{anchor}"')
    following = re.search(r"^<h[1-6] |^#+ ", page[start:], flags=re.MULTILINE)
    return page[start : start + following.start()] if following else page[start:]


def usage_of(page: str) -> Any:
    """The ready-to-copy snippet: the ```yaml block after `## Usage`, loaded."""
    after = page.split("## Usage", 1)[1]
    block = re.search(r"```yaml\n(.*?)\n```", after, flags=re.DOTALL)
    assert block is not None, "no yaml block under ## Usage"
    return yaml.safe_load(block.group(1))


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the only occurrence of `needle` in `text`."""
    assert text.count(needle) == 1, needle
    return text[: text.index(needle)].count("\n") + 1


def as_html(page: str) -> HtmlTables:
    parser = HtmlTables()
    parser.feed(markdown.Markdown(extensions=EXTENSIONS).convert(page))
    parser.close()
    return parser


# --- 1. every template of the corpus ---------------------------------------------------------


@needs_corpus
def test_the_corpus_has_templates_of_every_kind() -> None:
    parts = {p.relative_to(TEMPLATE_CORPUS).parts[0] for p in CORPUS_FILES}
    assert parts == {"gitlab", "github-actions"}
    assert any(p.name == "action.yml" for p in CORPUS_FILES)
    assert any(".github" in p.parts for p in CORPUS_FILES)
    assert len(CORPUS_FILES) > 40


@pytest.mark.parametrize(
    "path",
    corpus_cases(lambda: CORPUS_FILES, id=lambda p: p.relative_to(TEMPLATE_CORPUS).as_posix()),
)
def test_every_declared_input_of_a_real_template_has_its_anchor_on_its_page(path: Path) -> None:
    repo = _repo_of(path)
    rendered = render_corpus_repo(repo)
    file = path.relative_to(repo).as_posix()
    declared = declared_inputs(path)
    assert (file in rendered.templates) == (declared is not None)
    if declared is None:
        return
    page = rendered.page(file)
    assert len(rendered.templates[file].inputs) == len(declared)
    for name in declared:
        assert f'<h3 id="input-{name}" markdown>' in page, name
        assert f"](#input-{name})" in page, name  # and a row of the inputs table links to it


def test_a_workflow_that_cannot_be_called_is_no_template(tmp_path: Path) -> None:
    write(
        tmp_path / ".github" / "workflows" / "ci.yml",
        """
        on:
          push:
          workflow_dispatch:
            inputs:
              debug:
                description: Run with debug logs.
        jobs:
          test:
            runs-on: ubuntu-latest
            steps:
              - run: echo ${{ inputs.debug }}
        """,
    )
    rendered = render_folder(tmp_path)
    assert rendered.templates == {}
    assert rendered.findings == []
    assert not any(p.startswith("reference/templates/.github") for p in rendered.site)


# --- 2. golden pages of the sample's templates -----------------------------------------------

SAMPLE_FILES = sorted(
    p for p in SAMPLE_TEMPLATES.glob("*.yml") if not p.name.endswith((".docs.yml", ".docs.yaml"))
)
GOLDEN_PAGES = [template_page(p.stem) for p in SAMPLE_FILES] + [TEMPLATES]


@pytest.mark.parametrize("page", GOLDEN_PAGES)
def test_a_sample_template_page_is_its_golden_copy(
    sample_pages: dict[str, str], update_golden: bool, page: str
) -> None:
    golden = GOLDEN / page
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(sample_pages[page], encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run pytest with --update-golden"
    assert sample_pages[page] == golden.read_text(encoding="utf-8")


def test_every_golden_template_page_belongs_to_a_sample_template() -> None:
    golden = {p.relative_to(GOLDEN).as_posix() for p in GOLDEN.glob("reference/templates/**/*.md")}
    assert golden == set(GOLDEN_PAGES)


# --- 3. the sample's usage snippets, examples, pitfalls and summary --------------------------


def _spec_inputs(path: Path) -> dict[str, Any]:
    return {str(k): _as_dict(v) for k, v in load_all(path)[0]["spec"]["inputs"].items()}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=[p.stem for p in SAMPLE_FILES])
def test_the_usage_snippet_includes_the_component_with_every_mandatory_input(
    sample_pages: dict[str, str], path: Path
) -> None:
    mandatory = [name for name, body in _spec_inputs(path).items() if "default" not in body]
    assert mandatory  # every sample template has some
    snippet = usage_of(sample_pages[template_page(path.stem)])
    assert list(snippet) == ["include"]
    [entry] = snippet["include"]
    assert set(entry) == {"component", "inputs"}
    assert entry["component"] == f"$CI_SERVER_FQDN/<group>/<project>/{path.stem}@<version>"
    assert list(entry["inputs"]) == mandatory


def test_the_promote_snippet_fills_mandatory_inputs_with_the_sidecar_examples(
    sample_pages: dict[str, str],
) -> None:
    sidecar = load_all(SAMPLE_TEMPLATES / "promote.docs.yml")[0]
    mandatory = [n for n, b in _spec_inputs(SAMPLE_TEMPLATES / "promote.yml").items()
                 if "default" not in b]  # fmt: skip
    expected = {name: sidecar["inputs"][name]["examples"][0] for name in mandatory}
    assert expected == {"service": "payments-api", "version": "1.4.2", "to": "staging"}
    [entry] = usage_of(sample_pages["reference/templates/promote.md"])["include"]
    assert entry["inputs"] == expected


def test_a_mandatory_input_without_examples_gets_a_placeholder(
    sample_pages: dict[str, str],
) -> None:
    [entry] = usage_of(sample_pages["reference/templates/build.md"])["include"]
    assert entry["inputs"] == {"image": "<image>"}


def test_sidecar_pitfalls_are_admonitions_under_their_input(sample_pages: dict[str, str]) -> None:
    page = sample_pages["reference/templates/promote.md"]
    sidecar = load_all(SAMPLE_TEMPLATES / "promote.docs.yml")[0]
    pitfalls = [(name, p) for name, body in sidecar["inputs"].items()
                for p in body.get("pitfalls", [])]  # fmt: skip
    assert {p["severity"] for _, p in pitfalls} == {"danger", "warning"}
    for name, pitfall in pitfalls:
        shown = section(page, f"input-{name}")
        assert (
            f'<div class="admonition {pitfall["severity"]}"><p class="admonition-title">Pitfall</p>'
            in shown
        )
        assert " ".join(pitfall["text"].replace("`", "").split()) in visible(shown), name
    assert page.count(">Pitfall</p>") == len(pitfalls)


def test_the_sidecar_summary_is_on_the_page_and_in_the_index(sample_pages: dict[str, str]) -> None:
    summary = load_all(SAMPLE_TEMPLATES / "promote.docs.yml")[0]["summary"]
    assert summary.startswith("Opens a merge request")
    page = sample_pages["reference/templates/promote.md"]
    assert page.split("# promote\n\n", 1)[1].startswith("<div><p>")
    assert " ".join(summary.replace("`", "").split()) in visible(page.split("# promote\n\n", 1)[1])
    row = next(line for line in sample_pages[TEMPLATES].splitlines() if "[promote]" in line)
    assert "Opens a merge request on an environment repository" in row


# --- 4. findings, each at its file and line --------------------------------------------------

GITLAB_MISSING_DESCRIPTION = """
spec:
  inputs:
    stage:
      description: Stage the job runs in.
      default: test
    target:
      default: all
---
job:
  stage: $[[ inputs.stage ]]
  script:
    - make "$[[ inputs.target ]]"
"""

ACTION_MISSING_DESCRIPTION = """
name: Setup
description: Sets the tool up.
inputs:
  version:
    description: Version of the tool.
  token:
    required: true
runs:
  using: node20
  main: dist/index.js
"""


@pytest.mark.parametrize(
    ("file", "text", "line"),
    [
        ("templates/job.yml", GITLAB_MISSING_DESCRIPTION, 6),
        ("action.yml", ACTION_MISSING_DESCRIPTION, 6),
    ],
    ids=["gitlab", "github-action"],
)
def test_an_input_without_description_is_an_error_at_its_line(
    tmp_path: Path, file: str, text: str, line: int
) -> None:
    write(tmp_path / file, text)
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/missing-description") == [
        (Severity.ERROR, file, line)
    ]
    assert file in rendered.templates  # still documented


def test_a_gitlab_input_used_but_not_declared_is_an_error_at_each_use(tmp_path: Path) -> None:
    text = """
    spec:
      inputs:
        stage:
          description: Stage the job runs in.
          default: test
    ---
    job:
      stage: $[[ inputs.stage ]]
      script:
        - make "$[[ inputs.target ]]"
        - echo "$[[ inputs.tag | expand_vars ]]"
        - echo "$[[inputs.target]]"
    """
    path = write(tmp_path / "templates" / "job.yml", text)
    content = path.read_text(encoding="utf-8")
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/undeclared-input") == [
        (Severity.ERROR, "templates/job.yml", line_of(content, 'make "$[[ inputs.target ]]"')),
        (Severity.ERROR, "templates/job.yml", line_of(content, "inputs.tag | expand_vars")),
        (Severity.ERROR, "templates/job.yml", line_of(content, "$[[inputs.target]]")),
    ]
    messages = {f.message for f in rendered.findings if f.rule == "template/undeclared-input"}
    assert messages == {
        "input 'target' is used but not declared",
        "input 'tag' is used but not declared",
    }


COMPOSITE_ACTION = """
name: Greet
description: Says hello.
inputs:
  who:
    description: Whom to greet.
    required: true
runs:
  using: composite
  steps:
    - shell: bash
      run: echo "hello ${{ inputs.who }} from ${{ inputs.whence }}"
"""

REUSABLE_WORKFLOW = """
on:
  workflow_call:
    inputs:
      environment:
        description: Where to deploy.
        type: string
        required: true
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment: ${{ inputs.environment }}
    steps:
      - run: ./deploy --region "${{ inputs.region }}"
"""


@pytest.mark.parametrize(
    ("file", "text", "use"),
    [
        ("action.yml", COMPOSITE_ACTION, "inputs.whence"),
        (".github/workflows/deploy.yml", REUSABLE_WORKFLOW, "inputs.region"),
    ],
    ids=["composite-action", "reusable-workflow"],
)
def test_a_github_input_used_but_not_declared_is_an_error_at_its_use(
    tmp_path: Path, file: str, text: str, use: str
) -> None:
    path = write(tmp_path / file, text)
    rendered = render_folder(tmp_path)
    expected_line = line_of(path.read_text(encoding="utf-8"), use)
    assert located(rendered.findings, "template/undeclared-input") == [
        (Severity.ERROR, file, expected_line)
    ]
    assert located(rendered.findings, "template/unused-input") == []


def test_an_undeclared_input_in_a_multi_line_expression_is_found_at_its_own_line(
    tmp_path: Path,
) -> None:
    text = """
    on:
      workflow_call:
        inputs:
          deploy:
            description: Deploy after the tests.
            type: boolean
    jobs:
      deploy:
        if: >-
          ${{
            inputs.deploy &&
            inputs.approved
          }}
        runs-on: ubuntu-latest
        steps:
          - run: ./deploy
    """
    path = write(tmp_path / ".github" / "workflows" / "deploy.yml", text)
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/undeclared-input") == [
        (
            Severity.ERROR,
            ".github/workflows/deploy.yml",
            line_of(path.read_text(encoding="utf-8"), "inputs.approved"),
        )
    ]


def test_github_input_names_are_matched_whatever_their_case(tmp_path: Path) -> None:
    write(
        tmp_path / "action.yml",
        """
        name: Login
        description: Logs in.
        inputs:
          Registry-Token:
            description: Token of the registry.
        runs:
          using: composite
          steps:
            - shell: bash
              run: login "${{ inputs.registry-token }}"
        """,
    )
    rendered = render_folder(tmp_path)
    assert rendered.findings == []


def test_a_gitlab_input_declared_but_never_used_is_a_warning_at_its_line(tmp_path: Path) -> None:
    write(
        tmp_path / "templates" / "job.yml",
        """
        spec:
          inputs:
            stage:
              description: Stage the job runs in.
              default: test
            verbose:
              description: Print every command.
              default: false
        ---
        job:
          stage: $[[ inputs.stage ]]
          script: [make]
        """,
    )
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/unused-input") == [
        (Severity.WARNING, "templates/job.yml", 6)
    ]


def _action(using: str) -> str:
    runs = {
        "composite": "using: composite\n  steps:\n    - shell: bash\n      run: echo hello",
        "node20": "using: node20\n  main: dist/index.js",
        "docker": "using: docker\n  image: Dockerfile",
    }[using]
    return (
        "name: Tool\ndescription: Runs the tool.\n"
        "inputs:\n  level:\n    description: Log level.\n    default: info\n"
        f"runs:\n  {runs}\n"
    )


def test_a_composite_action_input_never_used_is_a_warning_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "action.yml").write_text(_action("composite"), encoding="utf-8")
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/unused-input") == [
        (Severity.WARNING, "action.yml", 4)
    ]


@pytest.mark.parametrize("using", ["node20", "docker"])
def test_an_action_whose_code_reads_its_inputs_has_no_unused_input(
    tmp_path: Path, using: str
) -> None:
    (tmp_path / "action.yml").write_text(_action(using), encoding="utf-8")
    rendered = render_folder(tmp_path)
    assert rendered.templates["action.yml"].runs == using
    assert rendered.findings == []
    assert f"GitHub action ({using})" in rendered.page("action.yml")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "default: staging\n      options: [dev, production]",
            "default 'staging' of input 'to' is not one of its options",
        ),
        (
            "default: Staging\n      regex: '^[a-z]+$'",
            "default 'Staging' of input 'to' does not match its regex",
        ),
        (
            "default: Staging\n      regex: /^[a-z]+$/",
            "default 'Staging' of input 'to' does not match its regex",
        ),
    ],
    ids=["not-an-option", "not-matching-regex", "not-matching-slashed-regex"],
)
def test_a_default_gitlab_would_refuse_is_an_error_at_the_input(
    tmp_path: Path, body: str, message: str
) -> None:
    write(
        tmp_path / "templates" / "deploy.yml",
        "spec:\n  inputs:\n    to:\n      description: Environment.\n"
        f"      {body}\n---\ndeploy:\n  script:\n    - deploy $[[ inputs.to ]]\n",
    )
    rendered = render_folder(tmp_path)
    invalid = [f for f in rendered.findings if f.rule == "template/invalid-default"]
    assert [(f.severity, f.file, f.line, f.message) for f in invalid] == [
        (Severity.ERROR, "templates/deploy.yml", 3, message)
    ]
    assert [f.rule for f in rendered.findings] == ["template/invalid-default"]


@pytest.mark.parametrize(
    "body",
    ["default: dev\n      options: [dev, production]", "default: dev\n      regex: /^[a-z]+$/"],
    ids=["an-option", "matching-regex"],
)
def test_a_default_gitlab_accepts_has_no_finding(tmp_path: Path, body: str) -> None:
    write(
        tmp_path / "templates" / "deploy.yml",
        "spec:\n  inputs:\n    to:\n      description: Environment.\n"
        f"      {body}\n---\ndeploy:\n  script:\n    - deploy $[[ inputs.to ]]\n",
    )
    assert render_folder(tmp_path).findings == []


@pytest.mark.parametrize(
    "body",
    ["default: dev\n      regex: '^[a-z'", "regex: '^[a-z'"],
    ids=["with-default", "mandatory"],
)
def test_a_regex_that_does_not_compile_is_an_error_at_the_input(tmp_path: Path, body: str) -> None:
    write(
        tmp_path / "templates" / "deploy.yml",
        "spec:\n  inputs:\n    to:\n      description: Environment.\n"
        f"      {body}\n---\ndeploy:\n  script:\n    - deploy $[[ inputs.to ]]\n",
    )
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/invalid-regex") == [
        (Severity.ERROR, "templates/deploy.yml", 3)
    ]


def test_a_template_that_is_not_yaml_is_an_error_at_the_syntax_error(tmp_path: Path) -> None:
    write(
        tmp_path / "templates" / "broken.yml",
        """
        spec:
          inputs:
            stage:
              description: Stage.
              default: test
        ---
        job:
          stage: $[[ inputs.stage ]]
          image: alpine: 3.20
          script: [true]
        """,
    )
    write(
        tmp_path / "templates" / "fine.yml",
        """
        spec:
          inputs:
            stage:
              description: Stage the job runs in.
              default: test
        ---
        job:
          stage: $[[ inputs.stage ]]
          script: [true]
        """,
    )
    rendered = render_folder(tmp_path)
    assert located(rendered.findings, "template/invalid-yaml") == [
        (Severity.ERROR, "templates/broken.yml", 9)
    ]
    assert list(rendered.templates) == ["templates/fine.yml"]
    assert template_page("templates/fine") in rendered.site
    assert template_page("templates/broken") not in rendered.site
    assert "[templates/broken]" not in rendered.site[TEMPLATES]


# --- reading and usage of each kind -----------------------------------------------------------


def test_a_reference_tag_loads_and_its_job_is_listed(tmp_path: Path) -> None:
    write(
        tmp_path / "templates" / "lint.yml",
        """
        spec:
          inputs:
            stage:
              description: Stage the job runs in.
              default: test
        ---
        .setup:
          script: [npm ci]
        lint:
          stage: $[[ inputs.stage ]]
          script:
            - !reference [.setup, script]
            - npm run lint
        """,
    )
    rendered = render_folder(tmp_path)
    assert rendered.findings == []
    assert rendered.templates["templates/lint.yml"].jobs == ("lint",)
    assert "## Jobs { #_jobs }\n\n- `lint`\n" in rendered.page("templates/lint.yml")


@pytest.mark.parametrize(
    "file", ["templates/deploy/template.yml", "templates/deploy.yml"], ids=["folder", "file"]
)
def test_a_gitlab_component_is_included_by_its_component_name(tmp_path: Path, file: str) -> None:
    write(
        tmp_path / file,
        """
        spec:
          inputs:
            to:
              description: Environment to deploy to.
        ---
        deploy:
          script:
            - deploy "$[[ inputs.to ]]"
        """,
    )
    rendered = render_folder(tmp_path)
    assert usage_of(rendered.page(file)) == {
        "include": [
            {
                "component": "$CI_SERVER_FQDN/<group>/<project>/deploy@<version>",
                "inputs": {"to": "<to>"},
            }
        ]
    }


SETUP_ACTION = """
name: Setup tool
description: Installs the tool and puts it on the PATH.
inputs:
  version:
    description: Version to install.
    required: true
  cache:
    description: Cache the download.
    default: "true"
  token:
    description: Token for the download.
    deprecationMessage: Not needed since v2; downloads are public.
outputs:
  path:
    description: Where the tool was installed.
  cache-hit:
    description: Whether the cache was used.
runs:
  using: node20
  main: dist/index.js
"""


def test_an_action_at_the_repo_root_is_used_as_owner_and_repo(tmp_path: Path) -> None:
    write(tmp_path / "setup-tool" / "action.yml", SETUP_ACTION)
    rendered = render_folder(tmp_path / "setup-tool")
    assert usage_of(rendered.page("action.yml")) == {
        "steps": [{"uses": "<owner>/<repo>@<ref>", "with": {"version": "<version>"}}]
    }


def test_an_action_in_a_folder_is_used_by_its_path(tmp_path: Path) -> None:
    write(tmp_path / "cache" / "restore" / "action.yml", SETUP_ACTION)
    rendered = render_folder(tmp_path / "cache")
    [step] = usage_of(rendered.page("restore/action.yml"))["steps"]
    assert step["uses"] == "<owner>/<repo>/restore@<ref>"


def test_the_outputs_of_an_action_are_a_table_with_anchors(tmp_path: Path) -> None:
    write(tmp_path / "action.yml", SETUP_ACTION)
    page = render_folder(tmp_path).page("action.yml")
    assert '<span id="output-path"></span>`path`' in page
    outputs = as_html(page.split("## Outputs", 1)[1]).tables[0]
    assert outputs == [
        ["Output", "Description"],
        ["path", "Where the tool was installed."],
        ["cache-hit", "Whether the cache was used."],
    ]


def test_a_deprecated_input_shows_a_deprecated_admonition(tmp_path: Path) -> None:
    write(tmp_path / "action.yml", SETUP_ACTION)
    page = render_folder(tmp_path).page("action.yml")
    token = section(page, "input-token")
    assert '<div class="admonition warning"><p class="admonition-title">Deprecated</p>' in token
    assert "Not needed since v2; downloads are public." in visible(token)
    assert "Deprecated" not in section(page, "input-version")
    row = next(line for line in page.splitlines() if line.startswith("| [`token`]"))
    assert "**Deprecated.** Token for the download." in row


DEPLOY_WORKFLOW = """
name: Deploy
on:
  workflow_call:
    inputs:
      environment:
        description: Environment to deploy to.
        type: string
        required: true
      dry-run:
        description: Only show what would change.
        type: boolean
        default: false
    secrets:
      kube-config:
        description: Kubeconfig of the cluster.
        required: true
      slack-webhook:
        description: Where to announce the deploy.
    outputs:
      url:
        description: URL of the deployed service.
        value: ${{ jobs.deploy.outputs.url }}
jobs:
  deploy:
    runs-on: ubuntu-latest
    outputs:
      url: ${{ steps.apply.outputs.url }}
    steps:
      - id: apply
        run: ./deploy "${{ inputs.environment }}" --dry-run=${{ inputs.dry-run }}
"""


def test_a_reusable_workflow_is_used_as_a_job_with_its_required_inputs_and_secrets(
    tmp_path: Path,
) -> None:
    write(tmp_path / ".github" / "workflows" / "deploy.yml", DEPLOY_WORKFLOW)
    rendered = render_folder(tmp_path)
    assert rendered.findings == []
    page = rendered.page(".github/workflows/deploy.yml")
    assert "GitHub reusable workflow, from `.github/workflows/deploy.yml`." in page
    assert usage_of(page) == {
        "jobs": {
            "deploy": {
                "uses": "<owner>/<repo>/.github/workflows/deploy.yml@<ref>",
                "with": {"environment": "<environment>"},
                "secrets": {"kube-config": "${{ secrets.kube-config }}"},
            }
        }
    }


def test_the_secrets_and_outputs_of_a_reusable_workflow_are_tables(tmp_path: Path) -> None:
    write(tmp_path / ".github" / "workflows" / "deploy.yml", DEPLOY_WORKFLOW)
    page = render_folder(tmp_path).page(".github/workflows/deploy.yml")
    assert '<span id="secret-kube-config"></span>' in page
    assert '<span id="output-url"></span>' in page
    secrets = as_html(page.split("## Secrets", 1)[1].split("## Outputs", 1)[0]).tables[0]
    assert secrets == [
        ["Secret", "Required", "Description"],
        ["kube-config", "yes", "Kubeconfig of the cluster."],
        ["slack-webhook", "", "Where to announce the deploy."],
    ]
    outputs = as_html(page.split("## Outputs", 1)[1]).tables[0]
    assert outputs == [["Output", "Description"], ["url", "URL of the deployed service."]]


def test_a_hostile_input_description_neither_injects_html_nor_breaks_the_table(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "templates" / "job.yml",
        f"""
        spec:
          inputs:
            target:
              description: "Runs {SCRIPT} | or a pipe | here."
              default: all
            stage:
              description: Stage | of the job.
              default: test
        ---
        job:
          stage: $[[ inputs.stage ]]
          script:
            - make "$[[ inputs.target ]]"
        """,
    )
    page = render_folder(tmp_path).page("templates/job.yml")
    parsed = as_html(page)
    assert "script" not in parsed.tags
    inputs = parsed.tables[0]
    assert inputs[0] == ["Input", "Type", "Mandatory or default", "Description"]
    assert inputs[1:] == [
        ["target", "string", "all", f"Runs {SCRIPT} | or a pipe | here."],
        ["stage", "string", "test", "Stage | of the job."],
    ]
    assert f"Runs {SCRIPT}" not in page  # the markup is escaped in the Markdown itself


@pytest.mark.parametrize(
    "on",
    ["on: workflow_call", "on: [push, workflow_call]", "'on':\n  workflow_call:"],
    ids=["string", "list", "quoted-key"],
)
def test_a_workflow_is_reusable_whichever_way_on_names_workflow_call(
    tmp_path: Path, on: str
) -> None:
    write(
        tmp_path / ".github" / "workflows" / "lint.yaml",
        f"{on}\njobs:\n  lint:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make lint\n",
    )
    rendered = render_folder(tmp_path)
    assert rendered.templates[".github/workflows/lint.yaml"].kind == "github-workflow"
    assert rendered.findings == []
    assert "This template has no inputs." in rendered.page(".github/workflows/lint.yaml")


def test_the_job_of_a_reusable_workflow_snippet_has_a_valid_job_id(tmp_path: Path) -> None:
    # GitHub: a job id starts with a letter or `_` and has only letters, digits, `-` and `_`
    write(tmp_path / ".github" / "workflows" / "deploy.prod.yml", DEPLOY_WORKFLOW)
    page = render_folder(tmp_path).page(".github/workflows/deploy.prod.yml")
    [(job_id, job)] = usage_of(page)["jobs"].items()
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", job_id), job_id
    assert job["uses"] == "<owner>/<repo>/.github/workflows/deploy.prod.yml@<ref>"
