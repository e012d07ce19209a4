"""Shared codebook: nearest-code lookup, straight-through gradients, Eq. 5 values, usage statistics."""

import math

import pytest
import torch
import torch.nn.functional as F

from unihm_common.errors import InputError
from unihm_planner.tokenizer.config import TokenizerConfig
from unihm_planner.tokenizer.model import HandTokenizer
from unihm_planner.tokenizer.quantizer import VectorQuantizer, code_usage, nearest_codes, perplexity


def test_nearest_codes_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    z, cb = torch.randn(50, 4, generator=g), torch.randn(16, 4, generator=g)
    expected = torch.cdist(z, cb).argmin(1)
    assert torch.equal(nearest_codes(z, cb, chunk=7), expected)


def test_vq_loss_values_and_gradients():
    q = VectorQuantizer(4, 2, beta=0.25)
    with torch.no_grad():
        q.codebook.copy_(torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]))
    z_e = torch.tensor([[[0.2, 0.1], [0.9, -0.2]]], requires_grad=True)  # (1, 2, 2)
    out = q(z_e)
    assert out.codes.tolist() == [[0, 1]]
    z_q = q.codebook[[0, 1]].detach()[None]
    mse = F.mse_loss(z_e.detach(), z_q)
    assert out.loss_codebook.item() == pytest.approx(mse.item())
    assert out.loss_commit.item() == pytest.approx(mse.item())
    assert out.loss_vq.item() == pytest.approx(1.25 * mse.item())
    assert torch.allclose(out.z_q, z_q)  # forward value is the code
    out.loss_vq.backward()
    # commitment only (beta-weighted) reaches z_e; the codebook term only moves the used codes
    assert torch.allclose(z_e.grad, 0.25 * 2 * (z_e.detach() - z_q) / z_e.numel())
    assert torch.allclose(q.codebook.grad[[0, 1]], 2 * (z_q - z_e.detach())[0] / z_e.numel())
    assert q.codebook.grad[[2, 3]].abs().sum() == 0


def test_straight_through_gradient_reaches_the_encoder():
    torch.manual_seed(0)
    model = HandTokenizer(TokenizerConfig(codebook_size=16, code_dim=4, hidden_dim=8, num_res_blocks=1))
    model.add_hand("h", [f"j{i}" for i in range(3)])
    out = model(torch.randn(2, 8, 3), "h")
    out.loss_rec.backward()  # reconstruction only: any encoder gradient came through the quantizer
    enc_grad = sum(p.grad.abs().sum() for p in model.encoders["h"].parameters())
    assert enc_grad > 0
    assert model.quantizer.codebook.grad is None or model.quantizer.codebook.grad.abs().sum() == 0


def test_usage_and_perplexity():
    counts = code_usage(torch.tensor([[0, 0, 2], [2, 3, 3]]), 5)
    assert counts.tolist() == [2, 0, 2, 2, 0]
    assert perplexity(counts) == pytest.approx(3.0)
    assert perplexity(torch.tensor([7, 0, 0])) == pytest.approx(1.0)
    assert perplexity(torch.ones(8, dtype=torch.long)) == pytest.approx(8.0)
    assert math.isfinite(perplexity(torch.zeros(3, dtype=torch.long)))


def test_residual_stages_share_one_codebook_and_refine_the_code():
    g = torch.Generator().manual_seed(1)
    one, two = VectorQuantizer(64, 3, num_stages=1), VectorQuantizer(64, 3, num_stages=2)
    with torch.no_grad():
        cb = torch.randn(64, 3, generator=g)
        one.codebook.copy_(cb)
        two.codebook.copy_(cb)
    z_e = torch.randn(2, 5, 3, generator=g, requires_grad=True)
    o1, o2 = one(z_e), two(z_e)
    assert o2.codes.shape == (2, 10) and o2.stage_inputs.shape == (2, 10, 3)
    # stage 1 is the plain quantiser; stage 2 codes what stage 1 left, from the same codebook
    assert torch.equal(o2.codes[:, 0::2], o1.codes)
    residual = z_e.detach() - cb[o1.codes]
    assert torch.equal(o2.codes[:, 1::2], nearest_codes(residual.reshape(-1, 3), cb).view(2, 5))
    assert torch.allclose(o2.z_q, cb[o2.codes[:, 0::2]] + cb[o2.codes[:, 1::2]])
    assert torch.allclose(two.dequantize(o2.codes), o2.z_q)
    assert torch.equal(two.quantize(z_e), o2.codes)
    # on average the second stage brings the quantised vector closer to z_e
    assert (o2.z_q - z_e).norm(dim=-1).mean() < (o1.z_q - z_e).norm(dim=-1).mean()
    o2.loss_vq.backward()
    assert z_e.grad.abs().sum() > 0 and two.codebook.grad.abs().sum() > 0


def test_residual_tokenizer_round_trip_shapes():
    torch.manual_seed(0)
    model = HandTokenizer(TokenizerConfig(codebook_size=16, code_dim=4, hidden_dim=8, num_res_blocks=1,
                                          downsample=2, residual_stages=3))
    model.add_hand("h", [f"j{i}" for i in range(3)])
    x = torch.randn(2, 8, 3)
    tokens = model.tokenize(x, "h")
    assert tokens.shape == (2, 12)  # 4 steps x 3 tokens
    assert model.detokenize(tokens, "h").shape == (2, 8, 3)
    assert model(x, "h").codes.shape == (2, 12)
    with pytest.raises(InputError, match="whole number of time steps"):
        model.detokenize(tokens[:, :5], "h")
