"""rtc.experiments.comparison on fake runs: run choice, labels, traces, pairs, Theorem 1 and tables — no training.

A fake run is what ``run_grid`` returns for one run (a ``RunResult``: ``row``, ``matrices``, ``config``,
``snapshots``, ``load_model()``, ``load_snapshot(step)``); its model is a linear encoder of the image's four pixels,
so every encoding is known in advance.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from rtc.experiments.comparison import (
    QUANTITIES,
    SIDE_MODELS,
    add_regime,
    claim_stage,
    learning_summary,
    one_seed_text,
    pair_codes,
    pair_summary,
    run_labels,
    seed_cells,
    shown_run_table,
    tc_estimator_text,
    tc_mean_side_by_side,
    theorem1_row,
    theorem1_summary,
    theorem1_table,
    traced_runs,
    traversal_inputs,
    variance_band_summary,
)
from rtc.metrics import sap
from rtc.models import encode, representation_stats
from rtc.models.config import TrainConfig
from rtc.models.encoding import Encoding, latent_kl
from rtc.report import run_label


class LinearVAE(torch.nn.Module):
    """µ = (the image's 4 pixels) @ weight (4, L); log σ² = ``log_var`` everywhere; the decoder returns logits 0."""

    def __init__(self, weight, log_var: float = math.log(0.01)):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.as_tensor(np.asarray(weight), dtype=torch.float32), requires_grad=False)
        self.log_var = log_var

    def encode(self, x):
        mu = x.flatten(1) @ self.weight
        return mu, torch.full_like(mu, self.log_var)

    def decode(self, mu):
        return torch.zeros(mu.shape[0], 1, 2, 2)


class TwoFactors:
    """256 × 256 factor grid (fine enough that the kNN estimate meets no duplicate codes); a 1×2×2 image whose
    pixels are a/255, b/255, a·b/255² and 0."""
    name = "toy"
    factor_sizes = (256, 256)
    factor_names = ("a", "b")

    def sample_factors(self, n, rng):
        return rng.integers(0, 256, size=(n, 2))

    def observations(self, factors, device=None):
        f = torch.as_tensor(np.asarray(factors), dtype=torch.float32) / 255
        px = torch.stack([f[:, 0], f[:, 1], f[:, 0] * f[:, 1], torch.zeros(len(f))], 1)
        return px.reshape(-1, 1, 2, 2)


# latents 0, 1, 2 copy pixels 0, 1, 2; latent 3 reads the always-0 pixel: inactive
WEIGHT = np.eye(4)


class FakeRun:
    """The RunResult interface the comparison uses, around LinearVAEs; records which weights were loaded."""

    def __init__(self, model="rtc_vae", dataset="toy", strength=10.0, seed=0, *, steps=6, snapshots=(), r2=None,
                 weight=WEIGHT, var_sum=None):
        self.row = {"model": model, "dataset": dataset, "strength": float(strength), "seed": seed, "steps": steps}
        self.dataset = SimpleNamespace(name=dataset)
        self.config = SimpleNamespace(model=model, strength=float(strength), seed=seed, steps=steps, batch_size=32,
                                      objective=TrainConfig(model=model, strength=float(strength)).objective)
        self.var_sum = np.full(steps, 0.02) if var_sum is None else np.asarray(var_sum, dtype=np.float64)
        self.snapshots = list(snapshots)
        self.matrices = {"r2": np.zeros((4, 2)) if r2 is None else np.asarray(r2)}
        self.weight = np.asarray(weight, dtype=np.float64)
        self.loaded = []

    def load_model(self, device=None):
        self.loaded.append("final")
        return LinearVAE(self.weight)

    def load_snapshot(self, step, device=None):
        self.loaded.append(step)
        return LinearVAE(self.weight * step / self.config.steps)

    def training_log(self):
        return pd.DataFrame({"step": np.arange(1, self.config.steps + 1), "var_sum": self.var_sum})


def _table(rows):
    return pd.DataFrame([dict(model=m, dataset=d, strength=float(s), seed=sd) for m, d, s, sd in rows])


