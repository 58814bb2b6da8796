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
# # Theorem 1: a bounded TC of samples, an unbounded TC of means
#
# A VAE encoder maps an input $x_n$ to a mean $\mu(n)$ and a diagonal variance; the *sampled*
# representation is $z \mid \mu \sim \mathcal N(\mu, \Sigma'(\mu))$ and the *mean* representation
# is $\mu$ itself. FactorVAE and β-TCVAE penalise the total correlation (TC) of the sampled
# representation, yet people use the mean. This chapter checks numerically the paper's answer to
# why that fails: the TC of $z$ can stay small while the TC of $\mu$ is as large as you like.
#
# For a random vector $x$ with density $p$, the total correlation {cite:p}`watanabe1960information` is
#
# $$
# \mathrm{TC}(x) = \mathrm{KL}\Big(p(x)\,\Big\|\,\prod_j p(x_j)\Big)
#               = \mathbb E_{p(x)}\Big[\log \frac{p(x)}{\prod_j p(x_j)}\Big] .
# $$ (eq-tc-def)
#
# **Theorem 1** (the paper's). Let $\mu \sim \mathcal N(0, \Sigma)$ and, for fixed $\mu$,
# $z \mid \mu \sim \mathcal N(\mu, \Sigma'(\mu))$ with $\Sigma'(\mu)$ diagonal and
# $c_1 \le \sigma'_j(\mu) \le c_2$ for every $j$ and $\mu$ ($c_1, c_2 > 0$; $\sigma'_j$ is the $j$-th
# diagonal entry, a variance). Then $\mathrm{TC}(z)$ is bounded independently of $\mathrm{TC}(\mu)$:
#
# $$
# \mathrm{TC}(z) \le C\,\frac{c_3^D}{c_1^D}\log\frac{c_2}{c_1} + C\,\frac{c_3^{D+2}}{c_1^{D+2}},
# \qquad c_3 = \max(c_2, \sqrt D),
# $$ (eq-theorem1)
#
# with $C$ depending only on the dimension $D$. Since $\mathrm{TC}(\mu) = -\tfrac12\log|R|$ for
# the correlation matrix $R$ of $\Sigma$ (Proposition 1, next chapter), driving $|R| \to 0$ makes
# $\mathrm{TC}(\mu) \to \infty$ while the right-hand side of {eq}`eq-theorem1` does not move.
#
# **How we compute.** With constant $\Sigma'$, $z \sim \mathcal N(0, \Sigma + \Sigma')$ and TC(z) is
# Proposition 1 of $\Sigma + \Sigma'$. With a $\mu$-dependent $\Sigma'(\mu)$, $z$ is a continuous
# Gaussian mixture with no closed form; `rtc.mixture_tc` computes its TC two independent ways:
# a deterministic 2-D quadrature (the law of $\mu$ deposited on a fine grid, $p(z)$ as a matrix
# product, Richardson-extrapolated, with an error estimate) and, in any dimension, a nested Monte
# Carlo estimate with importance-sampled inner integrals and a 95 % confidence interval.
# The µ-dependent variance used throughout is
# $\sigma'_j(\mu) = c_1 + (c_2 - c_1)\,\mathrm{sigmoid}(2\mu_j)$ in 2-D (quadrature needs each
# variance to depend on its own coordinate) and $\sigma'_j(\mu) = c_1 + (c_2-c_1)\,\mathrm{sigmoid}(2\mu_{j+1})$
# in higher dimension (noise of one latent driven by another).

# %% tags=["parameters"]
profile = "default"
seed = 0
rhos = [0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999]
variance_bounds = [[0.01, 0.1], [0.05, 0.5], [0.2, 1.0]]
quadrature_resolution = 1.0
noise_scales = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001, 0.0003]
mc_dim = 5
mc_log_dets = [0.0, -2.0, -5.0, -10.0, -20.0]
mc_bounds = [0.05, 0.5]
mc_outer = 2000
mc_inner = 256

# %% tags=["hide-input"]
from IPython.display import Markdown, display

from rtc.params import describe_run

display(Markdown(describe_run("theorem1", globals())))

# %% tags=["hide-cell"]
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from tqdm import tqdm  # text bars (stderr): visible in reruns, removed from the rendered book

