"""`unihm bench transport`: loopback latency of the stack's big messages across two processes.

This process publishes JointTrajectory (20 joints x 60 points), PointCloud2 (50k points with
normals) and 640x480 RGB-D pairs (rgb8 + 32FC1) to an `echo_node` process, which sends the raw
bytes back. One-way latency is half the round trip (both directions cross process boundaries and
DDS; the echo does not deserialise). Keys: `*_p50_ms` (one-way), `*_rtt_p99_ms`, `lost`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from trajectory_msgs.msg import JointTrajectory

from unihm_common import conversions as conv
from unihm_common.ros_env import local_ros_env, random_domain_id
from unihm_common.trajectory import HandMotion

ECHO_TOPICS = [
    "traj:trajectory_msgs/msg/JointTrajectory",
    "cloud:sensor_msgs/msg/PointCloud2",
    "rgb:sensor_msgs/msg/Image",
    "depth:sensor_msgs/msg/Image",
]


def sample_messages(rng: np.random.Generator) -> dict[str, object]:
    motion = HandMotion("bench", tuple(f"j{i}" for i in range(20)), np.arange(60) / 30.0, rng.random((60, 20)))
    pts = rng.random((50_000, 3))
    return {
        "traj": conv.joint_trajectory_from_motion(motion),
        "cloud": conv.pointcloud2_from_arrays(pts, pts, frame_id="camera"),
        "rgb": conv.image_from_array(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), "rgb8", "camera"),
        "depth": conv.image_from_array(rng.random((480, 640), dtype=np.float32), "32FC1", "camera"),
    }


def start_echo(env: dict[str, str]) -> subprocess.Popen:
    from unihm_common.supervisor import executable_command

    params = "[" + ",".join(f'"{t}"' for t in ECHO_TOPICS) + "]"
    cmd = executable_command("unihm_common", "echo_node") + ["--ros-args", "-p", f"topics:={params}"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class RoundTrip:
    """Publishes to `<name>_in` and times replies on `<name>_out` (index carried in header.stamp.sec)."""

    def __init__(self, node, names_types: dict[str, type], depth: int = 50) -> None:
        qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
        self.pubs = {n: node.create_publisher(t, f"{n}_in", qos) for n, t in names_types.items()}
        self.sent: dict[tuple[str, int], float] = {}
        self.received: dict[tuple[str, int], float] = {}
        self.cond = threading.Condition()
        self.subs = [
            node.create_subscription(t, f"{n}_out", self._callback(n), qos) for n, t in names_types.items()
        ]

    def _callback(self, name: str):
        def cb(msg) -> None:
            now = time.perf_counter()
            with self.cond:
                self.received[(name, msg.header.stamp.sec)] = now
                self.cond.notify_all()

        return cb

    def wait_matched(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if all(p.get_subscription_count() > 0 for p in self.pubs.values()) and all(
                s.get_publisher_count() > 0 for s in self.subs
            ):
                return True
            time.sleep(0.05)
        return False

    def send(self, name: str, msg, index: int) -> None:
        msg.header.stamp.sec = index
        self.sent[(name, index)] = time.perf_counter()
        self.pubs[name].publish(msg)

    def wait_all(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        with self.cond:
            while len(self.received) < len(self.sent) and time.monotonic() < deadline:
                self.cond.wait(0.05)


def run_benchmark(argv: list[str]) -> dict:
    ap = argparse.ArgumentParser(prog="unihm bench transport")
    ap.add_argument("--count", type=int, default=200, help="messages of each kind")
    ap.add_argument("--rate-hz", type=float, default=50.0)
    ap.add_argument("--network", choices=["shm", "localhost"], default="shm")
    opts = ap.parse_args(argv)

    env = local_ros_env(domain_id=random_domain_id(), log_dir=tempfile.mkdtemp(prefix="unihm_bench_"),
                        mode=opts.network)
    import os

    os.environ.update(env)
    if opts.network == "shm":
        os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
    echo = start_echo(env)
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("transport_bench", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    try:
        msgs = sample_messages(np.random.default_rng(0))
        rt = RoundTrip(node, {"traj": JointTrajectory, "cloud": PointCloud2, "rgb": Image, "depth": Image})
        if not rt.wait_matched(20.0):
            err = echo.stderr.read().decode() if echo.poll() is not None else ""
            raise RuntimeError(f"echo node did not connect within 20 s {err}")
        time.sleep(0.3)
        period = 1.0 / opts.rate_hz
        for i in range(opts.count):
            t_next = time.perf_counter() + period
            rt.send("traj", msgs["traj"], i)
            rt.send("cloud", msgs["cloud"], i)
            rt.send("rgb", msgs["rgb"], i)
            rt.send("depth", msgs["depth"], i)
            time.sleep(max(0.0, t_next - time.perf_counter()))
        rt.wait_all(10.0)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        echo.terminate()
        try:
            echo.wait(5)
        except subprocess.TimeoutExpired:
            echo.kill()

    def rtts(name: str) -> np.ndarray:
        return np.array([rt.received[k] - rt.sent[k] for k in rt.sent if k[0] == name and k in rt.received]) * 1e3

    rgbd = np.array([
        max(rt.received[("rgb", i)], rt.received[("depth", i)]) - rt.sent[("rgb", i)]
        for i in range(opts.count) if ("rgb", i) in rt.received and ("depth", i) in rt.received
    ]) * 1e3
    out: dict = {"network": opts.network, "count": opts.count, "rate_hz": opts.rate_hz}
    for key, arr in (("jointtrajectory", rtts("traj")), ("pointcloud50k", rtts("cloud")), ("rgbd640", rgbd)):
        out[f"{key}_p50_ms"] = round(float(np.median(arr)) / 2, 3) if len(arr) else None
        out[f"{key}_rtt_p50_ms"] = round(float(np.median(arr)), 3) if len(arr) else None
        out[f"{key}_rtt_p99_ms"] = round(float(np.percentile(arr, 99)), 3) if len(arr) else None
    out["pointcloud50k_mb_per_s"] = round(opts.rate_hz * msgs["cloud"].row_step / 1e6, 1)
    out["lost"] = len(rt.sent) - len(rt.received)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run_benchmark(sys.argv[1:])))
