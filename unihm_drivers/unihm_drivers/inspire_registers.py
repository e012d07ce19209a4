"""Inspire RH56DFX / RH56DFTP register map (Modbus holding registers, device id 1, TCP port 6000).

Sources (transcribed by hand and cross-checked in tests against two independent clients):
Inspire "RH56 user manual" §2.4 register table (V1.09) as also transcribed by `pyrh56`
(`rh56_sdk/registers.py`), the RH56DFTP manual PRJ-02-TS-U-010 §2.6 as transcribed by
`inspire-rh56dftp`, and Inspire's Modbus-TCP sample code (`regdict`).

| name        | address | registers | access | unit / range                                        |
|-------------|---------|-----------|--------|-----------------------------------------------------|
| HAND_ID     | 1000    | 1         | R/W    | device id                                           |
| CLEAR_ERROR | 1004    | 1         | W      | write 1 to clear actuator errors                    |
| ANGLE_SET   | 1486    | 6         | R/W    | target angle 0..1000 (1000 = open), 0xFFFF = no-op  |
| FORCE_SET   | 1498    | 6         | R/W    | force threshold 0..1000                             |
| SPEED_SET   | 1522    | 6         | R/W    | speed 0..1000                                       |
| ANGLE_ACT   | 1546    | 6         | R      | actual angle 0..1000                                |
| FORCE_ACT   | 1582    | 6         | R      | actual force, signed int16, grams                   |
| ERROR       | 1606    | 3         | R      | 6 bytes, one per DOF; low byte = even DOF           |
| STATUS      | 1612    | 3         | R      | 6 bytes (0 releasing, 1 grasping, 2 reached, ...)   |
| TEMP        | 1618    | 3         | R      | 6 bytes, degC                                       |

The 6-value blocks are in DOF order little, ring, middle, index, thumb-bend, thumb-rotation.
Addresses are the byte addresses of the serial protocol; over Modbus each register holds one
16-bit value (the 6-short blocks) or two bytes (the byte blocks: low byte first).
"""

from __future__ import annotations

from collections.abc import Sequence

DOF_ORDER = ("little", "ring", "middle", "index", "thumb_bend", "thumb_rotation")
NUM_DOF = 6
NATIVE_MIN = 0
NATIVE_MAX = 1000
NO_CHANGE = 0xFFFF  # -1 as uint16: "leave this DOF where it is"

HAND_ID = 1000
CLEAR_ERROR = 1004
ANGLE_SET = 1486
FORCE_SET = 1498
SPEED_SET = 1522
ANGLE_ACT = 1546
FORCE_ACT = 1582
ERROR = 1606
STATUS = 1612
TEMP = 1618

BYTE_BLOCK_REGISTERS = 3  # ERROR/STATUS/TEMP: 6 bytes in 3 registers

ERROR_BITS = {0: "stall", 1: "over-temperature", 2: "over-current", 3: "motor anomaly", 4: "communication"}
STATUS_TEXT = {
    0: "releasing",
    1: "grasping",
    2: "position reached",
    3: "force reached",
    5: "over-current protection",
    6: "stall",
    7: "actuator fault",
}


def unpack_bytes(registers: Sequence[int]) -> list[int]:
    """3 registers -> 6 per-DOF bytes (low byte first)."""
    out: list[int] = []
    for r in registers:
        out += [r & 0xFF, (r >> 8) & 0xFF]
    return out


def pack_bytes(values: Sequence[int]) -> list[int]:
    """6 per-DOF bytes -> 3 registers (low byte first)."""
    return [(values[i] & 0xFF) | ((values[i + 1] & 0xFF) << 8) for i in range(0, len(values), 2)]


def to_int16(value: int) -> int:
    return value - 0x10000 if value >= 0x8000 else value


def decode_errors(error_bytes: Sequence[int]) -> list[str]:
    """Human-readable actuator errors, e.g. ['index: stall']."""
    return [
        f"{DOF_ORDER[i]}: {text}"
        for i, b in enumerate(error_bytes)
        for bit, text in ERROR_BITS.items()
        if b & (1 << bit)
    ]
