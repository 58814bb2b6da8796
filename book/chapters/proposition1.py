# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Proposition 1: the total correlation of a Gaussian
#
# **Proposition 1** (the paper's eq. 6). Let $x \sim \mathcal N(0, \Sigma)$ with $\Sigma$ a
# $D \times D$ positive-definite covariance. Then
#
# $$
# \mathrm{TC}(x) = \tfrac12\big(\log|\operatorname{diag}\Sigma| - \log|\Sigma|\big) = -\tfrac12 \log |R|,
# $$ (eq-prop1)
#
# where $R = \operatorname{diag}(\Sigma)^{-1/2}\,\Sigma\,\operatorname{diag}(\Sigma)^{-1/2}$ is the
# correlation matrix.
#
# *Proof.* The marginals are $x_k \sim \mathcal N(0, \Sigma_{kk})$, so $\prod_k p(x_k)$ is the Gaussian
# $\mathcal N(0, \operatorname{diag}\Sigma)$, and the KL divergence between two zero-mean Gaussians is
#
# $$
# \tfrac12\big(\operatorname{tr}(\operatorname{diag}(\Sigma)^{-1}\Sigma) - D
#   + \log|\operatorname{diag}\Sigma| - \log|\Sigma|\big);
# $$
#
# the trace is $\sum_k \Sigma_{kk}/\Sigma_{kk} = D$. ∎
#
# The paper (after {cite:t}`locatello2019challenging`) reports TC_mean and TC_sample of trained
# encoders with this formula applied to sample covariances. This chapter checks it against an
# independent estimate, shows its invariances, and shows its blind spot: it only sees correlation.
# `rtc.gaussian.gaussian_tc` evaluates {eq}`eq-prop1` as $-\sum_k \log L_{kk}$ with $L$ the Cholesky
# factor of $R$, in float64, after validating that $\Sigma$ is a finite symmetric positive-definite
# matrix.

# %% tags=["parameters"]
profile = "default"
seed = 0
dims = [2, 3, 4, 5, 6, 8, 10]
draws_per_dim = 6
mc_samples = 100000
invariance_draws = 300
example_samples = 200000

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from rtc.params import describe_run

display(Markdown(describe_run("proposition1", globals())))

# %% tags=["hide-cell"]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from tqdm import tqdm  # text bars (stderr): visible in reruns, removed from the rendered book

from rtc.gaussian import gaussian_tc, gaussian_tc_from_samples, random_covariance
from rtc.known_tc import Gaussian, RotatedUniformSquare, UniformDisk, monte_carlo_tc
from rtc.report import glue_figure, glue_values

gen = torch.Generator().manual_seed(seed)
plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## Closed form against Monte Carlo
#
# For each dimension we draw random covariances $\Sigma = S R S$ with `random_covariance` (a random
# correlation matrix $R$ with $\log|R|$ uniform in $[-1.5D, 0]$ and scales $S$ log-uniform in
# $[e^{-3}, e^{3}]$, about 2.6 orders of magnitude)
# and estimate the KL divergence {eq}`eq-tc-def` directly: the mean of
# $\log p(x) - \sum_k \log p(x_k)$ over samples $x \sim \mathcal N(0, \Sigma)$ with both densities
# exact. This estimate is unbiased and uses neither the determinant identity nor the correlation
# matrix.

# %%
rows = []
for d in tqdm(dims, desc="dimension"):
    for i in range(draws_per_dim):
        cov = random_covariance(d, generator=gen)
        mc = monte_carlo_tc(Gaussian(cov), mc_samples, generator=gen)
        closed = float(gaussian_tc(cov))
        rows.append(dict(D=d, draw=i, closed_form=closed, monte_carlo=mc.estimate,
                         stderr=mc.stderr, ci_low=mc.ci_low, ci_high=mc.ci_high,
                         covered=mc.contains(closed),
                         z_score=(mc.estimate - closed) / mc.stderr))
check = pd.DataFrame(rows)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
for j, d in enumerate(dims):
    part = check[check.D == d]
    axes[0].errorbar(part.closed_form, part.monte_carlo, yerr=1.96 * part.stderr, fmt="o", ms=4,
                     color=plt.cm.viridis(j / max(1, len(dims) - 1)), label=f"D = {d}")
