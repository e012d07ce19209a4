"""Language-conditioned motion-token policy (paper §3.3, App. C): Qwen3 + soft-token encoders. No rclpy."""

from unihm_planner.policy.config import CONTROL_TOKENS, PolicyConfig, policy_config_from_dict
from unihm_planner.policy.masking import mask_ratio, sample_mask

__all__ = ["CONTROL_TOKENS", "PolicyConfig", "policy_config_from_dict", "mask_ratio", "sample_mask"]
