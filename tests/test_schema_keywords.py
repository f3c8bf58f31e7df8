"""Schema reference pages, one JSON Schema keyword at a time: given a small schema, the page
shows what the keyword means, and the reader reports what is wrong in it."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import heading_label, option_section, render_schema_folder, write

from generator.model import Finding, Option, Schema, Severity

DRAFT_04 = "http://json-schema.org/draft-04/schema#"
DRAFT_06 = "http://json-schema.org/draft-06/schema#"
DRAFT_07 = "http://json-schema.org/draft-07/schema#"
DRAFT_2019 = "https://json-schema.org/draft/2019-09/schema"
DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"


def visible(page: str) -> str:
    """The text of rendered HTML as a reader sees it: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@dataclass(frozen=True)
class Rendered:
    """One schema as read, its page, and the findings of the whole folder."""

    schema: Schema
    page: str
    findings: list[Finding]

    @property
    def paths(self) -> list[str]:
        return [o.path for o in self.schema.options]

    def option(self, path: str) -> Option:
        found = [o for o in self.schema.options if o.path == path]
        assert found, f"no option {path!r} among {self.paths}"
        return found[0]

    def section(self, path: str) -> str:
        """What the page shows under the option's heading; the heading must show its path."""
        option = self.option(path)
        assert heading_label(self.page, option.anchor) == f"`{path}`"
        return option_section(self.page, option.anchor)

    def row(self, path: str) -> str:
        """The option's row in the summary table."""
        link = f"[`{path}`](#{self.option(path).anchor})"
        rows = [line for line in self.page.splitlines() if line.startswith("|") and link in line]
        assert len(rows) == 1, rows
        return rows[0]

    def found(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]


def render(
    tmp_path: Path, schema: Any, name: str = "s.json", others: dict[str, Any] | None = None
) -> Rendered:
    """Write the schema (and the other files of its folder) and render them all."""
    folder = tmp_path / "schemas"
    for file_name, content in {name: schema, **(others or {})}.items():
        text = content if isinstance(content, str) else json.dumps(content, indent=2)
        write(folder / file_name, text)
    result = render_schema_folder(folder)
    schema_id = name.split(".")[0]
    return Rendered(result.schemas[schema_id], result.pages[schema_id], result.findings)


def obj(**properties: Any) -> dict[str, Any]:
    """An object schema with these properties."""
    return {"type": "object", "properties": properties}


# --- what an option is -----------------------------------------------------------------------


def test_a_type_and_a_list_of_types_are_shown(tmp_path: Path) -> None:
    shown = render(
        tmp_path,
        obj(
            port={"type": "integer", "description": "Port."},
            name={"type": ["string", "null"], "description": "Name, or null for none."},
        ),
    )
    assert "**Type** `integer`" in shown.section("port")
    assert "**Type** `string | null`" in shown.section("name")
    assert "| `integer` |" in shown.row("port")
    assert shown.option("name").types == ("string", "null")


def test_a_required_option_is_marked_so_and_the_others_are_not(tmp_path: Path) -> None:
    schema = obj(
        name={"type": "string", "description": "Name."},
        note={"type": "string", "description": "Note."},
    )
    shown = render(tmp_path, {**schema, "required": ["name"]})
    assert "**Required**" in shown.section("name")
    assert "**Required**" not in shown.section("note")
    assert "| yes |" in shown.row("name")
    assert "| yes |" not in shown.row("note")


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (8080, "integer", "`8080`"),
        (0, "integer", "`0`"),
        (False, "boolean", "`false`"),
        ("Dockerfile", "string", "`Dockerfile`"),
        ("", "string", '`""`'),
        (["failure"], "array", '`["failure"]`'),
    ],
    ids=["number", "zero", "false", "string", "empty-string", "list"],
)
def test_a_default_is_shown_in_the_details_and_the_summary(
    tmp_path: Path, value: Any, kind: str, shown: str
) -> None:
    page = render(tmp_path, obj(x={"type": kind, "default": value, "description": "X."}))
    assert f"**Default** {shown}" in page.section("x")
    assert f"| {shown} |" in page.row("x")


