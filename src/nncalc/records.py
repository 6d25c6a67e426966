"""Immutable records: named fields with equality, hashing and a repr, like ``@dataclass(frozen=True)``.

Equality is by value, field by field; NumPy arrays among the fields are compared whole
(same shape, equal elements), so records holding weights or traces compare as they read.

Made without generating code. A dataclass writes and compiles its methods each time its
module is imported (about five million instructions a class), and nncalc's data model is
imported at every start of a command a script may run thousands of times. Here the same
methods are shared by every record class and read the fields from ``_fields``.

Fields are the class's annotations, in order. A default is the class attribute of the
same name; ``default(factory)`` calls the factory for each new record.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any, TypeVar

R = TypeVar("R")


class FrozenInstanceError(AttributeError):
    """A field of a record was assigned or deleted."""


class default:
    """A default made anew for each record, by calling ``factory``."""

    __slots__ = ("factory",)

    def __init__(self, factory):
        self.factory = factory


def record(cls: type[R]) -> type[R]:
    """Make ``cls`` a record: an ``__init__`` taking its fields, frozen, compared field by field."""
    fields = tuple(inspect.get_annotations(cls))  # this class's own, in order; never evaluated
    defaults = {name: cls.__dict__[name] for name in fields if name in cls.__dict__}
    seen_default = False
    for name in fields:
        if name in defaults:
            seen_default = True
        elif seen_default:
            raise TypeError(f"{cls.__name__}: the field {name!r} has no default but follows one that has")
    for name, value in defaults.items():
        if isinstance(value, default):
            delattr(cls, name)
    cls._fields = fields
    cls._defaults = defaults
    for name, method in _METHODS.items():
        if name not in cls.__dict__:
            setattr(cls, name, method)
    return cls


def _init(self, *args: Any, **kwargs: Any) -> None:
    cls = type(self)
    fields = cls._fields
    if len(args) > len(fields):
        raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, {len(args)} were given")
    values = dict(zip(fields, args, strict=False))
    for name, value in kwargs.items():
        if name not in fields:
            raise TypeError(f"{cls.__name__}() got an unexpected argument {name!r}")
        if name in values:
            raise TypeError(f"{cls.__name__}() got {name!r} twice")
        values[name] = value
    for name in fields:
        if name not in values:
            if name not in cls._defaults:
                raise TypeError(f"{cls.__name__}() is missing {name!r}")
            value = cls._defaults[name]
            values[name] = value.factory() if isinstance(value, default) else value
        object.__setattr__(self, name, values[name])


def _values(self) -> tuple:
    return tuple(getattr(self, name) for name in type(self)._fields)


def _eq(self, other: object) -> bool:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return all(_equal(a, b) for a, b in zip(_values(self), _values(other), strict=True))


def _equal(a: Any, b: Any) -> bool:
    """Value equality of two fields, where ``==`` alone would not give one answer.

    A NumPy array's ``==`` is elementwise, and ``bool`` of it raises; arrays (also inside
    tuples and lists) are compared as a whole instead, by :func:`_arrays_equal`.
    """
    if a is b:
        return True
    if _is_array(a) or _is_array(b):
        return _arrays_equal(a, b)
    if type(a) in (tuple, list) and type(b) is type(a):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _is_array(value: Any) -> bool:
    # NumPy is not imported here: the records of a command that never loads it hold no array
    numpy = sys.modules.get("numpy")
    return numpy is not None and isinstance(value, numpy.ndarray)


_NUMBER_KINDS = frozenset("biufc")  # bool, signed and unsigned integers, floats, complex


def _arrays_equal(a: Any, b: Any) -> bool:
    """Equal shapes and equal elements: numbers by value (1 == 1.0), text only to text.

    An array never equals what is not one, and arrays whose dtypes cannot be compared
    (numbers and text) are simply unequal, never an error or a warning.
    """
    if not (_is_array(a) and _is_array(b)) or a.shape != b.shape:
        return False
    if a.dtype != b.dtype and not (a.dtype.kind in _NUMBER_KINDS and b.dtype.kind in _NUMBER_KINDS):
        return False
    return bool(sys.modules["numpy"].array_equal(a, b))


def _hash(self) -> int:
    return hash(_values(self))


def _repr(self) -> str:
    inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in type(self)._fields)
    return f"{type(self).__qualname__}({inner})"


def _setattr(self, name: str, value: Any) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


_METHODS = {
    "__init__": _init,
    "__eq__": _eq,
    "__hash__": _hash,
    "__repr__": _repr,
    "__setattr__": _setattr,
    "__delattr__": _delattr,
}


def replace(item: R, **changes: Any) -> R:
    """A copy of the record ``item`` with some fields changed."""
    values = {name: getattr(item, name) for name in type(item)._fields}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(item).__name__} has no field {sorted(unknown)[0]!r}")
    return type(item)(**{**values, **changes})
