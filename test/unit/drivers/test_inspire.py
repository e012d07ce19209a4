"""Inspire over Modbus against the simulator: exact vendor registers, read-back, independent clients."""

from __future__ import annotations

import time

import numpy as np
import pytest

from unihm_drivers import inspire_registers as reg
from unihm_drivers.base import DeviceFaultError, DeviceUnreachableError, make_driver


def _driver(server, spec, transport="tcp", **extra):
    return make_driver("inspire_modbus", {"transport": transport, "host": "127.0.0.1", "port": server.port,
                                          **extra}, spec)


@pytest.mark.parametrize("transport", ["tcp", "rtu_over_tcp"])
def test_writes_exactly_the_vendor_registers_and_reads_back(request, inspire_spec, transport):
    server = request.getfixturevalue("inspire_server" if transport == "tcp" else "inspire_rtu_server")
    q = np.array([0.0, 0.35, 0.7, 1.05, 0.3, 1.2])  # little, ring, middle, index, thumb bend, thumb rotation
    expected = [1000, 750, 500, 250, 500, 0]  # 1000 = open = lower limit
    with _driver(server, inspire_spec, transport, speed=900, force=400) as drv:
        sent = drv.write(q)
        np.testing.assert_allclose(sent, q, atol=1e-3)
        writes = [(w.address, w.values) for w in server.model.writes]
        assert writes == [
            (reg.SPEED_SET, (900,) * 6),
            (reg.FORCE_SET, (400,) * 6),
            (reg.ANGLE_SET, tuple(expected)),
        ]
        assert [server.model.registers[reg.ANGLE_SET + i] for i in range(6)] == expected
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            s = drv.read()
            if np.allclose(s.positions, q, atol=0.01):
                break
            time.sleep(0.02)
        np.testing.assert_allclose(s.positions, q, atol=0.01)
        assert drv.last_status is not None and drv.last_status.temperature_c == (35,) * 6


def test_status_error_bits_raise_a_typed_fault(inspire_server, inspire_spec):
    with _driver(inspire_server, inspire_spec, status_every=1) as drv:
        inspire_server.model.inject_error(3, 0b1)
        with pytest.raises(DeviceFaultError, match="index: stall"):
            drv.read()
        drv.clear_errors()
        drv.read()


def test_unreachable_server_is_a_clear_error(inspire_spec):
    from unihm_drivers.sim.inspire_modbus_server import InspireModbusServer

    server = InspireModbusServer().start()
    port = server.port
    server.stop()
    drv = make_driver("inspire_modbus", {"host": "127.0.0.1", "port": port, "timeout_s": 0.2}, inspire_spec)
    with pytest.raises(DeviceUnreachableError, match=f"127.0.0.1:{port}"):
        drv.configure()


def test_simulator_agrees_with_an_independent_client(inspire_server):
    """inspire-rh56dftp (its own raw-socket Modbus-TCP code and register table) drives the simulator."""
    dftp = pytest.importorskip("inspire_rh56dftp")
    hand = dftp.InspireHand(ip="127.0.0.1", port=inspire_server.port, min_send_interval_s=0.0, min_change=0)
    try:
        assert hand.send_raw([100, 200, 300, 400, 500, 600])
        assert [inspire_server.model.registers[reg.ANGLE_SET + i] for i in range(6)] == [100, 200, 300, 400, 500, 600]
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            act = hand.read_holding(dftp.registers.ANGLE_ACT, 6)
            if act == [100, 200, 300, 400, 500, 600]:
                break
            time.sleep(0.02)
        assert act == [100, 200, 300, 400, 500, 600]
    finally:
        hand.close()


def test_register_table_matches_independent_transcriptions():
    dftp = pytest.importorskip("inspire_rh56dftp.registers")
    rh56 = pytest.importorskip("rh56_sdk.registers")
    assert (dftp.ANGLE_SET, dftp.ANGLE_ACT, dftp.FORCE_ACT, dftp.SPEED_SET) == (
        reg.ANGLE_SET, reg.ANGLE_ACT, reg.FORCE_ACT, reg.SPEED_SET)
    assert (rh56.REG_ANGLE_SET, rh56.REG_FORCE_SET, rh56.REG_SPEED_SET, rh56.REG_ANGLE_ACT, rh56.REG_FORCE_ACT,
            rh56.REG_ERROR, rh56.REG_STATUS, rh56.REG_TEMP, rh56.REG_CLEAR_ERROR) == (
        reg.ANGLE_SET, reg.FORCE_SET, reg.SPEED_SET, reg.ANGLE_ACT, reg.FORCE_ACT,
        reg.ERROR, reg.STATUS, reg.TEMP, reg.CLEAR_ERROR)
    assert len(dftp.DOF_ORDER) == reg.NUM_DOF and dftp.DOF_ORDER[-2:] == ["thumb_bend", "thumb_rotation"]
