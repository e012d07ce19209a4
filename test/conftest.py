"""Test-session environment: machine-local ROS 2 traffic, a fresh domain, logs in a temp dir.

Applied before any test imports rclpy, so every in-process context and every child process
(which inherits os.environ) stays on this machine (SHM-only Fast DDS profile by default).
"""

from __future__ import annotations

import os
import tempfile

import pytest

from unihm_common.ros_env import apply_local_ros_env, random_domain_id

_LOG_DIR = tempfile.mkdtemp(prefix="unihm_test_ros_logs_")
apply_local_ros_env(domain_id=random_domain_id(), log_dir=_LOG_DIR)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("UNIHM_HARDWARE_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs real hardware (set UNIHM_HARDWARE_TESTS=1)")
    for item in items:
        if "hardware" in item.keywords:
            item.add_marker(skip)
