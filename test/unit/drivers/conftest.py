"""Fixtures for the driver tests: device specs, simulators on 127.0.0.1, an XHand SDK double."""

from __future__ import annotations

import random
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # importlib import mode: make drivers_fixtures importable
from drivers_fixtures import HandCommand_t, XHandControl  # noqa: E402

from unihm_drivers.base import DeviceSpec
from unihm_drivers.bench import BENCH_SPEC
from unihm_drivers.sim.inspire_modbus_server import InspireModbusServer


@pytest.fixture
def inspire_spec() -> DeviceSpec:
    return BENCH_SPEC


@pytest.fixture
def inspire_server():
    with InspireModbusServer(framing="tcp") as server:
        yield server


@pytest.fixture
def inspire_rtu_server():
    with InspireModbusServer(framing="rtu") as server:
        yield server


@pytest.fixture
def xhand_sdk():
    return types.SimpleNamespace(XHandControl=XHandControl, HandCommand_t=HandCommand_t)


# ------------------------------------------------------------------------- franky-sim
def _die_with_parent() -> None:
    """SIGTERM the simulator if pytest dies without tearing down (Linux prctl PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


@pytest.fixture(scope="session")
def franky_sim_host():
    """franky-sim (MuJoCo FR3 + gripper speaking the libfranka protocol) in a subprocess on a random
    127.x.y.z loopback address; the real franky client connects to it. A subprocess, not a thread:
    franky-sim and franky in one process segfaulted here. `--simulator mujoco` because franky-sim
    1.0.4's default "auto" tries Genesis first and fails when it is not installed."""
    pytest.importorskip("franky")
    pytest.importorskip("franky_sim")
    host = f"127.{random.randint(1, 250)}.{random.randint(0, 250)}.{random.randint(1, 250)}"
    proc = subprocess.Popen(
        [sys.executable, "-u", "-m", "franky_sim.run_server", "--simulator", "mujoco", "--hostname", host],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=_die_with_parent,
    )
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"franky-sim exited: {''.join(lines)}")
            lines.append(line)
            if "Connect to the server" in line:
                break
        else:
            pytest.fail(f"franky-sim did not start within 60 s: {''.join(lines)}")
        yield host
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
