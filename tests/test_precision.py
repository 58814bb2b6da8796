"""bf16 training (TrainConfig.precision): the networks' arithmetic changes, nothing else — ε, the loss terms, the
weights and Adam's state stay float32; fp32 runs are untouched; a bf16 run resumes bit-identically on CPU."""
import pytest
import torch
from train_toys import ToySquares, params_equal, small

from rtc.models import VAE, TrainConfig
from rtc.models.networks import autocast, native_bf16
from rtc.models.train import build, train, vae_step


def test_precision_is_validated_and_part_of_the_cache_key(tmp_path):
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp16")
    from rtc.models import run_dir_for
    a, b = small(precision="fp32"), small(precision="bf16")
    assert run_dir_for(a, ToySquares(), tmp_path) != run_dir_for(b, ToySquares(), tmp_path)


def test_bf16_forward_changes_the_arithmetic_not_the_noise_nor_the_output_dtype(one_thread):
    torch.manual_seed(0)
    model = VAE(1, 4)
    x = ToySquares().observations(ToySquares().index_to_factors(range(8)))
    outs = {p: model(x, generator=torch.Generator().manual_seed(1), precision=p) for p in ("fp32", "bf16")}
    for o in outs.values():
        assert all(t.dtype == torch.float32 for t in (o.mu, o.logvar, o.z, o.logits))
    f, b = outs["fp32"], outs["bf16"]
    assert not torch.equal(f.logits, b.logits)                      # the convolutions ran in bfloat16 ...
    assert (f.logits - b.logits).abs().max() < 0.05 * f.logits.abs().max()   # ... to bfloat16's precision
    eps_f = (f.z - f.mu) / torch.exp(0.5 * f.logvar)
    eps_b = (b.z - b.mu) / torch.exp(0.5 * b.logvar)
    assert torch.allclose(eps_f, eps_b, atol=1e-5)                    # the same ε: a paired comparison


def test_fp32_forward_is_the_plain_one(one_thread):
    torch.manual_seed(0)
    model = VAE(1, 4)
    x = ToySquares().observations(ToySquares().index_to_factors(range(8)))
    out = model(x, generator=torch.Generator().manual_seed(1))
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(1))
    z = mu + torch.exp(0.5 * logvar) * eps
    assert torch.equal(out.z, z) and torch.equal(out.logits, model.decode(z))


def test_bf16_training_keeps_float32_state_and_terms(one_thread):
    cfg = small("factor_vae", precision="bf16", steps=3)
    tr = build(cfg, 1, "cpu")
    assert tr.disc.precision == "bf16" and tr.precision == "bf16"
    x = ToySquares().observations(ToySquares().index_to_factors(range(8)))
    out, terms = vae_step(tr, x, step=0, dataset_size=64)
    assert all(v.dtype == torch.float32 for v in terms.values())
    assert all(p.dtype == torch.float32 for p in tr.model.parameters())
    assert all(t.dtype == torch.float32 for st in tr.opt.state.values() for t in st.values() if t.ndim)


def test_bf16_run_resumes_bit_identical(tmp_path, one_thread):
    cfg = small("rtc_vae", precision="bf16", steps=8, checkpoint_every=2)
    whole = train(cfg, ToySquares(), cache_dir=tmp_path / "a", progress=False)
    part = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False, max_steps=3)
    assert not part.finished
    rest = train(cfg, ToySquares(), cache_dir=tmp_path / "b", progress=False)
    assert params_equal(whole.model, rest.model)


def test_native_bf16_detection_answers_for_each_device():
    assert isinstance(native_bf16("cpu"), bool)
    assert native_bf16("meta") is False
    with pytest.raises(ValueError, match="precision"):
        autocast("cpu", "fp16")
