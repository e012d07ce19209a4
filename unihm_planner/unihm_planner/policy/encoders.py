"""Soft-token encoders that turn non-text inputs into d_model vectors for the language model.

- `PointNetEncoder` (App. C.2): object cloud P_obj -> k tokens (shared per-point MLP, max-pool).
- `TrajectoryEncoder` (App. C.3): target trajectory T_tar -> chunked tokens (two-layer MLP, hidden 512).
- `InitPoseEncoder`: E_j(Q_pos0), the hand tokenizer's latent of the first frame -> one token.
"""

from __future__ import annotations

import torch
from torch import nn

from unihm_common.errors import InputError

__all__ = ["PointNetEncoder", "TrajectoryEncoder", "InitPoseEncoder", "poses_to_9d", "INIT_WRIST_DIM"]

POSE_DIM = 9  # translation (3) + 6-D rotation (first two columns of R, Zhou et al. 2019)


def poses_to_9d(T_tar: torch.Tensor) -> torch.Tensor:
    """(B, T, 4, 4) homogeneous poses (or (B, T, 9) already) -> (B, T, 9) [t, R[:, 0], R[:, 1]]."""
    if T_tar.dim() == 4 and T_tar.shape[-2:] == (4, 4):
        t = T_tar[..., :3, 3]  # (B, T, 3)
        r6 = T_tar[..., :3, :2].transpose(-1, -2).reshape(*T_tar.shape[:2], 6)  # (B, T, 6) columns 0 then 1
        return torch.cat([t, r6], dim=-1)  # (B, T, 9)
    if T_tar.dim() == 3 and T_tar.shape[-1] == POSE_DIM:
        return T_tar
    raise InputError(f"T_tar must be (B, T, 4, 4) poses or (B, T, 9) vectors, got shape {tuple(T_tar.shape)}")


class PointNetEncoder(nn.Module):
    """f(X) = max_i h(x_i), then a linear map to `num_tokens` soft tokens of width `d_model`."""

    def __init__(self, dims: tuple[int, ...], num_tokens: int, d_model: int, min_points: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = 3
        for i, out in enumerate(dims):
            layers.append(nn.Linear(width, out))  # shared across points: applied on the last axis
            if i < len(dims) - 1:
                layers += [nn.LayerNorm(out), nn.GELU()]
            width = out
        self.point_mlp = nn.Sequential(*layers)
        self.to_tokens = nn.Linear(width, num_tokens * d_model)
        self.num_tokens, self.d_model, self.min_points = num_tokens, d_model, min_points

    def forward(self, cloud: torch.Tensor) -> torch.Tensor:
        """cloud (B, N, 3) in the policy's frame -> (B, k, d_model)."""
        if cloud.dim() != 3 or cloud.shape[-1] != 3:
            raise InputError(f"cloud must be (B, N, 3) points, got shape {tuple(cloud.shape)}")
        if cloud.shape[1] < self.min_points:
            raise InputError(f"cloud has {cloud.shape[1]} points, the policy needs at least {self.min_points}")
        if not torch.isfinite(cloud).all():
            raise InputError("cloud contains NaN or inf points")
        feat = self.point_mlp(cloud)  # (B, N, C)
        glob = feat.max(dim=1).values  # (B, C) symmetric, so the point order does not matter
        return self.to_tokens(glob).view(cloud.shape[0], self.num_tokens, self.d_model)  # (B, k, D)


class TrajectoryEncoder(nn.Module):
    """z(t) = σ2(W2 σ1(W1 p(t) + b1) + b2) per frame (Eq. C3), pooled into chunks, projected to d_model."""

    def __init__(self, hidden: int, num_tokens: int, d_model: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(POSE_DIM, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU())
        self.pool = nn.AdaptiveAvgPool1d(num_tokens)  # any T -> a fixed number of chunks
        self.proj = nn.Linear(hidden, d_model)

    def forward(self, T_tar: torch.Tensor) -> torch.Tensor:
        """T_tar (B, T, 4, 4) or (B, T, 9), T >= 1 frames -> (B, num_tokens, d_model)."""
        x = poses_to_9d(T_tar)  # (B, T, 9)
        if x.shape[1] < 1:
            raise InputError("T_tar has no frames")
        if not torch.isfinite(x).all():
            raise InputError("T_tar contains NaN or inf")
        z = self.mlp(x)  # (B, T, H)
        z = self.pool(z.transpose(1, 2)).transpose(1, 2)  # (B, n, H)
        return self.proj(z)  # (B, n, D)


INIT_WRIST_DIM = 10  # initial wrist in the object frame: 9-D pose + a "known" flag


class InitPoseEncoder(nn.Module):
    """The initial hand pose latent E_j(Q_pos0) (B, d_z) [+ the initial wrist (B, 10)] -> one token (B, 1, d_model)."""

    def __init__(self, in_dim: int, d_model: int) -> None:
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_dim, d_model), nn.GELU(), nn.Linear(d_model, d_model))
        self.in_dim = in_dim

    def forward(self, init_pose: torch.Tensor) -> torch.Tensor:
        if init_pose.dim() != 2 or init_pose.shape[-1] != self.in_dim:
            raise InputError(f"init_pose must be (B, {self.in_dim}), got shape {tuple(init_pose.shape)}")
        if not torch.isfinite(init_pose).all():
            raise InputError("init_pose contains NaN or inf")
        return self.proj(init_pose).unsqueeze(1)  # (B, 1, D)
