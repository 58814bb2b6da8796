"""Objectives as composable terms, and the named models of the paper's comparison.

All terms are per-sample quantities averaged over the minibatch (nats per image), so that
they add up to a loss whose scale does not depend on the batch size. Shapes: images
x (B, C, 64, 64) in [0, 1]; µ, log σ², z (B, D).

Terms
-----
- ``reconstruction(logits, x)`` (B,): −log p(x|z) of a Bernoulli likelihood, summed over
  pixels (binary cross-entropy with logits; exact for x ∈ {0, 1}, the usual relaxation for
  grey levels).
- ``kl_normal(µ, log σ²)`` (B, D): KL(N(µ, σ²) ‖ N(0, 1)) per dimension,
  ½(µ² + σ² − log σ² − 1). No constant dropped.
- ``decompose_kl(...)``: Chen et al.'s split of E[log q(z|x) − log p(z)] into index-code MI
  E[log q(z|x) − log q(z)], total correlation E[log q(z) − Σ_k log q(z_k)] and dimension-wise
  KL E[Σ_k log q(z_k) − log p(z)]; log q(z|x) and log p(z) by
  :func:`rtc.gaussian.gaussian_log_density_elementwise` (−½ log 2π included), log q(z) and
  Σ_k log q(z_k) from a minibatch estimator of ``rtc.estimators`` (MWS with or without its
  constants, MSS0, MSS1). The three always sum to
  the single-sample Monte Carlo KL, whatever the estimator (only the split depends on it).
- ``dip_covariance`` / ``dip_penalty``: DIP-VAE-I uses Cov_batch[µ]; DIP-VAE-II uses
  Cov_batch[µ] + diag(mean_n σ²(n)) (the covariance of z under q(z) by the law of total
  covariance). Penalty λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)². The batch covariance is
  the biased one (divide by B), as in Kumar et al.'s code.
- ``posterior_variance(log σ²)`` (scalar): tr E_n Cov_q(z|n)[z] = Σ_k mean_n σ_k²(n), RTC-VAE's
  extra term (paper eq. 5).
- ``discriminator_loss(logits_q, logits_perm)``: FactorVAE's discriminator cross-entropy,
  class 0 = q(z), class 1 = permuted codes ∏_k q(z_k).

Named models (``Objective(model, strength, ...)``; s = ``strength``)
-------------------------------------------------------------------
{models}

The TC of factor_vae / rtc_vae / revised_factor_vae is the density-ratio estimate
E[logit₀ − logit₁] of a discriminator (the paper's main method, section 4) unless
``tc_estimator`` names a minibatch estimator; beta_tcvae uses ``"mss1"`` by default.
Note the two families weigh TC differently: β-TCVAE *replaces* the TC inside the KL by β·TC,
the FactorVAE family *adds* γ·TC to the full KL (so its total TC weight is 1 + γ); this is how
the two papers define them.

η (the variance-penalty weight) is supplied by the caller each step (``rtc.models.eta``).
Warm-up: for ``warmup_steps`` > 0 the objective is ramped with w = min(1, (step + 1) / warmup_steps), from
one of two starts (``warmup_start``):

- ``"vae"``: from the plain VAE (β = 1, γ = λ = η = 0) to the full objective: s_eff = s_plain + w·(s − s_plain),
  η_eff = w·η;
- ``"autoencoder"``: from the plain autoencoder — every term but the reconstruction scaled by w (KL annealing,
  Bowman et al. 2016): loss = recon + w·(regulariser at the full strength s), η_eff = w·η. A VAE started at
  full KL weight on dSprites can lose its code in the first ~100 steps (the KL drops to 0, the decoder draws
  the mean image and stays there for a thousand steps or more — measured at batch 32, lr 1e-3, for β-VAE at
  β = 1 and 4 and RTC-VAE at β = 2); starting from an autoencoder lets the decoder use the code first.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

from rtc import estimators
from rtc._validate import is_integer, is_real
from rtc.discriminator import density_ratio_tc
from rtc.gaussian import gaussian_log_density_elementwise

from .networks import VAEOutput

__all__ = [
    "MODELS", "ModelSpec", "TC_ESTIMATORS", "reconstruction", "kl_normal", "decompose_kl", "dip_covariance",
    "dip_penalty", "posterior_variance", "discriminator_loss", "Objective", "ObjectiveError", "REVISED_MODELS",
]


class ObjectiveError(ValueError):
    """An objective asked for with an unknown name, estimator or invalid hyperparameter."""


def reconstruction(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli −log p(x|z) per image: BCE-with-logits summed over (C, H, W); (B, C, H, W) → (B,)."""
    if logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and images {tuple(x.shape)} differ in shape")
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def kl_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(µ, σ²) ‖ N(0, 1)) per dimension, (B, D) → (B, D); exact, no constant dropped."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1.0)


