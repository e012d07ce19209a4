"""The shared codebook Z and its vector quantiser Q (paper Eq. 1, 5; App. B Eq. B4, B5, B8, B9)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class QuantizerOutput:
    z_q: torch.Tensor  # (B, N, d) quantised vectors with straight-through gradients to z_e
    codes: torch.Tensor  # (B, N) long, indices into the codebook
    loss_vq: torch.Tensor  # () codebook term + beta * commitment term (Eq. 5)
    loss_codebook: torch.Tensor  # () ||sg[z_e] - z_q||^2
    loss_commit: torch.Tensor  # () ||z_e - sg[z_q]||^2 (unweighted)


def nearest_codes(z: torch.Tensor, codebook: torch.Tensor, chunk: int = 8192) -> torch.Tensor:
    """Index of the nearest code (squared Euclidean) for every row of `z` (M, d) -> (M,) long.

    Rows are processed in chunks so the (M, K) distance matrix never exceeds chunk*K entries.
    """
    e_sq = (codebook * codebook).sum(1)  # (K,)
    out = []
    for zc in z.split(chunk):
        # ||z||^2 is the same for every code: argmin only needs ||e||^2 - 2 z.e
        d = e_sq[None, :] - 2.0 * zc @ codebook.t()  # (m, K)
        out.append(d.argmin(1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.long, device=z.device)


def code_usage(codes: torch.Tensor, num_codes: int) -> torch.Tensor:
    """Eq. B9: n_k = number of times code k occurs in `codes` -> (K,) long."""
    return torch.bincount(codes.reshape(-1), minlength=num_codes)


def perplexity(counts: torch.Tensor) -> float:
    """exp(entropy) of the code distribution: K when uniform, 1 when collapsed to one code."""
    total = counts.sum()
    if total == 0:
        return 0.0
    p = counts.double() / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


class VectorQuantizer(nn.Module):
    """Nearest-code lookup into one codebook shared by every hand, straight-through estimator."""

    def __init__(self, num_codes: int, code_dim: int, beta: float = 0.25) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.beta = beta
        self.codebook = nn.Parameter(torch.empty(num_codes, code_dim))  # (K, d)
        nn.init.uniform_(self.codebook, -1.0 / num_codes, 1.0 / num_codes)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors for indices (...,) long -> (..., d)."""
        return F.embedding(codes, self.codebook)

    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """Eq. 1: indices of the nearest codes, (B, N, d) -> (B, N) long."""
        B, N, d = z_e.shape
        return nearest_codes(z_e.detach().reshape(B * N, d), self.codebook.detach()).view(B, N)

    def forward(self, z_e: torch.Tensor) -> QuantizerOutput:
        codes = self.quantize(z_e)  # (B, N)
        z_q = self.lookup(codes)  # (B, N, d)
        loss_codebook = F.mse_loss(z_q, z_e.detach())
        loss_commit = F.mse_loss(z_e, z_q.detach())
        loss_vq = loss_codebook + self.beta * loss_commit
        z_q_st = z_e + (z_q - z_e).detach()  # forward value z_q, gradient to z_e (straight-through)
        return QuantizerOutput(z_q_st, codes, loss_vq, loss_codebook, loss_commit)
