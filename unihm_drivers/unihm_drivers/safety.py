"""Safety as pure functions and small state machines: NaN/inf rejection, position and velocity
clamping with counts, a command watchdog, a reconnect back-off policy and an e-stop latch.

Everything here is deterministic given its inputs (clocks are passed in), so it is unit-tested
without devices; `ControlLoop` and every backend route commands through it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unihm_common.errors import ConfigError, InputError


def reject_non_finite(q: Sequence[float] | np.ndarray, n: int, what: str = "command") -> np.ndarray:
    """Return `q` as a float (n,) array; raise InputError on a wrong length, NaN or inf."""
    arr = np.asarray(q, dtype=np.float64).reshape(-1)
    if arr.shape != (n,):
        raise InputError(f"{what}: expected {n} values, got {arr.shape[0]}")
    if not np.all(np.isfinite(arr)):
        bad = [i for i, v in enumerate(arr) if not math.isfinite(v)]
        raise InputError(f"{what}: NaN or inf at joint index {bad}; command rejected")
    return arr


def clamp_positions(q_rad: np.ndarray, lower_rad: np.ndarray, upper_rad: np.ndarray) -> tuple[np.ndarray, int]:
    """Clamp (N,) positions into [lower, upper]; return (clamped, number of joints clamped)."""
    clamped = np.clip(q_rad, lower_rad, upper_rad)
    return clamped, int(np.count_nonzero(clamped != q_rad))


def clamp_velocity(
    q_target_rad: np.ndarray, q_prev_rad: np.ndarray, velocity_limit_rad_s: np.ndarray, dt_s: float
) -> tuple[np.ndarray, int]:
    """Limit the step from `q_prev` to `q_target` to `velocity_limit * dt_s` per joint.

    Returns (limited target, number of joints limited). `dt_s` must be > 0.
    """
    if not dt_s > 0:
        raise InputError(f"clamp_velocity: dt_s must be > 0, got {dt_s}")
    max_step = velocity_limit_rad_s * dt_s
    step = q_target_rad - q_prev_rad
    limited = np.clip(step, -max_step, max_step)
    # A tiny tolerance keeps float noise at exactly the limit from counting as a clamp.
    n = int(np.count_nonzero(np.abs(step) > max_step * (1 + 1e-9) + 1e-12))
    return q_prev_rad + limited, n


def within_limits(q_rad: np.ndarray, lower_rad: np.ndarray, upper_rad: np.ndarray, tol: float = 1e-9) -> bool:
    """True when every joint lies in [lower - tol, upper + tol] and is finite."""
    q = np.asarray(q_rad, dtype=np.float64)
    return bool(np.all(np.isfinite(q)) and np.all(q >= lower_rad - tol) and np.all(q <= upper_rad + tol))


@dataclass
class SafetyCounters:
    """Warning counters a node publishes (diagnostics) and the benchmark reports."""

    position_clamps: int = 0  # commands with >= 1 joint clamped to position limits
    velocity_clamps: int = 0  # commands with >= 1 joint rate-limited
    rejected_non_finite: int = 0  # commands rejected for NaN/inf or wrong length
    watchdog_holds: int = 0  # times the watchdog switched to holding position
    limit_violations: int = 0  # commands sent outside limits (must stay 0)


class Watchdog:
    """Stale-command detector: `feed(now_s)` on every fresh command; `stale(now_s)` after
    `timeout_s` without one. Counts each transition to stale once."""

    def __init__(self, timeout_s: float) -> None:
        if not timeout_s > 0:
            raise ConfigError(f"watchdog timeout_s must be > 0, got {timeout_s}")
        self.timeout_s = timeout_s
        self._last_feed_s: float | None = None
        self._was_stale = False
        self.trips = 0

    def feed(self, now_s: float) -> None:
        self._last_feed_s = now_s
        self._was_stale = False

    def reset(self) -> None:
        """Forget the last command (nothing to watch until the next feed)."""
        self._last_feed_s = None
        self._was_stale = False

    @property
    def armed(self) -> bool:
        return self._last_feed_s is not None

    def stale(self, now_s: float) -> bool:
        """True when armed and no feed arrived for more than `timeout_s`."""
        if self._last_feed_s is None:
            return False
        is_stale = now_s - self._last_feed_s > self.timeout_s
        if is_stale and not self._was_stale:
            self.trips += 1
        self._was_stale = is_stale
        return is_stale


@dataclass(frozen=True)
class BackoffPolicy:
    """Reconnect delays: initial_s * factor**attempt, capped at max_s (attempt counts from 0)."""

    initial_s: float = 0.05
    factor: float = 2.0
    max_s: float = 2.0

    def __post_init__(self) -> None:
        if not (self.initial_s > 0 and self.factor >= 1 and self.max_s >= self.initial_s):
            raise ConfigError(f"invalid BackoffPolicy {self}: need initial_s > 0, factor >= 1, max_s >= initial_s")

    def delay_s(self, attempt: int) -> float:
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, attempt)))


class EStopLatch:
    """Emergency stop: once tripped, stays tripped until `reset()` is called explicitly."""

    def __init__(self) -> None:
        self.engaged = False
        self.reason = ""
        self.trips = 0

    def trip(self, reason: str = "e-stop") -> None:
        if not self.engaged:
            self.trips += 1
        self.engaged = True
        self.reason = reason

    def reset(self) -> None:
        self.engaged = False
        self.reason = ""


def percentile_ms(values_s: Sequence[float] | np.ndarray, q: float) -> float:
    """q-th percentile of seconds, in ms (nan when empty)."""
    arr = np.asarray(values_s, dtype=np.float64)
    return float(np.percentile(arr, q) * 1e3) if arr.size else float("nan")
