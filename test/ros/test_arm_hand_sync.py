"""Arm + hand: the wrist poses of one HandTrajectory drive the arm (IK), the fingers drive the hand,
both starting at the trajectory's header stamp."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest
from geometry_msgs.msg import PoseStamped
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState

from unihm_common import conversions as conv
from unihm_common.supervisor import executable_command
from unihm_common.trajectory import HandMotion
from unihm_msgs.msg import HandTrajectory

HAND, ARM = "inspire_right", "fr3"


def start(node_name: str, *params: str) -> subprocess.Popen:
    args = ["--ros-args", "-r", f"__node:={node_name}", "-p", f"hand:={HAND}"]
    for p in params:
        args += ["-p", p]
    return subprocess.Popen(executable_command("unihm_drivers", "driver_node") + args,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


def test_wrist_to_arm_fingers_to_hand_synchronised_by_stamp(ros):
    hands = pytest.importorskip("unihm_common.hands")
    if HAND not in hands.available_hands():
        pytest.skip("hand library not present")
    from unihm_common.hands.arm import load_arm_spec
    from unihm_common.hands.ik import ArmIk, mount_transform

    spec = hands.load_hand_spec(HAND)
    arm = load_arm_spec(ARM)
    ik = ArmIk(arm)
    hand_proc = start("hand_driver", "use_sim:=true")
    arm_proc = start("arm_driver", "use_sim:=true", f"arm:={ARM}", "sim_time_constant_s:=0.02")
    rec: dict[str, list] = {"arm": [], "hand": []}
    lock = threading.Lock()

    def on_state(msg: JointState):
        key = "arm" if msg.name and msg.name[0].startswith(ARM) else "hand"
        with lock:
            rec[key].append((time.time(), list(msg.name), np.asarray(msg.position)))

    try:
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        ros.node.create_subscription(JointState, "joint_states", on_state, qos)
        wrist_seen: list = []
        ros.node.create_subscription(PoseStamped, "arm_driver/wrist_pose", wrist_seen.append, qos)
        pub = ros.node.create_publisher(HandTrajectory, "hand_trajectory", qos)
        assert ros.wait_for(lambda: rec["arm"] and rec["hand"] and pub.get_subscription_count() >= 2, 60), (
            arm_proc.stderr.read() if arm_proc.poll() is not None else "drivers did not come up")
        with lock:
            q_arm0 = rec["arm"][-1][2]
        # a reachable wrist path: FK of an arm joint path that starts where the (simulated) arm is
        t = np.linspace(0.0, 1.5, 16)
        q_arm_path = q_arm0 + np.outer(np.sin(0.5 * np.pi * t / t[-1]), [0.3, -0.2, 0.2, 0.3, 0.0, 0.2, 0.3])
        T_flange_wrist = mount_transform(spec.mount_xyz, spec.mount_rpy)
        wrist = np.stack([ik.flange_pose(q) @ T_flange_wrist for q in q_arm_path])  # base = world
        lo, hi = spec.full_to_actuated(spec.lower_rad), spec.full_to_actuated(spec.upper_rad)
        q_hand = spec.actuated_to_full(lo + np.outer(np.linspace(0.1, 0.8, len(t)), hi - lo))
        motion = HandMotion(spec.name, spec.joint_names, t, q_hand, T_world_wrist=wrist)
        start_at = time.time() + 1.0
        pub.publish(conv.hand_trajectory_from_motion(motion, "world", start_s=start_at))
        time.sleep(1.0 + t[-1] + 1.0)
        with lock:
            arm_rec, hand_rec = list(rec["arm"]), list(rec["hand"])

        def onset(records, q0):
            for stamp, _, q in records:
                if stamp > start_at - 0.5 and np.abs(q - q0).max() > 0.01:
                    return stamp
            return None

        arm_on = onset(arm_rec, q_arm0)
        hand_q0 = [q for s, _, q in hand_rec if s < start_at - 0.05][-1]
        hand_on = onset(hand_rec, hand_q0)
        assert arm_on is not None and hand_on is not None, "arm or hand never moved"
        assert abs(arm_on - start_at) < 0.15 and abs(hand_on - start_at) < 0.15, (arm_on - start_at, hand_on - start_at)
        assert abs(arm_on - hand_on) < 0.1
        final_arm = arm_rec[-1][2]
        reached = ik.flange_pose(final_arm) @ T_flange_wrist
        assert np.linalg.norm(reached[:3, 3] - wrist[-1][:3, 3]) < 0.005, "arm did not bring the wrist to its goal"
        # the arm driver says where the wrist is (what the policy starts from): FK of its measured joints
        assert wrist_seen and wrist_seen[-1].header.frame_id == "world"
        np.testing.assert_allclose(conv.pose_to_matrix(wrist_seen[-1].pose), reached, atol=1e-3)
        names, q_final = hand_rec[-1][1], hand_rec[-1][2]
        np.testing.assert_allclose(q_final[[names.index(n) for n in spec.joint_names]], q_hand[-1], atol=0.02)
    finally:
        for p in (hand_proc, arm_proc):
            p.terminate()
            p.wait(15)


def test_arm_rejects_a_path_it_cannot_follow_and_says_why(ros):
    """Out of reach -> rejected, holding position, and the reason is in ~/status (what the manipulation node reads)."""
    hands = pytest.importorskip("unihm_common.hands")
    if HAND not in hands.available_hands():
        pytest.skip("hand library not present")
    from unihm_msgs.msg import DriverStatus

    spec = hands.load_hand_spec(HAND)
    arm_proc = start("arm_driver", "use_sim:=true", f"arm:={ARM}")
    statuses: list = []
    try:
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        ros.node.create_subscription(DriverStatus, "arm_driver/status", statuses.append, qos)
        pub = ros.node.create_publisher(HandTrajectory, "hand_trajectory", qos)
        assert ros.wait_for(lambda: statuses and pub.get_subscription_count() >= 1, 60), "arm driver did not come up"
        n = 10
        wrist = np.tile(np.eye(4), (n, 1, 1))
        wrist[:, 0, 3] = np.linspace(2.0, 2.5, n)  # 2 m from the base: beyond the FR3's 0.855 m reach
        q = np.tile((spec.lower_rad + spec.upper_rad) / 2, (n, 1))
        motion = HandMotion(spec.name, spec.joint_names, 1.0 + np.arange(n) * 0.1, q, T_world_wrist=wrist)
        pub.publish(conv.hand_trajectory_from_motion(motion, "world", keep_time_offset=True))
        assert ros.wait_for(lambda: statuses[-1].commands_rejected >= 1, 20), "no rejection reported"
        why = statuses[-1].last_rejection
        assert "cannot follow the wrist path" in why and "position error" in why, why
        assert statuses[-1].last_rejection_slowdown == 0.0  # out of reach: slowing down would not help
        # reachable, but far too fast: rejected with the slow-down that would make it acceptable
        from unihm_common.hands.arm import load_arm_spec
        from unihm_common.hands.ik import ArmIk, mount_transform

        ik = ArmIk(load_arm_spec(ARM))
        q_mid = (ik.arm.lower_rad + ik.arm.upper_rad) / 2
        q_arm = q_mid + np.outer(np.linspace(0, 1, n), [0.8, 0.5, 0, 0.6, 0, 0.5, 0])
        wrist = np.stack([ik.flange_pose(q) @ mount_transform(spec.mount_xyz, spec.mount_rpy) for q in q_arm])
        fast = HandMotion(spec.name, spec.joint_names, 0.05 + np.arange(n) * 0.01, q, T_world_wrist=wrist)
        before = statuses[-1].commands_rejected
        pub.publish(conv.hand_trajectory_from_motion(fast, "world", keep_time_offset=True))
        assert ros.wait_for(lambda: statuses[-1].commands_rejected > before, 20), "no rejection reported"
        assert "joint speed" in statuses[-1].last_rejection and statuses[-1].last_rejection_slowdown > 1.0
        assert arm_proc.poll() is None  # still serving
    finally:
        arm_proc.terminate()
        arm_proc.wait(15)


def test_go_home_brings_the_arm_back_to_its_home_configuration(ros):
    """`arm_driver/go_home` (Trigger): a smooth joint move from wherever the arm is to `home_rad`."""
    from std_srvs.srv import Trigger
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    from unihm_common.hands.arm import load_arm_spec

    arm = load_arm_spec(ARM)
    home = np.round((np.asarray(arm.lower_rad) + np.asarray(arm.upper_rad)) / 2 + 0.1, 4)
    arm_proc = start("arm_driver", "use_sim:=true", f"arm:={ARM}", "sim_time_constant_s:=0.02",
                     f"home_rad:={[float(x) for x in home]}")
    seen: list = []
    try:
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        ros.node.create_subscription(JointState, "joint_states", lambda m: seen.append(np.asarray(m.position)), qos)
        pub = ros.node.create_publisher(JointTrajectory, "joint_trajectory", qos)
        assert ros.wait_for(lambda: seen and pub.get_subscription_count() >= 1, 60), (
            arm_proc.stderr.read() if arm_proc.poll() is not None else "arm driver did not come up")
        away = seen[-1] + np.array([0.4, -0.3, 0.2, 0.3, 0.0, -0.2, 0.5])
        msg = JointTrajectory(joint_names=list(arm.joint_names))
        msg.points = [JointTrajectoryPoint(positions=[float(x) for x in away],
                                           time_from_start=conv.seconds_to_duration(1.0))]
        pub.publish(msg)
        assert ros.wait_for(lambda: np.abs(seen[-1] - away).max() < 1e-3, 20), "the arm did not move away"
        cli = ros.node.create_client(Trigger, "arm_driver/go_home")
        assert cli.wait_for_service(timeout_sec=10)
        t0 = time.monotonic()
        fut = cli.call_async(Trigger.Request())
        assert ros.wait_for(fut.done, 10) and fut.result().success, fut.result()
        assert "going home in" in fut.result().message
        assert ros.wait_for(lambda: np.abs(seen[-1] - home).max() < 1e-3, 30), seen[-1] - home
        assert time.monotonic() - t0 > 0.5  # a move, not a jump
    finally:
        arm_proc.terminate()
        arm_proc.wait(15)
