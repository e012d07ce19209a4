import math

import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError
from unihm_drivers.safety import (
    BackoffPolicy,
    EStopLatch,
    Watchdog,
    clamp_positions,
    clamp_velocity,
    reject_non_finite,
    within_limits,
)

LO, HI = np.zeros(3), np.ones(3)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_is_rejected(bad):
    with pytest.raises(InputError, match="NaN or inf at joint index \\[1\\]"):
        reject_non_finite([0.0, bad, 0.0], 3)


def test_wrong_length_is_rejected():
    with pytest.raises(InputError, match="expected 3 values"):
        reject_non_finite([0.0, 1.0], 3)


def test_clamp_positions_counts_joints():
    q, n = clamp_positions(np.array([-0.5, 0.5, 2.0]), LO, HI)
    assert n == 2 and q.tolist() == [0.0, 0.5, 1.0]
    q, n = clamp_positions(np.array([0.1, 0.2, 0.3]), LO, HI)
    assert n == 0 and q.tolist() == [0.1, 0.2, 0.3]


def test_clamp_velocity_limits_the_step():
    q, n = clamp_velocity(np.array([1.0, 0.005, -1.0]), np.zeros(3), np.array([1.0, 1.0, 2.0]), dt_s=0.01)
    assert n == 2
    np.testing.assert_allclose(q, [0.01, 0.005, -0.02])
    _, n = clamp_velocity(np.array([0.01, 0.0, 0.0]), np.zeros(3), np.ones(3), dt_s=0.01)
    assert n == 0  # exactly at the limit is not a clamp
    with pytest.raises(InputError):
        clamp_velocity(np.zeros(3), np.zeros(3), np.ones(3), dt_s=0.0)


def test_within_limits():
    assert within_limits(np.array([0.0, 1.0, 0.5]), LO, HI)
    assert not within_limits(np.array([0.0, 1.01, 0.5]), LO, HI)
    assert not within_limits(np.array([0.0, math.nan, 0.5]), LO, HI)


def test_watchdog_goes_stale_after_timeout_and_counts_once():
    w = Watchdog(0.1)
    assert not w.stale(100.0)  # never fed: nothing to watch
    w.feed(0.0)
    assert not w.stale(0.05)
    assert w.stale(0.2) and w.stale(0.3)
    assert w.trips == 1
    w.feed(0.4)
    assert not w.stale(0.45)
    with pytest.raises(ConfigError):
        Watchdog(0.0)


def test_backoff_grows_and_caps():
    b = BackoffPolicy(initial_s=0.1, factor=2.0, max_s=0.5)
    assert [b.delay_s(i) for i in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    with pytest.raises(ConfigError):
        BackoffPolicy(initial_s=0.0)


def test_estop_latches_until_reset():
    e = EStopLatch()
    e.trip("button")
    e.trip("again")
    assert e.engaged and e.trips == 1
    e.reset()
    assert not e.engaged