def test_a_null_default_and_a_null_allowed_value_are_shown_as_null(tmp_path: Path) -> None:
    shown = render(
        tmp_path,
        obj(
            timeout={"type": ["integer", "null"], "default": None, "description": "Timeout."},
            mode={"enum": ["fast", None], "description": "Mode, or null for the default."},
        ),
    )
    assert "**Default** `null`" in shown.section("timeout")
    assert "| `null` |" in shown.row("timeout")
    assert "**Allowed values:** `fast`, `null`" in shown.section("mode")


def test_enum_lists_the_allowed_values(tmp_path: Path) -> None:
    shown = render(
        tmp_path, obj(proto={"type": "string", "enum": ["TCP", "UDP"], "description": "P."})
    )
    assert "**Allowed values:** `TCP`, `UDP`" in shown.section("proto")


def test_const_shows_the_one_value(tmp_path: Path) -> None:
    shown = render(tmp_path, obj(version={"const": "v1", "description": "Format version."}))
    section = shown.section("version")
    assert "**Value:** `v1`" in section
    assert "Allowed values" not in section
    assert shown.option("version").types == ("string",)


@pytest.mark.parametrize(
    ("keywords", "expected"),
    [
        ({"type": "string", "pattern": "^[a-z]+$"}, ["pattern `^[a-z]+$`"]),
        ({"type": "string", "format": "email"}, ["format `email`"]),
        ({"type": "integer", "minimum": 1, "maximum": 50}, ["minimum `1`", "maximum `50`"]),
        (
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 100},
            ["exclusive minimum `0`", "exclusive maximum `100`"],
        ),
        (
            {"type": "string", "minLength": 2, "maxLength": 63},
            ["min length `2`", "max length `63`"],
        ),
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": True},
            ["min items `1`", "unique items `true`", "items `string`"],
        ),
    ],
    ids=["pattern", "format", "minimum-maximum", "exclusive-2020", "length", "items"],
)
def test_constraints_are_listed(
    tmp_path: Path, keywords: dict[str, Any], expected: list[str]
) -> None:
    shown = render(tmp_path, {"$schema": DRAFT_2020, **obj(x={**keywords, "description": "X."})})
    constraints = next(
        line for line in shown.section("x").splitlines() if line.startswith("**Constraints:**")
    )
    for item in expected:
        assert item in constraints
    assert shown.findings == []


def test_draft_04_exclusive_minimum_flag_makes_the_minimum_exclusive(tmp_path: Path) -> None:
    schema = obj(
        ratio={
            "type": "number",
            "minimum": 0,
            "exclusiveMinimum": True,
            "maximum": 1,
            "description": "Ratio.",
        }
    )
    shown = render(tmp_path, {"$schema": DRAFT_04, **schema})
    section = shown.section("ratio")
    assert "exclusive minimum `0`" in section
    assert "maximum `1`" in section
    assert not re.search(r"(?<!exclusive )minimum `0`", section)
    assert shown.findings == []
    assert "JSON Schema draft-04" in shown.page


def test_examples_are_shown_as_yaml_blocks(tmp_path: Path) -> None:
    schema = obj(
        image={"type": "string", "examples": ["nginx:1.27", "redis:7"], "description": "Image."}
    )
    section = render(tmp_path, schema).section("image")
    assert "**Examples:**" in section
    assert "```yaml\nnginx:1.27\n```" in section
    assert "```yaml\nredis:7\n```" in section


def test_markdown_description_is_preferred_to_description(tmp_path: Path) -> None:
    shown = render(
        tmp_path,
        obj(
            both={
                "type": "string",
                "description": "Plain words.",
                "markdownDescription": "Words with **markup**.",
            },
            plain={"type": "string", "description": "Only plain words."},
        ),
    )
    assert "Words with <strong>markup</strong>." in shown.section("both")
    assert "Plain words." not in shown.page
    assert "Words with <strong>markup</strong>." in shown.row("both")
    assert "Only plain words." in shown.section("plain")


