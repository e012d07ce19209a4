"""Keep ROS 2 traffic on this machine: the environment for tests, CI, the demo and the launcher.

Fast DDS's default discovery multicasts out of the machine. `local_ros_env()` picks one of:
- `shm` (default): the project's SHM-only Fast DDS profile; no UDP at all, and fastest.
- `localhost`: UDP restricted to 127.0.0.1 (`ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`).
- `system`: leave the environment alone (real multi-machine setups).
The mode comes from the `UNIHM_ROS_NETWORK` variable. SHM-only and UDP participants never match,
so every process of one graph must use the same mode: the launcher passes its env to children.
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Mapping
from pathlib import Path

SHM_PROFILE = Path(__file__).resolve().parent / "config" / "fastdds_shm_only.xml"
NETWORK_MODES = ("shm", "localhost", "system")


def network_mode(env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    mode = env.get("UNIHM_ROS_NETWORK", "shm")
    if mode not in NETWORK_MODES:
        raise ValueError(f"UNIHM_ROS_NETWORK={mode!r}; expected one of {NETWORK_MODES}")
    return mode


def local_ros_env(
    base: Mapping[str, str] | None = None,
    domain_id: int | None = None,
    log_dir: str | None = None,
    mode: str | None = None,
) -> dict[str, str]:
    """Return a copy of `base` (default: os.environ) set up for machine-local ROS 2 traffic.

    Variables the user already set are kept, except that `domain_id`/`log_dir`, when given,
    always win (tests use a fresh domain per session).
    """
    env = dict(os.environ if base is None else base)
    mode = mode or network_mode(env)
    env["UNIHM_ROS_NETWORK"] = mode
    if mode == "shm":
        env.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(SHM_PROFILE))
        env.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
    elif mode == "localhost":
        env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
        env["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    if log_dir is not None:
        env["ROS_LOG_DIR"] = log_dir
    elif mode != "system" and "ROS_LOG_DIR" not in env:
        env["ROS_LOG_DIR"] = os.path.join(tempfile.gettempdir(), "unihm_ros_logs")
    return env


def apply_local_ros_env(domain_id: int | None = None, log_dir: str | None = None) -> dict[str, str]:
    """Set up this process's environment (call before `rclpy.init`)."""
    env = local_ros_env(domain_id=domain_id, log_dir=log_dir)
    os.environ.update(env)
    if "ROS_AUTOMATIC_DISCOVERY_RANGE" not in env:
        os.environ.pop("ROS_AUTOMATIC_DISCOVERY_RANGE", None)
    return env


def random_domain_id(rng: random.Random | None = None) -> int:
    """A domain id in 1..232 (Fast DDS's port arithmetic allows up to 232), for one test session or demo."""
    return (rng or random.SystemRandom()).randint(1, 232)
