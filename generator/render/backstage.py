"""The catalog as Backstage entities: multi-document YAML a Backstage software catalog imports.

Made from the catalog document (`catalog.py`), as `catalog.json` holds it: a `Component` per
service, a `Group` per team (and per owner named nowhere in owners.yml, so that every owner ref
resolves), a `System` per `app.kubernetes.io/part-of` value, and the `unowned` Group that
services with no owner point at (they keep their finding).

Backstage names are `^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`, at most 63 characters, unique per kind
whatever their case. A name that is not one is mapped: its other characters become `-`, it is cut,
and a digest of the whole original is appended, so two originals never share a name; the original
stays as `metadata.title`. Refs use the mapped names.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from .paths import page_url, service_page

API_VERSION = "backstage.io/v1alpha1"
DEFAULT_LIFECYCLE = "production"
UNOWNED = "unowned"  # the Group of the services nobody owns
MAX_NAME = 63
PREFIX = "pipeline-docs"  # of our annotation keys: `pipeline-docs/version.<environment>`
VERSION_KEY = "version."
READ_KEY = "earlier-read."  # its repo unreadable now: when an earlier build read what is shown
SOURCE_LOCATION = "backstage.io/source-location"
PART_OF = "app.kubernetes.io/part-of"
DIGEST_CHARS = 8
_NAME = re.compile(r"[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*")
_OUTSIDE = re.compile(r"[^A-Za-z0-9_.-]+")
_SEPARATORS = re.compile(r"[-_.]{2,}")
_UNSAFE_URL = re.compile(r"[\x00-\x20\x7f-\x9f]")


def follows_rule(name: str, limit: int = MAX_NAME) -> bool:
    """Whether `name` is a Backstage entity name (or the name part of an annotation key)."""
    return 0 < len(name) <= limit and _NAME.fullmatch(name) is not None


def _mapped(original: str, limit: int, attempt: int) -> str:
    """`original` made into a name: other characters as `-`, cut, and a digest of the whole."""
    base = _SEPARATORS.sub(lambda m: m.group()[0], _OUTSIDE.sub("-", original)).strip("-_.")
    data = original.encode("utf-8", "surrogatepass") + (f"\0{attempt}".encode() if attempt else b"")
    digest = hashlib.sha256(data).hexdigest()[:DIGEST_CHARS]
    base = base[: limit - DIGEST_CHARS - 1].rstrip("-_.")
    return f"{base}-{digest}" if base else digest


def assign_names(
    originals: Iterable[str], limit: int = MAX_NAME, reserved: Iterable[str] = ()
) -> dict[str, str]:
    """Each original -> its name, unique whatever the case, none of them a `reserved` one.

    A name that follows the rule keeps itself (of two that differ only in case, the lowercase
    one, else the first sorted); every other is mapped. The result depends on the set of
    originals only, not on their order."""
    taken = {name.lower() for name in reserved}
    names: dict[str, str] = {}
    unique = sorted(set(originals))
    for original in sorted(unique, key=lambda o: (o != o.lower(), o)):
        if follows_rule(original, limit) and original.lower() not in taken:
            names[original] = original
            taken.add(original.lower())
    for original in unique:
        if original in names:
            continue
        for attempt in itertools.count():  # a digest's prefix met twice: another digest
            candidate = _mapped(original, limit, attempt)
            if candidate.lower() not in taken:
                break
        names[original] = candidate
        taken.add(candidate.lower())
    return names


def web_url(value: str | None) -> str | None:
    """An http(s) URL fit for a link, without credentials; None for anything else."""
    if not value or _UNSAFE_URL.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def email_of(contact: str | None) -> str | None:
    """The contact as an email address, when it is one (`mailto:` dropped)."""
    if not contact:
        return None
    address = contact.removeprefix("mailto:")
    local, at, domain = address.partition("@")
    if not at or not local or "@" in domain or any(c.isspace() or c in "<>,;:/" for c in address):
        return None
    labels = domain.split(".")
    return address if len(labels) > 1 and all(labels) else None


def _ref(kind: str, name: str) -> str:
    return f"{kind}:default/{name}"


def _metadata(name: str, original: str, description: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if name != original:
        metadata["title"] = original
    if description:
        metadata["description"] = description
    return metadata


def _entity(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _most(values: list[str]) -> str | None:
    """The value most often met; of equals, the one met last (latest in promotion order)."""
    counts = Counter(values)
    if not counts:
        return None
    best = max(counts.values())
    return next(v for v in reversed(values) if counts[v] == best)


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _with_links(
    metadata: dict[str, Any], annotations: dict[str, str], links: list[dict[str, str]]
) -> dict[str, Any]:
    if annotations:
        metadata["annotations"] = annotations
    if links:
        metadata["links"] = links
    return metadata


def _group(
    name: str, original: str, team: dict[str, Any] | None, owned: int, where: str, source: str
) -> dict[str, Any]:
    """A team of owners.yml, or an owner that names none (with where it was named)."""
    annotations: dict[str, str] = {}
    links: list[dict[str, str]] = []
    profile: dict[str, str] = {}
    if team is not None:
        description = f"Team of owners.yml: owns {_count(owned, 'service')}{where}."
        if team.get("name"):
            profile["displayName"] = str(team["name"])
        contact = team.get("contact")
        if email_of(contact):
            profile["email"] = str(email_of(contact))
        for key, title in (("contact", "Contact"), ("chat", "Chat"), ("oncall", "On call")):
            value = team.get(key)
            if not value or (key == "contact" and email_of(value)):
                continue
            url = web_url(value)
            if url is not None:
                links.append({"url": url, "title": title})
            else:
                annotations[f"{PREFIX}/{key}"] = str(value)
    else:
        description = (
            f"Owner named by {source or 'the env repos'}, not a team of owners.yml: "
            f"owns {_count(owned, 'service')}{where}."
        )
    spec: dict[str, Any] = {"type": "team", "children": []}
    if profile:
        spec["profile"] = profile
    metadata = _with_links(_metadata(name, original, description), annotations, links)
    return _entity("Group", metadata, spec)


def _unowned(owned: int, where: str) -> dict[str, Any]:
    description = (
        f"Not a team: the owner of {_count(owned, 'service')}{where}, whose owner is unknown or "
        "names no team of owners.yml (pipeline-docs check reports each)."
    )
    return _entity(
        "Group", _metadata(UNOWNED, UNOWNED, description), {"type": "team", "children": []}
    )


def entities(
    document: dict[str, Any],
    lifecycle: str = DEFAULT_LIFECYCLE,
    site_url: str = "",
    environment: str | None = None,
) -> list[dict[str, Any]]:
    """The Backstage entities of a catalog document: Groups, Systems, then Components, each
    sorted by name. With `environment`, only the services deployed there, with its version."""
    envs = {env["name"]: env for env in document["environments"]}
    env_keys = assign_names(envs, MAX_NAME - max(len(VERSION_KEY), len(READ_KEY)))
    where = f" in {environment}" if environment is not None else ""
    services = []
    for service in document["services"]:
        placed = [d for d in service["deployments"]
                  if environment is None or d["environment"] == environment]  # fmt: skip
        if placed:
            services.append((service, placed))
    teams = {team["id"]: team for team in document["teams"]}
    # owners that name no team (there is no owners.yml): Groups too, so every ref resolves
    strays = {s["owner"]: s.get("owner_source") or "" for s, _ in services if s["owner"]}
    groups = assign_names(set(teams) | set(strays), reserved=(UNOWNED,))
    systems = assign_names(p for _, placed in services for d in placed if (p := d.get("part_of")))
    components = assign_names(s["name"] for s, _ in services)
    owned: Counter[str] = Counter()
    members: dict[str, list[str]] = {}  # system -> the groups owning its components
    result: list[dict[str, Any]] = []
    for service, placed in services:
        owner = groups[service["owner"]] if service["owner"] else UNOWNED
        owned[owner] += 1
        part_of = _most([d["part_of"] for d in placed if d.get("part_of")])
        spec: dict[str, Any] = {"type": "service", "lifecycle": lifecycle,
                                "owner": _ref("group", owner)}  # fmt: skip
        if part_of is not None:
            spec["system"] = _ref("system", systems[part_of])
            members.setdefault(part_of, []).append(owner)
        result.append(_component(service, placed, components[service["name"]], spec, env_keys,
                                 envs, site_url))  # fmt: skip
    documents = [
        _group(groups[tid], tid, teams.get(tid), owned[groups[tid]], where, strays.get(tid, ""))
        for tid in groups
    ]
    if owned[UNOWNED]:
        documents.append(_unowned(owned[UNOWNED], where))
    for part_of, owners in members.items():
        # the Group owning most of its components (of equals, the first by name), else unowned
        counts = Counter(o for o in owners if o != UNOWNED)
        owner = min(counts, key=lambda o: (-counts[o], o)) if counts else UNOWNED
        description = (
            f"The services whose workloads are labelled {PART_OF}: {part_of} "
            f"({_count(len(owners), 'service')}{where})."
        )
        documents.append(_entity("System", _metadata(systems[part_of], part_of, description),
                                 {"owner": _ref("group", owner)}))  # fmt: skip
    kinds = {"Group": 0, "System": 1, "Component": 2}
    documents.extend(result)
    documents.sort(key=lambda e: (kinds[e["kind"]], e["metadata"]["name"].lower()))
    return documents


def _component(
    service: dict[str, Any],
    placed: list[dict[str, Any]],
    name: str,
    spec: dict[str, Any],
    env_keys: dict[str, str],
    envs: dict[str, dict[str, Any]],
    site_url: str,
) -> dict[str, Any]:
    annotations: dict[str, str] = {}
    links: list[dict[str, str]] = []
    runs = []
    versions: dict[str, list[str]] = {}  # per environment: more than one in two namespaces
    for d in placed:
        version = d["version"]
        runs.append(f"{d['environment']} ({version if version is not None else 'version unknown'})")
        if version is not None and str(version) not in versions.setdefault(d["environment"], []):
            versions[d["environment"]].append(str(version))
        earlier = envs.get(d["environment"], {}).get("earlier")
        if earlier:  # its repo unreadable now: the version an earlier build read, and when
            annotations[f"{PREFIX}/{READ_KEY}{env_keys[d['environment']]}"] = str(earlier["read"])
    for env, shown in versions.items():
        if shown:
            annotations[f"{PREFIX}/{VERSION_KEY}{env_keys[env]}"] = ", ".join(shown)
    if service["owner"] is None and service.get("declared_owner"):
        annotations[f"{PREFIX}/declared-owner"] = str(service["declared_owner"])
    source = web_url(service.get("repository"))
    page = web_url(f"{site_url.rstrip('/')}/{page_url(service_page(service['name']))}")
    if site_url and page is not None:
        links.append({"url": page, "title": "Catalog page"})
    if source is not None:
        annotations[SOURCE_LOCATION] = f"url:{source}"
        links.append({"url": source, "title": "Source repository"})
    repos: dict[str, list[str]] = {}
    for d in placed:
        web = web_url(envs.get(d["environment"], {}).get("web"))
        if web is not None:
            repos.setdefault(web, []).append(d["environment"])
    for web, names in repos.items():
        links.append({"url": web, "title": f"Environment repo: {', '.join(names)}"})
    description = f"Runs in {', '.join(runs)}."
    metadata = _with_links(_metadata(name, service["name"], description), annotations, links)
    return _entity("Component", metadata, spec)


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting also the strings YAML 1.2 reads as numbers (`3e45678`,
    `0o17`): Backstage reads YAML 1.2, where a commit hash version would be a float."""


_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|0o[0-7]+|0x[0-9a-fA-F]+)$"
    ),
    list("-+.0123456789"),
)


def backstage_yaml(
    document: dict[str, Any],
    lifecycle: str = DEFAULT_LIFECYCLE,
    site_url: str = "",
    environment: str | None = None,
) -> str:
    """The entities as multi-document YAML, each document starting with `---`."""
    return yaml.dump_all(
        entities(document, lifecycle, site_url, environment),
        Dumper=_Dumper,
        explicit_start=True,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 16,
    )
