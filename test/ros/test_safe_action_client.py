"""`SafeActionClient`: an action client made on a node that an executor thread is already spinning."""

from __future__ import annotations

import pytest
import rclpy
from rclpy.action import ActionClient

from unihm_common.base_node import SafeActionClient
from unihm_msgs.action import Manipulate

pytestmark = pytest.mark.ros


def _make_while_the_executor_wakes(cls):
    """Create `cls` on a node whose executor takes the client's data the moment it is registered, which is what
    an executor thread does when it wakes between rclpy's `add_waitable` and the rest of the constructor."""
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("unihm_safe_client_test", context=context)
    register = node.add_waitable
    taken = []

    def add_waitable_and_wake(waitable):
        register(waitable)
        for flag in ("feedback", "status", "goal_response", "cancel_response", "result_response"):
            setattr(waitable, f"_is_{flag}_ready", True)  # as `is_ready` would after a wake-up
        taken.append(waitable.take_data())

    node.add_waitable = add_waitable_and_wake
    try:
        client = cls(node, Manipulate, "/manipulate")
        return client, taken
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def test_rclpys_client_dies_when_the_executor_wakes_during_construction():
    with pytest.raises(AttributeError, match="_lock"):
        _make_while_the_executor_wakes(ActionClient)


def test_the_safe_client_survives_it_and_keeps_one_lock():
    client, taken = _make_while_the_executor_wakes(SafeActionClient)
    assert taken == [{}]  # nothing was waiting, and nothing raised
    assert client._lock.acquire(blocking=False)  # a working lock, not held by anyone
    client._lock.release()
