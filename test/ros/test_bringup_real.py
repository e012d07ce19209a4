"""`unihm bringup --real` drives the Inspire hand over Modbus-TCP with the hand's own parameter file."""

import signal
import subprocess
import sys
import time

import pytest


def test_bringup_real_inspire_applies_the_hand_parameter_file(tmp_path):
    hands = pytest.importorskip("unihm_common.hands")
    if "inspire_right" not in hands.available_hands():
        pytest.skip("hand library not present")
    from unihm_drivers import inspire_registers as reg
    from unihm_drivers.sim.inspire_modbus_server import InspireModbusServer

    server = InspireModbusServer(port=0).start()
    proc = subprocess.Popen([sys.executable, "-m", "unihm_common.cli", "bringup", "--hand", "inspire", "--real",
                             "--serial-port", f"tcp://127.0.0.1:{server.port}", "--log-dir", str(tmp_path)],
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        log = tmp_path / "hand_driver.log"
        while time.monotonic() < deadline and not (log.is_file() and "ready" in log.read_text()):
            time.sleep(0.1)
        assert "backend inspire_modbus" in log.read_text()
        writes = {w.address: w.values for w in server.model.writes}
        # launch/config/inspire_right.yaml: speed 1000, force 500, written on activate
        assert writes[reg.SPEED_SET] == (1000,) * 6 and writes[reg.FORCE_SET] == (500,) * 6
        time.sleep(0.5)
        assert server.model.angle_set_writes(), "the control loop never commanded the hand"
        assert not server.model.out_of_range_writes()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        if proc.poll() is None:
            proc.kill()
        server.stop()
