"""rtc.experiments.paired: synthetic run tables with a known effect give the designed verdicts."""
import numpy as np
import pandas as pd
import pytest

from rtc.experiments.paired import paired_table


def runs(effect: float, noise: float, seeds=range(6), seed_sd=1.0, rng=0):
    g = np.random.default_rng(rng)
    seed_effect = g.normal(0, seed_sd, len(seeds))
    rows = []
    for s, e in zip(seeds, seed_effect, strict=True):
        rows.append(dict(model="m", strength=1.0, dataset="d", seed=s, precision="fp32", x=5 + e))
        rows.append(dict(model="m", strength=1.0, dataset="d", seed=s, precision="bf16",
                         x=5 + e + effect + g.normal(0, noise)))
    return pd.DataFrame(rows)


def verdict(t):
    r = paired_table(t, factor="precision", a="fp32", b="bf16", metrics=["x"])
    assert len(r) == 1
    return r.iloc[0]


def test_no_effect_small_noise_is_equivalent():
    r = verdict(runs(0.0, 0.05))
    assert r.verdict == "equivalent" and r.n == 6 and r.lo < 0.05 and r.hi > -0.05


def test_large_effect_is_different():
    r = verdict(runs(5.0, 0.05))
    assert r.verdict == "different" and r["diff"] == pytest.approx(5.0, abs=0.2)


def table(a, b):
    return pd.DataFrame([dict(model="m", strength=1.0, dataset="d", seed=s, precision=p, x=v)
                         for p, vals in (("fp32", a), ("bf16", b)) for s, v in enumerate(vals)])


def test_an_interval_straddling_the_spread_is_inconclusive():
    # a: sd 1.29; b − a = 0.4, 1.6, 0.2, 1.8: mean 1.0, 90 % interval ≈ (0.03, 1.97) across the pooled spread ≈ 1.5
    r = verdict(table([5, 6, 7, 8], [5.4, 7.6, 7.2, 9.8]))
    assert r.lo < r.spread < r.hi and r.verdict == "inconclusive"


def test_three_seeds_of_noise_are_inconclusive():
    r = verdict(table([1.0, 2.0, 3.0], [2.5, 1.0, 3.2]))
    assert r.lo < -r.spread or r.hi > r.spread
    assert r.verdict == "inconclusive"


def test_one_seed_gives_no_interval():
    r = verdict(runs(0.0, 0.0, seeds=[0]))
    assert r.n == 1 and r.verdict == "inconclusive" and np.isnan(r.lo)


def test_unpaired_runs_are_left_out_and_duplicates_rejected():
    t = runs(0.0, 0.05)
    t = t[~((t.seed == 0) & (t.precision == "bf16"))]
    assert verdict(t).n == 5
    with pytest.raises(ValueError, match="repeated"):
        paired_table(pd.concat([t, t.iloc[:1]]), factor="precision", a="fp32", b="bf16", metrics=["x"])
    with pytest.raises(KeyError, match="nope"):
        paired_table(t, factor="precision", a="fp32", b="bf16", metrics=["nope"])


def test_the_same_value_in_every_pair_is_identical_not_inconclusive():
    """A metric both settings leave unchanged at every seed (10 active latents each time): no spread, no doubt."""
    t = runs(0.0, 0.0, seed_sd=0.0)
    r = verdict(t)
    assert r.verdict == "identical" and r["spread"] == 0 and r["diff"] == 0
    t.loc[(t.precision == "bf16") & (t.seed == 3), "x"] += 1  # one pair differs: back to the interval rule
    assert verdict(t).verdict == "inconclusive"
    assert verdict(t.iloc[:2]).verdict == "inconclusive"  # one pair: nothing to say
