"""`unihm bag make-camera`: a bag of the camera node's topics rendered by the synthetic renderer (no rclpy).

Topics (absolute, as the camera node under the root namespace; see docs/architecture.md):
`/camera/color/image_raw` (rgb8), `/camera/depth/image_raw` (32FC1 m), `/camera/color/camera_info`,
`/camera/pose` (PoseStamped, latched, once). Frames are `1/fps` apart; stamps start at `start_s`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unihm_common.bag.mcap_io import BagWriter, typestore
from unihm_common.errors import InputError, MissingDependencyError

COLOR, DEPTH, INFO, POSE = ("/camera/color/image_raw", "/camera/depth/image_raw", "/camera/color/camera_info",
                            "/camera/pose")
OPTICAL_FRAME = "camera_color_optical_frame"


def _msgs(store):
    t = store.types
    return (t["sensor_msgs/msg/Image"], t["sensor_msgs/msg/CameraInfo"], t["std_msgs/msg/Header"],
            t["builtin_interfaces/msg/Time"], t["geometry_msgs/msg/PoseStamped"])


def _header(store, stamp_s: float, frame_id: str):
    _, _, Header, Time, _ = _msgs(store)
    ns = int(round(stamp_s * 1e9))
    return Header(stamp=Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000), frame_id=frame_id)


def image_msg(store, array: np.ndarray, encoding: str, stamp_s: float, frame_id: str = OPTICAL_FRAME):
    """rosbags sensor_msgs/Image from (H,W,3) uint8 (rgb8) or (H,W) float32 (32FC1)."""
    Image = _msgs(store)[0]
    if encoding == "rgb8":
        a = np.ascontiguousarray(array, dtype=np.uint8)
    elif encoding == "32FC1":
        a = np.ascontiguousarray(array, dtype="<f4")
    else:
        raise InputError(f"unsupported encoding {encoding!r} (rgb8, 32FC1)")
    h, w = a.shape[:2]
    return Image(header=_header(store, stamp_s, frame_id), height=h, width=w, encoding=encoding, is_bigendian=0,
                 step=a.nbytes // h, data=np.frombuffer(a.tobytes(), dtype=np.uint8))


def camera_info_msg(store, K: np.ndarray, width: int, height: int, stamp_s: float, frame_id: str = OPTICAL_FRAME):
    CameraInfo = _msgs(store)[1]
    RegionOfInterest = store.types["sensor_msgs/msg/RegionOfInterest"]
    P = np.zeros((3, 4))
    P[:, :3] = K
    return CameraInfo(header=_header(store, stamp_s, frame_id), height=height, width=width,
                      distortion_model="plumb_bob", d=np.zeros(5), k=np.asarray(K, float).ravel(),
                      r=np.eye(3).ravel(), p=P.ravel(), binning_x=0, binning_y=0,
                      roi=RegionOfInterest(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))


def pose_msg(store, T: np.ndarray, stamp_s: float, frame_id: str = "world"):
    from scipy.spatial.transform import Rotation

    PoseStamped = _msgs(store)[4]
    t = store.types
    x, y, z, w = Rotation.from_matrix(np.asarray(T)[:3, :3]).as_quat()
    pose = t["geometry_msgs/msg/Pose"](position=t["geometry_msgs/msg/Point"](x=float(T[0, 3]), y=float(T[1, 3]),
                                                                             z=float(T[2, 3])),
                                       orientation=t["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w))
    return PoseStamped(header=_header(store, stamp_s, frame_id), pose=pose)


def make_camera_bag(out: str | Path, seed: int = 0, frames: int = 5, fps: float = 5.0, width: int = 320,
                    height: int = 240, fx: float = 230.0, scene_file: str = "", start_s: float = 1.0) -> dict:
    """Render `frames` views of one seeded tabletop scene into `out` (.mcap). Returns a summary dict."""
    if frames < 1 or not fps > 0:
        raise InputError(f"frames must be >= 1 and fps > 0, got {frames}, {fps}")
    try:
        from unihm_perception.camera.synthetic import SyntheticCamera, SyntheticCameraConfig
        from unihm_perception.scene import load_scene, sample_scene
    except ImportError as exc:
        raise MissingDependencyError("make-camera needs the unihm_perception package (synthetic renderer)") from exc
    cfg = SyntheticCameraConfig(width=width, height=height, fx=fx, seed=seed)
    cam = SyntheticCamera(cfg)
    cam.set_scene(load_scene(scene_file) if scene_file else sample_scene(np.random.default_rng(seed), cfg.scene))
    store = typestore()
    with BagWriter(out, store) as w:
        w.add_topic(POSE, "geometry_msgs/msg/PoseStamped", latched=True)
        for i in range(frames):
            frame = cam.read()
            stamp = start_s + i / fps
            t_ns = int(round(stamp * 1e9))
            if i == 0:
                w.write_message(POSE, "geometry_msgs/msg/PoseStamped", t_ns, pose_msg(store, frame.T_world_camera,
                                                                                       stamp))
            w.write_message(INFO, "sensor_msgs/msg/CameraInfo", t_ns, camera_info_msg(store, frame.K, width, height,
                                                                                        stamp))
            w.write_message(DEPTH, "sensor_msgs/msg/Image", t_ns, image_msg(store, frame.depth_m, "32FC1", stamp))
            w.write_message(COLOR, "sensor_msgs/msg/Image", t_ns, image_msg(store, frame.rgb, "rgb8", stamp))
        count = w.count
    return {"path": str(out), "frames": frames, "messages": count, "seed": seed, "size": [width, height]}
