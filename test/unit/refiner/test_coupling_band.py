"""Underactuated hands are refined in their free joints; the optional attraction band leaves far fingertips alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from unihm_refiner.contact import ObjectCloud
from unihm_refiner.kinematics import KinematicChain
from unihm_refiner.penalty import penalty_and_grad
from unihm_refiner.refiner import Refiner, RefinerOptions
from unihm_refiner.synthetic import make_synthetic_sequence


@pytest.fixture(scope="module")
def inspire():
    hands = pytest.importorskip("unihm_common.hands")
    if "inspire_right" not in hands.available_hands():
        pytest.skip("hand library not present")
    return hands.load_hand("inspire_right")


def _coupling_residual(spec, q: np.ndarray) -> float:
    return float(np.abs(spec.actuated_to_full(spec.full_to_actuated(q)) - q).max())


def test_coupled_hand_is_refined_in_its_free_joints(inspire):
    chain = KinematicChain.from_hand(inspire)
    assert len(chain.coupling) == 6  # the RH56's six intermediate/distal joints follow their drivers
    C, b, free = chain.coupling_map()
    assert C.shape == (12, 6) and len(free) == 6
    seq = make_synthetic_sequence(chain, n_frames=30, n_points=1024, penetration_mm=6.0, seed=2)
    cloud = ObjectCloud(seq.object_points, seq.object_normals)
    args = (cloud, seq.motion.q, seq.T_world_object, seq.motion.T_world_wrist)
    res = Refiner(chain).refine(*args)
    assert _coupling_residual(inspire.spec, res.q) < 1e-12  # a pose the hand can take
    assert res.max_penetration_mm_after < min(2.0, res.max_penetration_mm_before)
    np.testing.assert_array_equal(res.q[:, free], np.clip(res.q[:, free], chain.lower_rad[free],
                                                         chain.upper_rad[free]))
    free_run = Refiner(chain, RefinerOptions(respect_coupling=False)).refine(*args)
    assert _coupling_residual(inspire.spec, free_run.q) > 1e-3  # every joint on its own breaks the coupling


def test_attraction_band_kernel():
    d = np.array([-1.0, 0.0, 1.0, 2.0, 2.5, 10.0])
    f, g = penalty_and_grad(d, 1.0, 1.0, band=2.0)
    f0, g0 = penalty_and_grad(d, 1.0, 1.0)
    np.testing.assert_allclose(f[:4], f0[:4])
    np.testing.assert_allclose(g[:4], g0[:4])
    assert f[4] == f[5] == pytest.approx(2.0) and g[4] == g[5] == 0.0  # held at f(band), no pull
    f_inf, _ = penalty_and_grad(d, 1.0, 1.0, band=math.inf)
    np.testing.assert_array_equal(f_inf, f0)


def test_attraction_band_leaves_far_fingertips_where_the_generator_put_them(toy, toy_seq):
    chain, _ = toy
    seq = toy_seq
    far = seq.T_world_object.copy()
    far[:, :3, 3] += 0.3 * np.array([1.0, 0.0, 0.0])  # the object 30 cm away: no tip near it
    cloud = ObjectCloud(seq.object_points, seq.object_normals)
    pulled = Refiner(chain).refine(cloud, seq.motion.q, far, seq.motion.T_world_wrist)
    banded = Refiner(chain, RefinerOptions(attraction_band_m=0.02)).refine(cloud, seq.motion.q, far,
                                                                           seq.motion.T_world_wrist)
    dev_pulled = np.abs(pulled.q - seq.motion.q).max()
    dev_banded = np.abs(banded.q - seq.motion.q).max()
    assert dev_pulled > 0.05, "Eq. 12 as written pulls every tip toward the surface"
    assert dev_banded < 0.02, f"with the band the priors keep q near q_gen, moved {dev_banded:.3f} rad"
    with pytest.raises(ValueError, match="attraction_band_m"):
        RefinerOptions(attraction_band_m=0.0)
