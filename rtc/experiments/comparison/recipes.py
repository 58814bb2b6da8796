"""The recipe study: which Adam learning rate and batch size the vanilla models learn with at the default budget,
read from its published table (``python -m rtc.studies recipes`` → ``published/recipes.csv``, one row per run and
kept step: :mod:`rtc.experiments.published`).

- :func:`recipe_runs` — every run along its training, with the book's one learning rule applied at each kept step
  (:func:`rtc.experiments.comparison.learning.add_learning`: the reconstruction through µ and the trained one,
  each within ``Thresholds.learned`` of the mean-image baseline) and the shape check (the held-out accuracy of a
  random forest telling dSprites' three shapes apart from µ at least ``Thresholds.shape_learned``,
  :mod:`rtc.experiments.probes`). A run *fails* when at the end of training it is not learned or has not
  learned the shapes.
- :func:`recipe_summary` — per recipe and model: failures with their exact (Clopper–Pearson) interval, each kind
  apart, the shape accuracy, the seed spread of TC_mean and of the disparity over the learned runs, and the images
  by which the learned runs first passed the learning check.
- :func:`adopt_recipe` — the rule, fixed before the study's runs were evaluated: on the seeds every recipe has
  (paired: one seed is one set of initial weights), the recipe with the fewest failures of both models together;
  ties go to the fewer mean-image failures, then to the recipe in use (a change costs every cached run), then to
  the smaller seed spread of TC_mean (the larger of the two models' log ranges over their learned runs). The
  spread was first over the runs that passed both checks, undefined when no run learns the shapes, and then, as
  first coded, one log range over both models together, which mixes the models' difference into the seeds' spread:
  both were changed after the study's results had been seen, and pick the same recipe
  (:func:`adopt_recipe` reports the choice under the pooled range beside it).
- :func:`every_model_learns` — the check added after the study's results had been seen (the rule counts the vanilla
  models only, and the recipe must be one *every* model of the comparison learns with): down the rule's ranking,
  the first recipe at which every paired run of every model the study trains — RTC-VAE too — passed the learning
  check at the end. It first held the rule's recipe alone against the long run's arm at it (RTC-VAE learned in 1
  of 5 runs there); the study has trained RTC-VAE at every recipe since.
- :func:`recipe_panels` — each run's reconstruction ratio and shape accuracy against the images seen, per model.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from rtc.claims import THRESHOLDS, Thresholds, binomial_interval

from ..columns import need_columns
from .constants import LABELS
from .learning import add_learning

__all__ = ["recipe_label", "recipe_runs", "recipe_summary", "adopt_recipe", "every_model_learns", "recipe_in_build",
           "recipe_panels", "CURRENT_RECIPE", "VANILLA"]

# The recipe the default profile used before the study (parameters/default/training.yaml): Adam lr 1e-3, batch 32.
CURRENT_RECIPE = (1e-3, 32)
# The models the rule counts: the two that lost seeds to the mean image at the recipe in use.
VANILLA = ("beta_vae", "factor_vae")


def recipe_label(lr: float, batch: int) -> str:
    return f"lr {lr:g}, batch {int(batch)}"


def recipe_runs(table: pd.DataFrame, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Copy of a published recipe table (one row per run and kept step) with ``recipe`` (its label),
    ``recon_ratio``, ``trained_ratio``, ``learned`` (the learning rule at that step), ``shape_learned``
    (``acc_shape`` ≥ ``t.shape_learned``), ``ok`` (both) and ``final`` (the run's last kept step)."""
    need_columns(table, ["model", "dataset", "seed", "lr", "batch_size", "step", "images_seen", "recon",
                         "trained_recon", "baseline", "floor", "acc_shape", "tc_mean", "disparity"])
    base = {d: {"baseline": float(g["baseline"].iloc[0]), "floor": float(g["floor"].iloc[0])}
            for d, g in table.groupby("dataset")}
    out = add_learning(table, base, t, trained_recon=table["trained_recon"].to_numpy())
    out["recipe"] = [recipe_label(lr, b) for lr, b in zip(out["lr"], out["batch_size"], strict=True)]
    out["shape_learned"] = out["acc_shape"] >= t.shape_learned
    out["ok"] = out["learned"] & out["shape_learned"]
    last = out.groupby(["model", "lr", "batch_size", "seed"])["step"].transform("max")
    out["final"] = out["step"] == last
    return out


def _share(k: int, n: int) -> str:
    lo, hi = binomial_interval(k, n)
    return f"{k}/{n} [{lo:.0%}, {hi:.0%}]"


