"""ROS message <-> numpy conversions. With the *_node.py files, the only place that imports messages.

PointCloud2 and Image conversions use structured dtypes and `np.frombuffer` (no per-point loops);
50k points convert in well under a millisecond.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Duration, Time
from geometry_msgs.msg import Point, Pose, PoseStamped, Quaternion
from nav_msgs.msg import Path
from sensor_msgs.msg import CameraInfo, Image, JointState, PointCloud2, PointField
from std_msgs.msg import Header
from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

from unihm_common.errors import InputError
from unihm_common.se3 import pose_to_transform, transform_to_pose
from unihm_common.trajectory import HandMotion

# ---------------------------------------------------------------- time

def seconds_to_duration(t_s: float) -> Duration:
    sec = int(np.floor(t_s))
    return Duration(sec=sec, nanosec=int(round((t_s - sec) * 1e9)) % 1_000_000_000)


def duration_to_seconds(d: Duration) -> float:
    return d.sec + d.nanosec * 1e-9


def seconds_to_time(t_s: float) -> Time:
    sec = int(np.floor(t_s))
    return Time(sec=sec, nanosec=int(round((t_s - sec) * 1e9)) % 1_000_000_000)


def time_to_seconds(t: Time) -> float:
    return t.sec + t.nanosec * 1e-9


def make_header(frame_id: str = "", stamp_s: float | None = None) -> Header:
    h = Header(frame_id=frame_id)
    if stamp_s is not None:
        h.stamp = seconds_to_time(stamp_s)
    return h


# ---------------------------------------------------------------- poses

def pose_to_matrix(pose: Pose) -> np.ndarray:
    p, o = pose.position, pose.orientation
    return pose_to_transform(np.array([p.x, p.y, p.z]), np.array([o.x, o.y, o.z, o.w]))


def matrix_to_pose(transform: np.ndarray) -> Pose:
    pos, quat = transform_to_pose(transform)
    return Pose(
        position=Point(x=float(pos[0]), y=float(pos[1]), z=float(pos[2])),
        orientation=Quaternion(x=float(quat[0]), y=float(quat[1]), z=float(quat[2]), w=float(quat[3])),
    )


def path_from_transforms(transforms: np.ndarray, t_s: np.ndarray, frame_id: str, start_s: float = 0.0) -> Path:
    """(T,4,4) poses at times t_s (relative, s) -> nav_msgs/Path; stamps are start_s + t_s."""
    transforms = np.asarray(transforms)
    if transforms.ndim != 3 or transforms.shape[1:] != (4, 4) or len(t_s) != len(transforms):
        raise InputError(f"path needs (T,4,4) transforms and T stamps, got {transforms.shape}, {len(t_s)}")
    path = Path(header=make_header(frame_id, start_s))
    path.poses = [
        PoseStamped(header=make_header(frame_id, start_s + float(t)), pose=matrix_to_pose(T))
        for T, t in zip(transforms, t_s)
    ]
    return path


def transforms_from_path(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """nav_msgs/Path -> ((T,4,4) poses, (T,) times relative to the first pose, s)."""
    if not path.poses:
        raise InputError("target path is empty")
    transforms = np.stack([pose_to_matrix(ps.pose) for ps in path.poses])
    stamps = np.array([time_to_seconds(ps.header.stamp) for ps in path.poses])
    return transforms, stamps - stamps[0]


# ---------------------------------------------------------------- point clouds

_PF_TO_DTYPE = {
    PointField.INT8: np.int8, PointField.UINT8: np.uint8, PointField.INT16: np.int16,
    PointField.UINT16: np.uint16, PointField.INT32: np.int32, PointField.UINT32: np.uint32,
    PointField.FLOAT32: np.float32, PointField.FLOAT64: np.float64,
}


def pointcloud2_from_arrays(
    points: np.ndarray,
    normals: np.ndarray | None = None,
    rgb: np.ndarray | None = None,
    frame_id: str = "",
    stamp_s: float | None = None,
) -> PointCloud2:
    """(N,3) points [+ (N,3) normals] [+ (N,3) uint8 colours] -> unorganised PointCloud2 (float32)."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] != 3:
        raise InputError(f"points must be (N, 3), got {points.shape}")
    n = points.shape[0]
    names = ["x", "y", "z"]
    if normals is not None:
        if np.shape(normals) != (n, 3):
            raise InputError(f"normals must be ({n}, 3), got {np.shape(normals)}")
        names += ["normal_x", "normal_y", "normal_z"]
    dtype_fields = [(name, np.float32) for name in names]
    if rgb is not None:
        if np.shape(rgb) != (n, 3):
            raise InputError(f"rgb must be ({n}, 3), got {np.shape(rgb)}")
        dtype_fields.append(("rgb", np.uint32))
    cloud = np.empty(n, dtype=dtype_fields)  # (N,) structured
    cloud["x"], cloud["y"], cloud["z"] = points[:, 0], points[:, 1], points[:, 2]
    if normals is not None:
        cloud["normal_x"], cloud["normal_y"], cloud["normal_z"] = normals[:, 0], normals[:, 1], normals[:, 2]
    if rgb is not None:
        c = np.asarray(rgb, dtype=np.uint32)
        cloud["rgb"] = (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]
    fields = []
    for name in cloud.dtype.names:
        offset = cloud.dtype.fields[name][1]
        # ROS convention: packed rgb travels in a FLOAT32 field.
        fields.append(PointField(name=name, offset=offset, datatype=PointField.FLOAT32, count=1))
    msg = PointCloud2(header=make_header(frame_id, stamp_s), height=1, width=n, fields=fields)
    msg.is_bigendian = False
    msg.point_step = cloud.dtype.itemsize
    msg.row_step = msg.point_step * n
    msg.is_dense = bool(np.all(np.isfinite(points)))
    msg.data = cloud.tobytes()
    return msg


