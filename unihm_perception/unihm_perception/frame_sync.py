"""Assemble `RGBDFrame`s from separately arriving colour, depth, intrinsics and camera pose (no ROS).

The camera node publishes colour and depth with the same header stamp; the perception and planner nodes
feed what they receive here and ask for the latest complete frame. Pure bookkeeping, no message types.
"""

from __future__ import annotations

import threading

import numpy as np

from unihm_common.errors import InputError
from unihm_perception.frame import RGBDFrame


class FrameSync:
    """Latest colour/depth pair with equal stamps (within `max_gap_s`) + the latest K and T_world_camera."""

    def __init__(self, max_gap_s: float = 0.005, keep: int = 4) -> None:
        self.max_gap_s = max_gap_s
        self.keep = keep
        self._lock = threading.Lock()
        self._color: list[tuple[float, np.ndarray]] = []  # (stamp, (H,W,3) uint8), newest last
        self._depth: list[tuple[float, np.ndarray]] = []  # (stamp, (H,W) float32)
        self._K: np.ndarray | None = None
        self._T: np.ndarray | None = None
        self._frame_id = "camera_optical"
        self._latest: RGBDFrame | None = None

    def add_color(self, stamp_s: float, rgb: np.ndarray, frame_id: str = "") -> None:
        with self._lock:
            self._color = (self._color + [(stamp_s, rgb)])[-self.keep:]
            self._frame_id = frame_id or self._frame_id
            self._pair()

    def add_depth(self, stamp_s: float, depth_m: np.ndarray) -> None:
        with self._lock:
            self._depth = (self._depth + [(stamp_s, depth_m)])[-self.keep:]
            self._pair()

    def set_intrinsics(self, K: np.ndarray) -> None:
        with self._lock:
            self._K = np.asarray(K, dtype=np.float64)
            self._pair()

    def set_pose(self, T_world_camera: np.ndarray) -> None:
        with self._lock:
            self._T = np.asarray(T_world_camera, dtype=np.float64)
            self._pair()

    def _pair(self) -> None:
        if self._K is None or self._T is None:
            return
        for ts, depth in reversed(self._depth):
            match = [(abs(tc - ts), tc, rgb) for tc, rgb in self._color if abs(tc - ts) <= self.max_gap_s]
            if match:
                _, tc, rgb = min(match, key=lambda m: m[0])
                if self._latest is None or ts >= self._latest.stamp_s:
                    self._latest = RGBDFrame(rgb=rgb, depth_m=depth, K=self._K, T_world_camera=self._T,
                                             stamp_s=ts, frame_id=self._frame_id)
                return

    def latest(self) -> RGBDFrame:
        """The newest complete frame; `InputError` saying what has not arrived yet otherwise."""
        with self._lock:
            if self._latest is not None:
                return self._latest
            missing = [name for name, v in (("color image", self._color), ("depth image", self._depth),
                                            ("camera_info", self._K), ("camera pose", self._T)) if v is None or
                       (isinstance(v, list) and not v)]
            if missing:
                raise InputError(f"no camera frame yet: nothing received on {', '.join(missing)}")
            raise InputError("no camera frame yet: colour and depth stamps never matched")