def _spread(values, floor: float | None) -> str:
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return "—"
    if floor is None:
        return f"{np.median(v):.2f} [{v.min():.2f}, {v.max():.2f}]"
    v = np.maximum(v, floor)
    return f"{math.exp(np.log(v).mean()):.2f} [{v.min():.2f}, {v.max():.2f}], ×{v.max() / v.min():.1f}"


def recipe_summary(runs: pd.DataFrame, t: Thresholds = THRESHOLDS) -> pd.DataFrame:
    """Per recipe and model (runs: :func:`recipe_runs`), at the end of training: runs, failures (mean image, shape,
    either; each k/n with its exact interval at :data:`rtc.claims.LEVEL`), the shape accuracy (median [min, max]),
    TC_mean of the learned runs (geometric mean [min, max] and max/min, a value below ``t.disparity_floor``
    counted as it), their disparity (median [min, max], nats) and the images by which they first passed the
    learning check (median [min, max])."""
    need_columns(runs, ["recipe", "model", "lr", "batch_size", "seed", "final", "learned", "shape_learned", "ok",
                        "images_seen", "tc_mean", "disparity"])
    rows = []
    for (lr, b, m), g in runs.groupby(["lr", "batch_size", "model"], sort=True):
        end = g[g["final"]]
        good = end[end["learned"]]
        first = g[g["learned"]].groupby("seed")["images_seen"].min().reindex(good["seed"])
        n = len(end)
        rows.append({"recipe": recipe_label(lr, b), "model": LABELS.get(m, m), "seeds": n,
                     "images": int(end["images_seen"].max()),
                     "mean image": _share(int((~end["learned"]).sum()), n),
                     "shapes not learned": _share(int((end["learned"] & ~end["shape_learned"]).sum()), n),
                     "failures": _share(int((~end["ok"]).sum()), n),
                     "shape accuracy": f"{end['acc_shape'].median():.2f} [{end['acc_shape'].min():.2f}, "
                                       f"{end['acc_shape'].max():.2f}]",
                     "TC_mean (learned)": _spread(good["tc_mean"], t.disparity_floor),
                     "disparity (learned)": _spread(good["disparity"], None),
                     "images to learn": "—" if first.empty else
                     f"{int(first.median()):,} [{int(first.min()):,}, {int(first.max()):,}]"})
    return pd.DataFrame(rows)


def _log_range(values, floor: float) -> float:
    """max − min of log(max(values, floor)); inf with fewer than two values (no spread to compare)."""
    v = np.log(np.maximum(np.asarray(values, dtype=np.float64), floor))
    return float(v.max() - v.min()) if len(v) > 1 else math.inf


def adopt_recipe(runs: pd.DataFrame, current: tuple = CURRENT_RECIPE, t: Thresholds = THRESHOLDS,
                 models=VANILLA) -> dict:
    """The recipe the profiles should use, by the rule of the module docstring, over ``models`` (the rule's:
    the vanilla ones; other models' runs in ``runs`` are left to :func:`every_model_learns`). Returns ``recipe``
    ((lr, batch)), ``label``, ``seeds`` (the common ones, per model), ``scores`` (one row per recipe: failures,
    mean-image failures, TC_mean log range, rank) and ``text``, one sentence for the book."""
    need_columns(runs, ["model", "lr", "batch_size", "seed", "final", "learned", "ok", "tc_mean"])
    end = runs[runs["final"] & runs["model"].isin(list(models))]
    if end.empty:
        raise ValueError(f"no run of {', '.join(models)} at the end of training: nothing for the rule to compare")
    recipes = sorted({(float(lr), int(b)) for lr, b in zip(end["lr"], end["batch_size"], strict=True)})
    common = {}
    for m, g in end.groupby("model"):
        sets = [set(g[(g["lr"] == lr) & (g["batch_size"] == b)]["seed"]) for lr, b in recipes]
        common[m] = sorted(set.intersection(*sets)) if sets else []
        if not common[m]:
            raise ValueError(f"no seed of {m} is trained with every recipe: the rule compares recipes on paired seeds")
    rows = []
    for lr, b in recipes:
        g = end[(end["lr"] == lr) & (end["batch_size"] == b)]
        g = g[[s in common[m] for m, s in zip(g["model"], g["seed"], strict=True)]]
        spread = max(_log_range(gm[gm["learned"]]["tc_mean"], t.disparity_floor) for _, gm in g.groupby("model"))
        rows.append({"recipe": recipe_label(lr, b), "lr": lr, "batch_size": b, "runs": len(g),
                     "failures": int((~g["ok"]).sum()), "mean image": int((~g["learned"]).sum()),
                     "in use": (lr, b) == (float(current[0]), int(current[1])), "TC_mean log range": spread})
    scores = pd.DataFrame(rows)
    scores = scores.sort_values(["failures", "mean image", "in use", "TC_mean log range"],
                                ascending=[True, True, False, True], kind="stable").reset_index(drop=True)
    scores["rank"] = np.arange(1, len(scores) + 1)
    best = scores.iloc[0]
    chosen = (float(best["lr"]), int(best["batch_size"]))
    tied = scores[(scores["failures"] == best["failures"]) & (scores["mean image"] == best["mean image"])]
    why = ("the fewest failures" if len(tied) == 1 else
           f"the fewest failures, tied with {len(tied) - 1} other recipe(s) on failures and mean-image failures; "
           + ("kept as the recipe in use" if best["in use"] else "the smallest seed spread of TC_mean"))
    seeds = "; ".join(f"{LABELS.get(m, m)} seeds {', '.join(map(str, s))}" for m, s in common.items())
    text = (f"{recipe_label(*chosen)}: {int(best['failures'])} of {int(best['runs'])} runs failed on the paired seeds "
            f"({seeds}; {int(best['mean image'])} at the mean image, the others without the shapes) — {why}"
            + ("" if best["in use"] else f"; the rule would replace {recipe_label(*current)} by it"))
    return {"recipe": chosen, "label": recipe_label(*chosen), "seeds": common, "scores": scores, "text": text,
            "changed": not bool(best["in use"]), "pooled_choice": _pooled_choice(scores, end, common, t)}