def structured_from_pointcloud2(msg: PointCloud2) -> np.ndarray:
    """PointCloud2 -> (H*W,) structured array with the message's own fields (zero-copy view)."""
    if msg.is_bigendian:
        raise InputError("big-endian point clouds are not supported")
    names, formats, offsets = [], [], []
    for f in msg.fields:
        if f.datatype not in _PF_TO_DTYPE:
            raise InputError(f"point field {f.name!r} has unknown datatype {f.datatype}")
        names.append(f.name)
        formats.append((_PF_TO_DTYPE[f.datatype], (f.count,)) if f.count > 1 else _PF_TO_DTYPE[f.datatype])
        offsets.append(f.offset)
    dtype = np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": msg.point_step})
    n = msg.width * msg.height
    buf = memoryview(msg.data)
    if len(buf) < n * msg.point_step:
        raise InputError(f"PointCloud2 data holds {len(buf)} bytes; {n} points need {n * msg.point_step}")
    return np.frombuffer(buf, dtype=dtype, count=n)


def arrays_from_pointcloud2(msg: PointCloud2) -> dict[str, np.ndarray]:
    """PointCloud2 -> {'points': (N,3) float64, 'normals': (N,3) | absent, 'rgb': (N,3) uint8 | absent}."""
    cloud = structured_from_pointcloud2(msg)
    names = cloud.dtype.names or ()
    if not {"x", "y", "z"} <= set(names):
        raise InputError(f"PointCloud2 lacks x/y/z fields (has {names})")
    out = {"points": np.stack([cloud["x"], cloud["y"], cloud["z"]], axis=1).astype(np.float64)}
    if {"normal_x", "normal_y", "normal_z"} <= set(names):
        out["normals"] = np.stack([cloud["normal_x"], cloud["normal_y"], cloud["normal_z"]], 1).astype(np.float64)
    if "rgb" in names:
        packed = cloud["rgb"].view(np.uint32) if cloud["rgb"].dtype != np.uint32 else cloud["rgb"]
        out["rgb"] = np.stack([(packed >> 16) & 255, (packed >> 8) & 255, packed & 255], 1).astype(np.uint8)
    return out


