"""The cache's codec: the readers it makes from a data class's field types take back what `dump`
wrote, and refuse a value of another type anywhere in it (a bool for an int, an int for a str, a
list item of the wrong type, a missing field), so that a cache file altered by hand reads as
nothing rather than as a wrong model."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from generator import codec
from generator.model import Change, Deployment, WorkloadRef


@dataclasses.dataclass(frozen=True)
class _Checked:
    count: int
    share: float
    names: tuple[str, ...] = ()
    maybe: str | None = None
    seen: dict[str, int] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("a count is never negative")


def _deployment() -> Deployment:
    ref = WorkloadRef(kind="Deployment", namespace="shop", name="cart", images=("r/cart:1",),
                      replicas=2, file="bundle.tar.gz:deploy.yaml", line=4)  # fmt: skip
    return Deployment(service="cart", environment="prod", version="1.2.0", owner="team-a",
                      owner_source="bundle", source="bundle", file="environment.yml", line=7,
                      images=("r/cart:1",), replicas=2, verified=True, cpu=1, memory=2**30,
                      workloads=(ref,), versions=("1.2.0", "1.2.1"))  # fmt: skip


def test_a_deployment_reads_back_as_it_was_dumped() -> None:
    deployment = _deployment()
    again = codec.load(Deployment, codec.dump(deployment))
    assert again == deployment
    assert type(again.images) is tuple and type(again.workloads[0]) is WorkloadRef
    assert type(again.cpu) is int  # a float field holding an int keeps it, as JSON did


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("line", "7"),  # a str for an int | None
        ("line", True),  # a bool is no int here
        ("service", 3),
        ("verified", 1),  # an int is no bool
        ("cpu", "1"),
        ("images", ["r/cart:1", 2]),  # an item of the wrong type
        ("images", "r/cart:1"),  # a str is not a list
        ("workloads", [{"kind": "Deployment"}]),  # a nested class with fields missing
    ],
)
def test_a_value_of_another_type_is_refused(field: str, value: Any) -> None:
    data = codec.dump(_deployment())
    data[field] = value
    with pytest.raises(ValueError):
        codec.load(Deployment, data)


def test_a_missing_field_is_refused_and_a_none_where_allowed_is_taken() -> None:
    data = codec.dump(Change("prod", "cart", None, "1.0.0", "ab12", "ann",
                             "2026-01-02T03:04:05+00:00", "a commit"))  # fmt: skip
    assert codec.load(Change, data).from_version is None
    del data["to_version"]
    with pytest.raises(ValueError):
        codec.load(Change, data)


def test_a_class_with_its_own_checks_is_made_through_its_init() -> None:
    made = codec.load(_Checked, {"count": 2, "share": 0.5, "names": ["a"], "maybe": None,
                                 "seen": {"a": 1}})  # fmt: skip
    assert made == _Checked(2, 0.5, ("a",), None, {"a": 1})
    with pytest.raises(ValueError, match="negative"):
        codec.load(_Checked, {"count": -1, "share": 1, "names": [], "maybe": "x", "seen": {}})
    with pytest.raises(ValueError):
        codec.load(_Checked, {"count": 1, "share": 1, "names": [], "maybe": 5, "seen": {}})


def test_replaced_is_dataclasses_replace() -> None:
    deployment = _deployment()
    made = codec.replaced(deployment, workloads=(), version="2.0.0")
    assert made == dataclasses.replace(deployment, workloads=(), version="2.0.0")
    assert type(made) is Deployment and hash(made) == hash(made)
    assert deployment.version == "1.2.0" and deployment.workloads  # the original as it was
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.version = "3"  # type: ignore[misc]  # still frozen
    checked = _Checked(2, 0.5)
    assert codec.replaced(checked, count=3) == _Checked(3, 0.5)
    with pytest.raises(ValueError, match="negative"):  # its checks run: made through __init__
        codec.replaced(checked, count=-1)
