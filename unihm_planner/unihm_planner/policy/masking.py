"""Progressive masking curriculum of App. C.4.

Ground-truth motion tokens fed to the policy are progressively replaced by one learnable <mask>
embedding: no masking for the first 20 % of training, a ratio rising linearly to 100 % at 80 %, and
everything masked for the last 20 % (full generation from the context).
"""

from __future__ import annotations

import torch

from unihm_common.errors import InputError

__all__ = ["mask_ratio", "sample_mask"]


def mask_ratio(epoch_frac: float, start: float = 0.2, end: float = 0.8) -> float:
    """Fraction of motion tokens to mask at `epoch_frac` in [0, 1] of training (paper: start 0.2, end 0.8)."""
    if not 0.0 <= start < end <= 1.0:
        raise InputError(f"need 0 <= start < end <= 1, got start={start}, end={end}")
    if epoch_frac != epoch_frac or epoch_frac < 0.0:  # NaN or negative
        raise InputError(f"epoch_frac must be >= 0, got {epoch_frac}")
    if epoch_frac <= start:
        return 0.0
    if epoch_frac >= end:
        return 1.0
    return (epoch_frac - start) / (end - start)


def sample_mask(n: int | tuple[int, ...], ratio: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """A boolean mask of shape `n` (True = replaced by <mask>) with round(ratio * last dim) True per row.

    Exactly that many positions per row are drawn uniformly without replacement, so the realised ratio
    equals the schedule's rather than fluctuating around it.
    """
    shape = (n,) if isinstance(n, int) else tuple(n)
    if not shape or min(shape) < 0:
        raise InputError(f"mask shape must be non-negative sizes, got {shape}")
    if not 0.0 <= ratio <= 1.0:
        raise InputError(f"mask ratio must be in [0, 1], got {ratio}")
    length = shape[-1]
    k = int(round(ratio * length))
    scores = torch.rand(shape, generator=generator)  # (..., L)
    ranks = scores.argsort(dim=-1).argsort(dim=-1)  # (..., L) rank of each position
    return ranks < k