def decompose_kl(z, mu, logvar, log_qz, log_prod_qzk) -> dict[str, torch.Tensor]:
    """Split E[log q(z|x) − log p(z)] into index-code MI, TC and dimension-wise KL (batch means).

    z, µ, log σ² (B, D); ``log_qz`` and ``log_prod_qzk`` (B,) are minibatch estimates of
    log q(z_i) and Σ_k log q(z_ik). Returns scalars ``mi``, ``tc``, ``dwkl`` with
    mi + tc + dwkl = mean_i [log q(z_i|x_i) − log p(z_i)] exactly.
    """
    log_qzx = gaussian_log_density_elementwise(z, mu, logvar=logvar).sum(1)                       # (B,)
    log_pz = gaussian_log_density_elementwise(z, torch.zeros_like(z), logvar=torch.zeros_like(z)).sum(1)  # (B,)
    return {"mi": (log_qzx - log_qz).mean(), "tc": (log_qz - log_prod_qzk).mean(),
            "dwkl": (log_prod_qzk - log_pz).mean()}


def dip_covariance(mu: torch.Tensor, logvar: torch.Tensor | None = None) -> torch.Tensor:
    """Biased batch covariance of µ (B, D) → (D, D); with ``logvar``, + diag(mean_n σ²) (DIP-VAE-II)."""
    mc = mu - mu.mean(0, keepdim=True)
    cov = mc.T @ mc / mu.shape[0]
    if logvar is not None:
        cov = cov + torch.diag(logvar.exp().mean(0))
    return cov


def dip_penalty(cov: torch.Tensor, lambda_od: float, lambda_d: float) -> torch.Tensor:
    """λ_od Σ_{i≠j} C_ij² + λ_d Σ_i (C_ii − 1)² for a (D, D) matrix C; scalar."""
    diag = torch.diagonal(cov)
    off = cov - torch.diag(diag)
    return lambda_od * off.pow(2).sum() + lambda_d * (diag - 1.0).pow(2).sum()


def posterior_variance(logvar: torch.Tensor) -> torch.Tensor:
    """Σ_k mean_n σ_k²(n) = tr E_n Cov_q(z|n)[z] (paper eq. 5); (B, D) → scalar."""
    return logvar.exp().mean(0).sum()


