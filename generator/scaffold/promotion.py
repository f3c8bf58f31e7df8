"""The promotion order, guessed from the environments' names.

A name is split into words at `-`, `_` and `.`; the first word that names a stage gives its
rank (`dev` before `test` before `staging` before `prod`). Each environment promotes from those
of the rank before it in its family (the environments of one repo, or the repos that are one
environment each); a name with no stage word is a root of its own, and said to be a guess."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

STAGES = (
    ("dev", "development", "develop"),
    ("test", "testing", "qa", "int", "integration", "sit"),
    ("staging", "stage", "preprod", "preproduction", "uat"),
    ("prod", "production"),
)
RANKS = {word: rank for rank, words in enumerate(STAGES) for word in words}
PRODUCTION = len(STAGES) - 1
_WORDS = re.compile(r"[-_.]+")


def stage_rank(name: str) -> int | None:
    """The stage a name says (0 for dev ... 3 for prod), or None when it names none."""
    words = [w for w in _WORDS.split(name.lower()) if w]
    for index, word in enumerate(words):
        pair = word + words[index + 1] if index + 1 < len(words) else ""
        if pair in RANKS:  # pre-prod
            return RANKS[pair]
        if word in RANKS:
            return RANKS[word]
    return None


@dataclass(frozen=True)
class Placed:
    """An environment in the guessed order: its upstreams, and whether its place is a guess."""

    index: int  # in the list given
    rank: int | None
    promotes_from: tuple[int, ...]  # indexes in the list given
    guessed: bool


def guess_order(bases: Sequence[str], families: Sequence[str]) -> list[Placed]:
    """The environments (by the word their stage is read from, and their family) in promotion
    order: family by family as they first come, each by rank, the unknown ones last; each
    promotes from every environment of its family at the nearest lower rank."""
    ranks = [stage_rank(base) for base in bases]
    order = list(dict.fromkeys(families))
    placed: list[Placed] = []
    for family in order:
        members = [i for i, f in enumerate(families) if f == family]
        rank_of = {i: r for i in members if (r := ranks[i]) is not None}
        known = sorted(rank_of, key=lambda i: (rank_of[i], i))
        for i in known:
            lower = [rank_of[j] for j in known if rank_of[j] < rank_of[i]]
            ups = tuple(j for j in known if lower and rank_of[j] == max(lower))
            placed.append(Placed(i, rank_of[i], ups, guessed=False))
        placed += [Placed(i, None, (), guessed=True) for i in members if ranks[i] is None]
    return placed
