"""Smooth SE(3) object trajectory from a pick pose to a place pose: hold, lift, carry, place, rest.

The object first rests at the pick pose for `grasp_hold_s` (the hand reaches it and closes its grasp: no hand
can carry an object it has not reached yet) and ends resting at the place pose for `release_hold_s` (the hand
lets go and withdraws), as in the policy's training data (object at rest for the first 1.2-2.0 s and the
last 0.55-0.8 s of a placing sequence).

Each of the three segments uses the minimum-jerk time scaling s(t) = 10 t^3 - 15 t^4 + 6 t^5, which starts
and ends at rest with zero acceleration, so the whole path is C2 (position, velocity and acceleration
continuous) with bounded jerk. Rotation follows the SO(3) geodesic (SLERP) with the same scaling during the
carry segment: R(t) = R0 exp(s(t) log(R0^T R1)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from unihm_common.errors import ConfigError, InputError
from unihm_common.se3 import make_transform


@dataclass(frozen=True)
class TrajectoryConfig:
    grasp_hold_s: float = 1.6  # object at rest while the hand reaches and grasps (data: 1.2-2.0 s, mean 1.6)
    release_hold_s: float = 0.7  # object at rest at the goal while the hand lets go (data: 0.55-0.8 s)
    lift_height_m: float = 0.10  # carry height above the higher of the two end points
    lift_duration_s: float = 0.6
    place_duration_s: float = 0.6
    carry_speed_m_s: float = 0.25  # mean speed of the carry segment
    min_carry_duration_s: float = 1.0
    rate_hz: float = 30.0

    def __post_init__(self) -> None:
        if min(self.lift_duration_s, self.place_duration_s, self.carry_speed_m_s, self.min_carry_duration_s,
               self.rate_hz) <= 0 or self.lift_height_m < 0 or min(self.grasp_hold_s, self.release_hold_s) < 0:
            raise ConfigError("durations, speed and rate must be > 0; lift_height_m and the holds >= 0")


def min_jerk(tau: np.ndarray) -> np.ndarray:
    """Minimum-jerk scaling of normalised time tau in [0, 1] (clipped)."""
    t = np.clip(tau, 0.0, 1.0)
    return t**3 * (10 - 15 * t + 6 * t**2)


def min_jerk_peak_jerk(distance: float, duration_s: float) -> float:
    """Largest |d3x/dt3| of a minimum-jerk move: 60 d / T^3 (at t = 0 and t = T)."""
    return 60.0 * distance / duration_s**3


def plan_object_trajectory(T_world_pick: np.ndarray, T_world_place: np.ndarray,
                           config: TrajectoryConfig = TrajectoryConfig()) -> tuple[np.ndarray, np.ndarray]:
    """(4,4) start and goal object poses (world) -> times t_s (T,) and T_world_object (T, 4, 4)."""
    A, B = np.asarray(T_world_pick, float), np.asarray(T_world_place, float)
    if A.shape != (4, 4) or B.shape != (4, 4) or not (np.all(np.isfinite(A)) and np.all(np.isfinite(B))):
        raise InputError("pick and place poses must be finite (4, 4) transforms")
    p0, p3 = A[:3, 3], B[:3, 3]
    z = max(p0[2], p3[2]) + config.lift_height_m
    p1, p2 = np.array([p0[0], p0[1], z]), np.array([p3[0], p3[1], z])
    carry_s = max(config.min_carry_duration_s, np.linalg.norm(p2 - p1) / config.carry_speed_m_s)
    durations = np.array([config.lift_duration_s, carry_s, config.place_duration_s])
    hold = config.grasp_hold_s
    bounds = hold + np.concatenate([[0.0], np.cumsum(durations)])
    end = bounds[-1] + config.release_hold_s
    n = int(np.ceil(end * config.rate_hz)) + 1
    t = np.linspace(0.0, end, n)  # (T,)
    seg = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, 2)  # (T,); the hold reads as lift at s = 0
    s = min_jerk((t - bounds[seg]) / durations[seg])  # (T,) min_jerk clips: 0 / 1 during the holds
    starts, ends = np.stack([p0, p1, p2]), np.stack([p1, p2, p3])
    pos = starts[seg] + s[:, None] * (ends[seg] - starts[seg])  # (T, 3)
    rotvec = Rotation.from_matrix(A[:3, :3].T @ B[:3, :3]).as_rotvec()
    s_rot = np.where(seg == 0, 0.0, np.where(seg == 2, 1.0, s))  # rotate only while carrying
    R = A[:3, :3] @ Rotation.from_rotvec(s_rot[:, None] * rotvec).as_matrix()  # (T, 3, 3)
    return t, make_transform(R, pos)
