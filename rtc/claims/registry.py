"""The claims registry (``registry.toml`` beside this file), read and checked: every threshold of the book's verdicts
(:func:`threshold_values`, the defaults of :class:`rtc.claims.Thresholds`) and every claim of the training chapters
(:func:`claim_spec`: the paper's words and place, the quantity, estimand, rule, threshold, side, the date it was
fixed, whether results had been seen by then, the rule it replaced, and whether it is the primary endpoint).

The registry is data so that one file says what each verdict is judged by; a claim function asks it for its
threshold's name and side (:func:`claim_spec`) instead of typing them, and :func:`registry_table` is what the
chapters print. A malformed registry (a missing field, a claim naming an unknown threshold, an unknown side) raises
:class:`RegistryError` naming the entry.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

__all__ = ["REGISTRY_PATH", "RegistryError", "ClaimSpec", "load_registry", "threshold_values", "claim_spec",
           "claim_specs", "registry_table", "CHAPTERS", "SIDES"]

REGISTRY_PATH = Path(__file__).with_name("registry.toml")
CHAPTERS = ("comparison", "disintegration")
# Where a claim's quantity must lie against its threshold: above, below, inside ±threshold, or below −threshold
# with inside ±threshold refuting ("band": a strong negative rank correlation).
SIDES = ("above", "below", "inside", "band")
_THRESHOLD_FIELDS = {"value", "fixed", "seen", "means"}
_CLAIM_FIELDS = {"claim", "paper", "place", "quantity", "estimand", "rule", "threshold", "side", "fixed", "seen",
                 "primary"}


class RegistryError(ValueError):
    """The claims registry is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the registry (``[claims.<chapter>.<name>]``); ``was``: "" where no earlier rule was replaced."""
    chapter: str
    name: str
    claim: str
    paper: str
    place: str
    quantity: str
    estimand: str
    rule: str
    threshold: str
    side: str
    fixed: str
    seen: bool
    primary: bool
    was: str = ""


def _check_entry(kind: str, name: str, entry, required: set) -> None:
    if not isinstance(entry, dict):
        raise RegistryError(f"registry {kind} {name!r} must be a table, got {type(entry).__name__}")
    missing = sorted(required - set(entry))
    if missing:
        raise RegistryError(f"registry {kind} {name!r} lacks {missing}")
    unknown = sorted(set(entry) - required - {"was"})
    if unknown:
        raise RegistryError(f"registry {kind} {name!r} has unknown fields {unknown}")
    for key in ("seen", "primary"):
        if key in entry and not isinstance(entry[key], bool):
            raise RegistryError(f"registry {kind} {name!r}: {key} must be true or false, got {entry[key]!r}")


def parse_registry(data: dict) -> tuple[dict, dict]:
    """(thresholds: name → entry dict, claims: (chapter, name) → :class:`ClaimSpec`) of a parsed registry."""
    if not isinstance(data, dict) or set(data) != {"thresholds", "claims"}:
        raise RegistryError(f"the registry needs exactly [thresholds] and [claims], got {sorted(data)}")
    thresholds = data["thresholds"]
    for name, entry in thresholds.items():
        _check_entry("threshold", name, entry, _THRESHOLD_FIELDS)
        v = entry["value"]
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise RegistryError(f"registry threshold {name!r}: value must be a number, got {v!r}")
    claims = {}
    for chapter, entries in data["claims"].items():
        if chapter not in CHAPTERS:
            raise RegistryError(f"registry claims of unknown chapter {chapter!r}; chapters are {CHAPTERS}")
        for name, entry in entries.items():
            _check_entry("claim", f"{chapter}.{name}", entry, _CLAIM_FIELDS)
            if entry["threshold"] not in thresholds:
                raise RegistryError(f"registry claim {chapter}.{name} names threshold {entry['threshold']!r}, "
                                    "which [thresholds] does not define")
            if entry["side"] not in SIDES:
                raise RegistryError(f"registry claim {chapter}.{name}: side must be one of {SIDES}, "
                                    f"got {entry['side']!r}")
            claims[(chapter, name)] = ClaimSpec(chapter=chapter, name=name, **entry)
    return thresholds, claims


@lru_cache(maxsize=1)
def load_registry(path: str | Path = REGISTRY_PATH) -> tuple[dict, dict]:
    """The registry at ``path`` (default: the package's ``registry.toml``), parsed and checked
    (:func:`parse_registry`); a file that is not TOML raises :class:`RegistryError` naming it."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise RegistryError(f"the claims registry {path} is not valid TOML: {e}") from None
    return parse_registry(data)


def threshold_values() -> dict:
    """Threshold name → its value, as the registry fixes it."""
    return {k: v["value"] for k, v in load_registry()[0].items()}


def claim_spec(chapter: str, name: str) -> ClaimSpec:
    """The registry's entry for claim ``name`` of ``chapter``; KeyError naming the ones there are."""
    claims = load_registry()[1]
    if (chapter, name) not in claims:
        raise KeyError(f"no claim {name!r} of {chapter!r} in the registry; it has "
                       f"{[n for c, n in claims if c == chapter]}")
    return claims[(chapter, name)]


def claim_specs(chapter: str) -> dict[str, ClaimSpec]:
    """Every claim of ``chapter``, by name, in the registry's order."""
    return {n: s for (c, n), s in load_registry()[1].items() if c == chapter}


def registry_table(chapter: str, thresholds=None) -> pd.DataFrame:
    """What a chapter prints of the registry: one row per claim of ``chapter`` — the claim, the paper's words and
    where they stand, the quantity, the rule, the threshold (name = value, from ``thresholds``, an
    :class:`rtc.claims.Thresholds`; default the registry's), when it was fixed (with "after results were seen"
    where so, and the rule it replaced), and whether it is the primary endpoint."""
    values = threshold_values() if thresholds is None else {k: getattr(thresholds, k) for k in threshold_values()}
    rows = []
    for s in claim_specs(chapter).values():
        fixed = s.fixed + (" — after results were seen" if s.seen else "")
        rows.append({"claim": s.claim, "the paper": f"“{s.paper}” ({s.place})", "quantity": s.quantity,
                     "rule": s.rule, "threshold": f"{s.threshold} = {values[s.threshold]:g} ({s.side})",
                     "fixed": fixed + (f"; before: {s.was}" if s.was else ""), "primary": "yes" if s.primary else ""})
    return pd.DataFrame(rows, columns=["claim", "the paper", "quantity", "rule", "threshold", "fixed", "primary"])
