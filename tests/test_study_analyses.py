"""The analyses of the published studies, on hand-made tables with known answers: the recipe study's failure
counts, intervals and adoption rule (rtc.experiments.comparison.recipes), and the primary endpoint at each budget
of the long run (rtc.experiments.comparison.long_run)."""
import math

import numpy as np
import pandas as pd
import pytest

from rtc.claims import THRESHOLDS, binomial_interval
from rtc.experiments.comparison.long_run import arm_label, long_runs, longest_budget, primary_by_budget
from rtc.experiments.comparison.recipes import (
    adopt_recipe,
    every_model_learns,
    recipe_in_build,
    recipe_runs,
    recipe_summary,
)

BASE, FLOOR = 500.0, 0.0


def recipe_row(model, lr, b, seed, *, step=100, recon=100.0, shape=0.9, tc=2.0):
    return {"model": model, "dataset": "dsprites", "strength": 4.0, "seed": seed, "lr": lr, "batch_size": b,
            "step": step, "images_seen": step * b, "recon": recon, "trained_recon": recon, "baseline": BASE,
            "floor": FLOOR, "acc_shape": shape, "tc_mean": tc, "disparity": tc / 2}


def recipes_table(fail_a=(), fail_b=(), shape_b=()):
    """Two recipes, two models, seeds 0–2 (recipe A, the one in use, also 3–4); a run in fail_* sits at the mean
    image, one in shape_b has a shape accuracy at chance. Each run has a point at half training and at the end."""
    rows = []
    for (lr, b, fails, seeds) in ((1e-3, 32, fail_a, range(5)), (3e-4, 64, fail_b, range(3))):
        for m in ("beta_vae", "factor_vae"):
            for s in seeds:
                bad = (m, s) in fails
                shape = 0.34 if (lr == 3e-4 and (m, s) in shape_b) else 0.9
                rows.append(recipe_row(m, lr, b, s, step=50, recon=BASE, shape=0.34))
                rows.append(recipe_row(m, lr, b, s, recon=BASE if bad else 100.0, shape=shape, tc=1.0 + s))
    return pd.DataFrame(rows)


def test_failures_are_counted_per_kind_with_exact_intervals():
    runs = recipe_runs(recipes_table(fail_a=[("factor_vae", 2)], shape_b=[("beta_vae", 0)]))
    assert runs["final"].sum() == 16 and (runs[~runs["final"]]["ok"] == False).all()  # noqa: E712
    s = recipe_summary(runs).set_index(["recipe", "model"])
    lo, hi = binomial_interval(1, 5)
    assert s.loc[("lr 0.001, batch 32", "FactorVAE"), "mean image"] == f"1/5 [{lo:.0%}, {hi:.0%}]"
    assert s.loc[("lr 0.0003, batch 64", "β-VAE"), "shapes not learned"].startswith("1/3")
    assert s.loc[("lr 0.0003, batch 64", "β-VAE"), "failures"].startswith("1/3")
    assert s.loc[("lr 0.001, batch 32", "β-VAE"), "failures"].startswith("0/5")
    # every run first passed the learning check at its last point: 100 steps × its batch
    assert s.loc[("lr 0.001, batch 32", "β-VAE"), "images to learn"] == "3,200 [3,200, 3,200]"
    # TC_mean of the learned runs: seeds 0–4 → 1 … 5, geometric mean and max/min
    gm = math.exp(np.log([1, 2, 3, 4, 5]).mean())
    assert s.loc[("lr 0.001, batch 32", "β-VAE"), "TC_mean (learned)"] == f"{gm:.2f} [1.00, 5.00], ×5.0"
    # FactorVAE seed 2 sat at the mean image: left out of its spread (1, 2, 4, 5)
    gm4 = math.exp(np.log([1, 2, 4, 5]).mean())
    assert s.loc[("lr 0.001, batch 32", "FactorVAE"), "TC_mean (learned)"] == f"{gm4:.2f} [1.00, 5.00], ×5.0"


