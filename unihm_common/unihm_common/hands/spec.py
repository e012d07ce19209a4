"""HandSpec: one hand.yaml + its URDF, validated together. The single description every stage reads.

The hand.yaml schema is the frozen dataclasses below (loaded strictly through `config.from_dict`:
unknown/missing keys and wrong types name the file and key). `load_hand_spec_file` then checks the
YAML against the URDF (every joint and frame exists, limits inside the URDF's, couplings match the
URDF's <mimic> tags) and raises `ConfigError` naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from unihm_common.config import from_dict, load_yaml
from unihm_common.errors import ConfigError, InputError

LIMIT_TOL = 1e-9  # rad (m): YAML limits may be tighter than the URDF's, never wider


# ------------------------------------------------------------------------------------ hand.yaml schema
@dataclass(frozen=True)
class FramesSection:
    wrist: str  # the URDF root link; FK is expressed in it
    palm: str
    fingertips: tuple[str, ...]
    convention: str = ""


@dataclass(frozen=True)
class JointEntry:
    name: str
    lower: float  # rad (m for prismatic)
    upper: float
    velocity: float  # rad/s (m/s)

    def __post_init__(self) -> None:
        if not self.lower <= self.upper:
            raise ValueError(f"joint {self.name!r}: lower {self.lower} > upper {self.upper}")
        if not self.velocity > 0:
            raise ValueError(f"joint {self.name!r}: velocity must be > 0, got {self.velocity}")


@dataclass(frozen=True)
class CouplingEntry:
    source: str
    ratio: float = 1.0
    offset: float = 0.0


@dataclass(frozen=True)
class CollisionEntry:
    link: str
    shape: Literal["capsule", "sphere", "box"]
    radius: float = 0.0
    start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    end: tuple[float, float, float] = (0.0, 0.0, 0.0)
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    center: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class NativeRange:
    at_lower: float  # native value at the joint's lower limit
    at_upper: float

    def __post_init__(self) -> None:
        if self.at_lower == self.at_upper:
            raise ValueError(f"at_lower and at_upper are both {self.at_lower}")


@dataclass(frozen=True)
class DriverSection:
    backends: tuple[str, ...] = ()
    native_unit: str = "rad"
    native: dict[str, NativeRange] | None = None  # None: the driver speaks the joint units


@dataclass(frozen=True)
class MountSection:
    xyz: tuple[float, float, float] = (0.0, 0.0, 0.0)  # m, wrist frame origin in the arm flange frame
    rpy: tuple[float, float, float] = (0.0, 0.0, 0.0)  # rad, URDF convention


@dataclass(frozen=True)
class HandYaml:
    name: str
    urdf: str  # relative to the hand folder
    side: Literal["right", "left", "none"]
    frames: FramesSection
    joints: tuple[JointEntry, ...]
    actuated: tuple[str, ...]
    driver: DriverSection
    aliases: tuple[str, ...] = ()
    coupling: dict[str, CouplingEntry] = field(default_factory=dict)
    collision: tuple[CollisionEntry, ...] = ()
    keypoints: tuple[str, ...] | None = None
    retargeting: dict[str, Any] | None = None
    mount: MountSection = MountSection()
    sources: tuple[str, ...] = ()


# ------------------------------------------------------------------------------------ URDF facts
@dataclass(frozen=True)
class UrdfJoint:
    name: str
    type: str
    parent: str
    child: str
    lower: float
    upper: float
    velocity: float
    mimic: tuple[str, float, float] | None


def parse_urdf(path: Path) -> tuple[str, set[str], dict[str, UrdfJoint]]:
    """(root link, link names, joints by name) of a URDF; `ConfigError` naming the file if malformed."""
    try:
        robot = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise ConfigError(f"{path}: cannot read URDF: {exc}") from exc
    links = {el.get("name", "") for el in robot.findall("link")}
    joints: dict[str, UrdfJoint] = {}
    children = set()
    for el in robot.findall("joint"):
        name, jtype = el.get("name", ""), el.get("type", "")
        limit, mimic = el.find("limit"), el.find("mimic")
        lo = float(limit.get("lower", 0.0)) if limit is not None else 0.0
        hi = float(limit.get("upper", 0.0)) if limit is not None else 0.0
        vel = float(limit.get("velocity", 0.0)) if limit is not None else 0.0
        mim = None
        if mimic is not None:
            mim = (mimic.get("joint", ""), float(mimic.get("multiplier", 1.0)), float(mimic.get("offset", 0.0)))
        parent, child = el.find("parent"), el.find("child")
        pj = UrdfJoint(name, jtype, parent.get("link", "") if parent is not None else "",
                       child.get("link", "") if child is not None else "", lo, hi, vel, mim)
        joints[name] = pj
        children.add(pj.child)
    roots = sorted(links - children)
    if len(roots) != 1:
        raise ConfigError(f"{path}: URDF must have exactly one root link, found {roots}")
    return roots[0], links, joints


# ------------------------------------------------------------------------------------ HandSpec
@dataclass(frozen=True, eq=False)
class HandSpec:
    """A validated hand description. Arrays are over `joint_names` (J,) or `actuated_joint_names` (A,)."""

    name: str
    yaml_path: Path
    urdf_path: Path
    side: str
    aliases: tuple[str, ...]
    joint_names: tuple[str, ...]
    actuated_joint_names: tuple[str, ...]
    joint_types: tuple[str, ...]  # "revolute" | "prismatic"
    lower_rad: np.ndarray  # (J,) rad (m for prismatic)
    upper_rad: np.ndarray  # (J,)
    velocity_limit_rad_s: np.ndarray  # (J,) rad/s (m/s)
    wrist_frame: str
    palm_frame: str
    fingertip_frames: tuple[str, ...]
    frame_convention: str
    keypoint_frames: tuple[str, ...] | None
    coupling: Mapping[str, tuple[str, float, float]]  # coupled joint -> (source actuated joint, ratio, offset)
    driver_backends: tuple[str, ...]
    native_unit: str
    native_at_lower: np.ndarray | None  # (A,)
    native_at_upper: np.ndarray | None  # (A,)
    collision: tuple[CollisionEntry, ...]
    retargeting: Mapping[str, Any] | None
    mount_xyz: tuple[float, float, float]
    mount_rpy: tuple[float, float, float]
    sources: tuple[str, ...]
    _act_idx: np.ndarray = dataclasses.field(repr=False)  # (A,) positions of actuated joints in joint_names
    _src_col: np.ndarray = dataclasses.field(repr=False)  # (J,) actuated column driving each joint
    _ratio: np.ndarray = dataclasses.field(repr=False)  # (J,)
    _offset: np.ndarray = dataclasses.field(repr=False)  # (J,)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def num_actuated(self) -> int:
        return len(self.actuated_joint_names)

    @property
    def has_native(self) -> bool:
        return self.native_at_lower is not None

    @property
    def actuated_indices(self) -> np.ndarray:
        """(A,) index of each actuated joint in `joint_names`."""
        return self._act_idx.copy()

    # ---------------------------------------------------------------- couplings
    def actuated_to_full(self, q_act: np.ndarray) -> np.ndarray:
        """(..., A) actuated positions -> (..., J) all joints (couplings applied)."""
        q_act = self._check(q_act, self.num_actuated, "actuated positions")
        return q_act[..., self._src_col] * self._ratio + self._offset

    def full_to_actuated(self, q: np.ndarray) -> np.ndarray:
        """(..., J) -> (..., A): the actuated joints' columns."""
        return self._check(q, self.num_joints, "joint positions")[..., self._act_idx]

    # ---------------------------------------------------------------- driver units
    def rad_to_native(self, q_act: np.ndarray) -> np.ndarray:
        """(..., A) actuated rad (m) -> (..., A) driver native units (float; drivers round)."""
        q_act = self._check(q_act, self.num_actuated, "actuated positions")
        if not self.has_native:
            return q_act.copy()
        lo, hi = self.lower_rad[self._act_idx], self.upper_rad[self._act_idx]
        frac = (q_act - lo) / np.where(hi > lo, hi - lo, 1.0)
        return self.native_at_lower + frac * (self.native_at_upper - self.native_at_lower)

    def native_to_rad(self, values: np.ndarray) -> np.ndarray:
        """(..., A) driver native units -> (..., A) actuated rad (m)."""
        values = self._check(values, self.num_actuated, "native values")
        if not self.has_native:
            return values.copy()
        lo, hi = self.lower_rad[self._act_idx], self.upper_rad[self._act_idx]
        frac = (values - self.native_at_lower) / (self.native_at_upper - self.native_at_lower)
        return lo + frac * (hi - lo)

    # ---------------------------------------------------------------- limits
    def clamp(self, q: np.ndarray) -> tuple[np.ndarray, int]:
        """Clip (..., J) positions into the limits; return (clipped, number of entries changed)."""
        q = self._check(q, self.num_joints, "joint positions")
        if not np.all(np.isfinite(q)):
            raise InputError(f"{self.name}: joint positions contain NaN/inf")
        out = np.clip(q, self.lower_rad, self.upper_rad)
        return out, int(np.count_nonzero(out != q))

    def _check(self, x: Any, n: int, what: str) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        if arr.ndim == 0 or arr.shape[-1] != n:
            raise InputError(f"{self.name}: {what} need a last axis of {n}, got shape {arr.shape}")
        return arr

    @classmethod
    def load(cls, name: str) -> HandSpec:
        return load_hand_spec(name)


