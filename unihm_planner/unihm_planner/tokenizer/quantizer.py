"""The shared codebook Z and its vector quantiser Q (paper Eq. 1, 5; App. B Eq. B4, B5, B8, B9)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class QuantizerOutput:
    z_q: torch.Tensor  # (B, N, d) quantised vectors with straight-through gradients to z_e
    codes: torch.Tensor  # (B, N*S) long, indices into the codebook (S = stages, time-major)
    loss_vq: torch.Tensor  # () codebook term + beta * commitment term (Eq. 5)
    loss_codebook: torch.Tensor  # () ||sg[z_e] - z_q||^2, summed over stages
    loss_commit: torch.Tensor  # () ||z_e - sg[z_q]||^2 (unweighted)
    stage_inputs: torch.Tensor  # (B, N*S, d) what each code was chosen for (z_e, then residuals); detached


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
    """Nearest-code lookup into one codebook shared by every hand, straight-through estimator.

    With `num_stages` S > 1 it is a residual quantiser over the SAME codebook: stage s picks the code nearest
    to what the previous stages left, z_q = e_c1 + ... + e_cS, and every time step yields S tokens (stored
    time-major: step 0's S tokens, then step 1's, ...). S = 1 is the paper's quantiser.
    """

    def __init__(self, num_codes: int, code_dim: int, beta: float = 0.25, num_stages: int = 1) -> None:
        super().__init__()
        self.num_codes = num_codes
        self.code_dim = code_dim
        self.beta = beta
        self.num_stages = num_stages
        self.codebook = nn.Parameter(torch.empty(num_codes, code_dim))  # (K, d)
        nn.init.uniform_(self.codebook, -1.0 / num_codes, 1.0 / num_codes)

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Code vectors for indices (...,) long -> (..., d)."""
        return F.embedding(codes, self.codebook)

    def dequantize(self, codes: torch.Tensor) -> torch.Tensor:
        """Tokens (B, N*S) long -> z_q (B, N, d): the sum of each time step's S code vectors."""
        B, M = codes.shape
        return self.lookup(codes).view(B, M // self.num_stages, self.num_stages, self.code_dim).sum(2)

    def _stages(self, z_e: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Greedy residual coding of z_e (B, N, d) -> codes (B, N, S), code vectors and inputs (B, N, S, d)."""
        B, N, d = z_e.shape
        residual, codes, vecs, inputs = z_e.detach(), [], [], []
        for _ in range(self.num_stages):
            c = nearest_codes(residual.reshape(B * N, d), self.codebook.detach()).view(B, N)
            e = self.lookup(c)  # (B, N, d), differentiable w.r.t. the codebook
            inputs.append(residual)
            codes.append(c)
            vecs.append(e)
            residual = residual - e.detach()
        return torch.stack(codes, 2), torch.stack(vecs, 2), torch.stack(inputs, 2)

    def quantize(self, z_e: torch.Tensor) -> torch.Tensor:
        """Eq. 1: indices of the nearest codes, (B, N, d) -> (B, N*S) long."""
        B, N, _ = z_e.shape
        if self.num_stages == 1:
            return nearest_codes(z_e.detach().reshape(B * N, -1), self.codebook.detach()).view(B, N)
        with torch.no_grad():
            return self._stages(z_e)[0].reshape(B, N * self.num_stages)

    def forward(self, z_e: torch.Tensor) -> QuantizerOutput:
        B, N, d = z_e.shape
        codes, vecs, inputs = self._stages(z_e)  # (B, N, S), (B, N, S, d), (B, N, S, d)
        z_q = vecs.sum(2)  # (B, N, d)
        # each stage's code moves towards what it was chosen for (the codebook term of Eq. 5 per stage)
        loss_codebook = F.mse_loss(vecs, inputs, reduction="none").sum(2).mean()
        loss_commit = F.mse_loss(z_e, z_q.detach())
        loss_vq = loss_codebook + self.beta * loss_commit
        z_q_st = z_e + (z_q - z_e).detach()  # forward value z_q, gradient to z_e (straight-through)
        S = self.num_stages
        return QuantizerOutput(z_q_st, codes.reshape(B, N * S), loss_vq, loss_codebook, loss_commit,
                               inputs.reshape(B, N * S, d))
