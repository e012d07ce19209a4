"""Thin access to the hand library (unihm_common.hands + unihm_description) used by this package.

The library's `load_hand_spec` is preferred; until it exists, a minimal spec is read from the hand
folder's hand.yaml (name, side, URDF, joint order, frames, retargeting section).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.config import load_yaml
from unihm_common.errors import ConfigError


@dataclass(frozen=True)
class HandInfo:
    """What the data pipeline needs of a hand: names, joint order and the retargeting settings."""

    name: str
    side: str  # "right", "left" or "none" (grippers)
    urdf_path: Path
    joint_names: tuple[str, ...]
    actuated_joint_names: tuple[str, ...]
    lower_rad: np.ndarray  # (J,)
    upper_rad: np.ndarray  # (J,)
    wrist_frame: str
    fingertip_frames: tuple[str, ...]
    retargeting: dict[str, Any]
    T_wrist_mount: np.ndarray  # (4,4) robot root pose in the human wrist frame (identity: shared convention;
    # hand.yaml `mount` is the wrist in the arm flange frame, a different transform)


def available_hands() -> list[str]:
    from unihm_common.hands import available_hands as _available

    return list(_available())


def load_hand_info(name: str) -> HandInfo:
    """Read hand `name` (alias allowed) from its folder; raises `UnknownHandError` / `ConfigError`."""
    from unihm_common.hands import hand_dir

    folder = hand_dir(name)
    path = folder / "hand.yaml"
    data = load_yaml(path)
    try:
        joints = data["joints"]
        frames = data["frames"]
        retargeting = dict(data.get("retargeting") or {})
        info = HandInfo(
            name=str(data["name"]),
            side=str(data.get("side", "none")),
            urdf_path=(folder / data["urdf"]).resolve(),
            joint_names=tuple(j["name"] for j in joints),
            actuated_joint_names=tuple(data.get("actuated") or [j["name"] for j in joints]),
            lower_rad=np.array([float(j["lower"]) for j in joints]),
            upper_rad=np.array([float(j["upper"]) for j in joints]),
            wrist_frame=str(frames["wrist"]),
            fingertip_frames=tuple(frames.get("fingertips", ())),
            retargeting=retargeting,
            T_wrist_mount=np.eye(4),  # every hand.yaml states the same root-frame convention as the MANO chain
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: missing or malformed key {exc}") from exc
    if not info.retargeting and info.name.startswith("mano_"):
        # the MANO chain itself: its 21 keypoint frames are the targets (a round trip: FK -> retarget)
        info.retargeting.update(type="position", urdf_path=str(info.urdf_path), low_pass_alpha=1.0,
                                target_link_names=list(data.get("keypoints", [])),
                                target_link_human_indices=list(range(len(data.get("keypoints", [])))))
    if info.retargeting and "urdf_path" in info.retargeting:
        info.retargeting["urdf_path"] = str((folder / info.retargeting["urdf_path"]).resolve())
    if info.retargeting and "target_joint_names" not in info.retargeting and (
            len(info.actuated_joint_names) < len(info.joint_names)):
        # dex-retargeting refuses mimic joints among its targets: optimise the actuated ones only
        info.retargeting["target_joint_names"] = list(info.actuated_joint_names)
    return info
