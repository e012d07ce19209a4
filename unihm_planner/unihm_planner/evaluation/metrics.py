"""Paper App. F metrics: MPJPE (F1-F2), FPL (F3), FOL (F4-F5), FID (F6-F8), Diversity (F9).

Positions are metres in, millimetres out; orientations degrees. MPJPE is computed on forward-kinematics
positions of the evaluated hand (every joint frame plus the fingertips) placed in the world by its wrist
(root) pose, never on raw joint angles.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unihm_common.errors import InputError


def _check_poses(T: np.ndarray, what: str) -> np.ndarray:
    T = np.asarray(T, dtype=np.float64)
    if T.ndim != 3 or T.shape[1:] != (4, 4):
        raise InputError(f"{what} must have shape (T, 4, 4), got {T.shape}")
    return T


class HandPoints:
    """World positions of a hand's joint frames + fingertips, and of its palm, from q and the wrist pose."""

    def __init__(self, hand: Any) -> None:
        self.hand = hand
        self.frames = list(dict.fromkeys(list(hand.spec.joint_names) + list(hand.fingertip_frames)))
        self.palm = hand.spec.palm_frame

    def joints_world(self, q: np.ndarray, T_world_wrist: np.ndarray) -> np.ndarray:
        """q (T, J), T_world_wrist (T, 4, 4) -> (T, K, 3) world positions (m)."""
        T = _check_poses(T_world_wrist, "T_world_wrist")
        local = self.hand.frame_positions(np.asarray(q, dtype=np.float64), self.frames)  # (T, K, 3)
        if local.shape[0] != T.shape[0]:
            raise InputError(f"q has {local.shape[0]} frames but T_world_wrist has {T.shape[0]}")
        return np.einsum("tij,tkj->tki", T[:, :3, :3], local) + T[:, None, :3, 3]

    def palm_world(self, q: np.ndarray, T_world_wrist: np.ndarray) -> np.ndarray:
        """(J,) q and (4, 4) wrist pose of one frame -> (3,) palm centre in the world (m)."""
        p = self.hand.frame_positions(np.asarray(q, dtype=np.float64).reshape(1, -1), [self.palm])[0, 0]
        T = np.asarray(T_world_wrist, dtype=np.float64)
        return T[:3, :3] @ p + T[:3, 3]


def penetration_mm(cloud: Any, T_object_world: np.ndarray, points_world: np.ndarray) -> float:
    """Deepest hand point (T, K, 3 world) inside the object (an `ObjectCloud`, posed per frame by the inverse
    object poses T_object_world (T, 4, 4)) over the sequence, in mm (0 when none is inside)."""
    local = np.einsum("tij,tkj->tki", T_object_world[:, :3, :3], points_world) + T_object_world[:, None, :3, 3]
    return max(0.0, -float(cloud.signed_distance(local.reshape(-1, 3)).min())) * 1e3


def mpjpe_mm(pred: np.ndarray, gt: np.ndarray) -> float:
    """Eq. F1 for one sequence: pred/gt (T, K, 3) metres -> mean joint distance over frames and joints (mm)."""
    pred, gt = np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64)
    if pred.shape != gt.shape or pred.ndim != 3 or pred.shape[-1] != 3:
        raise InputError(f"MPJPE needs equal (T, K, 3) arrays, got {pred.shape} and {gt.shape}")
    return float(np.linalg.norm(pred - gt, axis=-1).mean() * 1e3)


def fpl_mm(pred_palm: np.ndarray, gt_palm: np.ndarray) -> float:
    """Eq. F3 for one sequence: distance of the final palm/root positions (3,) metres -> mm."""
    return float(np.linalg.norm(np.asarray(pred_palm, float) - np.asarray(gt_palm, float)) * 1e3)


def fol_deg(R_gt: np.ndarray, R_pred: np.ndarray) -> float:
    """Eq. F4: geodesic angle arccos((trace(R_gt^T R_pred) - 1) / 2) in degrees (argument clipped to [-1, 1])."""
    R_gt, R_pred = np.asarray(R_gt, float)[:3, :3], np.asarray(R_pred, float)[:3, :3]
    c = (np.trace(R_gt.T @ R_pred) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def resample(x: np.ndarray, n: int) -> np.ndarray:
    """Linear resampling of (T, ...) along time to (n, ...)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] == n:
        return x.copy()
    src = np.linspace(0.0, 1.0, x.shape[0])
    dst = np.linspace(0.0, 1.0, n)
    flat = x.reshape(x.shape[0], -1)
    out = np.stack([np.interp(dst, src, flat[:, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape((n,) + x.shape[1:])


def fid(real: np.ndarray, gen: np.ndarray) -> float:
    """Eq. F8 between feature sets (M_r, d) and (M_g, d) (sample covariances, real part of the matrix root)."""
    from scipy import linalg

    real, gen = np.asarray(real, np.float64), np.asarray(gen, np.float64)
    if real.ndim != 2 or gen.ndim != 2 or real.shape[1] != gen.shape[1] or min(len(real), len(gen)) < 2:
        raise InputError(f"FID needs two (M, d) feature sets with M >= 2, got {real.shape} and {gen.shape}")
    mu_r, mu_g = real.mean(0), gen.mean(0)
    s_r, s_g = np.cov(real, rowvar=False), np.cov(gen, rowvar=False)
    covmean = linalg.sqrtm(s_r @ s_g)
    if not np.all(np.isfinite(covmean)):  # singular product: regularise as the reference FID code does
        eps = 1e-6 * np.eye(real.shape[1])
        covmean = linalg.sqrtm((s_r + eps) @ (s_g + eps))
    covmean = np.real(covmean)
    val = float(np.sum((mu_r - mu_g) ** 2) + np.trace(s_r + s_g - 2.0 * covmean))
    return max(val, 0.0)


def diversity(z: np.ndarray) -> float:
    """Eq. F9: mean pairwise Euclidean distance of features (M, d)."""
    z = np.asarray(z, np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise InputError(f"Diversity needs (M, d) features with M >= 2, got {z.shape}")
    d = np.linalg.norm(z[:, None, :] - z[None, :, :], axis=-1)
    iu = np.triu_indices(len(z), k=1)
    return float(d[iu].mean())


def mean_std(values: list[float]) -> dict[str, float]:
    """{'mean', 'std'} (population std over seeds; 0 for one value)."""
    v = np.asarray(values, dtype=np.float64)
    return {"mean": float(v.mean()), "std": float(v.std())}
