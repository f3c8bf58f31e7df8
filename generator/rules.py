"""Every rule a finding can carry: its stable id, default severity, and what it is about.

The rules page of the site, SARIF's rule list and the config's `checks:` keys all come from here;
a test makes sure every rule the code can raise is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Severity


@dataclass(frozen=True)
class Rule:
    """A rule: stable id, default severity, one line on what it finds."""

    id: str
    severity: Severity
    description: str

    @property
    def area(self) -> str:
        return self.id.split("/", 1)[0]


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741 - the three levels, short

_RULES = (
    Rule("config/invalid", E, "A file fails its schema (environment.yml, bundle.yml, or a file `validate:` maps)."),
    Rule("config/unknown-option", E, "A file uses an option its schema does not define: an undocumented option."),
    Rule("config/deprecated-option", W, "A file uses a deprecated option; the message says what replaces it."),
    Rule("config/unknown-schema", E, "`validate:` or `--schema` names a schema that does not exist."),
    Rule("config/missing-path", E, "A folder the config names does not exist."),
    Rule("config/unused-ignore", W, "An ignore in `checks.ignore` matches no finding: remove it."),
    Rule("schema/invalid", E, "A schema is not valid against its own metaschema."),
    Rule("schema/missing-description", E, "An option has no description: nobody can tell what it does."),
    Rule("schema/deprecated-without-message", W, "A deprecated option does not say what to use instead."),
    Rule("schema/unresolved-ref", E, "A `$ref` points to nothing."),
    Rule("schema/remote-ref", I, "A `$ref` to a URL is not fetched; it is shown as a link."),
    Rule("schema/duplicate-id", E, "Two schema files have the same id."),
    Rule("schema/unbundled-ref", W, "A `$ref` to a local file cannot be bundled into the published schema."),
    Rule("template/missing-description", E, "A template input has no description."),
    Rule("template/undeclared-input", E, "A template uses an input it does not declare."),
    Rule("template/unused-input", W, "A template declares an input it never uses."),
    Rule("template/invalid-default", E, "An input's default is not one of its options or does not match its regex."),
    Rule("template/invalid-regex", E, "An input's regex does not compile."),
    Rule("template/invalid-yaml", E, "A template is not valid YAML."),
    Rule("template/duplicate-id", E, "Two template files have the same id (`x.yml` and `x.yaml`)."),
    Rule("catalog/missing-owner", E, "A deployed service has no owner."),
    Rule("catalog/unknown-owner", W, "A service's owner is not a team of owners.yml."),
    Rule("catalog/skipped-environment", W, "An environment runs a version none of its direct upstreams ever ran."),
    Rule("catalog/version-mismatch", W, "A version label disagrees with the image tag or the bundle."),
    Rule("bundle/not-found", E, "A bundle URL is mirrored, but the mirror has no such file."),
    Rule("bundle/unknown-url", E, "A bundle URL is neither mirrored nor http(s)."),
    Rule("bundle/download-failed", E, "A bundle could not be downloaded."),
    Rule("bundle/sha256-mismatch", E, "A bundle does not match the sha256 it is pinned to."),
    Rule("bundle/missing-bundle-yml", E, "A bundle has no bundle.yml; its facts are guessed."),
    Rule("bundle/unreadable", E, "A bundle is not a readable tarball."),
    Rule("bundle/unsafe", E, "A bundle member is a link, a device, an absolute or parent path, or too large."),
    Rule("bundle/too-large", E, "A bundle is over the size limit."),
    Rule("bundle/not-allowed", E, "A bundle URL under no prefix of `bundles.mirrors` or `.allow`: never requested."),
    Rule("bundle/too-slow", E, "A bundle server did not answer, or sent the bundle too slowly, within the deadline."),
    Rule("envrepo/unreadable", E, "An env repo cannot be read: missing folder, failed clone, unknown ref."),
    Rule("envrepo/earlier-build", W, "An env repo cannot be read now: shown as an earlier run read it, dated."),
    Rule("envrepo/unreadable-file", W, "A file of an env repo cannot be read."),
    Rule("envrepo/symlink-outside", E, "A file of an env repo is a symbolic link out of the repo: it is not read."),
    Rule("envrepo/skipped-template", I, "A Helm chart template is not YAML until rendered: skipped."),
    Rule("envrepo/remote-base", W, "A remote Kustomize reference: not fetched; the overlay is not given to kustomize."),
    Rule("envrepo/missing-resource", E, "A Kustomize resource names nothing in the repo: kustomize would refuse it."),
    Rule("envrepo/kustomize-failed", E, "kustomize failed on an overlay: it is marked not rendered by kustomize."),
    Rule("envrepo/kustomize-invalid", E, "The built-in renderer found what kustomize would refuse in an overlay."),
    Rule("envrepo/kustomize-gap", W, "The built-in renderer could not follow part of an overlay (Helm, a plugin...)."),
    Rule("envrepo/unused-resource", I, "A workload only an unused kustomization includes: it does not run."),
    Rule("catalog/unpinned-version", W, "A version is a range (a chart's `>=1.0.0`): not pinned, never compared."),
    Rule("envrepo/not-followed", W, "A Flux Kustomization or Argo CD Application that could not be followed."),
    Rule("catalog/mixed-versions", W, "Workloads of one service run different versions in one environment."),
    Rule("history/partial", W, "An env repo is a shallow clone: its history is partial."),
    Rule("owners/missing-file", E, "The owners file the config names does not exist."),
    Rule("owners/invalid", E, "owners.yml is not shaped as teams and services."),
    Rule("owners/unknown-team", E, "owners.yml assigns a service to a team it does not define."),
    Rule("changelog/invalid-front-matter", E, "A changelog fragment's front matter is missing or incomplete."),
    Rule("changelog/unknown-type", E, "A fragment's type is not one of the six types."),
    Rule("changelog/unknown-option", E, "A fragment names an option that exists neither now nor in a release before."),
    Rule("changelog/unknown-template", E, "A fragment names a template that does not exist."),
    Rule("changelog/missing-announcement", E, "A schema change since the last release that no fragment mentions."),
    Rule("changelog/unknown-release", E, "A release in the config whose schemas cannot be read."),
    Rule("changelog/placeholder", E, "A fragment still has the body `announce` wrote: it would be published as is."),
    Rule("changelog/shallow-clone", W, "The schemas' repo is a shallow clone without tags: the changelog gate is off."),
    Rule("changelog/no-earlier-release", I, "No `releases:` and no `vX.Y.Z` tag: no earlier release to compare with."),
    Rule("yaml/parse-error", E, "A file does not parse."),
    Rule("yaml/duplicate-key", E, "A mapping has the same key twice: the later value silently wins."),
    Rule("yaml/too-large", E, "A file is over the size limit, or expands to too many nodes."),
    Rule("limits/cut", W, "A name, version or text is over its limit (`limits:`): it is shown cut."),
    Rule("limits/too-many", W, "An input has more items than a limit allows (`limits:`): the rest is not read."),
    Rule("yaml/unreadable", E, "A file cannot be read."),
    Rule("sample/failed", E, "The bundled sample's env repos could not be made."),
    Rule("risk/mutable-image", E, "A production workload runs an image by a mutable tag (`latest`, or none)."),
    Rule("risk/unpinned-bundle", W, "A production environment lists a bundle without its `sha256`."),
    Rule("risk/no-resources", W, "A container declares no resource requests or no limits."),
    Rule("risk/single-replica", W, "A production workload runs one replica, and no HPA keeps more."),
    Rule("risk/no-readiness-probe", W, "A container of a Deployment or StatefulSet has no readiness probe."),
    Rule("risk/privileged", E, "A container runs privileged: it has the node's full power."),
    Rule("risk/runs-as-root", W, "A container does not declare `runAsNonRoot: true` or a non-zero `runAsUser`."),
    Rule("docs/missing-fact", E, "A guide quotes a fact of the generated data (a snippet) that no longer exists."),
    Rule("docs/replaced-page", W, "A page of docs/ has the path of a generated page, which replaces it."),
    Rule("docs/dead-link", E, "A guide in docs/ links to a page or an anchor that the site does not have."),
)  # fmt: skip

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