# ------------------------------------------------------------------------------------------------ labels

def test_run_labels_name_seed_and_dataset_only_when_not_the_default():
    t = _table([("beta_vae", "dsprites", 4, 0), ("rtc_vae", "shapes3d", 10, 1),
                ("revised_beta_vae", "dsprites", 0.5, 0)])
    assert run_labels(t) == ["β-VAE 4", "RTC-VAE 10 s1 (shapes3d)", "revised β-VAE 0.5"]
    assert run_label(FakeRun("dip_vae_i", "shapes3d", 2.5).row) == "DIP-VAE-I 2.5 (shapes3d)"
    with pytest.raises(KeyError, match="seed"):
        run_labels(t.drop(columns="seed"))


def test_learning_summary():
    t = _table([("beta_vae", "dsprites", 4, 0), ("rtc_vae", "shapes3d", 10, 1)])
    t["learned"], t["recon_ratio"] = [True, False], [0.2, 0.7]
    s = learning_summary(t)
    assert {k: s[k] for k in ("count", "verdict", "worst")} == {
        "count": 1, "verdict": "1 run(s) did not learn: RTC-VAE 10 s1 (shapes3d)", "worst": 0.7}
    assert math.isnan(s["worst_trained"])                       # no trained_ratio column
    assert learning_summary(t.assign(trained_ratio=[0.1, 0.9]))["worst_trained"] == 0.9
    t["learned"] = True
    assert learning_summary(t)["verdict"] == "every run learned"


# ------------------------------------------------------------------------------------------------ regime, stages

def test_add_regime_reads_the_second_half_of_each_revised_run():
    runs = [FakeRun("rtc_vae", var_sum=[1.0, 1.0, 1.0, 0.02, 0.03, 0.5]),      # 2 of the last 3 steps in band
            FakeRun("revised_beta_vae", var_sum=[0.02] * 3 + [0.005, 0.05, 0.02]),  # 1 of 3
            FakeRun("factor_vae", var_sum=[1.0] * 6)]                             # no band for a vanilla model
    t = add_regime(_table([("rtc_vae", "toy", 10, 0), ("revised_beta_vae", "toy", 4, 0),
                           ("factor_vae", "toy", 10, 0)]), runs)
    assert t["band_share"].iloc[:2].tolist() == pytest.approx([2 / 3, 1 / 3]) and np.isnan(t["band_share"].iloc[2])
    assert t["in_regime"].tolist() == [True, False, True]
    with pytest.raises(ValueError, match="same order"):
        add_regime(t, runs[:2])
    with pytest.raises(KeyError, match="var_sum"):
        add_regime(t.iloc[:1], [SimpleNamespace(training_log=lambda: pd.DataFrame({"step": [1]}))])


def _stage_table(runs):
    t = _table([(r.row["model"], r.row["dataset"], r.row["strength"], r.row["seed"]) for r in runs])
    return t.assign(learned=True, in_regime=True, band_share=np.nan, **{q: 1.0 for q in QUANTITIES})


def test_claim_stage_final_and_half_training():
    ds = TwoFactors()
    runs = [FakeRun("factor_vae", snapshots=[3, 6]), FakeRun("rtc_vae", snapshots=[2, 4, 6])]  # no step 3
    t = _stage_table(runs)
    full = claim_stage(t, runs, {"toy": ds}, n=64, seed=1)
    assert full.table is t and full.missing == frozenset() and runs[0].loaded == ["final"]
    np.testing.assert_array_equal(full.codes[0].mu, encode(LinearVAE(WEIGHT), ds, n=64, seed=1).mu)
    half = claim_stage(t, runs, {"toy": ds}, half=True, n=64, seed=1)
    assert runs[0].loaded == ["final", 3] and half.missing == frozenset({1}) and set(half.codes) == {0}
    enc = encode(LinearVAE(WEIGHT * 3 / 6), ds, n=64, seed=1)
    st = representation_stats(enc)
    row = half.table.iloc[0]
    assert row["tc_mean"] == pytest.approx(st["tc_mean"]) and row["recon"] == pytest.approx(st["recon"])
    assert row["disparity"] == pytest.approx(st["tc_mean"] - st["tc_sample"])
    assert row["sap_r2"] == pytest.approx(sap(enc.mu, enc.factors, continuous=True).score)
    assert half.table.iloc[1][QUANTITIES].isna().all() and half.table["learned"].all()
    with pytest.raises(ValueError, match="same order"):
        claim_stage(t, runs[:1], {"toy": ds})