def test_a_deprecated_option_has_a_badge_and_its_message(tmp_path: Path) -> None:
    schema = obj(
        docker_image={
            "type": "string",
            "description": "Image repository.",
            "deprecated": True,
            "x-deprecated-message": "Use `build.image` instead.",
        }
    )
    shown = render(tmp_path, schema)
    section = shown.section("docker_image")
    assert "**Deprecated**" in section
    assert '<div class="admonition warning"><p class="admonition-title">Deprecated</p>' in section
    assert "Use build.image instead." in visible(section)
    assert "**Deprecated.** Image repository." in shown.row("docker_image")
    assert shown.found("schema/deprecated-without-message") == []


def test_a_deprecated_option_without_message_is_a_finding(tmp_path: Path) -> None:
    text = """\
        type: object
        properties:
          old:
            type: string
            description: Old way.
            deprecated: true
        """
    shown = render(tmp_path, text, name="s.yaml")
    [finding] = shown.found("schema/deprecated-without-message")
    assert finding.severity == Severity.WARNING
    assert (finding.file, finding.line) == ("s.yaml", 3)
    assert "old" in finding.message
    assert "This option is deprecated." in shown.section("old")


def test_x_since_says_when_the_option_was_added(tmp_path: Path) -> None:
    shown = render(
        tmp_path, obj(cache={"type": "boolean", "x-since": "1.2.0", "description": "C."})
    )
    assert "**Added in** 1.2.0" in shown.section("cache")


def test_read_only_and_write_only_are_shown(tmp_path: Path) -> None:
    shown = render(
        tmp_path,
        obj(
            id={"type": "string", "readOnly": True, "description": "Given by the server."},
            password={"type": "string", "writeOnly": True, "description": "Never read back."},
        ),
    )
    assert "**Read only**" in shown.section("id")
    assert "**Write only**" not in shown.section("id")
    assert "**Write only**" in shown.section("password")
    assert "**Read only**" not in shown.section("password")


def test_pitfalls_are_admonitions_by_severity(tmp_path: Path) -> None:
    text = """\
        type: object
        properties:
          strategy:
            type: string
            description: How pods are replaced.
            x-pitfalls:
              - severity: warning
                text: Slow rollouts.
              - severity: danger
                text: "`Recreate` stops every pod first."
        """
    section = render(tmp_path, text, name="s.yaml").section("strategy")
    admonitions = re.findall(
        r'<div class="admonition (\w+)"><p class="admonition-title">Pitfall</p>(.*?)</div></div>',
        section,
    )
    assert [(level, visible(body)) for level, body in admonitions] == [
        ("warning", "Slow rollouts."), ("danger", "Recreate stops every pod first."),
    ]  # fmt: skip


# --- $ref ------------------------------------------------------------------------------------

PORT = {
    "type": "object",
    "description": "A port.",
    "properties": {"number": {"type": "integer", "description": "Port number."}},
}


@pytest.mark.parametrize(
    ("schema", "others"),
    [
        ({**obj(port={"$ref": "#/$defs/port"}), "$defs": {"port": PORT}}, {}),
        ({**obj(port={"$ref": "#/definitions/port"}), "definitions": {"port": PORT}}, {}),
        (
            {**obj(port={"$ref": "#the-port"}), "$defs": {"p": {**PORT, "$anchor": "the-port"}}},
            {},
        ),
        (obj(port={"$ref": "common.json#/$defs/port"}), {"common.json": {"$defs": {"port": PORT}}}),
    ],
    ids=["defs", "definitions", "anchor", "file-in-the-same-folder"],
)
def test_a_ref_shows_the_definition_at_the_option(
    tmp_path: Path, schema: dict[str, Any], others: dict[str, Any]
) -> None:
    shown = render(tmp_path, schema, others=others)
    assert shown.paths == ["port", "port.number"]
    assert "**Type** `object`" in shown.section("port")
    assert "A port." in shown.section("port")
    assert "Port number." in shown.section("port.number")
    assert shown.findings == []


