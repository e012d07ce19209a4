"""Shared constants and the XHand SDK double for the driver tests (imported by conftest and tests)."""

from __future__ import annotations

import types
from pathlib import Path

from unihm_drivers.base import DeviceSpec

FIXTURES = Path(__file__).parent / "fixtures"
TOY_GRIPPER_URDF = FIXTURES / "toy_gripper.urdf"
TOY_GRIPPER_SPEC = DeviceSpec(("left_joint", "right_joint"), (0.0, 0.0), (0.04, 0.04), (0.2, 0.2))
XHAND_SPEC = DeviceSpec(tuple(f"xhand_j{i}" for i in range(12)), (0.0,) * 12, (1.5,) * 12, (4.0,) * 12)


# ------------------------------------------------------------------------- XHand SDK double
class _Err:
    def __init__(self, code: int = 0, message: str = "") -> None:
        self.error_code, self.error_message = code, message


class _FingerCommand:
    def __init__(self) -> None:
        self.id = self.mode = 0
        self.kp = self.ki = self.kd = self.position = self.tor_max = 0.0


class HandCommand_t:  # noqa: N801 - the SDK's name
    def __init__(self) -> None:
        self.finger_command = [_FingerCommand() for _ in range(12)]


class XHandControl:
    """Implements the subset of `xhand_controller.xhand_control.XHandControl` the driver uses."""

    instances: list[XHandControl] = []

    def __init__(self) -> None:
        self.open = False
        self.sent: list[list[float]] = []
        self.gains: list[tuple[float, float, float, float]] = []
        self._q = [0.0] * 12
        self.fail_reads = False
        XHandControl.instances.append(self)

    def enumerate_devices(self, protocol: str) -> list[str]:
        return ["ecat0"] if protocol == "EtherCAT" else ["/dev/ttyUSB0"]

    def open_serial(self, port: str, baudrate: int) -> _Err:
        if port != "/dev/ttyUSB0":
            return _Err(1, f"cannot open {port}")
        self.open = True
        return _Err()

    def open_ethercat(self, name: str) -> _Err:
        self.open = True
        return _Err()

    def list_hands_id(self) -> list[int]:
        return [0] if self.open else []

    def send_command(self, hand_id: int, cmd: HandCommand_t) -> _Err:
        if not self.open:
            return _Err(2, "device closed")
        self.sent.append([f.position for f in cmd.finger_command])
        self.gains = [(f.kp, f.ki, f.kd, f.tor_max) for f in cmd.finger_command]
        self._q = [f.position for f in cmd.finger_command]
        return _Err()

    def read_state(self, hand_id: int, force_update: bool):
        if not self.open or self.fail_reads:
            return _Err(3, "read timeout"), None
        fingers = [types.SimpleNamespace(position=q, torque=0.1, temperature=30) for q in self._q]
        return _Err(), types.SimpleNamespace(finger_state=fingers)

    def close_device(self) -> None:
        self.open = False
