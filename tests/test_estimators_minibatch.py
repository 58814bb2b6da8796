"""Known-answer and property tests for the minibatch TC estimators (MWS, MSS0, MSS1)."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from rtc.estimators import TCEstimate, figure2_latents, log_qz_given_x, minibatch_tc, mss, mss_log_weights, mws


def _batch(b=6, d=3, seed=0, dtype=torch.float64, grad=False):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(b, d, generator=g, dtype=dtype)
    logvar = 0.5 * torch.randn(b, d, generator=g, dtype=dtype)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(b, d, generator=g, dtype=dtype)
    if grad:
        for t in (z, mu, logvar):
            t.requires_grad_(True)
    return z, mu, logvar


# ---------------------------------------------------------------- log q(z_ik | x_j)

def test_log_qz_given_x_matches_scipy_elementwise():
    z, mu, logvar = _batch(5, 3)
    lq = log_qz_given_x(z, mu, logvar)
    assert lq.shape == (5, 5, 3)
    sd = np.exp(0.5 * logvar.numpy())
    for i in range(5):
        for j in range(5):
            for k in range(3):
                want = norm.logpdf(z[i, k].item(), mu[j, k].item(), sd[j, k])
                # float64 both sides: agreement to ~1e-12 relative, 1e-10 is generous
                assert lq[i, j, k].item() == pytest.approx(want, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 100])
def test_log_qz_given_x_chunked_equals_unchunked(chunk):
    z, mu, logvar = _batch(7, 4)
    # identical arithmetic per element, so exact equality
    assert torch.equal(log_qz_given_x(z, mu, logvar, chunk=chunk), log_qz_given_x(z, mu, logvar))


# ---------------------------------------------------------------- weight matrices

def _reference_mss0(batch_size, dataset_size):
    """Chen et al.'s log_importance_weight_matrix, transcribed line by line (vae_quant.py L192-L202)."""
    N = dataset_size
    M = batch_size - 1
    strat_weight = (N - M) / (N * M)
    W = torch.Tensor(batch_size, batch_size).double().fill_(1 / M)
    W.view(-1)[::M + 1] = 1 / N
    W.view(-1)[1::M + 1] = strat_weight
    W[M - 1, 0] = strat_weight
    return W.log()


def test_mss0_matches_reference_code_and_hand_pattern():
    b, n = 4, 10
    got = mss_log_weights(b, n, "mss0", dtype=torch.float64).exp()
    assert torch.allclose(got, _reference_mss0(b, n).exp(), rtol=1e-15, atol=0)
    m, sw = 3, (10 - 3) / 30
    a, c = 1 / n, 1 / m  # hand-written: col 0 = 1/N, col 1 = sw, row M−1 = 2 gets sw in col 0
    want = torch.tensor([[a, sw, c, c],
                         [a, sw, c, c],
                         [sw, sw, c, c],
                         [a, sw, c, c]], dtype=torch.float64)
    assert torch.allclose(got, want, rtol=1e-15, atol=0)


def test_mss1_pattern_and_rows_sum_to_one():
    b, n = 4, 10
    w = mss_log_weights(b, n, "mss1", dtype=torch.float64).exp()
    a, sw, c = 1 / n, 7 / 30, 1 / 3
    want = torch.tensor([[a, sw, c, c],
                         [c, a, sw, c],
                         [c, c, a, sw],
                         [sw, c, c, a]], dtype=torch.float64)
    assert torch.allclose(w, want, rtol=1e-15, atol=0)


@given(b=st.integers(2, 40), extra=st.integers(0, 10_000))
@settings(max_examples=60, deadline=None)
def test_mss1_rows_sum_to_one_property(b, extra):
    w = mss_log_weights(b, b + extra, "mss1", dtype=torch.float64).exp()
    # a sum of B float64 terms ≤ 1: error ≤ B·eps ≈ 1e-14
    assert torch.allclose(w.sum(1), torch.ones(b, dtype=torch.float64), atol=1e-12, rtol=0)


@given(b=st.integers(3, 40), extra=st.integers(1, 10_000))
@settings(max_examples=60, deadline=None)
def test_mss0_rows_sum_to_one_except_row_m_minus_1(b, extra):
    n, m = b + extra, b - 1
    w = mss_log_weights(b, n, "mss0", dtype=torch.float64).exp()
    s = w.sum(1)
    others = torch.ones(b, dtype=torch.bool)
    others[m - 1] = False
    assert torch.allclose(s[others], torch.ones(b - 1, dtype=torch.float64), atol=1e-12, rtol=0)
    sw = (n - m) / (n * m)
    assert s[m - 1].item() == pytest.approx(2 * sw + (m - 1) / m, abs=1e-12)


# ---------------------------------------------------------------- closed-form estimates

def _identical_posteriors(b=5, d=3, seed=1):
    """All x_j identical: q(z) = N(µ, σ²) exactly, which factorises (true TC = 0)."""
    g = torch.Generator().manual_seed(seed)
    mu0 = torch.randn(d, generator=g, dtype=torch.float64)
    lv0 = 0.3 * torch.randn(d, generator=g, dtype=torch.float64)
    mu, logvar = mu0.expand(b, d).clone(), lv0.expand(b, d).clone()
    z = mu + torch.exp(0.5 * logvar) * torch.randn(b, d, generator=g, dtype=torch.float64)
    return z, mu, logvar


