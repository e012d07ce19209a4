"""Execution timing of a hand trajectory: slow down what a robot cannot follow at the generated rate.

Generated motions come at human speed (30 frames/s from HOI data): a wrist can move 1 m/s and turn 15 rad/s,
which no arm follows. `retime` stretches each segment to the longest of its nominal duration, its wrist
travel over a Cartesian speed limit, its wrist rotation over an angular rate limit and its largest joint
step over that joint's velocity limit, so slow parts keep their timing and only fast parts are slowed (the
per-segment form of an industrial speed-scaling override). `with_approach` shifts the trajectory so the
drivers first move from where they are to the first point (JointTrajectoryController semantics: a first
point at t > 0 is reached by interpolating from the current position).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from unihm_common.errors import InputError
from unihm_common.trajectory import HandMotion


@dataclass(frozen=True)
class SpeedLimits:
    wrist_linear_m_s: float = 0.3  # Cartesian wrist speed
    wrist_angular_rad_s: float = 1.5  # wrist rotation rate
    joint_velocity_scale: float = 0.8  # fraction of each hand joint's velocity limit

    def __post_init__(self) -> None:
        if min(self.wrist_linear_m_s, self.wrist_angular_rad_s, self.joint_velocity_scale) <= 0:
            raise InputError(f"speed limits must be > 0, got {self}")


def rotation_angles(R: np.ndarray) -> np.ndarray:
    """(T,3,3) rotations -> (T-1,) angle of each relative rotation R_i^T R_{i+1}, rad."""
    rel = np.einsum("tji,tjk->tik", R[:-1], R[1:])
    cos = np.clip((np.trace(rel, axis1=1, axis2=2) - 1.0) / 2.0, -1.0, 1.0)
    return np.arccos(cos)


def segment_durations(t_s: np.ndarray, q: np.ndarray | None = None, qd_max: np.ndarray | None = None,
                      T_wrist: np.ndarray | None = None, limits: SpeedLimits = SpeedLimits()) -> np.ndarray:
    """(T-1,) duration of each segment under `limits`: never shorter than the nominal one."""
    t_s = np.asarray(t_s, dtype=np.float64)
    if t_s.ndim != 1 or len(t_s) < 2 or np.any(np.diff(t_s) <= 0) or not np.all(np.isfinite(t_s)):
        raise InputError("t_s must hold at least 2 finite, strictly increasing times")
    need = np.diff(t_s)
    if q is not None:
        q = np.asarray(q, dtype=np.float64)
        if qd_max is None or q.shape != (len(t_s), len(qd_max)):
            raise InputError(f"q {q.shape} needs one velocity limit per column and one row per time")
        if np.any(np.asarray(qd_max) <= 0):
            raise InputError("joint velocity limits must be > 0")
        steps = np.abs(np.diff(q, axis=0)) / (np.asarray(qd_max, dtype=np.float64) * limits.joint_velocity_scale)
        need = np.maximum(need, steps.max(axis=1))
    if T_wrist is not None:
        T_wrist = np.asarray(T_wrist, dtype=np.float64)
        if T_wrist.shape != (len(t_s), 4, 4):
            raise InputError(f"wrist poses {T_wrist.shape} do not match {len(t_s)} times")
        lin = np.linalg.norm(np.diff(T_wrist[:, :3, 3], axis=0), axis=1) / limits.wrist_linear_m_s
        ang = rotation_angles(T_wrist[:, :3, :3]) / limits.wrist_angular_rad_s
        need = np.maximum(need, np.maximum(lin, ang))
    return need


def retime(motion: HandMotion, qd_max: np.ndarray, limits: SpeedLimits = SpeedLimits()) -> HandMotion:
    """`motion` with each segment stretched to respect `limits` (qd_max: velocity limit per joint column)."""
    if len(motion.t_s) < 2:
        return motion
    dt = segment_durations(motion.t_s, motion.q, qd_max, motion.T_world_wrist, limits)
    t = motion.t_s[0] + np.concatenate([[0.0], np.cumsum(dt)])
    qd = None
    if motion.qd is not None:  # velocities scale with the local slow-down
        scale = np.concatenate([[1.0], np.diff(motion.t_s) / dt])
        qd = motion.qd * scale[:, None]
    return replace(motion, t_s=t, qd=qd)


def with_approach(motion: HandMotion, approach_s: float) -> HandMotion:
    """`motion` starting at `approach_s` after the trajectory's stamp (drivers move to the first point first)."""
    if not approach_s >= 0:
        raise InputError(f"approach time must be >= 0 s, got {approach_s}")
    return replace(motion, t_s=motion.t_s - motion.t_s[0] + approach_s)
