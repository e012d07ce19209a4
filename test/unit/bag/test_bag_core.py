"""MCAP bags without rclpy: writer/reader round trip, readers other than ours, camera bags, errors."""

from __future__ import annotations

import numpy as np
import pytest

from unihm_common.bag import BagWriter, bag_info, parse_remaps, read_messages
from unihm_common.bag.mcap_io import apply_namespace, message_definition, play_offsets, typestore
from unihm_common.cli import main
from unihm_common.errors import InputError


def string_cdr(store, text: str) -> bytes:
    return bytes(store.serialize_cdr(store.types["std_msgs/msg/String"](data=text), "std_msgs/msg/String"))


@pytest.fixture
def small_bag(tmp_path):
    store = typestore()
    path = tmp_path / "b.mcap"
    sent = []
    with BagWriter(path, store) as w:
        w.add_topic("/chatter", "std_msgs/msg/String")
        w.add_topic("/latched", "std_msgs/msg/String", latched=True)
        w.write("/latched", 5_000_000, string_cdr(store, "once"))
        sent.append(("/latched", 5_000_000, string_cdr(store, "once")))
        for i in range(6):
            t = 10_000_000 + i * 100_000_000
            w.write("/chatter", t, string_cdr(store, f"hello {i}"))
            sent.append(("/chatter", t, string_cdr(store, f"hello {i}")))
    return path, sent


def test_round_trip_keeps_bytes_order_and_times(small_bag):
    path, sent = small_bag
    got = [(m.topic, m.log_time_ns, m.data) for m in read_messages(path)]
    assert got == sent
    assert [m.topic for m in read_messages(path, ["/chatter"])] == ["/chatter"] * 6
    info = bag_info(path)
    by = {t.topic: t for t in info["topics"]}
    assert by["/chatter"].count == 6 and not by["/chatter"].latched and by["/latched"].latched
    assert info["count"] == 7 and info["duration_s"] == pytest.approx(0.505)


def test_rosbags_and_mcap_ros2_read_what_we_write(small_bag):
    from mcap.reader import make_reader
    from mcap_ros2.decoder import DecoderFactory
    from rosbags.highlevel import AnyReader

    path, sent = small_bag
    with AnyReader([path], default_typestore=typestore()) as reader:
        texts = [(c.topic, reader.deserialize(raw, c.msgtype).data) for c, _t, raw in reader.messages()]
    assert texts[0] == ("/latched", "once") and [t for _, t in texts[1:]] == [f"hello {i}" for i in range(6)]
    # mcap_ros2 parses the ros2msg schema text itself, as rosbag2's mcap plugin does
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        decoded = [(ch.topic, msg.data) for _s, ch, _m, msg in reader.iter_decoded_messages(log_time_order=True)]
    assert decoded == texts


def test_message_definitions_are_ros2msg_with_dependencies():
    text = message_definition("sensor_msgs/msg/Image")
    assert text.startswith("std_msgs/Header header") and "MSG: std_msgs/Header" in text and "uint8[] data" in text
    with pytest.raises(InputError, match="unknown"):
        message_definition("nope_msgs/msg/Nothing")
    with pytest.raises(InputError, match="pkg/msg/Name"):
        message_definition("String")


def test_project_message_types_come_from_installed_msg_files(tmp_path):
    from rosbags.highlevel import AnyReader

    text = message_definition("unihm_msgs/msg/HandTrajectory")
    assert text.startswith("std_msgs/Header header") and "MSG: trajectory_msgs/JointTrajectoryPoint" in text
    store = typestore()
    assert "unihm_msgs/msg/StageTiming" not in store.types
    message_definition("unihm_msgs/msg/StageTiming", store)  # registers it
    with BagWriter(tmp_path / "h.mcap", store) as w:
        msg = store.types["unihm_msgs/msg/StageTiming"](stage="policy", duration_ms=12.5)
        w.write_message("/timing", "unihm_msgs/msg/StageTiming", 1, msg)
    with AnyReader([tmp_path / "h.mcap"]) as reader:  # types come from the bag's own schemas
        got = [reader.deserialize(raw, c.msgtype) for c, _t, raw in reader.messages()]
    assert [(m.stage, m.duration_ms) for m in got] == [("policy", 12.5)]


