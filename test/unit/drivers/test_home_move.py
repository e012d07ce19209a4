"""The arm's go-home move (driver_node.home_move): minimum jerk, the fastest joint at the speed scale."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_drivers.driver_node import home_move


def test_home_move_is_minimum_jerk_at_the_speed_scale():
    q0, home, vmax = np.zeros(3), np.array([1.0, -0.5, 0.2]), np.array([2.0, 2.0, 1.0])
    t, q = home_move(q0, home, vmax, speed_scale=0.5, samples=401)
    assert t[0] == 0.0 and t[-1] == pytest.approx(1.875 * 1.0 / (0.5 * 2.0))  # joint 0 is the slowest to arrive
    np.testing.assert_allclose(q[0], q0)
    np.testing.assert_allclose(q[-1], home)
    speed = np.abs(np.diff(q, axis=0) / np.diff(t)[:, None])
    assert np.all(speed.max(0) <= 0.5 * vmax * 1.001) and speed[:, 0].max() == pytest.approx(1.0, rel=1e-3)
    np.testing.assert_allclose(speed[[0, -1]], 0.0, atol=0.02)  # starts and ends at rest


def test_home_move_at_home_holds_and_bad_input_is_refused():
    t, q = home_move(np.ones(2), np.ones(2), np.ones(2), 0.3)
    assert t[-1] == 0.5 and np.allclose(q, 1.0)
    with pytest.raises(InputError, match="joints"):
        home_move(np.zeros(2), np.zeros(3), np.ones(2), 0.3)
    with pytest.raises(InputError, match="finite"):
        home_move(np.array([np.nan, 0.0]), np.zeros(2), np.ones(2), 0.3)
