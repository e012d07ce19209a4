"""camera_node: an RGB-D camera backend (synthetic / zed / bag) on the camera topics of the manipulation graph.

pub `camera/color/image_raw` (sensor_msgs/Image rgb8), `camera/depth/image_raw` (Image 32FC1, metres,
    registered to colour), `camera/color/camera_info` (CameraInfo), all stamped alike, frame `optical_frame`.
pub `camera/points` (PointCloud2, world frame, every `points_stride`-th row/col, rgb; 0 = off).
pub `camera/pose` (geometry_msgs/PoseStamped, latched): T_world_camera of the optical frame (tf2 stand-in).
Parameters: backend, rate_hz, scene_seed / scene_file (synthetic), bag_path (bag), camera.* (the backend's
config keys, checked strictly), points_stride, world_frame, optical_frame.
The synthetic scene is only known to this node: consumers see images, intrinsics and the pose, as from a
real camera. A backend that cannot start (no ZED SDK, no bag file) is a configuration error: exit code 2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geometry_msgs.msg import PoseStamped
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, PointCloud2

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_perception import topics
from unihm_perception.camera import make_camera
from unihm_perception.frame import backproject
from unihm_perception.frame_sync import FrameSync

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
STREAM = QoSProfile(depth=2, reliability=ReliabilityPolicy.RELIABLE)


@dataclass(frozen=True)
class CameraNodeConfig:
    backend: str = "synthetic"  # synthetic | zed | bag
    rate_hz: float = 5.0
    scene_seed: int = 0  # synthetic: scene = sample_scene(default_rng(scene_seed)); also seeds the noise
    scene_file: str = ""  # synthetic: a scene written by unihm_perception.scene.save_scene (wins over the seed)
    bag_path: str = ""  # bag: the recording (mcap / sqlite3 directory)
    camera: dict[str, Any] = field(default_factory=dict)  # the backend's config keys (strict)
    points_stride: int = 2  # camera/points decimation; 0 = do not publish points
    world_frame: str = "world"
    optical_frame: str = "camera_color_optical_frame"

    def __post_init__(self) -> None:
        if not self.rate_hz > 0 or self.points_stride < 0:
            raise ConfigError(f"rate_hz must be > 0 and points_stride >= 0, got {self.rate_hz}, {self.points_stride}")
        if self.backend == "bag" and not self.bag_path:
            raise ConfigError("backend 'bag' needs the parameter bag_path")


def open_camera(cfg: CameraNodeConfig):
    """Build and open the backend; every reason it cannot start becomes a `ConfigError` (exit code 2)."""
    params = dict(cfg.camera)
    if cfg.backend == "synthetic":
        params.setdefault("seed", cfg.scene_seed)
    if cfg.backend == "bag":
        params["path"] = cfg.bag_path
    try:
        cam = make_camera(cfg.backend, params)
        if cfg.backend == "synthetic":
            from unihm_perception.scene import load_scene, sample_scene

            scene = load_scene(cfg.scene_file) if cfg.scene_file else sample_scene(
                np.random.default_rng(cfg.scene_seed), cam.config.scene)
            cam.set_scene(scene)
        cam.open()
    except (MissingDependencyError, InputError) as exc:
        raise ConfigError(f"camera backend {cfg.backend!r} cannot start: {exc}") from exc
    return cam


class CameraNode:
    def __init__(self, **node_kwargs: Any) -> None:
        self.node = make_node("camera", **node_kwargs)
        self.cfg = config_from_parameters(self.node, CameraNodeConfig)
        self.log = self.node.get_logger()
        self.camera = open_camera(self.cfg)
        n = self.node
        self.color_pub = n.create_publisher(Image, topics.COLOR, STREAM)
        self.depth_pub = n.create_publisher(Image, topics.DEPTH, STREAM)
        self.info_pub = n.create_publisher(CameraInfo, topics.CAMERA_INFO, STREAM)
        self.points_pub = n.create_publisher(PointCloud2, topics.POINTS, STREAM) if self.cfg.points_stride else None
        self.pose_pub = n.create_publisher(PoseStamped, topics.CAMERA_POSE, LATCHED)
        self.last_pose: np.ndarray | None = None
        self.frames = 0
        self.failed = False
        self.timer = n.create_timer(1.0 / self.cfg.rate_hz, self.tick)
        self.log.info(f"ready: {self.cfg.backend} camera at {self.cfg.rate_hz:g} Hz")

    def tick(self) -> None:
        try:
            frame = self.camera.read()
        except InputError as exc:  # bag exhausted, grab failed: report, keep the node up
            if not self.failed:
                self.log.error(f"camera read failed: {exc}")
            self.failed = True
            if self.cfg.backend == "bag":
                self.timer.cancel()
            return
        self.failed = False
        stamp = self.node.get_clock().now().nanoseconds * 1e-9
        c = self.cfg
        T = np.asarray(frame.T_world_camera, dtype=np.float64)
        if self.last_pose is None or not np.allclose(T, self.last_pose):
            self.pose_pub.publish(conv.pose_stamped_from_matrix(T, c.world_frame, stamp))
            self.last_pose = T
        h, w = frame.shape
        self.info_pub.publish(conv.camera_info_from_K(frame.K, w, h, c.optical_frame, stamp))
        self.depth_pub.publish(conv.image_from_array(frame.depth_m, "32FC1", c.optical_frame, stamp))
        self.color_pub.publish(conv.image_from_array(frame.rgb, "rgb8", c.optical_frame, stamp))
        if self.points_pub is not None and frame.valid_mask().any():
            pts, colours, _ = backproject(frame, stride=c.points_stride)
            self.points_pub.publish(conv.pointcloud2_from_arrays(pts, rgb=(colours * 255).astype(np.uint8),
                                                                 frame_id=c.world_frame, stamp_s=stamp))
        self.frames += 1

    def close(self) -> None:
        self.timer.cancel()
        self.camera.close()


def attach_frame_sync(node, sync: FrameSync) -> None:
    """Subscribe `node` to the camera topics and feed `sync` (used by the perception and planner nodes)."""
    def on_color(msg: Image) -> None:
        try:
            sync.add_color(conv.time_to_seconds(msg.header.stamp), conv.array_from_image(msg).copy(),
                           msg.header.frame_id)
        except InputError as exc:
            node.get_logger().error(f"bad colour image: {exc}")

    def on_depth(msg: Image) -> None:
        try:
            depth = conv.array_from_image(msg)
            if msg.encoding == "16UC1":  # millimetres, 0 = invalid
                depth = np.where(depth > 0, depth / 1000.0, np.nan)
            sync.add_depth(conv.time_to_seconds(msg.header.stamp), np.asarray(depth, np.float32).copy())
        except InputError as exc:
            node.get_logger().error(f"bad depth image: {exc}")

    def on_info(msg: CameraInfo) -> None:
        try:
            sync.set_intrinsics(conv.K_from_camera_info(msg))
        except InputError as exc:
            node.get_logger().error(f"bad camera_info: {exc}")

    node.create_subscription(Image, topics.COLOR, on_color, STREAM)
    node.create_subscription(Image, topics.DEPTH, on_depth, STREAM)
    node.create_subscription(CameraInfo, topics.CAMERA_INFO, on_info, STREAM)
    node.create_subscription(PoseStamped, topics.CAMERA_POSE, lambda m: sync.set_pose(conv.pose_to_matrix(m.pose)),
                             LATCHED)


class _Holder:
    camera: CameraNode | None = None


def build():
    _Holder.camera = CameraNode()
    node = _Holder.camera.node
    node.close = _Holder.camera.close
    return node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
