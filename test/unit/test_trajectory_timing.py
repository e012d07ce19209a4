"""Execution timing: segments slowed to wrist and joint speed limits, never sped up; approach offset."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_common.trajectory import HandMotion
from unihm_common.trajectory_timing import SpeedLimits, retime, rotation_angles, segment_durations, with_approach


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _motion(n=20, fps=30.0, step_m=0.0, step_rad=0.0, dq=0.0):
    t = np.arange(n) / fps
    q = np.outer(np.arange(n), [dq, 0.5 * dq])
    T = np.tile(np.eye(4), (n, 1, 1))
    for i in range(n):
        T[i, :3, :3] = _rot_z(step_rad * i)
        T[i, 0, 3] = step_m * i
    return HandMotion("h", ("a", "b"), t, q, T_world_wrist=T)


def test_slow_motion_keeps_its_timing():
    m = _motion(step_m=0.001, step_rad=0.001, dq=0.001)
    np.testing.assert_allclose(retime(m, np.array([2.0, 2.0])).t_s, m.t_s)


@pytest.mark.parametrize("kind", ["linear", "angular", "joint"])
def test_each_limit_is_respected_exactly_where_it_binds(kind):
    lim = SpeedLimits(wrist_linear_m_s=0.3, wrist_angular_rad_s=1.5, joint_velocity_scale=0.5)
    m = {"linear": _motion(step_m=0.03), "angular": _motion(step_rad=0.2), "joint": _motion(dq=0.2)}[kind]
    vmax = np.array([2.0, 2.0])
    out = retime(m, vmax, lim)
    dt = np.diff(out.t_s)
    assert np.all(dt >= np.diff(m.t_s) - 1e-12)
    if kind == "linear":
        np.testing.assert_allclose(0.03 / dt, 0.3)
    elif kind == "angular":
        np.testing.assert_allclose(0.2 / dt, 1.5)
    else:
        np.testing.assert_allclose(0.2 / dt, 0.5 * 2.0)  # the fastest joint at half its limit
    assert out.t_s[0] == m.t_s[0] and np.array_equal(out.q, m.q)


def test_only_the_fast_segment_is_slowed():
    m = _motion(step_m=0.001)
    T = m.T_world_wrist.copy()
    T[10:, 0, 3] += 0.1  # a 10 cm jump between frames 9 and 10
    dt = segment_durations(m.t_s, T_wrist=T)
    assert dt[9] == pytest.approx((0.1 + 0.001) / 0.3)
    np.testing.assert_allclose(np.delete(dt, 9), 1 / 30.0)


def test_rotation_angles():
    R = np.stack([_rot_z(0.0), _rot_z(0.3), _rot_z(-0.2)])
    np.testing.assert_allclose(rotation_angles(R), [0.3, 0.5], atol=1e-12)


def test_approach_offsets_the_start_and_bad_input_raises():
    m = _motion(dq=0.01)
    a = with_approach(m, 2.0)
    assert a.t_s[0] == 2.0 and np.allclose(np.diff(a.t_s), np.diff(m.t_s))
    with pytest.raises(InputError):
        with_approach(m, -1.0)
    with pytest.raises(InputError):
        SpeedLimits(wrist_linear_m_s=0.0)
    with pytest.raises(InputError, match="velocity limit"):
        segment_durations(m.t_s, m.q, np.array([1.0]))
    with pytest.raises(InputError, match="increasing"):
        segment_durations(np.array([0.0, 0.0]))
