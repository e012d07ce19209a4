"""`franka`: Franka FR3/Panda arm via `franky` (franky-control): joint and Cartesian waypoint
motions with Ruckig limits scaled by `relative_dynamics_factor`, reflex/error recovery.

Each write starts an asynchronous JointWaypointMotion to the commanded pose; franky replaces the
running motion, so streaming at the control rate works. Tested against `franky-sim` (the real
libfranka protocol on 127.0.0.x).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_drivers.base import (
    DeviceFaultError,
    DeviceSpec,
    DeviceUnreachableError,
    Driver,
    DriverState,
    JointStateSample,
    NotActiveError,
)

# Published joint limits (Franka FCI docs, "Robot and interface specifications").
FR3_SPEC = DeviceSpec(
    joint_names=tuple(f"fr3_joint{i}" for i in range(1, 8)),
    lower_rad=(-2.7437, -1.7837, -2.9007, -3.0421, -2.8065, 0.5445, -3.0159),
    upper_rad=(2.7437, 1.7837, 2.9007, -0.1518, 2.8065, 4.5169, 3.0159),
    velocity_limit_rad_s=(2.62, 2.62, 2.62, 2.62, 5.26, 4.18, 5.26),
)
PANDA_SPEC = DeviceSpec(
    joint_names=tuple(f"panda_joint{i}" for i in range(1, 8)),
    lower_rad=(-2.8973, -1.7628, -2.8973, -3.0718, -2.8973, -0.0175, -2.8973),
    upper_rad=(2.8973, 1.7628, 2.8973, -0.0698, 2.8973, 3.7525, 2.8973),
    velocity_limit_rad_s=(2.175, 2.175, 2.175, 2.175, 2.61, 2.61, 2.61),
)


def import_franky() -> Any:
    try:
        import franky
    except ImportError as exc:
        raise MissingDependencyError("the Franka backends need franky: pip install franky-control") from exc
    return franky


@dataclass(frozen=True)
class FrankaConfig:
    host: str = "172.16.0.2"  # the robot's FCI address (franky-sim: 127.0.0.x)
    relative_dynamics_factor: float = 0.1  # scales Ruckig's velocity/acceleration/jerk limits, (0, 1]
    realtime: Literal["enforce", "ignore"] = "enforce"  # "ignore" without a PREEMPT_RT kernel / in sim
    recover_on_activate: bool = True  # clear reflexes (automatic error recovery) when activating

    def __post_init__(self) -> None:
        if not 0 < self.relative_dynamics_factor <= 1:
            raise ConfigError(f"relative_dynamics_factor must be in (0, 1], got {self.relative_dynamics_factor}")


class FrankaDriver(Driver, backend="franka", config=FrankaConfig):
    """Efforts are measured joint torques tau_J (N·m)."""

    def __init__(self, config: FrankaConfig, spec: DeviceSpec = FR3_SPEC, robot: Any | None = None) -> None:
        super().__init__(config, spec)
        if spec.num_joints != 7:
            raise ConfigError(f"Franka arms have 7 joints; spec has {spec.num_joints}")
        self._injected = robot
        self.robot: Any = None
        self._franky: Any = None

    def _connect(self) -> None:
        self._franky = import_franky()
        if self._injected is not None:
            self.robot = self._injected
            return
        f = self._franky
        rt = f.RealtimeConfig.Enforce if self.config.realtime == "enforce" else f.RealtimeConfig.Ignore
        try:
            robot = f.Robot(self.config.host, realtime_config=rt)
        except f.Exception as exc:
            raise DeviceUnreachableError(
                f"Franka at {self.config.host} unreachable (libfranka): {exc}. Is the robot on, FCI enabled "
                "in Desk, and the host right?"
            ) from exc
        robot.relative_dynamics_factor = self.config.relative_dynamics_factor
        self.robot = robot

    def _enable(self) -> None:
        if self.config.recover_on_activate:
            self.recover()

    def _disable(self) -> None:
        self._guard(self.robot.stop, "stop")

    def _disconnect(self) -> None:
        self.robot = None  # franky closes the connection when the Robot is released

    def recover(self) -> None:
        """Automatic error recovery after a reflex (libfranka automaticErrorRecovery)."""
        self._require_connected("recover")
        if self.robot.has_errors:
            self._guard(self.robot.recover_from_errors, "recover_from_errors")

    def _guard(self, fn: Any, what: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except self._franky.NetworkException as exc:
            raise DeviceUnreachableError(f"Franka {what}: {exc}") from exc
        except self._franky.Exception as exc:
            raise DeviceFaultError(f"Franka {what}: {exc}; call recover()") from exc

    def _read(self) -> JointStateSample:
        self._guard(self.robot.poll_motion, "motion")  # re-raises a failed asynchronous motion
        js = self._guard(lambda: self.robot.current_joint_state, "read state")
        state = self._guard(lambda: self.robot.state, "read state")
        return JointStateSample(
            np.asarray(js.position, dtype=np.float64),
            np.asarray(js.velocity, dtype=np.float64),
            np.asarray(state.tau_J, dtype=np.float64),
            time.monotonic(),
        )

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        f = self._franky
        motion = f.JointWaypointMotion([f.JointWaypoint(q_rad.tolist())])
        self._guard(self.robot.move, "joint motion", motion, asynchronous=True)
        return q_rad.copy()

    def move_joint_waypoints(self, q_rad: np.ndarray, asynchronous: bool = True) -> None:
        """Move through (M, 7) joint waypoints (each clamped to the limits) under Ruckig limits."""
        self._require_active()
        waypoints = np.atleast_2d(np.asarray(q_rad, dtype=np.float64))
        f = self._franky
        wps = [f.JointWaypoint(np.clip(q, self.spec.lower, self.spec.upper).tolist()) for q in waypoints]
        self._guard(self.robot.move, "joint motion", f.JointWaypointMotion(wps), asynchronous=asynchronous)

    def move_cartesian_waypoints(self, T_base_ee: np.ndarray, asynchronous: bool = True) -> None:
        """Move the end effector through (M, 4, 4) poses T_base_ee (robot base frame) under Ruckig limits."""
        self._require_active()
        poses = np.asarray(T_base_ee, dtype=np.float64).reshape(-1, 4, 4)
        if not np.all(np.isfinite(poses)):
            raise InputError("Cartesian waypoints hold NaN or inf")
        f = self._franky
        wps = [f.CartesianWaypoint(f.Affine(T)) for T in poses]
        self._guard(self.robot.move, "Cartesian motion", f.CartesianWaypointMotion(wps), asynchronous=asynchronous)

    def wait(self, timeout_s: float | None = None) -> bool:
        """Wait for the running motion; True when it finished (re-raises its failure as DeviceFaultError)."""
        self._require_connected("wait")
        if timeout_s is None:
            return bool(self._guard(self.robot.join_motion, "motion"))
        return bool(self._guard(self.robot.join_motion, "motion", timeout_s))

    def end_effector_pose(self) -> np.ndarray:
        """(4, 4) T_base_ee measured."""
        self._require_connected("end_effector_pose")
        pose = self._guard(lambda: self.robot.current_cartesian_state.pose.end_effector_pose, "read pose")
        return np.asarray(pose.matrix, dtype=np.float64)

    def stop(self) -> np.ndarray:
        self._require_connected("stop")
        self._guard(self.robot.stop, "stop")
        return self.read().positions

    def _require_active(self) -> None:
        self._require_connected("move")
        if self.state is not DriverState.ACTIVE:
            raise NotActiveError("franka: move before activate()")