def test_a_ref_to_a_url_is_not_fetched_and_shown_as_a_link(tmp_path: Path) -> None:
    text = """\
        {
          "type": "object",
          "properties": {
            "name": {"type": "string", "description": "Name."},
            "k8s": {"$ref": "https://example.com/schemas/pod.json", "description": "A pod."}
          }
        }
        """
    shown = render(tmp_path, text)
    [finding] = shown.found("schema/remote-ref")
    assert finding.severity == Severity.INFO
    assert finding.line == 5
    assert "https://example.com/schemas/pod.json" in finding.message
    section = shown.section("k8s")
    assert 'href="https://example.com/schemas/pod.json"' in section
    assert "A pod." in section
    assert [f for f in shown.findings if f.severity == Severity.ERROR] == []


def test_an_unresolvable_local_ref_is_an_error_with_its_line(tmp_path: Path) -> None:
    text = """\
        {
          "type": "object",
          "properties": {
            "name": {"type": "string", "description": "Name."},
            "port": {"$ref": "#/$defs/nope", "description": "Port."}
          },
          "$defs": {}
        }
        """
    shown = render(tmp_path, text)
    [finding] = shown.found("schema/unresolved-ref")
    assert finding.severity == Severity.ERROR
    assert (finding.file, finding.line) == ("s.json", 5)
    assert "#/$defs/nope" in finding.message
    assert "Port." in shown.section("port")


def test_a_ref_inside_a_subschema_with_its_own_id_resolves_against_that_id(
    tmp_path: Path,
) -> None:
    # `$id` changes the base URI of the refs below it (every draft since 06; `id` in draft-04)
    schema = {
        "$id": "https://example.com/schemas/root.json",
        "type": "object",
        "properties": {
            "foo": {
                "$id": "foo.json",
                "description": "Foo.",
                "type": "object",
                "$defs": {"inner": {"properties": {"bar": {"type": "string", "description": "B"}}}},
                "allOf": [{"$ref": "#/$defs/inner"}],
            }
        },
    }
    shown = render(tmp_path, schema)
    assert shown.found("schema/unresolved-ref") == []
    assert "B" in shown.section("foo.bar")


# --- composition -----------------------------------------------------------------------------


def test_all_of_lists_the_properties_of_every_branch_at_the_same_level(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "allOf": [
            obj(name={"type": "string", "description": "Name."}),
            obj(team={"type": "string", "description": "Team."}),
        ],
    }
    shown = render(tmp_path, schema)
    assert shown.paths == ["name", "team"]
    for path in ("name", "team"):
        assert shown.option(path).depth == 0
        assert shown.option(path).condition == ""
        assert "*Applies" not in shown.section(path)


@pytest.mark.parametrize(("keyword", "word"), [("oneOf", "one of"), ("anyOf", "any of")])
def test_each_alternative_lists_its_options_and_the_parent_lists_the_alternatives(
    tmp_path: Path, keyword: str, word: str
) -> None:
    schema = obj(
        source={
            "description": "Where the image comes from.",
            keyword: [
                {"title": "Git", **obj(repo={"type": "string", "description": "Repo."})},
                {"title": "Registry", **obj(image={"type": "string", "description": "Image."})},
            ],
        }
    )
    shown = render(tmp_path, schema)
    assert shown.paths == ["source", "source.repo", "source.image"]
    parent = shown.section("source")
    assert f"**{word.capitalize()}:**\n\n1. Git\n2. Registry" in parent
    assert f"*Applies alternative 1 of 2 ({word}).*" in shown.section("source.repo")
    assert f"*Applies alternative 2 of 2 ({word}).*" in shown.section("source.image")


