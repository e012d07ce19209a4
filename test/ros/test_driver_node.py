"""driver_node across processes: trajectories, streaming, clamping, NaN, e-stop, Modbus fault recovery."""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np
import pytest
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory

from unihm_common import conversions as conv
from unihm_common.supervisor import executable_command
from unihm_common.trajectory import HandMotion
from unihm_msgs.msg import DriverStatus
from unihm_msgs.srv import SetEnabled

hands = pytest.importorskip("unihm_common.hands")
HAND = "inspire_right"


@pytest.fixture
def spec():
    if HAND not in hands.available_hands():
        pytest.skip("hand library not present")
    return hands.load_hand_spec(HAND)


def start_driver(*params: str) -> subprocess.Popen:
    args = ["--ros-args", "-r", "__node:=hand_driver", "-p", f"hand:={HAND}"]
    for p in params:
        args += ["-p", p]
    return subprocess.Popen(executable_command("unihm_drivers", "driver_node") + args,
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)


class Client:
    def __init__(self, ros, spec):
        self.ros, self.spec = ros, spec
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        self.lock = threading.Lock()
        self.state: JointState | None = None
        self.status: DriverStatus | None = None
        ros.node.create_subscription(JointState, "joint_states", self._on_state, qos)
        ros.node.create_subscription(DriverStatus, "/hand_driver/status", self._on_status, 10)
        self.traj_pub = ros.node.create_publisher(JointTrajectory, "joint_trajectory", qos)
        self.cmd_pub = ros.node.create_publisher(JointState, "joint_command", qos)

    def _on_state(self, msg):
        with self.lock:
            self.state = msg

    def _on_status(self, msg):
        with self.lock:
            self.status = msg

    def actuated(self) -> np.ndarray:
        with self.lock:
            names, pos = list(self.state.name), np.asarray(self.state.position)
        return pos[[names.index(n) for n in self.spec.actuated_joint_names]]

    def wait_ready(self, proc):
        ok = self.ros.wait_for(lambda: self.state is not None and self.status is not None
                               and self.traj_pub.get_subscription_count() > 0, timeout_s=60)
        if not ok:
            proc.terminate()
            raise AssertionError(f"driver never came up: {proc.communicate(timeout=10)[1][-3000:]}")

    def call(self, srv_type, name, request):
        cli = self.ros.node.create_client(srv_type, name)
        assert cli.wait_for_service(timeout_sec=10), name
        fut = cli.call_async(request)
        assert self.ros.wait_for(fut.done, 10)
        return fut.result()

    def stream(self, q):
        self.cmd_pub.publish(conv.joint_state_from_arrays(self.spec.actuated_joint_names, q))

    def stream_until(self, q, done, timeout_s=5.0, rate_hz=50.0) -> bool:
        """Stream `q` as a teleoperation client would (the watchdog holds when the stream stops)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.stream(q)
            if done():
                return True
            time.sleep(1.0 / rate_hz)
        return done()


def limits(spec):
    return spec.full_to_actuated(spec.lower_rad), spec.full_to_actuated(spec.upper_rad)


def stop(proc):
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_sim_driver_tracks_clamps_rejects_and_estops(ros, spec):
    proc = start_driver("use_sim:=true", "watchdog_timeout_s:=0.3")
    try:
        c = Client(ros, spec)
        c.wait_ready(proc)
        lo, hi = limits(spec)
        target = lo + 0.7 * (hi - lo)
        start = c.actuated()
        motion = HandMotion(spec.name, spec.actuated_joint_names, np.array([0.0, 1.0]), np.stack([start, target]))
        c.traj_pub.publish(conv.joint_trajectory_from_motion(motion))
        assert ros.wait_for(lambda: np.abs(c.actuated() - target).max() < 0.02, timeout_s=10), c.actuated() - target

        c.stream(hi + 0.5)  # out of limits: clamped, never exceeded
        assert ros.wait_for(lambda: c.status.commands_clamped > 0, timeout_s=5)
        time.sleep(0.5)
        assert np.all(c.actuated() <= hi + 1e-6)

        before = c.status.commands_rejected
        c.stream(np.full(len(lo), np.nan))
        assert ros.wait_for(lambda: c.status.commands_rejected > before, timeout_s=5)

        assert c.call(Trigger, "/hand_driver/estop", Trigger.Request()).success
        held = c.actuated()
        c.stream(lo)
        time.sleep(0.6)
        assert np.abs(c.actuated() - held).max() < 1e-3, "e-stop must hold position"
        assert c.call(SetEnabled, "/hand_driver/enable", SetEnabled.Request(enabled=True)).success
        assert c.stream_until(lo, lambda: np.abs(c.actuated() - lo).max() < 0.02), c.actuated() - lo

        # velocity streaming: the hand moves towards the upper limits while the stream lasts
        before = c.actuated()
        vel = conv.joint_state_from_arrays(spec.actuated_joint_names, [], velocities=np.full(len(lo), 0.5))
        for _ in range(25):
            c.cmd_pub.publish(vel)
            time.sleep(0.02)
        assert np.all(c.actuated() > before + 0.05)

        c.stream(hi)  # one setpoint, then silence: the watchdog holds the measured position
        time.sleep(0.8)
        settled = c.actuated()
        time.sleep(0.5)
        assert np.abs(c.actuated() - settled).max() < 1e-3, "watchdog must hold position on a stale stream"
    finally:
        stop(proc)


def test_inspire_modbus_driver_faults_and_recovers_without_out_of_limit_writes(ros, spec):
    from unihm_drivers.sim.inspire_modbus_server import InspireModbusServer

    server = InspireModbusServer(port=0).start()
    proc = start_driver("use_sim:=false", f"serial_port:=tcp://127.0.0.1:{server.port}")
    try:
        c = Client(ros, spec)
        c.wait_ready(proc)
        assert c.status.backend == "inspire_modbus" and not c.status.faulted
        lo, hi = limits(spec)
        t = np.linspace(0, 3, 31)
        q = lo + (0.5 + 0.45 * np.sin(2 * np.pi * t / 3))[:, None] * (hi - lo)
        c.traj_pub.publish(conv.joint_trajectory_from_motion(HandMotion(spec.name, spec.actuated_joint_names, t, q)))
        time.sleep(1.0)
        server.stop()  # cable pulled mid-trajectory
        assert ros.wait_for(lambda: c.status.faulted, timeout_s=10), "driver did not report the fault"
        assert proc.poll() is None, "a device fault must never crash the node"
        server.start()  # same port
        assert ros.wait_for(lambda: not c.status.faulted and c.status.reconnect_attempts >= 1, timeout_s=20)
        assert server.model.angle_set_writes(), "nothing was written to the hand"
        assert not server.model.out_of_range_writes(), "a command outside the limits reached the device"
    finally:
        stop(proc)
        server.stop()
