"""A refinement input (hand motion + object cloud + object poses) and its .npz file format.

File format (numpy .npz, written by `save_sequence`, no pickles):

    format          str     "unihm.refine_sequence"
    version         int     1
    hand            str     hand name for `unihm_common.hands.load_hand` (or a label with urdf_xml)
    joint_names     (J,)    str, the column order of q
    t_s             (T,)    float64 seconds, strictly increasing
    q               (T, J)  float64 joint positions (rad), the generated trajectory q^gen
    T_world_wrist   (T,4,4) float64 hand root (wrist) pose in the world
    T_world_object  (T,4,4) float64 object pose in the world (T_tar(t) of the paper)
    object_points   (N, 3)  float64 object cloud in the object frame (m)
    object_normals  (N, 3)  float64 outward unit normals, optional (estimated when absent)
    urdf_xml        str     optional: a URDF to use instead of the hand library (toy hands, tests)
    tip_frames      (F,)    str, optional with urdf_xml: the fingertip frames

`unihm refine` writes the same format with q replaced by the refined trajectory (plus q_gen).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError
from unihm_common.trajectory import HandMotion

FORMAT = "unihm.refine_sequence"
VERSION = 1


@dataclass(frozen=True)
class RefineSequence:
    """Everything Algorithm 1 needs about one episode (see the module docstring for shapes)."""

    motion: HandMotion  # q^gen with t_s and T_world_wrist
    T_world_object: np.ndarray  # (T, 4, 4)
    object_points: np.ndarray  # (N, 3) object frame
    object_normals: np.ndarray | None = None  # (N, 3) outward
    urdf_xml: str | None = None
    tip_frames: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        n = self.motion.num_frames
        T = np.asarray(self.T_world_object, dtype=np.float64)
        if T.shape == (4, 4):
            T = np.broadcast_to(T, (n, 4, 4)).copy()
        if T.shape != (n, 4, 4):
            raise InputError(f"T_world_object must have shape ({n}, 4, 4), got {T.shape}")
        object.__setattr__(self, "T_world_object", T)
        object.__setattr__(self, "object_points", np.asarray(self.object_points, dtype=np.float64))
        if self.object_normals is not None:
            object.__setattr__(self, "object_normals", np.asarray(self.object_normals, dtype=np.float64))
        if self.tip_frames is not None:
            object.__setattr__(self, "tip_frames", tuple(str(s) for s in self.tip_frames))

    @property
    def T_world_wrist(self) -> np.ndarray:
        """(T, 4, 4); identity when the motion has no wrist poses."""
        if self.motion.T_world_wrist is None:
            return np.broadcast_to(np.eye(4), (self.motion.num_frames, 4, 4)).copy()
        return self.motion.T_world_wrist

    def with_q(self, q: np.ndarray) -> RefineSequence:
        """The same episode with another joint trajectory (T, J)."""
        return replace(self, motion=replace(self.motion, q=np.asarray(q, dtype=np.float64), qd=None))

    def chain(self):
        """The `KinematicChain` of this episode: from urdf_xml if present, else the hand library."""
        from unihm_refiner.kinematics import KinematicChain

        if self.urdf_xml is not None:
            return KinematicChain.from_urdf_xml(self.urdf_xml, self.tip_frames or (), name=self.motion.hand)
        return KinematicChain.load(self.motion.hand)

    def cloud(self, **kwargs):
        """The `ObjectCloud` of this episode (kwargs go to `ObjectCloud`)."""
        from unihm_refiner.contact import ObjectCloud

        return ObjectCloud(self.object_points, self.object_normals, **kwargs)


def save_sequence(path: str | Path, seq: RefineSequence, **extra: np.ndarray) -> Path:
    """Write `seq` (and extra arrays, e.g. q_gen) to `path` (.npz)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT), "version": np.array(VERSION), "hand": np.array(seq.motion.hand),
        "joint_names": np.array(seq.motion.joint_names, dtype=str), "t_s": seq.motion.t_s, "q": seq.motion.q,
        "T_world_wrist": seq.T_world_wrist, "T_world_object": seq.T_world_object,
        "object_points": seq.object_points,
    }
    if seq.object_normals is not None:
        arrays["object_normals"] = seq.object_normals
    if seq.urdf_xml is not None:
        arrays["urdf_xml"] = np.array(seq.urdf_xml)
        arrays["tip_frames"] = np.array(seq.tip_frames or (), dtype=str)
    arrays.update({k: np.asarray(v) for k, v in extra.items()})
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_sequence(path: str | Path) -> RefineSequence:
    """Read a file written by `save_sequence`; InputError names what is missing or malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such sequence file")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable .npz file ({exc})") from exc
    with z:
        if "format" not in z or str(z["format"]) != FORMAT:
            raise InputError(f"{path}: not a {FORMAT} file (missing or wrong 'format' entry)")
        need = ("hand", "joint_names", "t_s", "q", "T_world_wrist", "T_world_object", "object_points")
        missing = [k for k in need if k not in z]
        if missing:
            raise InputError(f"{path}: missing entries {missing}")
        motion = HandMotion(hand=str(z["hand"]), joint_names=tuple(str(s) for s in z["joint_names"]),
                            t_s=z["t_s"], q=z["q"], T_world_wrist=z["T_world_wrist"])
        return RefineSequence(
            motion=motion, T_world_object=z["T_world_object"], object_points=z["object_points"],
            object_normals=z["object_normals"] if "object_normals" in z else None,
            urdf_xml=str(z["urdf_xml"]) if "urdf_xml" in z else None,
            tip_frames=tuple(str(s) for s in z["tip_frames"]) if "tip_frames" in z else None,
        )
