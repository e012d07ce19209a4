"""refiner_node: physics-guided refinement (Algorithm 1) of generated hand trajectories.

sub `hand_trajectory_generated` (unihm_msgs/HandTrajectory): triggers a refinement.
sub `object_cloud` (sensor_msgs/PointCloud2, optional normals): the latest cloud is used. A cloud in
    `object_frame` is taken as is; any other frame is the world frame at the target path's first pose.
sub `target_path` (nav_msgs/Path): T_world_object over time, resampled to the trajectory's times.
pub `hand_trajectory_refined` (unihm_msgs/HandTrajectory), `contact_markers` (visualization_msgs/MarkerArray).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from geometry_msgs.msg import Point
from nav_msgs.msg import Path
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import PointCloud2
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker, MarkerArray

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, UnihmError
from unihm_common.hands import load_hand
from unihm_common.se3 import interpolate_transforms, invert_transform, transform_points
from unihm_msgs.msg import HandTrajectory
from unihm_refiner.contact import ObjectCloud, usable_normals
from unihm_refiner.kinematics import KinematicChain
from unihm_refiner.refiner import Refiner, RefinerOptions
from unihm_refiner.summary import summarize_contacts


@dataclass(frozen=True)
class RefinerNodeConfig:
    hand: str  # hand name or alias
    options: dict[str, Any] = field(default_factory=dict)  # RefinerOptions fields (strictly checked)
    object_frame: str = "object"  # clouds in this frame are already in the object frame
    max_cloud_points: int = 4096  # random subsample above this (KD-tree size)
    contact_band_m: float = 0.005  # |d| within this counts as contact (markers, metrics)
    world_frame: str = "world"

    def __post_init__(self) -> None:
        if self.max_cloud_points < 16:
            raise ConfigError(f"max_cloud_points must be >= 16, got {self.max_cloud_points}")


class RefinerNode:
    def __init__(self) -> None:
        self.node = make_node("refiner")
        self.cfg = config_from_parameters(self.node, RefinerNodeConfig)
        options = from_dict(RefinerOptions, self.cfg.options, source="refiner parameter 'options'")
        self.hand = load_hand(self.cfg.hand)
        self.refiner = Refiner(KinematicChain.from_hand(self.hand), options)
        self.log = self.node.get_logger()
        self.lock = threading.Lock()
        self.cloud: PointCloud2 | None = None
        self.path: Path | None = None
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        n = self.node
        n.create_subscription(PointCloud2, "object_cloud", self._keep("cloud"), latched)
        n.create_subscription(Path, "target_path", self._keep("path"), latched)
        n.create_subscription(HandTrajectory, "hand_trajectory_generated", self.on_trajectory, qos)
        self.pub = n.create_publisher(HandTrajectory, "hand_trajectory_refined", qos)
        self.marker_pub = n.create_publisher(MarkerArray, "contact_markers", latched)
        self.log.info(f"ready: refining {self.hand.spec.name} ({len(self.hand.spec.joint_names)} joints)")

    def _keep(self, attr: str):
        def cb(msg) -> None:
            with self.lock:
                setattr(self, attr, msg)

        return cb

    def on_trajectory(self, msg: HandTrajectory) -> None:
        with self.lock:
            cloud_msg, path_msg = self.cloud, self.path
        if cloud_msg is None or path_msg is None:
            missing = [n for n, m in (("object_cloud", cloud_msg), ("target_path", path_msg)) if m is None]
            self.log.error(f"cannot refine: nothing received yet on {', '.join(missing)}")
            return
        try:
            refined, markers, summary = self.refine(msg, cloud_msg, path_msg)
        except UnihmError as exc:
            self.log.error(f"refinement rejected its input: {exc}")
            return
        self.pub.publish(refined)
        self.marker_pub.publish(markers)
        self.log.info(f"refined {len(msg.points)} frames: max penetration {summary.max_penetration_mm:.2f} mm, "
                      f"contact in {100 * summary.contact_ratio:.0f} % of frames")

    def refine(self, msg: HandTrajectory, cloud_msg: PointCloud2, path_msg: Path):
        motion = conv.motion_from_hand_trajectory(msg)
        spec = self.hand.spec
        if motion.hand and motion.hand != spec.name:
            raise ConfigError(f"trajectory is for {motion.hand!r}; this refiner runs {spec.name!r}")
        q_gen = conv_columns(motion.joint_names, motion.q, spec.joint_names)
        path_T, path_t = conv.transforms_from_path(path_msg)
        T_obj = interpolate_transforms(path_T, path_t, motion.t_s - motion.t_s[0])  # (T,4,4)
        data = conv.arrays_from_pointcloud2(cloud_msg)
        pts, nrm = data["points"], data.get("normals")
        if len(pts) > self.cfg.max_cloud_points:
            keep = np.random.default_rng(0).choice(len(pts), self.cfg.max_cloud_points, replace=False)
            pts, nrm = pts[keep], None if nrm is None else nrm[keep]
        if cloud_msg.header.frame_id != self.cfg.object_frame:  # world frame at the first path pose
            T0_inv = invert_transform(path_T[0])
            pts = transform_points(T0_inv, pts)
            nrm = None if nrm is None else nrm @ T0_inv[:3, :3].T
        cloud = ObjectCloud(pts, usable_normals(nrm, pts))  # a few missing normals: filled; many: estimated
        wrist = motion.T_world_wrist if motion.T_world_wrist is not None else np.tile(np.eye(4), (len(q_gen), 1, 1))
        result = self.refiner.refine(cloud, q_gen, T_obj, wrist)
        summary = summarize_contacts(self.hand.fingertip_positions(result.q), wrist, T_obj, cloud, result.q,
                                     motion.t_s, self.cfg.contact_band_m)
        out = type(motion)(spec.name, spec.joint_names, motion.t_s, result.q, None, motion.T_world_wrist)
        refined = conv.hand_trajectory_from_motion(out, msg.header.frame_id or self.cfg.world_frame)
        refined.header.stamp = msg.header.stamp
        return refined, contact_markers(summary, self.cfg.world_frame, self.node.get_namespace()), summary


def conv_columns(names: tuple[str, ...], q: np.ndarray, wanted: tuple[str, ...]) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise ConfigError(f"trajectory lacks joints {missing}")
    return q[:, [index[n] for n in wanted]]


def contact_markers(summary, frame_id: str, ns: str) -> MarkerArray:
    """Fingertip positions over time: green in contact, red penetrating > 2 mm, grey otherwise."""
    m = Marker(header=conv.make_header(frame_id), ns=f"{ns.strip('/') or 'unihm'}/contacts", id=0,
               type=Marker.SPHERE_LIST, action=Marker.ADD)
    m.pose.orientation.w = 1.0
    m.scale.x = m.scale.y = m.scale.z = 0.006
    tips = summary.tips_world.reshape(-1, 3)
    d = summary.signed_distance_m.reshape(-1)
    contact = summary.in_contact.reshape(-1)
    m.points = [Point(x=float(p[0]), y=float(p[1]), z=float(p[2])) for p in tips]
    m.colors = [
        ColorRGBA(r=1.0, g=0.1, b=0.1, a=1.0) if di < -0.002
        else ColorRGBA(r=0.1, g=0.9, b=0.2, a=1.0) if c else ColorRGBA(r=0.6, g=0.6, b=0.6, a=0.5)
        for di, c in zip(d, contact)
    ]
    return MarkerArray(markers=[m])


def build():
    holder = RefinerNode()
    return holder.node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
