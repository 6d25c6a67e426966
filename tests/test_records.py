"""nncalc.records: immutable records behave as frozen dataclasses do, field for field."""

from __future__ import annotations

import dataclasses

import pytest

from nncalc.records import FrozenInstanceError, default, record, replace


@record
class Point:
    x: float
    y: float = 0.0
    tags: dict = default(dict)

    @property
    def norm(self) -> float:
        return (self.x**2 + self.y**2) ** 0.5


@dataclasses.dataclass(frozen=True)
class Reference:
    """The same fields as a frozen dataclass, to compare behaviour with."""

    x: float
    y: float = 0.0
    tags: dict = dataclasses.field(default_factory=dict)


def test_fields_by_position_keyword_and_default():
    assert (Point(3.0).x, Point(3.0).y, Point(3.0).tags) == (3.0, 0.0, {})
    assert Point(3.0, 4.0).norm == 5.0
    assert Point(y=2.0, x=1.0) == Point(1.0, 2.0)


def test_a_factory_default_is_new_for_each_record():
    first, second = Point(1.0), Point(1.0)
    assert first.tags == {} and first.tags is not second.tags


def test_equality_hash_and_repr_are_by_field_as_in_a_dataclass():
    assert Point(1.0, 2.0) == Point(1.0, 2.0)
    assert Point(1.0, 2.0) != Point(1.0, 3.0)
    assert Point(1.0) != Reference(1.0)  # another class is never equal
    assert hash(Point(1.0, 2.0, ())) == hash(Point(1.0, 2.0, ()))
    assert repr(Point(1.0, 2.0)) == repr(Reference(1.0, 2.0)).replace("Reference", "Point")


def test_fields_cannot_be_assigned_or_deleted():
    point = Point(1.0)
    with pytest.raises(FrozenInstanceError):
        point.x = 2.0
    with pytest.raises(FrozenInstanceError):
        del point.y
    assert isinstance(FrozenInstanceError(), AttributeError)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((), {}, "missing 'x'"),
        ((1.0, 2.0, {}, 4.0), {}, "takes 3 arguments"),
        ((1.0,), {"x": 2.0}, "'x' twice"),
        ((1.0,), {"z": 2.0}, "unexpected argument 'z'"),
    ],
)
def test_wrong_arguments_are_type_errors(args, kwargs, message):
    with pytest.raises(TypeError, match=message):
        Point(*args, **kwargs)
    with pytest.raises(TypeError):
        Reference(*args, **kwargs)


def test_replace_changes_only_the_fields_named():
    point = Point(1.0, 2.0, {"a": 1})
    moved = replace(point, y=5.0)
    assert (moved.x, moved.y, moved.tags) == (1.0, 5.0, {"a": 1})
    assert point.y == 2.0
    with pytest.raises(TypeError, match="no field 'z'"):
        replace(point, z=1.0)


def test_a_field_without_default_after_one_with_is_refused():
    with pytest.raises(TypeError, match="'b' has no default"):

        @record
        class Broken:
            a: int = 0
            b: int
