"""Driver node configuration: backend choice and option mapping (pure, no ROS)."""

import pytest

from unihm_common.errors import ConfigError
from unihm_drivers.node_config import DriverNodeConfig, backend_options, choose_backend

INSPIRE_FIELDS = {"transport", "host", "port", "serial_port", "baudrate", "device_id", "timeout_s", "speed", "force"}


def test_backend_choice():
    assert choose_backend(DriverNodeConfig(hand="x"), ("sim_kinematic", "inspire_modbus")) == "sim_kinematic"
    real = DriverNodeConfig(hand="x", use_sim=False)
    assert choose_backend(real, ("sim_kinematic", "inspire_modbus")) == "inspire_modbus"
    with pytest.raises(ConfigError, match="no real driver backend"):
        choose_backend(real, ("sim_kinematic",))


def test_connection_parameters_map_onto_backend_fields():
    cfg = DriverNodeConfig(hand="x", use_sim=False, serial_port="tcp://127.0.0.1:5020",
                           backend_options={"speed": 800})
    assert backend_options(cfg, "inspire_modbus", INSPIRE_FIELDS) == {
        "speed": 800, "transport": "tcp", "host": "127.0.0.1", "port": 5020}
    rtu = DriverNodeConfig(hand="x", use_sim=False, serial_port="/dev/ttyUSB0")
    assert backend_options(rtu, "inspire_modbus", INSPIRE_FIELDS) == {"serial_port": "/dev/ttyUSB0", "transport": "rtu"}


def test_sim_and_real_options_stay_apart_and_typos_are_named():
    cfg = DriverNodeConfig(hand="x", backend_options={"speed": 800}, sim_options={"time_constant_s": 0.08})
    assert backend_options(cfg, "sim_kinematic", {"time_constant_s", "initial_q_rad"}) == {"time_constant_s": 0.08}
    bad = DriverNodeConfig(hand="x", use_sim=False, backend_options={"sped": 1})
    with pytest.raises(ConfigError, match="backend_options for 'inspire_modbus': unknown key 'sped'"):
        backend_options(bad, "inspire_modbus", INSPIRE_FIELDS)
    with pytest.raises(ConfigError, match="tcp://host:port"):
        backend_options(DriverNodeConfig(hand="x", serial_port="tcp://nohost"), "inspire_modbus", INSPIRE_FIELDS)
