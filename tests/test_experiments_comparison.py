"""rtc.experiments.comparison and rtc.experiments.dependence: known answers on hand-made tables and codes."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtc.claims import Thresholds
from rtc.experiments.comparison import (
    add_disparity,
    add_learning,
    check_claims,
    claim_dip_not_factorised,
    claim_disparity,
    claim_no_disparity,
    claim_revised_lower,
    claim_rtc_recon,
    claim_tc_sap,
    describe_grid,
    mean_image_baseline,
    noise_range,
    paper_cost,
    run_table,
)
from rtc.experiments.dependence import dependence_matrix, pairwise_dependence


class TwoImages:
    """A dataset of two 1×2×2 images (factor 0 picks one): the mean image and the BCE have closed forms."""
    factor_sizes = (2,)
    imgs = torch.tensor([[[[1.0, 0.0], [1.0, 1.0]]], [[[0.0, 0.0], [1.0, 0.5]]]])

    def sample_factors(self, n, rng):
        return np.repeat(np.array([[0], [1]]), n // 2, axis=0)

    def observations(self, factors, device=None):
        return self.imgs[np.asarray(factors)[:, 0]]


def test_mean_image_baseline_closed_form():
    b = mean_image_baseline(TwoImages(), 4)
    # pixels: (1,0) → p = ½ costs log 2 for each image; always-0 pixel → p clipped at 1e-7 costs −log(1 − 1e-7);
    # always-1 pixel → the same; (1, 0.5) → p = 0.75: image 0 costs −log .75, image 1 −½log .75 − ½log .25.
    eps = -math.log1p(-1e-7)
    img0 = math.log(2) + 2 * eps - math.log(0.75)
    img1 = math.log(2) + 2 * eps - 0.5 * math.log(0.75) - 0.5 * math.log(0.25)
    assert b["baseline"] == pytest.approx((img0 + img1) / 2, rel=1e-12)
    # floor: only the 0.5 pixel has entropy (log 2), in image 1
    assert b["floor"] == pytest.approx(math.log(2) / 2, rel=1e-9)


def test_mean_image_baseline_bad_n():
    with pytest.raises(ValueError, match="n must be"):
        mean_image_baseline(TwoImages(), 1)


def _row(model, strength, tc_mean, tc_sample, *, seed=0, dataset="dsprites", recon=10.0, **kw):
    base = dict(model=model, dataset=dataset, strength=float(strength), seed=seed, recon=recon, tc_mean=tc_mean,
                tc_sample=tc_sample, tc_mean_active=tc_mean, tc_sample_active=tc_sample, tc_mean_knn=tc_mean,
                sap_r2=0.3)
    base.update(kw)
    return base


BASE = {"dsprites": {"baseline": 100.0, "floor": 0.0}, "shapes3d": {"baseline": 300.0, "floor": 100.0}}


def _table(rows):
    return add_disparity(add_learning(pd.DataFrame(rows), BASE))


def test_learning_ratio_above_the_floor():
    t = _table([_row("beta_vae", 1, 1, 1, recon=50.0), _row("beta_vae", 1, 1, 1, recon=50.1, seed=1),
                _row("rtc_vae", 1, 1, 1, dataset="shapes3d", recon=200.0),
                _row("rtc_vae", 1, 1, 1, dataset="shapes3d", recon=201.0, seed=1)])
    assert t["recon_ratio"].tolist() == pytest.approx([0.5, 0.501, 0.5, 0.505])
    assert t["learned"].tolist() == [True, False, True, False]
    with pytest.raises(KeyError, match="cars3d"):
        add_learning(pd.DataFrame([_row("beta_vae", 1, 1, 1, dataset="cars3d")]), BASE)


@pytest.mark.parametrize("tc_mean, tc_sample, expected", [
    (2.0, 0.1, "disparity"),      # d = 1.9 ≥ 0.25 and ≥ 0.5·2
    (2.0, 1.9, "none"),           # d = 0.1 < 0.25
    (10.0, 8.0, "none"),          # d = 2 ≥ 0.25 but < 0.25·10
    (10.0, 6.0, "ambiguous"),     # d = 4: ≥ 0.25·10, < 0.5·10
    (0.2, 0.0, "none"),           # d = 0.2 < 0.25 although TC_sample = 0
    (float("inf"), 1.0, "ambiguous"),
])
def test_disparity_class(tc_mean, tc_sample, expected):
    assert _table([_row("factor_vae", 10, tc_mean, tc_sample)])["disparity_class"].iloc[0] == expected


def test_disparity_and_no_disparity_claims():
    t = _table([_row("factor_vae", s, 3.0, 0.1) for s in (2, 10, 20)]
               + [_row("rtc_vae", s, 1.0, 0.95) for s in (2, 10, 20)]
               + [_row("beta_vae", 1, 3.0, 0.1), _row("beta_vae", 4, 1.0, 0.95)]
               + [_row("beta_vae", 10, 5.0, 0.1, recon=90.0)])  # not learned: does not count
    assert claim_disparity(t, "factor_vae").verdict == "confirmed"
    assert claim_no_disparity(t, "rtc_vae").verdict == "confirmed"
    o = claim_disparity(t, "beta_vae")
    assert o.verdict == "partly" and o.values["runs"] == 2 and "1 of 2" in o.summary
    assert claim_no_disparity(t, "factor_vae").verdict == "refuted"
    assert claim_disparity(t, "beta_tcvae").verdict == "inconclusive"


def test_revised_lower_uses_seed_means_at_matched_strengths():
    rows = [_row("factor_vae", 10, 4.0, 0.1), _row("factor_vae", 10, 2.0, 0.3, seed=1),   # mean 3.0 / 0.2
            _row("rtc_vae", 10, 1.0, 0.9), _row("rtc_vae", 10, 2.0, 1.5, seed=1),          # mean 1.5 / 1.2
            _row("rtc_vae", 50, 0.1, 0.1)]                                                 # no partner
    lower, comparable = claim_revised_lower(_table(rows))
    assert lower.verdict == "confirmed" and lower.values["ratio_max"] == pytest.approx(0.5)
    assert comparable.verdict == "refuted"  # 1.2 > 2·0.2 and 1.2 − 0.2 > 0.25
    assert lower.values["runs"] == 1


def test_rtc_recon_claim():
    rows = [_row("rtc_vae", s, 1, 1, recon=r) for s, r in ((2, 20.0), (10, 21.0), (20, 21.5), (50, 30.0))]
    o = claim_rtc_recon(_table(rows))
    assert o.verdict == "confirmed" and o.values["best_low"] == 20.0  # 21.5 > 1.05·20 and 30 > 21
    rows[2]["recon"] = 20.5
    assert claim_rtc_recon(_table(rows)).verdict == "partly"
    assert claim_rtc_recon(_table(rows[:2])).verdict == "inconclusive"


def test_tc_sap_claim():
    rows = [_row("factor_vae", s, tc, 0.1, sap_r2=sap) for s, tc, sap in
            ((1, 1.0, 0.1), (2, 2.0, 0.2), (3, 3.0, 0.3), (4, 4.0, 0.4), (5, 5.0, 0.5), (6, 6.0, 0.6))]
    assert claim_tc_sap(_table(rows), repeats=200).verdict == "refuted"   # ρ = 1, interval excludes 0
    for r, sap in zip(rows, (0.3, 0.1, 0.5, 0.2, 0.6, 0.4), strict=True):
        r["sap_r2"] = sap
    o = claim_tc_sap(_table(rows), repeats=200)
    assert abs(o.values["rho"]) < 0.5 and o.verdict == "confirmed"


def test_dip_claims():
    rows = [_row("dip_vae_i", 10, 0.3, 0.3, dataset="shapes3d", recon=150.0, tc_mean_knn=5.0),
            _row("rtc_vae", 10, 1.0, 1.0, dataset="shapes3d", recon=150.0, tc_mean_knn=1.5)]
    low, dep = claim_dip_not_factorised(_table(rows))
    assert low.verdict == "confirmed" and dep.verdict == "confirmed"
    rows[0]["tc_mean_knn"] = 1.0  # excess 0.7 < 1 nat
    assert claim_dip_not_factorised(_table(rows))[1].verdict == "refuted"
    assert claim_dip_not_factorised(_table(rows[:1]))[0].verdict == "inconclusive"


def test_check_claims_on_empty_profile_is_inconclusive():
    t = _table([_row("dip_vae_i", 10, 0.3, 0.3, recon=99.0)])  # one unlearned run
    out = check_claims(t, repeats=10)
    assert {o.verdict for o in out.values()} == {"inconclusive"}
    assert len(out) == 12


def test_claims_read_the_one_threshold_registry():
    """A changed threshold of rtc.claims.Thresholds changes the verdict: the comparison has no copy of its own."""
    t = _table([_row("factor_vae", s, 3.0, 0.1 + 0.3 * s) for s in (1, 2, 3)])   # d = 2.6, 2.3, 2.0
    assert claim_disparity(t, "factor_vae").verdict == "confirmed"
    strict = Thresholds.from_mapping({"disparity_abs": 2.4})
    strict_t = add_disparity(add_learning(t, BASE, strict), strict)
    o = claim_disparity(strict_t, "factor_vae", strict)
    assert o.verdict == "partly" and "1 of 3" in o.summary


def test_noise_range_quantiles_over_active_dims():
    sigma = np.ones((100, 3))
    sigma[:, 0] = np.sqrt(np.linspace(0.01, 0.99, 100))
    sigma[:, 2] = 5.0  # inactive: excluded
    r = noise_range(sigma, np.array([1.0, 1.0, 0.0]), quantiles=(0.0, 1.0))
    assert r == {"c1": pytest.approx(0.01), "c2": pytest.approx(1.0), "active_dims": 2}
    with pytest.raises(ValueError, match="var_mu"):
        noise_range(sigma, np.ones(2))


def test_run_table_order_and_columns():
    t = run_table(pd.DataFrame([_row("rtc_vae", 2, 1, 1), _row("beta_vae", 1, 1, 1), _row("beta_vae", 0.5, 1, 1)]))
    assert t[["model", "strength"]].values.tolist() == [["beta_vae", 0.5], ["beta_vae", 1.0], ["rtc_vae", 2.0]]
    assert list(t.columns[:4]) == ["model", "dataset", "strength", "seed"]


def test_describe_grid_and_paper_cost():
    text = describe_grid("ci")
    assert "| `batch_size` | 16 | 500 |" in text and "ci" in text
    c = paper_cost(gpu_step_seconds=1.0, gpu_eval_seconds=0.0)
    # every paper run is 30,000 steps at batch 500; discriminator models count twice on the GPU
    assert c["images"] == c["runs"] * 30000 * 500
    assert c["runs"] * 30000 <= c["gpu_hours"] * 3600 <= 2 * c["runs"] * 30000


# ------------------------------------------------------------------------------------------------ dependence

def test_pairwise_dependence_known_patterns():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 3000)
    codes = np.c_[x, np.abs(x) + 0.01 * rng.normal(size=3000), rng.normal(size=3000)]
    t = pairwise_dependence(codes, max_points=3000)
    top = t.iloc[0]
    assert (top.a, top.b) == (0, 1)                      # uncorrelated but dependent: largest kNN MI
    assert abs(top["corr"]) < 0.05 and top.gaussian_mi < 0.01 and top.knn_mi > 1.0
    indep = t[(t.a == 0) & (t.b == 2)].iloc[0]
    assert abs(indep.knn_mi) < 0.05
    m = dependence_matrix(t, "knn_mi", 3)
    assert m[0, 1] == m[1, 0] == top.knn_mi and np.isnan(m[0, 0])


def test_pairwise_dependence_gaussian_pair_matches_closed_form():
    rng = np.random.default_rng(1)
    z = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], size=4000)
    r = pairwise_dependence(z, max_points=4000).iloc[0]
    assert r.gaussian_mi == pytest.approx(-0.5 * np.log1p(-r["corr"] ** 2))
    assert r.knn_mi == pytest.approx(-0.5 * np.log(1 - 0.64), abs=0.05)   # 0.511 nats


@settings(max_examples=15, deadline=None)
@given(st.floats(0.1, 10), st.floats(-5, 5))
def test_pairwise_dependence_is_affine_invariant(scale, shift):
    rng = np.random.default_rng(2)
    c = rng.normal(size=(300, 3))
    c[:, 1] += c[:, 0] ** 2
    a = pairwise_dependence(c)
    c2 = c.copy()
    c2[:, 1] = scale * c2[:, 1] + shift
    b = pairwise_dependence(c2)
    pd.testing.assert_frame_equal(a, b, atol=1e-9, rtol=1e-9)


def test_pairwise_dependence_bad_input():
    with pytest.raises(ValueError, match="constant"):
        pairwise_dependence(np.c_[np.arange(10.0), np.ones(10)])
    with pytest.raises(ValueError, match="finite"):
        pairwise_dependence(np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="latents"):
        pairwise_dependence(np.random.default_rng(0).normal(size=(10, 3)), latents=[0, 0])
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        pairwise_dependence(np.ones(5))


# ------------------------------------------------------------------------------------------------ parameters

def test_the_comparison_trains_its_profiles_own_grid():
    """No chapter parameter names another profile's grid: the chapter trains grid_runs(profile), and no parameter
    file of any profile still sets the removed training_grid."""
    from pathlib import Path

    from rtc.params import chapter_defaults, profiles

    root = Path(__file__).resolve().parents[1]
    chapter = root / "book" / "chapters" / "comparison.py"
    assert "training_grid" not in chapter_defaults(chapter)
    assert "grid_runs(profile)" in chapter.read_text()
    for name in profiles(root):
        path = root / "parameters" / name / "comparison.yaml"
        assert not path.exists() or "training_grid" not in path.read_text(), path
