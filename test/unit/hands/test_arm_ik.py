"""Arm IK: reachable flange paths are tracked to sub-mm, within limits, smoothly."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_common.hands.arm import load_arm_spec
from unihm_common.hands.ik import ArmIk


@pytest.fixture(scope="module")
def ik():
    return ArmIk(load_arm_spec("fr3"))


def test_ik_recovers_poses_from_a_joint_path(ik):
    arm = ik.arm
    rng = np.random.default_rng(0)
    q_mid = (arm.lower_rad + arm.upper_rad) / 2
    t = np.linspace(0, 1, 30)[:, None]
    q_path = q_mid + 0.3 * np.sin(2 * np.pi * t + rng.uniform(0, 6, 7)) * 0.5  # (30, 7) inside the limits
    targets = np.stack([ik.flange_pose(q) for q in q_path])
    res = ik.solve(targets, q_path[0])
    assert res.max_position_error_m < 1e-4 and res.rotation_error_rad.max() < 1e-3
    assert np.all(res.q >= arm.lower_rad - 1e-12) and np.all(res.q <= arm.upper_rad + 1e-12)
    reached = np.stack([ik.flange_pose(q) for q in res.q])
    np.testing.assert_allclose(reached[:, :3, 3], targets[:, :3, 3], atol=1e-4)
    assert np.abs(np.diff(res.q, axis=0)).max() < 0.3, "warm-started solutions must stay smooth"


def test_ik_rejects_bad_targets(ik):
    with pytest.raises(InputError, match="finite"):
        ik.solve(np.full((2, 4, 4), np.nan), np.zeros(7))


def test_mount_matches_the_composed_arm_hand_model():
    """flange_targets inverts the arm+hand composition of hands.arm (same mount convention)."""
    from unihm_common.hands import load_arm_hand
    from unihm_common.hands.ik import flange_targets, mount_transform

    ah = load_arm_hand("fr3", "inspire_right")
    s = ah.hand.spec
    np.testing.assert_allclose(mount_transform(s.mount_xyz, s.mount_rpy), ah.T_flange_wrist, atol=1e-12)
    ik = ArmIk(ah.arm)
    q_arm = (ah.arm.lower_rad + ah.arm.upper_rad) / 2
    T_world_base = np.eye(4)
    T_world_base[:3, 3] = [0.1, -0.2, 0.05]
    T_world_wrist = T_world_base @ ik.flange_pose(q_arm) @ ah.T_flange_wrist
    back = flange_targets(T_world_wrist[None], T_world_base, ah.T_flange_wrist)[0]
    np.testing.assert_allclose(back, ik.flange_pose(q_arm), atol=1e-12)


def _policy_path():
    """Flange targets of a wrist path the shipped policy generated in the demo scene (FR3 base across the table),
    with its nominal 30 frames/s timing and the timing slowed to 0.3 m/s / 1.5 rad/s after a 2 s approach."""
    from pathlib import Path

    d = np.load(Path(__file__).parent / "data" / "fr3_policy_wrist_path.npz")
    return d["T_base_flange"], d["t_nominal_s"], d["t_slowed_s"]


def test_restarts_find_a_branch_the_warm_started_one_misses(ik):
    targets, _, t_slow = _policy_path()
    q_mid = (ik.arm.lower_rad + ik.arm.upper_rad) / 2
    single = ArmIk(ik.arm, restarts=0).solve(targets, q_mid)
    assert single.starts_tried == 1 and single.max_position_error_m > 0.01  # stuck on a joint limit
    res = ik.solve(targets, q_mid, t_s=t_slow)
    assert res.starts_tried > 1 and res.feasible(ik.position_tol_m, ik.rotation_tol_rad), res.why_infeasible(
        ik.position_tol_m, ik.rotation_tol_rad)
    reached = np.stack([ik.flange_pose(q) for q in res.q])
    assert np.linalg.norm(reached[:, :3, 3] - targets[:, :3, 3], axis=1).max() < 0.01
    assert res.max_velocity_ratio <= 1.0


def test_a_path_too_fast_for_the_arm_is_infeasible_with_the_reason(ik):
    targets, t_nominal, _ = _policy_path()
    q_mid = (ik.arm.lower_rad + ik.arm.upper_rad) / 2
    res = ik.solve(targets, q_mid, t_s=t_nominal)  # human speed and no time to reach the first pose
    assert not res.feasible(ik.position_tol_m, ik.rotation_tol_rad)
    assert res.max_velocity_ratio > 1.0 and "joint speed" in res.why_infeasible(ik.position_tol_m, ik.rotation_tol_rad)


def test_velocity_ratio_counts_the_approach_and_each_step(ik):
    vmax = np.asarray(ik.arm.velocity_limit_rad_s)
    q0 = np.zeros(7)
    q = np.stack([q0 + 0.5 * vmax * np.eye(7)[0], q0 + 0.5 * vmax * np.eye(7)[0] + 2.0 * vmax * np.eye(7)[1]])
    # approach: 0.5 s of joint-0 motion in 1 s; step: 2 s of joint-1 motion in 1 s
    assert ik.velocity_ratio(q, np.array([1.0, 2.0]), q0) == pytest.approx(2.0)
    assert ik.velocity_ratio(q, np.array([1.0, 5.0]), q0) == pytest.approx(0.5)
    with pytest.raises(InputError, match="increasing"):
        ik.solve(np.stack([ik.flange_pose(x) for x in q]), q0, t_s=np.array([1.0, 1.0]))
