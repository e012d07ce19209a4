"""Playback of RGB-D frames from a ROS 2 bag (mcap or sqlite3) with `rosbags`, no rclpy.

Expected topics: sensor_msgs/Image rgb8 (colour), sensor_msgs/Image 32FC1 (depth in metres, registered
to the colour image), sensor_msgs/CameraInfo. Colour and depth are paired by header stamp. The camera pose
comes from the bag's geometry_msgs/PoseStamped camera-pose topic when it has one (what `unihm bag record` and
`unihm bag make-camera` write), else from the `T_world_camera` option.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_common.se3 import pose_to_transform
from unihm_perception.camera.base import Camera, register_camera
from unihm_perception.frame import RGBDFrame


@dataclass(frozen=True)
class BagCameraConfig:
    path: str = ""
    rgb_topic: str = "/camera/color/image_raw"
    depth_topic: str = "/camera/depth/image_raw"
    info_topic: str = "/camera/color/camera_info"
    pose_topic: str = "/camera/pose"  # geometry_msgs/PoseStamped T_world_camera; used when the bag has it
    max_stamp_gap_s: float = 0.02  # colour/depth pairing tolerance
    loop: bool = False
    T_world_camera: tuple[float, ...] = field(default_factory=lambda: tuple(np.eye(4).ravel()))  # 16, row-major

    def __post_init__(self) -> None:
        if len(self.T_world_camera) != 16:
            raise ConfigError("T_world_camera needs 16 numbers (row-major 4x4)")


def _stamp(msg) -> float:
    return msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec


def _pose_matrix(pose) -> np.ndarray:
    """geometry_msgs/Pose (rosbags dataclass) -> (4,4)."""
    p, q = pose.position, pose.orientation
    return pose_to_transform(np.array([p.x, p.y, p.z]), np.array([q.x, q.y, q.z, q.w]))


def image_to_array(msg) -> np.ndarray:
    """sensor_msgs/Image (rosbags dataclass) -> (H, W, 3) uint8 for rgb8/bgr8, (H, W) float32 for 32FC1."""
    h, w, enc = msg.height, msg.width, msg.encoding
    data = np.asarray(msg.data, dtype=np.uint8)
    if enc in ("rgb8", "bgr8"):
        img = data.reshape(h, msg.step)[:, : w * 3].reshape(h, w, 3)
        return np.ascontiguousarray(img[..., ::-1] if enc == "bgr8" else img)
    if enc == "32FC1":
        dt = np.dtype(">f4" if msg.is_bigendian else "<f4")
        return data.reshape(h, msg.step)[:, : w * 4].copy().view(dt).reshape(h, w).astype(np.float32)
    if enc == "16UC1":  # millimetres, 0 = invalid
        mm = data.reshape(h, msg.step)[:, : w * 2].copy().view("<u2").reshape(h, w).astype(np.float32)
        return np.where(mm > 0, mm / 1000.0, np.nan).astype(np.float32)
    raise InputError(f"unsupported image encoding {enc!r} (rgb8, bgr8, 32FC1, 16UC1)")


def read_bag_frames(config: BagCameraConfig) -> list[RGBDFrame]:
    """All paired frames of the bag, in time order."""
    try:
        from rosbags.highlevel import AnyReader
        from rosbags.typesys import Stores, get_typestore
    except ImportError as exc:
        raise MissingDependencyError("bag playback needs `rosbags` (pip install rosbags)") from exc
    path = Path(config.path)
    if not path.exists():
        raise InputError(f"bag {str(path)!r} not found")
    rgb, depth, info, poses = [], [], None, []
    with AnyReader([path], default_typestore=get_typestore(Stores.ROS2_KILTED)) as reader:
        topics = {c.topic for c in reader.connections}
        missing = [t for t in (config.rgb_topic, config.depth_topic, config.info_topic) if t not in topics]
        if missing:
            raise InputError(f"bag {path} lacks topics {missing}; it has {sorted(topics)}")
        wanted = (config.rgb_topic, config.depth_topic, config.info_topic, config.pose_topic)
        conns = [c for c in reader.connections if c.topic in wanted]
        for conn, _t, raw in reader.messages(connections=conns):
            msg = reader.deserialize(raw, conn.msgtype)
            if conn.topic == config.pose_topic:
                poses.append((_stamp(msg), _pose_matrix(msg.pose)))
            elif conn.topic == config.info_topic:
                info = msg
            elif conn.topic == config.rgb_topic:
                rgb.append((_stamp(msg), image_to_array(msg)))
            else:
                depth.append((_stamp(msg), image_to_array(msg)))
    if info is None or not rgb or not depth:
        raise InputError(f"bag {path} has no complete RGB-D frame (rgb {len(rgb)}, depth {len(depth)}, info "
                         f"{'yes' if info is not None else 'no'})")
    K = np.asarray(info.k, dtype=np.float64).reshape(3, 3)
    T_fixed = np.reshape(config.T_world_camera, (4, 4)).astype(np.float64)
    d_stamps = np.array([s for s, _ in depth])
    poses.sort(key=lambda sp: sp[0])
    p_stamps = np.array([ps for ps, _ in poses])
    frames = []
    for s, img in rgb:
        j = int(np.argmin(np.abs(d_stamps - s)))
        if abs(d_stamps[j] - s) <= config.max_stamp_gap_s:
            k = int(np.searchsorted(p_stamps, s + config.max_stamp_gap_s, side="right")) - 1  # latest pose up to it
            T = poses[max(k, 0)][1] if poses else T_fixed
            frames.append(RGBDFrame(rgb=img, depth_m=depth[j][1], K=K, T_world_camera=T, stamp_s=s,
                                    frame_id=info.header.frame_id or "camera_optical"))
    return frames


@register_camera("bag", BagCameraConfig)
class BagCamera(Camera):
    def __init__(self, config: BagCameraConfig = BagCameraConfig()) -> None:
        self.config = config
        self._frames: list[RGBDFrame] | None = None
        self._i = 0

    def open(self) -> None:
        if self._frames is None:
            if not self.config.path:
                raise ConfigError("bag camera: set `path` to a bag file or folder")
            self._frames = read_bag_frames(self.config)

    def read(self) -> RGBDFrame:
        self.open()
        if self._i >= len(self._frames):
            if not self.config.loop:
                raise InputError(f"bag {self.config.path} exhausted after {len(self._frames)} frames")
            self._i = 0
        frame = self._frames[self._i]
        self._i += 1
        return frame
