"""Tiny motion-policy configs shared by the policy tests."""

from unihm_planner.policy.config import PolicyConfig

K = 64  # tiny codebook
INIT_DIM = 8
MIN_POINTS = 16


def tiny_config(**overrides) -> PolicyConfig:
    base = dict(hidden_size=64, num_layers=2, num_heads=4, num_kv_heads=2, head_dim=16, intermediate_size=128,
                max_position_embeddings=256, codebook_size=K, max_motion_tokens=32, pointnet_dims=(32, 64),
                num_object_tokens=2, num_trajectory_tokens=3, trajectory_hidden=64, init_pose_dim=INIT_DIM,
                min_cloud_points=MIN_POINTS)
    base.update(overrides)
    return PolicyConfig(**base)

