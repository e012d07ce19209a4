"""Smooth profiles: minimum-jerk time scaling and SE(3) interpolation (slerp + min-jerk)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation, Slerp


def min_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk phase s(u) = 10u^3 - 15u^4 + 6u^5 on u in [0,1] (zero velocity/acceleration at the ends)."""
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def interp_pose(T0: np.ndarray, T1: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(4,4) poses, phases s (N,) in [0,1] -> (N,4,4): linear translation, slerp rotation, at phase s."""
    s = np.asarray(s, dtype=np.float64)
    rots = Rotation.from_matrix(np.stack([T0[:3, :3], T1[:3, :3]]))
    out = np.tile(np.eye(4), (len(s), 1, 1))
    out[:, :3, :3] = Slerp([0.0, 1.0], rots)(np.clip(s, 0.0, 1.0)).as_matrix()
    out[:, :3, 3] = (1.0 - s)[:, None] * T0[:3, 3] + s[:, None] * T1[:3, 3]
    return out


def pose_segment(T0: np.ndarray, T1: np.ndarray, n: int) -> np.ndarray:
    """n frames from T0 (exclusive) to T1 (inclusive) along a min-jerk profile."""
    return interp_pose(T0, T1, min_jerk(np.arange(1, n + 1) / n))


def blend_segment(q0: np.ndarray, q1: np.ndarray, n: int) -> np.ndarray:
    """n vectors from q0 (exclusive) to q1 (inclusive) along a min-jerk profile: (n, D)."""
    s = min_jerk(np.arange(1, n + 1) / n)[:, None]
    return (1.0 - s) * np.asarray(q0) + s * np.asarray(q1)


def rot(axis: np.ndarray, angle: float) -> np.ndarray:
    """(3,3) rotation of `angle` rad about `axis`."""
    axis = np.asarray(axis, dtype=np.float64)
    return Rotation.from_rotvec(axis / np.linalg.norm(axis) * angle).as_matrix()


def transform(R: np.ndarray | None = None, t: np.ndarray | None = None) -> np.ndarray:
    T = np.eye(4)
    if R is not None:
        T[:3, :3] = R
    if t is not None:
        T[:3, 3] = t
    return T
