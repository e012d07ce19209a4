"""`ControlLoop`: the fixed-rate loop between commands (trajectories, streamed setpoints) and a Driver.

Per tick: read the device, pick the target (e-stop hold > trajectory > streamed setpoint > hold),
reject NaN/inf, clamp to position limits and to velocity limits over one period, `driver.write`,
and record timing. A driver exception puts the loop in fault; it reconnects with back-off and
resumes from the measured position. The ROS node only converts messages and calls this.

Scheduling is drift-free: tick k is due at t0 + k/rate_hz (absolute deadlines, perf_counter);
the thread sleeps until ~`spin_s` before the deadline and spins (yielding the GIL) for the rest.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_drivers.base import Driver, DriverState, JointStateSample
from unihm_drivers.safety import (
    BackoffPolicy,
    EStopLatch,
    SafetyCounters,
    Watchdog,
    clamp_positions,
    clamp_velocity,
    percentile_ms,
    reject_non_finite,
    within_limits,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ControlLoopConfig:
    rate_hz: float = 100.0  # control rate; tick k is due at t0 + k / rate_hz
    watchdog_timeout_s: float = 0.25  # streamed setpoints older than this -> hold measured position
    spin_s: float = 0.001  # busy-wait (GIL-yielding) for the last part of each period
    max_backlog: int = 50  # queued setpoints beyond this drop the oldest (counted as lost)
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)  # reconnect delays in fault

    def __post_init__(self) -> None:
        if not self.rate_hz > 0:
            raise ConfigError(f"rate_hz must be > 0, got {self.rate_hz}")
        if not self.watchdog_timeout_s > 0:
            raise ConfigError(f"watchdog_timeout_s must be > 0, got {self.watchdog_timeout_s}")
        if self.spin_s < 0 or self.max_backlog < 1:
            raise ConfigError("spin_s must be >= 0 and max_backlog >= 1")

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz


@dataclass(frozen=True)
class JointTrajectory:
    """A time-parameterised joint trajectory, linearly interpolated at the control rate.

    t_s: (M,) seconds from the trajectory start, strictly increasing, t_s[0] >= 0.
    q_rad: (M, N) positions, columns in the driver's `spec.joint_names` order.
    """

    t_s: np.ndarray
    q_rad: np.ndarray

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64).reshape(-1)
        q = np.asarray(self.q_rad, dtype=np.float64)
        if q.ndim != 2 or q.shape[0] != t.shape[0] or t.shape[0] == 0:
            raise InputError(f"trajectory shapes disagree: t_s {t.shape}, q_rad {q.shape}")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(q))):
            raise InputError("trajectory holds NaN or inf")
        if t[0] < 0 or np.any(np.diff(t) <= 0):
            raise InputError("trajectory t_s must start >= 0 and increase strictly")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "q_rad", q)

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1])

    def sample(self, t_s: float) -> np.ndarray:
        """(N,) position at `t_s` from the start; holds the first/last point outside the span."""
        if t_s <= self.t_s[0]:
            return self.q_rad[0].copy()
        if t_s >= self.t_s[-1]:
            return self.q_rad[-1].copy()
        i = int(np.searchsorted(self.t_s, t_s, side="right")) - 1
        a = (t_s - self.t_s[i]) / (self.t_s[i + 1] - self.t_s[i])
        return (1 - a) * self.q_rad[i] + a * self.q_rad[i + 1]


@dataclass
class LoopStats:
    ticks: int = 0
    overruns: int = 0  # ticks started more than one period late (deadlines skipped)
    commands_received: int = 0  # streamed setpoints accepted by push_setpoint
    commands_sent: int = 0  # streamed setpoints written to the device
    commands_lost: int = 0  # streamed setpoints dropped (backlog overflow, fault, e-stop)
    writes: int = 0  # driver.write calls that succeeded
    faults: int = 0
    reconnects: int = 0
    safety: SafetyCounters = field(default_factory=SafetyCounters)
    lateness_s: list[float] = field(default_factory=list)  # tick start - deadline, per tick
    tick_start_s: list[float] = field(default_factory=list)

    def timing(self) -> dict[str, float]:
        """rate_hz, jitter_p50_ms / jitter_p99_ms (|start - deadline|) and period jitter (p99)."""
        starts = np.asarray(self.tick_start_s)
        rate = (len(starts) - 1) / (starts[-1] - starts[0]) if len(starts) > 1 else float("nan")
        late = np.abs(np.asarray(self.lateness_s))
        periods = np.diff(starts)
        period_dev = np.abs(periods - np.median(periods)) if periods.size else periods
        return {
            "rate_hz": float(rate),
            "jitter_p50_ms": percentile_ms(late, 50),
            "jitter_p99_ms": percentile_ms(late, 99),
            "jitter_max_ms": float(late.max() * 1e3) if late.size else float("nan"),
            "period_jitter_p99_ms": percentile_ms(period_dev, 99),
        }


class ControlLoop:
    """Runs `driver` at `config.rate_hz` on a thread (`start`/`stop`), or step by step (`tick`)."""

    def __init__(
        self,
        driver: Driver,
        config: ControlLoopConfig | None = None,
        clock: Callable[[], float] = time.perf_counter,
        on_tick: Callable[[JointStateSample | None, np.ndarray | None], None] | None = None,
    ) -> None:
        self.driver = driver
        self.config = config or ControlLoopConfig()
        self.clock = clock
        self.on_tick = on_tick  # e.g. the node publishing /joint_states; must be quick
        self.stats = LoopStats()
        self.watchdog = Watchdog(self.config.watchdog_timeout_s)
        self.estop_latch = EStopLatch()
        self.latest_sample: JointStateSample | None = None
        self.last_sent: np.ndarray | None = None
        self.last_error: BaseException | None = None
        self.in_fault = False
        self._lock = threading.Lock()
        self._queue: collections.deque[np.ndarray] = collections.deque()
        self._velocity: np.ndarray | None = None  # streamed velocity command (rad/s), while fresh
        self._trajectory: JointTrajectory | None = None
        self._trajectory_start_s = 0.0
        self._hold_q: np.ndarray | None = None
        self._prev_cmd: np.ndarray | None = None
        self._reconnect_attempt = 0
        self._next_reconnect_s = 0.0
        self._thread: threading.Thread | None = None
        self._running = threading.Event()

    # -- commands (any thread) -----------------------------------------------------------------
    def _checked_stream(self, values: np.ndarray, what: str) -> np.ndarray:
        """Validate one streamed (N,) command; NaN/inf or a wrong length raise InputError (counted)."""
        try:
            return reject_non_finite(values, self.driver.spec.num_joints, what=what)
        except InputError:
            with self._lock:
                self.stats.safety.rejected_non_finite += 1
            raise

    def push_setpoint(self, q_rad: np.ndarray) -> bool:
        """Queue one streamed (N,) position setpoint; it replaces any running trajectory.

        Raises InputError (and counts it) on NaN/inf or a wrong length. Returns False, counting the
        setpoint as lost, while the e-stop is engaged.
        """
        q = self._checked_stream(q_rad, "streamed setpoint")
        with self._lock:
            if self.estop_latch.engaged:
                self.stats.commands_lost += 1
                return False
            self.stats.commands_received += 1
            self._trajectory = None
            self._velocity = None
            if len(self._queue) >= self.config.max_backlog:
                self._queue.popleft()
                self.stats.commands_lost += 1
            self._queue.append(q)
            self.watchdog.feed(self.clock())
        return True

    def push_velocity(self, qd_rad_s: np.ndarray) -> bool:
        """Stream a (N,) velocity command: each tick moves the command by qd * period (then the usual
        position and velocity clamps). It replaces trajectories and queued positions; when the stream
        goes stale the watchdog holds the measured position. Returns False while the e-stop is engaged."""
        qd = self._checked_stream(qd_rad_s, "streamed velocity")
        with self._lock:
            if self.estop_latch.engaged:
                self.stats.commands_lost += 1
                return False
            self.stats.commands_received += 1
            self.stats.commands_lost += len(self._queue)
            self._queue.clear()
            self._trajectory = None
            self._velocity = qd
            self._hold_q = None
            self.watchdog.feed(self.clock())
        return True

    def set_trajectory(self, trajectory: JointTrajectory, start_s: float | None = None) -> None:
        """Follow `trajectory` from `start_s` (loop clock; default now). Clears streamed setpoints,
        so an arm and a hand loop given the same `start_s` stay synchronised by time stamps. A first point at
        t > 0 is approached by linear interpolation from the current measured position (as ros2_control's
        JointTrajectoryController does), not by a jump."""
        if trajectory.q_rad.shape[1] != self.driver.spec.num_joints:
            raise InputError(
                f"trajectory has {trajectory.q_rad.shape[1]} joints, driver has {self.driver.spec.num_joints}"
            )
        sample = self.latest_sample
        if trajectory.t_s[0] > 0 and sample is not None:
            trajectory = JointTrajectory(np.concatenate([[0.0], trajectory.t_s]),
                                         np.vstack([sample.positions, trajectory.q_rad]))
        with self._lock:
            if self.estop_latch.engaged:
                raise InputError(f"e-stop engaged ({self.estop_latch.reason}); reset it first")
            self.stats.commands_lost += len(self._queue)
            self._queue.clear()
            self._velocity = None
            self.watchdog.reset()
            self._trajectory = trajectory
            self._trajectory_start_s = self.clock() if start_s is None else start_s

    def estop(self, reason: str = "e-stop service") -> None:
        """Latch the e-stop: drop commands and hold the measured position until `reset_estop`."""
        with self._lock:
            self.estop_latch.trip(reason)
            self.stats.commands_lost += len(self._queue)
            self._queue.clear()
            self._trajectory = None
            self._velocity = None
            self._hold_q = None

    def hold(self) -> None:
        """Drop the trajectory and queued setpoints and keep the last command (no latch)."""
        with self._lock:
            self.stats.commands_lost += len(self._queue)
            self._queue.clear()
            self._trajectory = None
            self._velocity = None
            self.watchdog.reset()

    def reset_estop(self) -> None:
        with self._lock:
            self.estop_latch.reset()
            self.watchdog.reset()

    @property
    def pending(self) -> int:
        return len(self._queue)

    @property
    def trajectory_active(self) -> bool:
        traj = self._trajectory
        return traj is not None and self.clock() - self._trajectory_start_s <= traj.duration_s

    # -- the tick --------------------------------------------------------------------------------
    def tick(self, now_s: float | None = None) -> np.ndarray | None:
        """One control step at loop time `now_s`; returns the command sent (None in fault)."""
        now = self.clock() if now_s is None else now_s
        if self.in_fault and not self._try_recover(now):
            self._notify(None, None)
            return None
        try:
            sample = self.driver.read()
            self.latest_sample = sample
            if self._prev_cmd is None:
                self._prev_cmd = sample.positions.copy()
            q, from_stream = self._choose_target(now, sample)
            q = self._apply_safety(q)
            sent = self.driver.write(q)
        except Exception as exc:  # any device/link failure: fault, then reconnect with back-off
            self._enter_fault(now, exc)
            self._notify(None, None)
            return None
        self._prev_cmd = np.asarray(sent, dtype=np.float64)
        self.last_sent = self._prev_cmd
        self.stats.writes += 1
        if from_stream:
            self.stats.commands_sent += 1
        if not within_limits(sent, self.driver.spec.lower, self.driver.spec.upper):
            self.stats.safety.limit_violations += 1
        self._notify(sample, self._prev_cmd)
        return self._prev_cmd

    def _choose_target(self, now: float, sample: JointStateSample) -> tuple[np.ndarray, bool]:
        with self._lock:
            if self.estop_latch.engaged:
                if self._hold_q is None:
                    self._hold_q = sample.positions.copy()
                return self._hold_q, False
            if self._trajectory is not None:
                return self._trajectory.sample(now - self._trajectory_start_s), False
            if self._queue:
                self._hold_q = None
                return self._queue.popleft(), True
            if self._velocity is not None and not self.watchdog.stale(now):
                return self._prev_cmd + self._velocity * self.config.period_s, False
            if self.watchdog.stale(now):
                self._velocity = None
                if self._hold_q is None:  # first stale tick: freeze at the measured position
                    self._hold_q = sample.positions.copy()
                    self.stats.safety.watchdog_holds += 1
                    log.warning("streamed commands stale for > %.3f s: holding position", self.watchdog.timeout_s)
                return self._hold_q, False
            return self._prev_cmd.copy(), False

    def _apply_safety(self, q: np.ndarray) -> np.ndarray:
        spec = self.driver.spec
        q, n_pos = clamp_positions(q, spec.lower, spec.upper)
        q, n_vel = clamp_velocity(q, self._prev_cmd, spec.velocity_limit, self.config.period_s)
        q, _ = clamp_positions(q, spec.lower, spec.upper)  # prev may sit outside after recovery
        self.stats.safety.position_clamps += bool(n_pos)
        self.stats.safety.velocity_clamps += bool(n_vel)
        return q

    def _enter_fault(self, now: float, exc: BaseException) -> None:
        if not self.in_fault:
            self.stats.faults += 1
            log.warning("driver %s fault: %s", self.driver.backend, exc)
        self.in_fault = True
        self.last_error = exc
        self._reconnect_attempt = 0
        self._next_reconnect_s = now + self.config.backoff.delay_s(0)

    def _try_recover(self, now: float) -> bool:
        if now < self._next_reconnect_s:
            return False
        try:
            self.driver.close()
            self.driver.configure()
            self.driver.activate()
            sample = self.driver.read()
        except Exception as exc:
            self.last_error = exc
            self._reconnect_attempt += 1
            self._next_reconnect_s = now + self.config.backoff.delay_s(self._reconnect_attempt)
            return False
        with self._lock:  # setpoints queued while the device was down are stale: drop them
            self.stats.commands_lost += len(self._queue)
            self._queue.clear()
            self.watchdog.reset()
            self._hold_q = None
        self._prev_cmd = sample.positions.copy()  # resume from the measured position
        self.in_fault = False
        self.stats.reconnects += 1
        log.warning("driver %s recovered after %d attempt(s)", self.driver.backend, self._reconnect_attempt + 1)
        return True

    def _notify(self, sample: JointStateSample | None, sent: np.ndarray | None) -> None:
        if self.on_tick is not None:
            self.on_tick(sample, sent)

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> None:
        """Configure and activate the driver if needed, then run ticks on a thread."""
        if self._thread is not None:
            return
        if self.driver.state is not DriverState.ACTIVE:
            try:
                self.driver.configure()
                self.driver.activate()
            except Exception as exc:  # unreachable at start: run in fault and keep retrying
                self._enter_fault(self.clock(), exc)
        self._running.set()
        self._thread = threading.Thread(target=self._run, name=f"control-{self.driver.backend}", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        self._running.clear()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        period = self.config.period_s
        t0 = self.clock()
        k = 0
        while self._running.is_set():
            deadline = t0 + k * period
            self._sleep_until(deadline)
            start = self.clock()
            self.stats.ticks += 1
            self.stats.lateness_s.append(start - deadline)
            self.stats.tick_start_s.append(start)
            self.tick(start)
            k += 1
            behind = int((self.clock() - t0) / period) - k
            if behind > 0:  # overran by more than a period: skip the missed deadlines
                self.stats.overruns += 1
                k += behind

    def _sleep_until(self, deadline: float) -> None:
        remaining = deadline - self.clock()
        if remaining > self.config.spin_s:
            time.sleep(remaining - self.config.spin_s)
        while self.clock() < deadline:
            time.sleep(0)  # yield the GIL while spinning

    def __enter__(self) -> ControlLoop:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
