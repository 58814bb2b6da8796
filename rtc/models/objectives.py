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
- ``log_normal(z, µ, log σ²)``: elementwise log N(z; µ, σ²) including −½ log 2π.
- ``decompose_kl(...)``: Chen et al.'s split of E[log q(z|x) − log p(z)] into index-code MI
  E[log q(z|x) − log q(z)], total correlation E[log q(z) − Σ_k log q(z_k)] and dimension-wise
  KL E[Σ_k log q(z_k) − log p(z)], from minibatch estimates of log q(z) and Σ_k log q(z_k)
  (``rtc.estimators``: MWS with or without its constants, MSS0, MSS1). The three always sum to
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
====================  ===========================================================
beta_vae              recon + s·KL                                     (s = β)
beta_tcvae            recon + MI + s·TC + DWKL, TC from MWS/MSS0/MSS1  (s = β)
factor_vae            recon + KL + s·TC                                (s = γ)
dip_vae_i             recon + KL + DIP-I penalty, λ_d = 10·λ_od         (s = λ_od)
dip_vae_ii            recon + KL + DIP-II penalty, λ_d = λ_od           (s = λ_od)
rtc_vae               factor_vae with γ = β, + η·Σ_k mean σ_k²          (s = β)
revised_factor_vae    the same objective as rtc_vae (the name used in the paper's Figs 3–4)
revised_beta_vae      beta_vae + η·Σ_k mean σ_k²                        (s = β)
====================  ===========================================================

The TC of factor_vae / rtc_vae / revised_factor_vae is the density-ratio estimate
E[logit₀ − logit₁] of a discriminator (the paper's main method, section 4) unless
``tc_estimator`` names a minibatch estimator; beta_tcvae uses ``"mss1"`` by default.
Note the two families weigh TC differently: β-TCVAE *replaces* the TC inside the KL by β·TC,
the FactorVAE family *adds* γ·TC to the full KL (so its total TC weight is 1 + γ); this is how
the two papers define them.

η (the variance-penalty weight) is supplied by the caller each step (``rtc.models.eta``).
Warm-up: for ``warmup_steps`` > 0 the objective interpolates linearly from the plain VAE
(β = 1, γ = λ = η = 0) to the full one: s_eff = s_plain + w·(s − s_plain), η_eff = w·η, with
w = min(1, (step + 1) / warmup_steps).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .networks import VAEOutput

__all__ = [
    "MODELS", "TC_ESTIMATORS", "reconstruction", "kl_normal", "log_normal", "decompose_kl",
    "minibatch_tc", "dip_covariance", "dip_penalty", "posterior_variance", "discriminator_loss",
    "Objective", "ObjectiveError",
]

MODELS = ("beta_vae", "beta_tcvae", "factor_vae", "dip_vae_i", "dip_vae_ii", "rtc_vae",
          "revised_beta_vae", "revised_factor_vae")
# "mws" keeps Chen et al.'s −log(B·N) constants; "mws_noconst" drops them (reference library).
TC_ESTIMATORS = ("density_ratio", "mws", "mws_noconst", "mss0", "mss1")
_FACTOR_FAMILY = ("factor_vae", "rtc_vae", "revised_factor_vae")
_USES_ETA = ("rtc_vae", "revised_factor_vae", "revised_beta_vae")
_LOG_2PI = math.log(2 * math.pi)


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


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Elementwise log N(z; µ, exp(logvar)), broadcasting; includes −½ log 2π."""
    return -0.5 * ((z - mu).pow(2) * torch.exp(-logvar) + logvar + _LOG_2PI)


def decompose_kl(z, mu, logvar, log_qz, log_prod_qzk) -> dict[str, torch.Tensor]:
    """Split E[log q(z|x) − log p(z)] into index-code MI, TC and dimension-wise KL (batch means).

    z, µ, log σ² (B, D); ``log_qz`` and ``log_prod_qzk`` (B,) are minibatch estimates of
    log q(z_i) and Σ_k log q(z_ik). Returns scalars ``mi``, ``tc``, ``dwkl`` with
    mi + tc + dwkl = mean_i [log q(z_i|x_i) − log p(z_i)] exactly.
    """
    log_qzx = log_normal(z, mu, logvar).sum(1)
    log_pz = log_normal(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    return {"mi": (log_qzx - log_qz).mean(), "tc": (log_qz - log_prod_qzk).mean(),
            "dwkl": (log_prod_qzk - log_pz).mean()}


def minibatch_tc(z, mu, logvar, dataset_size: int, estimator: str = "mss1"):
    """Run a minibatch estimator from ``rtc.estimators``; returns its result (fields log_qz, log_prod_qzk, tc)."""
    from rtc import estimators  # lazy: the estimators module is its own issue (3)

    if estimator == "mws":
        return estimators.mws(z, mu, logvar, dataset_size, constants=True)
    if estimator == "mws_noconst":
        return estimators.mws(z, mu, logvar, dataset_size, constants=False)
    if estimator in ("mss0", "mss1"):
        return estimators.mss(z, mu, logvar, dataset_size, weights=estimator)
    raise ObjectiveError(f"unknown minibatch TC estimator {estimator!r}; choose mws, mws_noconst, mss0 or mss1")


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


class Objective:
    """A named model's loss. ``obj(out, x, step=, eta=, dataset_size=, discriminator=)`` → (loss, terms).

    ``terms`` holds detached scalar tensors: recon, kl, mi, tc, dwkl, dip, var_sum, eta, strength,
    loss (NaN where a model has no such term). See the module docstring for the formulas.
    """

    def __init__(self, model: str, strength: float = 1.0, *, lambda_d: float | None = None,
                 tc_estimator: str | None = None, warmup_steps: int = 0):
        if model not in MODELS:
            raise ObjectiveError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
        if not (isinstance(strength, (int, float)) and math.isfinite(strength) and strength >= 0):
            raise ObjectiveError(f"strength must be a finite number ≥ 0, got {strength!r}")
        if warmup_steps < 0:
            raise ObjectiveError(f"warmup_steps must be ≥ 0, got {warmup_steps}")
        if tc_estimator is None:
            tc_estimator = "mss1" if model == "beta_tcvae" else "density_ratio"
        if tc_estimator not in TC_ESTIMATORS:
            raise ObjectiveError(f"unknown tc_estimator {tc_estimator!r}; choose one of {', '.join(TC_ESTIMATORS)}")
        if model == "beta_tcvae" and tc_estimator == "density_ratio":
            raise ObjectiveError("beta_tcvae needs a minibatch TC estimator (mws, mws_noconst, mss0, mss1)")
        if model.startswith("dip_vae"):
            if lambda_d is None:
                lambda_d = 10.0 * strength if model == "dip_vae_i" else float(strength)
        elif lambda_d is not None:
            raise ObjectiveError(f"lambda_d applies only to dip_vae_i/dip_vae_ii, not {model}")
        self.model, self.strength, self.lambda_d = model, float(strength), lambda_d
        self.tc_estimator, self.warmup_steps = tc_estimator, int(warmup_steps)

    @property
    def uses_discriminator(self) -> bool:
        return self.model in _FACTOR_FAMILY and self.tc_estimator == "density_ratio"

    @property
    def uses_eta(self) -> bool:
        return self.model in _USES_ETA

    @property
    def base_eta(self) -> float:
        """η at the start: max(10, β) (paper section 5); 0 for models without the variance penalty."""
        return max(10.0, self.strength) if self.uses_eta else 0.0

    def warmup(self, step: int) -> float:
        return 1.0 if self.warmup_steps == 0 else min(1.0, (step + 1) / self.warmup_steps)

    def __call__(self, out: VAEOutput, x: torch.Tensor, *, step: int = 0, eta: float = 0.0,
                 dataset_size: int | None = None, discriminator=None) -> tuple[torch.Tensor, dict]:
        w = self.warmup(step)
        plain = 1.0 if self.model in ("beta_vae", "revised_beta_vae", "beta_tcvae") else 0.0
        s = plain + w * (self.strength - plain)
        nan = torch.tensor(float("nan"))
        recon = reconstruction(out.logits, x).mean()
        kl = kl_normal(out.mu, out.logvar).sum(1).mean()
        var_sum = posterior_variance(out.logvar)
        terms = {"recon": recon, "kl": kl, "mi": nan, "tc": nan, "dwkl": nan, "dip": nan}
        m = self.model
        if m in ("beta_vae", "revised_beta_vae"):
            loss = recon + s * kl
        elif m == "beta_tcvae":
            est = minibatch_tc(out.z, out.mu, out.logvar, self._n(dataset_size), self.tc_estimator)
            parts = decompose_kl(out.z, out.mu, out.logvar, est.log_qz, est.log_prod_qzk)
            terms.update(parts)
            loss = recon + parts["mi"] + s * parts["tc"] + parts["dwkl"]
        elif m in _FACTOR_FAMILY:
            if self.tc_estimator == "density_ratio":
                if discriminator is None:
                    raise ObjectiveError(f"{m} with the density-ratio TC needs a discriminator")
                from rtc.discriminator import density_ratio_tc
                tc = density_ratio_tc(discriminator(out.z))
            else:
                tc = minibatch_tc(out.z, out.mu, out.logvar, self._n(dataset_size), self.tc_estimator).tc
            terms["tc"] = tc
            loss = recon + kl + s * tc
        else:  # dip_vae_i / dip_vae_ii
            cov = dip_covariance(out.mu, out.logvar if m == "dip_vae_ii" else None)
            lam_d = self.lambda_d * (w if self.warmup_steps else 1.0)
            pen = dip_penalty(cov, s, lam_d)
            terms["dip"] = pen
            loss = recon + kl + pen
        eta_eff = w * float(eta) if self.uses_eta else 0.0
        if eta_eff:
            loss = loss + eta_eff * var_sum
        terms.update(var_sum=var_sum, eta=torch.tensor(eta_eff), strength=torch.tensor(s), loss=loss)
        return loss, {k: v.detach() for k, v in terms.items()}

    def _n(self, dataset_size):
        if dataset_size is None or dataset_size < 1:
            raise ObjectiveError(f"{self.model} with {self.tc_estimator} needs dataset_size ≥ 1, got {dataset_size}")
        return int(dataset_size)

    def __repr__(self):
        return (f"Objective({self.model!r}, strength={self.strength}, lambda_d={self.lambda_d}, "
                f"tc_estimator={self.tc_estimator!r}, warmup_steps={self.warmup_steps})")