from rtc.gaussian import bivariate_tc, gaussian_tc, random_correlation
from rtc.mixture_tc import (
    BoundedVariance,
    ConstantVariance,
    mixture_density_2d,
    sample_latents,
    tc_constant_noise,
    tc_monte_carlo,
    tc_quadrature_2d,
    theorem1_bound,
)
from rtc.report import glue_figure, glue_values

torch.manual_seed(seed)
plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3})

# %% [markdown]
# ## The paper's Figure 1
#
# $(\mu_1, \mu_2) \sim \mathcal N(0, \Sigma)$ with $\Sigma = \begin{pmatrix} 1 & 0.1 \\ 0.1 & 0.01\end{pmatrix}$.
# This $\Sigma$ is singular ($|\Sigma| = 0.01 - 0.1^2 = 0$): $\mu_2 = 0.1\,\mu_1$ exactly, so
# $\mathrm{TC}(\mu) = \infty$. (The paper says "$\mu_1$ has almost shut down"; it is $\mu_2$, with
# variance 0.01, that has.) Adding independent noise $z_1 \mid \mu_1 \sim \mathcal N(\mu_1, 0.01)$,
# $z_2 \mid \mu_2 \sim \mathcal N(\mu_2, 1)$ gives $z \sim \mathcal N(0, \Sigma + \operatorname{diag}(0.01, 1))$.

# %%
sigma_fig1 = torch.tensor([[1.0, 0.1], [0.1, 0.01]], dtype=torch.float64)
noise_fig1 = ConstantVariance((0.01, 1.0))
tc_fig1_closed = float(tc_constant_noise(sigma_fig1, noise_fig1.values))
q_fig1 = tc_quadrature_2d(sigma_fig1, noise_fig1, resolution=quadrature_resolution)
mc_fig1 = tc_monte_carlo(sigma_fig1, noise_fig1, n_outer=mc_outer, n_inner=mc_inner,
                         seed=seed)
g = torch.Generator().manual_seed(seed)
mu_s, z_s = sample_latents(sigma_fig1, noise_fig1, 3000, generator=g)
z1, z2, pz = mixture_density_2d(sigma_fig1, noise_fig1, width=4.0)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(9.5, 4.2))
axes[0].scatter(mu_s[:, 0], mu_s[:, 1], s=2, alpha=0.4, color="C0")
axes[0].set(title=r"samples of $\mu$: TC($\mu$) = $\infty$", xlabel=r"$\mu_1$", ylabel=r"$\mu_2$",
            xlim=(-4, 4), ylim=(-4, 4))
axes[1].contourf(z1.numpy(), z2.numpy(), pz.T.numpy(), levels=20, cmap="Blues")
axes[1].scatter(z_s[:500, 0], z_s[:500, 1], s=2, alpha=0.3, color="k")
axes[1].set(title=f"density of z: TC(z) = {tc_fig1_closed:.4f} nats", xlabel=r"$z_1$", ylabel=r"$z_2$",
            xlim=(-4, 4), ylim=(-4, 4))
glue_figure("fig-theorem1-figure1", fig)
pd.DataFrame({"method": ["Prop. 1 of Σ + Σ′ (exact)", "2-D quadrature", "Monte Carlo"],
              "TC(z) [nats]": [tc_fig1_closed, q_fig1.tc, mc_fig1.tc],
              "uncertainty": ["—", f"± {q_fig1.error:.1e} (est.)",
                              f"95 % CI [{mc_fig1.ci_low:.4f}, {mc_fig1.ci_high:.4f}]"]})

# %% tags=["hide-cell"]
# agreement: the quadrature within 10× its error estimate of the exact value, the exact value inside the MC interval
agree = abs(q_fig1.tc - tc_fig1_closed) <= 10 * q_fig1.error and mc_fig1.contains(tc_fig1_closed)
glue_values({"tc-fig1-closed": tc_fig1_closed, "tc-fig1-quad": q_fig1.tc, "tc-fig1-quad-err": q_fig1.error,
             "tc-fig1-mc": mc_fig1.tc, "tc-fig1-mc-lo": mc_fig1.ci_low, "tc-fig1-mc-hi": mc_fig1.ci_high,
             "fig1-agree": "agree" if agree else "do not all agree"})