def test_identical_posteriors_closed_forms():
    b, d, n = 5, 3, 1000
    z, mu, logvar = _identical_posteriors(b, d)
    exact = torch.distributions.Normal(mu[0], torch.exp(0.5 * logvar[0])).log_prob(z)  # (B, D)
    # float64, logsumexp of equal terms: error ~1e-14; 1e-10 is generous
    tol = dict(abs=1e-10)
    # MSS1: rows of W sum to 1, so log q estimates are exact and TC = 0
    e1 = mss(z, mu, logvar, n, weights="mss1")
    assert torch.allclose(e1.log_qzk, exact, atol=1e-10)
    assert e1.tc.item() == pytest.approx(0.0, **tol)
    # MWS with constants: weights sum to 1/N per row → TC = (D − 1)·log N
    assert mws(z, mu, logvar, n).tc.item() == pytest.approx((d - 1) * math.log(n), **tol)
    # MWS without constants: each LSE sums B equal densities, log q + log B, so TC = (1 − D)·log B
    # (= (D − 1)·log N − (D − 1)·log(B·N), the dropped shift)
    assert mws(z, mu, logvar, n, constants=False).tc.item() == pytest.approx(-(d - 1) * math.log(b), **tol)
    # MSS0: row M−1 sums to s = 2·sw + (M−1)/M, its TC term is −(D − 1)·log s; others 0
    m = b - 1
    s = 2 * (n - m) / (n * m) + (m - 1) / m
    assert mss(z, mu, logvar, n, weights="mss0").tc.item() == pytest.approx(-(d - 1) * math.log(s) / b, **tol)


def test_mws_constants_shift_is_exact():
    z, mu, logvar = _batch(8, 4)
    n = 500
    a = mws(z, mu, logvar, n, constants=True).tc
    b = mws(z, mu, logvar, n, constants=False).tc
    assert (a - b).item() == pytest.approx(3 * math.log(8 * n), abs=1e-10)


def test_fields_are_consistent():
    z, mu, logvar = _batch(6, 3)
    e = mss(z, mu, logvar, 100)
    assert isinstance(e, TCEstimate)
    assert e.log_qz.shape == (6,) and e.log_qzk.shape == (6, 3) and e.log_prod_qzk.shape == (6,)
    assert e.tc.ndim == 0
    assert torch.allclose(e.log_prod_qzk, e.log_qzk.sum(1))
    assert e.tc.item() == pytest.approx((e.log_qz - e.log_prod_qzk).mean().item())
    # brute-force from the full tensor
    lq = log_qz_given_x(z, mu, logvar)
    lw = mss_log_weights(6, 100, dtype=torch.float64)
    assert torch.allclose(e.log_qz, torch.logsumexp(lq.sum(2) + lw, 1), atol=1e-12)


@pytest.mark.parametrize("estimator", ["mws", "mws_noconst", "mss0", "mss1"])
def test_chunked_equals_unchunked_with_gradients(estimator):
    def run(chunk):
        z, mu, logvar = _batch(9, 3, grad=True)
        if estimator.startswith("mws"):
            e = mws(z, mu, logvar, 50, constants=estimator == "mws", chunk=chunk)
        else:
            e = mss(z, mu, logvar, 50, weights=estimator, chunk=chunk)
        e.tc.backward()
        return e, (z.grad, mu.grad, logvar.grad)
    e_full, g_full = run(None)
    for chunk in (1, 4):
        e_c, g_c = run(chunk)
        # same operations in another grouping of rows: agreement to float64 round-off
        assert torch.allclose(e_c.log_qzk, e_full.log_qzk, atol=1e-12)
        assert torch.allclose(e_c.tc, e_full.tc, atol=1e-12)
        for a, b in zip(g_c, g_full, strict=True):
            assert torch.allclose(a, b, atol=1e-12)


def test_gradients_flow_and_match_finite_differences():
    z, mu, logvar = _batch(5, 2, grad=True)
    assert torch.autograd.gradcheck(lambda a, b, c: mss(a, b, c, 20, weights="mss1").tc, (z, mu, logvar))
    assert torch.autograd.gradcheck(lambda a, b, c: mws(a, b, c, 20).tc, (z, mu, logvar))


def test_float32_matches_float64():
    z, mu, logvar = _batch(64, 5, dtype=torch.float64)
    e64 = mss(z, mu, logvar, 1000).tc.item()
    e32 = mss(z.float(), mu.float(), logvar.float(), 1000).tc.item()
    # logsumexp in float32 of O(10)-sized terms: ~1e-6 relative per term; 1e-4 absolute on a mean is safe
    assert e32 == pytest.approx(e64, abs=1e-4)


# ---------------------------------------------------------------- against Gaussian ground truth