def test_tc_estimator_text_and_seed_cells():
    assert tc_estimator_text([FakeRun("factor_vae"), FakeRun("beta_tcvae")]) == "MSS1 at batch 32"
    assert tc_estimator_text([FakeRun("factor_vae")]) == "not trained in this profile"
    t = _table([("rtc_vae", "dsprites", 10, 0), ("rtc_vae", "dsprites", 10, 1), ("rtc_vae", "dsprites", 20, 0),
                ("beta_tcvae", "dsprites", 10, 0), ("dip_vae_i", "shapes3d", 10, 0)])
    assert seed_cells(t)["seeds"].tolist() == [1, 2, 1, 1]
    assert one_seed_text(t) == "β-TCVAE 10, RTC-VAE 20, DIP-VAE-I 10 (shapes3d)"
    assert one_seed_text(t.iloc[:2]) == "none"


# ------------------------------------------------------------------------------------------------ traced runs

def test_traced_runs_pick_the_documented_run():
    t = _table([("beta_vae", "dsprites", 1, 0),       # 0
                ("beta_vae", "dsprites", 8, 0),       # 1  closest to 10 on dSprites, first run's seed: chosen
                ("beta_vae", "dsprites", 10, 1),      # 2  other seed
                ("beta_vae", "shapes3d", 10, 0),      # 3  dSprites comes first
                ("dip_vae_i", "shapes3d", 20, 0),     # 4
                ("dip_vae_i", "cars3d", 10, 0),       # 5  no dSprites run: the first dataset alphabetically
                ("rtc_vae", "dsprites", 5, 0),        # 6  |log ½| = |log 2|: the first in table order
                ("rtc_vae", "dsprites", 20, 0),       # 7
                ("revised_factor_vae", "dsprites", 10, 0)])  # not a traced model
    got = traced_runs(t)
    assert got == {"beta_vae": 1, "rtc_vae": 6, "dip_vae_i": 5}
    assert list(got) == ["beta_vae", "rtc_vae", "dip_vae_i"]             # the order of MODELS
    assert traced_runs(t.iloc[[2, 0, 1, 3]].reset_index(drop=True)) == {"beta_vae": 0}  # seed 1 leads now
    assert traced_runs(t, ["beta_vae"], strength=1.5) == {"beta_vae": 0}
    with pytest.raises(ValueError, match="empty"):
        traced_runs(t.iloc[:0])


def test_variance_band_summary_known_answer():
    log = pd.DataFrame({"step": [1, 2, 3, 4], "eta": [10.0, 12.0, 0.0, 1.5], "var_sum": [0.5, 0.5, 0.02, 0.05]})
    assert variance_band_summary(log) == {"final_eta": 1.5, "varsum_final": pytest.approx(0.035), "band_share": 50.0}
    assert variance_band_summary(log, band=(0.01, 0.06))["band_share"] == 100.0
    assert all(math.isnan(v) for v in variance_band_summary(None).values())
    with pytest.raises(KeyError, match="eta"):
        variance_band_summary(log.drop(columns="eta"))


def test_traversal_inputs():
    ds = TwoFactors()
    t = traversal_inputs(LinearVAE(WEIGHT), ds, n=50, seed=1)
    enc = encode(LinearVAE(WEIGHT), ds, n=50, seed=1)
    np.testing.assert_array_equal(t["base_code"], enc.mu[0])
    np.testing.assert_allclose(t["kl"], latent_kl(enc.mu, enc.sigma))
    assert t["active"].tolist() == [True, True, True, False]


