"""`unihm bench drivers [--json] [--seconds S] [--rate-hz R]`: control-loop rate and jitter.

Per backend (`sim`: sim_kinematic; `inspire_modbus_tcp`: the Inspire driver over Modbus-TCP against
the simulator on 127.0.0.1, ephemeral port): a producer thread streams setpoints at the control
rate (10 % of them outside the limits, to exercise the clamps) into a ControlLoop for `--seconds`.
Reports rate_hz, jitter p50/p99 (|tick start - absolute deadline|), commands_lost and
limit_violations (commands sent outside limits; for Modbus also out-of-range register writes in
the simulator's log).
"""

from __future__ import annotations

import argparse
import threading
import time
from typing import Any

import numpy as np

from unihm_drivers.base import DeviceSpec, Driver, make_driver
from unihm_drivers.control_loop import ControlLoop, ControlLoopConfig

# An Inspire-like 6-DOF hand: 0..1.4 rad fingers, 0..1.2 rad thumb rotation, 1000 = open.
BENCH_SPEC = DeviceSpec(
    joint_names=("little", "ring", "middle", "index", "thumb_bend", "thumb_rotation"),
    lower_rad=(0.0,) * 6,
    upper_rad=(1.4, 1.4, 1.4, 1.4, 0.6, 1.2),
    velocity_limit_rad_s=(3.0,) * 6,
    native_at_lower=(1000.0,) * 6,
    native_at_upper=(0.0,) * 6,
)


def setpoints(n: int, spec: DeviceSpec, rate_hz: float, outside_every: int = 10) -> np.ndarray:
    """(n, N) smooth setpoints; every `outside_every`-th one is pushed 0.3 rad past the upper limit."""
    t = np.arange(n)[:, None] / rate_hz
    mid, amp = (spec.lower + spec.upper) / 2, (spec.upper - spec.lower) / 2 * 0.8
    q = mid + amp * np.sin(2 * np.pi * 0.5 * t + np.arange(spec.num_joints))
    if outside_every:
        q[::outside_every] = spec.upper + 0.3
    return q


def stream(loop: ControlLoop, q: np.ndarray, rate_hz: float, drain_timeout_s: float = 5.0) -> None:
    """Push each row of `q` at `rate_hz` (absolute deadlines, half a period out of phase with the
    loop so the two threads do not contend for the GIL at the same instant), then wait for the
    loop to drain."""
    t0 = time.perf_counter() + 0.5 / rate_hz
    for k, row in enumerate(q):
        delay = t0 + k / rate_hz - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        loop.push_setpoint(row)
    end = time.perf_counter() + drain_timeout_s
    while loop.pending and time.perf_counter() < end:
        time.sleep(0.001)


def measure(driver: Driver, seconds: float, rate_hz: float) -> dict[str, Any]:
    loop = ControlLoop(driver, ControlLoopConfig(rate_hz=rate_hz))
    q = setpoints(int(seconds * rate_hz), driver.spec, rate_hz)
    with loop:
        producer = threading.Thread(target=stream, args=(loop, q, rate_hz))
        producer.start()
        producer.join()
        time.sleep(2 / rate_hz)
    s = loop.stats
    lost = s.commands_lost + (s.commands_received - s.commands_sent - s.commands_lost)
    return {
        **{k: round(v, 4) for k, v in s.timing().items()},
        "ticks": s.ticks,
        "overruns": s.overruns,
        "commands_received": s.commands_received,
        "commands_sent": s.commands_sent,
        "commands_lost": lost,
        "limit_violations": s.safety.limit_violations,
        "position_clamps": s.safety.position_clamps,
        "velocity_clamps": s.safety.velocity_clamps,
        "faults": s.faults,
    }


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="unihm bench drivers")
    p.add_argument("--seconds", type=float, default=5.0, help="streaming time per backend")
    p.add_argument("--rate-hz", type=float, default=100.0)
    args = p.parse_args(argv)
    from unihm_drivers.sim.inspire_modbus_server import InspireModbusServer

    result: dict[str, Any] = {"seconds": args.seconds, "control_rate_hz": args.rate_hz}
    sim = make_driver("sim_kinematic", {}, BENCH_SPEC)
    result["sim"] = measure(sim, args.seconds, args.rate_hz)
    sim.close()
    with InspireModbusServer(framing="tcp") as server:
        drv = make_driver("inspire_modbus", {"host": "127.0.0.1", "port": server.port}, BENCH_SPEC)
        r = measure(drv, args.seconds, args.rate_hz)
        drv.close()
        r["limit_violations"] += len(server.model.out_of_range_writes())
        r["modbus_requests"] = server.requests
    result["inspire_modbus_tcp"] = r
    return result