IF_THEN_ELSE = {
    "type": "object",
    "properties": {"kind": {"type": "string", "description": "Kind of workload."}},
    "if": {"properties": {"kind": {"const": "CronJob"}}, "required": ["kind"]},
    "then": obj(schedule={"type": "string", "description": "Cron schedule."}),
    "else": obj(replicas={"type": "integer", "description": "Number of pods."}),
}


def test_if_then_else_options_say_when_they_apply(tmp_path: Path) -> None:
    shown = render(tmp_path, IF_THEN_ELSE)
    then_condition = shown.option("schedule").condition
    else_condition = shown.option("replicas").condition
    assert then_condition.startswith("when ")
    assert else_condition.startswith("unless ")
    assert "kind" in then_condition
    assert "*Applies when " in shown.section("schedule")
    assert "*Applies unless " in shown.section("replicas")
    assert "conditional" in shown.page  # the root says it has a condition


def test_the_condition_of_if_names_the_value_it_tests(tmp_path: Path) -> None:
    # "when object with kind" does not tell when `schedule` applies; `kind` being `CronJob` does
    shown = render(tmp_path, IF_THEN_ELSE)
    assert "CronJob" in shown.option("schedule").condition
    assert "CronJob" in shown.option("replicas").condition


def test_dependent_required_and_dependent_schemas(tmp_path: Path) -> None:
    schema = obj(
        tls={
            "type": "object",
            "description": "TLS.",
            "properties": {
                "cert": {"type": "string", "description": "Certificate."},
                "key": {"type": "string", "description": "Key."},
                "mode": {"type": "string", "description": "Mode."},
            },
            "dependentRequired": {"cert": ["key"]},
            "dependentSchemas": {"mode": obj(ca={"type": "string", "description": "CA."})},
        }
    )
    shown = render(tmp_path, schema)
    assert 'with cert, also required `["key"]`' in shown.section("tls")
    assert shown.option("tls.ca").condition == "when mode is set"
    assert "*Applies when mode is set.*" in shown.section("tls.ca")


def test_additional_properties_is_an_option_named_name(tmp_path: Path) -> None:
    schema = {
        **obj(
            env={
                "type": "object",
                "description": "Environment variables.",
                "additionalProperties": {"type": "string", "description": "One value."},
            }
        ),
        "additionalProperties": False,
    }
    shown = render(tmp_path, schema)
    option = shown.option("env.<name>")
    assert option.anchor == "env._name_"
    assert heading_label(shown.page, "env._name_") == "`env.<name>`"
    assert "One value." in shown.section("env.<name>")
    assert shown.schema.root is not None
    assert ("other keys", "not allowed") in shown.schema.root.constraints
    assert "other keys `not allowed`" in shown.page


def test_pattern_properties_and_property_names(tmp_path: Path) -> None:
    schema = obj(
        labels={
            "type": "object",
            "description": "Labels.",
            "patternProperties": {"^x-": {"type": "string", "description": "A label."}},
            "propertyNames": {"pattern": "^[a-z-]+$"},
        }
    )
    shown = render(tmp_path, schema)
    assert "keys `" in shown.section("labels")
    assert "^[a-z-]+$" in shown.section("labels")
    assert "*Applies key matches ^x-.*" in shown.section("labels.<name>")
    assert "A label." in shown.section("labels.<name>")


def test_items_of_an_array_are_listed_under_brackets(tmp_path: Path) -> None:
    schema = obj(
        ports={
            "type": "array",
            "description": "Ports.",
            "items": obj(name={"type": "string", "description": "Port name."}),
        }
    )
    shown = render(tmp_path, schema)
    assert shown.option("ports[].name").anchor == "ports.name"
    assert "Port name." in shown.section("ports[].name")


def test_prefix_items_are_listed_by_position(tmp_path: Path) -> None:
    schema = obj(
        pair={
            "type": "array",
            "description": "Key and value.",
            "prefixItems": [
                {"type": "string", "description": "The key."},
                {"type": "integer", "description": "The value."},
            ],
        }
    )
    shown = render(tmp_path, schema)
    assert shown.paths == ["pair", "pair[0]", "pair[1]"]
    assert "The key." in shown.section("pair[0]")
    assert "**Type** `integer`" in shown.section("pair[1]")


