"""The sample schemas' examples: each page shows an instance that validates against its schema,
and each option's "Usage" snippet is YAML that sets the option at its place."""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import jsonschema
import pytest
import referencing
import yaml
from conftest import REPO, SchemaPages, option_section, render_schema_folder

SAMPLE = REPO / "schemas"
SAMPLE_FILES = sorted(SAMPLE.glob("*.schema.json"))
# schemas whose root is a config file; `common` only holds definitions the others use
CONFIG_SCHEMAS = ["bundle", "environment", "service"]


@pytest.fixture(scope="module")
def sample() -> SchemaPages:
    return render_schema_folder(SAMPLE, root=REPO)


def validator_for(schema_id: str) -> jsonschema.protocols.Validator:
    """A validator of the sample schema, with every sample schema reachable by its `$id`."""
    documents = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in SAMPLE_FILES}
    registry: referencing.Registry[Any] = referencing.Registry().with_resources(
        (doc["$id"], referencing.Resource.from_contents(doc)) for doc in documents.values()
    )
    schema = documents[f"{schema_id}.schema.json"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=registry)


def yaml_blocks(markdown: str) -> list[str]:
    """The bodies of the ```yaml fences of a Markdown text, dedented."""
    found = re.findall(r"^([ \t]*)```yaml\n(.*?)^\1```", markdown, flags=re.MULTILINE | re.DOTALL)
    return [textwrap.dedent(body) for _, body in found]


def test_the_sample_has_the_expected_schemas(sample: SchemaPages) -> None:
    assert sorted(sample.schemas) == sorted([*CONFIG_SCHEMAS, "common"])


@pytest.mark.parametrize("schema_id", CONFIG_SCHEMAS)
def test_the_example_validates_against_its_schema(sample: SchemaPages, schema_id: str) -> None:
    schema = sample.schemas[schema_id]
    assert schema.has_example
    assert isinstance(schema.example, dict) and schema.example
    errors = [e.message for e in validator_for(schema_id).iter_errors(schema.example)]
    assert errors == []


@pytest.mark.parametrize("schema_id", CONFIG_SCHEMAS)
def test_the_example_holds_every_required_key(sample: SchemaPages, schema_id: str) -> None:
    document = json.loads((SAMPLE / f"{schema_id}.schema.json").read_text(encoding="utf-8"))
    assert set(document["required"]) <= set(sample.schemas[schema_id].example)


@pytest.mark.parametrize("schema_id", CONFIG_SCHEMAS)
def test_the_page_shows_the_example_as_yaml(sample: SchemaPages, schema_id: str) -> None:
    page = sample.pages[schema_id]
    section = page[page.index("## Example { #_example }") : page.index("## Summary")]
    [block] = yaml_blocks(section)
    assert yaml.safe_load(block) == sample.schemas[schema_id].example


def test_an_invalid_example_is_caught_by_the_validator() -> None:
    # the check above would not pass anything: a wrong service config fails it
    assert not validator_for("service").is_valid({"service": "Payments API", "team": "x"})


def test_the_usage_of_a_port_name_nests_it_under_deploy_and_ports(sample: SchemaPages) -> None:
    option = sample.options("service")["deploy.ports[].name"]
    section = option_section(sample.pages["service"], option.anchor)
    usage = section[section.index('??? example "Usage"') :]
    [block] = yaml_blocks(usage)
    assert yaml.safe_load(block) == {"deploy": {"ports": [{"name": "http"}]}}
    assert block.splitlines()[:3] == ["deploy:", "  ports:", "  - name: http"]


def test_every_usage_snippet_of_the_service_schema_is_yaml_at_the_options_place(
    sample: SchemaPages,
) -> None:
    page = sample.pages["service"]
    checked = 0
    for option in sample.schemas["service"].options:
        section = option_section(page, option.anchor)
        if '??? example "Usage"' not in section:
            continue
        [block] = yaml_blocks(section[section.index('??? example "Usage"') :])
        value = yaml.safe_load(block)
        for part in option.segments:
            if part.startswith("["):
                assert isinstance(value, list) and len(value) == 1, option.path
                value = value[0]
            else:
                key = "NAME" if part.startswith("<name") else part
                assert isinstance(value, dict) and list(value) == [key], option.path
                value = value[key]
        checked += 1
    assert checked > 20