def discriminator_loss(logits_q: torch.Tensor, logits_perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """½[CE(D(z), 0) + CE(D(perm z), 1)] and the discriminator's accuracy over both sets; logits (B, 2)."""
    zeros = torch.zeros(logits_q.shape[0], dtype=torch.long, device=logits_q.device)
    ones = torch.ones(logits_perm.shape[0], dtype=torch.long, device=logits_perm.device)
    loss = 0.5 * (F.cross_entropy(logits_q, zeros) + F.cross_entropy(logits_perm, ones))
    with torch.no_grad():
        correct = (logits_q.argmax(1) == 0).sum() + (logits_perm.argmax(1) == 1).sum()
        acc = correct.float() / (logits_q.shape[0] + logits_perm.shape[0])
    return loss, acc


# The minibatch TC estimators by name ("mws" keeps Chen et al.'s −log(B·N) constants, "mws_noconst" drops them
# as disentanglement_lib does), each (z, µ, log σ², N) → rtc.estimators.TCEstimate. check=False: no finiteness
# check of the codes on the training hot path (a host sync per tensor); a NaN there makes the loss NaN, which the
# training loop's guard catches.
_MINIBATCH = {"mws": partial(estimators.mws, constants=True, check=False),
              "mws_noconst": partial(estimators.mws, constants=False, check=False),
              "mss0": partial(estimators.mss, weights="mss0", check=False),
              "mss1": partial(estimators.mss, weights="mss1", check=False)}
TC_ESTIMATORS = ("density_ratio", *_MINIBATCH)
WARMUP_STARTS = ("vae", "autoencoder")  # what the warm-up ramps from (module docstring)


# ---- the losses: (objective, forward pass, recon, KL, effective strength s, warm-up weight w, N, discriminator)
#      → (loss before the variance penalty, the terms they add to the log). Each sums from recon left to right, the
#      order the project's results were produced with (a reordered float32 sum changes the last bits) ----

def _kl(obj, out, recon, kl, s, w, n, disc):  # β-VAE: recon + s·KL
    return recon + s * kl, {}


def _tc_split(obj, out, recon, kl, s, w, n, disc):  # β-TCVAE: the KL split into MI + TC + DWKL, TC weighted
    est = obj.minibatch_estimate(out, n)
    parts = decompose_kl(out.z, out.mu, out.logvar, est.log_qz, est.log_prod_qzk)
    return recon + parts["mi"] + s * parts["tc"] + parts["dwkl"], parts


def _tc_added(obj, out, recon, kl, s, w, n, disc):  # FactorVAE family: recon + the full KL + s·TC
    if obj.tc_estimator == "density_ratio":
        if disc is None:
            raise ObjectiveError(f"{obj.model} with the density-ratio TC needs a discriminator")
        tc = density_ratio_tc(disc(out.z))
    else:
        tc = obj.minibatch_estimate(out, n).tc
    return recon + kl + s * tc, {"tc": tc}


def _dip(obj, out, recon, kl, s, w, n, disc, *, with_sigma: bool):  # DIP-VAE-I (Cov µ) / -II (+ diag E σ²)
    cov = dip_covariance(out.mu, out.logvar if with_sigma else None)
    pen = dip_penalty(cov, s, obj.lambda_d * w)
    return recon + kl + pen, {"dip": pen}


@dataclass(frozen=True)
class ModelSpec:
    """One named model: its loss (text, for the docs), what ``strength`` is, and ``loss_fn`` that builds it.

    ``plain``: the strength of the plain VAE the warm-up starts from (β = 1; γ = λ_od = 0).
    ``variance_penalty``: adds η·Σ_k mean_n σ_k²(n) (RTC-VAE's term; η from :mod:`rtc.models.eta`).
    ``tc_estimator``: the default TC estimator, None for a model without a TC term.
    ``lambda_d_ratio``: DIP-VAE's default λ_d / λ_od (None: the model takes no ``lambda_d``).
    """
    loss: str
    strength: str
    loss_fn: Callable
    plain: float
    variance_penalty: bool = False
    tc_estimator: str | None = None
    lambda_d_ratio: float | None = None
    note: str = ""


_RTC = ModelSpec("recon + KL + s·TC + η·Σ_k mean σ_k²", "β", _tc_added, 0.0, True, "density_ratio",
                 note="factor_vae with γ = β, plus the variance penalty")
MODELS: dict[str, ModelSpec] = {
    "beta_vae": ModelSpec("recon + s·KL", "β", _kl, 1.0),
    "beta_tcvae": ModelSpec("recon + MI + s·TC + DWKL", "β", _tc_split, 1.0, tc_estimator="mss1"),
    "factor_vae": ModelSpec("recon + KL + s·TC", "γ", _tc_added, 0.0, tc_estimator="density_ratio"),
    "dip_vae_i": ModelSpec("recon + KL + DIP-I penalty", "λ_od", partial(_dip, with_sigma=False), 0.0,
                           lambda_d_ratio=10.0, note="λ_d = 10·λ_od by default"),
    "dip_vae_ii": ModelSpec("recon + KL + DIP-II penalty", "λ_od", partial(_dip, with_sigma=True), 0.0,
                            lambda_d_ratio=1.0, note="λ_d = λ_od by default"),
    "rtc_vae": _RTC,
    "revised_factor_vae": _RTC,  # the same objective, under the name the paper's Figs 3–4 use
    "revised_beta_vae": ModelSpec("recon + s·KL + η·Σ_k mean σ_k²", "β", _kl, 1.0, True,
                                  note="beta_vae plus the variance penalty"),
}
# The revised models: those with RTC-VAE's variance penalty η·Σ_k E[σ_k²] (and so its η band); one definition.
REVISED_MODELS = tuple(name for name, spec in MODELS.items() if spec.variance_penalty)


def _models_doc() -> str:
    rows = [(name, spec.loss, f"s = {spec.strength}" + (f"; {spec.note}" if spec.note else ""))
            for name, spec in MODELS.items()]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    rule = "  ".join("=" * n for n in w)
    return "\n".join([rule, *("  ".join(c.ljust(n) for c, n in zip(r, w, strict=True)).rstrip() for r in rows), rule])


if __doc__ is not None:  # the docs' table of models is this table (python -OO strips docstrings)
    __doc__ = __doc__.replace("{models}", _models_doc())


class Objective:
    """A named model's loss. ``obj(out, x, step=, eta=, dataset_size=, discriminator=)`` → (loss, terms).

    ``terms`` holds detached scalar tensors: recon, kl, mi, tc, dwkl, dip, var_sum, eta, strength,
    loss (NaN where a model has no such term). See the module docstring for the formulas.
    """

    def __init__(self, model: str, strength: float = 1.0, *, lambda_d: float | None = None,
                 tc_estimator: str | None = None, warmup_steps: int = 0, warmup_start: str = "vae"):
        if model not in MODELS:
            raise ObjectiveError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        spec = MODELS[model]
        if not (is_real(strength) and math.isfinite(strength) and strength >= 0):
            raise ObjectiveError(f"strength must be a finite number ≥ 0, got {strength!r}")
        if not (is_integer(warmup_steps) and warmup_steps >= 0):
            raise ObjectiveError(f"warmup_steps must be an integer ≥ 0, got {warmup_steps!r}")
        if warmup_start not in WARMUP_STARTS:
            raise ObjectiveError(f"warmup_start must be one of {WARMUP_STARTS}, got {warmup_start!r}")
        if tc_estimator is None:
            tc_estimator = spec.tc_estimator
        elif spec.tc_estimator is None:
            raise ObjectiveError(f"{model} has no TC term, so tc_estimator must be None, got {tc_estimator!r}")
        elif tc_estimator not in TC_ESTIMATORS:
            raise ObjectiveError(f"unknown tc_estimator {tc_estimator!r}; choose one of {', '.join(TC_ESTIMATORS)}")
        elif spec.loss_fn is _tc_split and tc_estimator == "density_ratio":
            raise ObjectiveError(f"{model} needs a minibatch TC estimator ({', '.join(_MINIBATCH)})")
        if spec.lambda_d_ratio is None:
            if lambda_d is not None:
                raise ObjectiveError(f"lambda_d applies only to the DIP-VAE models, not {model}")
        elif lambda_d is None:
            lambda_d = spec.lambda_d_ratio * float(strength)
        elif not (is_real(lambda_d) and math.isfinite(lambda_d) and lambda_d >= 0):
            raise ObjectiveError(f"lambda_d must be a finite number ≥ 0, got {lambda_d!r}")
        self.model, self.spec, self.strength = model, spec, float(strength)
        self.lambda_d = None if lambda_d is None else float(lambda_d)
        self.tc_estimator, self.warmup_steps = tc_estimator, int(warmup_steps)
        self.warmup_start = warmup_start

    @property
    def uses_discriminator(self) -> bool:
        return self.tc_estimator == "density_ratio"

    @property
    def uses_eta(self) -> bool:
        return self.spec.variance_penalty

    @property
    def base_eta(self) -> float:
        """η at the start: max(10, β) (paper section 5); 0 for models without the variance penalty."""
        return max(10.0, self.strength) if self.uses_eta else 0.0

    @property
    def kl_weight(self) -> float:
        """The weight of KL(q(z|x) ‖ p(z)) in the full objective: β for beta_vae / revised_beta_vae, else 1 (the
        FactorVAE and DIP families add the full KL; β-TCVAE weighs its MI and DWKL parts by 1). Sets η's cap."""
        return self.strength if self.spec.loss_fn is _kl else 1.0

    def warmup(self, step: int) -> float:
        return 1.0 if self.warmup_steps == 0 else min(1.0, (step + 1) / self.warmup_steps)

    def minibatch_estimate(self, out: VAEOutput, dataset_size) -> estimators.TCEstimate:
        """The TC estimate of ``self.tc_estimator`` (a minibatch estimator) on the batch's codes."""
        if dataset_size is None or not is_integer(dataset_size) or dataset_size < 1:
            raise ObjectiveError(f"{self.model} with {self.tc_estimator} needs dataset_size ≥ 1, got {dataset_size}")
        return _MINIBATCH[self.tc_estimator](out.z, out.mu, out.logvar, int(dataset_size))

    def __call__(self, out: VAEOutput, x: torch.Tensor, *, step: int = 0, eta: float = 0.0,
                 dataset_size: int | None = None, discriminator=None) -> tuple[torch.Tensor, dict]:
        w = self.warmup(step)
        nan = torch.tensor(float("nan"))
        recon = reconstruction(out.logits, x).mean()
        kl = kl_normal(out.mu, out.logvar).sum(1).mean()
        var_sum = posterior_variance(out.logvar)
        if self.warmup_start == "vae":
            s = self.spec.plain + w * (self.strength - self.spec.plain)
            loss, extra = self.spec.loss_fn(self, out, recon, kl, s, w, dataset_size, discriminator)
        else:  # the regulariser alone (a zero reconstruction), at full strength, scaled by w
            reg, extra = self.spec.loss_fn(self, out, torch.zeros((), dtype=recon.dtype, device=recon.device), kl,
                                           self.strength, 1.0, dataset_size, discriminator)
            loss, s = recon + w * reg, w * self.strength
        eta_eff = w * float(eta) if self.uses_eta else 0.0
        if eta_eff:
            loss = loss + eta_eff * var_sum
        terms = {"recon": recon, "kl": kl, "mi": nan, "tc": nan, "dwkl": nan, "dip": nan, **extra,
                 "var_sum": var_sum, "eta": torch.tensor(eta_eff), "strength": torch.tensor(s), "loss": loss}
        return loss, {k: v.detach() for k, v in terms.items()}

    def __repr__(self):
        return (f"Objective({self.model!r}, strength={self.strength}, lambda_d={self.lambda_d}, "
                f"tc_estimator={self.tc_estimator!r}, warmup_steps={self.warmup_steps}, "
                f"warmup_start={self.warmup_start!r})")