def test_adoption_fewest_failures_on_paired_seeds():
    # A fails FactorVAE seed 4 only: not a paired seed (B has 0–2), so A and B tie → A stays (in use)
    a = adopt_recipe(recipe_runs(recipes_table(fail_a=[("factor_vae", 4)])))
    assert a["recipe"] == (1e-3, 32) and not a["changed"] and "kept as the recipe in use" in a["text"]
    assert a["seeds"] == {"beta_vae": [0, 1, 2], "factor_vae": [0, 1, 2]}
    assert a["pooled_choice"] == "lr 0.001, batch 32"
    # A fails a paired seed: B has fewer failures and replaces it
    b = adopt_recipe(recipe_runs(recipes_table(fail_a=[("factor_vae", 2)])))
    assert b["recipe"] == (3e-4, 64) and b["changed"] and "replace lr 0.001, batch 32 by it" in b["text"]
    # a shape failure counts as a failure: B's one shape failure against A's one mean-image failure ties on
    # failures; fewer mean-image failures decides
    c = adopt_recipe(recipe_runs(recipes_table(fail_a=[("factor_vae", 2)], shape_b=[("beta_vae", 0)])))
    assert c["recipe"] == (3e-4, 64)
    # both fail a paired run to the mean image: tied → the recipe in use
    d = adopt_recipe(recipe_runs(recipes_table(fail_a=[("beta_vae", 1)], fail_b=[("factor_vae", 0)])))
    assert d["recipe"] == (1e-3, 32)


def test_adoption_ties_go_to_the_smaller_seed_spread_within_each_model():
    """Two recipes, neither in use, no failures: the one whose seeds spread less within each model wins, even when
    its models differ more from each other (which one log range over both models would count as spread)."""
    t = recipes_table()
    end = t["step"] == 100
    a, b = end & (t["lr"] == 1e-3), end & (t["lr"] == 3e-4)
    t.loc[a & (t["model"] == "beta_vae"), "tc_mean"] = [1.0, 2.0, 4.0, 8.0, 16.0]  # seeds 0–2 spread ×4
    t.loc[a & (t["model"] == "factor_vae"), "tc_mean"] = 2.0
    t.loc[b & (t["model"] == "beta_vae"), "tc_mean"] = [1.0, 1.1, 1.2]  # within ×1.2
    t.loc[b & (t["model"] == "factor_vae"), "tc_mean"] = [30.0, 31.0, 32.0]  # the models differ ×30
    r = adopt_recipe(recipe_runs(t), current=(1e-2, 16))
    assert r["recipe"] == (3e-4, 64)
    assert r["pooled_choice"] == "lr 0.001, batch 32"


def test_adoption_needs_paired_seeds():
    t = recipes_table()
    t = t[~((t["lr"] == 3e-4) & (t["model"] == "beta_vae"))]
    t = pd.concat([t, pd.DataFrame([recipe_row("beta_vae", 3e-4, 64, 9)])])
    with pytest.raises(ValueError, match="paired seeds"):
        adopt_recipe(recipe_runs(t))


def long_table(ratio=0.1, seeds=(0, 1, 2, 3, 4), images=(48000, 96000), wobble=0.0, lr=1e-3):
    rows = []
    for s in seeds:
        for k, im in enumerate(images):
            for m in ("factor_vae", "rtc_vae"):
                d = (2.0 + 0.1 * s) * (ratio if m == "rtc_vae" else 1.0) * (1 + wobble * k)
                rows.append({"model": m, "dataset": "dsprites", "strength": 10.0, "seed": s, "lr": lr,
                             "batch_size": 32, "step": im // 32, "images_seen": im, "recon": 100.0,
                             "trained_recon": 100.0, "baseline": BASE, "floor": FLOOR, "tc_mean": 3 * d + 1,
                             "tc_sample": 2 * d + 1, "tc_mean_active": 3 * d + 1, "tc_sample_active": 2 * d + 1,
                             "band_share": 1.0, "disparity": d})
    return pd.DataFrame(rows)


