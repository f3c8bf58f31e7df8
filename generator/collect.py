"""Read every input named by the config into one model, with every finding on the way."""

from __future__ import annotations

import dataclasses
import functools
import glob
import hashlib
from pathlib import Path

from . import forked
from .analysis.bounds import cut_findings
from .analysis.changelog import reference_findings, release_diffs, unannounced_findings
from .analysis.drift import drift
from .analysis.identity import history_as_cataloged
from .analysis.owners import owner_findings
from .analysis.risks import risk_findings
from .analysis.versions import instant, version_limit
from .cachekey import key_of
from .config import Config
from .findings import apply_policy
from .kept import Kept
from .model import Environment, Finding, Model, Severity
from .sample import SampleError, prepare_sample
from .sources.announcements import read_announcements
from .sources.bundles import BundleReads
from .sources.envcache import EnvironmentReads
from .sources.envrepos import read_environment
from .sources.owners import read_owners
from .sources.releases import read_releases
from .sources.schemabundle import published_schemas
from .sources.schemas import read_schema_folder
from .sources.templates import read_templates
from .validation import Validator, make_validator
from .yamlload import load_data_file

ASIDE_FROM = 200  # `validate:` files from which they are checked in a forked child


def _validate_targets(config: Config) -> list[tuple[str, str, list[str]]]:
    """Each `validate:` pattern, its schema id and the files it matches."""
    return [
        (pattern, schema_id, sorted(glob.glob(str(config.root / pattern), recursive=True)))
        for pattern, schema_id in config.validate
    ]


def _validate_files(
    config: Config,
    validator: Validator,
    salt: str = "",
    targets: list[tuple[str, str, list[str]]] | None = None,
) -> list[Finding]:
    """Files mapped by `validate:` to a schema id (`targets`, when already found), checked
    against that schema. What a file's check found is kept by its content (`kept`, with
    `salt`): an unchanged file is not parsed nor checked again."""
    findings: list[Finding] = []
    kept = Kept(config.cache, "checks", salt)
    for pattern, schema_id, names in targets if targets is not None else _validate_targets(config):
        if not validator.known(schema_id):
            findings.append(Finding(
                "config/unknown-schema", Severity.ERROR, config.display(config.file),
                config.line_of("validate", pattern),
                f"`validate:` maps {pattern} to schema {schema_id!r}, which does not exist",
                "use the id of a schema in the schemas folder",
            ))  # fmt: skip
            continue
        for name in names:
            shown = config.display(name)
            findings.extend(_checked_file(Path(name), shown, schema_id, config, validator, kept))
    kept.save()
    return findings


def _checked_file(path: Path, shown: str, schema_id: str, config: Config, validator: Validator,
                  kept: Kept) -> list[Finding]:  # fmt: skip
    """One `validate:` file's findings: kept ones when its bytes are those checked before."""
    try:
        size = path.stat().st_size
        digest = (
            hashlib.sha256(path.read_bytes()).hexdigest()
            if size <= config.limits.file_bytes
            else None
        )
    except OSError:
        digest = None  # load_data_file says why

    def find() -> list[Finding]:
        document, found = load_data_file(path, shown)
        return found if document is None else [*found, *validator.check(document, schema_id)]

    if digest is None:
        return find()
    return kept.findings(find, "validate", shown, schema_id, digest)


def _missing_folders(config: Config) -> list[Finding]:
    """A `schemas:` or `announcements:` folder the config names that is not there."""
    findings = []
    for key, folder in (("schemas", config.schemas), ("announcements", config.announcements)):
        if folder is not None and not folder.is_dir():
            findings.append(Finding(
                "config/missing-path", Severity.ERROR, config.display(folder), None,
                f"the {key} folder {config.display(folder)} does not exist",
                f"fix `{key}:` in {config.display(config.file)} (line {config.line_of(key)})",
            ))  # fmt: skip
    return findings


