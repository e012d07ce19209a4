"""Arms (`arms/<name>/arm.yaml` + URDF) and arm+hand chains composed at the flange.

`load_arm_hand("fr3", "inspire")` appends the hand's Pinocchio model to the arm's at the flange frame,
placed by the hand's `mount` (hand.yaml). Joint order: the arm's joints, then the hand's canonical order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unihm_common.config import from_dict, load_yaml
from unihm_common.errors import ConfigError, UnknownHandError
from unihm_common.hands.model import Hand, Kinematics, import_pinocchio, load_hand
from unihm_common.hands.spec import DriverSection, JointEntry, parse_urdf
from unihm_description import arms_dirs


@dataclass(frozen=True)
class ArmYaml:
    name: str
    urdf: str
    base_frame: str
    flange_frame: str
    joints: tuple[JointEntry, ...]
    driver: DriverSection = DriverSection()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class ArmSpec:
    name: str
    urdf_path: Path
    base_frame: str
    flange_frame: str
    joint_names: tuple[str, ...]
    lower_rad: np.ndarray  # (7,)
    upper_rad: np.ndarray
    velocity_limit_rad_s: np.ndarray
    driver_backends: tuple[str, ...]


def available_arms() -> list[str]:
    return sorted({d.name for root in arms_dirs() for d in root.iterdir() if (d / "arm.yaml").is_file()})


def load_arm_spec(name: str) -> ArmSpec:
    """Validated spec of arm `name` (e.g. "fr3")."""
    for root in arms_dirs():
        path = root / name / "arm.yaml"
        if path.is_file():
            break
    else:
        raise UnknownHandError(f"unknown arm {name!r}; known arms: {', '.join(available_arms())}")
    y = from_dict(ArmYaml, load_yaml(path), source=str(path))
    urdf = (path.parent / y.urdf).resolve()
    root, links, joints = parse_urdf(urdf)
    if y.base_frame != root:
        raise ConfigError(f"{path}: key 'base_frame': {y.base_frame!r} must be the URDF root {root!r}")
    if y.flange_frame not in links:
        raise ConfigError(f"{path}: key 'flange_frame': link {y.flange_frame!r} is not in {urdf.name}")
    for i, j in enumerate(y.joints):
        uj = joints.get(j.name)
        if uj is None or uj.type == "fixed":
            raise ConfigError(f"{path}: key 'joints[{i}].name': {j.name!r} is not a movable joint of {urdf.name}")
        if j.lower < uj.lower - 1e-9 or j.upper > uj.upper + 1e-9:
            raise ConfigError(f"{path}: key 'joints[{i}]': limits exceed the URDF's")
    return ArmSpec(y.name, urdf, y.base_frame, y.flange_frame, tuple(j.name for j in y.joints),
                   np.array([j.lower for j in y.joints]), np.array([j.upper for j in y.joints]),
                   np.array([j.velocity for j in y.joints]), y.driver.backends)


class ArmHand(Kinematics):
    """An arm with a hand at its flange. FK is in the arm base frame; joints = arm joints + hand joints."""

    def __init__(self, arm: ArmSpec, hand: Hand) -> None:
        pin = import_pinocchio()
        arm_model = pin.buildModelFromUrdf(str(arm.urdf_path))
        s = hand.spec
        mount = pin.SE3(pin.rpy.rpyToMatrix(np.array(s.mount_rpy)), np.array(s.mount_xyz))
        model = pin.appendModel(arm_model, hand.model, arm_model.getFrameId(arm.flange_frame), mount)
        super().__init__(model, arm.joint_names + s.joint_names, s.fingertip_frames, f"{arm.name}+{s.name}")
        self.arm = arm
        self.hand = hand
        self.lower_rad = np.concatenate([arm.lower_rad, s.lower_rad])  # (7 + J,)
        self.upper_rad = np.concatenate([arm.upper_rad, s.upper_rad])
        self.T_flange_wrist = mount.homogeneous  # (4, 4) hand root in the flange frame


def load_arm_hand(arm: str, hand: str) -> ArmHand:
    """Compose arm `arm` (e.g. "fr3") with hand `hand` (e.g. "inspire_right") at the flange."""
    return ArmHand(load_arm_spec(arm), load_hand(hand))