# %% [markdown]
# ```{glue:figure} fig-theorem1-figure1
# :name: fig-theorem1-figure1
#
# The paper's Figure 1 example. Left: the mean representation lives on the line
# $\mu_2 = 0.1\mu_1$, so its TC is infinite. Right: the sampled representation after independent
# noise of variances (0.01, 1) — contours of the exact density and 500 samples.
# ```
#
# The three computations {glue:text}`fig1-agree`: exact {glue:text}`tc-fig1-closed:.5f` nats, quadrature
# {glue:text}`tc-fig1-quad:.5f` (estimated error {glue:text}`tc-fig1-quad-err:.1e`), Monte Carlo
# {glue:text}`tc-fig1-mc:.4f` (95 % CI [{glue:text}`tc-fig1-mc-lo:.4f`, {glue:text}`tc-fig1-mc-hi:.4f`]).
# An infinitely entangled mean hides behind a sampled representation whose TC is
# {glue:text}`tc-fig1-closed:.3f` nats.
#
# ## TC(µ) → ∞ while TC(z) stays bounded
#
# Take $\Sigma = \begin{pmatrix} 1 & \rho \\ \rho & 1\end{pmatrix}$ and let $\rho \to 1$:
# $\mathrm{TC}(\mu) = -\tfrac12 \log(1-\rho^2) \to \infty$. For each pair $(c_1, c_2)$ the noise
# variances depend on $\mu$ and stay in $[c_1, c_2]$; TC(z) has no closed form and is computed by
# quadrature. The dashed lines are the closed forms with the constant variances $c_1$ and $c_2$.

# %%
rows = []
for c1, c2 in tqdm(variance_bounds, desc="(c1, c2)"):
    var = BoundedVariance(c1, c2, slope=2.0, source="self")
    for rho in rhos:
        s = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
        q = tc_quadrature_2d(s, var, resolution=quadrature_resolution)
        rows.append(dict(c1=c1, c2=c2, rho=rho, tc_mu=float(bivariate_tc(rho)),
                         tc_z=q.tc, tc_z_err=q.error,
                         tc_z_const_c1=float(tc_constant_noise(s, c1)),
                         tc_z_const_c2=float(tc_constant_noise(s, c2))))
sweep = pd.DataFrame(rows)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.5, 4.5))
x = 1 - np.asarray(rhos)
x_plot = np.where(x > 0, x, 1.0)  # ρ = 0 drawn at 1 − ρ = 1
ax.plot(x_plot, sweep.query("c1 == @variance_bounds[0][0]").tc_mu, "k-o", lw=2, label=r"TC($\mu$)")
for i, (c1, c2) in enumerate(variance_bounds):
    part = sweep[(sweep.c1 == c1) & (sweep.c2 == c2)]
    ax.errorbar(x_plot, part.tc_z, yerr=part.tc_z_err, fmt="-s", color=f"C{i}", ms=4,
                label=fr"TC(z), $\sigma'(\mu) \in [{c1}, {c2}]$")
    ax.plot(x_plot, part.tc_z_const_c1, "--", color=f"C{i}", lw=0.8)
    ax.plot(x_plot, part.tc_z_const_c2, ":", color=f"C{i}", lw=0.8)
ax.set(xscale="log", xlabel=r"$1-\rho$", ylabel="total correlation [nats]", title="mean vs sampled representation")
ax.invert_xaxis()
ax.legend(fontsize=8)
glue_figure("fig-theorem1-sweep", fig)
sweep.round(5)

# %% tags=["hide-cell"]
per_band = [f"{sweep[(sweep.c1 == c1) & (sweep.c2 == c2)].tc_z.max():.3f} for [{c1}, {c2}]"
            for c1, c2 in variance_bounds]
# between the constant-noise closed forms (more noise, less TC: c2's curve below c1's), within the quadrature error
between = ((sweep.tc_z >= sweep.tc_z_const_c2 - sweep.tc_z_err) & (sweep.tc_z <= sweep.tc_z_const_c1 + sweep.tc_z_err))
glue_values({"rho-max": max(rhos), "tc-mu-max": float(bivariate_tc(max(rhos))),
             "tc-z-max-per-band": "; ".join(per_band), "tc-z-max-all": float(sweep.tc_z.max()),
             "quad-err-max": float(sweep.tc_z_err.max()), "sweep-between": f"{int(between.sum())} of {len(sweep)}"})

