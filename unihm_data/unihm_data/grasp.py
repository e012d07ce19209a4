"""Grasp synthesis on the MANO chain: place the palm against the object, close each finger until contact.

The hand is a set of spheres: along every bone (radius 8-9 mm, tapering to 2 mm at the fingertip
keypoint, which MANO places on the finger's surface) and a palm grid. A finger stops closing when any
of its spheres touches the scene (object SDF united with the table plane z = 0), so no keypoint of a
closed finger lies inside the object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unihm_data.human_hand import HumanHand
from unihm_data.keypoints import FINGER_CHAINS

SceneSDF = Callable[[np.ndarray], np.ndarray]  # (N,3) world points -> (N,) m

_FRACTIONS = (0.0, 0.5)  # interior sphere positions along each bone (plus the end keypoints)
_TIP_RADII = np.array([0.008, 0.0065, 0.0045, 0.002])  # distal bone: DIP .. tip keypoint
CONTACT_TOL_M = 0.003  # a finger is "in contact" when a distal sphere is within 3 mm of the surface


def _palm_grid(side: str) -> np.ndarray:
    xs, zs = np.linspace(-0.03, 0.025, 4), np.linspace(0.015, 0.085, 4)
    grid = np.array([[x, -0.004, z] for x in xs for z in zs])
    if side == "left":
        grid[:, 0] *= -1
    return grid


@dataclass(frozen=True)
class HandSpheres:
    """Sphere centres (N,3) in the frame of the keypoints given, radii (N,), owning finger (-1: palm)."""

    centres: np.ndarray
    radii: np.ndarray
    finger: np.ndarray
    distal: np.ndarray  # bool: on the distal phalanx (used for contact flags)


def hand_spheres(kp: np.ndarray, side: str) -> HandSpheres:
    """Collision spheres of a hand posed as keypoints kp (21,3) (wrist frame or world frame alike)."""
    centres, radii, finger, distal = [], [], [], []
    for f, chain in enumerate(FINGER_CHAINS):
        r = 0.009 if f == 0 else 0.008
        for j in range(1, 4):
            a, b = kp[chain[j - 1]], kp[chain[j]]
            if j < 3:
                for fr in _FRACTIONS:
                    centres.append(a + fr * (b - a))
                    radii.append(r)
                    finger.append(f)
                    distal.append(False)
            else:
                for fr, rr in zip(np.linspace(0.0, 1.0, 4), _TIP_RADII):
                    centres.append(a + fr * (b - a))
                    radii.append(rr if fr > 0 else r)
                    finger.append(f)
                    distal.append(True)
    return HandSpheres(np.array(centres), np.array(radii), np.array(finger), np.array(distal))


def palm_spheres_world(T_world_wrist: np.ndarray, side: str) -> tuple[np.ndarray, np.ndarray]:
    grid = _palm_grid(side)
    return grid @ T_world_wrist[:3, :3].T + T_world_wrist[:3, 3], np.full(len(grid), 0.011)


def to_world(T: np.ndarray, p: np.ndarray) -> np.ndarray:
    return p @ T[:3, :3].T + T[:3, 3]


def clearance(hand: HumanHand, q: np.ndarray, T_world_wrist: np.ndarray, sdf: SceneSDF) -> float:
    """Smallest (signed distance - sphere radius) over the whole hand, m (negative: penetration)."""
    kp = to_world(T_world_wrist, hand.keypoints(q))
    sph = hand_spheres(kp, hand.side)
    palm, pr = palm_spheres_world(T_world_wrist, hand.side)
    return float(min(np.min(sdf(sph.centres) - sph.radii), np.min(sdf(palm) - pr)))


def place_hand(hand: HumanHand, q_open: np.ndarray, R_world_wrist: np.ndarray, target_world: np.ndarray,
               grasp_point_wrist: np.ndarray, approach_dir: np.ndarray, sdf: SceneSDF,
               margin_m: float = 0.002) -> np.ndarray:
    """Slide the open hand along `approach_dir` (world, unit) until it is `margin_m` from the scene.

    The hand's `grasp_point_wrist` (a point in front of the palm, wrist frame) travels on the line
    through `target_world`. Returns T_world_wrist (4,4).
    """

    def pose(back_m: float) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = R_world_wrist
        T[:3, 3] = target_world - R_world_wrist @ grasp_point_wrist - back_m * approach_dir
        return T

    free, hit = 0.40, None
    for back in np.arange(0.40, -0.06, -0.005):
        if clearance(hand, q_open, pose(back), sdf) < margin_m:
            hit = back
            break
        free = back
    if hit is None:
        return pose(free)
    for _ in range(12):
        mid = 0.5 * (free + hit)
        if clearance(hand, q_open, pose(mid), sdf) < margin_m:
            hit = mid
        else:
            free = mid
    return pose(free)


def close_fingers(hand: HumanHand, q_open: np.ndarray, q_closed: np.ndarray, T_world_wrist: np.ndarray,
                  sdf: SceneSDF, margin_m: float = 0.0005, iters: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """Close every finger from q_open towards q_closed until its spheres touch the scene.

    Returns q (20,) at contact and q after the first (all-joint) closing stage (20,): animate through it.
    """
    q = np.array(q_open, dtype=np.float64)
    q_stage1 = q.copy()
    # stage 1 closes all joints of a finger; if a proximal segment stops it before the distal phalanx
    # touches, the distal joints keep curling (stages 2-3), as a real finger wraps around an object
    stages = ((0, 1, 2, 3), (2, 3), (3,))
    for f in range(5):
        q_from = q.copy()
        for stage, joints in enumerate(stages):
            cols = [4 * f + j for j in joints]

            def posed(s: float, cols=cols, q_from=q_from) -> np.ndarray:
                qq = q_from.copy()
                qq[cols] = (1 - s) * q_from[cols] + s * q_closed[cols]
                return qq

            def gap(s: float, posed=posed, f=f) -> tuple[float, float]:
                kp = to_world(T_world_wrist, hand.keypoints(posed(s)))
                sph = hand_spheres(kp, hand.side)
                m = sph.finger == f
                g = sdf(sph.centres[m]) - sph.radii[m]
                return float(np.min(g)), float(np.min(g[sph.distal[m]]))

            if gap(1.0)[0] >= margin_m:
                s = 1.0
            elif gap(0.0)[0] < margin_m:
                s = 0.0
            else:
                lo, hi = 0.0, 1.0
                for _ in range(iters):
                    mid = 0.5 * (lo + hi)
                    if gap(mid)[0] < margin_m:
                        hi = mid
                    else:
                        lo = mid
                s = lo
            q_from = posed(s)
            if stage == 0:
                q_stage1[4 * f:4 * f + 4] = q_from[4 * f:4 * f + 4]
            if s == 1.0 or gap(s)[1] <= CONTACT_TOL_M:
                break
        q = q_from
    return q, q_stage1


def finger_contacts(kp_world: np.ndarray, side: str, sdf_object: SceneSDF, tol_m: float = CONTACT_TOL_M) -> np.ndarray:
    """(21,3) world keypoints -> (5,) bool: the finger's distal phalanx is within tol_m of the object."""
    sph = hand_spheres(kp_world, side)
    gap = sdf_object(sph.centres) - sph.radii
    return np.array([np.min(gap[(sph.finger == f) & sph.distal]) <= tol_m for f in range(5)])