# ------------------------------------------------------------------------------------------------ pairs

def test_pair_codes_first_run_active_latents_and_linked_factor():
    r2 = [[0.9, 0.0], [0.0, 0.8], [0.1, 0.2], [0.0, 0.0]]
    results = [FakeRun("dip_vae_i", "dsprites"), FakeRun("rtc_vae", "toy", r2=r2), FakeRun("rtc_vae", "toy", 20)]
    p = pair_codes(results, {"toy": TwoFactors()}, "rtc_vae", "toy", n=400, k=3, seed=0)
    assert p["run"] == 1 and results[2].loaded == []              # the first matching run only
    assert p["active"] == [0, 1, 2]                               # latent 3 is constant
    dep = p["dep"].set_index(["a", "b"])
    assert sorted(dep.index) == [(0, 1), (0, 2), (1, 2)]
    # argmax over factors of R²[a] + R²[b]: (0,1) → [0.9, 0.8] → a; (0,2) → [1.0, 0.2] → a; (1,2) → [0.1, 1.0] → b
    assert dep["factor"].to_dict() == {(0, 1): 0, (0, 2): 0, (1, 2): 1}
    assert dep.loc[(1, 2), "factor_name"] == "b"
    assert abs(dep.loc[(0, 1), "corr"]) < 0.15                    # independent factors
    assert pair_codes(results, {"toy": TwoFactors()}, "dip_vae_ii", "toy") is None
    one = FakeRun("rtc_vae", "toy", weight=np.diag([1.0, 0.0, 0.0, 0.0]))
    assert pair_codes([one], {"toy": TwoFactors()}, "rtc_vae", "toy", n=100)["dep"] is None  # one active latent


def test_pair_summary():
    dep = pd.DataFrame({"a": [0, 1], "b": [2, 2], "corr": [0.1, -0.6], "knn_mi": [0.9, 0.3],
                        "excess_mi": [0.8, 0.0]})
    assert pair_summary({"dep": dep}) == {"top_knn": 0.9, "top_corr": 0.1, "mean_excess": pytest.approx(0.4),
                                          "max_abs_corr": 0.6}
    assert all(math.isnan(v) for v in pair_summary(None).values())
    assert all(math.isnan(v) for v in pair_summary({"dep": None}).values())


# ------------------------------------------------------------------------------------------------ Theorem 1

