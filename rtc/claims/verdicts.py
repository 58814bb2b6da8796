"""Verdict rules: a quantity's interval against a threshold (:func:`interval_verdict`, :func:`band_verdict`,
:func:`equivalence_verdict`), half against end of training (:func:`convergence_verdict`), shares of cells
(:func:`fraction_verdict`), and the tables and agreement of verdicts a chapter shows."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import pandas as pd

from rtc._validate import is_real

from .intervals import Interval
from .thresholds import FEW, MOST, VERDICTS

__all__ = ["Observation", "interval_verdict", "band_verdict", "convergence_verdict", "trajectory_verdict",
           "budget_text", "with_budget",
           "fraction_verdict",
           "verdict_counts", "observation_texts", "threshold_text", "with_active", "verdict_table",
           "AGREEMENTS", "NOT_COMPUTED", "NOT_GLUED", "agreement", "stage_agreement", "compare_verdicts",
           "equivalence_verdict", "joint_verdict", "order_verdict", "all_cells_verdict", "below_band_verdict"]

# A verdict a chapter did not compute (the half-training one without snapshots), as glued and as tabled.
NOT_COMPUTED = "not computed"


@dataclass
class Observation:
    """One checked claim: ``verdict`` a word of :data:`VERDICTS`; ``summary`` the verdict with its
    qualification (what the book prints); ``evidence`` a sentence with the measured numbers;
    ``values`` those numbers by name (shares of cells in percent, 0–100; errors in nats).

    Claims judged by an interval also carry it: ``interval`` (:class:`Interval`, None where no run could be
    judged), the ``threshold`` it was held against, the number of ``seeds``, ``regime`` (e.g. "in band: 3 of 3
    runs" — the runs counted, and those shown but left out as outside the paper's regime) and ``half`` (the verdict
    from the runs' snapshots at half training, None where not computed).

    A claim on trained runs keeps its two verdicts apart as well: ``end``, the verdict at the end of training alone
    (None where the claim was not judged on training runs), and ``half``; ``verdict`` is the two combined
    (:func:`convergence_verdict`: "not converged" where one is confirmed and the other refuted), so that two builds
    can be compared on each (:func:`compare_verdicts`) — their words "not converged" may hide contradicting ends.
    ``images``: the images per run the verdict rests on (None: no training involved); ``plateau``: the word of
    :func:`rtc.claims.plateau_test` for its quantities along training (:func:`trajectory_verdict`)."""

    claim: str
    verdict: str
    summary: str
    evidence: str
    values: dict = field(default_factory=dict)
    interval: Interval | None = None
    threshold: float | None = None
    seeds: int | None = None
    regime: str = ""
    half: str | None = None
    end: str | None = None
    images: int | None = None
    plateau: str | None = None


def interval_verdict(interval: Interval | None, threshold: float, *, side: str) -> str:
    """The verdict on "the quantity is ``side`` ``threshold``" (side "above" or "below") from its interval:
    ``confirmed`` when the whole interval lies on that side, ``refuted`` when it lies wholly on the other side
    (touching the threshold counts as not on the claim's side), ``inconclusive`` when it straddles the threshold
    or there is no interval (None)."""
    if side not in ("above", "below"):
        raise ValueError(f"side must be 'above' or 'below', got {side!r}")
    if not is_real(threshold) or math.isnan(threshold):
        raise ValueError(f"threshold must be a number, got {threshold!r}")
    if interval is None:
        return "inconclusive"
    lo, hi = interval.lo, interval.hi
    if side == "below":
        lo, hi, threshold = -hi, -lo, -threshold
    if lo > threshold:
        return "confirmed"
    if hi <= threshold:
        return "refuted"
    return "inconclusive"


def band_verdict(interval: Interval | None, lo: float, hi: float) -> str:
    """The verdict on "the quantity lies inside (lo, hi)", e.g. "no strong correlation": |ρ| < 0.5 is the band
    (−0.5, 0.5). ``confirmed`` when the whole interval lies inside; ``refuted`` when it lies wholly beyond one
    bound (an interval that merely excludes 0 refutes nothing); ``inconclusive`` otherwise or without one."""
    if not (is_real(lo) and is_real(hi) and lo < hi):
        raise ValueError(f"need a band lo < hi, got ({lo!r}, {hi!r})")
    if interval is None:
        return "inconclusive"
    if lo < interval.lo and interval.hi < hi:
        return "confirmed"
    if interval.lo >= hi or interval.hi <= lo:
        return "refuted"
    return "inconclusive"


def convergence_verdict(full: str, half: str | None) -> str:
    """The verdict at the end of training, unless the runs' snapshots at half training give the opposite one:
    confirmed at one and refuted at the other is "not converged". ``half`` None (not computed) keeps ``full``."""
    for v in (full, half):
        if v is not None and v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; verdicts are {VERDICTS}")
    if {full, half} == {"confirmed", "refuted"}:
        return "not converged"
    return full


def trajectory_verdict(verdict: str, plateau: str | None) -> str:
    """A trained claim's verdict with its trajectory: ``verdict`` (at the end of training, after
    :func:`convergence_verdict`) stays when it is undecided, or when ``plateau`` — the word of
    :func:`rtc.claims.plateau_test` for the quantities the claim rests on — is "plateau"; a confirmed (refuted) claim
    whose quantities are not shown to plateau ("moving", "undecided", "too few snapshots", or None: not tested)
    reads "holds, still moving" ("not reproduced, still moving")."""
    if verdict not in VERDICTS:
        raise ValueError(f"unknown verdict {verdict!r}; verdicts are {VERDICTS}")
    if verdict not in ("confirmed", "refuted") or plateau == "plateau":
        return verdict
    return "holds, still moving" if verdict == "confirmed" else "not reproduced, still moving"


def budget_text(verdict: str, images: int) -> str:
    """A trained claim's verdict with the images per run it rests on: "confirmed at 48,000 images per run",
    "holds at 48,000 images per run, still moving", …"""
    at = f"at {images:,} images per run"
    if verdict == "holds, still moving":
        return f"holds {at}, still moving"
    if verdict == "not reproduced, still moving":
        return f"not reproduced {at}, still moving"
    return f"{verdict} {at}"


def with_budget(o: Observation, images: int, plateau: str | None, along: str) -> Observation:
    """``o`` (a claim on trained runs; changed in place and returned) with its budget and its trajectory: ``images``
    per run, the ``plateau`` word of its quantities (None: not measured along training), the verdict through
    :func:`trajectory_verdict`, a summary that starts with :func:`budget_text`, and ``along`` — what the plateau
    test found, cell by cell — at the end of the evidence."""
    before = o.verdict
    o.images, o.plateau = int(images), plateau
    o.verdict = trajectory_verdict(before, plateau)
    rest = o.summary[len(before):] if o.summary.startswith(before) else f" ({o.summary})"
    o.summary = budget_text(o.verdict, o.images) + rest
    o.evidence = f"{o.evidence} Along training: {along}.".strip()
    return o


def fraction_verdict(fraction: float, *, most: float = MOST, few: float = FEW) -> str:
    """``confirmed`` if fraction ≥ most, ``refuted`` if ≤ few, ``partly`` between, ``inconclusive`` for NaN
    (no cell to judge)."""
    if fraction is None or (isinstance(fraction, float) and math.isnan(fraction)):
        return "inconclusive"
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must be in [0, 1] (or NaN for no cells), got {fraction!r}")
    return "confirmed" if fraction >= most else ("refuted" if fraction <= few else "partly")


def joint_verdict(verdicts) -> str:
    """A claim made of several criteria (or implementations), each already judged: ``confirmed`` when every one
    is, ``refuted`` when every one is, ``partly`` otherwise."""
    verdicts = list(verdicts)
    if not verdicts:
        raise ValueError("joint_verdict needs at least one verdict")
    if all(v == "confirmed" for v in verdicts):
        return "confirmed"
    return "refuted" if all(v == "refuted" for v in verdicts) else "partly"


def order_verdict(smaller: float, larger: float) -> str:
    """The claim ``smaller < larger`` on two measured numbers: ``confirmed`` when it holds, ``refuted`` when the
    reverse does, ``partly`` for a tie."""
    return "confirmed" if smaller < larger else ("refuted" if smaller > larger else "partly")


def all_cells_verdict(verdicts) -> str:
    """A claim that must hold in every cell it is about, each cell judged on its own: ``refuted`` when one cell is,
    ``confirmed`` when all are, ``inconclusive`` otherwise and when there is no cell."""
    verdicts = list(verdicts)
    if not verdicts:
        return "inconclusive"
    if "refuted" in verdicts:
        return "refuted"
    return "confirmed" if all(v == "confirmed" for v in verdicts) else "inconclusive"


def below_band_verdict(iv: Interval, lo: float, hi: float) -> str:
    """A claim that a quantity lies below ``lo`` where ``[lo, hi]`` is the band of no effect (e.g. a strongly
    negative rank correlation): ``confirmed`` when the interval lies wholly below ``lo``, ``refuted`` when it lies
    wholly inside the band or wholly at or above ``hi``, ``inconclusive`` otherwise (:func:`band_verdict` inverted)."""
    band = band_verdict(iv, lo, hi)
    if band == "inconclusive":
        return "inconclusive"
    return "refuted" if band == "confirmed" else ("confirmed" if iv.hi <= lo else "refuted")


def verdict_counts(observations) -> dict[str, int]:
    """How many of ``observations`` (Observations, or a mapping whose values are) carry each word of
    :data:`VERDICTS`, in that order; a verdict outside :data:`VERDICTS` raises ``ValueError`` naming its claim."""
    obs = list(observations.values()) if isinstance(observations, dict) else list(observations)
    bad = [(o.claim, o.verdict) for o in obs if o.verdict not in VERDICTS]
    if bad:
        raise ValueError(f"verdicts outside {VERDICTS}: {bad}")
    return {v: sum(o.verdict == v for o in obs) for v in VERDICTS}


def observation_texts(observations: dict, *, prefix: str = "claim", empty: str = "No runs.") -> dict[str, str]:
    """The texts a chapter glues for each named observation: ``<prefix>-<name>-verdict`` → its summary,
    ``<prefix>-<name>-evidence`` → its evidence (``empty`` where the evidence is blank), and for reading a built
    book back (:func:`compare_verdicts`): ``-result`` → the bare verdict, ``-interval`` → the interval's text
    ("none" without one), ``-active`` → the verdict over the active latents ("" where not computed), ``-end`` and
    ``-half`` → the verdicts at the end of training and at half training that ``-result`` combines
    (:attr:`Observation.end`, :attr:`Observation.half`; "not computed" where None)."""
    out = {}
    for name, o in observations.items():
        out[f"{prefix}-{name}-verdict"] = o.summary
        out[f"{prefix}-{name}-evidence"] = o.evidence or empty
        out[f"{prefix}-{name}-result"] = o.verdict
        out[f"{prefix}-{name}-interval"] = o.interval.text() if o.interval is not None else "none"
        out[f"{prefix}-{name}-active"] = o.values.get("active_verdict", "")
        out[f"{prefix}-{name}-end"] = o.end or NOT_COMPUTED
        out[f"{prefix}-{name}-half"] = o.half or NOT_COMPUTED
    return out


# How each side of a claim reads in a table: the quantity must lie ... of the threshold t.
_SIDES = {"above": "> {t:g}", "below": "< {t:g}", "inside": "inside ±{t:g}",
          "band": "< −{t:g} (inside ±{t:g}: refuted)"}


def threshold_text(o: Observation) -> str:
    """The threshold of ``o`` with the side its claim needs (``o.values["side"]``: above, below, inside, band),
    e.g. "> 0.25"; "" without a threshold."""
    if o.threshold is None:
        return ""
    side = o.values.get("side")
    return _SIDES[side].format(t=o.threshold) if side in _SIDES else f"{o.threshold:g}"


def with_active(full: dict, active: dict) -> dict:
    """``full`` (name → Observation over all latents) with each claim's verdict over the active latents (the
    same name in ``active``) in ``values["active_verdict"]`` and, where the two differ, said in the summary. A name
    missing from ``active`` is left as it is."""

    out = {}
    for k, o in full.items():
        a = active.get(k)
        if a is None:
            out[k] = o
            continue
        summary = o.summary + (f" (over the active latents: {a.verdict})" if a.verdict != o.verdict else "")
        out[k] = replace(o, summary=summary, values={**o.values, "active_verdict": a.verdict,
                                                     "active_interval": a.interval})
    return out


def verdict_table(claims: dict, quantities: dict | None = None):
    """The verdict table a chapter prints: one row per claim of ``claims`` (name → Observation, in order) with
    the claim, where it stands ``in the paper`` and its ``quantity`` (``quantities``: name → (figure or section,
    quantity); columns a chapter leaves blank for every claim are dropped), the interval (its basis and n), the
    threshold with the side the claim needs (:func:`threshold_text`), the number of seeds, the regime of the runs
    it counts, the images per run and the plateau word of a claim on trained runs, the verdict at half training,
    the verdict, and the verdict over the active latents (blank where not computed)."""

    quantities = quantities or {}
    rows = []
    for name, o in claims.items():
        fig, quantity = quantities.get(name, ("", ""))
        rows.append({"claim": o.claim, "in the paper": fig, "quantity": quantity,
                     "interval": o.interval.text() if o.interval is not None else "none",
                     "threshold": threshold_text(o), "seeds": o.seeds if o.seeds is not None else 0,
                     "regime": o.regime, "images per run": f"{o.images:,}" if o.images is not None else "",
                     "plateau": o.plateau or "", "half training": o.half or NOT_COMPUTED, "verdict": o.verdict,
                     "active latents": o.values.get("active_verdict", "")})
    table = pd.DataFrame(rows, columns=["claim", "in the paper", "quantity", "interval", "threshold", "seeds", "regime",
                                        "images per run", "plateau", "half training", "verdict", "active latents"])
    blank = [c for c in ("in the paper", "quantity", "regime", "images per run", "plateau", "active latents")
             if (table[c] == "").all()]
    return table.drop(columns=blank)


# Two builds' verdicts on one claim: the same word; one of them decided and the other not (inconclusive or not
# converged); or confirmed in one and refuted in the other — a contradiction, which makes the claim noise.
AGREEMENTS = ("same", "one undecided", "contradiction")
# A verdict a build does not carry: the claim is missing from it, or the build predates the key (its end and half
# verdicts, glued only by newer builds).
NOT_GLUED = "not glued"


def agreement(a: str, b: str) -> str:
    """How two builds' verdicts on one claim agree (:data:`AGREEMENTS`)."""
    for v in (a, b):
        if v not in VERDICTS:
            raise ValueError(f"unknown verdict {v!r}; verdicts are {VERDICTS}")
    if a == b:
        return "same"
    return "contradiction" if {a, b} == {"confirmed", "refuted"} else "one undecided"


