"""What `init` guesses from the sources: the schemas folder, the template folders, and the
environments in promotion order with unique names."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .envrepos import Found, clean_name, env_repos, environments_of
from .promotion import PRODUCTION, guess_order, stage_rank
from .schemas import SchemaFolder, schema_folders
from .templates import TemplateEntry, template_entries
from .walk import Source


@dataclass(frozen=True)
class Environment:
    """An environment as the config will name it, with why it is where it is."""

    name: str
    found: Found
    promotes_from: tuple[str, ...]
    rank: int | None
    production: bool | None  # written out when the name alone would say otherwise


@dataclass
class Plan:
    """Everything guessed, before anything is written."""

    sources: list[Source]
    schemas: list[SchemaFolder] = field(default_factory=list)  # the chosen one first
    suites: list[str] = field(default_factory=list)  # test suites left out, as the config names
    templates: list[TemplateEntry] = field(default_factory=list)
    environments: list[Environment] = field(default_factory=list)

    @property
    def guessed(self) -> list[Environment]:
        """The environments whose place in the order is a guess (no stage word in the name)."""
        return [e for e in self.environments if e.rank is None]


def relative(out: Path, source: Source, path: str) -> str:
    """A path of a source as the config at `out` names it (a folder ends in `/`)."""
    target = source.root / path if path else source.root
    shown = Path(os.path.relpath(target, out)).as_posix()
    return f"{shown}/" if target.is_dir() else shown


def unique_names(found: list[Found]) -> list[str]:
    """Each environment's name: its folder's (or repo's); where names clash between repos,
    the repo with the longest promotion chain keeps its names (the first of them on a tie) and
    every environment of the others is prefixed with its repo's name; names that still clash
    in one repo get the folder where their paths part; then a number."""
    names = [f.base for f in found]
    repos = [(id(f.source), f.repo) for f in found]
    owners: dict[str, set[tuple[int, str]]] = {}
    for name, repo in zip(names, repos, strict=True):
        owners.setdefault(name, set()).add(repo)
    clashing = {repo for group in owners.values() if len(group) > 1 for repo in group}
    staged = Counter(r for f, r in zip(found, repos, strict=True) if stage_rank(f.base) is not None)
    if clashing:  # dict order is the order found: max() keeps the first of a tie
        clashing.discard(
            max(dict.fromkeys(r for r in repos if r in clashing), key=staged.__getitem__)
        )
    names = [
        clean_name(f"{f.repo_name}-{name}") if repo in clashing and f.path else name
        for f, name, repo in zip(found, names, repos, strict=True)
    ]
    before = list(names)
    counts = Counter(before)
    for index, entry in enumerate(found):
        if counts[before[index]] < 2:
            continue
        # within one repo: by the first folder where the clashing paths part
        paths = [PurePosixPath(f.path).parts for f, n in zip(found, before, strict=True)
                 if n == before[index]]  # fmt: skip
        depth = next(
            (i for i in range(min(map(len, paths))) if len({p[i] for p in paths}) > 1), None
        )
        parts = PurePosixPath(entry.path).parts
        if depth is not None and depth < len(parts) - 1:
            names[index] = clean_name(f"{parts[depth]}-{names[index]}")
    seen: Counter[str] = Counter()
    for index, name in enumerate(list(names)):
        seen[name] += 1
        if seen[name] > 1:
            names[index] = f"{name}-{seen[name]}"
    return names


def make_plan(sources: list[Source], out: Path) -> Plan:
    """The guesses for these sources, for a config at `out`."""
    plan = Plan(sources)
    for source in sources:
        folders, suites = schema_folders(source)
        plan.schemas += folders
        plan.suites += [relative(out, source, suite) for suite in suites]
        plan.templates += template_entries(source)
    plan.schemas.sort(key=lambda f: f.rank)
    found: list[Found] = []
    for source in sources:
        for repo, files in env_repos(source).items():
            found += environments_of(source, repo, files)
    names = unique_names(found)
    per_repo = Counter((id(f.source), f.repo) for f in found)
    families = [
        f"{id(f.source)}:{f.repo}" if per_repo[(id(f.source), f.repo)] > 1 else "" for f in found
    ]
    for placed in guess_order([f.base for f in found], families):
        name = names[placed.index]
        says = placed.rank == PRODUCTION
        default = name.lower().startswith("prod")
        plan.environments.append(Environment(
            name, found[placed.index], tuple(names[i] for i in placed.promotes_from),
            placed.rank, says if says != default else None,
        ))  # fmt: skip
    return plan
