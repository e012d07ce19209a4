"""One contract over every backend that runs here: typed not-connected errors, read after
configure, write before activate refused, write returns the clamped command actually sent."""

from __future__ import annotations

import numpy as np
import pytest
from drivers_fixtures import TOY_GRIPPER_SPEC, TOY_GRIPPER_URDF, XHAND_SPEC

from unihm_common.errors import ConfigError, InputError
from unihm_drivers.base import (
    Driver,
    NotActiveError,
    NotConnectedError,
    UnknownBackendError,
    available_backends,
    make_driver,
)
from unihm_drivers.bench import BENCH_SPEC

BACKENDS = [
    "sim_kinematic",
    "inspire_tcp",
    "inspire_rtu_over_tcp",
    "xhand_double",
    "franka_sim",
    "panda_gripper_sim",
    "sim_mujoco",
]


@pytest.fixture(params=BACKENDS)
def driver(request, xhand_sdk) -> Driver:
    kind = request.param
    if kind == "sim_kinematic":
        yield make_driver("sim_kinematic", {}, BENCH_SPEC)
    elif kind.startswith("inspire"):
        framing = "tcp" if kind == "inspire_tcp" else "rtu"
        server = request.getfixturevalue("inspire_server" if framing == "tcp" else "inspire_rtu_server")
        transport = "tcp" if framing == "tcp" else "rtu_over_tcp"
        yield make_driver("inspire_modbus", {"transport": transport, "host": "127.0.0.1", "port": server.port},
                          BENCH_SPEC)
    elif kind == "xhand_double":
        yield make_driver("xhand", {}, XHAND_SPEC, sdk=xhand_sdk)
    elif kind == "franka_sim":
        from unihm_drivers.backends.franka import FR3_SPEC

        host = request.getfixturevalue("franky_sim_host")
        d = make_driver("franka", {"host": host, "realtime": "ignore", "relative_dynamics_factor": 0.2}, FR3_SPEC)
        yield d
        d.close()
        return
    elif kind == "panda_gripper_sim":
        from unihm_drivers.backends.panda_gripper import GRIPPER_SPEC

        host = request.getfixturevalue("franky_sim_host")
        yield make_driver("panda_gripper", {"host": host}, GRIPPER_SPEC)
    elif kind == "sim_mujoco":
        yield make_driver("sim_mujoco", {"urdf_path": str(TOY_GRIPPER_URDF), "realtime": False}, TOY_GRIPPER_SPEC)


def test_not_connected_errors_are_typed_the_same(driver):
    n = driver.spec.num_joints
    for call in (driver.read, lambda: driver.write(np.zeros(n)), driver.activate):
        with pytest.raises(NotConnectedError):
            call()
    driver.configure()
    driver.close()
    with pytest.raises(NotConnectedError):
        driver.read()


def test_read_after_configure(driver):
    driver.configure()
    try:
        s = driver.read()
        n = driver.spec.num_joints
        assert s.positions.shape == s.velocities.shape == s.efforts.shape == (n,)
        assert np.all(np.isfinite(s.positions)) and s.stamp_s > 0
        with pytest.raises(NotActiveError):
            driver.write(s.positions)
    finally:
        driver.close()


def test_write_returns_clamped_command_sent(driver):
    spec = driver.spec
    with driver:
        above = spec.upper + 0.5
        sent = driver.write(above)
        assert sent.shape == (spec.num_joints,)
        assert np.all(sent <= spec.upper + 1e-9) and np.all(sent >= spec.lower - 1e-9)
        np.testing.assert_allclose(sent, spec.upper, atol=2e-3 * (spec.upper - spec.lower).max())
        assert driver.clamp_count == 1
        with pytest.raises(InputError):
            driver.write(np.full(spec.num_joints, np.nan))
    assert not driver.is_connected


def test_registry_lists_every_backend():
    assert set(available_backends()) >= {
        "sim_kinematic", "sim_mujoco", "inspire_modbus", "xhand", "franka", "panda_gripper"
    }
    with pytest.raises(UnknownBackendError, match="known: "):
        make_driver("nope", {}, BENCH_SPEC)


def test_config_is_strict():
    with pytest.raises(ConfigError, match="unknown key 'tau'"):
        make_driver("sim_kinematic", {"tau": 1.0}, BENCH_SPEC)
    with pytest.raises(ConfigError, match="speed must be in 0..1000"):
        make_driver("inspire_modbus", {"speed": 2000}, BENCH_SPEC)
