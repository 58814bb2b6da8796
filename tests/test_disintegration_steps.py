"""Known answers for the disintegration chapter's steps over the trained grid (rtc.experiments.disintegration):
look-ups in the controlled table, the run finder, encoding and analysing runs (a fake RunResult whose "encoder"
returns a controlled code with a known split factor), the half-training snapshots, texts for the prose and
deficits. The claims' verdicts: tests/test_disintegration_claims.py."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
import torch

from rtc.experiments.disintegration import (
    NO_RUN,
    SYNTHETIC_METRICS,
    analyse_runs,
    clearest_split,
    closed_form_agreement,
    controlled_experiment,
    controlled_value,
    deficit_shares,
    deficit_table,
    encode_half,
    encode_runs,
    pair_text,
    split_r2,
    split_texts,
    synthetic_code,
    tradeoff_dataset,
)
from rtc.experiments.selection import find_run
from rtc.metrics.evaluate import ARRAY_METRICS
from rtc.report import number_text, rho_text, run_label

# ---------------------------------------------------------------------------------------------------------------
# A fake trained run: its "images" are the rows of a controlled code, its encoder the identity
# ---------------------------------------------------------------------------------------------------------------


class CodeDataset:
    """The ``rtc.data`` interface over a SyntheticCode's grid: an observation is the code row (L, 1, 1)."""

    def __init__(self, code):
        self.code, self.factor_sizes = code, code.factor_sizes

    def sample_factors(self, n, rng):
        return self.code.factors[rng.integers(len(self.code.factors), size=n)]

    def observations(self, factors):
        rows = np.ravel_multi_index(tuple(np.asarray(factors).T), self.factor_sizes)
        return torch.as_tensor(self.code.codes[rows], dtype=torch.float32)[:, :, None, None]


class IdentityVAE(torch.nn.Module):
    """µ = the observation, log σ² = 0; decoding returns µ as a (n, L, 1, 1) "image"."""

    def __init__(self):
        super().__init__()
        self.dummy = torch.nn.Parameter(torch.zeros(1))  # encode_images reads the device from the parameters

    def encode(self, x):
        mu = x.flatten(1)
        return mu, torch.zeros_like(mu)

    def decode(self, z):
        return z[:, :, None, None]


@dataclass
class Config:
    model: str
    strength: float
    seed: int
    steps: int = 100


@dataclass
class Spec:
    name: str
    code: object = None

    def load(self):
        return CodeDataset(self.code)


@dataclass
class FakeResult:
    """The RunResult fields the chapter's steps read: config, dataset, factor_names, row, load_model(),
    load_snapshot(step) and snapshots (the steps with a snapshot)."""
    config: Config
    dataset: Spec
    factor_names: tuple = ()
    row: dict | None = None
    loads: int = 0
    snapshots: tuple = ()
    snapshot_loads: list | None = None

    def load_model(self, device=None):
        assert device is None
        self.loads += 1
        return IdentityVAE()

    def load_snapshot(self, step, device=None):
        assert step in self.snapshots and device is None
        self.snapshot_loads = [*(self.snapshot_loads or []), step]
        return IdentityVAE()


SPLIT = synthetic_code("split", k=2, m=4, other_sizes=(4,), noise=0.01, seed=1)  # factor 0 over latents 0, 1


def _result(model="rtc_vae", dataset="shapes3d", strength=10.0, seed=0, row=None):
    return FakeResult(Config(model, strength, seed), Spec(dataset, SPLIT), SPLIT.factor_names, row or {})


@pytest.fixture(scope="module")
def analysed():
    results = [_result(), _result("dip_vae_i", strength=5.0, seed=1)]
    encodings = encode_runs(results, n=600, seed=3)
    return results, encodings, analyse_runs(results, encodings, max_points=600, seed=0)


