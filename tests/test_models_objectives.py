"""Each loss term on hand-checkable cases, the β-TCVAE decomposition, DIP penalties against a direct
formula, the named models' composition, and the discriminator on correlated vs permuted codes."""
import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rtc.estimators as estimators
from rtc.discriminator import Discriminator, density_ratio_tc, permute_dims
from rtc.models.networks import VAEOutput
from rtc.models.objectives import (
    MODELS,
    Objective,
    ObjectiveError,
    decompose_kl,
    dip_covariance,
    dip_penalty,
    discriminator_loss,
    kl_normal,
    posterior_variance,
    reconstruction,
)


def log_normal(z, mu, lv):
    """Reference elementwise log N(z; µ, e^lv) from torch.distributions (independent of rtc.gaussian)."""
    return torch.distributions.Normal(mu, (0.5 * lv).exp()).log_prob(z)


def test_reconstruction_hand_cases():
    x = torch.zeros(2, 1, 64, 64)
    x[1] = 1.0
    # logit 0 → p = ½ → −log ½ per pixel, whatever the pixel: 4096·log 2 per image.
    assert torch.allclose(reconstruction(torch.zeros_like(x), x), torch.full((2,), 4096 * math.log(2)))
    # a confident correct logit of ±20 costs log(1 + e^−20) ≈ 2.06e-9 per pixel
    r = reconstruction(40 * x - 20, x)
    assert torch.all(r < 4096 * 3e-9)
    with pytest.raises(ValueError, match="shape"):
        reconstruction(torch.zeros(2, 1, 64, 64), torch.zeros(2, 3, 64, 64))


def test_kl_normal_hand_cases():
    assert kl_normal(torch.zeros(1, 3), torch.zeros(1, 3)).abs().max() == 0
    # µ = 1, σ = 1: ½; µ = 0, σ² = e: ½(e − 1 − 1)
    got = kl_normal(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))
    assert torch.allclose(got, torch.tensor([[0.5, 0.5 * (math.e - 2)]]))


def _ref_mws_log_q(z, mu, lv, n):
    """Independent reference (loops, float64): MWS with its constants."""
    b, d = z.shape
    log_qz, log_qzk = torch.empty(b, dtype=torch.float64), torch.empty(b, d, dtype=torch.float64)
    for i in range(b):
        lq = torch.stack([torch.distributions.Normal(mu[j], (0.5 * lv[j]).exp()).log_prob(z[i]) for j in range(b)])
        log_qz[i] = torch.logsumexp(lq.sum(1), 0) - math.log(b * n)
        log_qzk[i] = torch.logsumexp(lq, 0) - math.log(b * n)
    return log_qz, log_qzk.sum(1)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 6), st.integers(1, 4), st.integers(0, 10_000))
def test_decomposition_sums_to_monte_carlo_kl(b, d, seed):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(b, d, generator=g, dtype=torch.float64)
    lv = torch.randn(b, d, generator=g, dtype=torch.float64) * 0.5
    z = mu + (0.5 * lv).exp() * torch.randn(b, d, generator=g, dtype=torch.float64)
    log_qz, log_prod = _ref_mws_log_q(z, mu, lv, 1000)
    parts = decompose_kl(z, mu, lv, log_qz, log_prod)
    mc_kl = (log_normal(z, mu, lv).sum(1) - log_normal(z, 0 * z, 0 * z).sum(1)).mean()
    # exact identity up to float64 round-off of a few additions of O(10) numbers
    assert abs(float(parts["mi"] + parts["tc"] + parts["dwkl"] - mc_kl)) < 1e-10
    assert abs(float(parts["tc"] - (log_qz - log_prod).mean())) < 1e-12


def test_decomposition_hand_case():
    # one code, D = 1, z = µ = 0, σ = 1: log q(z|x) = log p(z) = −½ log 2π; pick log q(z) = −1, log q(z_1) = −1.5
    z = torch.zeros(1, 1)
    parts = decompose_kl(z, z, z, torch.tensor([-1.0]), torch.tensor([-1.5]))
    c = -0.5 * math.log(2 * math.pi)
    assert parts["mi"].item() == pytest.approx(c + 1)
    assert parts["tc"].item() == pytest.approx(0.5)
    assert parts["dwkl"].item() == pytest.approx(-1.5 - c)


