"""Node-level latency for `unihm bench perception --node-scenes N`: camera frame -> published target path.

camera_node, perception_node and planner_node run in this process, each spun by its own executor thread,
talking over DDS (as across processes, but sharing one Python interpreter). Per scene a fresh camera node
renders the scene (saved to a file only it reads); the client waits for a new colour image, notes its
stamp, calls `segment_object` (complete) then `plan_target` with the returned cloud, and stops the clock
when `target_path` arrives. rclpy is imported inside the function: this module stays importable without it.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def _wait(pred, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.002)
    return bool(pred())


def node_latencies(episodes: list, width: int = 640, height: int = 480, fx: float = 460.0,
                   rate_hz: float = 2.0, timeout_s: float = 60.0) -> dict:
    """Median / per-scene ms from a camera frame's stamp to the target path's arrival, and failures."""
    import rclpy
    from nav_msgs.msg import Path as PathMsg
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter
    from sensor_msgs.msg import Image

    from unihm_common import conversions as conv
    from unihm_msgs.srv import PlanTarget, SegmentObject
    from unihm_perception import topics
    from unihm_perception.camera_node import LATCHED, STREAM, CameraNode
    from unihm_perception.perception_node import PerceptionNode
    from unihm_perception.scene import save_scene
    from unihm_planner.planner_node import PlannerNode

    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    kw = {"context": ctx, "namespace": f"/bench_{int(time.time() * 1e3) % 10**8}"}
    spinners: list[tuple[SingleThreadedExecutor, threading.Thread]] = []

    def spin(node) -> None:
        ex = SingleThreadedExecutor(context=ctx)
        ex.add_node(node)
        th = threading.Thread(target=ex.spin, daemon=True)
        th.start()
        spinners.append((ex, th))

    perception, planner = PerceptionNode(**kw), PlannerNode(**kw)
    client = rclpy.create_node("bench_client", **kw)
    state: dict = {"color": None, "path": None}
    client.create_subscription(Image, topics.COLOR, lambda m: state.__setitem__("color", m.header.stamp), STREAM)
    client.create_subscription(PathMsg, topics.TARGET_PATH, lambda m: state.__setitem__("path", m), LATCHED)
    seg_cli = client.create_client(SegmentObject, topics.SEGMENT_SERVICE)
    plan_cli = client.create_client(PlanTarget, topics.PLAN_SERVICE)
    for n in (perception.node, planner.node, client):
        spin(n)
    out: list[float] = []
    failures: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="unihm_bench_scene_"))
    try:
        for k, ep in enumerate(episodes):
            scene_file = tmp / f"scene_{k}.npz"
            save_scene(str(scene_file), ep.scene)
            params = [Parameter("scene_file", value=str(scene_file)), Parameter("rate_hz", value=rate_hz),
                      Parameter("camera.width", value=width), Parameter("camera.height", value=height),
                      Parameter("camera.fx", value=fx)]
            camera = CameraNode(parameter_overrides=params, **kw)
            spin(camera.node)
            try:
                started = time.time()
                state["color"] = None  # a frame of this scene, published after the camera started
                fresh = lambda t0=started: state["color"] is not None and conv.time_to_seconds(state["color"]) > t0  # noqa: E731
                if not _wait(fresh, timeout_s):
                    failures.append(f"scene {k}: no camera frame")
                    continue
                _wait(lambda t0=started: perception.sync._latest is not None and planner.sync._latest is not None
                      and min(perception.sync._latest.stamp_s, planner.sync._latest.stamp_s) > t0, timeout_s)
                state["color"] = None
                _wait(lambda: state["color"] is not None, timeout_s)  # the next frame: the clock starts at its stamp
                t_frame = conv.time_to_seconds(state["color"])
                stamp = conv.make_header("", 1000.0 + k).stamp
                seg = seg_cli.call_async(SegmentObject.Request(header=conv.make_header("", 1000.0 + k),
                                                               instruction=ep.instruction, complete=True))
                if not _wait(seg.done, timeout_s) or not seg.result().success:
                    failures.append(f"scene {k}: segment_object: {seg.result().message if seg.done() else 'timeout'}")
                    continue
                plan = plan_cli.call_async(PlanTarget.Request(header=conv.make_header("", 1000.0 + k),
                                                              instruction=ep.instruction,
                                                              object_cloud=seg.result().object_cloud))
                if not _wait(lambda s=stamp: state["path"] is not None and state["path"].header.stamp == s, timeout_s):
                    failures.append(f"scene {k}: plan_target: "
                                    f"{plan.result().message if plan.done() else 'no path published'}")
                    continue
                out.append(1e3 * (time.time() - t_frame))
            finally:
                ex, th = spinners.pop()
                ex.shutdown()
                th.join(timeout=10)  # a running camera tick ends before its node goes
                camera.close()
                camera.node.destroy_node()
    finally:
        for ex, th in spinners:
            ex.shutdown()
            th.join(timeout=10)
        for n in (perception.node, planner.node, client):
            n.destroy_node()
        rclpy.try_shutdown(context=ctx)
    return {"median_ms": round(float(np.median(out)), 1) if out else None, "per_scene_ms": [round(v, 1) for v in out],
            "failures": failures}
