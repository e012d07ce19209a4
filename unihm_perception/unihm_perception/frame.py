"""The typed RGB-D observation every camera backend returns, and its back-projection to a cloud.

Camera frame convention: the optical frame (x right, y down, z forward), as in ROS CameraInfo.
`T_world_camera` maps optical-frame points into the world frame (z up, table top at z = 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import InputError


@dataclass(frozen=True)
class RGBDFrame:
    """One registered RGB-D image. Invalid depth is NaN (or <= 0, which `valid_mask` also rejects)."""

    rgb: np.ndarray  # (H, W, 3) uint8
    depth_m: np.ndarray  # (H, W) float32, metres along the optical axis
    K: np.ndarray  # (3, 3) pinhole intrinsics
    T_world_camera: np.ndarray  # (4, 4)
    stamp_s: float = 0.0
    frame_id: str = "camera_optical"

    @property
    def shape(self) -> tuple[int, int]:
        return self.depth_m.shape[0], self.depth_m.shape[1]

    def valid_mask(self) -> np.ndarray:
        """(H, W) bool: finite, positive depth."""
        d = self.depth_m
        return np.isfinite(d) & (d > 0)

    def check(self) -> RGBDFrame:
        """Raise `InputError` naming the problem if the frame cannot be used; return self."""
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3 or self.rgb.dtype != np.uint8:
            raise InputError(f"rgb must be (H, W, 3) uint8, got {self.rgb.shape} {self.rgb.dtype}")
        if self.depth_m.shape != self.rgb.shape[:2]:
            raise InputError(f"depth {self.depth_m.shape} and rgb {self.rgb.shape[:2]} differ in size")
        if np.asarray(self.K).shape != (3, 3) or np.asarray(self.T_world_camera).shape != (4, 4):
            raise InputError("K must be (3, 3) and T_world_camera (4, 4)")
        if not np.all(np.isfinite(self.K)) or not np.all(np.isfinite(self.T_world_camera)):
            raise InputError("K or T_world_camera contains NaN/inf")
        if self.depth_m.size == 0 or not self.valid_mask().any():
            raise InputError("depth image is empty or has no valid (finite, > 0) pixel; is the camera covered?")
        return self


def backproject(frame: RGBDFrame, mask: np.ndarray | None = None, stride: int = 1) -> tuple[np.ndarray, ...]:
    """Valid pixels (optionally within `mask`, every `stride`-th row/col) -> world points.

    Returns points_world (N, 3) float64, colours (N, 3) float32 in [0, 1], pixel (row, col) (N, 2) int.
    """
    frame.check()
    valid = frame.valid_mask()
    if mask is not None:
        valid &= mask
    if stride > 1:
        sub = np.zeros_like(valid)
        sub[::stride, ::stride] = True
        valid &= sub
    rows, cols = np.nonzero(valid)  # (N,), (N,)
    z = frame.depth_m[rows, cols].astype(np.float64)
    K = np.asarray(frame.K, dtype=np.float64)
    x = (cols - K[0, 2]) * z / K[0, 0]
    y = (rows - K[1, 2]) * z / K[1, 1]
    pc = np.stack([x, y, z], axis=1)  # (N, 3) optical frame
    T = np.asarray(frame.T_world_camera, dtype=np.float64)
    pw = pc @ T[:3, :3].T + T[:3, 3]
    colours = frame.rgb[rows, cols].astype(np.float32) / 255.0
    return pw, colours, np.stack([rows, cols], axis=1)


def look_at(eye: np.ndarray, target: np.ndarray, up: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """T_world_camera (4, 4) of an optical frame at `eye` looking at `target` (world z up)."""
    eye, target, up = np.asarray(eye, float), np.asarray(target, float), np.asarray(up, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        raise InputError("look_at: view direction is parallel to up")
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], axis=1)
    T[:3, 3] = eye
    return T


def pinhole_K(width: int, height: int, fx: float, fy: float | None = None) -> np.ndarray:
    """(3, 3) intrinsics with the principal point at the image centre."""
    fy = fx if fy is None else fy
    return np.array([[fx, 0.0, (width - 1) / 2], [0.0, fy, (height - 1) / 2], [0.0, 0.0, 1.0]])
