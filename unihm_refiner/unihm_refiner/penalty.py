"""The asymmetric contact kernel f(d) of the paper (Eq. 12 = Eq. B16) and its derivative.

    f(d) = alpha/2 d^2                               d >= 0 (outside the object)
    f(d) = alpha/k^2 (exp(-k d) + k d - 1)           d <  0 (inside the object)

f is continuous with matched slope at d = 0 (Eq. B17), f''(0-) = f''(0+) = alpha, convex.

Numerical guard (not in the paper): beyond `EXP_CAP` units of k-scaled penetration
(-k d > EXP_CAP) the inside branch continues as its second-order Taylor expansion at that point,
so f stays C2, convex and finite instead of overflowing. With the refiner's default length unit
(mm) and k = 1 this only applies beyond 30 mm of penetration.
"""

from __future__ import annotations

import math

import numpy as np

EXP_CAP = 30.0  # -k d beyond which the exponential branch is continued by its quadratic expansion


def penalty_and_grad(d: np.ndarray, alpha: float = 1.0, k: float = 1.0,
                     band: float = math.inf) -> tuple[np.ndarray, np.ndarray]:
    """f(d) and f'(d) of Eq. 12, elementwise. d: (...) signed distances (positive outside).

    `band` (same unit as d; not in the paper): beyond it outside, f is held at f(band) and f' = 0, so a
    fingertip far from the object is not pulled onto it (the refiner's `attraction_band_m`)."""
    d = np.asarray(d, dtype=np.float64)
    u = -k * d  # (...) > 0 inside
    uc = np.minimum(u, EXP_CAP)
    e = np.exp(np.maximum(uc, 0.0))  # the outside branch does not use it; avoid exp of large -u
    extra = np.maximum(u - EXP_CAP, 0.0)  # (...) > 0 only beyond the cap
    scale = alpha / (k * k)
    f_in = scale * (e - uc - 1.0 + (e - 1.0) * extra + 0.5 * e * extra * extra)
    g_in = -(alpha / k) * ((e - 1.0) + e * extra)  # d f / d d = -k d f / d u
    inside = d < 0.0
    dc = np.minimum(d, band)
    f = np.where(inside, f_in, 0.5 * alpha * dc * dc)
    g = np.where(inside, g_in, np.where(d > band, 0.0, alpha * d))
    return f, g


def penalty(d: np.ndarray, alpha: float = 1.0, k: float = 1.0) -> np.ndarray:
    """f(d) of Eq. 12 (Eq. B16), elementwise."""
    return penalty_and_grad(d, alpha, k)[0]


def penalty_grad(d: np.ndarray, alpha: float = 1.0, k: float = 1.0) -> np.ndarray:
    """f'(d), elementwise: alpha d outside, alpha/k (1 - exp(-k d)) inside (Eq. B17)."""
    return penalty_and_grad(d, alpha, k)[1]
