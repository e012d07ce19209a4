"""perception_node: segment (and complete) the instructed object in the latest camera frame.

sub the camera topics (see camera_node): keeps the latest frame whose colour and depth stamps match.
srv `segment_object` (unihm_msgs/srv/SegmentObject): instruction (+ complete) -> object cloud in the world
    frame (x y z, + normals when completed, + rgb when not), grounded name, [segment, complete] ms.
pub `object_cloud` (PointCloud2, latched), `perception_markers` (MarkerArray, latched: object box + label,
    table plane).
Bad requests (no frame yet, empty/NaN depth, unknown word, no matching object) answer success=false with
the reason; the node stays up. Parameters: segmenter, completer, segmenter_config.*, completer_config.*,
world_frame, max_stamp_gap_s, torch_threads.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geometry_msgs.msg import Point
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.errors import ConfigError, UnihmError
from unihm_msgs.srv import SegmentObject
from unihm_perception import topics
from unihm_perception.camera_node import attach_frame_sync
from unihm_perception.frame_sync import FrameSync
from unihm_perception.pipeline import PerceptionConfig, PerceptionPipeline

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class PerceptionNodeConfig:
    segmenter: str = "geometric"  # geometric | pointsam
    completer: str = "classical"  # classical | snowflake
    segmenter_config: dict[str, Any] = field(default_factory=dict)  # the backend's keys (strict)
    completer_config: dict[str, Any] = field(default_factory=dict)
    world_frame: str = "world"
    max_stamp_gap_s: float = 0.005  # colour/depth pairing tolerance
    torch_threads: int = 1

    def __post_init__(self) -> None:
        if self.max_stamp_gap_s < 0 or self.torch_threads < 1:
            raise ConfigError("max_stamp_gap_s must be >= 0 and torch_threads >= 1")


class PerceptionNode:
    def __init__(self, **node_kwargs: Any) -> None:
        self.node = make_node("perception", **node_kwargs)
        self.cfg = config_from_parameters(self.node, PerceptionNodeConfig)
        c = self.cfg
        if c.segmenter == "pointsam" or c.completer == "snowflake":
            import torch

            torch.set_num_threads(c.torch_threads)
        self.pipeline = PerceptionPipeline(PerceptionConfig(c.segmenter, c.completer, dict(c.segmenter_config),
                                                            dict(c.completer_config)))
        self.log = self.node.get_logger()
        self.sync = FrameSync(max_gap_s=c.max_stamp_gap_s)
        attach_frame_sync(self.node, self.sync)
        self.cloud_pub = self.node.create_publisher(PointCloud2, topics.OBJECT_CLOUD, LATCHED)
        self.marker_pub = self.node.create_publisher(MarkerArray, topics.PERCEPTION_MARKERS, LATCHED)
        self.node.create_service(SegmentObject, topics.SEGMENT_SERVICE, self.on_segment)
        self.log.info(f"ready: {c.segmenter} segmentation, {c.completer} completion")

    def on_segment(self, req: SegmentObject.Request, res: SegmentObject.Response) -> SegmentObject.Response:
        try:
            self.segment(req, res)
            res.success = True
        except UnihmError as exc:
            res.success, res.message = False, str(exc)
            self.log.warning(f"segment_object {req.instruction!r} failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must not take the node down; report it
            res.success, res.message = False, f"internal error: {exc!r}"
            self.log.error(f"segment_object crashed: {traceback.format_exc()}")
        return res

    def segment(self, req: SegmentObject.Request, res: SegmentObject.Response) -> None:
        frame = self.sync.latest().check()
        stamp_s = conv.time_to_seconds(req.header.stamp)
        t0 = time.perf_counter()
        seg = self.pipeline.segmenter.segment(frame, req.instruction)
        t1 = time.perf_counter()
        if req.complete:
            done = self.pipeline.completer.complete(seg.points_world,
                                                    view_point=np.asarray(frame.T_world_camera)[:3, 3])
            cloud = conv.pointcloud2_from_arrays(done.points, normals=done.normals, frame_id=self.cfg.world_frame)
            points = done.points
        else:
            cloud = conv.pointcloud2_from_arrays(seg.points_world, rgb=(seg.colours * 255).astype(np.uint8),
                                                 frame_id=self.cfg.world_frame)
            points = seg.points_world
        t2 = time.perf_counter()
        cloud.header.stamp = req.header.stamp
        res.object_cloud = cloud
        res.object_name = seg.phrase
        res.stage_ms = [1e3 * (t1 - t0), 1e3 * (t2 - t1) if req.complete else 0.0]
        res.message = f"{seg.phrase}: {len(points)} points" + (" (completed)" if req.complete else "")
        self.cloud_pub.publish(cloud)
        self.marker_pub.publish(perception_markers(points, seg.phrase, seg.table_plane, self.cfg.world_frame,
                                                   stamp_s))


def perception_markers(points: np.ndarray, label: str, plane: np.ndarray, frame_id: str,
                       stamp_s: float | None = None) -> MarkerArray:
    """Axis-aligned box + label of the object cloud, and a thin square patch of the table plane under it."""
    header = conv.make_header(frame_id, stamp_s)
    lo, hi = np.min(points, 0), np.max(points, 0)
    box = Marker(header=header, ns="perception/object", id=0, type=Marker.LINE_LIST, action=Marker.ADD)
    box.pose.orientation.w = 1.0
    box.scale.x = 0.003
    box.color = ColorRGBA(r=0.1, g=0.9, b=0.3, a=1.0)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    edges = [(i, j) for i in range(8) for j in range(i + 1, 8) if bin(i ^ j).count("1") == 1]  # 12 edges
    box.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for e in edges for p in corners[list(e)]]
    text = Marker(header=header, ns="perception/label", id=1, type=Marker.TEXT_VIEW_FACING, action=Marker.ADD,
                  text=label)
    text.pose.position = Point(x=float((lo[0] + hi[0]) / 2), y=float((lo[1] + hi[1]) / 2), z=float(hi[2] + 0.04))
    text.pose.orientation.w = 1.0
    text.scale.z = 0.03
    text.color = ColorRGBA(r=1.0, g=1.0, b=1.0, a=1.0)
    markers = [box, text]
    n = np.asarray(plane[:3], dtype=np.float64)
    if np.all(np.isfinite(plane)) and np.linalg.norm(n) > 1e-9:
        n_unit = n / np.linalg.norm(n)
        centre = (lo + hi) / 2
        on_plane = centre - (centre @ n + plane[3]) / (n @ n) * n  # projection of the object centre
        T = np.eye(4)
        T[:3, :3] = _rotation_z_to(n_unit)
        T[:3, 3] = on_plane
        table = Marker(header=header, ns="perception/table", id=2, type=Marker.CUBE, action=Marker.ADD,
                       pose=conv.matrix_to_pose(T))
        table.scale.x = table.scale.y = 0.6
        table.scale.z = 0.002
        table.color = ColorRGBA(r=0.6, g=0.55, b=0.45, a=0.35)
        markers.append(table)
    return MarkerArray(markers=markers)


def _rotation_z_to(n: np.ndarray) -> np.ndarray:
    """A rotation whose z axis is the unit vector n."""
    x = np.cross([0.0, 1.0, 0.0], n) if abs(n[1]) < 0.9 else np.cross([1.0, 0.0, 0.0], n)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(n, x), n], axis=1)


def build():
    return PerceptionNode().node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