def test_primary_endpoint_at_each_budget_known_ratio():
    runs = long_runs(long_table(ratio=0.1))
    p = primary_by_budget(runs, [48000, 96000]).set_index("images")
    assert list(p.index) == [48000, 96000] and (p["pairs"] == 5).all()
    assert p.loc[96000, "disparity ratio"].startswith("0.10")  # every pair's ratio is 0.1 exactly
    assert p.loc[96000, "disparity verdict"] in ("confirmed", "holds, still moving")
    # TC_mean = 3d + 1: the ratio is (0.3·d_F + 1) / (3·d_F + 1) ≈ 0.23–0.25 per pair, below 0.5
    assert p.loc[96000, "tc_mean verdict"] in ("confirmed", "holds, still moving")
    assert p.loc[48000, "arm"] == "γ = 10, lr 0.001, batch 32"
    # RTC-VAE's disparity as large as FactorVAE's: the endpoint is not reproduced
    q = primary_by_budget(long_runs(long_table(ratio=1.0)), [96000]).iloc[0]
    assert q["disparity verdict"] in ("refuted", "not reproduced, still moving")


def test_primary_endpoint_skips_budgets_not_reached_and_unlearned_runs():
    t = long_table(images=(48000, 96000))
    t = t[~((t["images_seen"] == 96000) & (t["model"] == "rtc_vae"))]  # RTC-VAE has not reached 96,000
    p = primary_by_budget(long_runs(t), [48000, 96000, 192000])
    assert list(p["images"]) == [48000]
    t2 = long_table()
    t2.loc[(t2["model"] == "factor_vae") & (t2["seed"] == 0), "recon"] = BASE  # FactorVAE seed 0 never learned
    p2 = primary_by_budget(long_runs(t2), [96000]).iloc[0]
    assert p2["learned runs"] == "9/10" and p2["pairs"] == 5
    assert THRESHOLDS.learned < 1


def test_the_longest_budget_of_the_arm_asked_for():
    """Two arms: the first in the table reached 192,000 images with RTC-VAE at FactorVAE's disparity, the other
    (the build's recipe) 96,000 at a tenth of it. The prose reports the arm asked for, else the first; an arm no
    budget reached says so."""
    t = pd.concat([long_table(ratio=1.0, images=(48000, 96000, 192000)), long_table(ratio=0.1, lr=3e-4)])
    p = primary_by_budget(long_runs(t), [48000, 96000, 192000])
    first = longest_budget(p)
    assert first["arm"] == "γ = 10, lr 0.001, batch 32" and first["images"] == 192000
    assert first["disparity"] == "refuted at 192,000 images per run"
    own = longest_budget(p, arm_label(10, 3e-4, 32))
    assert own["arm"] == "γ = 10, lr 0.0003, batch 32" and own["images"] == 96000 and own["pairs"] == 5
    assert own["disparity-evidence"].startswith("RTC-VAE / FactorVAE disparity at 10: 0.10 [0.10, 0.10]")
    none = longest_budget(p, arm_label(10, 1e-4, 64))
    assert none["images"] == 0 and "no verdict" in none["disparity"] and none["arm"] == "γ = 10, lr 0.0001, batch 64"


def three_model_table(rtc_fails=(), fail_a=()):
    """recipes_table(fail_a) with RTC-VAE beside the vanilla models at both recipes (seeds 0–2; A also 3–4); a
    run (lr, seed) in rtc_fails sits at the mean image."""
    t = recipes_table(fail_a=fail_a)
    rows = []
    for (lr, b, seeds) in ((1e-3, 32, range(5)), (3e-4, 64, range(3))):
        for s in seeds:
            bad = (lr, s) in rtc_fails
            rows.append(recipe_row("rtc_vae", lr, b, s, step=50, recon=BASE, shape=0.34))
            rows.append(recipe_row("rtc_vae", lr, b, s, recon=BASE if bad else 100.0, shape=0.9, tc=1.0))
    return pd.concat([t, pd.DataFrame(rows)], ignore_index=True)


def test_the_rule_counts_the_vanilla_models_only():
    # RTC-VAE at the mean image in every run of B: the rule's ranking does not see it
    t = recipes_table(fail_a=[("factor_vae", 0)])
    runs = recipe_runs(three_model_table(rtc_fails=[(3e-4, s) for s in range(3)], fail_a=[("factor_vae", 0)]))
    assert adopt_recipe(runs)["recipe"] == adopt_recipe(recipe_runs(t))["recipe"] == (3e-4, 64)
    assert set(adopt_recipe(runs)["seeds"]) == {"beta_vae", "factor_vae"}