# ---------------------------------------------------------------- images

_ENCODINGS = {"rgb8": (np.uint8, 3), "bgr8": (np.uint8, 3), "mono8": (np.uint8, 1),
              "32FC1": (np.float32, 1), "16UC1": (np.uint16, 1), "rgba8": (np.uint8, 4)}


def image_from_array(array: np.ndarray, encoding: str, frame_id: str = "", stamp_s: float | None = None) -> Image:
    """(H,W[,C]) array -> sensor_msgs/Image with the given encoding (rgb8, 32FC1, 16UC1, mono8...)."""
    if encoding not in _ENCODINGS:
        raise InputError(f"unsupported image encoding {encoding!r}; supported: {sorted(_ENCODINGS)}")
    dtype, channels = _ENCODINGS[encoding]
    array = np.ascontiguousarray(array, dtype=dtype)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[2] != channels:
        raise InputError(f"{encoding} needs (H, W, {channels}), got {array.shape}")
    h, w, _ = array.shape
    msg = Image(header=make_header(frame_id, stamp_s), height=h, width=w, encoding=encoding)
    msg.is_bigendian = 0
    msg.step = w * channels * array.itemsize
    msg.data = array.tobytes()
    return msg


def array_from_image(msg: Image) -> np.ndarray:
    """sensor_msgs/Image -> (H,W,C) array (C=1 kept as (H,W)); zero-copy view of the message data."""
    if msg.encoding not in _ENCODINGS:
        raise InputError(f"unsupported image encoding {msg.encoding!r}")
    dtype, channels = _ENCODINGS[msg.encoding]
    row = msg.width * channels * np.dtype(dtype).itemsize
    if msg.step != row:
        raise InputError(f"image step {msg.step} != width*channels*itemsize {row} (padded rows unsupported)")
    arr = np.frombuffer(memoryview(msg.data), dtype=dtype, count=msg.height * msg.width * channels)
    arr = arr.reshape(msg.height, msg.width, channels)
    return arr[..., 0] if channels == 1 else arr


def camera_info_from_K(K: np.ndarray, width: int, height: int, frame_id: str = "",
                       stamp_s: float | None = None) -> CameraInfo:
    """(3,3) pinhole intrinsics of an undistorted (rectified) image -> sensor_msgs/CameraInfo."""
    K = np.asarray(K, dtype=np.float64)
    if K.shape != (3, 3) or not np.all(np.isfinite(K)):
        raise InputError(f"K must be a finite (3, 3) matrix, got {K.shape}")
    msg = CameraInfo(header=make_header(frame_id, stamp_s), width=int(width), height=int(height))
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = K.ravel().tolist()
    msg.r = np.eye(3).ravel().tolist()
    msg.p = np.hstack([K, np.zeros((3, 1))]).ravel().tolist()
    return msg


def K_from_camera_info(msg: CameraInfo) -> np.ndarray:
    """sensor_msgs/CameraInfo -> (3,3) K (raises InputError on a zero/invalid matrix)."""
    K = np.asarray(msg.k, dtype=np.float64).reshape(3, 3)
    if not np.all(np.isfinite(K)) or K[0, 0] <= 0 or K[1, 1] <= 0:
        raise InputError(f"camera_info has an invalid K (fx={K[0, 0]}, fy={K[1, 1]})")
    return K


def pose_stamped_from_matrix(transform: np.ndarray, frame_id: str, stamp_s: float | None = None) -> PoseStamped:
    return PoseStamped(header=make_header(frame_id, stamp_s), pose=matrix_to_pose(np.asarray(transform)))


# ---------------------------------------------------------------- joints

