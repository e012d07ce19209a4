"""A Modbus server emulating an Inspire RH56 hand on 127.0.0.1, for tests and benchmarks.

Speaks Modbus-TCP (MBAP) or Modbus-RTU framing over TCP (serial code tested on loopback),
function codes 3/4 (read), 6 and 16 (write). The hand model answers from the register map in
`unihm_drivers.inspire_registers` with a first-order actuator response (ANGLE_ACT lags ANGLE_SET
with `time_constant_s`, rate-limited by SPEED_SET), and logs every write so tests can check that
nothing outside 0..1000 was ever sent. `stop()` drops every connection at once (a killed hand);
`start()` again serves on the same port with the same state and log.

Run standalone: `python -m unihm_drivers.sim.inspire_modbus_server --port 6000 [--rtu]`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import struct
import threading
import time
from dataclasses import dataclass

from unihm_drivers import inspire_registers as reg

FULL_RANGE_TIME_S = 0.5  # 0 -> 1000 at SPEED_SET = 1000 (a fast RH56 takes about this)


@dataclass(frozen=True)
class WriteRecord:
    t_s: float
    address: int
    values: tuple[int, ...]


class InspireHandModel:
    """Register state and actuator response of one hand (thread-safe)."""

    def __init__(self, time_constant_s: float = 0.05, clock=time.monotonic) -> None:
        self.time_constant_s = time_constant_s
        self._clock = clock
        self._lock = threading.Lock()
        self.registers: dict[int, int] = {}
        self.writes: list[WriteRecord] = []
        self._angle = [1000.0] * reg.NUM_DOF  # open
        self._t = clock()
        for i in range(reg.NUM_DOF):
            self.registers[reg.ANGLE_SET + i] = 1000
            self.registers[reg.FORCE_SET + i] = 500
            self.registers[reg.SPEED_SET + i] = 1000
        self.registers[reg.HAND_ID] = 1
        self._errors = [0] * reg.NUM_DOF
        self._temps = [35] * reg.NUM_DOF

    def _update(self) -> None:
        now = self._clock()
        dt, self._t = now - self._t, now
        if dt <= 0:
            return
        alpha = 1 - math.exp(-dt / self.time_constant_s)
        for i in range(reg.NUM_DOF):
            target = self.registers[reg.ANGLE_SET + i]
            if target == reg.NO_CHANGE or target > reg.NATIVE_MAX:
                continue
            max_step = self.registers[reg.SPEED_SET + i] / reg.NATIVE_MAX * reg.NATIVE_MAX / FULL_RANGE_TIME_S * dt
            step = max(-max_step, min(max_step, alpha * (target - self._angle[i])))
            self._angle[i] += step
        for i in range(reg.NUM_DOF):
            self.registers[reg.ANGLE_ACT + i] = int(round(self._angle[i]))
            self.registers[reg.FORCE_ACT + i] = 0
        status = []
        for i in range(reg.NUM_DOF):
            target = self.registers[reg.ANGLE_SET + i]
            if self._errors[i]:
                status.append(7)
            elif target == reg.NO_CHANGE or abs(target - self._angle[i]) <= 2:
                status.append(2)
            else:
                status.append(1 if target < self._angle[i] else 0)
        for base, values in ((reg.ERROR, self._errors), (reg.STATUS, status), (reg.TEMP, self._temps)):
            for j, v in enumerate(reg.pack_bytes(values)):
                self.registers[base + j] = v

    def read(self, address: int, count: int) -> list[int]:
        with self._lock:
            self._update()
            return [self.registers.get(address + i, 0) for i in range(count)]

    def write(self, address: int, values: list[int]) -> None:
        with self._lock:
            self._update()
            self.writes.append(WriteRecord(self._clock(), address, tuple(values)))
            for i, v in enumerate(values):
                self.registers[address + i] = v
            if address <= reg.CLEAR_ERROR < address + len(values) and self.registers[reg.CLEAR_ERROR] == 1:
                self._errors = [0] * reg.NUM_DOF

    def inject_error(self, dof: int, bits: int) -> None:
        """Set an actuator error byte (tests)."""
        with self._lock:
            self._errors[dof] = bits

    def angle_set_writes(self) -> list[tuple[int, ...]]:
        """Every 6-value ANGLE_SET block written, in order."""
        with self._lock:
            return [w.values for w in self.writes if w.address == reg.ANGLE_SET]

    def out_of_range_writes(self) -> list[WriteRecord]:
        """Writes to ANGLE/FORCE/SPEED_SET holding a value outside 0..1000 (0xFFFF allowed for angles)."""
        bad = []
        with self._lock:
            for w in self.writes:
                for i, v in enumerate(w.values):
                    a = w.address + i
                    in_angle = reg.ANGLE_SET <= a < reg.ANGLE_SET + reg.NUM_DOF
                    in_cmd = in_angle or any(b <= a < b + reg.NUM_DOF for b in (reg.FORCE_SET, reg.SPEED_SET))
                    if in_cmd and v > reg.NATIVE_MAX and not (in_angle and v == reg.NO_CHANGE):
                        bad.append(w)
                        break
        return bad


def crc16(data: bytes) -> int:
    """Modbus RTU CRC-16 (poly 0xA001, init 0xFFFF); sent low byte first."""
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _handle_pdu(model: InspireHandModel, pdu: bytes) -> bytes:
    fc = pdu[0]
    try:
        if fc in (3, 4):
            address, count = struct.unpack(">HH", pdu[1:5])
            if not 1 <= count <= 125:
                return bytes([fc | 0x80, 3])
            values = model.read(address, count)
            return bytes([fc, 2 * count]) + struct.pack(f">{count}H", *values)
        if fc == 6:
            address, value = struct.unpack(">HH", pdu[1:5])
            model.write(address, [value])
            return pdu[:5]
        if fc == 16:
            address, count, nbytes = struct.unpack(">HHB", pdu[1:6])
            if not 1 <= count <= 123 or nbytes != 2 * count:
                return bytes([fc | 0x80, 3])
            model.write(address, list(struct.unpack(f">{count}H", pdu[6 : 6 + nbytes])))
            return pdu[:5]
    except struct.error:
        return bytes([fc | 0x80, 3])
    return bytes([fc | 0x80, 1])


class InspireModbusServer:
    """Serve `model` on host:port (port 0 picks a free one, kept across restarts)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        framing: str = "tcp",
        device_id: int = 1,
        model: InspireHandModel | None = None,
    ) -> None:
        if framing not in ("tcp", "rtu"):
            raise ValueError(f"framing must be 'tcp' or 'rtu', got {framing!r}")
        self.host, self.port, self.framing, self.device_id = host, port, framing, device_id
        self.model = model or InspireHandModel()
        self.requests = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> InspireModbusServer:
        if self._server is not None:
            return self
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="inspire-sim", daemon=True)
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=5)
        return self

    async def _start(self) -> None:
        handler = self._serve_tcp if self.framing == "tcp" else self._serve_rtu
        self._server = await asyncio.start_server(handler, self.host, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close the listener and abort every connection (like pulling the hand's cable)."""
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = self._server = None

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for w in list(self._writers):
            w.transport.abort()
        self._writers.clear()
        await self._server.wait_closed()

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                header = await reader.readexactly(7)
                tid, pid, length, unit = struct.unpack(">HHHB", header)
                pdu = await reader.readexactly(length - 1)
                if pid != 0 or unit not in (self.device_id, 0xFF):
                    continue
                self.requests += 1
                resp = _handle_pdu(self.model, pdu)
                writer.write(struct.pack(">HHHB", tid, 0, len(resp) + 1, unit) + resp)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _serve_rtu(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                head = await reader.readexactly(2)
                unit, fc = head
                if fc in (3, 4, 6):
                    rest = await reader.readexactly(6)
                elif fc == 16:
                    mid = await reader.readexactly(5)
                    rest = mid + await reader.readexactly(mid[4] + 2)
                else:  # unknown function: cannot know the frame length; resynchronise by dropping
                    continue
                frame = head + rest
                if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little") or unit != self.device_id:
                    continue  # a real slave stays silent on a bad CRC or another id
                self.requests += 1
                body = bytes([unit]) + _handle_pdu(self.model, frame[1:-2])
                writer.write(body + crc16(body).to_bytes(2, "little"))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def __enter__(self) -> InspireModbusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6000)
    p.add_argument("--rtu", action="store_true", help="RTU framing over TCP instead of Modbus-TCP")
    args = p.parse_args(argv)
    server = InspireModbusServer(args.host, args.port, "rtu" if args.rtu else "tcp").start()
    print(f"inspire simulator on {args.host}:{server.port} ({server.framing})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