@pytest.mark.parametrize("estimator", ["mws", "mss1", "mss0", "mws_noconst"])
def test_beta_tcvae_term_uses_estimators(estimator):
    g = torch.Generator().manual_seed(0)
    b, d, n = 8, 3, 1000
    mu = torch.randn(b, d, generator=g, requires_grad=True)
    lv = (0.3 * torch.randn(b, d, generator=g)).requires_grad_()
    z = mu + (0.5 * lv).exp() * torch.randn(b, d, generator=g)
    out = VAEOutput(mu, lv, z, torch.zeros(b, 1, 64, 64))
    x = torch.zeros(b, 1, 64, 64)
    loss, terms = Objective("beta_tcvae", 6.0, tc_estimator=estimator)(out, x, dataset_size=n)
    if estimator.startswith("mss"):
        ref = estimators.mss(z, mu, lv, n, weights=estimator)
    else:
        ref = estimators.mws(z, mu, lv, n, constants=estimator == "mws")
    assert terms["tc"].item() == pytest.approx(ref.tc.item(), abs=1e-5)
    # loss = recon + mi + 6·tc + dwkl; mi + tc + dwkl = Monte Carlo KL (float32: 1e-4 on O(10) values)
    mc_kl = (log_normal(z, mu, lv).sum(1) - log_normal(z, 0 * z, 0 * z).sum(1)).mean().detach()
    assert float(terms["mi"] + terms["tc"] + terms["dwkl"]) == pytest.approx(float(mc_kl), abs=1e-4)
    assert loss.item() == pytest.approx(float(terms["recon"] + mc_kl + 5 * terms["tc"]), abs=1e-3)
    if estimator == "mws":
        ref_qz, ref_prod = _ref_mws_log_q(z.double().detach(), mu.double().detach(), lv.double().detach(), n)
        assert terms["tc"].item() == pytest.approx((ref_qz - ref_prod).mean().item(), abs=1e-4)
    loss.backward()
    assert mu.grad is not None and torch.isfinite(mu.grad).all()


def _direct_dip(cov, lod, ld):
    d = cov.shape[0]
    s = 0.0
    for i in range(d):
        for j in range(d):
            s += ld * (cov[i, i] - 1) ** 2 if i == j else lod * cov[i, j] ** 2
    return s


