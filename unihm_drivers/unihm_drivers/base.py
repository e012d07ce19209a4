"""The driver interface: lifecycle, typed state samples, typed errors, device limits, backend registry.

Every device backend subclasses `Driver` with `backend="<name>"` and a frozen config dataclass; the
class registers itself, so `make_driver("inspire_modbus", {...}, spec)` needs no if/elif factory.

Lifecycle (maps onto rclpy LifecycleNode transitions):
    configure()  open the link           UNCONFIGURED -> INACTIVE
    activate()   enable motion           INACTIVE -> ACTIVE
    read()       measured state          INACTIVE | ACTIVE
    write(q)     clamp + send, returns the command actually sent (ACTIVE only)
    stop()       hold the measured position
    deactivate() disable motion          ACTIVE -> INACTIVE
    close()      drop the link           any -> CLOSED (configure() may be called again)
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError, UnihmError


# ---------------------------------------------------------------------------------------------- errors
class DriverError(UnihmError):
    """Base class of every error a driver raises on purpose."""


class NotConnectedError(DriverError, ConnectionError):
    """read/write/activate before configure() or after close(): call configure() first."""


class NotActiveError(DriverError):
    """write() while the driver is configured but not activated: call activate() first."""


class DeviceFaultError(DriverError):
    """The device reports a fault (error bits, reflex, SDK error code) or the link broke mid-use."""


class DeviceUnreachableError(DeviceFaultError, ConnectionError):
    """The device cannot be reached (no server at host:port, serial port missing, robot off)."""


class UnknownBackendError(DriverError, KeyError):
    """A backend name is not registered (the message lists the known backends)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


# ---------------------------------------------------------------------------------------------- data
@dataclass(frozen=True)
class JointStateSample:
    """One measured state, columns in `DeviceSpec.joint_names` order.

    positions: (N,) rad (m for prismatic joints such as a gripper width).
    velocities: (N,) rad/s (m/s).
    efforts: (N,) N·m or N, backend-specific (documented per backend); zeros when not measured.
    stamp_s: time.monotonic() when the sample was taken.
    """

    positions: np.ndarray
    velocities: np.ndarray
    efforts: np.ndarray
    stamp_s: float

    def __post_init__(self) -> None:
        for name in ("positions", "velocities", "efforts"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), dtype=np.float64).reshape(-1))
        n = self.positions.shape[0]
        if self.velocities.shape != (n,) or self.efforts.shape != (n,):
            raise InputError(
                f"sample arrays disagree: positions {self.positions.shape}, "
                f"velocities {self.velocities.shape}, efforts {self.efforts.shape}"
            )


