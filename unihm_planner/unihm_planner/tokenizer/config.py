"""Configs of the Unified Hand-Dexterous Tokenizer (paper §3.2, App. B.2) and of its training.

A YAML file holds two sections, `tokenizer:` (architecture, stored in every checkpoint) and `train:`
(the recipe). Both load strictly through `unihm_common.config.from_dict`: unknown keys, wrong types
and bad values raise `ConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from unihm_common.config import from_dict, load_yaml
from unihm_common.errors import ConfigError


def _is_pow2(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class TokenizerConfig:
    """Architecture of the per-hand encoders/decoders and the shared codebook Z."""

    backbone: Literal["conv1d", "mlp"] = "conv1d"  # Table B1: 1D-conv is the better variant
    codebook_size: int = 8192  # K, codes in the shared codebook (paper: 8192)
    code_dim: int = 64  # d_z, code vector width; K=8192, d_z=64 is 2 MB in float32
    hidden_dim: int = 128  # channels (conv1d) / units (mlp) of every hidden layer
    num_res_blocks: int = 2  # residual blocks per resolution level (conv1d) / hidden layers (mlp)
    downsample: int = 4  # frames per token (power of two; 1 = one token per pose)
    beta: float = 0.25  # commitment weight of Eq. 5 (paper: 0.25)
    residual_stages: int = 1  # tokens per time step: residual quantisation over the same codebook (paper: 1)
    std_floor_rad: float = 0.01  # per-joint std floor so near-constant joints are not blown up

    def __post_init__(self) -> None:
        if self.codebook_size < 2:
            raise ValueError(f"codebook_size must be >= 2, got {self.codebook_size}")
        for name in ("code_dim", "hidden_dim", "num_res_blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not _is_pow2(self.downsample):
            raise ValueError(f"downsample must be a power of two (1, 2, 4, ...), got {self.downsample}")
        if self.residual_stages < 1:
            raise ValueError(f"residual_stages must be >= 1, got {self.residual_stages}")
        if self.beta <= 0:
            raise ValueError(f"beta must be > 0, got {self.beta}")
        if self.std_floor_rad <= 0:
            raise ValueError(f"std_floor_rad must be > 0, got {self.std_floor_rad}")


@dataclass(frozen=True)
class TrainConfig:
    """Staged cross-morphology recipe: reference hand (Eq. B12), then per new hand B13 and B14."""

    reference_hand: str = "shadow"  # hand that trains the codebook first (paper: Shadow)
    hands: tuple[str, ...] = ()  # hands added after the reference, in order; () = every hand in the data
    chunk_len: int = 64  # frames per training chunk (multiple of downsample); shorter sequences hold the last pose
    chunk_stride: int = 8  # frames between consecutive chunk starts
    batch_size: int = 256  # chunks per optimiser step (per process under torchrun)
    lr: float = 1e-4  # AdamW learning rate (paper: 1e-4)
    weight_decay: float = 0.0  # AdamW weight decay
    grad_clip: float = 1.0  # max grad norm; 0 disables clipping
    reference_epochs: int = 200  # epochs of the reference stage
    distill_epochs: int = 50  # epochs of encoder alignment per new hand (Eq. B13)
    finetune_epochs: int = 100  # epochs of encoder+decoder fine-tuning per new hand (Eq. B14)
    lambda_distill: float = 0.1  # weight of L_distill in Eq. B14 (paper: 0.1)
    cold_threshold: int = 1  # tau_c of Eq. B10: a code used fewer times in an epoch is cold (paper: 1)
    refresh_every: int = 50  # refresh cold codes at epochs 50, 100, ... (paper); 0 disables
    kmeans_init: bool = True  # start the codebook at K-means centroids of the untrained encoder's outputs (ours)
    refresh_first_epoch: bool = False  # also refresh after epoch 1
    refresh_stop_frac: float = 0.8  # no refresh in the last 20% of epochs so the decoder can settle
    refresh_buffer: int = 32768  # encoder outputs kept (reservoir) since the last refresh for K-means
    kmeans_iters: int = 10  # Lloyd iterations of the refresh K-means
    seed: int = 0  # seeds torch, numpy and the chunk shuffling
    device: str = "auto"  # "auto" (cuda if available), "cpu", "cuda", "cuda:1", ...
    num_workers: int = 0  # DataLoader worker processes
    save_every: int = 10  # write checkpoint + resume state every N epochs (and at each stage end)
    progress: bool = True  # tqdm progress bars (stderr, rank 0 only)
    # training-time augmentation (ours; all off by default = the chunks are cut once, as before). When any is
    # on, the chunks are re-cut every epoch (same count and start grid as chunk_stride), seeded by seed + epoch:
    augment_offsets: bool = False  # shift every chunk start by a random 0..chunk_stride-1 frames
    augment_speed: float = 1.0  # time warp: resample each chunk at a speed log-uniform in [1/s, s]; 1 = off
    augment_noise: float = 0.0  # additive Gaussian joint noise, std in units of each joint's std; 0 = off

    def __post_init__(self) -> None:
        positive = ("chunk_len", "chunk_stride", "batch_size", "refresh_buffer", "kmeans_iters", "save_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("reference_epochs", "distill_epochs", "finetune_epochs", "refresh_every", "num_workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.lambda_distill < 0 or self.weight_decay < 0 or self.grad_clip < 0:
            raise ValueError("lambda_distill, weight_decay and grad_clip must be >= 0")
        if self.cold_threshold < 0:
            raise ValueError(f"cold_threshold must be >= 0, got {self.cold_threshold}")
        if not 0.0 < self.refresh_stop_frac <= 1.0:
            raise ValueError(f"refresh_stop_frac must be in (0, 1], got {self.refresh_stop_frac}")
        if self.augment_speed < 1.0:
            raise ValueError(f"augment_speed must be >= 1 (1 = no time warp), got {self.augment_speed}")
        if self.augment_noise < 0:
            raise ValueError(f"augment_noise must be >= 0, got {self.augment_noise}")
        if self.reference_hand in self.hands:
            raise ValueError(f"hands must not repeat the reference hand {self.reference_hand!r}")

    @property
    def augments(self) -> bool:
        """Whether any training-time augmentation is on."""
        return self.augment_offsets or self.augment_speed > 1.0 or self.augment_noise > 0

    def refresh_at(self, epoch: int, total_epochs: int) -> bool:
        """Whether cold codes are refreshed after 1-based `epoch` of a stage of `total_epochs`."""
        if epoch > self.refresh_stop_frac * total_epochs:
            return False
        if epoch == 1 and self.refresh_first_epoch:
            return True
        return self.refresh_every > 0 and epoch % self.refresh_every == 0


@dataclass(frozen=True)
class RunConfig:
    """One YAML file: `tokenizer:` and `train:` sections."""

    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)  # architecture
    train: TrainConfig = field(default_factory=TrainConfig)  # recipe

    def __post_init__(self) -> None:
        if self.train.chunk_len % self.tokenizer.downsample:
            raise ValueError(
                f"train.chunk_len={self.train.chunk_len} must be a multiple of "
                f"tokenizer.downsample={self.tokenizer.downsample}"
            )

    @classmethod
    def from_yaml(cls, path: str | Path) -> RunConfig:
        data = load_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: top level must be a mapping with 'tokenizer' and 'train' sections")
        return from_dict(cls, data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tokenizer_config_from_dict(data: dict[str, Any], source: str = "<dict>") -> TokenizerConfig:
    return from_dict(TokenizerConfig, data, source=source)
