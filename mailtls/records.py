"""``@record``: a frozen dataclass that is cheap to define (issue 8).

``@dataclass(frozen=True)`` compiles six small functions per class with ``exec``
(``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__``, ``__delattr__``; four
more with ``order=True``). On Python 3.11 that is about 1 ms per class: the classes a check
imports cost ~35 ms of a 0.25 s run, most of it before the first connection.

``record`` behaves as ``@dataclass(frozen=True)`` (``order=True`` as well) and compiles
nothing: the methods are plain functions made once per class, with the same behaviour —
``__init__`` with the same parameters, defaults, factories and errors; equality and hashing
over the compared fields as tuples, ``NotImplemented`` for another class; tuple ordering;
``FrozenInstanceError`` on assignment or deletion; the same ``repr``. ``dataclasses`` still
collects the fields, so ``fields()``, ``replace()``, ``asdict()``, ``is_dataclass()``,
pickling and type checkers (through ``dataclass_transform``) work unchanged;
``tests/test_records.py`` holds the two side by side. Fields may use ``default``,
``default_factory``, ``repr=False`` and ``compare=False``; ``__post_init__``, ``InitVar``,
``kw_only`` and ``slots`` are not supported (use ``@dataclass`` for those).
"""

from __future__ import annotations

import dataclasses
import reprlib
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar, dataclass_transform, overload

__all__ = ["record"]

_REQUIRED = object()  # a field without default in the __init__ template, until given
_FACTORY = object()  # a field whose default comes from its factory, until given

T = TypeVar("T", bound=type)


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, order: bool = False) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: Any = None, /, *, order: bool = False) -> Any:
    """Make ``cls`` a frozen dataclass (with ordering when ``order=True``)."""

    def wrap(cls: T) -> T:
        made: T = _make(cls, order)
        return made

    return wrap if cls is None else wrap(cls)


def _make(cls: Any, order: bool) -> Any:
    own = cls.__dict__
    for name in ("__post_init__", "__setattr__", "__delattr__", "__eq__", "__hash__"):
        if name in own:
            raise TypeError(f"@record {cls.__qualname__}: defines {name}; use @dataclass")
    if own.get("__doc__") is None:
        # Said before dataclasses sees the class: without a docstring it would compute
        # one from inspect.signature(), which tokenizes text (~5 ms the first time).
        declared = [
            n for n, v in own.get("__annotations__", {}).items() if "ClassVar" not in str(v)
        ]
        cls.__doc__ = f"{cls.__name__}({', '.join(declared)})"
    cls = dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cls)
    for f in fields:
        if not f.init or f.kw_only is True:
            raise TypeError(f"@record {cls.__qualname__}.{f.name}: init=False/kw_only unsupported")
    names = tuple(f.name for f in fields)
    compared = tuple(f.name for f in fields if f.compare)
    hashed = tuple(f.name for f in fields if (f.compare if f.hash is None else f.hash))
    shown = tuple(f.name for f in fields if f.repr)

    cls.__init__ = _init(cls, fields)
    cls.__repr__ = _repr
    cls.__eq__ = _eq
    cls.__hash__ = _hash
    cls.__setattr__ = _frozen_setattr(cls, names)
    cls.__delattr__ = _frozen_delattr(cls, names)
    cls._record_shown = shown
    cls._record_compared = staticmethod(_tuple_getter(compared))
    cls._record_hashed = staticmethod(_tuple_getter(hashed))
    if order:
        for name, method in _ORDER.items():
            if name in own:
                raise TypeError(f"@record(order=True) {cls.__qualname__}: defines {name}")
            setattr(cls, name, method)
    return cls


def _tuple_getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if not names:
        return lambda _obj: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda obj: (one(obj),)
    return attrgetter(*names)


def _init(cls: Any, fields: tuple[dataclasses.Field[Any], ...]) -> Callable[..., None]:
    """``__init__`` for the class: the same parameters and errors as the generated one.

    The instance's ``__dict__`` is a copy of a template in field order (defaults filled in)
    updated with the arguments: a few C calls whatever the number of fields. Python loops
    run only when some field is left to its default factory or may be missing.
    """
    names = tuple(f.name for f in fields)
    count = len(names)
    template: dict[str, Any] = {}
    required: list[str] = []
    factories: list[tuple[str, Callable[[], Any]]] = []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            template[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            template[f.name] = _FACTORY
            factories.append((f.name, f.default_factory))
        else:
            if len(required) < len(template):
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
            template[f.name] = _REQUIRED
            required.append(f.name)
    where = f"{cls.__qualname__}.__init__()"
    set_dict = object.__setattr__
    least = len(required)
    #: The required fields a call with N positional arguments must name as keywords.
    required_after = [frozenset(required[n:]) for n in range(least + 1)]

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = template.copy()
        given = len(args)
        if given:
            if given > count or (kwargs and not kwargs.keys().isdisjoint(names[:given])):
                _refuse(args, kwargs)
            values.update(zip(names, args, strict=False))
        if kwargs:
            values.update(kwargs)
            if len(values) != count:
                _refuse(args, kwargs)
        if given + len(kwargs) < count:  # some fields take their default, or are missing
            if given < least and not kwargs.keys() >= required_after[given]:
                _refuse(args, kwargs)
            for name, factory in factories:
                if values[name] is _FACTORY:
                    values[name] = factory()
        set_dict(self, "__dict__", values)

    def _refuse(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Raise the TypeError Python gives for these arguments."""
        if len(args) > count:
            takes = f"from {least + 1} to {count + 1}" if least < count else str(count + 1)
            raise TypeError(
                f"{where} takes {takes} positional arguments but {len(args) + 1} were given"
            )
        for key in kwargs:
            if key in names[: len(args)]:
                raise TypeError(f"{where} got multiple values for argument {key!r}")
            if key not in names:
                raise TypeError(f"{where} got an unexpected keyword argument {key!r}")
        missing = [repr(name) for name in required[len(args) :] if name not in kwargs]
        if len(missing) == 1:
            listed = missing[0]
        else:
            comma = "," if len(missing) > 2 else ""
            listed = ", ".join(missing[:-1]) + f"{comma} and {missing[-1]}"
        plural = "argument" if len(missing) == 1 else "arguments"
        raise TypeError(f"{where} missing {len(missing)} required positional {plural}: {listed}")

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__module__ = cls.__module__
    return __init__


@reprlib.recursive_repr()
def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._record_shown)
    return f"{self.__class__.__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        return self._record_compared(self) == other._record_compared(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self._record_hashed(self))


def _ordering(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], Any]:
    def method(self: Any, other: Any) -> Any:
        if other.__class__ is self.__class__:
            return compare(self._record_compared(self), other._record_compared(other))
        return NotImplemented

    return method


_ORDER = {
    "__lt__": _ordering(lambda a, b: a < b),
    "__le__": _ordering(lambda a, b: a <= b),
    "__gt__": _ordering(lambda a, b: a > b),
    "__ge__": _ordering(lambda a, b: a >= b),
}


def _frozen_setattr(cls: Any, names: tuple[str, ...]) -> Callable[[Any, str, Any], None]:
    fields = frozenset(names)

    def __setattr__(self: Any, name: str, value: Any) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    return __setattr__


def _frozen_delattr(cls: Any, names: tuple[str, ...]) -> Callable[[Any, str], None]:
    fields = frozenset(names)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in fields:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    return __delattr__
