"""Thin access to the hand library (unihm_common.hands + unihm_description) used by this package.

The validated spec comes from the library's `load_hand_spec` (hand.yaml + URDF checks); `HandInfo` is the
small view of it this package uses, with the retargeting section made ready for dex-retargeting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


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
    """Read hand `name` (alias allowed) through `load_hand_spec`; raises `UnknownHandError` / `ConfigError`."""
    from unihm_common.hands import hand_dir, load_hand_spec

    spec = load_hand_spec(name)
    folder = hand_dir(name)
    retargeting = dict(spec.retargeting or {})
    info = HandInfo(
        name=spec.name,
        side=spec.side,
        urdf_path=spec.urdf_path,
        joint_names=tuple(spec.joint_names),
        actuated_joint_names=tuple(spec.actuated_joint_names),
        lower_rad=np.array(spec.lower_rad, dtype=float),
        upper_rad=np.array(spec.upper_rad, dtype=float),
        wrist_frame=spec.wrist_frame,
        fingertip_frames=tuple(spec.fingertip_frames),
        retargeting=retargeting,
        T_wrist_mount=np.eye(4),  # every hand.yaml states the same root-frame convention as the MANO chain
    )
    keypoints = list(spec.keypoint_frames or ())
    if not info.retargeting and info.name.startswith("mano_") and keypoints:
        # the MANO chain itself: its 21 keypoint frames are the targets (a round trip: FK -> retarget, ~0 mm).
        # normal_delta 0: dex-retargeting 0.5.0 adds the q-q_prev penalty to the gradient but not to the
        # objective value, which misleads SLSQP's line search (8 mm round-trip error with the default 4e-3)
        info.retargeting.update(type="position", urdf_path=str(info.urdf_path), low_pass_alpha=1.0,
                                normal_delta=0.0, target_link_names=keypoints,
                                target_link_human_indices=list(range(len(keypoints))))
    if info.retargeting and "urdf_path" in info.retargeting:
        info.retargeting["urdf_path"] = str((folder / info.retargeting["urdf_path"]).resolve())
    if info.retargeting and "target_joint_names" not in info.retargeting and (
            len(info.actuated_joint_names) < len(info.joint_names)):
        # dex-retargeting refuses mimic joints among its targets: optimise the actuated ones only
        info.retargeting["target_joint_names"] = list(info.actuated_joint_names)
    return info