def _pooled_choice(scores: pd.DataFrame, end: pd.DataFrame, common: dict, t: Thresholds) -> str:
    """The recipe the rule picks with the tie-break as first coded: one log range of TC_mean over both models'
    learned runs on the paired seeds."""
    pooled = []
    for lr, b in zip(scores["lr"], scores["batch_size"], strict=True):
        g = end[(end["lr"] == lr) & (end["batch_size"] == b) & end["learned"]]
        g = g[[s in common[m] for m, s in zip(g["model"], g["seed"], strict=True)]]
        pooled.append(_log_range(g["tc_mean"], t.disparity_floor))
    alt = scores.assign(pooled=pooled).sort_values(["failures", "mean image", "in use", "pooled"],
                                                   ascending=[True, True, False, True], kind="stable")
    return str(alt["recipe"].iloc[0])


def every_model_learns(adopted: dict, runs: pd.DataFrame, current: tuple = CURRENT_RECIPE,
                       models=VANILLA + ("rtc_vae",)) -> dict:
    """The rule's ranking (``adopted``: :func:`adopt_recipe`) held against every model of ``models`` — RTC-VAE
    too, which the rule does not count; each must be in ``runs`` — on its seeds common to every recipe (``runs``:
    :func:`recipe_runs`). A recipe *passes* when every one of those runs passed the learning check at the end of
    training (the mean-image check; the shapes are left to the rule). Returns ``recipe`` (the first recipe of the
    ranking that passes; ``current`` when none does), ``passes`` (whether one does), ``rule_passes`` (whether the
    rule's own recipe does), ``table`` (one row per recipe in the ranking's order: rank, each model's learned runs
    k/n, passes) and ``text``, one sentence for the book."""
    need_columns(runs, ["model", "lr", "batch_size", "seed", "final", "learned"])
    end = runs[runs["final"]]
    order = [(float(lr), int(b)) for lr, b in zip(adopted["scores"]["lr"], adopted["scores"]["batch_size"],
                                                    strict=True)]
    common = {}
    for m in models:
        g = end[end["model"] == m]
        sets = [set(g[np.isclose(g["lr"], lr) & (g["batch_size"] == b)]["seed"]) for lr, b in order]
        common[m] = set.intersection(*sets) if sets else set()
        if not common[m]:
            raise ValueError(f"no seed of {m} is trained with every recipe: the check compares recipes on paired "
                             "seeds")
    rows = []
    for rank, (lr, b) in enumerate(order, start=1):
        row = {"rank": rank, "recipe": recipe_label(lr, b)}
        ok = True
        for m in models:
            g = end[(end["model"] == m) & np.isclose(end["lr"], lr) & (end["batch_size"] == b)
                    & end["seed"].isin(common[m])]
            k, n = int(g["learned"].sum()), len(g)
            row[LABELS.get(m, m)] = f"{k}/{n}"
            ok = ok and k == n
        row["every run learned"] = "yes" if ok else "no"
        rows.append(row)
    table = pd.DataFrame(rows)
    passing = table[table["every run learned"] == "yes"]
    rule_passes = bool(len(table)) and table["every run learned"].iloc[0] == "yes"
    first = order[int(passing["rank"].iloc[0]) - 1] if len(passing) else None
    said = "; ".join(f"{k} learned in {v.split('/')[0]} of {v.split('/')[1]}" for k, v in table.iloc[0].items()
                     if k not in ("rank", "recipe", "every run learned"))
    if rule_passes:
        text = f"at the rule's recipe, {recipe_label(*order[0])}, {said} of the paired runs: every model learns with it"
    elif first is None:
        text = (f"at the rule's recipe, {recipe_label(*order[0])}, {said} of the paired runs; no recipe of the study "
                f"has every paired run of every model learned, so the profiles keep {recipe_label(*current)}")
    else:
        text = (f"at the rule's recipe, {recipe_label(*order[0])}, {said} of the paired runs; the first recipe down "
                f"the rule's ranking at which every paired run of every model learned is {recipe_label(*first)} "
                f"(rank {int(passing['rank'].iloc[0])})")
    return {"recipe": first if first is not None else (float(current[0]), int(current[1])),
            "passes": first is not None, "rule_passes": rule_passes, "table": table, "text": text}