def stage_agreement(a: str | None, b: str | None) -> str:
    """How two builds' verdicts at one stage of training (end or half) agree: :func:`agreement`, with "missing"
    where a build does not carry the verdict (None: an older build, or the claim is not in it), "not computed"
    where neither build computed it, and "one undecided" where one of them did not."""
    if a is None or b is None:
        return "missing"
    if NOT_COMPUTED in (a, b):
        return NOT_COMPUTED if a == b else "one undecided"
    return agreement(a, b)


def _built(entry) -> tuple:
    """A build's ``(verdict, interval text[, end, half])`` as four, end and half None where it lacks them."""
    verdict, interval, end, half = (*entry, None, None)[:4]
    return verdict, interval, end, half


def compare_verdicts(a: dict, b: dict, *, labels=("A", "B")):
    """Claim by claim, the verdicts of two builds of one book: ``a``, ``b`` map a claim's name to ``(verdict,
    interval text, end verdict, half verdict)`` (e.g. :func:`rtc.report.built_verdicts`; the last two None, or left
    out, where a build lacks them). One row per claim of either build, in ``a``'s order then ``b``'s new ones:
    ``claim``, ``verdict <label>``, ``interval <label>`` for each, ``agreement`` (:func:`agreement`; "missing"
    where one build lacks the claim), then ``end <label>`` for each and ``end agreement``, ``half <label>`` for
    each and ``half agreement`` (:func:`stage_agreement`; :data:`NOT_GLUED` where a build lacks the verdict): the
    combined verdict "not converged" in both builds can hide end verdicts that contradict each other."""

    la, lb = labels
    rows = []
    for name in list(a) + [n for n in b if n not in a]:
        va, ia, ea, ha = _built(a.get(name, ("", "")))
        vb, ib, eb, hb = _built(b.get(name, ("", "")))
        rows.append({"claim": name, f"verdict {la}": va, f"interval {la}": ia, f"verdict {lb}": vb,
                     f"interval {lb}": ib, "agreement": agreement(va, vb) if va and vb else "missing",
                     f"end {la}": ea or NOT_GLUED, f"end {lb}": eb or NOT_GLUED,
                     "end agreement": stage_agreement(ea, eb),
                     f"half {la}": ha or NOT_GLUED, f"half {lb}": hb or NOT_GLUED,
                     "half agreement": stage_agreement(ha, hb)})
    return pd.DataFrame(rows, columns=["claim", f"verdict {la}", f"interval {la}", f"verdict {lb}", f"interval {lb}",
                                       "agreement", f"end {la}", f"end {lb}", "end agreement", f"half {la}",
                                       f"half {lb}", "half agreement"])


def equivalence_verdict(lo: float, hi: float, margin: float) -> str:
    """Two one-sided tests as an interval rule: ``equivalent`` when the interval (lo, hi) of a difference lies
    inside (−margin, margin), ``different`` when it lies wholly outside it, ``inconclusive`` otherwise (and for a
    NaN interval or margin)."""
    if any(not math.isfinite(v) for v in (lo, hi, margin)) or margin <= 0:
        return "inconclusive"
    if -margin < lo and hi < margin:
        return "equivalent"
    if lo >= margin or hi <= -margin:
        return "different"
    return "inconclusive"
