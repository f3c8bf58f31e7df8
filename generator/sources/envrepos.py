"""Env repos: what each environment runs.

Our own layout is `environment.yml` (bundle URLs) plus a folder of raw manifests. Any other repo
is read as GitOps repos out there are written: Kustomize overlays rendered from their roots,
plain workloads, Flux and Argo CD objects. Helm chart templates are not YAML and are skipped
with a finding.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from ..config import Config, EnvironmentConfig
from ..model import Change, Deployment, Environment, Finding, Rendering, Severity, WorkloadRef
from ..validation import Validator
from ..yamlload import Document, as_dict, as_list, load_documents, load_one
from . import download
from .bundles import Bundle, BundleRead, BundleReads, read_bundle, sha256_of, url_facts
from .containers import autoscaled, autoscaler_from
from .download import fetch
from .envcache import EnvironmentReads, KeptRead
from .gitops import Follow, follows, substitute
from .gitrepo import OutsideLink, RepoError, RepoView, export_tree, is_url, local_clone, open_repo
from .history import HistorySource, bundle_facts, is_shallow, read_history
from .kustomize import (
    KUSTOMIZATION_FILES,
    NOT_RENDERED,
    Kustomizations,
    RenderedObject,
    Renderer,
    Tree,
    render_overlays,
)
from .kustomize.builtin import BuiltinRenderer, Rendered
from .kustomize.tree import clone, normalise
from .owners import CODEOWNERS_PLACES, CodeOwners, Owners
from .statehistory import BlobView, State, Walk, mark_rollbacks, walk_history
from .workloads import WORKLOAD_KINDS, Workload, image_parts, image_tag, is_range, workload_from

ENVIRONMENT_FILE = "environment.yml"
UNREADABLE = "unreadable"
EARLIER = "from an earlier build"  # unreadable now; shown as an earlier run read it
NO_HISTORY = "unknown: not a git repository"
BROKEN_HISTORY = "unknown: its git repository cannot be read"
# an absolute path left in a message (git's own words may name one): never shown
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/[^\s'\"`:]+")
YAML_SUFFIXES = (".yml", ".yaml")
PART_OF_LABEL = "app.kubernetes.io/part-of"  # the system a service is part of (Backstage export)
ASIDE_FROM = 300  # bundles listed from which environment.yml is checked in a forked child


@dataclass
class _Context:
    config: Config
    env: EnvironmentConfig
    view: RepoView | BlobView
    owners: Owners
    codeowners: CodeOwners
    validator: Validator
    findings: list[Finding]
    parsed: dict[str, list[Document]] = field(default_factory=dict)
    env_file: str = ENVIRONMENT_FILE  # where environment.yml is, under `path` when set
    renderings: list[Rendering] = field(default_factory=list)
    others: list[WorkloadRef] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # file -> why it is not rendered right
    blob_documents: dict[str, list[Document]] | None = None  # parsed files by blob id (history)
    bundle_reads: BundleReads = field(default_factory=BundleReads)  # this run's, by sha256

    def display(self, name: str) -> str:
        """A file of the env repo as pages and reports show it: `<environment>:<path in repo>`."""
        return f"{self.env.name}:{name}"

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

    def documents(self, name: str) -> list[Document]:
        """The YAML documents of one file of the repo, read once (once per blob in history)."""
        if name not in self.parsed:
            view = self.view if isinstance(self.view, BlobView) else None
            blob = view.blob(name) if view is not None else None
            if view is not None and blob is not None and self.blob_documents is not None:
                if blob not in self.blob_documents:
                    self.blob_documents[blob] = _read_documents(self, name)
                else:
                    view.consulted.add(name)
                self.parsed[name] = self.blob_documents[blob]
            else:
                self.parsed[name] = _read_documents(self, name)
        return self.parsed[name]


def repo_label(config: Config, repo: str) -> str:
    """An env repo as pages show it: its URL without credentials, or its folder relative to the
    config's folder (never an absolute path of the machine that ran the build)."""
    if is_url(repo):
        return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", repo, flags=re.IGNORECASE)
    return os.path.relpath((config.root / repo).resolve(), config.root.resolve())


def _without_paths(message: str, config: Config, env: EnvironmentConfig) -> str:
    """A message with this machine's paths of the repo and the cache replaced by what they are."""
    places = {
        str((config.root / env.repo).resolve()): repo_label(config, env.repo),
        str(config.cache.resolve()): config.display(config.cache),
        str(config.root.resolve()): ".",
    }
    for place, shown in sorted(places.items(), key=lambda item: -len(item[0])):
        message = message.replace(place, shown)
    return _ABSOLUTE.sub("…", message)


