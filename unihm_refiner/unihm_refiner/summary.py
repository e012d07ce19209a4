"""What a refined (or generated) trajectory does to the object: fingertip contacts and quality metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.se3 import invert_transform
from unihm_refiner.contact import ObjectCloud


@dataclass(frozen=True)
class ContactSummary:
    """Per frame t and fingertip f. Positions in the world frame, distances signed (negative inside)."""

    tips_world: np.ndarray  # (T, F, 3) m
    signed_distance_m: np.ndarray  # (T, F)
    in_contact: np.ndarray  # (T, F) bool: |d| <= contact_band_m
    contact_ratio: float  # fraction of frames with at least one fingertip in contact
    max_penetration_mm: float
    mean_jerk_rad_s3: float


def summarize_contacts(
    tips_wrist: np.ndarray,
    T_world_wrist: np.ndarray,
    T_world_object: np.ndarray,
    cloud: ObjectCloud,
    q: np.ndarray,
    t_s: np.ndarray,
    contact_band_m: float = 0.005,
) -> ContactSummary:
    """tips_wrist (T,F,3) fingertips in the hand root frame; poses (T,4,4); q (T,J); t_s (T,)."""
    tips_world = np.einsum("tij,tfj->tfi", T_world_wrist[:, :3, :3], tips_wrist) + T_world_wrist[:, None, :3, 3]
    T_obj_world = invert_transform(T_world_object)  # (T,4,4)
    tips_obj = np.einsum("tij,tfj->tfi", T_obj_world[:, :3, :3], tips_world) + T_obj_world[:, None, :3, 3]
    n_t, n_f, _ = tips_obj.shape
    d = cloud.signed_distance(tips_obj.reshape(-1, 3)).reshape(n_t, n_f)
    contact = np.abs(d) <= contact_band_m
    return ContactSummary(
        tips_world=tips_world,
        signed_distance_m=d,
        in_contact=contact,
        contact_ratio=float(contact.any(axis=1).mean()) if n_t else 0.0,
        max_penetration_mm=float(max(0.0, -d.min(initial=0.0)) * 1e3),
        mean_jerk_rad_s3=mean_jerk(q, t_s),
    )


def mean_jerk(q: np.ndarray, t_s: np.ndarray) -> float:
    """Mean |third derivative| of q over time (finite differences on a uniform grid), rad/s^3."""
    if len(t_s) < 4:
        return 0.0
    dt = float(np.median(np.diff(t_s)))
    return float(np.abs(np.diff(q, n=3, axis=0)).mean() / dt**3)
