"""Verdicts along training: a confirmed / refuted claim keeps its word only on a plateau of the quantities it rests
on; otherwise it reads "holds / not reproduced, still moving" — and every verdict names its budget."""
import numpy as np
import pandas as pd
import pytest

from rtc.claims import VERDICTS, Observation, Thresholds, budget_text, trajectory_verdict, verdict_counts, verdict_table
from rtc.experiments.comparison import CLAIMS, claim_plateau, with_trajectories

STEPS = np.array([250, 500, 750, 1000, 1500])


def _curve(values, batch=32):
    return pd.DataFrame({"step": STEPS, "images_seen": STEPS * batch, "disparity": values, "tc_mean": values,
                         "tc_sample": values, "recon": values})


def _table(models, seeds=(0, 1, 2)):
    rows = [dict(model=m, dataset="dsprites", strength=10.0, seed=s, steps=1500, batch_size=32)
            for m in models for s in seeds]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("verdict,plateau,out", [
    ("confirmed", "plateau", "confirmed"), ("refuted", "plateau", "refuted"),
    ("confirmed", "moving", "holds, still moving"), ("refuted", "undecided", "not reproduced, still moving"),
    ("confirmed", "too few snapshots", "holds, still moving"), ("confirmed", None, "holds, still moving"),
    ("inconclusive", "moving", "inconclusive"), ("not converged", "moving", "not converged"),
    ("partly", "plateau", "partly"),
])
def test_trajectory_verdict(verdict, plateau, out):
    assert trajectory_verdict(verdict, plateau) == out and out in VERDICTS
    with pytest.raises(ValueError, match="unknown verdict"):
        trajectory_verdict("holds", plateau)


def test_a_drifting_disparity_is_still_moving_and_a_flat_one_a_plateau():
    rng = np.random.default_rng(0)
    log_images = np.log2(STEPS * 32)
    flat = [_curve(0.9 + 0.01 * rng.standard_normal(5)) for _ in range(3)]
    drift = [_curve(3.0 - 0.7 * (log_images - log_images[0]) + 0.01 * rng.standard_normal(5)) for _ in range(3)]
    table = _table(["rtc_vae"])
    obs = Observation("no disparity for rtc_vae", "confirmed", "confirmed", "", {"rows": [0, 1, 2]})
    t = Thresholds()
    word, notes = claim_plateau("none_rtc_vae", obs, table, dict(enumerate(flat)), t)
    assert word == "plateau" and "RTC-VAE 10: disparity plateau" in notes
    word, notes = claim_plateau("none_rtc_vae", obs, table, dict(enumerate(drift)), t)
    assert word == "moving" and "per doubling" in notes
    one = Observation("x", "confirmed", "confirmed", "", {"rows": [0]})
    assert claim_plateau("none_rtc_vae", one, table, {0: flat[0]}, t)[0] == "too few snapshots"


def test_with_trajectories_names_the_budget_and_counts_moving_apart():
    rng = np.random.default_rng(1)
    log_images = np.log2(STEPS * 32)
    table = _table(["rtc_vae", "factor_vae"])
    curves = {i: _curve(0.9 + 0.01 * rng.standard_normal(5)) for i in range(3)}
    curves.update({i: _curve(5 + 2 * (log_images - log_images[0]) + 0.01 * rng.standard_normal(5))
                   for i in range(3, 6)})
    claims = {"none_rtc_vae": Observation("no disparity for rtc_vae", "confirmed", "confirmed", "ev.",
                                          {"rows": [0, 1, 2]}),
              "disparity_factor_vae": Observation("disparity for factor_vae", "confirmed",
                                                  "confirmed (over the active latents: inconclusive)", "ev.",
                                                  {"rows": [3, 4, 5]}),
              "revised_lower": Observation("revised lower", "inconclusive", "inconclusive", "",
                                           {"rows": [0, 1, 2, 3, 4, 5]})}
    out = with_trajectories(claims, table, curves)
    assert out["none_rtc_vae"].verdict == "confirmed" and out["none_rtc_vae"].plateau == "plateau"
    assert out["none_rtc_vae"].summary == "confirmed at 48,000 images per run" and out["none_rtc_vae"].images == 48000
    f = out["disparity_factor_vae"]
    assert f.verdict == "holds, still moving" and f.plateau == "moving"
    assert f.summary == "holds at 48,000 images per run, still moving (over the active latents: inconclusive)"
    assert "Along training: FactorVAE 10: disparity moving" in f.evidence
    assert out["revised_lower"].summary.startswith("inconclusive at 48,000 images per run")
    counts = verdict_counts(out.values())
    assert counts["holds, still moving"] == 1 and counts["confirmed"] == 1 and counts["inconclusive"] == 1
    table_out = verdict_table(out, CLAIMS)
    assert list(table_out["images per run"]) == ["48,000"] * 3 and "plateau" in table_out


def test_budget_text():
    assert budget_text("refuted", 1_500_000) == "refuted at 1,500,000 images per run"
    assert budget_text("not reproduced, still moving", 480) == "not reproduced at 480 images per run, still moving"
