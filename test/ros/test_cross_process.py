"""Two processes exchange a HandTrajectory and a 50k-point PointCloud2 over DDS (machine-local)."""

import subprocess
import uuid

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import PointCloud2
from support import sample_motion

from unihm_common import conversions as conv
from unihm_common.supervisor import executable_command
from unihm_msgs.msg import HandTrajectory


def test_hand_trajectory_and_cloud_cross_processes(ros):
    topics = '["traj:unihm_msgs/msg/HandTrajectory","cloud:sensor_msgs/msg/PointCloud2"]'
    ns = f"/xp_{uuid.uuid4().hex[:8]}"  # private topic names: other graphs on this machine cannot interfere
    echo = subprocess.Popen(executable_command("unihm_common", "echo_node")
                            + ["--ros-args", "-r", "__node:=echo_test", "-r", f"__ns:={ns}", "-p", f"topics:={topics}"],
                            stderr=subprocess.PIPE, text=True)
    try:
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        got = {}
        ros.node.create_subscription(HandTrajectory, f"{ns}/traj_out", lambda m: got.setdefault("traj", m), qos)
        ros.node.create_subscription(PointCloud2, f"{ns}/cloud_out", lambda m: got.setdefault("cloud", m), qos)
        pub_t = ros.node.create_publisher(HandTrajectory, f"{ns}/traj_in", qos)
        pub_c = ros.node.create_publisher(PointCloud2, f"{ns}/cloud_in", qos)
        count = ros.node.count_publishers
        assert ros.wait_for(lambda: pub_t.get_subscription_count() and pub_c.get_subscription_count()
                            and count(f"{ns}/traj_out") and count(f"{ns}/cloud_out"),
                            timeout_s=20), "echo process never matched"
        motion = sample_motion(60, 16)
        pts = np.random.default_rng(3).normal(size=(50_000, 3))
        traj_msg = conv.hand_trajectory_from_motion(motion, "world", 1.0)
        cloud_msg = conv.pointcloud2_from_arrays(pts, -pts, frame_id="object", stamp_s=2.0)
        pub_t.publish(traj_msg)
        pub_c.publish(cloud_msg)
        assert ros.wait_for(lambda: len(got) == 2, timeout_s=10), f"received only {list(got)}"
        assert got["traj"] == traj_msg
        back = conv.arrays_from_pointcloud2(got["cloud"])
        assert back["points"].shape == (50_000, 3)
        np.testing.assert_array_equal(back["points"], pts.astype(np.float32))
        np.testing.assert_array_equal(back["normals"], (-pts).astype(np.float32))
        assert got["cloud"].header.frame_id == "object"
    finally:
        echo.terminate()
        echo.wait(10)
