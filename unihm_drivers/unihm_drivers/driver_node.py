"""driver_node: one device behind the driver interface, as a ROS 2 node.

Topics (relative, so a namespace applies):
  sub `joint_trajectory` (trajectory_msgs/JointTrajectory): followed at the control rate; a
      non-zero header stamp schedules the start (arm and hand share it to stay synchronised).
  sub `hand_trajectory` (unihm_msgs/HandTrajectory): its finger joints, same rules.
  sub `joint_command` (sensor_msgs/JointState): streamed position setpoints, or velocities when the
      message has no positions.
  pub `joint_states` (sensor_msgs/JointState): every joint of the hand (coupled ones included).
With `arm:=fr3` the same node drives the arm carrying the hand: `hand_trajectory` wrist poses go
through IK (flange = base^-1 * wrist * mount^-1) to an arm joint trajectory that starts at the same
header stamp as the hand's, so arm and hand stay synchronised by time stamps; it also publishes
`~/wrist_pose` (geometry_msgs/PoseStamped in `world`, where base_xyz/base_rpy place the arm): the hand's root
from the measured arm joints (base * FK * mount), at the status rate.
  pub `~/status` (unihm_msgs/DriverStatus).
Services: `~/stop` (hold position), `~/estop` (latch; hold until enabled), `~/enable` (SetEnabled); in arm
mode `~/go_home` (Trigger): a minimum-jerk joint move to `home_rad` (its message says how long it takes).
The safety logic (clamping, NaN rejection, watchdog, fault/reconnect) lives in `ControlLoop`.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger
from trajectory_msgs.msg import JointTrajectory as JointTrajectoryMsg

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.errors import ConfigError, InputError, UnihmError
from unihm_common.hands import load_hand_spec
from unihm_common.hands.arm import load_arm_spec
from unihm_common.hands.ik import ArmIk, flange_targets, mount_transform
from unihm_drivers.base import DeviceSpec, DriverState, backend_class, make_driver
from unihm_drivers.control_loop import ControlLoop, ControlLoopConfig, JointTrajectory
from unihm_drivers.node_config import SIM_BACKENDS, DriverNodeConfig, backend_options, choose_backend, reorder_columns
from unihm_msgs.msg import DriverStatus, HandTrajectory
from unihm_msgs.srv import SetEnabled


class DriverNode:
    """Holds the node, the hand spec, the driver and its control loop."""

    def __init__(self) -> None:
        self.node = make_node("driver")
        cfg = config_from_parameters(self.node, DriverNodeConfig)
        self.cfg = cfg
        self.spec = load_hand_spec(cfg.hand)
        self.ik = None
        if cfg.arm:  # arm mode: the device is the arm, commanded from the hand's wrist poses
            arm = load_arm_spec(cfg.arm)
            self.ik = ArmIk(arm)
            self.T_world_base = mount_transform(cfg.base_xyz, cfg.base_rpy)
            self.T_flange_wrist = mount_transform(self.spec.mount_xyz, self.spec.mount_rpy)
            self.device = DeviceSpec(arm.joint_names, tuple(arm.lower_rad), tuple(arm.upper_rad),
                                     tuple(arm.velocity_limit_rad_s))
            mid = (np.asarray(arm.lower_rad) + np.asarray(arm.upper_rad)) / 2
            self.home = np.asarray(cfg.home_rad, dtype=np.float64) if cfg.home_rad else mid
            if self.home.shape != mid.shape or np.any(self.home < arm.lower_rad) or np.any(self.home > arm.upper_rad):
                raise ConfigError(f"home_rad must be {mid.size} values inside {cfg.arm}'s joint limits, got "
                                 f"{list(cfg.home_rad)}")
            self.cmd_names, self.state_names = arm.joint_names, arm.joint_names
            backend = choose_backend(cfg, tuple(arm.driver_backends))
        else:
            backend = choose_backend(cfg, tuple(self.spec.driver_backends))
            native = backend not in SIM_BACKENDS and _has_native_units(self.spec)
            self.device = DeviceSpec.from_hand_spec(self.spec, native_range=(0.0, 1000.0) if native else None)
            self.cmd_names, self.state_names = self.spec.actuated_joint_names, self.spec.joint_names
        cls = backend_class(backend)
        fields = {f.name for f in dataclasses.fields(cls.config_cls)}
        self.driver = make_driver(backend, backend_options(cfg, backend, fields, self.spec), self.device)
        self.loop = ControlLoop(self.driver, ControlLoopConfig(rate_hz=cfg.control_rate_hz,
                                                               watchdog_timeout_s=cfg.watchdog_timeout_s))
        self.log = self.node.get_logger()
        qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
        n = self.node
        self.state_pub = n.create_publisher(JointState, "joint_states", qos)
        self.status_pub = n.create_publisher(DriverStatus, "~/status", 10)
        # arm mode: where the hand's root (wrist) is, from the arm's measured joints (the policy starts there)
        self.wrist_pub = n.create_publisher(PoseStamped, "~/wrist_pose", 10) if self.ik is not None else None
        n.create_subscription(JointTrajectoryMsg, "joint_trajectory", self.on_trajectory, qos)
        n.create_subscription(HandTrajectory, "hand_trajectory", self.on_hand_trajectory, qos)
        n.create_subscription(JointState, "joint_command", self.on_command, qos)
        n.create_service(Trigger, "~/stop", self.on_stop)
        n.create_service(Trigger, "~/estop", self.on_estop)
        n.create_service(SetEnabled, "~/enable", self.on_enable)
        if self.ik is not None:
            n.create_service(Trigger, "~/go_home", self.on_go_home)
        n.create_timer(1.0 / cfg.state_rate_hz, self.publish_state)
        n.create_timer(1.0 / cfg.status_rate_hz, self.publish_status)
        self.rejected = 0
        self.last_rejection = ""
        self.last_rejection_slowdown = 0.0
        self._last_clamps = 0
        self.loop.start()
        device = f"arm {cfg.arm} carrying {self.spec.name}" if cfg.arm else f"hand {self.spec.name}"
        self.log.info(f"ready: {device}, backend {backend}, {self.device.num_joints} actuated joints, "
                      f"{cfg.control_rate_hz:.0f} Hz")

    # ------------------------------------------------------------------ commands
    def _start_time(self, stamp) -> float | None:
        """Loop-clock start for a header stamp (None = now). Stamps are ROS (wall) time."""
        t = conv.time_to_seconds(stamp)
        if t == 0.0:
            return None
        now_ros = self.node.get_clock().now().nanoseconds * 1e-9
        return self.loop.clock() + max(0.0, t - now_ros)

    def _mine(self, names) -> bool:
        """Arm and hand drivers share topics: commands naming none of this device's joints are not ours."""
        return not set(names).isdisjoint(self.cmd_names) or not set(names).isdisjoint(self.state_names)

    def _follow(self, names: list[str], t_s: np.ndarray, q: np.ndarray, stamp, what: str) -> None:
        if not self._mine(names):
            return
        try:
            if self.ik is not None or set(self.cmd_names) <= set(names):
                q_act = reorder_columns(names, q, self.cmd_names, what)
            else:  # full joint set given by its canonical names: project onto the actuated joints
                q_act = self.spec.full_to_actuated(reorder_columns(names, q, self.spec.joint_names, what))
            traj = JointTrajectory(t_s - t_s[0] if t_s[0] < 0 else t_s, q_act)
            self.loop.set_trajectory(traj, self._start_time(stamp))
        except UnihmError as exc:
            self._reject(f"{what}: {exc}")

    def on_go_home(self, _req, res):
        """Arm mode: a minimum-jerk joint move from the measured joints to `home_rad`."""
        sample = self.loop.latest_sample
        if sample is None:
            res.success, res.message = False, "no joint state from the arm yet"
            return res
        try:
            t, q = home_move(np.asarray(sample.positions, dtype=np.float64), self.home,
                             np.asarray(self.device.velocity_limit_rad_s, dtype=np.float64), self.cfg.home_speed_scale)
        except UnihmError as exc:
            res.success, res.message = False, str(exc)
            return res
        self._follow(list(self.cmd_names), t, q, conv.seconds_to_time(0.0), "go_home")
        res.success, res.message = True, f"going home in {t[-1]:.2f} s"
        return res

    def on_trajectory(self, msg: JointTrajectoryMsg) -> None:
        if not msg.points:
            self._reject("joint_trajectory: no points")
            return
        t = np.array([conv.duration_to_seconds(p.time_from_start) for p in msg.points])
        q = np.array([np.asarray(p.positions, dtype=np.float64) for p in msg.points])
        if q.ndim != 2 or q.shape[1] != len(msg.joint_names):
            self._reject("joint_trajectory: every point needs one position per joint name")
            return
        self._follow(list(msg.joint_names), t, q, msg.header.stamp, "joint_trajectory")

    def _reject(self, why: str, slowdown: float = 0.0) -> None:
        self.rejected += 1
        self.last_rejection, self.last_rejection_slowdown = why, float(slowdown)
        self.log.error(f"rejected {why}")
        self.publish_status()  # tell the commander now, not at the next status tick

    def on_hand_trajectory(self, msg: HandTrajectory) -> None:
        if msg.hand and msg.hand != self.spec.name:
            self.log.warning(f"ignoring hand_trajectory for {msg.hand!r} (this driver runs {self.spec.name!r})")
            return
        try:
            motion = conv.motion_from_hand_trajectory(msg)
            if self.ik is not None:
                if motion.T_world_wrist is None:
                    raise InputError("hand_trajectory has no wrist poses for the arm")
                q0 = self.loop.latest_sample.positions if self.loop.latest_sample is not None else None
                targets = flange_targets(motion.T_world_wrist, self.T_world_base, self.T_flange_wrist)
                t_due = motion.t_s - min(0.0, float(motion.t_s[0]))
                res = self.ik.solve(targets, q0 if q0 is not None else self.device.lower / 2 + self.device.upper / 2,
                                    t_s=t_due if q0 is not None else None)
                why = res.why_infeasible(self.ik.position_tol_m, self.ik.rotation_tol_rad)
                if why:
                    self._reject(f"hand_trajectory: the arm cannot follow the wrist path ({why}; {res.starts_tried} "
                                 f"IK start configurations tried)",
                                 slowdown=res.slowdown(self.ik.position_tol_m, self.ik.rotation_tol_rad))
                    return
                self._follow(list(self.cmd_names), t_due, res.q, msg.header.stamp, "hand_trajectory")
                return
        except UnihmError as exc:
            self._reject(f"hand_trajectory: {exc}")
            return
        self._follow(list(motion.joint_names), motion.t_s, motion.q, msg.header.stamp, "hand_trajectory")

    def on_command(self, msg: JointState) -> None:
        """Streamed setpoint: positions if given, else velocities (rad/s)."""
        if not self._mine(msg.name):
            return
        try:
            if len(msg.position):
                q = reorder_columns(list(msg.name), np.asarray(msg.position), self.cmd_names, "joint_command")
                self.loop.push_setpoint(q)
            elif len(msg.velocity):
                qd = reorder_columns(list(msg.name), np.asarray(msg.velocity), self.cmd_names, "joint_command")
                self.loop.push_velocity(qd)
            else:
                raise InputError("joint_command holds neither positions nor velocities")
        except UnihmError as exc:
            self.rejected += 1
            self.last_rejection, self.last_rejection_slowdown = f"joint_command: {exc}", 0.0
            self.log.error(f"rejected joint_command: {exc}", throttle_duration_sec=1.0)

    # ------------------------------------------------------------------ services
    def on_stop(self, _req, res):
        self.loop.hold()
        res.success, res.message = True, "holding position"
        return res

    def on_estop(self, _req, res):
        self.loop.estop("e-stop service")
        res.success, res.message = True, "e-stop latched: holding position until ~/enable true"
        return res

    def on_enable(self, req, res):
        try:
            if req.enabled:
                self.loop.reset_estop()
                if self.driver.state is DriverState.INACTIVE:
                    self.driver.activate()
            else:
                self.loop.estop("disabled")
            res.success, res.message = True, "enabled" if req.enabled else "disabled (holding position)"
        except UnihmError as exc:
            res.success, res.message = False, str(exc)
        return res

    # ------------------------------------------------------------------ state
    def publish_state(self) -> None:
        sample = self.loop.latest_sample
        if sample is None:
            return
        q_state = sample.positions if self.ik is not None else self.spec.actuated_to_full(sample.positions)
        self.state_pub.publish(conv.joint_state_from_arrays(
            self.state_names, q_state, stamp_s=self.node.get_clock().now().nanoseconds * 1e-9))
        clamps = self.loop.stats.safety.position_clamps + self.loop.stats.safety.velocity_clamps
        if clamps > self._last_clamps:
            self.log.warning(f"{clamps - self._last_clamps} commands clamped to the limits "
                             f"({clamps} in total)", throttle_duration_sec=2.0)
            self._last_clamps = clamps

    def publish_wrist(self) -> None:
        """Arm mode: the hand's root in the world from the measured arm joints (at the status rate: a start pose
        for planning, not a control signal)."""
        sample = self.loop.latest_sample
        if self.wrist_pub is None or sample is None:
            return
        T_world_wrist = self.T_world_base @ self.ik.flange_pose(sample.positions) @ self.T_flange_wrist
        stamp_s = self.node.get_clock().now().nanoseconds * 1e-9
        self.wrist_pub.publish(conv.pose_stamped_from_matrix(T_world_wrist, "world", stamp_s))  # base_xyz: world

    def publish_status(self) -> None:
        self.publish_wrist()
        st = self.loop.stats
        msg = DriverStatus(header=conv.make_header("", time.time()), device=self.cfg.arm or self.spec.name,
                           backend=self.driver.backend)
        msg.connected = self.driver.state in (DriverState.INACTIVE, DriverState.ACTIVE)
        msg.enabled = self.driver.state is DriverState.ACTIVE and not self.loop.estop_latch.engaged
        msg.faulted = self.loop.in_fault
        msg.fault_message = str(self.loop.last_error or "") if self.loop.in_fault else ""
        msg.commands_received = st.commands_received
        msg.commands_clamped = st.safety.position_clamps + st.safety.velocity_clamps
        msg.commands_rejected = st.safety.rejected_non_finite + self.rejected
        msg.last_rejection = self.last_rejection
        msg.last_rejection_slowdown = self.last_rejection_slowdown
        msg.reconnect_attempts = st.reconnects
        self.status_pub.publish(msg)

    def close(self) -> None:
        self.loop.stop()
        try:
            self.driver.close()
        except Exception as exc:  # closing a broken link must not hide the shutdown
            self.log.warning(f"closing driver: {exc}")


