"""`PolicyConfig`: the architecture of the language-conditioned motion-token policy (paper §3.3, App. C).

Vocabulary layout of the policy's language model (one embedding table, tied with the LM head):

    [0, n_text)                      text tokens (Qwen3 ids, or compact rows when pruned, see model.py)
    [n_text, n_text + K)             motion tokens = codes of the shared hand-tokenizer codebook
    [n_text + K, n_text + K + 4)     control tokens, in the order of `control_tokens`

With a residual hand tokenizer (S = `codes_per_step` codes per time step) the motion tokens are time-major:
m_1 .. m_S code step 1, m_{S+1} .. m_{2S} step 2, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unihm_common.config import from_dict

__all__ = ["PolicyConfig", "policy_config_from_dict", "CONTROL_TOKENS", "WRIST_FRAMES"]

# names of the control tokens; their order fixes their rows after the motion tokens
CONTROL_TOKENS: tuple[str, ...] = ("<motion_start>", "<motion_end>", "<mask>", "<pad>")
WRIST_FRAMES: tuple[str, ...] = ("path", "first")  # see PolicyConfig.wrist_frame


@dataclass(frozen=True)
class PolicyConfig:
    """Sizes of the Qwen3 backbone, the soft-token encoders and the motion vocabulary."""

    # --- Qwen3 backbone: a small default that trains on CPU; Qwen3-0.6B is 1024/28/16/8/3072/128
    hidden_size: int = 256  # d_model
    num_layers: int = 4  # decoder layers
    num_heads: int = 4  # query heads
    num_kv_heads: int = 2  # key/value heads (grouped-query attention, as Qwen3)
    head_dim: int = 64  # per-head width (Qwen3 decouples it from hidden_size / num_heads)
    intermediate_size: int = 768  # SwiGLU MLP width (3x hidden, Qwen3-0.6B's ratio)
    rope_theta: float = 1_000_000.0  # Qwen3's RoPE base
    rms_norm_eps: float = 1e-6  # Qwen3's RMSNorm epsilon
    max_position_embeddings: int = 2048  # longest prefix + motion sequence the model is built for
    # --- vocabularies
    text_vocab_size: int = 151936  # rows of Qwen3's (unpruned) text embedding table
    codebook_size: int = 8192  # K motion tokens; must equal the hand tokenizer's codebook (paper: 8192)
    control_tokens: tuple[str, ...] = CONTROL_TOKENS  # fixed names; stored so checkpoints are explicit
    max_motion_tokens: int = 256  # longest generated / trained motion-token sequence
    # --- object encoder (App. C.2): PointNet shared MLP widths, max-pool, then k soft tokens
    pointnet_dims: tuple[int, ...] = (64, 128, 256)  # per-point MLP widths; the last is the global feature
    num_object_tokens: int = 4  # k soft tokens the global feature is projected to
    min_cloud_points: int = 32  # clouds with fewer points are rejected (a max-pool over few points is noise)
    # --- trajectory encoder (App. C.3): per-frame 9-D pose (xyz + 6-D rotation) -> MLP
    trajectory_hidden: int = 512  # hidden width of the two-layer MLP (paper: 512)
    num_trajectory_tokens: int = 8  # frames are average-pooled into this many chunks, one soft token each
    # --- initial hand pose: E_j(Q_pos0), the hand tokenizer's latent of the first frame
    init_pose_dim: int = 64  # width of that latent (the hand tokenizer's code_dim)
    # the initial wrist (hand root) pose in the object's frame at frame 0 joins that token: 9-D pose
    # (decimetres + 6-D rotation) and a "known" flag (0 and zeros when the caller does not know it)
    init_wrist: bool = False
    wrist_residual: bool = False  # with init_wrist: the wrist head predicts the offset from the initial wrist
    # --- wrist (hand root) head: per motion token, the 9-D pose (xyz + 6-D rotation) of each of the
    # `frames_per_token` frames it covers, in the object's frame at that frame (docs/policy.md)
    frames_per_token: int = 4  # the hand tokenizer's downsample
    # codes per time step: the hand tokenizer's residual_stages. The motion sequence is time-major (step 1's S
    # codes, then step 2's, ...); a learned stage embedding tells each motion input which stage comes next
    codes_per_step: int = 1
    wrist_head: bool = True
    use_trajectory: bool = True  # False: the ablation "w/o trajectory input" (T_tar tokens zeroed)
    # the frame the wrist head's poses are in: "path" = the object's pose at each frame (T_tar); "first" = its
    # pose at frame 0 held (the ablation "w/o trajectory input", which must not get T_tar through the wrist)
    wrist_frame: str = "path"
    # --- base model
    base_model: str | None = None  # a local Qwen3ForCausalLM directory to start from (None: random init)
    dropout: float = 0.0  # attention dropout (Qwen3 uses none)

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "num_heads", "num_kv_heads", "head_dim", "intermediate_size",
                     "max_position_embeddings", "text_vocab_size", "codebook_size", "max_motion_tokens",
                     "num_object_tokens", "min_cloud_points", "trajectory_hidden", "num_trajectory_tokens",
                     "init_pose_dim", "frames_per_token", "codes_per_step"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must be a multiple of num_kv_heads ({self.num_kv_heads})")
        if tuple(self.control_tokens) != CONTROL_TOKENS:
            raise ValueError(f"control_tokens must be {list(CONTROL_TOKENS)}, got {list(self.control_tokens)}")
        if not self.pointnet_dims or min(self.pointnet_dims) < 1:
            raise ValueError(f"pointnet_dims must be positive widths, got {self.pointnet_dims}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.wrist_residual and not (self.init_wrist and self.wrist_head):
            raise ValueError("wrist_residual needs init_wrist and wrist_head")
        if self.max_motion_tokens % self.codes_per_step:
            raise ValueError(f"max_motion_tokens ({self.max_motion_tokens}) must be a multiple of codes_per_step "
                             f"({self.codes_per_step})")
        if self.wrist_frame not in WRIST_FRAMES:
            raise ValueError(f"wrist_frame must be one of {list(WRIST_FRAMES)}, got {self.wrist_frame!r}")
        if self.use_trajectory and self.wrist_frame != "path":
            raise ValueError("wrist_frame 'first' is for the ablation without the trajectory input "
                             "(use_trajectory: false)")
        if self.base_model is not None and not str(self.base_model):
            raise ValueError("base_model must be a directory path or null")

    @property
    def base_model_path(self) -> Path | None:
        return None if self.base_model is None else Path(self.base_model)


def policy_config_from_dict(data: dict[str, Any], source: str = "<dict>") -> PolicyConfig:
    """Strictly build a `PolicyConfig` (unknown keys and wrong types raise `ConfigError`)."""
    return from_dict(PolicyConfig, data, source=source)