def test_every_model_must_learn_with_the_recipe_down_the_ranking():
    # the rule picks B (A lost FactorVAE seed 0); RTC-VAE learned everywhere: B passes
    runs = recipe_runs(three_model_table(fail_a=[("factor_vae", 0)]))
    ok = every_model_learns(adopt_recipe(runs), runs)
    assert ok["rule_passes"] and ok["passes"] and ok["recipe"] == (3e-4, 64)
    assert "every model learns with it" in ok["text"]
    # RTC-VAE at the mean image in one run of B: down the ranking, A is the first where every paired run learned
    # (only seeds 0–2 count: RTC-VAE's seed 4 of A sitting at the mean image is not paired)
    t = three_model_table(rtc_fails=[(3e-4, 1), (1e-3, 4)])
    t.loc[(t["model"] == "factor_vae") & (t["seed"] == 4) & (t["lr"] == 1e-3) & (t["step"] == 100), "recon"] = BASE
    runs = recipe_runs(t)
    a = adopt_recipe(runs)
    assert a["recipe"] == (1e-3, 32)  # tie on failures (none in seeds 0–2) → the recipe in use
    b_first = dict(a, scores=a["scores"].iloc[::-1].reset_index(drop=True))  # a ranking with B first
    down = every_model_learns(b_first, runs)
    assert not down["rule_passes"] and down["passes"] and down["recipe"] == (1e-3, 32)
    assert down["table"]["RTC-VAE"].tolist() == ["2/3", "3/3"]
    assert "RTC-VAE learned in 2 of 3" in down["text"] and "rank 2" in down["text"]
    # no recipe passes: the recipe in use is kept, and said
    t.loc[(t["model"] == "beta_vae") & (t["seed"] == 0) & (t["lr"] == 1e-3) & (t["step"] == 100), "recon"] = BASE
    none = every_model_learns(b_first, recipe_runs(t))
    assert not none["passes"] and none["recipe"] == (1e-3, 32) and "keep lr 0.001, batch 32" in none["text"]
    # a model of the comparison missing from the study, or without a seed common to every recipe: no check
    with pytest.raises(ValueError, match="rtc_vae"):
        every_model_learns(a, runs[runs["model"] != "rtc_vae"])
    # a model without a seed common to every recipe cannot be compared
    with pytest.raises(ValueError, match="paired"):
        every_model_learns(a, runs[~((runs["model"] == "rtc_vae") & (runs["lr"] == 3e-4))])


def test_the_book_says_whether_the_build_trains_with_the_checked_recipe():
    checked = {"recipe": (3e-4, 32)}
    switched = recipe_in_build(checked, (3e-4, 32), "default")
    assert "lr 0.0003, batch 32, the recipe of the check above" in switched and "from lr 0.001, batch 32" in switched
    kept = recipe_in_build(checked, (1e-3, 32), "default")
    assert "not the check's lr 0.0003, batch 32" in kept and "every verdict of this chapter is at lr 0.001" in kept
    assert "its own setting" in recipe_in_build(checked, (1e-3, 500), "paper")


def test_recipe_panels_dash_the_runs_that_ended_at_the_mean_image():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rtc.experiments.comparison.recipes import recipe_panels
    runs = recipe_runs(three_model_table(rtc_fails=[(3e-4, 1)], fail_a=[("factor_vae", 0)]))
    models = ["beta_vae", "factor_vae", "rtc_vae"]
    fig, axes = plt.subplots(2, 3, squeeze=False)
    recipe_panels(axes, runs, models, {r: "k" for r in set(runs["recipe"])})
    for j, (m, failed) in enumerate(zip(models, (0, 1, 1), strict=True)):
        n_runs = runs[runs["model"] == m].groupby(["recipe", "seed"]).ngroups
        for row in (0, 1):
            # the thresholds are dotted: the solid and dashed lines are the runs
            runs_drawn = [ln.get_linestyle() for ln in axes[row][j].get_lines() if ln.get_linestyle() in ("-", "--")]
            assert runs_drawn.count("--") == failed and len(runs_drawn) == n_runs
    assert axes[1][0].xaxis.get_major_formatter()(16000, 0) == "16k"
    plt.close(fig)
