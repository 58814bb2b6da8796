"""rtc.experiments.comparison and rtc.experiments.dependence: known answers on hand-made tables and codes."""
from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

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
    describe_grid,
    learning_summary,
    mean_image_baseline,
    noise_range,
    paper_cost,
    run_table,
    trained_reconstruction,
)
from rtc.experiments.dependence import dependence_matrix, pairwise_dependence, top_pair_test
from rtc.params import chapter_defaults, profiles


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


@pytest.mark.parametrize("n", [1, True, 2.0])
def test_mean_image_baseline_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        mean_image_baseline(TwoImages(), n)


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


def test_a_run_that_learned_only_in_its_last_steps_did_not_learn():
    # run 0 decodes µ well and reconstructs well as trained; run 1 (at the mean image for most of training, out of
    # it in its last steps) decodes its final µ at half the baseline's error but, over its last 10 % of steps,
    # reconstructs like the mean image; run 2 has no log (NaN)
    rows = [_row("factor_vae", 10, 1, 1, recon=20.0), _row("factor_vae", 10, 1, 1, recon=49.0, seed=1),
            _row("factor_vae", 10, 1, 1, recon=20.0, seed=2)]
    t = add_learning(pd.DataFrame(rows), BASE, trained_recon=[25.0, 98.0, float("nan")])
    assert t["trained_ratio"].tolist()[:2] == pytest.approx([0.25, 0.98])
    assert t["learned"].tolist() == [True, False, False]
    assert add_learning(pd.DataFrame(rows), BASE)["learned"].tolist() == [True, True, True]  # through µ only
    summary = learning_summary(t.assign(strength=10.0))
    assert summary["count"] == 1 and summary["worst_trained"] == pytest.approx(0.98)
    with pytest.raises(ValueError, match="one value per run"):
        add_learning(pd.DataFrame(rows), BASE, trained_recon=[1.0])


def test_trained_reconstruction_is_the_last_steps_mean():
    log = pd.DataFrame({"step": np.arange(1, 21), "recon": np.r_[np.full(18, 500.0), 100.0, 120.0]})
    run = SimpleNamespace(training_log=lambda: log)
    assert trained_reconstruction([run]) == [110.0]              # the last 10 % = 2 of 20 steps
    assert trained_reconstruction([run], share=0.05) == [120.0]  # at least one step
    with pytest.raises(ValueError, match="share"):
        trained_reconstruction([run], share=0)


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


def test_disparity_class_reads_the_one_threshold_registry():
    """A changed threshold of rtc.claims.Thresholds changes the class: the comparison has no copy of its own."""
    t = pd.DataFrame([_row("factor_vae", 10, 3.0, 0.4)])   # d = 2.6
    assert add_disparity(t)["disparity_class"].iloc[0] == "disparity"
    assert add_disparity(t, Thresholds.from_mapping({"disparity_abs": 2.7}))["disparity_class"].iloc[0] == "none"


def test_a_table_without_the_needed_columns_names_them():
    with pytest.raises(KeyError, match=r"lacks columns \['tc_mean_active', 'tc_sample_active'\]"):
        add_disparity(pd.DataFrame({"tc_mean": [1.0], "tc_sample": [0.5]}))


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


def test_top_pair_test_chooses_on_one_half_and_tests_on_the_other():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 1200)
    dep = np.c_[rng.normal(size=1200), x, rng.normal(size=1200), np.abs(x) + 0.01 * rng.normal(size=1200)]
    r = top_pair_test(dep, permutations=39, seed=1)
    assert (r["a"], r["b"]) == (1, 3) and abs(r["corr"]) < 0.1            # uncorrelated but dependent
    assert r["pvalue"] == pytest.approx(1 / 40) and r["excess"] > 1.0 and r["null"].shape == (39,)
    assert r["excess"] == pytest.approx(r["knn_mi"] - r["null"].mean())
    ind = top_pair_test(rng.normal(size=(1200, 4)), permutations=39, seed=1)
    assert abs(ind["excess"]) < 0.05 and ind["pvalue"] > 0.05 / 4
    assert top_pair_test(dep, latents=[0, 2], permutations=39)["a"] in (0, 2)
    with pytest.raises(ValueError, match="permutations"):
        top_pair_test(dep, permutations=10)
    with pytest.raises(ValueError, match="rows"):
        top_pair_test(dep[:10], permutations=19)


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
    root = Path(__file__).resolve().parents[1]
    chapter = root / "book" / "chapters" / "comparison.py"
    assert "training_grid" not in chapter_defaults(chapter)
    assert "grid_runs(profile)" in chapter.read_text()
    for name in profiles(root):
        path = root / "parameters" / name / "comparison.yaml"
        assert not path.exists() or "training_grid" not in path.read_text(), path