lim = [0, check.closed_form.max() * 1.05]
axes[0].plot(lim, lim, "k--", lw=0.8)
axes[0].set(xlabel="Proposition 1 [nats]", ylabel="Monte Carlo KL [nats] (95 % CI)", title="closed form vs Monte Carlo")
axes[0].legend(fontsize=7, ncol=2)
zs = check.z_score.to_numpy()
axes[1].hist(zs, bins=15, density=True, color="C0", alpha=0.7, label="(MC − closed) / stderr")
t = np.linspace(-4, 4, 200)
axes[1].plot(t, np.exp(-t * t / 2) / math.sqrt(2 * math.pi), "k-", label="N(0, 1)")
axes[1].set(xlabel="standardised difference", title="standardised differences against N(0, 1)")
axes[1].legend(fontsize=8)
glue_figure("fig-prop1-mc", fig)
check.groupby("D").agg(draws=("draw", "size"), mean_closed=("closed_form", "mean"),
                       mean_mc=("monte_carlo", "mean"), max_abs_z=("z_score", lambda z: np.abs(z).max()),
                       ci_coverage=("covered", "mean")).round(4)

# %% tags=["hide-cell"]
glue_values({"prop1-n-checks": len(check), "prop1-covered": int(check.covered.sum()),
             "prop1-max-abs-z": float(np.abs(zs).max()), "prop1-mean-z": float(zs.mean())})

# %% [markdown]
# ```{glue:figure} fig-prop1-mc
# :name: fig-prop1-mc
#
# Left: Proposition 1 against a Monte Carlo estimate of the KL divergence for random covariances
# in each dimension of the profile's `dims`. Right: the standardised differences against the standard
# normal law, which they follow if the closed form is exact.
# ```
#
# Over {glue:text}`prop1-n-checks` random covariances the 95 % interval covered the closed form
# {glue:text}`prop1-covered` times; the largest standardised difference was
# {glue:text}`prop1-max-abs-z:.2f` and their mean {glue:text}`prop1-mean-z:.2f`.
#
# ## Invariances
#
# Rescaling a coordinate, $x_k \to a_k x_k$, or reordering the coordinates does not change how
# dependent they are, and {eq}`eq-prop1` reflects this exactly: $R$ is unchanged by $\Sigma \to A\Sigma A$
# ($A$ diagonal, non-singular) and only permuted by $\Sigma \to P \Sigma P^\top$. Numerically the
# difference is round-off.

# %%
diffs_scale, diffs_perm = [], []
for _ in range(invariance_draws):
    d = int(dims[int(torch.randint(len(dims), (1,), generator=gen))])
    cov = random_covariance(d, generator=gen)
    a = torch.exp(20 * torch.rand(d, generator=gen, dtype=torch.float64) - 10)
    a = a * torch.where(torch.rand(d, generator=gen) < 0.5, -1.0, 1.0).to(a)
    perm = torch.randperm(d, generator=gen)
    base = float(gaussian_tc(cov))
    diffs_scale.append(abs(float(gaussian_tc(a[:, None] * cov * a[None, :])) - base)
                       / max(base, 1e-300))
    diffs_perm.append(abs(float(gaussian_tc(cov[perm][:, perm])) - base)
                      / max(base, 1e-300))

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.logspace(-18, -10, 33)
ax.hist(np.maximum(diffs_scale, 1e-18), bins=bins, alpha=0.6, label=r"scaling $a_k \in \pm[e^{-10}, e^{10}]$")
ax.hist(np.maximum(diffs_perm, 1e-18), bins=bins, alpha=0.6, label="permutation")
ax.set(xscale="log", xlabel="relative change of TC (zero drawn at 1e-18)", ylabel="count",
       title=f"{invariance_draws} random covariances")
ax.legend(fontsize=8)
glue_figure("fig-prop1-invariance", fig)

# %% tags=["hide-cell"]
# round-off: a relative change within 100 float64 ulps (2.2e-14) of the TC
round_off = max(diffs_scale + diffs_perm) <= 100 * np.finfo(float).eps
glue_values({"prop1-max-scale": float(max(diffs_scale)), "prop1-max-perm": float(max(diffs_perm)),
             "prop1-invariance-verdict": "float64 round-off" if round_off else "more than float64 round-off"})

