"""Smooth SE(3) object trajectory from a pick pose to a place pose: lift, carry, place.

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
    lift_height_m: float = 0.10  # carry height above the higher of the two end points
    lift_duration_s: float = 1.0
    place_duration_s: float = 1.0
    carry_speed_m_s: float = 0.25  # mean speed of the carry segment
    min_carry_duration_s: float = 1.0
    rate_hz: float = 30.0

    def __post_init__(self) -> None:
        if min(self.lift_duration_s, self.place_duration_s, self.carry_speed_m_s, self.min_carry_duration_s,
               self.rate_hz) <= 0 or self.lift_height_m < 0:
            raise ConfigError("durations, speed and rate must be > 0 and lift_height_m >= 0")


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
    bounds = np.concatenate([[0.0], np.cumsum(durations)])
    n = int(np.ceil(bounds[-1] * config.rate_hz)) + 1
    t = np.linspace(0.0, bounds[-1], n)  # (T,)
    seg = np.clip(np.searchsorted(bounds, t, side="right") - 1, 0, 2)  # (T,)
    s = min_jerk((t - bounds[seg]) / durations[seg])  # (T,)
    starts, ends = np.stack([p0, p1, p2]), np.stack([p1, p2, p3])
    pos = starts[seg] + s[:, None] * (ends[seg] - starts[seg])  # (T, 3)
    rotvec = Rotation.from_matrix(A[:3, :3].T @ B[:3, :3]).as_rotvec()
    s_rot = np.where(seg == 0, 0.0, np.where(seg == 2, 1.0, s))  # rotate only while carrying
    R = A[:3, :3] @ Rotation.from_rotvec(s_rot[:, None] * rotvec).as_matrix()  # (T, 3, 3)
    return t, make_transform(R, pos)