def test_contains_says_what_an_item_must_be_and_lists_its_options(tmp_path: Path) -> None:
    schema = obj(
        ports={
            "type": "array",
            "description": "Ports.",
            "contains": {
                **obj(primary={"const": True, "description": "The primary port."}),
                "required": ["primary"],
            },
        }
    )
    shown = render(tmp_path, schema)
    assert "contains an item that is" in shown.section("ports")
    assert "The primary port." in shown.section("ports[].primary")


def test_not_says_what_the_value_must_not_be(tmp_path: Path) -> None:
    shown = render(
        tmp_path, obj(mode={"type": "string", "not": {"const": "off"}, "description": "M."})
    )
    assert "must not be `exactly 'off'`" in shown.section("mode")


# --- definitions: recursion, sharing, definitions only ----------------------------------------


def test_a_recursive_schema_renders_and_links_back(tmp_path: Path) -> None:
    schema = {
        **obj(
            name={"type": "string", "description": "Name."},
            children={"type": "array", "description": "Sub-trees.", "items": {"$ref": "#"}},
            tree={"$ref": "#/$defs/node"},
        ),
        "$defs": {
            "node": {
                "type": "object",
                "description": "A node.",
                "properties": {
                    "value": {"type": "string", "description": "Value."},
                    "next": {"$ref": "#/$defs/node"},
                },
            }
        },
    }
    shown = render(tmp_path, schema)
    assert shown.paths == ["name", "children", "tree", "tree.value", "tree.next"]
    assert "Same definition as [the whole schema](#_options)" in shown.section("children")
    assert "Same definition as [`tree`](#tree)" in shown.section("tree.next")


DEF_VAR = {
    "type": "object",
    "description": "A variable.",
    "properties": {"value": {"type": "string", "description": "Value."}},
}


def test_a_definition_used_twice_is_expanded_once_and_linked_to(tmp_path: Path) -> None:
    schema = {
        **obj(first={"$ref": "#/$defs/var"}, second={"$ref": "#/$defs/var"}),
        "$defs": {"var": DEF_VAR},
    }
    shown = render(tmp_path, schema)
    assert shown.paths == ["first", "first.value", "second"]
    assert shown.option("second").same_as == "first"
    assert "Same definition as [`first`](#first)" in shown.section("second")


def test_a_link_to_a_definition_shown_elsewhere_names_its_path(tmp_path: Path) -> None:
    schema = {
        **obj(
            env={
                "type": "object",
                "description": "Variables.",
                "additionalProperties": {"$ref": "#/$defs/var"},
            },
            default_var={"$ref": "#/$defs/var"},
        ),
        "$defs": {"var": DEF_VAR},
    }
    shown = render(tmp_path, schema)
    assert shown.option("default_var").same_as == "env._name_"
    # the link reads as the option's path, as every heading and the summary show it
    assert "Same definition as [`env.<name>`](#env._name_)" in shown.section("default_var")


def test_a_definitions_only_schema_lists_its_definitions(tmp_path: Path) -> None:
    schema = {
        "$defs": {"port": PORT, "ports": {"type": "array", "items": {"$ref": "#/$defs/port"}}},
        "definitions": {"name": {"type": "string", "description": "A name."}},
    }
    shown = render(tmp_path, schema)
    assert shown.paths == ["$defs.port", "$defs.port.number", "$defs.ports", "definitions.name"]
    assert all(o.definition for o in shown.schema.options)
    assert "## Definitions { #_definitions }" in shown.page
    assert shown.option("$defs.port").anchor == "defs.port"
    assert "A port." in shown.section("$defs.port")
    assert "A name." in shown.section("definitions.name")
    assert shown.option("$defs.ports").same_as == "defs.port"
    assert shown.found("schema/missing-description") == []  # a definition's own is optional