# %% [markdown]
# ```{glue:figure} fig-theorem1-sweep
# :name: fig-theorem1-sweep
#
# As the correlation of the mean representation approaches 1, TC(µ) (black) grows without bound
# while TC(z) for µ-dependent noise in $[c_1, c_2]$ (markers, quadrature with its error bars)
# is bounded by the theorem. Dashed/dotted: constant noise $c_1$ / $c_2$ (closed form).
# ```
#
# At $\rho$ = {glue:text}`rho-max` the mean representation has TC(µ) = {glue:text}`tc-mu-max:.2f`
# nats, while the largest TC(z) over the whole sweep is {glue:text}`tc-z-max-all:.3f` nats
# (per noise band: {glue:text}`tc-z-max-per-band`).
# The largest quadrature error estimate is {glue:text}`quad-err-max:.1e` nats. The µ-dependent
# values lie between the two constant-noise closed forms (within the quadrature error) at
# {glue:text}`sweep-between` points of the sweep, but nothing forces them to: the theorem only bounds them.
#
# ## Higher dimension, by Monte Carlo
#
# In $D$ dimensions the mean representation gets a random correlation matrix $R$ with prescribed
# $\log|R|$ (so $\mathrm{TC}(\mu) = -\tfrac12 \log|R|$ exactly), and each noise variance depends on
# *another* coordinate of $\mu$. TC(z) is estimated by nested Monte Carlo with a 95 % confidence
# interval; where the noise is constant the same estimator is checked against the closed form.

# %%
c1, c2 = mc_bounds
var_nd = BoundedVariance(c1, c2, slope=2.0, source="next")
rows = []
for ld in tqdm(mc_log_dets, desc="log|R|"):
    r = random_correlation(mc_dim, log_det=ld,
                           generator=torch.Generator().manual_seed(seed))
    het = tc_monte_carlo(r, var_nd, n_outer=mc_outer, n_inner=mc_inner, seed=seed)
    const = tc_monte_carlo(r, ConstantVariance((c1,) * mc_dim), n_outer=mc_outer,
                           n_inner=mc_inner, seed=seed)
    rows.append({"log|R|": ld, "TC(µ) exact": float(gaussian_tc(r)),
                 "TC(z) MC, σ′(µ) ∈ [c1,c2]": het.tc, "95% CI low": het.ci_low,
                 "95% CI high": het.ci_high, "inner ESS (min)": het.min_ess,
                 "TC(z) exact, σ′ = c1": float(tc_constant_noise(r, c1)),
                 "TC(z) MC, σ′ = c1": const.tc,
                 "MC CI covers exact": const.contains(float(tc_constant_noise(r, c1))),
                 "TC(z) exact, σ′ = c2": float(tc_constant_noise(r, c2))})
high_d = pd.DataFrame(rows)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4.2))
ax.plot(high_d["TC(µ) exact"], high_d["TC(µ) exact"], "k-o", label="TC(µ)")
ax.errorbar(high_d["TC(µ) exact"], high_d["TC(z) MC, σ′(µ) ∈ [c1,c2]"],
            yerr=[high_d["TC(z) MC, σ′(µ) ∈ [c1,c2]"] - high_d["95% CI low"],
                  high_d["95% CI high"] - high_d["TC(z) MC, σ′(µ) ∈ [c1,c2]"]],
            fmt="s-", color="C3", capsize=3, label=fr"TC(z), $\sigma'(\mu)\in[{c1}, {c2}]$ (MC, 95 % CI)")
ax.plot(high_d["TC(µ) exact"], high_d["TC(z) exact, σ′ = c1"], "--", color="C0",
        label=fr"TC(z), $\sigma' = {c1}$ (exact)")
ax.plot(high_d["TC(µ) exact"], high_d["TC(z) exact, σ′ = c2"], ":", color="C0",
        label=fr"TC(z), $\sigma' = {c2}$ (exact)")
ax.set(xlabel="TC(µ) [nats]", ylabel="TC [nats]", title=f"D = {mc_dim}")
ax.legend(fontsize=8)
glue_figure("fig-theorem1-highd", fig)
high_d.round(4)

# %% tags=["hide-cell"]
glue_values({"mc-dim": mc_dim, "mc-tc-mu-max": float(high_d["TC(µ) exact"].max()),
             "mc-tc-z-max": float(high_d["TC(z) MC, σ′(µ) ∈ [c1,c2]"].max()),
             "mc-covers": f"{int(high_d['MC CI covers exact'].sum())} of {len(high_d)}"})

