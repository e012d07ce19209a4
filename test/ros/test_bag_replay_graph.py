"""The whole manipulation graph fed by a camera bag gives the trajectory the live synthetic camera gives.

The bag is rendered by `make_camera_bag` from the scene seed the live camera node uses; the same graph
(`manipulation_graph`, supervisor, real DDS across processes) runs once with the live camera and once with the
camera node replaying the bag, and the `manipulate` results are compared: target path, tokens, wrist path and
refined joints (mean difference, and how many frames differ by more than 0.1 rad).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from unihm_common import conversions as conv
from unihm_common.base_node import SafeActionClient
from unihm_msgs.action import Manipulate
from unihm_msgs.msg import ManipulationRequest
from unihm_planner.manipulation.core import ManipulationConfig

HAND = "inspire_right"
SCENE_SEED = 2
INSTRUCTION = "put the yellow foam brick on the plate"


def _run_graph(ros, log_dir, camera: dict):
    from unihm_common.launch_graph import manipulation_graph
    from unihm_common.ros_env import local_ros_env
    from unihm_common.supervisor import Supervisor

    sup = Supervisor(manipulation_graph([HAND], use_sim=True, camera=camera), local_ros_env(log_dir=str(log_dir)),
                     log_dir, max_restarts=1, echo=None)
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    client = SafeActionClient(ros.node, Manipulate, "/manipulate")
    try:
        assert client.wait_for_server(timeout_sec=120), "the manipulation node never came up"
        deadline = time.monotonic() + 180
        while True:  # the first goals may find the policy still loading or no camera frame yet
            fut = client.send_goal_async(Manipulate.Goal(request=ManipulationRequest(
                instruction=INSTRUCTION, hand=HAND, execute=False, refine=True)))
            assert ros.wait_for(fut.done, timeout_s=30)
            res = fut.result().get_result_async()
            assert ros.wait_for(res.done, timeout_s=120)
            result = res.result().result
            if result.success or time.monotonic() > deadline:
                break
            time.sleep(2)
        assert result.success, f"{camera}: {result.message}"
        return result
    finally:
        client.destroy()
        sup.stop_requested.set()
        t.join(timeout=60)


def test_a_camera_bag_drives_the_full_graph_to_the_live_trajectory(ros, tmp_path):
    from unihm_common.bag.camera import make_camera_bag
    from unihm_perception.camera.synthetic import SyntheticCameraConfig
    from unihm_planner.policy.runner import default_policy_dir

    if not (default_policy_dir() / "config.json").is_file():
        pytest.skip("no shipped policy checkpoint")
    cam = SyntheticCameraConfig()
    bag = tmp_path / "camera.mcap"
    make_camera_bag(bag, seed=SCENE_SEED, frames=3, fps=5.0, width=cam.width, height=cam.height, fx=cam.fx)
    live = _run_graph(ros, tmp_path / "live", {"scene_seed": SCENE_SEED})
    replay = _run_graph(ros, tmp_path / "bag", {"backend": "bag", "bag_path": str(bag), "camera.loop": True})

    a, b = conv.motion_from_hand_trajectory(live.trajectory), conv.motion_from_hand_trajectory(replay.trajectory)
    dq = np.abs(a.q - b.q).max()
    dw = np.linalg.norm(a.T_world_wrist[:, :3, 3] - b.T_world_wrist[:, :3, 3], axis=1).max()
    path_a, _ = conv.transforms_from_path(live.target_path)
    path_b, _ = conv.transforms_from_path(replay.target_path)
    dp = np.linalg.norm(path_a[:, :3, 3] - path_b[:, :3, 3], axis=1).max()
    print(f"bag vs live through the graph: target path {dp * 1000:.1f} mm, joints {dq:.4f} rad, "
          f"wrist {dw * 1000:.1f} mm, tokens equal {list(live.tokens.tokens) == list(replay.tokens.tokens)}")
    diff = np.abs(a.q - b.q)
    print(f"joint difference: mean {diff.mean():.4f} rad, frames > 0.1 rad: {(diff.max(1) > 0.1).sum()}/{len(diff)}")
    assert a.q.shape == b.q.shape and len(a.q) == ManipulationConfig().num_frames
    assert dp < 0.02, f"target paths differ by {dp * 1000:.1f} mm"
    assert list(live.tokens.tokens) == list(replay.tokens.tokens), "the policy chose other motion tokens"
    assert dw < 0.03, f"wrist paths differ by {dw * 1000:.1f} mm"
    # the refined joints: the same almost everywhere; where the generated hand sinks deep into the object the
    # refiner's per-frame escape can flip on a mm-level cloud difference, and the flip carries over the
    # following frames through the temporal prior, so one block of frames may differ more (seen: 9 and 15)
    assert diff.mean() < 0.03, f"refined joints differ by {diff.mean():.3f} rad on average (max {dq:.3f})"
    flips = int((diff.max(1) > 0.1).sum())
    assert flips <= 0.3 * len(diff), f"{flips} of {len(diff)} frames differ by > 0.1 rad"
