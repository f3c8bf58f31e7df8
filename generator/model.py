"""The model: frozen dataclasses that readers produce and renderers consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .limits import Limits


class Severity(StrEnum):
    """How bad a finding is; ordered info < warning < error."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]


@dataclass(frozen=True)
class Finding:
    """Something wrong or noteworthy in the inputs, with where it is and what to do."""

    rule: str
    severity: Severity
    file: str | None
    line: int | None
    message: str
    hint: str = ""

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file or "", self.line or 0, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "hint": self.hint,
        }


@dataclass(frozen=True)
class Pitfall:
    """A known trap, shown as an admonition."""

    severity: str  # "warning" or "danger"
    text: str


@dataclass(frozen=True)
class Option:
    """One option of a schema, flattened from the schema's tree."""

    schema_id: str
    path: str
    anchor: str
    depth: int
    types: tuple[str, ...] = ()
    required: bool = False
    description: str = ""
    default: Any = None
    has_default: bool = False
    enum: tuple[Any, ...] = ()
    examples: tuple[Any, ...] = ()
    deprecated: bool = False
    deprecated_message: str = ""
    since: str = ""
    pitfalls: tuple[Pitfall, ...] = ()
    line: int | None = None
    same_as: str = ""  # anchor of the option that shows the same definition in full
    shares: tuple[str, ...] = ()  # anchors where definitions it merges (allOf...) are shown
    constraints: tuple[tuple[str, Any], ...] = ()  # (label, value): pattern, bounds, format...
    composition: str = ""  # "one of" or "any of" when the option is one of several shapes
    alternatives: tuple[str, ...] = ()  # a one-line summary of each shape
    condition: str = ""  # when the option applies: "alternative 2 of 3", "when `kind` is set"
    ref_url: str = ""  # a `$ref` to a URL, shown as a link, never fetched
    read_only: bool = False
    write_only: bool = False
    has_const: bool = False
    definition: bool = False  # listed under the schema's definitions, not reachable from its root
    segments: tuple[str, ...] = ()  # the path's parts: ("deploy", "ports", "[]", "name")

    @property
    def id(self) -> str:
        return f"{self.schema_id}:{self.path}"


@dataclass(frozen=True)
class Schema:
    """A pipeline schema and its options, in document order."""

    id: str
    file: str
    title: str
    description: str
    options: tuple[Option, ...]
    example: Any = None  # an instance built from defaults and examples that validates
    has_example: bool = False
    root: Option | None = None  # the root's own constraints and alternatives
    draft: str = ""


@dataclass(frozen=True)
class Input:
    """One input of a CI template."""

    name: str
    anchor: str
    type: str = "string"
    required: bool = False
    default: Any = None
    has_default: bool = False
    description: str = ""
    options: tuple[Any, ...] = ()
    regex: str = ""
    deprecated_message: str = ""
    examples: tuple[Any, ...] = ()
    pitfalls: tuple[Pitfall, ...] = ()
    line: int | None = None
    rules: bool = False  # GitLab: options or defaults that depend on other inputs


@dataclass(frozen=True)
class Output:
    """An output or a secret of a GitHub action or reusable workflow."""

    name: str
    anchor: str
    description: str = ""
    required: bool = False
    line: int | None = None


@dataclass(frozen=True)
class Template:
    """A CI template: a GitLab component or template, a GitHub action or reusable workflow."""

    id: str
    file: str
    kind: str  # "gitlab", "github-action", "github-workflow"
    summary: str
    inputs: tuple[Input, ...]
    jobs: tuple[str, ...] = ()
    outputs: tuple[Output, ...] = ()
    secrets: tuple[Output, ...] = ()
    runs: str = ""  # GitHub action: `runs.using` (composite, node20, docker)
    name: str = ""  # how it is included: the GitLab component's name, the action's path


@dataclass(frozen=True)
class Team:
    """A team from owners.yml."""

    id: str
    name: str
    contact: str = ""
    chat: str = ""
    oncall: str = ""
    line: int | None = None  # in owners.yml


@dataclass(frozen=True)
class Container:
    """What the risk rules need of one container of a workload, as it is rendered."""

    name: str
    image: str = ""
    init: bool = False  # an init container: no readiness probe expected
    requests: bool = False  # declares `resources.requests`
    limits: bool = False  # declares `resources.limits`
    readiness: bool = False  # declares a `readinessProbe`
    privileged: bool = False  # `securityContext.privileged: true`
    non_root: bool = False  # `runAsNonRoot: true` or a non-zero `runAsUser` (pod, then container)


@dataclass(frozen=True)
class WorkloadRef:
    """One object that runs a service (or that runs beside the services), as it is rendered."""

    kind: str
    namespace: str
    name: str  # as rendered: with the overlay's prefix and suffix
    images: tuple[str, ...] = ()
    replicas: int | None = None
    file: str = ""
    line: int | None = None
    note: str = ""  # why it is not a service: "Argo CD hook", "generateName only"
    containers: tuple[Container, ...] = ()  # its containers, then its init containers
    min_replicas: int | None = None  # the highest `minReplicas` of the HPAs scaling it (None: none)


@dataclass(frozen=True)
class Rendering:
    """How one root overlay of an environment was rendered."""

    path: str  # the overlay's folder in the repo
    renderer: str  # "kustomize v5.5.0 (kubectl kustomize)" or "built-in"
    problem: str = ""  # "not rendered by kustomize: ...", or what the renderer could not follow


