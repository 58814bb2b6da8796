"""Table 2 networks: shapes, layer structure, channels_last vs NCHW, input validation."""
import pytest
import torch

from rtc.models.networks import VAE, Decoder, Encoder, reparameterize


@pytest.mark.parametrize("nc", [1, 3])
def test_shapes(nc):
    model = VAE(nc, 10)
    out = model(torch.rand(4, nc, 64, 64))
    assert out.mu.shape == out.logvar.shape == out.z.shape == (4, 10)
    assert out.logits.shape == (4, nc, 64, 64)


def test_table2_layers():
    enc, dec = Encoder(1, 10), Decoder(1, 10)
    convs = [m for m in enc.net if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 64, 64, 512, 20]
    assert [c.kernel_size for c in convs] == [(4, 4)] * 5 + [(1, 1)]
    assert [c.stride for c in convs] == [(2, 2)] * 4 + [(1, 1)] * 2
    deconvs = [m for m in dec.net if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [c.out_channels for c in deconvs] == [512, 64, 64, 32, 32, 1]
    assert [c.stride for c in deconvs] == [(1, 1)] * 2 + [(2, 2)] * 4
    assert not isinstance(dec.net[-1], torch.nn.ReLU)  # logits, not a ReLU output


def test_channels_last_matches_nchw():
    torch.manual_seed(0)
    a = VAE(3, 10, channels_last=False)
    b = VAE(3, 10, channels_last=True)
    b.load_state_dict(a.state_dict())
    x = torch.rand(5, 3, 64, 64)
    ma, la = a.encode(x)
    mb, lb = b.encode(x)
    # Same math in a different memory layout: only the order of float32 sums differs (~1e-6 relative).
    torch.testing.assert_close(ma, mb, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(a.decode(ma), b.decode(ma), rtol=1e-4, atol=1e-4)


def test_reparameterize_moments():
    g = torch.Generator().manual_seed(0)
    mu = torch.full((200_000, 1), 2.0)
    logvar = torch.full((200_000, 1), torch.log(torch.tensor(0.25)).item())
    z = reparameterize(mu, logvar, g)
    # 200k draws: standard error of the mean 0.5/√2e5 ≈ 1.1e-3, of the std ≈ 8e-4; 5 s.e. margins.
    assert abs(z.mean().item() - 2.0) < 6e-3
    assert abs(z.std().item() - 0.5) < 4e-3


def test_bad_input_shapes():
    model = VAE(1, 10)
    with pytest.raises(ValueError, match=r"\(B, 1, 64, 64\)"):
        model.encode(torch.rand(2, 3, 64, 64))
    with pytest.raises(ValueError, match="codes"):
        model.decode(torch.rand(2, 4))
    with pytest.raises(ValueError):
        Encoder(0, 10)