# %% [markdown]
# ```{glue:figure} fig-prop1-invariance
# :name: fig-prop1-invariance
#
# Relative change of the Gaussian TC under per-dimension rescaling (factors spanning 17 orders of
# magnitude, random signs) and under permutations.
# ```
#
# The largest relative change was {glue:text}`prop1-max-scale:.1e` under rescaling and
# {glue:text}`prop1-max-perm:.1e` under permutation — {glue:text}`prop1-invariance-verdict` (the
# scales cancel in $R$ before any logarithm is taken).
#
# ## The blind spot: uncorrelated is not independent
#
# Proposition 1 is exact only for Gaussians. Applied to the covariance of a non-Gaussian vector, it
# measures correlation, not dependence. Two uncorrelated but dependent vectors with exactly known TC:
#
# * **rotated square**: $u$ uniform on $[-1,1]^2$, $x = R_{45°} u$. Its covariance is $I/3$, but
#   the marginals are triangular, and TC $= 1 - \log 2 \approx 0.3069$ nats;
# * **uniform disk**: covariance $I/4$, semicircle marginals, TC $= \log\pi - 1 \approx 0.1447$ nats.
#
# A representation whose codes look like either one has a Gaussian TC of 0: this is how DIP-VAE,
# which penalises the covariance of the mean representation, can score a perfect TC_mean without
# factorising anything ({cite:t}`kumar2018variational`; the paper's section 5.2).

# %%
examples = {"rotated square": RotatedUniformSquare(), "uniform disk": UniformDisk()}
rows, samples = [], {}
for name, dist in examples.items():
    x = samples[name] = dist.sample(example_samples, gen)
    prop1 = float(gaussian_tc_from_samples(x))
    mc = monte_carlo_tc(dist, example_samples, generator=gen)
    corr = float(torch.corrcoef(x.T)[0, 1])
    rows.append({"example": name, "sample correlation": corr,
                 "Prop. 1 on sample covariance": prop1, "exact TC": dist.tc,
                 "Monte Carlo TC": mc.estimate, "95% CI low": mc.ci_low,
                 "95% CI high": mc.ci_high})
blind = pd.DataFrame(rows)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for ax, (name, x), corr in zip(axes[:2], samples.items(), blind["sample correlation"], strict=True):
    ax.scatter(x[:3000, 0], x[:3000, 1], s=1, alpha=0.4)
    ax.set(title=f"{name}: corr = {corr:+.3f}", xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
pos = np.arange(len(blind))
axes[2].bar(pos - 0.2, blind["Prop. 1 on sample covariance"], width=0.4, label="Prop. 1 (Gaussian TC)")
axes[2].bar(pos + 0.2, blind["exact TC"], width=0.4, label="true TC")
axes[2].set_xticks(pos, blind.example)
axes[2].set(ylabel="nats", title="what Prop. 1 sees")
axes[2].legend(fontsize=8)
glue_figure("fig-prop1-blind", fig)
blind.round(5)

# %% tags=["hide-cell"]
# the rows of `examples`: 0 the rotated square, 1 the uniform disk
glue_values({"blind-square-prop1": float(blind.iloc[0]["Prop. 1 on sample covariance"]),
             "blind-square-exact": float(blind.iloc[0]["exact TC"]),
             "blind-square-mc": float(blind.iloc[0]["Monte Carlo TC"]),
             "blind-disk-prop1": float(blind.iloc[1]["Prop. 1 on sample covariance"]),
             "blind-disk-exact": float(blind.iloc[1]["exact TC"]),
             "blind-disk-mc": float(blind.iloc[1]["Monte Carlo TC"])})

# %% [markdown]
# ```{glue:figure} fig-prop1-blind
# :name: fig-prop1-blind
#
# Two uncorrelated but dependent distributions. Proposition 1 on their covariance reports
# (essentially) zero; their true total correlation is clearly positive.
# ```
#
# On the Gaussian cases the Monte Carlo interval covered the formula {glue:text}`prop1-covered` times in
# {glue:text}`prop1-n-checks`; on the rotated square it reports {glue:text}`blind-square-prop1:.1e` nats where the
# truth is {glue:text}`blind-square-exact:.4f` (Monte Carlo with exact densities: {glue:text}`blind-square-mc:.4f`),
# and on the disk {glue:text}`blind-disk-prop1:.1e` against {glue:text}`blind-disk-exact:.4f`
# ({glue:text}`blind-disk-mc:.4f`). To see such dependence in learned codes we need an estimator
# that is not Gaussian-based — the non-parametric one of the estimator chapter.