@dataclass(frozen=True)
class Deployment:
    """One service as it runs in one environment."""

    service: str
    environment: str
    version: str | None
    owner: str | None
    owner_source: str
    source: str  # "bundle" or "manifest"
    file: str
    line: int | None
    bundle_url: str = ""
    commit: str = ""
    repository: str = ""
    images: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    replicas: int | None = None
    verified: bool | None = None  # sha256 checked: True ok, False mismatch, None no digest
    problem: str = ""  # why the facts are incomplete: "unreadable", "sha256 mismatch"
    namespace: str = ""
    cpu: float | None = None  # cores requested, all replicas together
    memory: int | None = None  # bytes requested, all replicas together
    chart: str = ""  # what a GitOps object deploys: a Helm chart, a path, a repository
    note: str = ""  # e.g. an ApplicationSet's generators, not expanded
    workloads: tuple[WorkloadRef, ...] = ()  # the objects that run it here
    versions: tuple[str, ...] = ()  # every version its workloads run, when they differ
    version_file: str = ""  # where its version is set (an overlay's `images:` or patch), shown
    version_line: int | None = None  # as `file` is; "" when that is `file` itself
    path: str = ""  # `file` as a path in the env repo, for links to it ("" outside a repo)
    version_path: str = ""  # `version_file` as a path in the env repo
    part_of: str = ""  # its workloads' `app.kubernetes.io/part-of` label: the system it is part of


@dataclass(frozen=True)
class Change:
    """One change of a service's version in an environment, from its env repo's history."""

    environment: str
    service: str
    from_version: str | None  # None: first deployed (or deployed again after a removal)
    to_version: str | None  # None: removed
    commit: str
    author: str
    date: str
    message: str
    merge_request: str = ""  # `group/project!123` or `#123`
    from_replicas: int | None = None
    to_replicas: int | None = None
    rollback: bool = False  # back to a version this environment ran before


@dataclass(frozen=True)
class Environment:
    """An environment as read from its repo."""

    name: str
    repo: str
    commit: str = ""
    commit_date: str = ""
    deployments: tuple[Deployment, ...] = ()
    history: tuple[Change, ...] = ()  # oldest first
    web: str = ""  # the env repo's web URL, for links to commits and merge requests
    status: str = ""  # "" when read, "unreadable" when its repo could not be read
    upstreams: tuple[str, ...] = ()  # the environments it is promoted from (promotes_from)
    history_note: str = ""  # why there is no history: "unknown: not a git repository"
    renderings: tuple[Rendering, ...] = ()  # its root overlays and what rendered each
    others: tuple[WorkloadRef, ...] = ()  # hooks and generateName objects: not services
    production: bool = False  # the config's `production:` (default: its name starts with `prod`)
    ref: str = ""  # the config's `ref:` of its repo ("": the repo's HEAD)
    # when its repo cannot be read now but an earlier run read it: when that was (ISO 8601,
    # UTC), and why it cannot be read now; what is shown is what that run read
    earlier: str = ""
    unreadable_now: str = ""


@dataclass(frozen=True)
class Announcement:
    """A changelog fragment."""

    id: str
    file: str
    title: str
    type: str
    date: str
    release: str
    body: str
    options: tuple[str, ...] = ()
    templates: tuple[str, ...] = ()
    option_lines: tuple[int | None, ...] = ()  # where each option is named, for findings
    template_lines: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Release:
    """An earlier release: its name, its date, and the schemas as they were then."""

    name: str
    date: str
    schemas: tuple[Schema, ...]


@dataclass(frozen=True)
class SchemaChange:
    """One change of one option between two releases."""

    option: str  # the option id, `<schema>:<path>`
    kind: str  # added, removed, type changed, default changed, enum narrowed/widened, ...
    breaking: bool
    detail: str


@dataclass(frozen=True)
class ReleaseDiff:
    """What changed in the schemas from one release to the next (or to the working tree)."""

    before: str
    after: str  # a release's name, or "" for what is not released yet
    changes: tuple[SchemaChange, ...]


@dataclass(frozen=True)
class Model:
    """Everything the readers found, ready for analysis and rendering."""

    title: str
    site_url: str = ""  # where the site is published, when the config says
    schemas: tuple[Schema, ...] = ()
    # (schema id, its JSON as the site publishes it: the files its $refs name brought in)
    published_schemas: tuple[tuple[str, str], ...] = ()
    templates: tuple[Template, ...] = ()
    environments: tuple[Environment, ...] = ()
    teams: tuple[Team, ...] = ()
    announcements: tuple[Announcement, ...] = ()
    releases: tuple[Release, ...] = ()  # oldest first
    guides: tuple[tuple[str, str], ...] = ()  # hand-written pages: (path under docs/, title)
    schema_changes: tuple[ReleaseDiff, ...] = ()  # oldest first; the last one ends at the work tree
    drift: tuple[tuple[str, str, str], ...] = ()  # (service, environment, "pending" | "skipped")
    findings: tuple[Finding, ...] = field(default=())
    limits: Limits = field(default_factory=Limits)  # the config's bounds: how pages cut values
    stale_after: int = 86_400  # seconds: older data, pages warn of it when they are read