@dataclass(frozen=True)
class DeviceSpec:
    """What a driver needs to know about its joints; built directly or from a HandSpec.

    Arrays are over `joint_names` (the device's actuated joints, in command order).
    Native units (e.g. Inspire 0..1000) map linearly: `native_at_lower` is the native value at
    `lower_rad`, `native_at_upper` at `upper_rad` (either may be the larger: Inspire's 1000 is open).
    """

    joint_names: tuple[str, ...]
    lower_rad: tuple[float, ...]
    upper_rad: tuple[float, ...]
    velocity_limit_rad_s: tuple[float, ...]
    native_at_lower: tuple[float, ...] | None = None
    native_at_upper: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        if n == 0:
            raise ConfigError("DeviceSpec needs at least one joint")
        if len(set(self.joint_names)) != n:
            raise ConfigError(f"DeviceSpec joint names repeat: {self.joint_names}")
        for name in ("lower_rad", "upper_rad", "velocity_limit_rad_s", "native_at_lower", "native_at_upper"):
            value = getattr(self, name)
            if value is None:
                continue
            value = tuple(float(v) for v in np.asarray(value, dtype=np.float64).reshape(-1))
            if len(value) != n:
                raise ConfigError(f"DeviceSpec.{name} has {len(value)} values for {n} joints")
            if not all(np.isfinite(value)):
                raise ConfigError(f"DeviceSpec.{name} holds NaN or inf: {value}")
            object.__setattr__(self, name, value)
        object.__setattr__(self, "joint_names", tuple(self.joint_names))
        if any(lo > hi for lo, hi in zip(self.lower_rad, self.upper_rad)):
            raise ConfigError(f"DeviceSpec lower limits exceed upper: {self.lower_rad} > {self.upper_rad}")
        if any(v <= 0 for v in self.velocity_limit_rad_s):
            raise ConfigError(f"DeviceSpec velocity limits must be > 0: {self.velocity_limit_rad_s}")
        if (self.native_at_lower is None) != (self.native_at_upper is None):
            raise ConfigError("DeviceSpec: give both native_at_lower and native_at_upper, or neither")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def lower(self) -> np.ndarray:  # (N,) rad
        return np.array(self.lower_rad)

    @property
    def upper(self) -> np.ndarray:  # (N,) rad
        return np.array(self.upper_rad)

    @property
    def velocity_limit(self) -> np.ndarray:  # (N,) rad/s
        return np.array(self.velocity_limit_rad_s)

    @property
    def has_native(self) -> bool:
        return self.native_at_lower is not None

    def rad_to_native(self, q_rad: np.ndarray) -> np.ndarray:
        """(N,) rad -> (N,) native units (float; the backend rounds)."""
        if not self.has_native:
            raise ConfigError("this DeviceSpec has no native unit mapping")
        lo, hi = self.lower, self.upper
        span = np.where(hi > lo, hi - lo, 1.0)
        frac = (np.asarray(q_rad, dtype=np.float64) - lo) / span
        n_lo, n_hi = np.array(self.native_at_lower), np.array(self.native_at_upper)
        return n_lo + frac * (n_hi - n_lo)

    def native_to_rad(self, native: np.ndarray) -> np.ndarray:
        """(N,) native units -> (N,) rad."""
        if not self.has_native:
            raise ConfigError("this DeviceSpec has no native unit mapping")
        n_lo, n_hi = np.array(self.native_at_lower), np.array(self.native_at_upper)
        span = np.where(n_hi != n_lo, n_hi - n_lo, 1.0)
        frac = (np.asarray(native, dtype=np.float64) - n_lo) / span
        return self.lower + frac * (self.upper - self.lower)

    @classmethod
    def from_hand_spec(cls, spec: Any, native_range: tuple[float, float] | None = None) -> DeviceSpec:
        """Build from a `unihm_common.hands` HandSpec (its actuated joints, in actuated order).

        `native_range` (e.g. (0, 1000) for Inspire) samples `spec.rad_to_native` at the limits to
        get the linear native mapping; omit it for devices commanded in radians.
        """
        names = list(spec.joint_names)
        idx = [names.index(n) for n in spec.actuated_joint_names]
        lower = np.asarray(spec.lower_rad)[idx]
        upper = np.asarray(spec.upper_rad)[idx]
        vel = np.asarray(spec.velocity_limit_rad_s)[idx]
        n_lo = n_hi = None
        if native_range is not None:
            n_lo = tuple(float(v) for v in np.asarray(spec.rad_to_native(lower), dtype=np.float64))
            n_hi = tuple(float(v) for v in np.asarray(spec.rad_to_native(upper), dtype=np.float64))
        return cls(
            joint_names=tuple(spec.actuated_joint_names),
            lower_rad=tuple(lower),
            upper_rad=tuple(upper),
            velocity_limit_rad_s=tuple(vel),
            native_at_lower=n_lo,
            native_at_upper=n_hi,
        )


class DriverState(enum.Enum):
    UNCONFIGURED = "unconfigured"
    INACTIVE = "inactive"
    ACTIVE = "active"
    CLOSED = "closed"


# ---------------------------------------------------------------------------------------------- registry
_BACKENDS: dict[str, type[Driver]] = {}


def available_backends() -> list[str]:
    """Names of every backend in `unihm_drivers.backends` (importing them lets them register)."""
    _import_backend_modules()
    return sorted(_BACKENDS)


def backend_class(name: str) -> type[Driver]:
    """The Driver subclass registered as `name`."""
    if name not in _BACKENDS:
        _import_backend_modules()
    if name not in _BACKENDS:
        raise UnknownBackendError(f"unknown driver backend {name!r}; known: {', '.join(sorted(_BACKENDS))}")
    return _BACKENDS[name]


def make_driver(name: str, config: Any, spec: DeviceSpec, **kwargs: Any) -> Driver:
    """Build backend `name` from a config object or a dict (strictly checked), and `spec`.

    `kwargs` go to the backend's constructor (e.g. `client=` to inject a test double).
    """
    cls = backend_class(name)
    if isinstance(config, dict):
        config = from_dict(cls.config_cls, config, source=f"driver {name!r}")
    elif not isinstance(config, cls.config_cls):
        raise ConfigError(f"driver {name!r} needs a {cls.config_cls.__name__} or a dict, got {type(config)}")
    return cls(config, spec, **kwargs)


def _import_backend_modules() -> None:
    from unihm_drivers import backends

    for info in pkgutil.iter_modules(backends.__path__):
        importlib.import_module(f"{backends.__name__}.{info.name}")