def test_dip_penalties_against_direct_formula():
    g = torch.Generator().manual_seed(3)
    mu = torch.randn(50, 4, generator=g, dtype=torch.float64) @ torch.randn(4, 4, generator=g, dtype=torch.float64)
    lv = torch.randn(50, 4, generator=g, dtype=torch.float64)
    c1 = dip_covariance(mu)
    torch.testing.assert_close(c1, torch.cov(mu.T, correction=0))  # biased batch covariance
    c2 = dip_covariance(mu, lv)
    torch.testing.assert_close(c2, c1 + torch.diag(lv.exp().mean(0)))
    for c, lod, ld in ((c1, 2.0, 20.0), (c2, 5.0, 5.0)):
        assert dip_penalty(c, lod, ld).item() == pytest.approx(float(_direct_dip(c, lod, ld)), rel=1e-12)
    assert dip_penalty(torch.eye(3), 7.0, 9.0).item() == 0.0  # the target covariance costs nothing


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000))
def test_dip_penalty_permutation_invariant(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(5, 5, generator=g, dtype=torch.float64)
    c = a @ a.T
    p = torch.randperm(5, generator=g)
    assert dip_penalty(c[p][:, p], 3.0, 4.0).item() == pytest.approx(dip_penalty(c, 3.0, 4.0).item(), rel=1e-12)


def test_posterior_variance_hand_case():
    lv = torch.log(torch.tensor([[1.0, 0.04], [0.5, 0.02]]))
    assert posterior_variance(lv).item() == pytest.approx(0.75 + 0.03)


def _fake_output(b=6, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu, lv = torch.randn(b, d, generator=g), 0.3 * torch.randn(b, d, generator=g)
    z = mu + (0.5 * lv).exp() * torch.randn(b, d, generator=g)
    logits = torch.randn(b, 1, 64, 64, generator=g)
    x = (torch.rand(b, 1, 64, 64, generator=g) > 0.9).float()
    return VAEOutput(mu, lv, z, logits), x


def test_named_models_compose_terms():
    out, x = _fake_output()
    recon = reconstruction(out.logits, x).mean()
    kl = kl_normal(out.mu, out.logvar).sum(1).mean()
    var = posterior_variance(out.logvar)
    d = Discriminator(3, hidden=16, layers=3)
    tc_d = density_ratio_tc(d(out.z))
    cases = {
        ("beta_vae", 4.0): recon + 4 * kl,
        ("revised_beta_vae", 4.0): recon + 4 * kl + 10 * var,            # η = max(10, β) = 10
        ("factor_vae", 6.0): recon + kl + 6 * tc_d,
        ("rtc_vae", 20.0): recon + kl + 20 * tc_d + 20 * var,            # η = max(10, 20)
        ("revised_factor_vae", 20.0): recon + kl + 20 * tc_d + 20 * var,
        ("dip_vae_i", 2.0): recon + kl + dip_penalty(dip_covariance(out.mu), 2.0, 20.0),
        ("dip_vae_ii", 5.0): recon + kl + dip_penalty(dip_covariance(out.mu, out.logvar), 5.0, 5.0),
    }
    for (name, s), want in cases.items():
        obj = Objective(name, s)
        loss, terms = obj(out, x, eta=obj.base_eta, dataset_size=100, discriminator=d)
        assert loss.item() == pytest.approx(want.item(), rel=1e-6), name  # same float32 ops, reordered
        assert set(terms) >= {"recon", "kl", "tc", "var_sum", "eta", "loss"}
    assert Objective("beta_vae", 4).base_eta == 0 and Objective("rtc_vae", 2).base_eta == 10
    assert Objective("factor_vae", 1).uses_discriminator and not Objective("beta_vae", 1).uses_discriminator


def test_warmup_interpolates_from_plain_vae():
    out, x = _fake_output()
    recon = reconstruction(out.logits, x).mean()
    kl = kl_normal(out.mu, out.logvar).sum(1).mean()
    obj = Objective("beta_vae", 9.0, warmup_steps=4)
    # step 0: w = 1/4 → β_eff = 1 + ¼·8 = 3; step ≥ 3: β
    assert obj(out, x, step=0)[0].item() == pytest.approx((recon + 3 * kl).item(), rel=1e-6)
    assert obj(out, x, step=10)[0].item() == pytest.approx((recon + 9 * kl).item(), rel=1e-6)
    obj = Objective("revised_beta_vae", 1.0, warmup_steps=2)
    _, t = obj(out, x, step=0, eta=10.0)
    assert t["eta"].item() == pytest.approx(5.0)


@pytest.mark.parametrize("model", ["beta_vae", "revised_beta_vae", "dip_vae_i", "dip_vae_ii", "beta_tcvae"])
def test_warmup_from_autoencoder_scales_the_whole_regulariser(model):
    out, x = _fake_output()
    recon = reconstruction(out.logits, x).mean()
    full = Objective(model, 6.0, warmup_steps=4)(out, x, step=10, dataset_size=1000)[0]  # past the warm-up
    ae = Objective(model, 6.0, warmup_steps=4, warmup_start="autoencoder")
    # step 0: w = 1/4 of everything but the reconstruction, at the full strength (λ_d included)
    assert ae(out, x, step=0, dataset_size=1000)[0].item() == pytest.approx(
        (recon + 0.25 * (full - recon)).item(), rel=1e-5)
    assert ae(out, x, step=10, dataset_size=1000)[0].item() == pytest.approx(full.item(), rel=1e-6)
    _, t = ae(out, x, step=1, eta=8.0, dataset_size=1000)
    assert t["strength"].item() == pytest.approx(0.5 * 6.0)
    assert t["eta"].item() == (pytest.approx(4.0) if MODELS[model].variance_penalty else 0.0)


def test_warmup_from_autoencoder_with_a_discriminator():
    torch.manual_seed(0)
    out, x = _fake_output()
    disc = Discriminator(out.z.shape[1], 16, 2)
    recon = reconstruction(out.logits, x).mean()
    kl = kl_normal(out.mu, out.logvar).sum(1).mean()
    tc = density_ratio_tc(disc(out.z))
    loss = Objective("rtc_vae", 10.0, warmup_steps=5, warmup_start="autoencoder")(out, x, step=0, eta=20.0,
                                                                                  discriminator=disc)[0]
    var_sum = out.logvar.exp().mean(0).sum()
    assert loss.item() == pytest.approx((recon + 0.2 * (kl + 10 * tc) + 0.2 * 20 * var_sum).item(), rel=1e-5)


def test_warmup_start_is_validated():
    with pytest.raises(ObjectiveError, match="warmup_start"):
        Objective("beta_vae", warmup_start="ae")
    from rtc.models import TrainConfig
    with pytest.raises(ValueError, match="warmup_start"):
        TrainConfig(warmup_start="kl")
    assert TrainConfig(warmup_start="autoencoder").objective().warmup_start == "autoencoder"


def test_objective_errors():
    with pytest.raises(ObjectiveError, match="unknown model"):
        Objective("vae")
    with pytest.raises(ObjectiveError, match="tc_estimator"):
        Objective("factor_vae", tc_estimator="kde")
    with pytest.raises(ObjectiveError, match="minibatch"):
        Objective("beta_tcvae", tc_estimator="density_ratio")
    with pytest.raises(ObjectiveError, match="lambda_d"):
        Objective("beta_vae", lambda_d=3.0)
    with pytest.raises(ObjectiveError, match="strength"):
        Objective("beta_vae", float("nan"))
    out, x = _fake_output()
    with pytest.raises(ObjectiveError, match="discriminator"):
        Objective("factor_vae", 5.0)(out, x)
    assert set(MODELS) == {"beta_vae", "beta_tcvae", "factor_vae", "dip_vae_i", "dip_vae_ii", "rtc_vae",
                           "revised_beta_vae", "revised_factor_vae"}


def test_discriminator_loss_hand_case():
    # logits (a, 0): CE for class 0 = log(1 + e^{−a}); confident right answers → loss → 0, accuracy 1
    lq = torch.tensor([[5.0, 0.0]])
    lp = torch.tensor([[0.0, 5.0]])
    loss, acc = discriminator_loss(lq, lp)
    assert loss.item() == pytest.approx(math.log1p(math.exp(-5)))
    assert acc.item() == 1.0
    loss, acc = discriminator_loss(lp, lq)
    assert acc.item() == 0.0


def test_discriminator_separates_correlated_from_permuted():
    """Train a small discriminator on codes with ρ = 0.95 (true TC −½ log(1 − ρ²) = 1.164 nats)."""
    torch.manual_seed(0)
    rho = 0.95
    chol = torch.linalg.cholesky(torch.tensor([[1.0, rho], [rho, 1.0]]))
    disc = Discriminator(2, hidden=64, layers=3)
    opt = torch.optim.Adam(disc.parameters(), lr=1e-3)
    for _ in range(400):
        z = torch.randn(256, 2) @ chol.T
        loss, acc = discriminator_loss(disc(z), disc(permute_dims(torch.randn(256, 2) @ chol.T)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        z = torch.randn(4000, 2) @ chol.T
        _, acc = discriminator_loss(disc(z), disc(permute_dims(z)))
        tc = density_ratio_tc(disc(z)).item()
        tc_indep = density_ratio_tc(disc(permute_dims(z))).item()
    # Chance is 0.5. The density-ratio estimate is biased by finite training but must land near 1.16;
    # on permuted codes E[log ratio] = −KL(∏q ‖ q) = −½(2/(1 − ρ²) − 2 + log(1 − ρ²)) ≈ −8.1 < 0.
    assert acc.item() > 0.7
    assert 0.7 < tc < 1.6
    assert tc_indep < 0.0  # on ∏ q(z_k) samples E[log ratio] = −KL(∏q ‖ q) < 0


def test_one_table_of_models_drives_docs_validation_and_dispatch(monkeypatch):
    import numpy as np

    from rtc.models import objectives
    doc = objectives.__doc__
    for name, spec in MODELS.items():
        assert f"\n{name} " in doc and spec.loss in doc, name  # the docs' table is the table
        Objective(name, 2.0)  # validation accepts every name in it
    # dispatch reads the table: a model added there works without touching Objective
    monkeypatch.setitem(MODELS, "double_beta", objectives.ModelSpec("recon + s·KL", "β", MODELS["beta_vae"].loss_fn,
                                                                   1.0))
    out, x = _fake_output()
    loss, _ = Objective("double_beta", 3.0)(out, x)
    want = reconstruction(out.logits, x).mean() + 3 * kl_normal(out.mu, out.logvar).sum(1).mean()
    assert loss.item() == pytest.approx(want.item(), rel=1e-6)
    # numpy scalars are numbers
    assert Objective("beta_vae", np.int64(4)).strength == 4.0
    assert Objective("dip_vae_i", np.float32(2.0), lambda_d=np.int64(5)).lambda_d == 5.0


def test_objective_argument_errors_name_the_argument():
    with pytest.raises(ObjectiveError, match="tc_estimator"):
        Objective("beta_vae", tc_estimator="mss1")  # beta_vae has no TC term
    with pytest.raises(ObjectiveError, match="lambda_d"):
        Objective("dip_vae_ii", lambda_d=float("nan"))
    with pytest.raises(ObjectiveError, match="warmup_steps"):
        Objective("beta_vae", warmup_steps=1.5)


def test_no_second_copy_of_estimator_or_density_names():
    from rtc.models import objectives
    # rtc.estimators.minibatch_tc is the one minibatch_tc; the log density and log 2π live in rtc.gaussian
    for name in ("minibatch_tc", "log_normal", "LOG_2PI", "_LOG_2PI"):
        assert not hasattr(objectives, name), name
