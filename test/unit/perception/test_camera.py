import sys

import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_perception.camera import camera_backends, make_camera
from unihm_perception.frame import RGBDFrame, backproject


def test_backends_registered():
    assert {"synthetic", "zed", "bag"} <= set(camera_backends())


def test_synthetic_frame_is_typed_and_consistent():
    cam = make_camera("synthetic", {"seed": 1, "width": 160, "height": 120, "fx": 115.0})
    with cam:
        f = cam.read()
    assert isinstance(f, RGBDFrame)
    assert f.rgb.shape == (120, 160, 3) and f.rgb.dtype == np.uint8
    assert f.depth_m.shape == (120, 160) and f.depth_m.dtype == np.float32
    inst = cam.last.instance
    # table pixels back-project onto z = 0 (noise ~ 2 mm at 1 m)
    pts, _, pix = backproject(f, mask=inst == -1)
    assert abs(np.median(pts[:, 2])) < 0.003


def test_unknown_backend_and_strict_config():
    with pytest.raises(ConfigError, match="unknown camera backend 'kinect'"):
        make_camera("kinect")
    with pytest.raises(ConfigError, match="unknown key 'widht'"):
        make_camera("synthetic", {"widht": 10})
    with pytest.raises(ConfigError, match="dropout"):
        make_camera("synthetic", {"dropout": 2.0})


@pytest.mark.parametrize("depth", [np.zeros((0, 0), np.float32), np.full((4, 4), np.nan, np.float32),
                                   np.zeros((4, 4), np.float32)])
def test_empty_or_nan_depth_is_a_clear_error(depth):
    rgb = np.zeros((*depth.shape, 3), np.uint8)
    f = RGBDFrame(rgb=rgb, depth_m=depth, K=np.eye(3), T_world_camera=np.eye(4))
    with pytest.raises(InputError, match="depth"):
        f.check()


def test_zed_absent_names_the_sdk(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyzed", None)
    monkeypatch.setitem(sys.modules, "pyzed.sl", None)
    cam = make_camera("zed")
    with pytest.raises(MissingDependencyError, match="Stereolabs ZED SDK"):
        cam.read()


def test_bag_playback_round_trip(tmp_path):
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    src = make_camera("synthetic", {"seed": 2, "width": 64, "height": 48, "fx": 46.0}).read()
    ts = get_typestore(Stores.ROS2_KILTED)
    Image, Info, Header, Time = (ts.types[n] for n in ("sensor_msgs/msg/Image", "sensor_msgs/msg/CameraInfo",
                                                       "std_msgs/msg/Header", "builtin_interfaces/msg/Time"))
    RoI = ts.types["sensor_msgs/msg/RegionOfInterest"]
    hdr = Header(stamp=Time(sec=1, nanosec=0), frame_id="cam")
    h, w = src.depth_m.shape
    rgb = Image(header=hdr, height=h, width=w, encoding="rgb8", is_bigendian=0, step=3 * w,
                data=src.rgb.reshape(-1).copy())
    dep = Image(header=hdr, height=h, width=w, encoding="32FC1", is_bigendian=0, step=4 * w,
                data=src.depth_m.astype("<f4").view(np.uint8).reshape(-1).copy())
    info = Info(header=hdr, height=h, width=w, distortion_model="plumb_bob", d=np.zeros(5), k=src.K.reshape(-1),
                r=np.eye(3).reshape(-1), p=np.zeros(12), binning_x=0, binning_y=0,
                roi=RoI(x_offset=0, y_offset=0, height=0, width=0, do_rectify=False))
    path = tmp_path / "bag"
    with Writer(path, version=9, storage_plugin=StoragePlugin.MCAP) as wr:
        for topic, msg in (("/camera/color/image_raw", rgb), ("/camera/depth/image_raw", dep),
                           ("/camera/color/camera_info", info)):
            conn = wr.add_connection(topic, msg.__msgtype__, typestore=ts)
            wr.write(conn, 1_000_000_000, ts.serialize_cdr(msg, msg.__msgtype__))
    cam = make_camera("bag", {"path": str(path)})
    f = cam.read()
    np.testing.assert_array_equal(f.rgb, src.rgb)
    np.testing.assert_array_equal(f.depth_m, src.depth_m)
    np.testing.assert_allclose(f.K, src.K)
    with pytest.raises(InputError, match="exhausted"):
        cam.read()
    with pytest.raises(InputError, match="not found"):
        make_camera("bag", {"path": str(tmp_path / "missing")}).read()