def test_encode_runs_loads_each_model_once_and_encodes_its_dataset(analysed):
    results, encodings, _ = analysed
    assert [r.loads for r in results] == [1, 1] and len(encodings) == 2
    enc = encodings[0]
    assert enc.mu.shape == (600, 3) and enc.factors.shape == (600, 2)
    rows = np.ravel_multi_index(tuple(enc.factors.T), SPLIT.factor_sizes)
    np.testing.assert_allclose(enc.mu, SPLIT.codes[rows], atol=1e-6)  # the identity encoder: µ = the code
    np.testing.assert_array_equal(enc.factors, encodings[1].factors)  # same seed, same draws


def test_analyse_runs_flags_the_known_split_factor(analysed):
    _, _, factors = analysed
    assert set(factors.run) == {0, 1} and len(factors) == 2 * 2 * 2  # runs × scores × factors
    first = factors[factors.run == 0].set_index(["score", "factor"])
    assert bool(first.loc[("nmi", "factor 0"), "disintegrated"])          # each digit latent: NMI 1/2
    assert first.loc[("nmi", "factor 0"), "split_ratio"] == pytest.approx(1.0, abs=0.1)
    assert not bool(first.loc[("r2", "factor 0"), "disintegrated"])       # the fine digit explains little variance
    assert not bool(first.loc[("nmi", "factor 1"), "disintegrated"])      # the identity latent
    r2 = split_r2(4, 2)
    assert first.loc[("r2", "factor 0"), "s1"] == pytest.approx(r2[0], abs=0.02)
    second = factors[factors.run == 1].iloc[0]
    assert (second.model, second.dataset, second.strength, second.seed) == ("dip_vae_i", "shapes3d", 5.0, 1)


def test_analyse_runs_needs_one_encoding_per_run(analysed):
    results, encodings, _ = analysed
    with pytest.raises(ValueError, match="one encoding per run"):
        analyse_runs(results, encodings[:1])


def test_analyse_runs_adds_tc_mean_and_the_control_flag(analysed):
    _, encodings, factors = analysed
    from rtc.gaussian import sample_tc
    assert (factors[factors.run == 0].tc_mean == sample_tc(encodings[0].mu)).all()
    first = factors[factors.run == 0].set_index(["score", "factor"])
    # the split's second latent permuted: a two-latent split cannot be flagged on its control code
    assert bool(first.loc[("nmi", "factor 0"), "disintegrated"]) and not bool(first.loc[("nmi", "factor 0"), "control"])
    assert list(first.loc["nmi"].factor_index) == [0, 1]


def test_encode_half_loads_the_half_training_snapshot_or_gives_none():
    with_snapshot = FakeResult(Config("rtc_vae", 10.0, 0, steps=100), Spec("dsprites", SPLIT), SPLIT.factor_names,
                               snapshots=(25, 50, 75, 100))
    without = FakeResult(Config("rtc_vae", 10.0, 1, steps=100), Spec("dsprites", SPLIT), SPLIT.factor_names,
                         snapshots=(40, 80))
    half = encode_half([with_snapshot, without], n=300, seed=3)
    assert with_snapshot.snapshot_loads == [50] and without.snapshot_loads is None and half[1] is None
    full = encode_runs([with_snapshot], n=300, seed=3)[0]
    np.testing.assert_array_equal(half[0].factors, full.factors)  # the same images at half and full training
    factors = analyse_runs([with_snapshot, without], half, max_points=300)
    assert set(factors.run) == {0}
    assert analyse_runs([without], [None]) is None


def test_clearest_split_of_the_known_split(analysed):
    _, _, factors = analysed
    row = clearest_split(factors, 0)
    assert row.factor == "factor 0" and row.factor_index == 0
    assert {int(row.top_latent), int(row.second_latent)} == {0, 1}
    r2 = split_r2(4, 2)
    assert row.gap_r2 == pytest.approx(r2[0] - r2[1], abs=0.03)
    with pytest.raises(ValueError, match="run 7"):
        clearest_split(factors, 7)


def _uncaptured(factors):
    """The analysed table with no factor captured (a model that learned nothing)."""
    return factors.assign(captured=False)


