"""`unihm bag record` -> `unihm bag play` with real rclpy: same bytes, order, latching and relative timing."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pytest
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Image
from std_msgs.msg import String

from unihm_common import conversions as conv
from unihm_common.bag import bag_info, read_messages
from unihm_common.bag_node import play_bag, record_bag
from unihm_common.errors import InputError
from unihm_msgs.msg import StageTiming

pytestmark = pytest.mark.ros

LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
STREAM = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
RATE = 2.0


def run_in_thread(fn, **kw):
    out = {}
    th = threading.Thread(target=lambda: out.__setitem__("res", fn(**kw)), daemon=True)
    th.start()
    return th, out


@pytest.fixture
def recorded(ros, tmp_path):
    """Publish 4 topics (one latched), record them; returns (bag path, {topic: [messages sent]}, prefix)."""
    pre = f"/bag_{uuid.uuid4().hex[:8]}"
    n = ros.node
    pubs = {f"{pre}/chatter": n.create_publisher(String, f"{pre}/chatter", STREAM),
            f"{pre}/image": n.create_publisher(Image, f"{pre}/image", STREAM),
            f"{pre}/latched": n.create_publisher(String, f"{pre}/latched", LATCHED),
            f"{pre}/timing": n.create_publisher(StageTiming, f"{pre}/timing", STREAM)}  # a project type
    sent = {t: [] for t in pubs}

    def pub(topic, msg):
        pubs[topic].publish(msg)
        sent[topic].append(msg)

    pub(f"{pre}/latched", String(data="latched before the recorder started"))
    total = 1 + 10 + 3 + 1
    th, out = run_in_thread(record_bag, out=tmp_path / "rec.mcap", topics=list(pubs), context=ros.context,
                            max_messages=total, duration_s=60.0)
    subscribed = lambda: all(p.get_subscription_count() > 0 for p in pubs.values())  # noqa: E731
    assert ros.wait_for(subscribed, 20), "recorder never subscribed"
    rng = np.random.default_rng(0)
    for i in range(10):
        pub(f"{pre}/chatter", String(data=f"msg {i}"))
        if i % 4 == 0:
            pub(f"{pre}/image", conv.image_from_array(rng.integers(0, 255, (6, 8, 3)), "rgb8", "cam", float(i)))
        time.sleep(0.03)
    pub(f"{pre}/timing", StageTiming(stage="policy", duration_ms=12.5))
    th.join(60)
    assert not th.is_alive(), "recorder did not stop after all messages"
    res = out["res"]
    assert res["messages"] == total and res["missing"] == [] and sorted(res["topics"]) == sorted(pubs)
    return tmp_path / "rec.mcap", sent, pre


def test_record_writes_every_message_in_order(recorded):
    path, sent, pre = recorded
    msgs = list(read_messages(path))
    for topic, sent_msgs in sent.items():  # compare decoded: CDR padding bytes are not specified
        cls = type(sent_msgs[0])
        assert [deserialize_message(m.data, cls) for m in msgs if m.topic == topic] == sent_msgs
    info = {t.topic: t for t in bag_info(path)["topics"]}
    assert info[f"{pre}/latched"].latched and not info[f"{pre}/chatter"].latched
    assert info[f"{pre}/image"].msgtype == "sensor_msgs/msg/Image"
    times = [m.log_time_ns for m in msgs]
    assert times == sorted(times)


def test_play_republishes_the_same_bytes_with_timing(ros, recorded):
    path, sent, pre = recorded
    got = {t: [] for t in sent}
    lock = threading.Lock()

    def keep(topic):
        def cb(data: bytes) -> None:
            with lock:
                got[topic].append((time.monotonic(), bytes(data)))
        return cb

    for topic, cls in ((f"{pre}/chatter", String), (f"{pre}/image", Image), (f"{pre}/timing", StageTiming)):
        ros.node.create_subscription(cls, f"/replay{topic}", keep(topic), STREAM, raw=True)
    done = threading.Event()
    th, out = run_in_thread(play_bag, path=path, rate=RATE, namespace="/replay", topics=None,
                            wait_subscribers_s=20.0, start_delay_s=0.2, linger_s=30.0, context=ros.context,
                            stop=done.is_set)
    assert ros.wait_for(lambda: [len(got[f"{pre}/{t}"]) for t in ("chatter", "image", "timing")] == [10, 3, 1], 30)
    # a subscriber that joins after playback still gets the latched sample
    ros.node.create_subscription(String, f"/replay{pre}/latched", keep(f"{pre}/latched"), LATCHED, raw=True)
    assert ros.wait_for(lambda: len(got[f"{pre}/latched"]) == 1, 20), "latched topic not latched on replay"
    done.set()
    th.join(30)
    assert out["res"]["published"] == 15
    for topic in sent:  # byte for byte what the bag holds, in order
        assert [d for _, d in got[topic]] == [m.data for m in read_messages(path, [topic])], topic
    # relative timing: never earlier than recorded / RATE (lower bound only: a busy machine can only be late)
    rec = [m.log_time_ns for m in read_messages(path, [f"{pre}/chatter"])]
    arr = [t for t, _ in got[f"{pre}/chatter"]]
    assert arr[-1] - arr[0] >= (rec[-1] - rec[0]) * 1e-9 / RATE - 0.05


def test_unknown_topics_and_missing_files_are_errors(ros, tmp_path, recorded):
    path, _, pre = recorded
    with pytest.raises(InputError, match="/nope"):
        play_bag(path, topics=["/nope"], context=ros.context)
    with pytest.raises(InputError, match="/nope"):
        play_bag(path, remaps={"/nope": "/x"}, context=ros.context)
    with pytest.raises(InputError, match="not found"):
        play_bag(tmp_path / "missing.mcap", context=ros.context)
    res = record_bag(tmp_path / "empty.mcap", [f"{pre}/never_published"], duration_s=0.5, context=ros.context)
    assert res["missing"] == [f"{pre}/never_published"] and res["messages"] == 0


def test_cli_play_and_record_across_processes(tmp_path):
    """`unihm bag play --loop` in one process, `unihm bag record` in another, on a make-camera bag."""
    import signal
    import subprocess
    import sys

    from unihm_common.bag.camera import make_camera_bag

    make_camera_bag(tmp_path / "cam.mcap", seed=1, frames=2, fps=10.0, width=32, height=24, fx=23.0)
    ns = f"/cli_{uuid.uuid4().hex[:8]}"
    unihm = [sys.executable, "-m", "unihm_common.cli", "bag"]
    player = subprocess.Popen(unihm + ["play", str(tmp_path / "cam.mcap"), "--loop", "--rate", "4", "--namespace", ns],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rec = subprocess.run(unihm + ["record", str(tmp_path / "out.mcap"), "--topics", f"{ns}/camera/pose",
                                      f"{ns}/camera/color/image_raw", "--max-messages", "5", "--duration", "120"],
                             capture_output=True, text=True, timeout=180)
    finally:
        player.send_signal(signal.SIGINT)
        _, perr = player.communicate(timeout=30)
    assert rec.returncode == 0, rec.stderr
    assert player.returncode == 0, perr
    info = {t.topic: t for t in bag_info(tmp_path / "out.mcap")["topics"]}
    assert info[f"{ns}/camera/pose"].latched and info[f"{ns}/camera/pose"].count >= 1
    assert info[f"{ns}/camera/color/image_raw"].msgtype == "sensor_msgs/msg/Image"
    orig = {m.data for m in read_messages(tmp_path / "cam.mcap", ["/camera/color/image_raw"])}
    assert {m.data for m in read_messages(tmp_path / "out.mcap", [f"{ns}/camera/color/image_raw"])} <= orig