def read_guides(config: Config) -> tuple[tuple[str, str], ...]:
    """The hand-written guides beside the config (`docs/guides/*.md`), for the home page."""
    folder = config.root / "docs" / "guides"
    guides = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        try:
            heading = next((line[2:].strip() for line in path.read_text("utf-8").splitlines()
                            if line.startswith("# ")), path.stem)  # fmt: skip
        except (OSError, UnicodeDecodeError):
            continue
        guides.append((f"guides/{path.name}", heading))
    # the one to start with first: an onboarding or getting-started page when there is one
    starts = ("onboarding", "getting-started", "quickstart", "introduction")
    guides.sort(key=lambda guide: (not guide[0].split("/")[-1].startswith(starts), guide[0]))
    return tuple(guides)


def first_seen(model: Model) -> dict[str, str]:
    """When each version first appeared in any env repo's history: how commit hashes compare."""
    seen: dict[str, str] = {}
    for env in model.environments:
        for change in env.history:
            when = instant(change.date)
            if change.to_version and (
                change.to_version not in seen or when < seen[change.to_version]
            ):
                seen[change.to_version] = when
    return seen


def collect(config: Config) -> Model:
    """Run every reader and analysis; return the model, findings sorted and policy applied."""
    with version_limit(config.limits.version_chars):  # how long a version is still semver
        return _collect(config)


def _read_salt(config: Config, validator: Validator) -> str:
    """What a kept bundle read or file check depends on besides its input and the code: the
    limits, and the schemas it is checked against (any of them may `$ref` another)."""
    schemas = [(s.id, s.display, s.document.data) for s in validator.loaded.values()]
    schemas.sort(key=lambda s: (s[0], s[1]))
    return key_of(dataclasses.asdict(config.limits), schemas)


def _collect(config: Config) -> Model:
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
    findings += _missing_folders(config)
    checked = Kept(config.cache, "schema-checks")  # each schema's metaschema check, by content
    loaded, schemas, found = read_schema_folder(
        config.schemas, config.display, limits=config.limits, kept=checked
    )
    checked.save()
    findings += found
    published, found = published_schemas(loaded, config.limits)
    findings += found
    validator = make_validator(loaded, schemas, config.limits)
    templates, found = read_templates(config.templates, config.display)
    findings += found
    owners, found = read_owners(config.owners, config.display(config.owners or ""))
    findings += found
    environments: list[Environment] = []
    # a tarball promoted through the environments is read once, and kept for the next run
    salt = _read_salt(config, validator)
    bundle_reads = BundleReads(config.cache, salt)
    # an environment whose repo did not change since the last run is not read again
    kept = EnvironmentReads(config, owners, salt)
    targets = _validate_targets(config)
    check_files = functools.partial(_validate_files, config, validator, salt, targets)
    with forked.findings_aside(
        check_files, sum(len(t[2]) for t in targets) >= ASIDE_FROM
    ) as checked_files:
        for env in config.environments:
            environment, found = read_environment(
                config, env, owners, validator, bundle_reads, kept
            )
            environments.append(environment)
            findings += found
        bundle_reads.save()
        kept.save()
        validated = checked_files()
    announcements, found = read_announcements(config.announcements, config.display)
    findings += found
    findings += validated
    releases, found = read_releases(config, config.display)
    findings += found
    model = Model(
        title=config.title,
        site_url=config.site_url,
        schemas=tuple(schemas),
        published_schemas=published,
        templates=tuple(templates),
        environments=history_as_cataloged(tuple(environments)),
        teams=owners.teams,
        announcements=tuple(announcements),
        releases=tuple(releases),
        guides=read_guides(config),
        limits=config.limits,
        stale_after=config.stale_after,
    )
    model = dataclasses.replace(model, schema_changes=release_diffs(model))
    findings += reference_findings(model)
    findings += unannounced_findings(model)
    states, found = drift(model, first_seen(model))
    findings += found
    findings += owner_findings(model, config.owners is not None)
    findings += risk_findings(model.environments)
    findings += cut_findings(model, config.display(config.owners or ""))
    return dataclasses.replace(model, drift=states, findings=tuple(apply_policy(findings, config)))