def joint_trajectory_from_motion(motion: HandMotion, start_s: float | None = None) -> JointTrajectory:
    """HandMotion -> trajectory_msgs/JointTrajectory (time_from_start = motion.t_s - t_s[0])."""
    msg = JointTrajectory(header=make_header("", start_s), joint_names=list(motion.joint_names))
    msg.points = _points_from_motion(motion)
    return msg


def _points_from_motion(motion: HandMotion, keep_time_offset: bool = False) -> list[JointTrajectoryPoint]:
    t0 = motion.t_s[0] if motion.num_frames and not keep_time_offset else 0.0
    points = []
    for i in range(motion.num_frames):
        p = JointTrajectoryPoint(time_from_start=seconds_to_duration(float(motion.t_s[i] - t0)))
        p.positions = motion.q[i]
        if motion.qd is not None:
            p.velocities = motion.qd[i]
        points.append(p)
    return points


def motion_from_joint_trajectory(msg: JointTrajectory, hand: str = "") -> HandMotion:
    if not msg.points:
        raise InputError("joint trajectory has no points")
    t = np.array([duration_to_seconds(p.time_from_start) for p in msg.points])
    q = np.array([np.asarray(p.positions, dtype=np.float64) for p in msg.points])
    has_vel = all(len(p.velocities) == len(msg.joint_names) for p in msg.points)
    qd = np.array([np.asarray(p.velocities) for p in msg.points]) if has_vel else None
    return HandMotion(hand=hand, joint_names=tuple(msg.joint_names), t_s=t, q=q, qd=qd)


def hand_trajectory_from_motion(motion: HandMotion, frame_id: str = "world", start_s: float | None = None,
                                keep_time_offset: bool = False):
    """HandMotion -> unihm_msgs/HandTrajectory. The first point is at time_from_start 0, or, with
    `keep_time_offset`, at motion.t_s[0] (>= 0: drivers then approach it from where they are)."""
    from unihm_msgs.msg import HandTrajectory

    if keep_time_offset and motion.num_frames and motion.t_s[0] < 0:
        raise InputError(f"time_from_start cannot be negative (t_s[0] = {motion.t_s[0]})")
    msg = HandTrajectory(header=make_header(frame_id, start_s), hand=motion.hand)
    msg.joint_names = list(motion.joint_names)
    msg.points = _points_from_motion(motion, keep_time_offset)
    if motion.T_world_wrist is not None:
        msg.wrist_poses = [matrix_to_pose(T) for T in motion.T_world_wrist]
    return msg


def motion_from_hand_trajectory(msg) -> HandMotion:
    """unihm_msgs/HandTrajectory -> HandMotion (raises InputError on empty/ragged/NaN data)."""
    if not msg.points:
        raise InputError(f"hand trajectory for {msg.hand!r} has no points")
    n_j = len(msg.joint_names)
    if any(len(p.positions) != n_j for p in msg.points):
        raise InputError(f"hand trajectory points must each hold {n_j} positions")
    base = motion_from_joint_trajectory(JointTrajectory(joint_names=msg.joint_names, points=msg.points), msg.hand)
    wrist = None
    if msg.wrist_poses:
        if len(msg.wrist_poses) != len(msg.points):
            raise InputError(f"{len(msg.wrist_poses)} wrist poses for {len(msg.points)} points")
        wrist = np.stack([pose_to_matrix(p) for p in msg.wrist_poses])
    return HandMotion(msg.hand, base.joint_names, base.t_s, base.q, base.qd, wrist)


def joint_state_from_arrays(
    names, positions, velocities=None, efforts=None, stamp_s: float | None = None
) -> JointState:
    msg = JointState(header=make_header("", stamp_s), name=list(names))
    msg.position = np.asarray(positions, dtype=np.float64)
    if velocities is not None:
        msg.velocity = np.asarray(velocities, dtype=np.float64)
    if efforts is not None:
        msg.effort = np.asarray(efforts, dtype=np.float64)
    return msg
