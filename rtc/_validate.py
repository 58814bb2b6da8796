"""Argument checks shared by the whole library (no dependencies beyond numpy).

Python numbers and numpy scalars are accepted alike: ``np.int64(4)`` is an integer and
``np.float32(0.5)`` a real number wherever ``4`` or ``0.5`` is. Booleans are refused as numbers
(``True`` is an ``int`` subclass, but a flag passed where a count is expected is a bug).
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import types
import typing
from collections.abc import Mapping

import numpy as np

__all__ = ["is_integer", "is_real", "check_int", "check_real", "fits", "Config", "ConfigError"]


def is_integer(x) -> bool:
    """True for a Python or numpy integer scalar (``int``, ``np.int64``, ...), False for bools and everything else."""
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


def is_real(x) -> bool:
    """True for a Python or numpy real scalar (int or float kinds, numpy included), False for bools and complex."""
    return isinstance(x, (numbers.Real, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def check_int(x, name: str, *, minimum: int | None = None) -> int:
    """``x`` as a Python ``int``; TypeError naming ``name`` unless an integer scalar, ValueError if below
    ``minimum``."""
    if not is_integer(x):
        raise TypeError(f"{name} must be an int, got {type(x).__name__} {x!r}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {x}")
    return x


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong type; the message names the file and the field."""


def _type_name(tp) -> str:
    if tp is type(None):
        return "None"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_type_name(args[0])}"
        return f"a list of {len(args)} ({', '.join(_type_name(a) for a in args)})"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string", tuple: "a list",
            list: "a list", dict: "a mapping"}.get(origin or tp, getattr(tp, "__name__", str(tp)))


def fits(tp, value) -> bool:
    """Does a parsed YAML/JSON ``value`` fit the type annotation ``tp``?

    ``int`` takes integers (not bools), ``float`` any real number but a bool, ``bool`` only a bool,
    ``tuple[...]`` a list or tuple of fitting items (of the stated length unless ``tuple[X, ...]``),
    unions any member; ``None`` fits only an annotation that includes ``None``.
    """
    if tp is typing.Any:
        return True
    if tp is None or tp is type(None):
        return value is None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(fits(a, value) for a in args)
    if origin is typing.Literal:
        return value in args
    if tp is bool:
        return isinstance(value, (bool, np.bool_))
    if tp is int:
        return is_integer(value)
    if tp is float:
        return is_real(value)
    if tp is str:
        return isinstance(value, str)
    if (origin or tp) in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(fits(args[0], v) for v in value)
        if (origin or tp) is list:
            return all(fits(args[0], v) for v in value)
        return len(value) == len(args) and all(fits(a, v) for a, v in zip(args, value, strict=True))
    if (origin or tp) is dict:
        return isinstance(value, dict)
    return isinstance(value, origin or tp)


def _describe(value) -> str:
    return f"{type(value).__name__} {value!r}"


class Config:
    """Base of the library's frozen configuration dataclasses (training, evaluation, grids, thresholds).

    A subclass is a ``@dataclass(frozen=True)`` whose ``__post_init__`` checks ranges;
    :meth:`from_mapping` builds one from a parsed YAML/JSON mapping and names the offending
    field — ``where: key`` — for an unknown key, a value of the wrong type or a value out of range.
    """

    @classmethod
    def from_mapping(cls, data, *, where: str | None = None, exclude=()):
        """``cls(**data)`` after checking every key against the dataclass fields and their annotations.

        ``exclude``: field names the mapping may not set (they come from elsewhere, e.g. a grid's
        ``model`` / ``strength`` / ``seed``). Lists become tuples where the field is a tuple.
        Raises :class:`ConfigError` (a ``ValueError``) naming ``where`` and the field.
        """
        where = where or cls.__name__
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a mapping of {cls.__name__} fields, got {_describe(data)}")
        hints = typing.get_type_hints(cls)
        fields = {f.name for f in dataclasses.fields(cls) if f.name not in exclude}
        required = [f.name for f in dataclasses.fields(cls) if f.name in fields and f.default is dataclasses.MISSING
                    and f.default_factory is dataclasses.MISSING]
        missing = [k for k in required if k not in data]
        if missing:
            raise ConfigError(f"{where}: missing {missing[0]!r}")
        kwargs = {}
        for key, value in data.items():
            if key not in fields:
                raise ConfigError(f"{where}: unknown key {key!r}; allowed: {', '.join(sorted(fields))}")
            tp = hints[key]
            if not fits(tp, value):
                raise ConfigError(f"{where}: {key!r} must be {_type_name(tp)}, got {_describe(value)}")
            kwargs[key] = tuple(value) if isinstance(value, list) else value
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: {e}") from None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def check_real(x, name: str, *, minimum: float | None = None, positive: bool = False,
               allow_inf: bool = False) -> float:
    """``x`` as a Python ``float``; ValueError naming ``name`` unless a real number (finite unless ``allow_inf``)
    that is ≥ ``minimum`` (``> minimum`` when ``positive``; ``positive`` alone means > 0)."""
    if not is_real(x) or math.isnan(x) or (math.isinf(x) and not allow_inf):
        raise ValueError(f"{name} must be a {'' if allow_inf else 'finite '}number, got {x!r}")
    x = float(x)
    lo = 0.0 if minimum is None and positive else minimum
    if lo is not None and (x < lo or (positive and x <= lo)):
        raise ValueError(f"{name} must be {'>' if positive else '≥'} {lo:g}, got {x!r}")
    return x
