"""The claims registry (rtc/claims/registry.toml): one file holds every threshold and every training claim; the
verdicts follow it, a malformed registry is a clear error, and a threshold typed anywhere else in the code that
judges claims fails this test."""
from __future__ import annotations

import ast
import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.claims import (
    THRESHOLDS,
    RegistryError,
    Thresholds,
    claim_specs,
    interval_verdict,
    refute_pvalue,
    registry_table,
    seed_interval,
)
from rtc.claims.registry import REGISTRY_PATH, parse_registry, threshold_values
from rtc.experiments.comparison import CLAIMS, QUANTITIES, Stage, check_claims
from rtc.experiments.disintegration import CLAIMS as DIS_CLAIMS

ROOT = Path(__file__).resolve().parents[1]
# The code that turns measurements into verdicts — the analyses and the chapters whose verdicts the registry drives
# (the training chapters and the estimator study): a threshold typed here instead of read from the registry fails.
JUDGING = sorted([*(ROOT / "rtc/experiments/comparison").glob("*.py"), *(ROOT / "rtc/experiments/disintegration")
                  .glob("*.py"), ROOT / "rtc/experiments/estimator_study.py",
                  *(ROOT / f"book/chapters/{c}.py" for c in ("comparison", "disintegration", "estimators"))])


def _number(node):
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        v = _number(node.operand)
        return None if v is None else -v
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    return None


