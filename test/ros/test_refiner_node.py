"""refiner_node across processes: generated trajectory + cloud + path in, refined trajectory + markers out."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest
from nav_msgs.msg import Path
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import PointCloud2
from visualization_msgs.msg import MarkerArray

from unihm_common import conversions as conv
from unihm_common.supervisor import executable_command
from unihm_msgs.msg import HandTrajectory

HAND = "allegro_right"


@pytest.fixture
def sequence():
    hands = pytest.importorskip("unihm_common.hands")
    if HAND not in hands.available_hands():
        pytest.skip("hand library not present")
    from unihm_refiner.kinematics import KinematicChain
    from unihm_refiner.synthetic import make_synthetic_sequence

    return make_synthetic_sequence(KinematicChain.load(HAND), n_frames=40, n_points=1500, penetration_mm=8.0)


def test_refiner_node_reduces_penetration(ros, sequence):
    proc = subprocess.Popen(executable_command("unihm_refiner", "refiner_node")
                            + ["--ros-args", "-r", "__node:=refiner", "-p", f"hand:={HAND}"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        got, lock = {}, threading.Lock()

        def keep(key):
            def cb(msg):
                with lock:
                    got[key] = msg
            return cb

        ros.node.create_subscription(HandTrajectory, "hand_trajectory_refined", keep("traj"), qos)
        ros.node.create_subscription(MarkerArray, "contact_markers", keep("markers"), latched)
        cloud_pub = ros.node.create_publisher(PointCloud2, "object_cloud", latched)
        path_pub = ros.node.create_publisher(Path, "target_path", latched)
        traj_pub = ros.node.create_publisher(HandTrajectory, "hand_trajectory_generated", qos)
        seq = sequence
        cloud_pub.publish(conv.pointcloud2_from_arrays(seq.object_points, seq.object_normals, frame_id="object"))
        path_pub.publish(conv.path_from_transforms(seq.T_world_object, seq.motion.t_s, "world"))
        assert ros.wait_for(lambda: traj_pub.get_subscription_count() > 0, timeout_s=60), proc.stderr.read()
        # the cloud/path are latched: a trajectory published after matching is refined against them
        ros.wait_for(lambda: False, timeout_s=1.0)
        traj_pub.publish(conv.hand_trajectory_from_motion(seq.motion, "world"))
        assert ros.wait_for(lambda: "traj" in got and "markers" in got, timeout_s=60), "no refined trajectory"
        refined = conv.motion_from_hand_trajectory(got["traj"])
        assert refined.q.shape == seq.motion.q.shape
        assert refined.joint_names == seq.motion.joint_names

        # same input through the library (float32 like PointCloud2, the object poses interpolated from the Path at
        # the trajectory's times like the node does: the solver's step decisions are sensitive to 1e-16 changes)
        # -- the node is a thin shell around it
        from unihm_common.se3 import interpolate_transforms
        from unihm_refiner.contact import ObjectCloud
        from unihm_refiner.kinematics import KinematicChain
        from unihm_refiner.refiner import Refiner

        f32 = [a.astype(np.float32).astype(np.float64) for a in (seq.object_points, seq.object_normals)]
        path_msg = conv.path_from_transforms(seq.T_world_object, seq.motion.t_s, "world")
        path_T, path_t = conv.transforms_from_path(path_msg)
        T_obj = interpolate_transforms(path_T, path_t, refined.t_s - refined.t_s[0])
        lib = Refiner(KinematicChain.load(HAND)).refine(ObjectCloud(*f32), seq.motion.q, T_obj,
                                                       seq.motion.T_world_wrist)
        np.testing.assert_allclose(refined.q, lib.q, atol=1e-9)
        assert lib.max_penetration_mm_after < 2.0 < lib.max_penetration_mm_before
        markers = got["markers"].markers
        assert len(markers[0].points) == seq.motion.q.shape[0] * 4  # 4 Allegro fingertips per frame
    finally:
        proc.terminate()
        proc.wait(15)
