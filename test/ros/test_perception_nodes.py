"""camera_node -> perception_node (segment_object) -> planner_node (plan_target), in-process and across processes.

One seeded synthetic episode at 320x240: the scene is saved to a file that only the camera node reads; the
test keeps the ground truth (object mask, pick and goal poses) to judge what the services return.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid

import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import PointCloud2
from visualization_msgs.msg import MarkerArray

from unihm_common import conversions as conv
from unihm_common.supervisor import executable_command
from unihm_msgs.srv import PlanTarget, SegmentObject
from unihm_perception import topics
from unihm_perception.camera.synthetic import SyntheticCameraConfig, render
from unihm_perception.frame import backproject
from unihm_perception.scene import save_scene
from unihm_planner.target.tasks import sample_episode

pytestmark = pytest.mark.ros

EPISODE_SEED = 2  # "move the brown pudding box in front of the blue master chef can"
CAM = SyntheticCameraConfig(width=320, height=240, fx=230.0)
CAMERA_PARAMS = {"camera.width": CAM.width, "camera.height": CAM.height, "camera.fx": CAM.fx, "rate_hz": 10.0}
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


@pytest.fixture(scope="module")
def episode(tmp_path_factory):
    ep = sample_episode(np.random.default_rng(EPISODE_SEED))
    path = tmp_path_factory.mktemp("scene") / "scene.npz"
    save_scene(str(path), ep.scene)
    return ep, str(path)


def wait_for(predicate, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def call(client, request, timeout_s: float = 60.0):
    assert client.wait_for_service(timeout_sec=timeout_s), f"service {client.srv_name} never appeared"
    future = client.call_async(request)
    assert wait_for(future.done, timeout_s), f"{client.srv_name} did not answer"
    return future.result()


def segment_request(instruction: str, complete: bool, stamp_s: float = 12.5) -> SegmentObject.Request:
    return SegmentObject.Request(header=conv.make_header("", stamp_s), instruction=instruction, complete=complete)


def voxel_iou(a: np.ndarray, b: np.ndarray, voxel_m: float = 0.01) -> float:
    va = {tuple(v) for v in np.floor(a / voxel_m).astype(int)}
    vb = {tuple(v) for v in np.floor(b / voxel_m).astype(int)}
    return len(va & vb) / max(len(va | vb), 1)


class InProcessGraph:
    """The three nodes (and a client node) in one context, spun by one executor thread."""

    def __init__(self, scene_file: str) -> None:
        from unihm_perception.camera_node import CameraNode
        from unihm_perception.perception_node import PerceptionNode
        from unihm_planner.planner_node import PlannerNode

        self.ns = f"/pn_{uuid.uuid4().hex[:8]}"
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        kw = {"context": self.context, "namespace": self.ns}
        params = [Parameter(k, value=v) for k, v in (CAMERA_PARAMS | {"scene_file": scene_file}).items()]
        self.camera = CameraNode(parameter_overrides=params, **kw)
        self.perception = PerceptionNode(**kw)
        self.planner = PlannerNode(**kw)
        self.lonely = PerceptionNode(context=self.context, namespace=self.ns + "_nocam")  # no camera feeds it
        self.client = rclpy.create_node("client", **kw)
        self.executor = SingleThreadedExecutor(context=self.context)
        for n in (self.camera.node, self.perception.node, self.planner.node, self.lonely.node, self.client):
            self.executor.add_node(n)
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()
        self.segment = self.client.create_client(SegmentObject, topics.SEGMENT_SERVICE)
        self.plan = self.client.create_client(PlanTarget, topics.PLAN_SERVICE)

    def close(self) -> None:
        self.executor.shutdown()
        self.thread.join(timeout=10)  # a running camera tick ends before the nodes go
        self.camera.close()
        for n in (self.camera.node, self.perception.node, self.planner.node, self.lonely.node, self.client):
            n.destroy_node()
        rclpy.try_shutdown(context=self.context)


@pytest.fixture(scope="module")
def graph(episode):
    g = InProcessGraph(episode[1])
    try:
        assert wait_for(lambda: g.perception.sync._latest is not None and g.planner.sync._latest is not None, 60), \
            "no synchronized camera frame reached the perception and planner nodes"
        yield g
    finally:
        g.close()


def ground_truth_points(ep) -> np.ndarray:
    rr = render(ep.scene, CAM.K(), CAM.T_world_camera(), CAM.width, CAM.height)  # noise-free, same camera
    return backproject(rr.frame, rr.instance == ep.pick_index)[0], rr


def test_segment_object_matches_ground_truth_mask(graph, episode):
    ep, _ = episode
    res = call(graph.segment, segment_request(ep.instruction, complete=False))
    assert res.success, res.message
    got = conv.arrays_from_pointcloud2(res.object_cloud)
    assert res.object_cloud.header.frame_id == "world" and "normals" not in got and "rgb" in got
    gt, rr = ground_truth_points(ep)
    iou = voxel_iou(got["points"], gt)
    others = [voxel_iou(got["points"], backproject(rr.frame, rr.instance == i)[0])
              for i in range(len(ep.scene.objects)) if i != ep.pick_index and (rr.instance == i).any()]
    assert iou > 0.5, f"voxel IoU with the instructed object only {iou:.2f}"
    assert max(others) < 0.1, f"cloud overlaps another object (IoU {max(others):.2f})"
    assert res.object_cloud.header.stamp == conv.seconds_to_time(12.5)
    assert len(res.stage_ms) == 2 and res.stage_ms[0] > 0


def test_completed_cloud_is_latched_with_normals_and_markers(graph, episode):
    ep, _ = episode
    got, lock = {}, threading.Lock()

    def keep(key):
        def cb(msg):
            with lock:
                got[key] = msg
        return cb

    res = call(graph.segment, segment_request(ep.instruction, complete=True, stamp_s=20.0))
    assert res.success, res.message
    data = conv.arrays_from_pointcloud2(res.object_cloud)
    np.testing.assert_allclose(np.linalg.norm(data["normals"], axis=1), 1.0, atol=1e-3)
    centre = (data["points"].min(0) + data["points"].max(0)) / 2
    assert np.linalg.norm(centre - ep.pick_xyz) < 0.02, f"completed box centre {centre} vs {ep.pick_xyz}"
    # a late subscriber still gets the last answer (latched)
    graph.client.create_subscription(PointCloud2, topics.OBJECT_CLOUD, keep("cloud"), LATCHED)
    graph.client.create_subscription(MarkerArray, topics.PERCEPTION_MARKERS, keep("markers"), LATCHED)
    assert wait_for(lambda: len(got) == 2, 10), f"latched topics missing: got {list(got)}"
    assert got["cloud"] == res.object_cloud
    kinds = {m.ns: m for m in got["markers"].markers}
    assert set(kinds) == {"perception/object", "perception/label", "perception/table"}
    assert kinds["perception/label"].text == res.object_name
    assert len(kinds["perception/object"].points) == 24  # 12 box edges


def test_plan_target_path_ends_at_the_goal(graph, episode):
    ep, _ = episode
    seg = call(graph.segment, segment_request(ep.instruction, complete=True))
    assert seg.success, seg.message
    got = {}
    graph.client.create_subscription(MarkerArray, topics.PLAN_MARKERS, lambda m: got.__setitem__("m", m), LATCHED)
    req = PlanTarget.Request(header=conv.make_header("", 30.0), instruction=ep.instruction,
                             object_cloud=seg.object_cloud, num_frames=40, frame_rate_hz=20.0)
    res = call(graph.plan, req)
    assert res.success, res.message
    T, t = conv.transforms_from_path(res.target_path)
    assert T.shape == (40, 4, 4) and res.target_path.header.frame_id == "world"
    np.testing.assert_allclose(np.diff(t), 0.05, atol=1e-6)
    assert res.target_path.header.stamp == conv.seconds_to_time(30.0)
    assert np.linalg.norm(T[0, :3, 3] - ep.pick_xyz) < 0.02, "path does not start at the object"
    assert np.linalg.norm(T[-1, :3, 3] - ep.place_xyz) < 0.03, f"path ends at {T[-1, :3, 3]}, goal {ep.place_xyz}"
    assert wait_for(lambda: "m" in got and got["m"].markers[0].header.stamp == conv.seconds_to_time(30.0), 10)
    line = next(m for m in got["m"].markers if m.ns == "plan/path")
    assert len(line.points) == 40
    # image only (no cloud), node defaults: still a path, at the default 30 Hz
    res2 = call(graph.plan, PlanTarget.Request(instruction=ep.instruction))
    assert res2.success, res2.message
    T2, t2 = conv.transforms_from_path(res2.target_path)
    np.testing.assert_allclose(np.diff(t2), 1 / 30, atol=1e-6)
    assert np.linalg.norm(T2[-1, :3, 3] - T[-1, :3, 3]) < 0.03


def test_unknown_word_is_refused_and_nodes_stay_up(graph, episode):
    ep, _ = episode
    res = call(graph.segment, segment_request("put the zorglub on the plate", complete=True))
    assert not res.success and "zorglub" in res.message
    res = call(graph.plan, PlanTarget.Request(instruction="put the zorglub on the plate"))
    assert not res.success and "zorglub" in res.message
    res = call(graph.plan, PlanTarget.Request(instruction=ep.instruction, num_frames=1))
    assert not res.success and "num_frames" in res.message
    assert call(graph.segment, segment_request(ep.instruction, complete=False)).success


def test_no_frame_then_empty_depth_frame(graph):
    lonely = graph.client.create_client(SegmentObject, graph.lonely.node.get_namespace() + "/" + topics.SEGMENT_SERVICE)
    res = call(lonely, segment_request("pick up the red mug", complete=False))
    assert not res.success and "no camera frame yet" in res.message
    # a camera whose depth is all invalid (covered lens)
    ns = graph.lonely.node.get_namespace()
    from geometry_msgs.msg import PoseStamped
    from sensor_msgs.msg import CameraInfo, Image

    from unihm_perception.camera_node import STREAM

    pubs = {t: graph.client.create_publisher(m, f"{ns}/{t}", q) for t, m, q in (
        (topics.COLOR, Image, STREAM), (topics.DEPTH, Image, STREAM), (topics.CAMERA_INFO, CameraInfo, STREAM),
        (topics.CAMERA_POSE, PoseStamped, LATCHED))}
    assert wait_for(lambda: all(p.get_subscription_count() for p in pubs.values()), 10)
    pubs[topics.CAMERA_POSE].publish(conv.pose_stamped_from_matrix(CAM.T_world_camera(), "world"))
    for _ in range(3):  # stream a few frames (the first may race the subscriptions)
        pubs[topics.CAMERA_INFO].publish(conv.camera_info_from_K(CAM.K(), CAM.width, CAM.height, "cam", 5.0))
        pubs[topics.DEPTH].publish(conv.image_from_array(np.full((CAM.height, CAM.width), np.nan), "32FC1",
                                                         "cam", 5.0))
        pubs[topics.COLOR].publish(conv.image_from_array(np.zeros((CAM.height, CAM.width, 3)), "rgb8", "cam", 5.0))
        time.sleep(0.1)
    assert wait_for(lambda: graph.lonely.sync._latest is not None, 10), "the NaN frame never arrived"
    res = call(lonely, segment_request("pick up the red mug", complete=False))
    assert not res.success and "depth" in res.message


def test_graph_publishes_what_rviz_shows(graph):
    """Every RViz topic that a node here owns exists in the running graph with the listed type."""
    ours = {"camera_node", "perception_node", "planner_node"}
    names = dict(graph.client.get_topic_names_and_types())
    for topic, (msg_type, publisher) in topics.RVIZ_TOPICS.items():
        if publisher in ours:
            assert msg_type in names.get(f"{graph.ns}/{topic}", []), f"{topic} not published as {msg_type}"


def test_three_nodes_across_processes(ros, episode):
    ep, scene_file = episode
    ns = f"/xp_{uuid.uuid4().hex[:8]}"
    cam_args = [f"{k}:={v}" for k, v in (CAMERA_PARAMS | {"scene_file": scene_file}).items()]
    specs = [("unihm_perception", "camera_node", "camera", cam_args),
             ("unihm_perception", "perception_node", "perception", []),
             ("unihm_planner", "planner_node", "planner", [])]
    procs = []
    try:
        for pkg, exe, name, params in specs:
            args = ["--ros-args", "-r", f"__node:={name}", "-r", f"__ns:={ns}"]
            for p in params:
                args += ["-p", p]
            procs.append(subprocess.Popen(executable_command(pkg, exe) + args, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE, text=True))
        segment = ros.node.create_client(SegmentObject, f"{ns}/{topics.SEGMENT_SERVICE}")
        plan = ros.node.create_client(PlanTarget, f"{ns}/{topics.PLAN_SERVICE}")
        for _ in range(100):  # the first request may come before the first frame
            res = call(segment, segment_request(ep.instruction, complete=True), timeout_s=120)
            if res.success or "no camera frame yet" not in res.message:
                break
            time.sleep(0.2)
        assert res.success, res.message
        req = PlanTarget.Request(instruction=ep.instruction, object_cloud=res.object_cloud)
        for _ in range(100):
            out = call(plan, req, timeout_s=120)
            if out.success or "no camera frame yet" not in out.message:
                break
            time.sleep(0.2)
        assert out.success, out.message
        T, _ = conv.transforms_from_path(out.target_path)
        assert np.linalg.norm(T[-1, :3, 3] - ep.place_xyz) < 0.03
        assert all(p.poll() is None for p in procs), "a node exited"
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(15)


def test_camera_node_without_zed_sdk_exits_with_config_error():
    try:
        import pyzed.sl  # noqa: F401
        pytest.skip("the ZED SDK is installed here")
    except ImportError:
        pass
    proc = subprocess.run(executable_command("unihm_perception", "camera_node")
                          + ["--ros-args", "-r", f"__ns:=/zed_{uuid.uuid4().hex[:8]}", "-p", "backend:=zed"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "configuration error" in proc.stderr and "ZED SDK" in proc.stderr


def test_bench_times_the_nodes():
    from unihm_perception.bench import run_benchmark

    out = run_benchmark(["--scenes", "1", "--node-scenes", "1"])
    assert out["node_failures"] == [] and out["node_scenes"] == 1
    assert out["latency_ms"] == out["node_latency_ms"] > 0
    assert out["core_latency_ms"] > 0
