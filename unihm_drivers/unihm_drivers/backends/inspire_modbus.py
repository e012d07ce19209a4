"""`inspire_modbus`: Inspire RH56 hands over Modbus (TCP, RTU serial, or RTU framing over TCP).

Writes ANGLE_SET (6 registers, DOF order little..thumb-rotation) each command, SPEED_SET and
FORCE_SET once on activate; reads ANGLE_ACT and FORCE_ACT every read, ERROR/STATUS/TEMP every
`status_every` reads. Positions map 0..1000 <-> rad through the DeviceSpec's native mapping.
The pymodbus client sits behind `RegisterClient` so tests can inject a double.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from unihm_common.errors import ConfigError
from unihm_drivers import inspire_registers as reg
from unihm_drivers.base import DeviceFaultError, DeviceSpec, DeviceUnreachableError, Driver, JointStateSample

GRAM_TO_N = 9.80665e-3


@dataclass(frozen=True)
class InspireModbusConfig:
    transport: Literal["tcp", "rtu", "rtu_over_tcp"] = "tcp"
    host: str = "192.168.11.210"  # Inspire's factory address for Modbus-TCP
    port: int = 6000
    serial_port: str = "/dev/ttyUSB0"  # transport "rtu" (pyserial URLs such as socket://host:port work)
    baudrate: int = 115200
    device_id: int = 1
    timeout_s: float = 0.2  # per request; a missing reply raises DeviceUnreachableError
    speed: int = 1000  # SPEED_SET written on activate, 0..1000
    force: int = 500  # FORCE_SET written on activate, 0..1000
    status_every: int = 10  # read ERROR/STATUS/TEMP every n reads (1 = every read)
    fault_on_error: bool = True  # actuator error bits raise DeviceFaultError

    def __post_init__(self) -> None:
        for name in ("speed", "force"):
            if not reg.NATIVE_MIN <= getattr(self, name) <= reg.NATIVE_MAX:
                raise ConfigError(f"{name} must be in 0..1000, got {getattr(self, name)}")
        if not 0 < self.port < 65536 or not 0 <= self.device_id <= 247:
            raise ConfigError(f"bad port {self.port} or device_id {self.device_id}")
        if not self.timeout_s > 0 or self.status_every < 1:
            raise ConfigError("timeout_s must be > 0 and status_every >= 1")


@dataclass(frozen=True)
class InspireStatus:
    """Latest ERROR/STATUS/TEMP bytes, per DOF in reg.DOF_ORDER."""

    error: tuple[int, ...]
    status: tuple[int, ...]
    temperature_c: tuple[int, ...]

    @property
    def errors(self) -> list[str]:
        return reg.decode_errors(self.error)


class RegisterClient(Protocol):
    """The thin client the driver uses; `PymodbusRegisterClient` is the real one."""

    def connect(self) -> None: ...
    def close(self) -> None: ...
    def read(self, address: int, count: int) -> list[int]: ...
    def write(self, address: int, values: Sequence[int]) -> None: ...


class PymodbusRegisterClient:
    """Holding-register read/write over pymodbus; every failure becomes a typed driver error."""

    def __init__(self, config: InspireModbusConfig) -> None:
        self.config = config
        self._client = None

    def _where(self) -> str:
        c = self.config
        return c.serial_port if c.transport == "rtu" else f"{c.host}:{c.port} ({c.transport})"

    def connect(self) -> None:
        from pymodbus import FramerType
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        c = self.config
        if c.transport == "rtu":
            client = ModbusSerialClient(c.serial_port, baudrate=c.baudrate, timeout=c.timeout_s, retries=0)
        else:
            framer = FramerType.RTU if c.transport == "rtu_over_tcp" else FramerType.SOCKET
            client = ModbusTcpClient(c.host, port=c.port, framer=framer, timeout=c.timeout_s, retries=0)
        if not client.connect():
            client.close()
            raise DeviceUnreachableError(f"Inspire hand not reachable at {self._where()}: is it powered and cabled?")
        self._client = client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _call(self, method: str, *args, **kwargs):
        from pymodbus.exceptions import ModbusException

        if self._client is None:
            raise DeviceUnreachableError(f"Inspire link to {self._where()} is closed")
        try:
            rr = getattr(self._client, method)(*args, device_id=self.config.device_id, **kwargs)
        except ModbusException as exc:
            raise DeviceUnreachableError(f"Inspire hand at {self._where()}: {exc}") from exc
        except OSError as exc:
            raise DeviceUnreachableError(f"Inspire hand at {self._where()}: {exc}") from exc
        if rr.isError():
            raise DeviceFaultError(f"Inspire hand at {self._where()} answered with a Modbus exception: {rr}")
        return rr

    def read(self, address: int, count: int) -> list[int]:
        rr = self._call("read_holding_registers", address, count=count)
        return list(rr.registers)

    def write(self, address: int, values: Sequence[int]) -> None:
        self._call("write_registers", address, [int(v) for v in values])


class InspireModbusDriver(Driver, backend="inspire_modbus", config=InspireModbusConfig):
    """Efforts are FORCE_ACT in N (grams-force x 9.81e-3); velocities are finite differences."""

    def __init__(self, config: InspireModbusConfig, spec: DeviceSpec, client: RegisterClient | None = None) -> None:
        super().__init__(config, spec)
        if spec.num_joints != reg.NUM_DOF:
            dofs = ", ".join(reg.DOF_ORDER)
            raise ConfigError(f"Inspire drives {reg.NUM_DOF} DOF ({dofs}); spec has {spec.num_joints}")
        if not spec.has_native:
            raise ConfigError("Inspire needs a DeviceSpec with native_at_lower/native_at_upper (0..1000 mapping)")
        self.client: RegisterClient = client if client is not None else PymodbusRegisterClient(config)
        n_lo = spec.rad_to_native(spec.lower)
        n_hi = spec.rad_to_native(spec.upper)
        # Native bounds rounded inward, so quantised commands never leave the rad limits.
        self._native_min = np.maximum(np.ceil(np.minimum(n_lo, n_hi) - 1e-9), reg.NATIVE_MIN).astype(int)
        self._native_max = np.minimum(np.floor(np.maximum(n_lo, n_hi) + 1e-9), reg.NATIVE_MAX).astype(int)
        self.last_status: InspireStatus | None = None
        self.last_native_sent: list[int] | None = None
        self._reads = 0
        self._prev: tuple[float, np.ndarray] | None = None

    def _connect(self) -> None:
        self.client.connect()
        self._reads = 0
        self._prev = None
        try:
            self._read_status()
        except Exception:
            self.client.close()
            raise

    def _enable(self) -> None:
        self.client.write(reg.SPEED_SET, [self.config.speed] * reg.NUM_DOF)
        self.client.write(reg.FORCE_SET, [self.config.force] * reg.NUM_DOF)

    def _disconnect(self) -> None:
        self.client.close()

    def clear_errors(self) -> None:
        """Write CLEAR_ERROR (the actuators' error bytes reset)."""
        self._require_connected("clear_errors")
        self.client.write(reg.CLEAR_ERROR, [1])

    def _read_status(self) -> InspireStatus:
        n = reg.BYTE_BLOCK_REGISTERS
        status = InspireStatus(
            error=tuple(reg.unpack_bytes(self.client.read(reg.ERROR, n))),
            status=tuple(reg.unpack_bytes(self.client.read(reg.STATUS, n))),
            temperature_c=tuple(reg.unpack_bytes(self.client.read(reg.TEMP, n))),
        )
        self.last_status = status
        if self.config.fault_on_error and any(status.error):
            raise DeviceFaultError(f"Inspire actuator errors: {', '.join(status.errors)}; call clear_errors()")
        return status

    def _read(self) -> JointStateSample:
        if self._reads % self.config.status_every == 0:
            self._read_status()
        self._reads += 1
        angle = np.array(self.client.read(reg.ANGLE_ACT, reg.NUM_DOF), dtype=np.float64)
        force_g = np.array([reg.to_int16(v) for v in self.client.read(reg.FORCE_ACT, reg.NUM_DOF)], dtype=np.float64)
        now = time.monotonic()
        q = self.spec.native_to_rad(angle)
        qd = np.zeros_like(q)
        if self._prev is not None and now > self._prev[0]:
            qd = (q - self._prev[1]) / (now - self._prev[0])
        self._prev = (now, q)
        return JointStateSample(q, qd, force_g * GRAM_TO_N, now)

    def native_command(self, q_rad: np.ndarray) -> list[int]:
        """(6,) rad inside limits -> the 6 ANGLE_SET integers (pure; inside 0..1000 by construction)."""
        native = np.rint(self.spec.rad_to_native(q_rad)).astype(int)
        return [int(v) for v in np.clip(native, self._native_min, self._native_max)]

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        native = self.native_command(q_rad)
        self.client.write(reg.ANGLE_SET, native)
        self.last_native_sent = native
        return self.spec.native_to_rad(np.array(native, dtype=np.float64))
