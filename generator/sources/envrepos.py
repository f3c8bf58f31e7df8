"""Env repos: what each environment runs, from `environment.yml` bundles and raw manifests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import jsonschema

from ..config import Config, EnvironmentConfig
from ..model import Deployment, Environment, Finding, Severity
from ..yamlload import MAX_FILE_BYTES, Document, as_list, load_documents, load_one
from .bundles import Bundle, fetch, read_bundle, sha256_of, url_facts
from .gitrepo import RepoError, RepoView, is_url, open_repo
from .owners import CODEOWNERS_PLACES, CodeOwners, Owners
from .workloads import Workload, image_tag, workload_from

ENVIRONMENT_FILE = "environment.yml"
YAML_SUFFIXES = (".yml", ".yaml")


@dataclass
class _Context:
    config: Config
    env: EnvironmentConfig
    view: RepoView
    owners: Owners
    codeowners: CodeOwners
    schema: dict[str, Any]
    findings: list[Finding]

    def display(self, name: str) -> str:
        if is_url(self.env.repo):
            return f"{self.env.repo.rstrip('/')}/{name}"
        return self.config.display(self.view.root / name)

    def owner(
        self, service: str, bundle_owner: str | None, labels: list[dict[str, str]], file: str
    ) -> tuple[str | None, str]:
        """The owner by the rule order: override, bundle.yml, labels and annotations, CODEOWNERS."""
        if service in self.owners.overrides:
            return self.owners.overrides[service], "owners.yml"
        if bundle_owner:
            return bundle_owner, "bundle.yml"
        for key in self.config.owner_labels:
            for mapping in labels:
                if mapping.get(key):
                    return mapping[key], f"label {key}"
        found = self.codeowners.owner_of(file)
        if found:
            return found, "CODEOWNERS"
        return None, ""


def _codeowners(view: RepoView) -> CodeOwners:
    for place in CODEOWNERS_PLACES:
        if view.exists(place):
            try:
                return CodeOwners.parse(view.read(place, 1024 * 1024).decode("utf-8", "replace"))
            except RepoError:
                return CodeOwners()
    return CodeOwners()


def _documents(ctx: _Context, name: str) -> list[Document]:
    shown = ctx.display(name)
    try:
        text = ctx.view.read(name, MAX_FILE_BYTES).decode("utf-8")
    except (RepoError, OSError, UnicodeDecodeError) as error:
        ctx.findings.append(
            Finding("envrepo/unreadable-file", Severity.WARNING, shown, None, str(error))
        )
        return []
    if "{{" in text and ("/templates/" in f"/{name}" or "{{ ." in text or "{{- " in text):
        ctx.findings.append(
            Finding(
                "envrepo/skipped-template",
                Severity.INFO,
                shown,
                None,
                "Helm chart template skipped: it is not YAML until rendered",
                "nothing to do; deploy the chart through a HelmRelease or a bundle to have it cataloged",
            )
        )
        return []
    documents, found = load_documents(text, shown)
    ctx.findings.extend(found)
    return documents


def _bundle_entries(ctx: _Context, document: Document) -> list[tuple[str, str | None, int]]:
    entries: list[tuple[str, str | None, int]] = []
    raw = document.get(("bundles",))
    for index, item in enumerate(as_list(raw)):
        line = document.line(("bundles", index))
        if isinstance(item, str):
            entries.append((item, None, line))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            digest = item.get("sha256")
            entries.append((item["url"], str(digest).lower() if digest else None, line))
    return entries


def _validate(ctx: _Context, document: Document) -> None:
    validator_cls = jsonschema.validators.validator_for(
        ctx.schema, default=jsonschema.Draft202012Validator
    )
    for error in validator_cls(ctx.schema).iter_errors(document.data):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        ctx.findings.append(
            Finding(
                "config/invalid",
                Severity.ERROR,
                document.file,
                document.line(tuple(error.absolute_path)),
                f"{ENVIRONMENT_FILE} at {where}: {error.message[:300]}",
                "fix the value so that it matches the environment schema",
            )
        )


def _from_bundle(ctx: _Context, url: str, digest: str | None, line: int) -> Deployment:
    file = ctx.display(ENVIRONMENT_FILE)
    data, found = fetch(url, ctx.config.mirrors, ctx.config.bundle_cache, file, line)
    ctx.findings.extend(found)
    verified: bool | None = None
    problem = "unreadable" if data is None else ""
    bundle = Bundle(url)
    if data is not None:
        if digest is not None:
            verified = sha256_of(data) == digest
            if not verified:
                problem = "sha256 mismatch"
                ctx.findings.append(
                    Finding(
                        "bundle/sha256-mismatch",
                        Severity.ERROR,
                        file,
                        line,
                        f"bundle {url} does not match its sha256: it changed since it was pinned",
                        "find out who re-uploaded the tarball; pin the new digest only once it is trusted",
                    )
                )
        bundle, found = read_bundle(data, url, file, line)
        ctx.findings.extend(found)
    guessed = url_facts(url)
    labels = [w.labels for w in bundle.workloads] + [w.annotations for w in bundle.workloads]
    names = sorted({w.labels.get("app.kubernetes.io/name", "") for w in bundle.workloads} - {""})
    service = (
        bundle.facts.get("service") or (names[0] if names else "") or guessed.get("service", url)
    )
    versions = [w.version_text for w in bundle.workloads if w.version_text]
    version = (
        bundle.facts.get("version") or (versions[0] if versions else None) or guessed.get("version")
    )
    owner, source = ctx.owner(service, bundle.facts.get("owner"), labels, ENVIRONMENT_FILE)
    return Deployment(
        service=service,
        environment=ctx.env.name,
        version=version,
        owner=owner,
        owner_source=source,
        source="bundle",
        file=file,
        line=line,
        bundle_url=url,
        commit=bundle.facts.get("commit", ""),
        repository=bundle.facts.get("repository", ""),
        images=tuple(sorted({i for w in bundle.workloads for i in w.images})),
        kinds=tuple(sorted({w.kind for w in bundle.workloads})),
        replicas=next((w.replicas for w in bundle.workloads if w.replicas is not None), None),
        verified=verified,
        problem=problem,
    )


def _from_workloads(ctx: _Context, workloads: list[Workload]) -> list[Deployment]:
    by_service: dict[str, list[Workload]] = defaultdict(list)
    for workload in workloads:
        by_service[workload.service].append(workload)
    deployments = []
    for service, group in sorted(by_service.items()):
        first = group[0]
        version = first.version_text or next(
            (tag for w in group for i in w.images if (tag := image_tag(i))), None
        )
        relative = first.file
        owner, source = ctx.owner(
            service,
            None,
            [w.labels for w in group] + [w.annotations for w in group],
            _relative(ctx, relative),
        )
        deployments.append(
            Deployment(
                service=service,
                environment=ctx.env.name,
                version=version,
                owner=owner,
                owner_source=source,
                source="manifest",
                file=first.file,
                line=first.line,
                images=tuple(sorted({i for w in group for i in w.images})),
                kinds=tuple(sorted({w.kind for w in group})),
                replicas=first.replicas,
            )
        )
    return deployments


def _relative(ctx: _Context, shown: str) -> str:
    prefix = ctx.display("")
    return shown[len(prefix) :].lstrip("/") if shown.startswith(prefix) else shown


def _manifest_files(ctx: _Context, folder: str | None) -> list[str]:
    files = ctx.view.files()
    if folder is not None:
        prefix = PurePosixPath(folder).as_posix().strip("/") + "/"
        files = [f for f in files if f.startswith(prefix)]
    return [
        f
        for f in files
        if f.endswith(YAML_SUFFIXES)
        and not PurePosixPath(f).name.startswith(".")
        and f != ENVIRONMENT_FILE
    ]


def _workloads(ctx: _Context, files: list[str]) -> list[Workload]:
    workloads = []
    for name in files:
        for document in _documents(ctx, name):
            workload = workload_from(document)
            if workload is not None:
                workloads.append(workload)
    return workloads


def read_environment(
    config: Config, env: EnvironmentConfig, owners: Owners, schema: dict[str, Any]
) -> tuple[Environment, list[Finding]]:
    """Everything one environment runs; findings for whatever could not be read."""
    findings: list[Finding] = []
    try:
        view = open_repo(env.repo, env.ref, config.root, config.cache)
    except RepoError as error:
        findings.append(
            Finding(
                "envrepo/unreadable",
                Severity.ERROR,
                env.repo if is_url(env.repo) else config.display(config.root / env.repo),
                None,
                f"environment {env.name}: {error}",
                "check `repo` and `ref` of this environment in the config",
            )
        )
        return Environment(env.name, env.repo), findings
    ctx = _Context(config, env, view, owners, _codeowners(view), schema, findings)
    deployments: list[Deployment] = []
    if view.exists(ENVIRONMENT_FILE):
        deployments.extend(_read_environment_file(ctx))
    else:
        deployments.extend(_from_workloads(ctx, _workloads(ctx, _manifest_files(ctx, None))))
    return Environment(
        name=env.name,
        repo=env.repo,
        commit=view.commit,
        commit_date=view.commit_date,
        deployments=tuple(sorted(deployments, key=lambda d: (d.service, d.file, d.line or 0))),
    ), findings


def _read_environment_file(ctx: _Context) -> list[Deployment]:
    shown = ctx.display(ENVIRONMENT_FILE)
    try:
        text = ctx.view.read(ENVIRONMENT_FILE, MAX_FILE_BYTES).decode("utf-8")
    except (RepoError, OSError, UnicodeDecodeError) as error:
        ctx.findings.append(
            Finding("envrepo/unreadable-file", Severity.ERROR, shown, None, str(error))
        )
        return []
    document, found = load_one(text, shown)
    ctx.findings.extend(found)
    if document is None:
        return []
    _validate(ctx, document)
    deployments = [
        _from_bundle(ctx, url, digest, line) for url, digest, line in _bundle_entries(ctx, document)
    ]
    folder = document.get(("manifests",))
    if isinstance(folder, str):
        deployments.extend(_from_workloads(ctx, _workloads(ctx, _manifest_files(ctx, folder))))
    return deployments
