"""``@record`` behaves as ``@dataclass(frozen=True)``: the two side by side."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtls import model
from mailtls.records import record


@dataclass(frozen=True, order=True)
class DPoint:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict, compare=False)
    secret: bytes = field(default=b"", repr=False, compare=False)


@record(order=True)
class RPoint:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    extra: dict[str, int] = field(default_factory=dict, compare=False)
    secret: bytes = field(default=b"", repr=False, compare=False)


@dataclass(frozen=True)
class DEmpty:
    pass


@record
class REmpty:
    pass


@dataclass(frozen=True)
class DOne:
    only: Any


@record
class ROne:
    only: Any


@dataclass(frozen=True)
class DThree:
    a: int
    b: int
    c: int


@record
class RThree:
    a: int
    b: int
    c: int


def both(*args: Any, **kwargs: Any) -> tuple[DPoint, RPoint]:
    return DPoint(*args, **kwargs), RPoint(*args, **kwargs)


def same_shape(d: object, r: object) -> None:
    assert repr(d).replace("DPoint", "RPoint") == repr(r)


values = st.integers(-3, 3)
points = st.tuples(values, values, st.lists(st.sampled_from("ab"), max_size=2).map(tuple))


@given(points, points)
def test_equality_hash_and_order_match_dataclasses(a: Any, b: Any) -> None:
    da, ra = both(*a, extra={"n": 1}, secret=b"k")
    db, rb = both(*b)
    assert (da == db) is (ra == rb)
    assert (da != db) is (ra != rb)
    assert (hash(da) == hash(db)) is (hash(ra) == hash(rb)) or da != db
    assert hash(da) == hash(DPoint(*a)) and hash(ra) == hash(RPoint(*a))
    for op in ("__lt__", "__le__", "__gt__", "__ge__"):
        assert getattr(da, op)(db) is getattr(ra, op)(rb)
    assert sorted([db, da]) == sorted([da, db])
    assert [p.x for p in sorted([rb, ra])] == [p.x for p in sorted([db, da])]


def test_repr_defaults_factories_and_fields() -> None:
    d, r = both(1, tags=("a",), secret=b"hidden")
    same_shape(d, r)
    assert "secret" not in repr(r) and repr(r) == "RPoint(x=1, y=0, tags=('a',), extra={})"
    assert RPoint(1).extra is not RPoint(1).extra  # a new dict each time
    assert [f.name for f in dataclasses.fields(RPoint)] == [
        f.name for f in dataclasses.fields(DPoint)
    ]
    assert dataclasses.is_dataclass(r) and RPoint.__match_args__ == DPoint.__match_args__
    assert dataclasses.asdict(r) == dataclasses.asdict(d)
    assert dataclasses.replace(r, y=5) == RPoint(1, 5, ("a",))
    assert repr(REmpty()) == "REmpty()" and REmpty() == REmpty() and hash(REmpty()) == hash(())
    assert ROne(1) == ROne(1) and ROne(1) != ROne(2) and hash(ROne(1)) == hash(DOne(1))
    other: Any = DOne(1)
    assert (ROne(1) == other) is False and ROne(1).__eq__(other) is NotImplemented


def test_frozen_like_dataclasses() -> None:
    d, r = both(1)
    obj: Any
    for obj in (d, r):
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'x'"):
            obj.x = 2
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'z'"):
            obj.z = 2
        with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'x'"):
            del obj.x


def test_init_errors_like_dataclasses() -> None:
    for cls in (DPoint, RPoint):
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
            cls()  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="unexpected keyword argument 'w'"):
            cls(1, w=2)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="multiple values for argument 'x'"):
            cls(1, x=2)  # type: ignore[misc]
        with pytest.raises(
            TypeError, match="takes from 2 to 6 positional arguments but 7 were given"
        ):
            cls(1, 2, (), {}, b"", 6)  # type: ignore[call-arg]
    for three in (DThree, RThree):
        with pytest.raises(
            TypeError, match="missing 3 required positional arguments: 'a', 'b', and 'c'"
        ):
            three()  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="missing 2 required positional arguments: 'b' and 'c'"):
            three(1)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'b'"):
            three(1, c=3)  # type: ignore[call-arg]
        assert three(1, c=3, b=2) == three(a=1, b=2, c=3) == three(1, 2, 3)
        assert list(vars(three(c=3, b=2, a=1))) == ["a", "b", "c"]  # field order kept
        with pytest.raises(TypeError, match="takes 4 positional arguments but 5 were given"):
            three(1, 2, 3, 4)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="mutable default"):

        @record
        class Bad:
            items: list[int] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'y' follows default argument"):

        @record
        class Bad2:
            x: int = 0
            y: int  # type: ignore[misc]


def test_refuses_what_it_does_not_support() -> None:
    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class WithPostInit:
            x: int

            def __post_init__(self) -> None:
                pass


def test_pickle_and_copy_round_trip() -> None:
    report = model.Endpoint("imaps", "mail.example.test", 993, "127.0.0.1")
    assert pickle.loads(pickle.dumps(report)) == report
    assert copy.deepcopy(report) == report and copy.copy(report) == report


def test_recursive_repr_does_not_loop() -> None:
    inner: list[Any] = []
    r = ROne(inner)
    inner.append(r)
    assert repr(r) == "ROne(only=[...])"


def test_model_classes_are_records_with_dataclass_behaviour() -> None:
    a = model.Endpoint("imaps", "a.example", 993)
    b = model.Endpoint("imap", "a.example", 143)
    assert sorted([a, b]) == [b, a]  # ordered by scheme first, as the fields are declared
    assert {a: 1}[model.Endpoint("imaps", "a.example", 993)] == 1
    assert a.with_address("127.0.0.1") == dataclasses.replace(a, address="127.0.0.1")
    info = model.CertificateInfo.__dataclass_fields__["der"]
    assert info.compare is False and info.repr is False
