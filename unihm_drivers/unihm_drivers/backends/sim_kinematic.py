"""`sim_kinematic`: a kinematic stand-in for any device: first-order lag toward the command,
velocity limits and position limits from the DeviceSpec. No I/O; time comes from a clock."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unihm_common.errors import ConfigError
from unihm_drivers.base import DeviceSpec, Driver, JointStateSample


@dataclass(frozen=True)
class SimKinematicConfig:
    time_constant_s: float = 0.05  # first-order lag of each joint toward its command
    initial_q_rad: tuple[float, ...] | None = None  # start pose (default: mid-range)

    def __post_init__(self) -> None:
        if not self.time_constant_s > 0:
            raise ConfigError(f"time_constant_s must be > 0, got {self.time_constant_s}")


class SimKinematicDriver(Driver, backend="sim_kinematic", config=SimKinematicConfig):
    """Joint state integrates lazily at each read/write from the elapsed clock time."""

    def __init__(
        self, config: SimKinematicConfig, spec: DeviceSpec, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__(config, spec)
        self._clock = clock
        start = (spec.lower + spec.upper) / 2 if config.initial_q_rad is None else np.asarray(config.initial_q_rad)
        if start.shape != (spec.num_joints,):
            raise ConfigError(f"initial_q_rad has {start.shape[0]} values for {spec.num_joints} joints")
        self._q = np.clip(start.astype(np.float64), spec.lower, spec.upper)  # (N,) rad
        self._qd = np.zeros(spec.num_joints)  # (N,) rad/s
        self._cmd = self._q.copy()
        self._t_s: float | None = None

    def _connect(self) -> None:
        self._t_s = self._clock()

    def _disconnect(self) -> None:
        self._t_s = None

    def _advance(self) -> None:
        now = self._clock()
        dt = now - (self._t_s if self._t_s is not None else now)
        self._t_s = now
        if dt <= 0:
            return
        alpha = 1.0 - math.exp(-dt / self.config.time_constant_s)
        step = np.clip(alpha * (self._cmd - self._q), -self.spec.velocity_limit * dt, self.spec.velocity_limit * dt)
        self._q = np.clip(self._q + step, self.spec.lower, self.spec.upper)
        self._qd = step / dt

    def _read(self) -> JointStateSample:
        self._advance()
        return JointStateSample(self._q.copy(), self._qd.copy(), np.zeros(self.spec.num_joints), self._clock())

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        self._advance()
        self._cmd = q_rad.copy()
        return self._cmd.copy()