def _encoding_with_known_covariance(n=1000):
    """µ = [a, a + b, 0] with a, b centred, orthogonal, of equal norm: the active pair's sample correlation is
    exactly 1/√2, so its Gaussian TC is −½·log(1 − ½) = ½·log 2; σ = 0.1 on the active latents (σ² = 0.01)."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(np.c_[np.ones(n), rng.normal(size=(n, 2))])
    a, b = q[:, 1] * 10, q[:, 2] * 10
    mu = np.c_[a, a + b, np.zeros(n)]
    sigma = np.c_[np.full(n, 0.1), np.full(n, 0.1), np.ones(n)]
    return Encoding(mu, sigma, mu.copy(), None, np.zeros(n))


def test_theorem1_row_closed_form():
    r = theorem1_row(_encoding_with_known_covariance())
    assert r["D"] == 2                                                  # the constant latent is inactive
    assert r["c1"] == pytest.approx(0.01) and r["c2"] == pytest.approx(0.01)  # its σ = 1 is not in the range
    assert r["tc_mean_active"] == pytest.approx(0.5 * math.log(2), rel=1e-9)
    assert r["tc_sample_active"] == pytest.approx(0.5 * math.log(2), rel=1e-9)
    # c1 = c2: log(c2/c1) = 0 and c3 = √2, so the bound is (√2 / 0.01)^(D+2) = 4·10^8
    assert r["bound"] == pytest.approx((math.sqrt(2) / 0.01) ** 4, rel=1e-6)


def test_theorem1_table_encodes_every_run_in_order():
    ds = TwoFactors()
    runs = [FakeRun("beta_vae", "toy", 4, 1), FakeRun("rtc_vae", "toy", 10, 0)]
    t = theorem1_table(runs, {"toy": ds}, n=80, seed=2)
    assert list(t.columns) == ["model", "dataset", "strength", "seed", "c1", "c2", "D", "tc_mean_active",
                               "tc_sample_active", "bound"]
    assert t[["model", "strength", "seed"]].values.tolist() == [["beta_vae", 4.0, 1], ["rtc_vae", 10.0, 0]]
    want = theorem1_row(encode(LinearVAE(WEIGHT), ds, n=80, seed=2))
    assert t.iloc[0][list(want)].to_dict() == pytest.approx(want)
    assert t["c1"].tolist() == pytest.approx([0.01, 0.01]) and t["D"].tolist() == [3, 3]
    with pytest.raises(KeyError):
        theorem1_table(runs, {}, n=10)


def test_theorem1_summary():
    th = pd.DataFrame({"model": ["beta_vae", "rtc_vae", "revised_beta_vae", "factor_vae"],
                       "c1": [0.1, 0.01, 0.02, 0.2], "c2": [0.4, 0.02, 0.1, 0.8],
                       "tc_sample_active": [1.0, 5.0, 0.1, 2.0], "bound": [2.0, 1.0, 1.0, 2.0]})
    assert theorem1_summary(th) == {"below": 3, "total": 4, "c1_min": 0.01, "c2_max": 0.8,
                                    "ratio_median": pytest.approx(4.0), "c2_revised": pytest.approx(0.06),
                                    "c2_vanilla": pytest.approx(0.6)}
    s = theorem1_summary(th[th.model == "beta_vae"])
    assert math.isnan(s["c2_revised"]) and s["c2_vanilla"] == 0.4


# ------------------------------------------------------------------------------------------------ tables

def test_shown_run_table():
    t = _table([("rtc_vae", "dsprites", 2, 0), ("beta_vae", "dsprites", 1, 0)])
    t["batch_size"], t["train_seconds"], t["eval_seconds"], t["recon"] = 64, 1.0, 2.0, [3.0, 4.0]
    show = shown_run_table(t)
    assert list(show.columns) == ["model name", "dataset", "strength", "seed", "recon"]
    assert show["model name"].tolist() == ["β-VAE", "RTC-VAE"]


def test_tc_mean_side_by_side():
    rows = [("factor_vae", "dsprites", 1.0), ("factor_vae", "dsprites", 3.0), ("rtc_vae", "dsprites", 0.5),
            ("dip_vae_i", "shapes3d", 9.0),                              # one side model only: left out
            ("dip_vae_i", "cars3d", 0.2), ("rtc_vae", "cars3d", 0.4), ("beta_vae", "cars3d", 7.0)]
    t = pd.DataFrame([dict(model=m, dataset=d, tc_mean=v) for m, d, v in rows])
    side = tc_mean_side_by_side(t)
    assert list(side.index) == ["cars3d", "dsprites"] and list(side.columns) == list(SIDE_MODELS)
    assert side.loc["dsprites", "factor_vae"] == 2.0 and side.loc["cars3d", "rtc_vae"] == 0.4
    assert np.isnan(side.loc["cars3d", "factor_vae"]) and np.isnan(side.loc["dsprites", "dip_vae_ii"])


def test_pair_sentence_says_why_there_is_no_pair_instead_of_a_nan():
    from rtc.experiments.comparison import pair_sentence

    assert pair_sentence(None, "RTC-VAE") == "This profile has no RTC-VAE run to look at."
    one = pair_sentence({"dep": None, "active": [3]}, "RTC-VAE")
    assert "1 active latent" in one and "nan" not in one.lower()
    dep = pd.DataFrame({"knn_mi": [0.5, 0.1], "corr": [0.2, -0.7], "excess_mi": [0.3, 0.1]})
    text = pair_sentence({"dep": dep, "active": [0, 1, 2]}, "DIP-VAE-I")
    assert text == ("DIP-VAE-I's most dependent pair has kNN mutual information 0.50 nats at a correlation of 0.20 "
                    "(largest |corr| over its active pairs 0.70; mean dependence beyond correlation per pair 0.20 "
                    "nats).")


def test_disparity_spectrum_finds_a_planted_near_null_direction():
    """Ten latents, two of them nearly collinear in µ (one eigenvalue of Corr µ ≈ 1e-3); z adds in-band noise
    (σ² = 0.003 per latent, Σσ² = 0.03: the paper's band) against Var µ_k = 1. The disparity is that direction's
    ½ log((2e-3 + 2σ²) / 2e-3) = ½ log 4 ≈ 0.69 nats, and it matches TC_mean − TC_sample of sample_tc."""
    from rtc.experiments.comparison import disparity_spectrum
    from rtc.gaussian import sample_tc

    rng = np.random.default_rng(0)
    n, d = 200_000, 10
    mu = rng.standard_normal((n, d))
    mu[:, 1] = mu[:, 0] + np.sqrt(2e-3) * rng.standard_normal(n)  # Corr(µ0, µ1) ≈ 0.999: λ_min ≈ 1e-3
    z = mu + np.sqrt(0.003) * rng.standard_normal((n, d))
    s = disparity_spectrum(mu, z)
    assert s["smallest"] == pytest.approx(1e-3, rel=0.1)
    assert s["disparity"] == pytest.approx(sample_tc(mu) - sample_tc(z), abs=1e-9)
    assert s["disparity"] == pytest.approx(0.5 * np.log(4.0), rel=0.05)
    assert s["smallest_share"] > 0.95
    independent = disparity_spectrum(rng.standard_normal((20_000, 4)), rng.standard_normal((20_000, 4)))
    assert abs(independent["disparity"]) < 0.01


def test_mechanism_row_splits_passive_latents_from_a_near_null_direction():
    """Nine active latents (two nearly collinear: λ_min(Corr µ) ≈ 1e-3, in-band noise) and one passive latent (µ
    nearly constant, σ = 1: prior noise). Var µ > 0.01 and Var µ > E σ² both count 9 active; TC over the active
    latents leaves the passive one out; the disparity's smallest direction is the planted pair."""
    from rtc.experiments.comparison import active_control, mechanism_row
    from rtc.gaussian import sample_tc
    from rtc.models.encoding import Encoding

    rng = np.random.default_rng(1)
    n, d = 100_000, 10
    mu = rng.standard_normal((n, d))
    mu[:, 1] = mu[:, 0] + np.sqrt(2e-3) * rng.standard_normal(n)
    mu[:, 9] = 1e-3 * rng.standard_normal(n)                  # passive: Var µ = 1e-6
    sigma = np.full((n, d), np.sqrt(0.003))
    sigma[:, 9] = 1.0
    z = mu + sigma * rng.standard_normal((n, d))
    row = mechanism_row(Encoding(mu, sigma, z, None, np.zeros(n)))
    assert row["active"] == row["active_snr"] == 9
    assert row["lmin_mu"] == pytest.approx(1e-3, rel=0.15) and row["smallest_share"] > 0.9
    assert row["tc_mean_active"] == pytest.approx(sample_tc(mu[:, :9]), rel=1e-9)
    assert row["sigma2"] == pytest.approx((0.003 * 9 + 1.0) / 10)
    mech = pd.DataFrame([dict(model="factor_vae", dataset="dsprites", strength=10.0, seed=0, tc_mean_active=2.0,
                              tc_mean=9.0),
                         dict(model="rtc_vae", dataset="dsprites", strength=10.0, seed=0, tc_mean_active=1.0,
                              tc_mean=1.5),
                         dict(model="rtc_vae", dataset="dsprites", strength=10.0, seed=1, tc_mean_active=1.0,
                              tc_mean=1.5)])
    assert active_control(mech) == {"n": 1, "vanilla_active": 2.0, "revised_all": 1.5}
