"""`panda_gripper`: the Franka Hand (Panda gripper) via franky's Gripper, non-blocking.

One joint, the opening width in m. `write(width)` starts `move_async` unless a move is still
running (then the running target is reported as sent); the control loop's next write after
the move finishes sends the newest width.
`grasp()` / `release()` return franky futures at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_drivers.backends.franka import import_franky
from unihm_drivers.base import DeviceFaultError, DeviceSpec, DeviceUnreachableError, Driver, JointStateSample

_PARKED: list[tuple[Any, Any]] = []  # grippers whose last command never resolved (see _disconnect)

GRIPPER_SPEC = DeviceSpec(
    joint_names=("panda_finger_width",),
    lower_rad=(0.0,),  # m
    upper_rad=(0.08,),  # m, the Franka Hand's maximum opening
    velocity_limit_rad_s=(0.1,),  # m/s
)


@dataclass(frozen=True)
class PandaGripperConfig:
    host: str = "172.16.0.2"
    speed_m_s: float = 0.05  # move / grasp speed
    force_n: float = 20.0  # grasp force
    deadband_m: float = 0.001  # widths closer than this to the last target are not re-sent

    def __post_init__(self) -> None:
        if not (0 < self.speed_m_s <= 0.1 and 0 < self.force_n <= 140 and self.deadband_m >= 0):
            raise ConfigError("speed_m_s must be in (0, 0.1], force_n in (0, 140], deadband_m >= 0")


class PandaGripperDriver(Driver, backend="panda_gripper", config=PandaGripperConfig):
    """Efforts are zero (the gripper does not report force)."""

    def __init__(self, config: PandaGripperConfig, spec: DeviceSpec = GRIPPER_SPEC, gripper: Any | None = None) -> None:
        super().__init__(config, spec)
        if spec.num_joints != 1:
            raise ConfigError("the Panda gripper has one joint (its width)")
        self._injected = gripper
        self.gripper: Any = None
        self._franky: Any = None
        self._future: Any = None
        self._target_m: float | None = None
        self._prev: tuple[float, float] | None = None

    def _connect(self) -> None:
        self._franky = import_franky()
        if self._injected is not None:
            self.gripper = self._injected
            return
        try:
            self.gripper = self._franky.Gripper(self.config.host)
        except self._franky.Exception as exc:
            raise DeviceUnreachableError(f"Franka gripper at {self.config.host} unreachable: {exc}") from exc
        self._future = None
        self._target_m = None

    def _disconnect(self) -> None:
        # Releasing a franky Gripper while an asynchronous command is still pending segfaults
        # (franky 2.0.0, seen against franky-sim), and stop_async() can block for good while a move is
        # pending (seen against franky-sim: it never returns and stalls the move). So let the move finish
        # (its distance at the configured speed, + 2 s), and if it still has not resolved keep the objects
        # alive rather than crash or hang.
        future, gripper = self._future, self.gripper
        self.gripper = None
        self._future = None
        if future is None or gripper is None:
            return
        try:
            span = abs(float(gripper.width) - (self._target_m or 0.0))
            done = future.wait(span / max(self.config.speed_m_s, 1e-3) + 2.0)
        except Exception:  # the link may already be gone
            done = False
        if not done:
            _PARKED.append((gripper, future))

    def _guard(self, fn: Any, what: str, *args: Any) -> Any:
        try:
            return fn(*args)
        except self._franky.NetworkException as exc:
            raise DeviceUnreachableError(f"gripper {what}: {exc}") from exc
        except self._franky.Exception as exc:
            raise DeviceFaultError(f"gripper {what}: {exc}") from exc

    @property
    def busy(self) -> bool:
        return self._future is not None and not self._future.wait(0)

    def _read(self) -> JointStateSample:
        width = float(self._guard(lambda: self.gripper.width, "read width"))
        now = time.monotonic()
        vel = 0.0 if self._prev is None or now <= self._prev[0] else (width - self._prev[1]) / (now - self._prev[0])
        self._prev = (now, width)
        return JointStateSample([width], [vel], [0.0], now)

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        width = float(q_rad[0])
        if self._target_m is not None and (self.busy or abs(width - self._target_m) < self.config.deadband_m):
            return np.array([self._target_m])  # still moving to (or at) the last target: that is what was sent
        self._future = self._guard(self.gripper.move_async, "move", width, self.config.speed_m_s)
        self._target_m = width
        return np.array([width])

    def grasp(self, width_m: float, force_n: float | None = None, epsilon_m: float = 0.005) -> Any:
        """Start a grasp of an object `width_m` wide; returns a future (`.wait(t)`, `.get()` -> grasped)."""
        self._require_connected("grasp")
        if not np.isfinite(width_m) or not self.spec.lower[0] <= width_m <= self.spec.upper[0]:
            raise InputError(f"grasp width {width_m} m outside [0, {self.spec.upper[0]}] m")
        force = self.config.force_n if force_n is None else force_n
        self._future = self._guard(
            self.gripper.grasp_async, "grasp", width_m, self.config.speed_m_s, force, epsilon_m, epsilon_m
        )
        self._target_m = width_m
        return self._future

    def release(self) -> Any:
        """Open fully (non-blocking); returns a future."""
        self._require_connected("release")
        self._future = self._guard(self.gripper.open_async, "open", self.config.speed_m_s)
        self._target_m = float(self.spec.upper[0])
        return self._future

    def is_grasped(self) -> bool:
        return bool(self._guard(lambda: self.gripper.is_grasped, "read grasp"))
