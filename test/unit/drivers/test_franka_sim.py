"""Franka arm and Panda gripper through the real franky client against franky-sim (no mocks)."""

from __future__ import annotations

import numpy as np
import pytest

from unihm_drivers.base import DeviceUnreachableError, make_driver


@pytest.fixture
def arm(franky_sim_host):
    from unihm_drivers.backends.franka import FR3_SPEC

    d = make_driver("franka", {"host": franky_sim_host, "realtime": "ignore", "relative_dynamics_factor": 0.3},
                    FR3_SPEC)
    with d:
        yield d


def test_joint_and_cartesian_waypoint_motions(arm):
    q0 = arm.read().positions
    target = q0.copy()
    target[0] += 0.15
    target[3] += 0.1
    arm.move_joint_waypoints(np.stack([q0 + (target - q0) / 2, target]), asynchronous=True)
    assert arm.wait(10.0)
    np.testing.assert_allclose(arm.read().positions, target, atol=0.05)
    T = arm.end_effector_pose()
    goal = T.copy()
    goal[2, 3] -= 0.05
    arm.move_cartesian_waypoints(goal[None], asynchronous=True)
    assert arm.wait(10.0)
    np.testing.assert_allclose(arm.end_effector_pose()[:3, 3], goal[:3, 3], atol=0.01)
    arm.recover()  # no reflex pending: a no-op that must not raise


def test_unreachable_robot_is_a_clear_error():
    d = make_driver("franka", {"host": "127.0.0.254", "realtime": "ignore"}, __import__(
        "unihm_drivers.backends.franka", fromlist=["FR3_SPEC"]).FR3_SPEC)
    with pytest.raises(DeviceUnreachableError, match="127.0.0.254 unreachable"):
        d.configure()


def test_gripper_is_non_blocking(franky_sim_host):
    from unihm_drivers.backends.panda_gripper import GRIPPER_SPEC

    with make_driver("panda_gripper", {"host": franky_sim_host, "speed_m_s": 0.1}, GRIPPER_SPEC) as g:
        future = g.release()
        assert future.wait(5.0) and future.get()
        future = g.grasp(0.03, force_n=20.0, epsilon_m=0.05)
        assert not future.wait(0)  # returned before the fingers moved
        assert future.wait(5.0)
        assert g.read().positions[0] < 0.07
        g.release().wait(5.0)
        assert g.read().positions[0] > 0.07