def _is_folder(view: RepoView | BlobView, prefix: str) -> bool:
    """Whether the repo has any file under this folder."""
    return any(name.startswith(prefix) for name in view.files())


def _codeowners(view: RepoView) -> CodeOwners:
    for place in CODEOWNERS_PLACES:
        if view.exists(place):
            try:
                return CodeOwners.parse(view.read(place, 1024 * 1024).decode("utf-8", "replace"))
            except (RepoError, OSError):
                return CodeOwners()
    return CodeOwners()


def _is_helm_template(name: str, text: str) -> bool:
    """A chart's template: `{{ }}` in a `templates/` folder. Elsewhere `{{ }}` may be data (an
    ApplicationSet's Go templates); such a file is a template only if it does not parse."""
    return "{{" in text and "/templates/" in f"/{name}"


def _read_documents(ctx: _Context, name: str) -> list[Document]:
    shown = ctx.display(name)
    try:
        text = ctx.view.read(name, ctx.config.limits.file_bytes).decode("utf-8")
    except OutsideLink:
        return []  # not read; the link is a finding of its own (see `_link_findings`)
    except (RepoError, OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        ctx.findings.append(  # an OSError's own text names the machine's path: not shown
            Finding(
                "envrepo/unreadable-file", Severity.WARNING, shown, None, f"cannot read: {reason}"
            )
        )
        return []
    if _is_helm_template(name, text):
        ctx.findings.append(Finding(
            "envrepo/skipped-template", Severity.INFO, shown, None,
            "Helm chart template skipped: it is not YAML until rendered",
            "deploy the chart through a HelmRelease, an Application or a bundle to have it cataloged",
        ))  # fmt: skip
        return []
    documents, found = load_documents(text, shown)
    if "{{" in text and any(f.rule == "yaml/parse-error" for f in found):
        ctx.findings.append(Finding(
            "envrepo/skipped-template", Severity.INFO, shown, None,
            "template skipped: it is not YAML until rendered",
            "deploy it through a HelmRelease, an Application or a bundle to have it cataloged",
        ))  # fmt: skip
        return []
    ctx.findings.extend(found)
    return documents


def _bundle_entries(document: Document) -> list[tuple[str, str | None, int]]:
    entries: list[tuple[str, str | None, int]] = []
    for index, item in enumerate(as_list(document.get(("bundles",)))):
        line = document.line(("bundles", index))
        if isinstance(item, str):
            entries.append((item, None, line))
        elif isinstance(item, dict) and isinstance(item.get("url"), str):
            digest = document.text(("bundles", index, "sha256"))
            entries.append((item["url"], digest.lower() if digest else None, line))
    return entries


def _totals(workloads: list[Workload]) -> tuple[float | None, int | None]:
    """CPU cores and memory bytes requested by all replicas of these workloads."""
    cpu: float | None = None
    memory: int | None = None
    for w in workloads:
        count = w.replicas if w.replicas is not None else 1
        if w.cpu is not None:
            cpu = (cpu or 0) + w.cpu * count
        if w.memory is not None:
            memory = (memory or 0) + w.memory * count
    return cpu, memory


def _part_of(workloads: list[Workload]) -> str:
    """The `app.kubernetes.io/part-of` label of the first workload that has one, or ""."""
    return next((p for w in workloads if (p := w.labels.get(PART_OF_LABEL))), "")


def _main_image(service: str, images: list[str]) -> str | None:
    """The image that is the service's own: named after it, else the first."""
    for image in images:
        if image_parts(image)[0].rsplit("/", 1)[-1] == service:
            return image
    return images[0] if images else None


def _version_mismatch(ctx: _Context, service: str, version: str | None, workloads: list[Workload],
                      file: str, line: int | None) -> None:  # fmt: skip
    """A version label that disagrees with the image tag or the bundle is a finding."""
    labels = {w.version_text for w in workloads if w.version_text}
    image = _main_image(service, [i for w in workloads for i in w.images])
    tag = image_tag(image) if image else None
    for label in sorted(labels):
        other = version if version is not None and version != label else None
        if other is None and tag is not None and tag != label and not tag.startswith("sha256:"):
            other = tag
        if other is not None:
            ctx.findings.append(Finding(
                "catalog/version-mismatch", Severity.WARNING, file, line,
                f"{service}: label app.kubernetes.io/version is {label} but it runs {other}",
                "update the version label when the image changes, or drop the label",
            ))  # fmt: skip


def _from_bundle(
    ctx: _Context, url: str, digest: str | None, line: int, read: bool = True
) -> Deployment:
    """The deployment of one bundle entry; one past `limits.bundles` is shown, not downloaded."""
    file = ctx.display(ctx.env_file)
    data, found = (
        fetch(url, ctx.config.mirrors, ctx.config.bundle_cache, file, line,
              allow=ctx.config.allow, limits=ctx.config.limits) if read else (None, [])
    )  # fmt: skip
    ctx.findings.extend(found)
    verified: bool | None = None
    problem = ("unreadable" if read else "not read: over limits.bundles") if data is None else ""
    bundle = Bundle(url)
    if data is not None:
        actual = sha256_of(data)
        if digest is not None:
            verified = actual == digest
            if not verified:
                problem = "sha256 mismatch"
                ctx.findings.append(Finding(
                    "bundle/sha256-mismatch", Severity.ERROR, file, line,
                    f"bundle {url} does not match its sha256: it changed since it was pinned",
                    "find out who re-uploaded the tarball; pin the new digest only once it is trusted",
                ))  # fmt: skip
        known = ctx.bundle_reads.get(actual, url)
        if known is None:
            bundle, found = read_bundle(data, url, file, line, ctx.config.limits)
            if bundle.meta is not None:
                found += ctx.validator.check(bundle.meta, "bundle", "bundle.yml")
            known = BundleRead(bundle, tuple(found), file, line)
            ctx.bundle_reads.put(actual, url, known)
        bundle = known.bundle
        ctx.findings.extend(known.at(file, line))
    guessed = url_facts(url)
    workloads = bundle.workloads
    ctx.others.extend(_ref(w, w.not_a_service) for w in workloads if w.not_a_service)
    labels = [w.labels for w in workloads] + [w.annotations for w in workloads]
    names = sorted({w.labels.get(ctx.config.service_label, "") for w in workloads} - {""})
    service = (
        bundle.facts.get("service") or (names[0] if names else "") or guessed.get("service", url)
    )
    versions = [w.version_text for w in workloads if w.version_text]
    version = (
        bundle.facts.get("version") or (versions[0] if versions else None) or guessed.get("version")
    )
    owner, source = ctx.owner(service, bundle.facts.get("owner"), labels, ctx.env_file)
    _version_mismatch(ctx, service, bundle.facts.get("version"), workloads, file, line)
    cpu, memory = _totals(workloads)
    return Deployment(
        service=service, environment=ctx.env.name, version=version, owner=owner, owner_source=source,
        source="bundle", file=file, line=line, bundle_url=url, commit=bundle.facts.get("commit", ""),
        path=ctx.env_file,
        repository=bundle.facts.get("repository", ""),
        images=tuple(sorted({i for w in workloads for i in w.images})),
        kinds=tuple(sorted({w.kind for w in workloads})),
        replicas=next((w.replicas for w in workloads if w.replicas is not None), None),
        verified=verified, problem=problem,
        namespace=next((w.namespace for w in workloads if w.namespace), ""),
        cpu=cpu, memory=memory,
        workloads=tuple(_ref(w) for w in workloads if not w.not_a_service),
        part_of=_part_of([w for w in workloads if not w.not_a_service]),
    )  # fmt: skip


def _ref(workload: Workload, note: str = "") -> WorkloadRef:
    return WorkloadRef(
        kind=workload.kind, namespace=workload.namespace, name=workload.name or
        (f"{workload.generate_name}…" if workload.generate_name else ""), images=workload.images,
        replicas=workload.replicas, file=workload.file, line=workload.line, note=note,
        containers=workload.containers, min_replicas=workload.min_replicas,
    )  # fmt: skip


def _from_workloads(ctx: _Context, workloads: list[Workload]) -> list[Deployment]:
    """One deployment per service identity, however many workloads run it here."""
    groups: dict[str, list[Workload]] = defaultdict(list)
    for workload in workloads:
        if workload.not_a_service:
            ctx.others.append(_ref(workload, workload.not_a_service))
        else:
            groups[workload.service(ctx.config.service_label)].append(workload)
    deployments = []
    for service, group in sorted(groups.items()):
        group.sort(key=lambda w: (w.kind not in WORKLOAD_KINDS, w.file, w.line, w.name))
        image = _main_image(service, [i for w in group for i in w.images])
        versions = sorted({v for w in group if (v := _version_of(w, service))})
        first = group[0]
        version = _version_of(first, service, image) or (versions[0] if versions else None)
        if is_range(version):
            ctx.findings.append(Finding(
                "catalog/unpinned-version", Severity.WARNING, first.file, first.line,
                f"{service} in {ctx.env.name}: version {version} is a range, not pinned: what runs "
                "depends on when it was last reconciled",
                "pin the exact chart version so that the catalog (and a rollback) can name it",
            ))  # fmt: skip
        if len(versions) > 1:
            ctx.findings.append(Finding(
                "catalog/mixed-versions", Severity.WARNING, first.file, first.line,
                f"{service} runs {len(versions)} versions at once in {ctx.env.name}: {', '.join(versions)}",
                "align the workloads' images, or give them different app.kubernetes.io/name labels",
            ))  # fmt: skip
        relative = _relative(ctx, first.file)
        owner, source = ctx.owner(
            service, None, [w.labels for w in group] + [w.annotations for w in group], relative
        )
        _version_mismatch(ctx, service, None, group, first.file, first.line)
        cpu, memory = _totals(group)
        deployments.append(Deployment(
            service=service, environment=ctx.env.name, version=version, owner=owner, owner_source=source,
            source="manifest", file=first.file, line=first.line,
            images=tuple(sorted({i for w in group for i in w.images})),
            kinds=tuple(sorted({w.kind for w in group})),
            replicas=first.replicas, namespace=first.namespace, cpu=cpu, memory=memory,
            chart=first.source, note="; ".join(sorted({w.note for w in group if w.note})),
            workloads=tuple(_ref(w) for w in group), versions=tuple(versions) if len(versions) > 1 else (),
            problem=ctx.problems.get(first.file, ""), path=_relative(ctx, first.file),
            version_file=ctx.display(first.set_at[0]) if first.set_at else "",
            version_line=first.set_at[1] if first.set_at else None,
            version_path=first.set_at[0] if first.set_at else "", part_of=_part_of(group),
        ))  # fmt: skip
    return deployments


def _version_of(workload: Workload, service: str, image: str | None = None) -> str | None:
    """The version one workload runs: its version label, what it pins, else its image's tag."""
    image = image if image in workload.images else _main_image(service, list(workload.images))
    return workload.version_text or workload.version or (image_tag(image) if image else None)


def _relative(ctx: _Context, shown: str) -> str:
    prefix = ctx.display("")
    return shown[len(prefix) :].lstrip("/") if shown.startswith(prefix) else shown


def _yaml_files(ctx: _Context, folder: str | None) -> list[str]:
    files = ctx.view.files()
    if folder:
        prefix = PurePosixPath(folder).as_posix().strip("/") + "/"
        files = [f for f in files if f.startswith(prefix)]
    return [
        f for f in files
        if (f.endswith(YAML_SUFFIXES) or f.rsplit("/", 1)[-1] in KUSTOMIZATION_FILES)
        and not f.startswith(".") and "/." not in f  # nothing in hidden folders
        and f != ctx.env_file
    ]  # fmt: skip


def _listing(view: RepoView | BlobView) -> tuple[set[str], set[str]]:
    """The repo's files, and its files and folders together."""
    if isinstance(view, BlobView) and view.listing is not None:
        return view.listing
    files = set(view.files())
    known = files | {str(parent) for name in files for parent in PurePosixPath(name).parents}
    if isinstance(view, BlobView):
        view.listing = (files, known)
    return files, known


def _manifests(ctx: _Context, folder: str | None) -> list[Workload]:
    """Workloads under a folder (see `_objects`), with what its GitOps objects deploy."""
    objects = _followed(ctx, _objects(ctx, folder), (folder or "",))
    # an HPA scales a workload of the same environment: of the objects read here
    floors = autoscaled(a for o in objects if (a := autoscaler_from(o.document, o.origin_name)))
    workloads = []
    for obj in objects:
        workload = workload_from(obj.document)
        if workload is not None:
            note = "; ".join(n for n in (workload.note, obj.via and f"via {obj.via}") if n)
            floor = floors.get((workload.kind, workload.namespace, workload.name))
            workloads.append(replace(workload, origin_name=obj.origin_name or workload.name,
                                     set_at=obj.set_at, note=note, min_replicas=floor))  # fmt: skip
    return workloads


MAX_FOLLOWED = 8  # GitOps objects deploying folders that hold more GitOps objects, at most


def _followed(
    ctx: _Context, objects: list[RenderedObject], seen: tuple[str, ...]
) -> list[RenderedObject]:
    """Objects with each Flux Kustomization and Argo CD Application that deploys a folder of
    this repo replaced by what that folder renders to, its own transformations applied."""
    urls = {ctx.env.repo, ctx.env.web or ""}
    found, stuck, findings = follows([o.document for o in objects], urls)
    ctx.findings.extend(findings)
    followed = {id(f.document) for f in found} | {id(document) for document, _ in stuck}
    result = [o for o in objects if id(o.document) not in followed]
    for document, why in stuck:  # a Flux Kustomization is never a service: what it deploys is
        workload = workload_from(document)
        if workload is not None:
            ctx.others.append(_ref(workload, why))
    for follow in found:
        workload = workload_from(follow.document)
        if workload is not None:
            ctx.others.append(_ref(workload, f"deploys {follow.folder or '.'}"))
        if follow.folder in seen or len(seen) > MAX_FOLLOWED:
            continue  # deployed already on this way, or too deep
        if follow.folder and not _is_folder(ctx.view, f"{follow.folder}/"):
            ctx.findings.append(Finding(
                "envrepo/not-followed", Severity.WARNING, follow.document.file, follow.document.start_line,
                f"{follow.via} deploys {follow.folder}, which is not a folder of the repo",
                "fix its path",
            ))  # fmt: skip
            continue
        inner = _followed(ctx, _objects(ctx, follow.folder or None), (*seen, follow.folder))
        result += _transformed(ctx, follow, inner)
    return result


def _transformed(
    ctx: _Context, follow: Follow, objects: list[RenderedObject]
) -> list[RenderedObject]:
    """What a followed folder renders to, after its GitOps object's own transformations."""
    shown = follow.document.file
    renderer = BuiltinRenderer(Tree({}, lambda _: False, lambda _: False), ctx.documents,
                               objects_limit=ctx.config.limits.overlay_objects)  # fmt: skip
    rendered = [
        Rendered(clone(o.document.data), _relative(ctx, o.document.file), o.document.start_line,
                 [o.origin_name or str(as_dict(o.document.data.get("metadata")).get("name") or "")],
                 o.set_at)
        for o in objects
        if isinstance(o.document.data, dict)  # a list or a scalar is no object
    ]  # fmt: skip
    spec = Document(
        follow.spec, _relative(ctx, shown), follow.document.start_line, dict(follow.lines)
    )
    rendered = renderer.transform(spec, rendered)
    for gap in renderer.gaps:
        ctx.findings.append(Finding(
            "envrepo/kustomize-gap", Severity.WARNING, shown, gap.line, f"{follow.via}: {gap.message}",
            "what it deploys may be incomplete in the catalog",
        ))  # fmt: skip
    out = []
    for r in rendered:
        data = substitute(r.data, follow.substitute) if follow.substitute else r.data
        document = Document(data, ctx.display(r.file), r.line)
        out.append(RenderedObject(document, r.names[0] if r.names else "", r.set_at, follow.via))
    return out


def _objects(ctx: _Context, folder: str | None) -> list[RenderedObject]:
    """Objects under a folder: a folder with a kustomization is that overlay alone; otherwise
    every root overlay under it is rendered, and the files no kustomization reads are read as is.

    Kustomizations anywhere in the repo are known, since an overlay may use bases elsewhere."""
    everything = _yaml_files(ctx, None)
    kustomizations = Kustomizations(
        [n for n in everything if PurePosixPath(n).name in KUSTOMIZATION_FILES], ctx.documents
    )
    files, known = _listing(ctx.view)
    tree = Tree(kustomizations, known.__contains__, files.__contains__)
    own = tree.folder_kustomization(folder.strip("/")) if folder and folder.strip("/") else None
    roots = [own] if own else tree.roots(folder or "")
    renderer = Renderer(
        tree, ctx.documents, ctx.display, ctx.config.kustomize,
        lambda: _export(ctx.view, ctx.config.cache / "kustomize"),
        ctx.config.cache / "kustomize", ctx.config.display(ctx.config.file),
        limits=ctx.config.limits,
    )  # fmt: skip
    objects: list[RenderedObject] = []
    for overlay in render_overlays(renderer, roots):
        ctx.renderings.append(Rendering(overlay.path, overlay.renderer, overlay.problem))
        objects += overlay.objects
        if overlay.problem.startswith(NOT_RENDERED):
            for obj in overlay.objects:
                ctx.problems[obj.document.file] = NOT_RENDERED
    ctx.findings.extend(renderer.findings)
    if own:
        return objects
    used = set().union(*(tree.closure(root)[0] for root in roots)) if roots else set()
    covered = {ref.target for name in used for ref in tree.references(name) if ref.target}
    unused = {
        ref.target: name for name in tree.files if name not in used
        for ref in tree.references(name) if ref.target and ref.key in ("resources", "bases")
    }  # fmt: skip
    for name in _yaml_files(ctx, folder) if folder else everything:
        if name in covered or name in kustomizations:
            continue
        for document in ctx.documents(name):
            if name not in unused:
                objects.append(RenderedObject(document, ""))
                continue
            workload = workload_from(document)
            if workload is not None:
                ctx.findings.append(Finding(
                    "envrepo/unused-resource", Severity.INFO, workload.file, workload.line,
                    f"{workload.kind} {workload.name} is only in {unused[name]}, which no root "
                    "overlay uses: it does not run, and is not cataloged",
                    "include it in an overlay, or delete it",
                ))  # fmt: skip
    return objects


def read_environment(
    config: Config, env: EnvironmentConfig, owners: Owners, validator: Validator,
    bundle_reads: BundleReads | None = None, kept: EnvironmentReads | None = None,
) -> tuple[Environment, list[Finding]]:  # fmt: skip
    """Everything one environment runs; findings for whatever could not be read. A bundle
    already in `bundle_reads` (the run's, shared by every environment) is not read again; an
    environment `kept` from an earlier run, of the same repo commit, is not read at all. An
    environment whose repo cannot be read now is shown as the last run that read it saw it,
    marked with when that was (`Environment.earlier`), when that run's read is kept."""
    environment, findings, key = _read_environment(
        config, env, owners, validator, bundle_reads, kept
    )
    if kept is None:
        return environment, findings
    if environment.status == UNREADABLE and not environment.commit:  # its repo, not a folder of it
        return _from_earlier(env, kept, environment, findings)
    if not environment.status:
        kept.remember(env, KeptRead(environment, findings, []), key, datetime.now(UTC))
    return environment, findings


def _from_earlier(
    env: EnvironmentConfig, kept: EnvironmentReads, now: Environment, findings: list[Finding]
) -> tuple[Environment, list[Finding]]:
    """`now` (unreadable) as the last good read kept shows it, if there is one: its errors
    that say why become warnings that say what is shown instead."""
    last = kept.last(env)
    if last is None:
        return now, findings
    earlier, earlier_findings, stamp = last
    why = [f for f in findings if f.rule == "envrepo/unreadable"]
    at = f", commit {earlier.commit[:12]}" if earlier.commit else ""
    shown = f"{stamp[:16].replace('T', ' ')} UTC{at}"
    marked = [
        Finding("envrepo/earlier-build", Severity.WARNING, f.file, f.line,
                f"{f.message}; shown as an earlier run read it ({shown})",
                "until its repo can be read again, the site shows what it ran then, marked "
                "with that date: " + (f.hint or "fix the repo or the access to it"))
        for f in why
    ]  # fmt: skip
    environment = replace(
        earlier, status=EARLIER, earlier=stamp, unreadable_now="; ".join(f.message for f in why),
        upstreams=now.upstreams, production=now.production, web=now.web or earlier.web,
    )  # fmt: skip
    others = [f for f in findings if f.rule != "envrepo/unreadable"]
    then = [replace(f, message=f"{f.message} (as an earlier run read it, {shown})")
            for f in earlier_findings]  # fmt: skip
    return environment, marked + others + then


def _read_environment(
    config: Config, env: EnvironmentConfig, owners: Owners, validator: Validator,
    bundle_reads: BundleReads | None, kept: EnvironmentReads | None,
) -> tuple[Environment, list[Finding], str | None]:  # fmt: skip
    """`read_environment` but for the earlier read: also the key of its read, if kept."""
    findings: list[Finding] = []
    try:
        view = open_repo(env.repo, env.ref, config.root, config.cache)
    except RepoError as error:
        message = _without_paths(f"environment {env.name}: {error}", config, env)
        findings.append(Finding(
            "envrepo/unreadable", Severity.ERROR, config.display(config.file),
            config.line_of("environments", config.environments.index(env), "repo"), message,
            "check `repo` and `ref` of this environment in the config",
        ))  # fmt: skip
        return Environment(env.name, repo_label(config, env.repo), web=env.web or "", status=UNREADABLE,
                           upstreams=env.promotes_from, production=env.production), findings, None  # fmt: skip
    key = kept.key(env, view) if kept is not None else None
    if kept is not None and (known := kept.get(key)) is not None:
        for digest, url in known.bundles:
            if bundle_reads is not None:
                bundle_reads.keep(digest, url)
        return known.environment, known.findings, key
    reads = bundle_reads or BundleReads()
    asked = len(reads.asked)
    with download.recording() as fetched:
        environment, findings = _read_view(config, env, view, owners, validator, reads)
    if kept is not None:
        kept.put(key, KeptRead(environment, findings, reads.asked[asked:]), fetched)
    return environment, findings, key


def _read_view(
    config: Config, env: EnvironmentConfig, view: RepoView, owners: Owners,
    validator: Validator, bundle_reads: BundleReads,
) -> tuple[Environment, list[Finding]]:  # fmt: skip
    findings: list[Finding] = []
    ctx = _Context(config, env, view, owners, _codeowners(view), validator, findings,
                   bundle_reads=bundle_reads)  # fmt: skip
    deployments: list[Deployment] = []
    folder = normalise(PurePosixPath(env.path or "")) or ""
    prefix = f"{folder}/" if folder else ""
    if prefix and not _is_folder(view, prefix):
        findings.append(Finding(
            "envrepo/unreadable", Severity.ERROR, config.display(config.file),
            config.line_of("environments", config.environments.index(env), "path"),
            f"environment {env.name}: path {env.path} is not a folder of {repo_label(config, env.repo)}",
            "fix `path` of this environment in the config",
        ))  # fmt: skip
        findings.extend(_link_findings(ctx))
        return Environment(env.name, repo_label(config, env.repo), view.commit, view.commit_date, web=env.web or "",
                           status=UNREADABLE, upstreams=env.promotes_from,
                           production=env.production), findings  # fmt: skip
    ours = view.exists(prefix + ENVIRONMENT_FILE)
    if ours:
        deployments.extend(_read_environment_file(ctx, prefix))
    else:
        deployments.extend(_from_workloads(ctx, _manifests(ctx, folder or None)))
    changes, problem = _history(ctx, deployments, folder, ours)
    if problem:
        findings.append(Finding(
            "envrepo/unreadable", Severity.ERROR, config.display(config.file),
            config.line_of("environments", config.environments.index(env), "repo"),
            _without_paths(f"environment {env.name}: its history cannot be read: {problem}", config, env),
            "repair the repository (`git fsck` says what is broken) or clone it again; until "
            "then its files are read as they are, without their history",
        ))  # fmt: skip
    findings.extend(_link_findings(ctx))
    note = BROKEN_HISTORY if problem else "" if view.commit else NO_HISTORY
    return Environment(
        name=env.name, repo=repo_label(config, env.repo), commit=view.commit, commit_date=view.commit_date,
        deployments=tuple(sorted(deployments, key=lambda d: (d.service, d.namespace, d.file, d.line or 0))),
        history=tuple(changes), web=env.web or "", renderings=tuple(ctx.renderings),
        history_note=note,
        others=tuple(sorted(ctx.others, key=lambda w: (w.kind, w.namespace, w.name))),
        upstreams=env.promotes_from, production=env.production, ref=env.ref or "",
    ), findings  # fmt: skip


def _history(
    ctx: _Context, deployments: list[Deployment], folder: str, ours: bool
) -> tuple[list[Change], str]:
    """The environment's history, and why it cannot be read ("" when it can).

    A local repo's history is walked in our clone of it in the cache, never in the repo
    itself: its own config (textconv drivers, fsmonitor, hooks) is never obeyed."""
    config, env, view = ctx.config, ctx.env, ctx.view
    assert isinstance(view, RepoView)
    if not view.commit:
        return [], view.history_problem
    try:
        root = view.root if is_url(env.repo) else local_clone(view, config.cache)
        if not ours:
            if is_shallow(root):
                ctx.findings.append(Finding(
                    "history/partial", Severity.WARNING, config.display(config.file),
                    config.line_of("environments", config.environments.index(env), "repo"),
                    f"{env.name}: the env repo is a shallow clone; its history is partial",
                    "clone it in full (git fetch --unshallow) to see every earlier version",
                ))  # fmt: skip
            walk = Walk(env.name, root, env.ref or "HEAD", folder,
                        json.dumps([config.service_label, env.name]), _state_of(ctx, folder),
                        config.limits.history_commits)  # fmt: skip
            return walk_history(walk, config.cache), ""
        known = {d.bundle_url: (d.service, d.version or "?") for d in deployments if d.bundle_url}
        source = HistorySource(env.name, root, env.ref or "HEAD", (ctx.env_file,), True)
        changes, found = read_history(
            source, config.cache, bundle_facts(known), ctx.display(ctx.env_file)
        )
    except RepoError as error:
        return [], str(error)
    ctx.findings.extend(found)
    return mark_rollbacks(changes), ""


def _link_findings(ctx: _Context) -> list[Finding]:
    """One finding per symbolic link out of the repo met while reading it: named as a file of
    the repo, never with where it leads."""
    view = ctx.view
    links = sorted(view.outside) if isinstance(view, RepoView) else []
    return [
        Finding(
            "envrepo/symlink-outside", Severity.ERROR, ctx.display(link), None,
            f"{link} is a symbolic link out of the repo: it is not read, nor anything under it",
            "put the file itself in the repo (or link to a file inside it)",
        )
        for link in links
    ]  # fmt: skip


def _export(view: RepoView | BlobView, cache: Path) -> Path:
    if isinstance(view, BlobView):
        raise RepoError("history is rendered by the built-in renderer only")
    return export_tree(view, cache)


def _state_of(ctx: _Context, folder: str) -> Callable[[BlobView], State]:
    """What an environment runs at one commit of its history, service by service: rendered by
    the built-in renderer from git objects, each file parsed once per blob."""
    config = replace(ctx.config, kustomize="builtin")
    parsed: dict[str, list[Document]] = {}

    def state(view: BlobView) -> State:
        past = _Context(config, ctx.env, view, Owners(), CodeOwners(), ctx.validator, [])
        past.blob_documents = parsed
        deployments = _from_workloads(past, _manifests(past, folder or None))
        return {d.service: (d.version, d.replicas) for d in deployments}

    return state


def _read_environment_file(ctx: _Context, prefix: str) -> list[Deployment]:
    name = ctx.env_file = prefix + ENVIRONMENT_FILE
    shown = ctx.display(name)
    try:
        text = ctx.view.read(name, ctx.config.limits.file_bytes).decode("utf-8")
    except OutsideLink:
        return []  # not read; the link is a finding of its own
    except (RepoError, OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        ctx.findings.append(
            Finding(
                "envrepo/unreadable", Severity.ERROR, shown, None, f"cannot read {shown}: {reason}"
            )
        )
        return []
    document, found = load_one(text, shown)
    ctx.findings.extend(found)
    if document is None:
        return []
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    at = len(ctx.findings)  # the check's findings go first, as if it were done first
    entries = _bundle_entries(document)
    most = ctx.config.limits.bundles
    if len(entries) > most:
        ctx.findings.append(Finding(
            "limits/too-many", Severity.WARNING, ctx.display(ctx.env_file), entries[most][2],
            f"{len(entries)} bundles are listed, more than limits.bundles ({most}): the rest are "
            "shown from their URLs, not downloaded",
            "raise `limits.bundles` in the config if this environment really runs that many",
        ))  # fmt: skip
    # a file not checked before is checked in a forked child while its bundles are read here
    with ctx.validator.check_kept_aside(
        ctx.bundle_reads.kept, digest, document, "environment", ENVIRONMENT_FILE,
        worth=len(entries) >= ASIDE_FROM,
    ) as checked:  # fmt: skip
        deployments = [
            _from_bundle(ctx, url, digest, line, index < most)
            for index, (url, digest, line) in enumerate(entries)
        ]
        ctx.findings[at:at] = checked()
    if ctx.env.production:  # the digest is known here only: the model keeps whether it matched
        ctx.findings.extend(Finding(
            "risk/unpinned-bundle", Severity.WARNING, shown, line,
            f"{deployment.service} in {ctx.env.name}: bundle {url} is not pinned by its sha256: a "
            "tarball uploaded again under this URL would be deployed unnoticed",
            "write the entry as `url:` and `sha256: <hex digest of the tarball>`",
        ) for deployment, (url, digest, line) in zip(deployments, entries, strict=True)
          if digest is None)  # fmt: skip
    folder = document.get(("manifests",))
    if (
        folder is None
        and ctx.view.files()
        and any(f.startswith(f"{prefix}manifests/") for f in ctx.view.files())
    ):
        folder = "manifests/"  # the schema's default
    if isinstance(folder, str):
        deployments.extend(_from_workloads(ctx, _manifests(ctx, prefix + folder)))
    return deployments