# ---------------------------------------------------------------------------------------------- driver
class Driver(ABC):
    """One device. Subclasses implement the `_`-prefixed hooks; this class enforces the lifecycle,
    rejects NaN/inf, clamps every command to the position limits and returns what was sent."""

    backend: ClassVar[str]
    config_cls: ClassVar[type]

    def __init_subclass__(cls, backend: str | None = None, config: type | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        if backend is None:
            return
        if backend in _BACKENDS and _BACKENDS[backend] is not cls:
            raise DriverError(f"driver backend {backend!r} registered twice ({_BACKENDS[backend]} and {cls})")
        if config is None or not dataclasses.is_dataclass(config):
            raise DriverError(f"backend {backend!r} must pass config=<frozen dataclass>")
        cls.backend = backend
        cls.config_cls = config
        _BACKENDS[backend] = cls

    def __init__(self, config: Any, spec: DeviceSpec) -> None:
        self.config = config
        self.spec = spec
        self.state = DriverState.UNCONFIGURED
        self.clamp_count = 0  # commands whose positions were clamped to limits (warning counter)

    # -- hooks ---------------------------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> None:
        """Open the link; raise DeviceUnreachableError naming where it looked."""

    def _enable(self) -> None:
        """Enable motion (torque on); default nothing."""
        return None

    def _disable(self) -> None:
        """Disable motion; default nothing."""
        return None

    @abstractmethod
    def _disconnect(self) -> None:
        """Close the link; must not raise when the link is already broken."""

    @abstractmethod
    def _read(self) -> JointStateSample:
        """Measure the state."""

    @abstractmethod
    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        """Send (N,) rad already inside limits; return the command actually sent (after quantisation)."""

    # -- lifecycle -----------------------------------------------------------------------------
    def configure(self) -> None:
        """Open the link (idempotent when already configured)."""
        if self.state in (DriverState.INACTIVE, DriverState.ACTIVE):
            return
        self._connect()
        self.state = DriverState.INACTIVE

    def activate(self) -> None:
        self._require_connected("activate")
        if self.state is DriverState.ACTIVE:
            return
        self._enable()
        self.state = DriverState.ACTIVE

    def deactivate(self) -> None:
        if self.state is DriverState.ACTIVE:
            try:
                self._disable()
            finally:
                self.state = DriverState.INACTIVE

    def close(self) -> None:
        """Deactivate and drop the link; safe to call twice or after a fault."""
        if self.state in (DriverState.UNCONFIGURED, DriverState.CLOSED):
            self.state = DriverState.CLOSED
            return
        try:
            self.deactivate()
        except DriverError:
            pass
        finally:
            self._disconnect()
            self.state = DriverState.CLOSED

    @property
    def is_connected(self) -> bool:
        return self.state in (DriverState.INACTIVE, DriverState.ACTIVE)

    def read(self) -> JointStateSample:
        """The measured state (N,) in `spec.joint_names` order."""
        self._require_connected("read")
        return self._read()

    def write(self, q_rad: Sequence[float] | np.ndarray) -> np.ndarray:
        """Clamp (N,) rad to the limits, send, and return the (N,) command actually sent."""
        self._require_connected("write")
        if self.state is not DriverState.ACTIVE:
            raise NotActiveError(f"{self.backend}: write() before activate()")
        from unihm_drivers.safety import clamp_positions, reject_non_finite

        q = reject_non_finite(q_rad, self.spec.num_joints, what=f"{self.backend} command")
        q, n_clamped = clamp_positions(q, self.spec.lower, self.spec.upper)
        if n_clamped:
            self.clamp_count += 1
        return self._write(q)

    def stop(self) -> np.ndarray:
        """Hold the measured position; returns the command sent."""
        sample = self.read()
        if self.state is not DriverState.ACTIVE:
            return sample.positions
        return self.write(sample.positions)

    def _require_connected(self, what: str) -> None:
        if not self.is_connected:
            raise NotConnectedError(f"{self.backend}: {what}() while {self.state.value}; call configure() first")

    def __enter__(self) -> Driver:
        self.configure()
        self.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


ClientFactory = Callable[[Any], Any]
"""Builds the thin SDK/protocol client from a backend config (inject a double in tests)."""

__all__ = [
    "ClientFactory",
    "DeviceFaultError",
    "DeviceSpec",
    "DeviceUnreachableError",
    "Driver",
    "DriverError",
    "DriverState",
    "JointStateSample",
    "NotActiveError",
    "NotConnectedError",
    "UnknownBackendError",
    "available_backends",
    "backend_class",
    "make_driver",
]