def test_a_definitions_only_schema_has_no_made_up_example(tmp_path: Path) -> None:
    # the document is only a container for definitions: no instance of it is worth showing
    shown = render(tmp_path, {"$defs": {"port": PORT}})
    assert not shown.schema.has_example
    assert "## Example" not in shown.page


def test_definitions_nested_in_a_subschema_are_listed(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "allOf": [{"$defs": {"elements": obj(a={"type": "string", "description": "A."})}}],
    }
    shown = render(tmp_path, schema)
    assert [p for p in shown.paths if p.endswith(".a")], shown.paths


@pytest.mark.parametrize(
    ("draft", "definitions", "shown_as"),
    [
        (DRAFT_04, "definitions", "draft-04"),
        (DRAFT_06, "definitions", "draft-06"),
        (DRAFT_07, "definitions", "draft-07"),
        (DRAFT_2019, "$defs", "2019-09"),
        (DRAFT_2020, "$defs", "2020-12"),
        (None, "$defs", "2020-12 (no $schema)"),
    ],
    ids=["draft-04", "draft-06", "draft-07", "2019-09", "2020-12", "no-schema"],
)
def test_every_draft_renders_the_same_options(
    tmp_path: Path, draft: str | None, definitions: str, shown_as: str
) -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "Name."},
            "port": {"$ref": f"#/{definitions}/port"},
            "tags": {
                "type": "array",
                "description": "Tags.",
                "items": obj(key={"type": "string", "description": "Key."}),
            },
            "mode": {"type": "string", "enum": ["a", "b"], "description": "Mode."},
        },
        # a default, so that an example is made and validated under each draft
        definitions: {
            "port": {"type": "integer", "minimum": 1, "default": 8080, "description": "Port."}
        },
    }
    if draft:
        schema["$schema"] = draft
    shown = render(tmp_path, schema)
    assert shown.paths == ["name", "port", "tags", "tags[].key", "mode"]
    assert shown.findings == []
    assert "**Required**" in shown.section("name")
    assert "minimum `1`" in shown.section("port")
    assert "**Allowed values:** `a`, `b`" in shown.section("mode")
    assert shown.schema.has_example
    assert f"(JSON Schema {shown_as})" in shown.page


# --- what is wrong in a schema ---------------------------------------------------------------


def test_an_option_without_description_is_an_error_at_its_line(tmp_path: Path) -> None:
    text = """\
        type: object
        properties:
          build:
            type: object
            description: How the image is built.
            properties:
              dockerfile:
                type: string
        """
    shown = render(tmp_path, text, name="s.yaml")
    [finding] = shown.found("schema/missing-description")
    assert finding.severity == Severity.ERROR
    assert (finding.file, finding.line) == ("s.yaml", 7)
    assert "build.dockerfile" in finding.message


def test_a_schema_invalid_against_its_metaschema_is_a_finding(tmp_path: Path) -> None:
    text = """\
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "name": {"type": "string", "minLength": "five", "description": "Name."}
          }
        }
        """
    shown = render(tmp_path, text)
    [finding] = shown.found("schema/invalid")
    assert finding.severity == Severity.ERROR
    assert (finding.file, finding.line) == ("s.json", 5)
    assert "five" in finding.message
    assert "Name." in shown.section("name")  # the page is made all the same


def test_a_schema_that_is_not_json_is_a_parse_error_and_the_others_render(tmp_path: Path) -> None:
    folder = tmp_path / "schemas"
    write(folder / "broken.json", '{\n  "type": "object",\n  "properties": {,}\n}\n')
    write(folder / "fine.json", json.dumps(obj(a={"type": "string", "description": "A."})))
    result = render_schema_folder(folder)
    [finding] = result.findings
    assert finding.rule == "yaml/parse-error"
    assert finding.severity == Severity.ERROR
    assert (finding.file, finding.line) == ("broken.json", 3)
    assert list(result.schemas) == ["fine"]
    assert 'id="a"' in result.pages["fine"]
