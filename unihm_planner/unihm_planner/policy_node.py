"""policy_node: language + object cloud + target path -> motion tokens -> a hand's trajectory.

action `generate_motion` (unihm_msgs/action/GenerateMotion): goal instruction, hand, object_cloud (world),
    target_path (T_world_object per frame), initial_positions, seed; feedback tokens_generated / tokens_total;
    result success, message, trajectory (HandTrajectory with wrist poses), tokens (MotionTokens), policy_ms.
pub `motion_tokens` (unihm_msgs/MotionTokens, latched): the codes of the last result.
Parameters: policy_dir, tokenizer_dir ("" = the shipped defaults), world_frame, torch_threads.
Bad goals (unknown hand, empty instruction, too few points, malformed path) end with success=false and the
reason; the node stays up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from unihm_common import conversions as conv
from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.errors import ConfigError, UnihmError
from unihm_common.trajectory import HandMotion
from unihm_msgs.action import GenerateMotion
from unihm_msgs.msg import MotionTokens


@dataclass(frozen=True)
class PolicyNodeConfig:
    policy_dir: str = ""  # "" = the shipped default checkpoint
    tokenizer_dir: str = ""  # "" = the shipped default hand tokenizer
    world_frame: str = "world"
    torch_threads: int = 1
    frame_rate_hz: float = 30.0  # used when the target path carries no usable stamps
    # plan from the training start nearest to the arm's wrist in direction and orientation (the arm takes the
    # hand there first) instead of from the wrist itself (PolicyRunner.generate `stage_start`)
    stage_start: bool = False

    def __post_init__(self) -> None:
        if self.torch_threads < 1 or not self.frame_rate_hz > 0:
            raise ConfigError("torch_threads must be >= 1 and frame_rate_hz > 0")


class PolicyNode:
    def __init__(self) -> None:
        import torch

        from unihm_planner.policy.runner import PolicyRunner
        from unihm_planner.policy.train import codebook_id

        self.node = make_node("policy")
        self.cfg = config_from_parameters(self.node, PolicyNodeConfig)
        torch.set_num_threads(self.cfg.torch_threads)
        self.runner = PolicyRunner.from_pretrained(self.cfg.policy_dir or None, self.cfg.tokenizer_dir or None)
        self.codebook_id = codebook_id(self.runner.tokenizer)
        self.log = self.node.get_logger()
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.tokens_pub = self.node.create_publisher(MotionTokens, "motion_tokens", latched)
        self.server = ActionServer(self.node, GenerateMotion, "generate_motion", execute_callback=self.execute,
                                   goal_callback=lambda _g: GoalResponse.ACCEPT,
                                   cancel_callback=lambda _g: CancelResponse.ACCEPT)
        self.log.info(f"ready: hands {', '.join(self.runner.hands)}")

    def execute(self, goal_handle) -> GenerateMotion.Result:
        goal = goal_handle.request
        result = GenerateMotion.Result()
        try:
            result = self.generate(goal, goal_handle)
            goal_handle.succeed()
        except UnihmError as exc:
            result.success, result.message = False, f"{type(exc).__name__}: {exc}"
            self.log.warning(f"goal rejected: {result.message}")
            goal_handle.abort()
        return result

    def generate(self, goal, goal_handle=None) -> GenerateMotion.Result:
        cloud = conv.arrays_from_pointcloud2(goal.object_cloud)["points"] if goal.object_cloud.width else \
            np.zeros((0, 3))
        if not goal.target_path.poses:
            raise ConfigError("the target path is empty")
        T_obj, t_s = conv.transforms_from_path(goal.target_path)
        t_s = t_s - t_s[0]
        if len(t_s) > 1 and not np.all(np.diff(t_s) > 0):
            t_s = np.arange(len(T_obj)) / self.cfg.frame_rate_hz
        init = np.asarray(goal.initial_positions, dtype=np.float64) if len(goal.initial_positions) else None

        def feedback(done: int, total: int) -> None:
            if goal_handle is not None:
                goal_handle.publish_feedback(GenerateMotion.Feedback(tokens_generated=done, tokens_total=total))

        wrist0 = conv.pose_to_matrix(goal.initial_wrist) if goal.initial_wrist_known else None
        g = self.runner.generate(goal.instruction, cloud, T_obj, goal.hand, init_q=init, seed=int(goal.seed),
                                 on_token=feedback, init_wrist=wrist0,
                                 stage_start=self.cfg.stage_start)
        motion = HandMotion(g.hand, g.joint_names, t_s, g.q, None, g.T_world_wrist)
        stamp = goal.target_path.header.stamp
        note = f"; {g.start_note}" if g.start_note else ""
        result = GenerateMotion.Result(success=True, message=f"{len(g.tokens)} tokens, {len(g.q)} frames{note}",
                                       policy_ms=float(g.timings_ms["total"]))
        result.trajectory = conv.hand_trajectory_from_motion(motion, self.cfg.world_frame)
        result.trajectory.header.stamp = stamp
        result.tokens = MotionTokens(hand=g.hand, tokens=[int(t) for t in g.tokens], codebook_id=self.codebook_id,
                                     frames_per_token=g.frames_per_token)
        result.tokens.header.stamp = stamp
        self.tokens_pub.publish(result.tokens)
        self.log.info(f"{g.hand}: {result.message} in {g.timings_ms['total']:.0f} ms")
        return result


def build():
    return PolicyNode().node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
