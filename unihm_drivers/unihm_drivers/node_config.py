"""The driver node's configuration and the pure decisions it makes (backend choice, options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unihm_common.errors import ConfigError

SIM_BACKENDS = ("sim_kinematic", "sim_mujoco")


@dataclass(frozen=True)
class DriverNodeConfig:
    hand: str  # hand name or alias from the hand library
    use_sim: bool = True  # simulated backend instead of the hand's real one
    backend: str = ""  # explicit backend; "" = sim_backend if use_sim else the hand's first real backend
    sim_backend: str = "sim_kinematic"
    control_rate_hz: float = 100.0  # trajectory interpolation and command rate
    state_rate_hz: float = 50.0  # /joint_states publication rate
    status_rate_hz: float = 2.0  # ~/status (DriverStatus) publication rate
    watchdog_timeout_s: float = 0.5  # streamed commands older than this: hold position
    sim_time_constant_s: float = 0.05  # first-order lag of sim_kinematic
    robot_ip: str = ""  # arm / network devices
    serial_port: str = ""  # "/dev/ttyUSB0" (RTU) or "tcp://host:port" (Modbus-TCP)
    backend_options: dict[str, Any] = field(default_factory=dict)  # passed to the real backend's config
    sim_options: dict[str, Any] = field(default_factory=dict)  # passed to the simulated backend's config
    arm: str = ""  # e.g. "fr3": this node drives the arm carrying `hand` (wrist poses -> IK) instead of the hand
    base_xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)  # T_world_base of the arm: translation, m
    base_rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)  # and roll-pitch-yaw, rad
    # arm mode: `~/go_home` moves the arm here (rad, the arm's joint order); () = the middle of its joint limits
    # (where the simulated arm starts); home_speed_scale x the joint velocity limits at the fastest point
    home_rad: tuple[float, ...] = ()
    home_speed_scale: float = 0.3

    def __post_init__(self) -> None:
        for name in ("control_rate_hz", "state_rate_hz", "status_rate_hz", "watchdog_timeout_s", "home_speed_scale"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")


def choose_backend(config: DriverNodeConfig, hand_backends: tuple[str, ...]) -> str:
    """The backend this node drives: explicit > sim > the hand's first real backend."""
    if config.backend:
        return config.backend
    if config.use_sim:
        return config.sim_backend
    real = [b for b in hand_backends if b not in SIM_BACKENDS]
    if not real:
        raise ConfigError(f"hand {config.hand!r} lists no real driver backend (it has {list(hand_backends)}); "
                          "use use_sim:=true")
    return real[0]


def backend_options(
    config: DriverNodeConfig, backend: str, option_fields: set[str], hand_spec: Any = None
) -> dict[str, Any]:
    """Options for the backend's config: the node's connection parameters mapped onto its fields,
    and for the physics simulator the hand's model (URDF, couplings) from the hand spec."""
    options = dict(config.sim_options if backend in SIM_BACKENDS else config.backend_options)
    if backend == "sim_kinematic":
        options.setdefault("time_constant_s", config.sim_time_constant_s)
    if backend == "sim_mujoco" and hand_spec is not None and not config.arm:
        options.setdefault("urdf_path", str(hand_spec.urdf_path))
        couplings = tuple((j, src, float(r), float(o)) for j, (src, r, o) in hand_spec.coupling.items())
        options.setdefault("couplings", couplings)
    port = config.serial_port
    if port:
        if port.startswith("tcp://") and {"host", "port", "transport"} <= option_fields:
            host, _, num = port[len("tcp://"):].rpartition(":")
            if not host or not num.isdigit():
                raise ConfigError(f"serial_port {port!r} must look like tcp://host:port")
            options.update(transport="tcp", host=host, port=int(num))
        elif "serial_port" in option_fields:
            options["serial_port"] = port
            if "transport" in option_fields:
                options.setdefault("transport", "rtu")
    if config.robot_ip:
        for name in ("robot_ip", "host"):
            if name in option_fields:
                options[name] = config.robot_ip
                break
    unknown = set(options) - option_fields
    if unknown:
        which = "sim_options" if backend in SIM_BACKENDS else "backend_options"
        raise ConfigError(f"{which} for {backend!r}: unknown key {sorted(unknown)[0]!r} "
                          f"(known: {', '.join(sorted(option_fields))})")
    return options


def reorder_columns(names: list[str], values: np.ndarray, wanted: tuple[str, ...], what: str) -> np.ndarray:
    """Pick `wanted` columns out of (…, len(names)) `values`; errors name the missing joints."""
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise ConfigError(f"{what} lacks joints {missing} (has {names})")
    return np.asarray(values, dtype=np.float64)[..., [index[n] for n in wanted]]