def load_hand_spec(name: str) -> HandSpec:
    """The validated spec of hand `name` (alias allowed), e.g. `load_hand_spec("inspire")`."""
    from unihm_common.hands.registry import hand_dir

    path = hand_dir(name) / "hand.yaml"
    return _load_cached(path.resolve(), path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _load_cached(path: Path, _mtime_ns: int) -> HandSpec:
    return load_hand_spec_file(path)


def _fail(path: Path, key: str, msg: str) -> ConfigError:
    return ConfigError(f"{path}: key {key!r}: {msg}")


def load_hand_spec_file(path: str | Path) -> HandSpec:
    """Load and validate one hand.yaml (and the URDF it names) into a `HandSpec`."""
    path = Path(path)
    raw = load_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    y = from_dict(HandYaml, raw, source=str(path))
    if y.name != path.parent.name:
        raise _fail(path, "name", f"{y.name!r} must equal the folder name {path.parent.name!r}")
    urdf_path = (path.parent / y.urdf).resolve()
    if not urdf_path.is_file():
        raise _fail(path, "urdf", f"file {urdf_path} not found")
    root, links, ujoints = parse_urdf(urdf_path)
    movable = {n for n, j in ujoints.items() if j.type != "fixed"}

    names = [j.name for j in y.joints]
    for i, j in enumerate(y.joints):
        if j.name not in ujoints:
            raise _fail(path, f"joints[{i}].name", f"joint {j.name!r} is not in {urdf_path.name}")
        uj = ujoints[j.name]
        if uj.type not in ("revolute", "prismatic"):
            raise _fail(path, f"joints[{i}].name", f"joint {j.name!r} has type {uj.type!r}; "
                        "only revolute and prismatic joints are supported")
        if j.lower < uj.lower - LIMIT_TOL or j.upper > uj.upper + LIMIT_TOL:
            raise _fail(path, f"joints[{i}]", f"limits [{j.lower}, {j.upper}] of {j.name!r} exceed the URDF's "
                        f"[{uj.lower}, {uj.upper}]")
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise _fail(path, "joints", f"joint {dup!r} listed twice")
    missing = sorted(movable - set(names))
    if missing:
        raise _fail(path, "joints", f"URDF joints {missing} are missing (list every non-fixed joint)")

    for i, a in enumerate(y.actuated):
        if a not in names:
            raise _fail(path, f"actuated[{i}]", f"{a!r} is not in joints")
    pos = [names.index(a) for a in y.actuated]
    if pos != sorted(pos) or len(set(pos)) != len(pos):
        raise _fail(path, "actuated", "actuated joints must be unique and in the canonical (joints) order")
    coupled = [n for n in names if n not in y.actuated]
    if sorted(coupled) != sorted(y.coupling):
        raise _fail(path, "coupling", f"every non-actuated joint needs exactly one coupling entry; "
                    f"non-actuated: {coupled}, coupling keys: {sorted(y.coupling)}")
    for n, c in y.coupling.items():
        if c.source not in y.actuated:
            raise _fail(path, f"coupling.{n}.source", f"{c.source!r} is not an actuated joint")
        src_j, dst_j = y.joints[names.index(c.source)], y.joints[names.index(n)]
        img = sorted((c.ratio * src_j.lower + c.offset, c.ratio * src_j.upper + c.offset))
        if img[0] < dst_j.lower - 1e-6 or img[1] > dst_j.upper + 1e-6:
            raise _fail(path, f"coupling.{n}", f"maps {c.source!r}'s range onto [{img[0]:.6g}, {img[1]:.6g}], "
                        f"outside {n!r}'s limits [{dst_j.lower}, {dst_j.upper}]")
        um = ujoints[n].mimic
        if um is not None and (um[0] != c.source or abs(um[1] - c.ratio) > 1e-9 or abs(um[2] - c.offset) > 1e-9):
            raise _fail(path, f"coupling.{n}", f"does not match the URDF <mimic> {um}")
    for n in names:
        if ujoints[n].mimic is not None and n not in y.coupling:
            raise _fail(path, "coupling", f"URDF joint {n!r} has a <mimic> tag but is not coupled here")

    fr = y.frames
    if fr.wrist != root:
        raise _fail(path, "frames.wrist", f"{fr.wrist!r} must be the URDF root link {root!r}")
    checks = [("frames.palm", fr.palm)] + [(f"frames.fingertips[{i}]", f) for i, f in enumerate(fr.fingertips)]
    checks += [(f"keypoints[{i}]", k) for i, k in enumerate(y.keypoints or ())]
    checks += [(f"collision[{i}].link", c.link) for i, c in enumerate(y.collision)]
    for key in ("target_link_names", "target_origin_link_names", "target_task_link_names"):
        checks += [(f"retargeting.{key}[{i}]", v) for i, v in enumerate((y.retargeting or {}).get(key) or [])]
    for key, link in checks:
        if link not in links:
            raise _fail(path, key, f"link {link!r} is not in {urdf_path.name}")
    if not fr.fingertips:
        raise _fail(path, "frames.fingertips", "list at least one fingertip frame")
    for i, jn in enumerate((y.retargeting or {}).get("target_joint_names") or []):
        if jn not in names:
            raise _fail(path, f"retargeting.target_joint_names[{i}]", f"{jn!r} is not in joints")

    native_lo = native_hi = None
    if y.driver.native is not None:
        if sorted(y.driver.native) != sorted(y.actuated):
            raise _fail(path, "driver.native", f"needs one entry per actuated joint {list(y.actuated)}; "
                        f"got {sorted(y.driver.native)}")
        native_lo = np.array([y.driver.native[a].at_lower for a in y.actuated])
        native_hi = np.array([y.driver.native[a].at_upper for a in y.actuated])

    act_idx = np.array(pos, dtype=np.int64)
    col = {a: i for i, a in enumerate(y.actuated)}
    src_col, ratio, offset = [], [], []
    for n in names:
        c = y.coupling.get(n)
        src_col.append(col[c.source] if c else col[n])
        ratio.append(c.ratio if c else 1.0)
        offset.append(c.offset if c else 0.0)

    def arr(vals) -> np.ndarray:
        a = np.array(vals, dtype=np.float64)
        a.setflags(write=False)
        return a

    return HandSpec(
        name=y.name, yaml_path=path.resolve(), urdf_path=urdf_path, side=y.side, aliases=y.aliases,
        joint_names=tuple(names), actuated_joint_names=tuple(y.actuated),
        joint_types=tuple(ujoints[n].type for n in names),
        lower_rad=arr([j.lower for j in y.joints]), upper_rad=arr([j.upper for j in y.joints]),
        velocity_limit_rad_s=arr([j.velocity for j in y.joints]),
        wrist_frame=fr.wrist, palm_frame=fr.palm, fingertip_frames=fr.fingertips, frame_convention=fr.convention,
        keypoint_frames=y.keypoints,
        coupling={n: (c.source, c.ratio, c.offset) for n, c in y.coupling.items()},
        driver_backends=y.driver.backends, native_unit=y.driver.native_unit,
        native_at_lower=None if native_lo is None else arr(native_lo),
        native_at_upper=None if native_hi is None else arr(native_hi),
        collision=y.collision, retargeting=y.retargeting, mount_xyz=y.mount.xyz, mount_rpy=y.mount.rpy,
        sources=y.sources, _act_idx=act_idx, _src_col=np.array(src_col, dtype=np.int64),
        _ratio=arr(ratio), _offset=arr(offset),
    )
