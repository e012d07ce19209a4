"""Cold-code refresh (App. B.2, Eq. B9-B11): per-epoch usage counts, a cold set by threshold tau_c,
K-means over a buffer of recent encoder outputs, and replacement of ONLY the cold codes."""

from __future__ import annotations

import torch

from unihm_planner.tokenizer.quantizer import nearest_codes


class ReservoirBuffer:
    """Uniform sample (reservoir sampling) of at most `capacity` encoder outputs since the last reset."""

    def __init__(self, capacity: int, dim: int, generator: torch.Generator | None = None) -> None:
        self.capacity, self.dim = capacity, dim
        self.data = torch.empty(0, dim)  # (n, d)
        self.seen = 0
        self.gen = generator

    def add(self, z: torch.Tensor) -> None:
        """Offer a batch of vectors (..., d)."""
        z = z.detach().reshape(-1, self.dim).float().cpu()
        free = self.capacity - self.data.shape[0]
        if free > 0:
            self.data = torch.cat([self.data, z[:free]])
            self.seen += min(free, z.shape[0])
            z = z[free:]
        if z.shape[0] == 0:
            return
        # Algorithm R, vectorised: item number s (1-based) replaces a random slot with probability capacity/s
        s = self.seen + torch.arange(1, z.shape[0] + 1, dtype=torch.float64)
        slot = (torch.rand(z.shape[0], generator=self.gen, dtype=torch.float64) * s).long()
        keep = slot < self.capacity
        self.data[slot[keep]] = z[keep]  # later items win on duplicate slots, as in the sequential version
        self.seen += z.shape[0]

    def reset(self) -> None:
        self.data = torch.empty(0, self.dim)
        self.seen = 0

    def __len__(self) -> int:
        return self.data.shape[0]


def cold_codes(counts: torch.Tensor, threshold: int) -> torch.Tensor:
    """Eq. B10: indices k with n_k < tau_c -> (R,) long."""
    return torch.nonzero(counts < threshold).flatten()


def kmeans(x: torch.Tensor, k: int, iters: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Lloyd's K-means on (n, d) with centroids initialised from random points -> (k, d).

    With fewer points than centroids, points are reused with a little noise so centroids stay distinct.
    An empty cluster keeps its previous centroid.
    """
    n, d = x.shape
    if n == 0:
        raise ValueError("kmeans needs at least one point")
    if n >= k:
        c = x[torch.randperm(n, generator=generator)[:k]].clone()
    else:
        idx = torch.randint(n, (k,), generator=generator)
        scale = x.std(0, correction=0).mean().clamp_min(1e-6) * 0.01
        c = x[idx] + scale * torch.randn(k, d, generator=generator)
    for _ in range(iters):
        assign = nearest_codes(x, c)  # (n,)
        sums = torch.zeros_like(c).index_add_(0, assign, x)  # (k, d)
        counts = torch.bincount(assign, minlength=k).unsqueeze(1)  # (k, 1)
        c = torch.where(counts > 0, sums / counts.clamp_min(1), c)
    return c


@torch.no_grad()
def refresh_cold_codes(codebook: torch.Tensor, counts: torch.Tensor, buffer: torch.Tensor, threshold: int,
                       iters: int = 10, generator: torch.Generator | None = None) -> torch.Tensor:
    """Eq. B11: replace the cold codes of `codebook` (K, d) in place by K-means centroids of `buffer`.

    Codes with counts >= threshold are left bit-identical. Returns the refreshed indices (R,).
    """
    cold = cold_codes(counts.to(codebook.device), threshold)
    if cold.numel() == 0 or buffer.shape[0] == 0:
        return cold[:0]
    centroids = kmeans(buffer.float().cpu(), cold.numel(), iters, generator)  # (R, d)
    codebook[cold] = centroids.to(codebook.device, codebook.dtype)  # pi: r-th cold code <- r-th centroid
    return cold
