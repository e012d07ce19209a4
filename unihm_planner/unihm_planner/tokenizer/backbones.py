"""Per-hand encoder E_h / decoder D_h backbones: 1D-conv over time (default) or per-token MLP.

Both map a normalised chunk (B, T, J) to T/ds latent vectors (B, T/ds, d_z) and back, where
ds = `TokenizerConfig.downsample` frames make one token.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from unihm_planner.tokenizer.config import TokenizerConfig


class ResBlock1d(nn.Module):
    """Pre-activation residual block with a dilated temporal conv (keeps length)."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)  # (B, C, T)


def _res_stack(channels: int, n: int) -> list[nn.Module]:
    return [ResBlock1d(channels, 3**i) for i in range(n)]


class ConvEncoder(nn.Module):
    """(B, T, J) -> (B, T/ds, d_z): stride-2 convs halve time log2(ds) times, with residual stacks."""

    def __init__(self, num_joints: int, cfg: TokenizerConfig) -> None:
        super().__init__()
        H = cfg.hidden_dim
        layers: list[nn.Module] = [nn.Conv1d(num_joints, H, 3, padding=1)]
        for _ in range(int(math.log2(cfg.downsample))):
            layers += [nn.ReLU(), nn.Conv1d(H, H, 4, stride=2, padding=1), *_res_stack(H, cfg.num_res_blocks)]
        if cfg.downsample == 1:
            layers += _res_stack(H, cfg.num_res_blocks)
        layers += [nn.ReLU(), nn.Conv1d(H, cfg.code_dim, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.transpose(1, 2)).transpose(1, 2)  # (B, T, J) -> (B, J, T) -> (B, N, d_z)


class ConvDecoder(nn.Module):
    """(B, N, d_z) -> (B, N*ds, J): residual stacks, nearest x2 upsampling + conv log2(ds) times."""

    def __init__(self, num_joints: int, cfg: TokenizerConfig) -> None:
        super().__init__()
        H = cfg.hidden_dim
        layers: list[nn.Module] = [nn.Conv1d(cfg.code_dim, H, 3, padding=1)]
        for _ in range(int(math.log2(cfg.downsample))):
            layers += [*_res_stack(H, cfg.num_res_blocks), nn.Upsample(scale_factor=2, mode="nearest"),
                       nn.Conv1d(H, H, 3, padding=1)]
        if cfg.downsample == 1:
            layers += _res_stack(H, cfg.num_res_blocks)
        layers += [nn.ReLU(), nn.Conv1d(H, num_joints, 3, padding=1)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.transpose(1, 2)).transpose(1, 2)  # (B, N, d_z) -> (B, d_z, N) -> (B, T, J)


def _mlp(d_in: int, hidden: int, n_hidden: int, d_out: int) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(d_in, hidden)]
    for _ in range(n_hidden):
        layers += [nn.GELU(), nn.Linear(hidden, hidden)]
    layers += [nn.GELU(), nn.Linear(hidden, d_out)]
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """(B, T, J) -> (B, T/ds, d_z): each token sees only its own ds frames (no temporal context)."""

    def __init__(self, num_joints: int, cfg: TokenizerConfig) -> None:
        super().__init__()
        self.ds = cfg.downsample
        self.net = _mlp(num_joints * self.ds, cfg.hidden_dim, cfg.num_res_blocks, cfg.code_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, J = x.shape
        return self.net(x.reshape(B, T // self.ds, self.ds * J))  # (B, N, ds*J) -> (B, N, d_z)


class MLPDecoder(nn.Module):
    """(B, N, d_z) -> (B, N*ds, J)."""

    def __init__(self, num_joints: int, cfg: TokenizerConfig) -> None:
        super().__init__()
        self.ds, self.J = cfg.downsample, num_joints
        self.net = _mlp(cfg.code_dim, cfg.hidden_dim, cfg.num_res_blocks, num_joints * self.ds)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        B, N, _ = z.shape
        return self.net(z).reshape(B, N * self.ds, self.J)  # (B, N, ds*J) -> (B, T, J)


def build_backbone(num_joints: int, cfg: TokenizerConfig) -> tuple[nn.Module, nn.Module]:
    """Encoder and decoder of the configured backbone for a hand with `num_joints` joints."""
    if cfg.backbone == "conv1d":
        return ConvEncoder(num_joints, cfg), ConvDecoder(num_joints, cfg)
    return MLPEncoder(num_joints, cfg), MLPDecoder(num_joints, cfg)