def typed_thresholds(source: str, names: set, values: set) -> list[str]:
    """Where ``source`` types a threshold: a keyword argument or a parameter default named like a registry threshold
    with a literal number, or a comparison with a float literal equal to a registry threshold's value."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg in names and _number(node.value) is not None:
            found.append(f"line {node.lineno}: {node.arg}={_number(node.value)}")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            pairs = list(zip(a.args[len(a.args) - len(a.defaults):], a.defaults, strict=True)) + [
                (k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
            found += [f"line {node.lineno}: default {k.arg}={_number(d)}" for k, d in pairs
                      if k.arg in names and _number(d) is not None]
        elif isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                v = _number(side)
                if isinstance(v, float) and abs(v) in values:
                    found.append(f"line {node.lineno}: a comparison with {v}")
    return found


def test_no_threshold_is_typed_outside_the_registry():
    names = set(threshold_values())
    values = {float(v) for v in threshold_values().values()} - {0.0, 1.0}
    bad = {str(f.relative_to(ROOT)): typed_thresholds(f.read_text(encoding="utf-8"), names, values)
           for f in JUDGING}
    assert {k: v for k, v in bad.items() if v} == {}


def test_the_scan_catches_a_typed_threshold():
    """The scan above can fail: each way of typing a threshold is caught, a plain count is not."""
    names, values = {"disparity_abs", "learned"}, {0.25, 0.5}
    assert typed_thresholds("ok = iv.lo > 0.25", names, values) == ["line 1: a comparison with 0.25"]
    assert typed_thresholds("f(x, learned=0.5)", names, values) == ["line 1: learned=0.5"]
    assert typed_thresholds("def g(x, *, disparity_abs=0.3):\n    pass", names, values) == \
        ["line 1: default disparity_abs=0.3"]
    assert typed_thresholds("n = len(x) >= 2\ny = t.disparity_abs", names, values) == []


def test_thresholds_take_every_value_from_the_registry():
    raw = tomllib.loads(REGISTRY_PATH.read_text(encoding="utf-8"))["thresholds"]
    assert set(Thresholds.__dataclass_fields__) == set(raw)
    assert {k: getattr(THRESHOLDS, k) for k in raw} == {k: v["value"] for k, v in raw.items()}


def test_the_chapters_claims_are_the_registrys():
    assert list(CLAIMS) == list(claim_specs("comparison"))
    assert list(DIS_CLAIMS) == list(claim_specs("disintegration"))
    primary = [n for n, s in claim_specs("comparison").items() if s.primary]
    assert primary == ["primary_disparity", "primary_tc_mean"]
    table = registry_table("comparison")
    assert len(table) == len(CLAIMS) and (table["primary"] == "yes").sum() == 2
    assert table["threshold"].iloc[0] == "none_ratio = 0.25 (below)"
    # a rule fixed after results were seen says so, and names the rule it replaced
    none = table[table["claim"] == "no disparity for rtc_vae"].iloc[0]
    assert "after results were seen" in none["fixed"] and "before:" in none["fixed"]


def _stage():
    rows = []
    for i in range(3):
        for model, tc_mean, tc_sample in (("factor_vae", 4.0 + i, 1.0), ("rtc_vae", 0.5, 0.2 + 0.01 * i)):
            d = tc_mean - tc_sample
            rows.append(dict(model=model, dataset="dsprites", strength=10.0, seed=i, learned=True, in_regime=True,
                             band_share=0.9 if model == "rtc_vae" else math.nan, tc_mean=tc_mean,
                             tc_sample=tc_sample, tc_mean_active=tc_mean, tc_sample_active=tc_sample, disparity=d,
                             disparity_active=d, recon=100.0, sap_r2=0.3))
    t = pd.DataFrame(rows)
    assert set(QUANTITIES) <= set(t.columns)
    rng = np.random.default_rng(0)
    codes = {r: _Enc(rng.uniform(-1, 1, (400, 3))) for r in t.index}
    return Stage(t, codes)


class _Enc:
    def __init__(self, mu):
        self.mu = self.z = mu


def test_every_verdict_follows_the_registry_threshold_it_names():
    """Each claim's threshold and side are the registry's; changing a threshold's value changes what it is
    judged against, with no second copy anywhere."""
    claims = check_claims(_stage(), None, THRESHOLDS, repeats=50, permutations=19)
    specs = claim_specs("comparison")
    for name, o in claims.items():
        assert o.threshold == getattr(THRESHOLDS, specs[name].threshold), name
        assert o.values["side"] == specs[name].side, name
    assert claims["primary_disparity"].verdict == "confirmed"        # RTC's disparity ≈ 0.3/4 of FactorVAE's
    moved = Thresholds.from_mapping({"none_ratio": 0.01})
    again = check_claims(_stage(), None, moved, repeats=50, permutations=19)["primary_disparity"]
    assert again.threshold == 0.01 and again.verdict == "refuted"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["thresholds"]["learned"].pop("fixed"), "threshold 'learned' lacks \\['fixed'\\]"),
    (lambda d: d["thresholds"]["learned"].update(value="half"), "value must be a number"),
    (lambda d: d["claims"]["comparison"]["tc_sap"].update(threshold="nope"), "names threshold 'nope'"),
    (lambda d: d["claims"]["comparison"]["tc_sap"].update(side="left"), "side must be one of"),
    (lambda d: d["claims"]["comparison"]["tc_sap"].update(primary="yes"), "primary must be true or false"),
    (lambda d: d["claims"].update(gallery={}), "unknown chapter 'gallery'"),
])
def test_a_malformed_registry_is_a_clear_error(edit, message):
    data = tomllib.loads(REGISTRY_PATH.read_text(encoding="utf-8"))
    parse_registry(data)
    edit(data)
    with pytest.raises(RegistryError, match=message):
        parse_registry(data)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=2, max_size=8), st.floats(-3, 3, allow_nan=False),
       st.sampled_from(["above", "below"]))
def test_the_refutation_p_value_agrees_with_the_interval_rule(values, threshold, side):
    """p ≤ significance exactly when the 90 % interval lies wholly on the other side (away from ties)."""
    v = np.asarray(values)
    if v.std(ddof=1) < 1e-6:
        return
    iv = seed_interval(v)
    if min(abs(iv.lo - threshold), abs(iv.hi - threshold)) < 1e-9:
        return
    refuted = interval_verdict(iv, threshold, side=side) == "refuted"
    assert (refute_pvalue(v, threshold, side) <= THRESHOLDS.significance) == refuted
