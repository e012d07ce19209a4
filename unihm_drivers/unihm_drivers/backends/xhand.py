"""`xhand`: Robotera XHand (12 DoF) via the vendor SDK `xhand_controller` (RS485 or EtherCAT).

The SDK is a vendor wheel, not on PyPI; it is imported lazily and its absence raises
MissingDependencyError. The driver uses only this part of `xhand_controller.xhand_control`
(tests implement exactly this interface as a double):

    XHandControl()
        .enumerate_devices(protocol: "RS485" | "EtherCAT") -> list[str]
        .open_serial(port: str, baudrate: int) -> ErrorStruct
        .open_ethercat(device: str) -> ErrorStruct
        .list_hands_id() -> list[int]
        .send_command(hand_id: int, cmd: HandCommand_t) -> ErrorStruct
        .read_state(hand_id: int, force_update: bool) -> (ErrorStruct, HandState)
        .close_device() -> None
    HandCommand_t().finger_command[i]  .id .kp .ki .kd .position (rad) .tor_max .mode
    HandState.finger_state[i]          .position (rad) .torque .temperature
    ErrorStruct                         .error_code (0 = ok) .error_message
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from unihm_common.errors import ConfigError, MissingDependencyError
from unihm_drivers.base import DeviceFaultError, DeviceSpec, DeviceUnreachableError, Driver, JointStateSample

NUM_JOINTS = 12
POSITION_MODE = 3


def import_sdk() -> Any:
    """The vendor module `xhand_controller.xhand_control`, or MissingDependencyError."""
    try:
        from xhand_controller import xhand_control
    except ImportError as exc:
        raise MissingDependencyError(
            "the XHand backend needs the vendor SDK 'xhand_controller' (a wheel shipped by Robotera with "
            "the hand, not on PyPI): pip install ./xhand_controller-<version>-cp311-*.whl"
        ) from exc
    return xhand_control


@dataclass(frozen=True)
class XHandConfig:
    transport: Literal["rs485", "ethercat"] = "rs485"
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = 3000000
    hand_id: int | None = None  # None: the first id the bus reports
    kp: tuple[float, ...] = (100.0,)  # per joint (12 values) or one value for all
    ki: tuple[float, ...] = (0.0,)
    kd: tuple[float, ...] = (0.0,)
    torque_limit: tuple[float, ...] = (300.0,)  # SDK tor_max units (mA-like, vendor-defined)

    def __post_init__(self) -> None:
        for name in ("kp", "ki", "kd", "torque_limit"):
            value = getattr(self, name)
            if len(value) not in (1, NUM_JOINTS) or any(v < 0 for v in value):
                raise ConfigError(f"{name} needs 1 or {NUM_JOINTS} values >= 0, got {value}")

    def per_joint(self, name: str) -> np.ndarray:
        return np.broadcast_to(np.asarray(getattr(self, name), dtype=np.float64), (NUM_JOINTS,)).copy()


class XHandDriver(Driver, backend="xhand", config=XHandConfig):
    """Efforts are the SDK's finger_state torque readings (vendor units)."""

    def __init__(self, config: XHandConfig, spec: DeviceSpec, sdk: Any | None = None) -> None:
        super().__init__(config, spec)
        if spec.num_joints != NUM_JOINTS:
            raise ConfigError(f"XHand drives {NUM_JOINTS} joints; spec has {spec.num_joints}")
        self._sdk = sdk
        self._device: Any = None
        self._cmd: Any = None
        self.hand_id: int | None = None

    def _check(self, err: Any, what: str, unreachable: bool = False) -> None:
        if getattr(err, "error_code", 0) != 0:
            cls = DeviceUnreachableError if unreachable else DeviceFaultError
            raise cls(f"XHand {what} failed: {getattr(err, 'error_message', err)} (code {err.error_code})")

    def _connect(self) -> None:
        sdk = self._sdk if self._sdk is not None else import_sdk()
        device = sdk.XHandControl()
        c = self.config
        if c.transport == "rs485":
            self._check(device.open_serial(c.serial_port, c.baudrate), f"open_serial({c.serial_port})", True)
        else:
            names = device.enumerate_devices("EtherCAT")
            if not names:
                raise DeviceUnreachableError("XHand: no EtherCAT device found")
            self._check(device.open_ethercat(names[0]), f"open_ethercat({names[0]})", True)
        ids = list(device.list_hands_id())
        if c.hand_id is None and not ids:
            device.close_device()
            raise DeviceUnreachableError(f"XHand: bus opened on {c.transport} but no hand answered")
        self.hand_id = c.hand_id if c.hand_id is not None else ids[0]
        cmd = sdk.HandCommand_t()
        kp, ki, kd, tor = (c.per_joint(n) for n in ("kp", "ki", "kd", "torque_limit"))
        for i in range(NUM_JOINTS):
            f = cmd.finger_command[i]
            f.id, f.kp, f.ki, f.kd, f.tor_max, f.mode = i, kp[i], ki[i], kd[i], tor[i], POSITION_MODE
        self._device, self._cmd = device, cmd

    def _disconnect(self) -> None:
        if self._device is not None:
            try:
                self._device.close_device()
            finally:
                self._device = None

    def _read(self) -> JointStateSample:
        err, state = self._device.read_state(self.hand_id, True)
        self._check(err, "read_state")
        fingers = [state.finger_state[i] for i in range(NUM_JOINTS)]
        q = np.array([f.position for f in fingers], dtype=np.float64)
        tau = np.array([f.torque for f in fingers], dtype=np.float64)
        return JointStateSample(q, np.zeros(NUM_JOINTS), tau, time.monotonic())

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        for i in range(NUM_JOINTS):
            self._cmd.finger_command[i].position = float(q_rad[i])
        self._check(self._device.send_command(self.hand_id, self._cmd), "send_command")
        return q_rad.copy()
