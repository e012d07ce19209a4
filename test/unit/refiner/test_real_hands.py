"""Over the hand library's hands; skipped cleanly while the library is unavailable."""

import numpy as np
import pytest

try:
    from unihm_refiner.kinematics import KinematicChain

    KinematicChain.load("allegro_right")
except Exception as exc:  # noqa: BLE001 - any failure of the library means: skip
    pytest.skip(f"hand library unavailable: {exc}", allow_module_level=True)

from unihm_refiner.refiner import Refiner
from unihm_refiner.synthetic import make_synthetic_sequence


@pytest.mark.parametrize("name", ["allegro_right", "leap_right"])
def test_refines_a_real_hand(name):
    chain = KinematicChain.load(name)
    seq = make_synthetic_sequence(chain, n_frames=40, penetration_mm=8.0, seed=2)
    res = Refiner(chain).refine(seq.cloud(), seq.motion.q, seq.T_world_object, seq.T_world_wrist)
    assert res.max_penetration_mm_before > 5.0
    assert res.max_penetration_mm_after < 2.0
    assert np.abs(res.q - seq.motion.q).mean() < 0.1
    assert np.all(res.q >= chain.lower_rad - 1e-12) and np.all(res.q <= chain.upper_rad + 1e-12)


def test_chain_matches_the_hand_library_kinematics():
    try:
        from unihm_common.hands import load_hand
    except ImportError:
        from unihm_common.hands.model import load_hand
    hand = load_hand("allegro_right")
    chain = KinematicChain.from_hand(hand)
    from unihm_refiner.kinematics import TipKinematics

    q = np.random.default_rng(0).uniform(chain.lower_rad, chain.upper_rad)
    kin = TipKinematics(chain)
    kin.update(q)
    pos, jac = hand.fingertip_fk_and_jacobians(q)
    assert np.allclose(kin.positions(), np.asarray(pos).reshape(-1, 3), atol=1e-9)
    assert np.allclose(kin.jacobians(), np.asarray(jac).reshape(kin.jacobians().shape), atol=1e-9)
