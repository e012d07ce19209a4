import numpy as np
import pytest

from unihm_refiner.penalty import EXP_CAP, penalty, penalty_and_grad
from unihm_refiner.refiner import _penalty_fast


@pytest.mark.parametrize("alpha,k", [(1.0, 1.0), (2.0, 0.5), (0.3, 4.0)])
def test_continuous_and_slope_matched_at_zero(alpha, k):  # Eq. B17
    h = 1e-7
    f, g = penalty_and_grad(np.array([-h, 0.0, h]), alpha, k)
    assert np.allclose(f, 0.0, atol=1e-12)
    assert np.allclose(g, 0.0, atol=1e-6)
    # second derivatives match too: f''(0-) = f''(0+) = alpha
    h2 = 1e-4
    _, g2 = penalty_and_grad(np.array([-h2, h2]), alpha, k)
    assert np.allclose(g2 / np.array([-h2, h2]), alpha, rtol=1e-3)


def test_asymmetric_convex_and_derivative_matches_finite_differences():
    d = np.linspace(-8.0, 8.0, 161)
    f, g = penalty_and_grad(d, 1.0, 1.0)
    assert np.all(f >= 0) and np.all(np.diff(g) > 0)  # convex
    assert penalty(np.array([-3.0]))[0] > penalty(np.array([3.0]))[0]  # inside costs more
    h = 1e-6
    fd = (penalty(d + h) - penalty(d - h)) / (2 * h)
    assert np.allclose(fd, g, rtol=1e-5, atol=1e-6)


def test_beyond_the_exponent_cap_stays_finite_and_c1():
    u0 = EXP_CAP
    d = np.array([-u0 - 1e-6, -u0 + 1e-6, -u0 - 100.0])
    f, g = penalty_and_grad(d)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(g))
    assert abs(f[0] - f[1]) / f[1] < 1e-5 and abs(g[0] - g[1]) / abs(g[1]) < 1e-5


def test_fast_path_equals_reference():
    d = np.random.default_rng(0).normal(0, 5, 100)
    for a, k in [(1.0, 1.0), (2.0, 0.5)]:
        f1, g1 = penalty_and_grad(d, a, k)
        f2, g2 = _penalty_fast(d, a, k)
        assert np.allclose(f1, f2, rtol=1e-12, atol=1e-12) and np.allclose(g1, g2, rtol=1e-12, atol=1e-12)
