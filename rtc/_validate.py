"""Argument checks shared by the whole library (no dependencies beyond numpy).

Python numbers and numpy scalars are accepted alike: ``np.int64(4)`` is an integer and
``np.float32(0.5)`` a real number wherever ``4`` or ``0.5`` is. Booleans are refused as numbers
(``True`` is an ``int`` subclass, but a flag passed where a count is expected is a bug).
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["is_integer", "is_real", "check_int"]


def is_integer(x) -> bool:
    """True for a Python or numpy integer scalar (``int``, ``np.int64``, ...), False for bools and everything else."""
    return isinstance(x, (numbers.Integral, np.integer)) and not isinstance(x, (bool, np.bool_))


def is_real(x) -> bool:
    """True for a Python or numpy real scalar (int or float kinds, numpy included), False for bools and complex."""
    return isinstance(x, (numbers.Real, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def check_int(x, name: str, *, minimum: int | None = None) -> int:
    """``x`` as a Python ``int``; TypeError naming ``name`` unless an integer scalar, ValueError if below ``minimum``."""
    if not is_integer(x):
        raise TypeError(f"{name} must be an int, got {type(x).__name__} {x!r}")
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(f"{name} must be ≥ {minimum}, got {x}")
    return x