# %% [markdown]
# ```{glue:figure} fig-theorem1-highd
# :name: fig-theorem1-highd
#
# The same disparity in $D$ = {glue:text}`mc-dim` dimensions: TC(µ) grows linearly in $-\log|R|$,
# TC(z) with µ-dependent noise (Monte Carlo, 95 % CI) is bounded by the theorem.
# ```
#
# TC(µ) reaches {glue:text}`mc-tc-mu-max:.1f` nats while TC(z) stays below
# {glue:text}`mc-tc-z-max:.2f` nats. The Monte Carlo estimator's interval covers the exact value
# in {glue:text}`mc-covers` constant-noise checks.
#
# ## As the noise vanishes, TC(z) → TC(µ)
#
# The bound {eq}`eq-theorem1` blows up as $c_1 = c_2 = c \to 0$, and it must: without noise $z = \mu$.
# With constant noise $c$, TC(z) is Prop. 1 of $\Sigma + cI$; for the singular $\Sigma$ ($\rho = 1$)
# it grows like $\tfrac12\log\frac{1}{2c}$ — logarithmically, far below the theorem's
# $c^{-(D+2)}$ (drawn with $C = 1$ for its shape only; the theorem does not give $C$).

# %%
cs = np.asarray(noise_scales, dtype=float)
rows = []
for rho in [0.9, 0.99, 1.0]:
    s = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    for c in cs:
        rows.append(dict(rho=rho, c=c, tc_z=float(tc_constant_noise(s, c)),
                         tc_mu=float(bivariate_tc(rho)) if rho < 1 else math.inf))
vanish = pd.DataFrame(rows)
# c1 = c2 = c in D = 2, with C = 1: the shape of the bound
bound = theorem1_bound(cs, cs, 2)

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7, 4.2))
for i, rho in enumerate([0.9, 0.99, 1.0]):
    part = vanish[vanish.rho == rho]
    ax.plot(part.c, part.tc_z, "-o", color=f"C{i}", label=fr"TC(z), $\rho$ = {rho}")
    if rho < 1:
        ax.axhline(float(bivariate_tc(rho)), color=f"C{i}", ls="--", lw=0.8)
ax.plot(cs, 0.5 * np.log(1 / (2 * cs)), "k:", label=r"$\frac{1}{2}\log\frac{1}{2c}$")
ax.plot(cs, bound, color="0.6", lw=1, label="Theorem 1 bound shape, C = 1")
ax.set(xscale="log", yscale="symlog", xlabel="noise variance c = c1 = c2", ylabel="TC(z) [nats]",
       title="TC(z) as the noise vanishes (dashed: TC(µ))")
ax.invert_xaxis()
ax.legend(fontsize=8)
glue_figure("fig-theorem1-vanish", fig)
vanish.pivot(index="c", columns="rho", values="tc_z").round(4)

# %% tags=["hide-cell"]
sing = vanish[vanish.rho == 1.0]
# the slope in log(1/c) over the small noise scales (c ≤ 0.01), or the two smallest if fewer are that small
fit = sing[sing.c <= 0.01] if (sing.c <= 0.01).sum() >= 2 else sing.nsmallest(2, "c")
if fit.c.nunique() >= 2:
    slope = float(np.polyfit(np.log(1 / fit.c), fit.tc_z, 1)[0])
    glue_values({"vanish-slope": slope, "vanish-fit": f"for c ≤ {fit.c.max():g} is {slope:.3f}, "
                 + ("matching" if abs(slope - 0.5) <= 0.05 else "against") + " the predicted ½"})
else:
    glue_values({"vanish-fit": "is not measured: this profile has fewer than two noise scales"})

# %% [markdown]
# ```{glue:figure} fig-theorem1-vanish
# :name: fig-theorem1-vanish
#
# TC(z) with constant noise variance $c$ approaches TC(µ) (dashed) as $c \to 0$; for the singular
# case ($\rho = 1$) it diverges like $\tfrac12\log(1/2c)$. Grey: the shape of the theorem's bound.
# ```
#
# For $\rho = 1$ the fitted slope of TC(z) against $\log(1/c)$ {glue:text}`vanish-fit`. TC(z) is
# finite for every $c > 0$ and infinite only in the limit, so the noise level — not the mean — controls TC(z).
#
# ## What this means for training
#
# An objective that only sees TC(z) can be satisfied by an entangled mean representation as long
# as the encoder's variances stay bounded away from zero ({numref}`fig-theorem1-sweep`). RTC-VAE
# closes the gap by penalising $\sum_k \mathbb E[\sigma_k^2]$, pushing $c_2 \to$ small, where
# {numref}`fig-theorem1-vanish` shows TC(z) must track TC(µ).