def test_clearest_split_without_a_captured_factor(analysed):
    _, _, factors = analysed
    none = _uncaptured(factors)
    assert clearest_split(none, 0) is None
    row = clearest_split(none, 0, fallback=True)  # the largest split ratio, shown for the mechanics
    assert row.factor == "factor 0" and not row.captured


def test_split_and_pair_texts(analysed):
    results, _, factors = analysed
    results = [_result(row={"sap_r2": 0.5, "mig_ref": float("nan")}), results[1]]
    texts = split_texts(results, factors, 0)
    assert texts["sap"] == "0.50" and texts["mig"] == "n/a" and texts["split-factor"] == "factor 0"
    assert texts["split-pair"] in ("z0, z1", "z1, z0")
    assert set(texts) == {"sap", "mig", "split-factor", "split-pair", "split-gap-nmi", "split-gap-r2"}
    assert set(split_texts(results, factors, None).values()) == {"n/a"}
    none = split_texts(results, _uncaptured(factors), 0)
    assert none["split-factor"] == none["split-pair"] == "n/a (no captured factor)" and none["sap"] == "0.50"
    text = pair_text(factors, 0)
    assert text.startswith("factor factor 0: latents z") and text.endswith("flagged as disintegrated: yes")
    assert "shown for the mechanics" in pair_text(_uncaptured(factors), 0)
    assert pair_text(factors, None) == NO_RUN


def test_find_run_takes_the_first_in_grid_order():
    runs = [_result("factor_vae"), _result("rtc_vae", "dsprites"), _result("rtc_vae", seed=1), _result("rtc_vae")]
    assert find_run(runs, "rtc_vae", "shapes3d") == 2  # the first of two, not the last
    assert find_run(runs, "rtc_vae", "dsprites") == 1
    assert find_run(runs, "dip_vae_i", "shapes3d") is None
    assert find_run([], "rtc_vae", "shapes3d") is None
    assert find_run(runs, "rtc_vae", ("cars3d", "dsprites", "shapes3d")) == 1  # the first preferred dataset wins
    assert find_run(runs, "factor_vae", ("dsprites", "shapes3d")) == 0
    assert run_label(runs[2]) == "RTC-VAE 10 s1 (shapes3d)"


# ---------------------------------------------------------------------------------------------------------------
# Numbers for the prose
# ---------------------------------------------------------------------------------------------------------------

def test_number_text():
    assert number_text(0.123456) == "0.12" and number_text(np.float32(2.5), ".1f") == "2.5"
    assert number_text(3, "+.2f") == "+3.00" and number_text(1.5e-12, ".1e") == "1.5e-12"
    assert number_text(None) == number_text(float("nan")) == number_text(-math.inf) == "n/a"
    for bad in (True, "0.5", [0.5]):
        with pytest.raises(TypeError, match="real number"):
            number_text(bad)


def test_rho_text():
    assert rho_text(dict(rho=-0.5, lo=-0.91, hi=0.054, n=7)) == "-0.50 [-0.91, 0.05] (7 runs)"
    assert rho_text(dict(rho=float("nan"), lo=float("nan"), hi=float("nan"), n=2)) == "n/a (2 runs)"


# ---------------------------------------------------------------------------------------------------------------
# The controlled table
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def controlled():
    return controlled_experiment(ks=(1, 2), noises=(0.0, 0.2), m=3, dependent_m=4, alphas=(0.0, math.pi / 4),
                                 other_sizes=(3,), scores=False, chen_samples=30)


def test_synthetic_metrics_are_the_array_metrics_without_tc_and_svc():
    assert SYNTHETIC_METRICS == ("sap_r2", "mig", "mig_chen", "dci", "modularity", "disintegration")  # no explicitness
    assert set(SYNTHETIC_METRICS) <= set(ARRAY_METRICS)


