"""App. F metrics against hand-computed values."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_planner.evaluation import metrics as M


def rot_z(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])


def test_mpjpe_known_value():
    gt = np.zeros((2, 2, 3))
    pred = gt.copy()
    pred[0, 0] = [0.003, 0.004, 0.0]  # 5 mm
    pred[1, 1] = [0.0, 0.0, 0.010]  # 10 mm
    assert M.mpjpe_mm(pred, gt) == pytest.approx((5 + 10) / 4)
    with pytest.raises(InputError):
        M.mpjpe_mm(pred[:1], gt)


def test_fpl_and_fol_known_values():
    assert M.fpl_mm([0.0, 0.03, 0.04], [0, 0, 0]) == pytest.approx(50.0)
    assert M.fol_deg(np.eye(3), rot_z(90)) == pytest.approx(90.0)
    assert M.fol_deg(rot_z(10), rot_z(-20)) == pytest.approx(30.0)
    assert M.fol_deg(np.eye(4), np.eye(4)) == pytest.approx(0.0, abs=1e-6)


def test_fid_identical_zero_and_grows_with_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 4))
    assert M.fid(a, a) == pytest.approx(0.0, abs=1e-6)
    shifted = M.fid(a, a + 1.0)
    assert shifted == pytest.approx(4.0, rel=1e-6)  # same covariance: ||mu_r - mu_g||^2 = 4 * 1^2
    assert M.fid(a, a + 2.0) > shifted
    assert M.fid(a, a * 2.0) > 1.0  # covariance change alone is penalised (trace term)


def test_diversity_known_value():
    z = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 8.0]])  # distances 5, 8, 5
    assert M.diversity(z) == pytest.approx(6.0)
    with pytest.raises(InputError):
        M.diversity(z[:1])


def test_resample_and_mean_std():
    x = np.arange(5.0)[:, None]
    assert M.resample(x, 9)[:, 0] == pytest.approx(np.arange(9) / 2)
    assert M.mean_std([1.0, 3.0]) == {"mean": 2.0, "std": 1.0}


def test_hand_points_follow_the_wrist_pose():
    from unihm_common.hands import load_hand

    hp = M.HandPoints(load_hand("shadow_right"))
    q = np.zeros((3, len(hp.hand.spec.joint_names)))
    T = np.tile(np.eye(4), (3, 1, 1))
    base = hp.joints_world(q, T)
    T2 = T.copy()
    T2[:, :3, 3] = [0.1, -0.2, 0.3]
    T2[:, :3, :3] = rot_z(90)
    moved = hp.joints_world(q, T2)
    assert moved == pytest.approx(base @ rot_z(90).T + [0.1, -0.2, 0.3])
    assert base.shape[1] == len(hp.hand.spec.joint_names) + len(hp.hand.fingertip_frames)
    palm = hp.palm_world(q[0], T2[0])
    assert np.linalg.norm(palm - [0.1, -0.2, 0.3]) < 0.2  # the palm is near the root
