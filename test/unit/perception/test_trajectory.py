import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from unihm_common.errors import ConfigError, InputError
from unihm_planner.target.trajectory import TrajectoryConfig, min_jerk_peak_jerk, plan_object_trajectory


def _pose(xyz, yaw):
    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("z", yaw).as_matrix()
    T[:3, 3] = xyz
    return T


@pytest.fixture
def traj():
    cfg = TrajectoryConfig(rate_hz=200.0)
    A, B = _pose([0.1, -0.1, 0.04], 0.3), _pose([-0.15, 0.2, 0.06], 1.2)
    t, T = plan_object_trajectory(A, B, cfg)
    return cfg, A, B, t, T


def test_endpoints_and_lift(traj):
    cfg, A, B, t, T = traj
    np.testing.assert_allclose(T[0], A, atol=1e-12)
    np.testing.assert_allclose(T[-1], B, atol=1e-9)
    assert T[:, 2, 3].max() == pytest.approx(0.06 + cfg.lift_height_m)
    assert np.all(np.diff(t) > 0)


def test_c2_smooth_with_bounded_jerk(traj):
    cfg, A, B, t, T = traj
    dt = t[1] - t[0]
    p = T[:, :3, 3]
    v = np.gradient(p, dt, axis=0)
    a = np.gradient(v, dt, axis=0)
    j = np.diff(a, axis=0) / dt
    carry = np.linalg.norm(B[:2, 3] - A[:2, 3])
    carry_s = max(cfg.min_carry_duration_s, carry / cfg.carry_speed_m_s)
    bound = max(min_jerk_peak_jerk(carry, carry_s), min_jerk_peak_jerk(cfg.lift_height_m + 0.02, cfg.lift_duration_s))
    # continuity: no jumps in velocity or acceleration between samples (C2): a step changes the acceleration
    # by at most the peak jerk times dt
    assert np.abs(np.diff(v, axis=0)).max() < 0.01
    assert np.abs(np.diff(a, axis=0)).max() < 1.2 * bound * dt
    # at rest at both ends
    assert np.linalg.norm(v[0]) < 1e-3 and np.linalg.norm(v[-1]) < 1e-3
    # jerk bounded by the analytic min-jerk peak of the steepest segment (plus finite-difference slack)
    assert np.linalg.norm(j, axis=1).max() < 1.2 * bound
    # rotation: smooth angular velocity, ends at the goal
    R = Rotation.from_matrix(T[:, :3, :3])
    w = (R[1:] * R[:-1].inv()).magnitude() / dt
    assert np.abs(np.diff(w)).max() < 0.05
    assert (R[-1] * Rotation.from_matrix(B[:3, :3]).inv()).magnitude() < 1e-9


def test_grasp_hold_keeps_the_object_still_first():
    A, B = _pose([0.1, -0.1, 0.04], 0.3), _pose([-0.15, 0.2, 0.06], 1.2)
    t0, T0 = plan_object_trajectory(A, B, TrajectoryConfig(rate_hz=100.0, grasp_hold_s=0.0, release_hold_s=0.0))
    t, T = plan_object_trajectory(A, B, TrajectoryConfig(rate_hz=100.0, grasp_hold_s=1.5, release_hold_s=0.5))
    assert t[-1] == pytest.approx(t0[-1] + 2.0, abs=0.011)
    first, last = t <= 1.5, t >= t[-1] - 0.5
    np.testing.assert_allclose(T[first], np.broadcast_to(A, T[first].shape), atol=1e-12)
    np.testing.assert_allclose(T[last], np.broadcast_to(B, T[last].shape), atol=1e-9)
    assert np.linalg.norm(T[np.searchsorted(t, 1.7), :3, 3] - A[:3, 3]) > 1e-4  # lifting after the hold
    assert np.linalg.norm(T[np.searchsorted(t, t[-1] - 0.7), :3, 3] - B[:3, 3]) > 1e-4  # placing before the rest


def test_bad_inputs():
    with pytest.raises(InputError):
        plan_object_trajectory(np.full((4, 4), np.nan), np.eye(4))
    with pytest.raises(ConfigError):
        TrajectoryConfig(rate_hz=0)
    with pytest.raises(ConfigError):
        TrajectoryConfig(grasp_hold_s=-1.0)