def test_controlled_value_known_answers(controlled):
    assert controlled_value(controlled, "split", "flag_nmi", k=2) == 1.0   # a two-digit split is flagged by NMI
    assert controlled_value(controlled, "split", "flag_nmi", k=1) == 0.0   # the identity code is not
    assert controlled_value(controlled, "split", "mig_ref", k=2) == pytest.approx(0.0, abs=1e-9)
    assert controlled_value(controlled, "split", "mig_ref", scope="model", k=1) == pytest.approx(1.0)
    assert controlled_value(controlled, "rotation", "sap_r2", alpha=math.pi / 4) == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="2 rows"):  # two k values: the selection is ambiguous
        controlled_value(controlled, "split", "flag_nmi")
    with pytest.raises(ValueError, match="0 rows"):
        controlled_value(controlled, "split", "flag_nmi", k=5)
    with pytest.raises(KeyError, match="lacks columns"):
        controlled_value(controlled, "split", "flag_nmi", depth=1)


def test_closed_form_agreement(controlled):
    a = closed_form_agreement(controlled)
    exact = controlled[controlled.exact]
    assert a["count_exact"] == len(exact) > 0 and a["maxdev_exact"] < 1e-9
    assert a["count_noisy"] == int(((controlled.noise > 0) & controlled.closed_form.notna()).sum()) > 0
    assert 0 < a["maxdev_noisy"] < 0.2  # one noise draw against the population value
    clean = closed_form_agreement(controlled[controlled.noise == 0])
    assert clean["count_noisy"] == 0 and math.isnan(clean["maxdev_noisy"])
    with pytest.raises(ValueError, match="noise 0.0"):
        closed_form_agreement(controlled[controlled.noise > 0])


# ---------------------------------------------------------------------------------------------------------------
# Deficits and claims on hand-made tables
# ---------------------------------------------------------------------------------------------------------------

def _factor_rows(run, model, score, deficits, explained, **extra):
    return [dict(run=run, model=model, strength=1.0, score=score, factor=f"f{j}", deficit=d, explained=e,
                 captured=True, disintegrated=e > 0, dedicated=True, **extra)
            for j, (d, e) in enumerate(zip(deficits, explained, strict=True))]


def test_deficit_table_and_shares():
    results = [_result("rtc_vae", "dsprites"), _result("beta_vae", "dsprites", seed=2)]
    factors = pd.DataFrame(_factor_rows(0, "rtc_vae", "r2", [0.4, 0.2], [0.2, 0.0])
                           + _factor_rows(1, "beta_vae", "r2", [0.5, 0.5], [0.1, 0.0])
                           + _factor_rows(0, "rtc_vae", "nmi", [0.0, 0.0], [0.0, 0.0])
                           + _factor_rows(1, "beta_vae", "nmi", [0.0, 0.0], [0.0, 0.0]))
    d = deficit_table(factors, results, "r2")
    assert list(d.run) == ["RTC-VAE 10", "β-VAE 10 s2"]
    np.testing.assert_allclose(d.deficit, [0.3, 0.5])
    np.testing.assert_allclose(d.explained, [0.1, 0.05])
    np.testing.assert_allclose(d.share, [1 / 3, 0.1])
    s = deficit_shares(d)
    assert s["share"] == pytest.approx(100 * 0.15 / 0.8) and s["max_share"] == pytest.approx(100 / 3)
    assert s["max_run"] == d.run[0]
    none = deficit_shares(deficit_table(factors, results, "nmi"))  # no deficit: no share
    assert math.isnan(none["share"]) and math.isnan(none["max_share"]) and none["max_run"] == d.run[0]
    with pytest.raises(ValueError, match="score must"):
        deficit_table(factors, results, "mi")
    with pytest.raises(ValueError, match="run 2"):
        deficit_table(factors, [*results, _result()], "r2")


def test_tradeoff_dataset():
    table = pd.DataFrame(dict(model=["rtc_vae", "factor_vae", "beta_vae", "beta_vae", "rtc_vae"],
                              dataset=["dsprites", "shapes3d", "cars3d", "cars3d", "shapes3d"]))
    assert tradeoff_dataset(table) == "shapes3d"  # most factorised runs; beta_vae does not count
    assert tradeoff_dataset(table[table.model == "beta_vae"]) is None
