"""Read every input named by the config into one model, with every finding on the way."""

from __future__ import annotations

import dataclasses
import glob
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from .analysis.changelog import reference_findings, release_diffs, unannounced_findings
from .analysis.drift import drift
from .analysis.owners import owner_findings
from .config import Config
from .findings import apply_policy
from .model import Environment, Finding, Model, Severity
from .sample import SampleError, prepare_sample
from .sources.announcements import read_announcements
from .sources.envrepos import read_environment
from .sources.owners import read_owners
from .sources.releases import read_releases
from .sources.schemas import build_registry, load_schemas, read_schemas
from .sources.templates import read_templates
from .yamlload import load_data_file


def builtin_format(name: str) -> dict[str, Any]:
    """A format schema shipped with the package: `environment` or `bundle`."""
    text = resources.files("generator").joinpath(f"formats/{name}.schema.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def format_schema(config: Config, name: str) -> dict[str, Any]:
    """The pipeline's own `<name>.schema.json` when its schemas folder has one, else the built-in."""
    if config.schemas is not None:
        for suffix in (".json", ".yaml", ".yml"):
            path = config.schemas / f"{name}.schema{suffix}"
            if path.is_file():
                document, _ = load_data_file(path, path.name)
                if document is not None and isinstance(document.data, dict):
                    return document.data
    return builtin_format(name)


def _validate_files(config: Config) -> list[Finding]:
    """Files mapped by `validate:` to a schema id, checked against that schema."""
    findings: list[Finding] = []
    if not config.validate or config.schemas is None:
        return findings
    loaded, _ = load_schemas(config.schemas, config.display)
    by_id = {item.id: item for item in loaded}
    registry = build_registry(loaded)
    for pattern, schema_id in config.validate:
        target = by_id.get(schema_id)
        if target is None:
            findings.append(
                Finding(
                    "config/unknown-schema",
                    Severity.ERROR,
                    config.display(config.file),
                    None,
                    f"`validate:` maps {pattern} to schema {schema_id!r}, which does not exist",
                    "use the id of a schema in the schemas folder",
                )
            )
            continue
        data = target.document.data
        cls = jsonschema.validators.validator_for(data, default=jsonschema.Draft202012Validator)
        for name in sorted(glob.glob(str(config.root / pattern), recursive=True)):
            shown = config.display(name)
            document, found = load_data_file(Path(name), shown)
            findings.extend(found)
            if document is None:
                continue
            validator = cls(data, registry=registry)
            for error in validator.iter_errors(document.data):
                where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
                findings.append(
                    Finding(
                        "config/invalid",
                        Severity.ERROR,
                        shown,
                        document.line(tuple(error.absolute_path)),
                        f"{where}: {error.message[:300]}",
                        f"fix the value to match schema {schema_id}",
                    )
                )
    return findings


def first_seen(model: Model) -> dict[str, str]:
    """When each version first appeared in any env repo's history: how commit hashes compare."""
    seen: dict[str, str] = {}
    for env in model.environments:
        for change in env.history:
            try:
                when = datetime.fromisoformat(change.date).astimezone(UTC).isoformat()
            except ValueError:
                continue
            if change.to_version and (
                change.to_version not in seen or when < seen[change.to_version]
            ):
                seen[change.to_version] = when
    return seen


def collect(config: Config) -> Model:
    """Run every reader and analysis; return the model, findings sorted and policy applied."""
    findings: list[Finding] = []
    try:
        prepare_sample(config)
    except (SampleError, OSError) as error:
        findings.append(
            Finding(
                "sample/failed",
                Severity.ERROR,
                config.display(config.sample or ""),
                None,
                f"cannot make the sample's env repos: {error}",
            )
        )
    schemas, found = read_schemas(config.schemas, config.display)
    findings += found
    templates, found = read_templates(config.templates, config.display)
    findings += found
    owners, found = read_owners(config.owners, config.display(config.owners or ""))
    findings += found
    env_schema = format_schema(config, "environment")
    environments: list[Environment] = []
    for env in config.environments:
        environment, found = read_environment(config, env, owners, env_schema)
        environments.append(environment)
        findings += found
    announcements, found = read_announcements(config.announcements, config.display)
    findings += found
    findings += _validate_files(config)
    releases, found = read_releases(config, config.display)
    findings += found
    model = Model(
        title=config.title,
        site_url=config.site_url,
        schemas=tuple(schemas),
        templates=tuple(templates),
        environments=tuple(environments),
        teams=owners.teams,
        announcements=tuple(announcements),
        releases=tuple(releases),
    )
    model = dataclasses.replace(model, schema_changes=release_diffs(model))
    findings += reference_findings(model)
    findings += unannounced_findings(model)
    states, found = drift(model, first_seen(model))
    findings += found
    findings += owner_findings(model, config.owners is not None)
    return dataclasses.replace(model, drift=states, findings=tuple(apply_policy(findings, config)))