@pytest.mark.parametrize("det", [0.1, 0.5])
def test_mss1_matches_ground_truth_in_low_dimension(det):
    """D = 2, B = 2048: the regime where MSS is accurate. Measured over 10 seeds: error mean −0.004 (|Σ| = 0.1)
    and −0.036 (|Σ| = 0.5), standard deviation 0.022 nats: 0.15 nats is the bias plus > 5 standard deviations."""
    g = torch.Generator().manual_seed(3)
    s = figure2_latents(2, det, 2048, generator=g)
    est = mss(s.z, s.mu, s.logvar, 100_000, weights="mss1", chunk=512).tc.item()
    assert est == pytest.approx(s.tc_true, abs=0.15)


def test_mws_noconst_underestimates_and_mws_overestimates():
    g = torch.Generator().manual_seed(4)
    s = figure2_latents(3, 0.5, 512, generator=g)
    assert mws(s.z, s.mu, s.logvar, 10_000, constants=False).tc.item() < s.tc_true
    assert mws(s.z, s.mu, s.logvar, 10_000, constants=True).tc.item() > s.tc_true


# ---------------------------------------------------------------- bad input

def test_bad_inputs_raise_clear_errors():
    z, mu, logvar = _batch(4, 2)
    with pytest.raises(ValueError, match="same shape"):
        mss(z, mu[:, :1], logvar, 10)
    with pytest.raises(ValueError, match=r"shape \(B, D\)"):
        mws(z[0], mu[0], logvar[0], 10)
    with pytest.raises(TypeError, match="floating-point"):
        mws(z.long(), mu, logvar, 10)
    with pytest.raises(TypeError, match="share a dtype"):
        mws(z.float(), mu, logvar, 10)
    with pytest.raises(ValueError, match="smaller than the batch size"):
        mss(z, mu, logvar, 3)
    with pytest.raises(ValueError, match="smaller than the batch size"):
        mws(z, mu, logvar, 3)
    with pytest.raises(TypeError, match="dataset_size must be an int"):
        mws(z, mu, logvar, 10.0)
    with pytest.raises(ValueError, match="variant"):
        mss(z, mu, logvar, 10, weights="mss2")
    with pytest.raises(ValueError, match="chunk"):
        mws(z, mu, logvar, 10, chunk=0)
    with pytest.raises(ValueError, match="log_w"):
        minibatch_tc(z, mu, logvar, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="B ≥ 2"):
        mws(z[:1], mu[:1], logvar[:1], 10)


# ---------------------------------------------------------------- bad values and numpy scalars

@pytest.mark.parametrize("arg", ["z", "mu", "logvar"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_inputs_raise_naming_the_argument(arg, bad):
    z, mu, logvar = _batch(6, 3)
    t = {"z": z, "mu": mu, "logvar": logvar}
    t[arg] = t[arg].clone()
    t[arg][2, 1] = bad
    calls = [lambda: mws(t["z"], t["mu"], t["logvar"], 100),
             lambda: mws(t["z"], t["mu"], t["logvar"], 100, constants=False),
             lambda: mss(t["z"], t["mu"], t["logvar"], 100, weights="mss0"),
             lambda: mss(t["z"], t["mu"], t["logvar"], 100, weights="mss1"),
             lambda: log_qz_given_x(t["z"], t["mu"], t["logvar"]),
             lambda: minibatch_tc(t["z"], t["mu"], t["logvar"], 0.0)]
    for call in calls:
        with pytest.raises(ValueError, match=rf"^{arg} has a non-finite value .* at row 2, column 1"):
            call()


def test_check_false_skips_only_the_finiteness_scan():
    z, mu, logvar = _batch(6, 3)
    ref = mss(z, mu, logvar, 100)
    out = mss(z, mu, logvar, 100, check=False)
    assert torch.equal(out.tc, ref.tc)
    z[0, 0] = float("nan")
    assert math.isnan(float(mws(z, mu, logvar, 100, check=False).tc))  # the caller opted out
    with pytest.raises(ValueError, match="same shape"):
        mws(z, mu[:, :2], logvar, 100, check=False)


def test_nan_log_weight_raises():
    z, mu, logvar = _batch(4, 2)
    w = torch.zeros(4, 4, dtype=torch.float64)
    w[1, 2] = float("nan")
    with pytest.raises(ValueError, match="log_w"):
        minibatch_tc(z, mu, logvar, w)
    w[1, 2] = -float("inf")  # a zero weight is allowed
    assert math.isfinite(float(minibatch_tc(z, mu, logvar, w).tc))


def test_numpy_integer_scalars_accepted():
    z, mu, logvar = _batch(6, 3)
    for n in (np.int64(100), np.int32(100), np.uint16(100)):
        assert torch.equal(mws(z, mu, logvar, n).tc, mws(z, mu, logvar, 100).tc)
        assert torch.equal(mss(z, mu, logvar, n, chunk=np.int64(2)).tc, mss(z, mu, logvar, 100).tc)
        assert torch.equal(mss_log_weights(np.int64(6), n), mss_log_weights(6, 100))
    with pytest.raises(TypeError, match="dataset_size"):
        mws(z, mu, logvar, 100.0)
    with pytest.raises(TypeError, match="dataset_size"):
        mws(z, mu, logvar, True)