def _has_native_units(spec) -> bool:
    lower = spec.full_to_actuated(spec.lower_rad)
    upper = spec.full_to_actuated(spec.upper_rad)
    return not (np.allclose(spec.rad_to_native(lower), lower) and np.allclose(spec.rad_to_native(upper), upper))


def build() -> object:
    holder = DriverNode()
    node = holder.node
    node.close = holder.close  # run_node calls close() before destroying the node
    return node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args)


if __name__ == "__main__":
    raise SystemExit(main())


def home_move(q0: np.ndarray, home: np.ndarray, v_max: np.ndarray, speed_scale: float,
              samples: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Minimum-jerk joint move q0 -> home whose fastest joint peaks at speed_scale x its velocity limit:
    times (samples,) s from 0 and positions (samples, J). At least 0.5 s; at home already: a 0.5 s hold."""
    q0, home = np.asarray(q0, dtype=np.float64), np.asarray(home, dtype=np.float64)
    if q0.shape != home.shape:
        raise InputError(f"home has {home.size} joints, the arm {q0.size}")
    if not (np.all(np.isfinite(q0)) and np.all(np.isfinite(home))):
        raise InputError("home or the measured joints are not finite")
    peak = 1.875  # peak speed of a minimum-jerk move = 1.875 distance / duration
    duration = max(0.5, float(np.max(peak * np.abs(home - q0) / (speed_scale * v_max))))
    tau = np.linspace(0.0, 1.0, samples)
    s = tau**3 * (10 - 15 * tau + 6 * tau**2)
    return tau * duration, q0 + s[:, None] * (home - q0)
