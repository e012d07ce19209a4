"""planner_node: the object's target trajectory T_tar for an instruction (CLIPort-style pick / place).

sub the camera topics (see unihm_perception.camera_node): latest frame with matching colour/depth stamps.
srv `plan_target` (unihm_msgs/srv/PlanTarget): instruction (+ object_cloud in the world frame: refines the
    pick to its box centre; empty = image only), num_frames / frame_rate_hz (0 = the node's defaults)
    -> target_path (nav_msgs/Path, T_world_object per frame, stamps at frame_rate_hz), plan_ms.
pub `target_path` (Path, latched), `plan_markers` (MarkerArray, latched: pick / place poses, path line).
Bad requests (no frame yet, empty depth, unknown word, empty instruction) answer success=false; the node stays
up. Parameters: checkpoint ("" = shipped), frame_rate_hz, num_frames, trajectory.* (TrajectoryConfig keys),
world_frame, max_stamp_gap_s, torch_threads.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geometry_msgs.msg import Point
from nav_msgs.msg import Path
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError, UnihmError
from unihm_common.se3 import interpolate_transforms
from unihm_msgs.srv import PlanTarget
from unihm_perception import topics
from unihm_perception.camera_node import attach_frame_sync
from unihm_perception.frame_sync import FrameSync

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


@dataclass(frozen=True)
class PlannerNodeConfig:
    checkpoint: str = ""  # "" = the shipped target-planner checkpoint
    frame_rate_hz: float = 30.0  # path sampling rate when a request says 0
    num_frames: int = 0  # frames of the path when a request says 0; 0 = as planned (duration from distance)
    trajectory: dict[str, Any] = field(default_factory=dict)  # TrajectoryConfig keys (strict)
    world_frame: str = "world"
    max_stamp_gap_s: float = 0.005
    torch_threads: int = 1

    def __post_init__(self) -> None:
        if not self.frame_rate_hz > 0 or self.num_frames < 0 or self.torch_threads < 1:
            raise ConfigError("frame_rate_hz must be > 0, num_frames >= 0 and torch_threads >= 1")
        if self.num_frames == 1:
            raise ConfigError("num_frames must be 0 (as planned) or >= 2")


class PlannerNode:
    def __init__(self, **node_kwargs: Any) -> None:
        import torch

        from unihm_planner.target.planner import DEFAULT_CHECKPOINT, TargetPlanner
        from unihm_planner.target.trajectory import TrajectoryConfig

        self.node = make_node("planner", **node_kwargs)
        self.cfg = config_from_parameters(self.node, PlannerNodeConfig)
        torch.set_num_threads(self.cfg.torch_threads)
        self.trajectory = from_dict(TrajectoryConfig, dict(self.cfg.trajectory),
                                    source="planner parameter 'trajectory'")
        self.planner = TargetPlanner.from_pretrained(self.cfg.checkpoint or DEFAULT_CHECKPOINT,
                                                     trajectory=self.trajectory)
        self.log = self.node.get_logger()
        self.sync = FrameSync(max_gap_s=self.cfg.max_stamp_gap_s)
        attach_frame_sync(self.node, self.sync)
        self.path_pub = self.node.create_publisher(Path, topics.TARGET_PATH, LATCHED)
        self.marker_pub = self.node.create_publisher(MarkerArray, topics.PLAN_MARKERS, LATCHED)
        self.node.create_service(PlanTarget, topics.PLAN_SERVICE, self.on_plan)
        self.log.info("ready: target planner loaded")

    def on_plan(self, req: PlanTarget.Request, res: PlanTarget.Response) -> PlanTarget.Response:
        try:
            self.plan(req, res)
            res.success = True
        except UnihmError as exc:
            res.success, res.message = False, str(exc)
            self.log.warning(f"plan_target {req.instruction!r} failed: {exc}")
        except Exception as exc:  # noqa: BLE001 - a bug must not take the node down; report it
            res.success, res.message = False, f"internal error: {exc!r}"
            self.log.error(f"plan_target crashed: {traceback.format_exc()}")
        return res

    def plan(self, req: PlanTarget.Request, res: PlanTarget.Response) -> None:
        if req.num_frames < 0 or req.num_frames == 1 or not np.isfinite(req.frame_rate_hz) or req.frame_rate_hz < 0:
            raise InputError(f"num_frames must be 0 or >= 2 and frame_rate_hz >= 0, got {req.num_frames}, "
                             f"{req.frame_rate_hz}")
        frame = self.sync.latest().check()
        points = None
        if req.object_cloud.width * req.object_cloud.height > 0:
            points = conv.arrays_from_pointcloud2(req.object_cloud)["points"]
            points = points[np.all(np.isfinite(points), axis=1)]
        rate = req.frame_rate_hz or self.cfg.frame_rate_hz
        t0 = time.perf_counter()
        self.planner.trajectory = dataclasses.replace(self.trajectory, rate_hz=rate)
        result = self.planner.plan(frame, req.instruction, object_points=points)
        t_s, T = result.t_s, result.T_world_object
        t_s = t_s - t_s[0]
        n = req.num_frames or self.cfg.num_frames
        if n:  # the planned motion (its own timing) squeezed or stretched into n frames, stamped at `rate`
            T = interpolate_transforms(T, t_s, np.linspace(0.0, t_s[-1], n))
        else:  # the planned timing, sampled exactly at `rate`; the last frame holds the goal pose
            n = int(np.ceil(t_s[-1] * rate - 1e-9)) + 1
            T = interpolate_transforms(T, t_s, np.arange(n) / rate)
        t_s = np.arange(n) / rate
        plan_ms = 1e3 * (time.perf_counter() - t0)
        start = conv.time_to_seconds(req.header.stamp)
        path = conv.path_from_transforms(T, t_s, self.cfg.world_frame, start)
        res.target_path, res.plan_ms = path, float(plan_ms)
        res.message = (f"{len(T)} frames over {t_s[-1]:.2f} s: pick "
                       f"{np.round(result.pick_pose[:3, 3], 3).tolist()} -> place "
                       f"{np.round(result.place_pose[:3, 3], 3).tolist()}")
        self.path_pub.publish(path)
        self.marker_pub.publish(plan_markers(result.pick_pose, result.place_pose, T, self.cfg.world_frame, start))


def plan_markers(pick: np.ndarray, place: np.ndarray, path: np.ndarray, frame_id: str,
                 stamp_s: float | None = None) -> MarkerArray:
    """Pick (green) and place (red) poses as arrows along the object's x axis, the path as a line."""
    header = conv.make_header(frame_id, stamp_s)
    markers = []
    for i, (T, rgb, ns) in enumerate(((pick, (0.1, 0.9, 0.2), "plan/pick"), (place, (0.95, 0.2, 0.1), "plan/place"))):
        m = Marker(header=header, ns=ns, id=i, type=Marker.ARROW, action=Marker.ADD, pose=conv.matrix_to_pose(T))
        m.scale.x, m.scale.y, m.scale.z = 0.08, 0.012, 0.012
        m.color = ColorRGBA(r=rgb[0], g=rgb[1], b=rgb[2], a=1.0)
        markers.append(m)
    line = Marker(header=header, ns="plan/path", id=2, type=Marker.LINE_STRIP, action=Marker.ADD)
    line.pose.orientation.w = 1.0
    line.scale.x = 0.004
    line.color = ColorRGBA(r=0.2, g=0.5, b=1.0, a=1.0)
    line.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in path[:, :3, 3]]
    markers.append(line)
    return MarkerArray(markers=markers)


def build():
    return PlannerNode().node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