def test_errors_name_what_is_wrong(tmp_path, small_bag):
    with pytest.raises(InputError, match="not found"):
        bag_info(tmp_path / "missing.mcap")
    with pytest.raises(InputError, match="not found"):
        list(read_messages(tmp_path / "missing.mcap"))
    with pytest.raises(InputError, match=r"/nope"):
        list(read_messages(small_bag[0], ["/nope"]))
    (tmp_path / "junk.mcap").write_bytes(b"not an mcap file at all")
    with pytest.raises(InputError, match="MCAP"):
        bag_info(tmp_path / "junk.mcap")
    with pytest.raises(InputError, match=".mcap"):
        BagWriter(tmp_path / "x.bag")
    with BagWriter(tmp_path / "y.mcap") as w:
        with pytest.raises(InputError, match="absolute"):
            w.add_topic("relative", "std_msgs/msg/String")
        with pytest.raises(InputError, match="not added"):
            w.write("/never", 0, b"")


def test_remaps_namespaces_and_offsets():
    assert parse_remaps(["/a:=/b", "/c:=/d/e"]) == {"/a": "/b", "/c": "/d/e"}
    with pytest.raises(InputError, match="/from:=/to"):
        parse_remaps(["/a=/b"])
    assert apply_namespace("/camera/x", "/ns") == "/ns/camera/x" and apply_namespace("/x", "") == "/x"
    assert play_offsets([10, 10 + 2_000_000_000, 10 + 3_000_000_000], rate=2.0) == pytest.approx([0, 1.0, 1.5])
    with pytest.raises(InputError, match="rate"):
        play_offsets([0], rate=0)


def test_make_camera_bag_feeds_the_bag_camera_backend(tmp_path):
    from unihm_common.bag.camera import make_camera_bag
    from unihm_perception.camera.bag import BagCameraConfig, read_bag_frames
    from unihm_perception.camera.synthetic import SyntheticCamera, SyntheticCameraConfig
    from unihm_perception.scene import sample_scene

    path = tmp_path / "cam.mcap"
    res = make_camera_bag(path, seed=3, frames=2, fps=5.0, width=64, height=48, fx=46.0)
    assert res["messages"] == 2 * 3 + 1
    info = {t.topic: t for t in bag_info(path)["topics"]}
    assert info["/camera/pose"].latched and info["/camera/color/image_raw"].count == 2
    frames = read_bag_frames(BagCameraConfig(path=str(path)))
    cfg = SyntheticCameraConfig(width=64, height=48, fx=46.0, seed=3)
    cam = SyntheticCamera(cfg)
    cam.set_scene(sample_scene(np.random.default_rng(3), cfg.scene))
    assert len(frames) == 2
    for f in frames:  # the same renderer, seeds and order: identical pixels
        ref = cam.read()
        assert np.array_equal(f.rgb, ref.rgb)
        assert np.array_equal(np.isnan(f.depth_m), np.isnan(ref.depth_m))
        assert np.allclose(f.depth_m[~np.isnan(f.depth_m)], ref.depth_m[~np.isnan(ref.depth_m)])
        assert np.allclose(f.K, cfg.K())
        np.testing.assert_allclose(f.T_world_camera, ref.T_world_camera, atol=1e-9)  # from the bag's pose topic
    assert frames[1].stamp_s - frames[0].stamp_s == pytest.approx(0.2)
    # the pose message carries T_world_camera
    from rosbags.highlevel import AnyReader
    with AnyReader([path], default_typestore=typestore()) as reader:
        conn = [c for c in reader.connections if c.topic == "/camera/pose"]
        pose = [reader.deserialize(raw, c.msgtype).pose for c, _t, raw in reader.messages(connections=conn)][0]
    assert np.allclose([pose.position.x, pose.position.y, pose.position.z], cfg.T_world_camera()[:3, 3])


def test_cli_info_and_errors(small_bag, capsys, tmp_path):
    assert main(["bag", "info", str(small_bag[0])]) == 0
    out = capsys.readouterr().out
    assert "/chatter" in out and "(latched)" in out and "messages:  7" in out
    assert main(["bag", "info", str(tmp_path / "none.mcap")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["bag", "record", str(tmp_path / "r.mcap")]) == 2  # neither --topics nor --all
    assert main(["bag", "make-camera", str(tmp_path / "c.mcap"), "--frames", "0"]) == 2