def recipe_in_build(checked: dict, build: tuple, profile: str, current: tuple = CURRENT_RECIPE) -> str:
    """One sentence for the book: the recipe this build trains with (``build``: (lr, batch) of the ``profile``)
    against the check's (``checked``: :func:`every_model_learns`)."""
    said = f"This build (`{profile}`) trains with {recipe_label(*build)}"
    lr, b = checked["recipe"]
    if np.isclose(build[0], lr) and int(build[1]) == int(b):
        return (said + ", the recipe of the check above: the `default` and `long` profiles were switched to it "
                f"after the study, from {recipe_label(*current)}, which the long run keeps as an arm of its own.")
    if np.isclose(build[0], current[0]) and int(build[1]) == int(current[1]):
        return (said + f", the recipe in use before the study, not the check's {recipe_label(lr, b)}: every "
                f"verdict of this chapter is at {recipe_label(*build)}.")
    return said + f", its own setting, neither the check's {recipe_label(lr, b)} nor the recipe in use."


def recipe_panels(axes, runs: pd.DataFrame, models, colors: dict, t: Thresholds = THRESHOLDS) -> None:
    """Two rows of panels (``axes[0][j]``, ``axes[1][j]`` for ``models[j]``): each run's reconstruction ratio
    (log scale; ``Thresholds.learned`` dotted) and its shape accuracy (``Thresholds.shape_learned`` dotted) against
    the images seen (in thousands), one colour per recipe (``colors``: label → colour), the runs that ended at the
    mean image (not learned) dashed."""
    need_columns(runs, ["model", "recipe", "seed", "images_seen", "recon_ratio", "acc_shape", "learned", "final"])
    failed = {(r, m, s) for r, m, s, ok, f in zip(runs["recipe"], runs["model"], runs["seed"], runs["learned"],
                                                     runs["final"], strict=True) if f and not ok}
    for j, m in enumerate(models):
        for (rec, seed), g in runs[runs["model"] == m].groupby(["recipe", "seed"]):
            g = g.sort_values("images_seen")
            style = "--" if (rec, m, seed) in failed else "-"
            label = rec if seed == min(runs[(runs["model"] == m) & (runs["recipe"] == rec)]["seed"]) else None
            axes[0][j].plot(g["images_seen"], g["recon_ratio"], style, color=colors[rec], lw=1, label=label)
            axes[1][j].plot(g["images_seen"], g["acc_shape"], style, color=colors[rec], lw=1)
        axes[0][j].axhline(t.learned, color="k", ls=":", lw=1)
        axes[1][j].axhline(t.shape_learned, color="k", ls=":", lw=1)
        axes[1][j].axhline(1 / 3, color="grey", ls=":", lw=1)
        axes[0][j].set_yscale("log")
        axes[0][j].set_title(LABELS.get(m, m))
        axes[0][j].set_ylabel("(recon − floor) / (mean image − floor)")
        axes[1][j].set_ylabel("shape accuracy (held out)")
        axes[1][j].set_xlabel("images seen")
        for ax in (axes[0][j], axes[1][j]):
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:g}k"))
    axes[0][0].legend(fontsize=7)
