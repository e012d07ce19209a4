"""A small SnowflakeNet-style completion network (Xiang et al., 2021/2023), coarse to fine.

Encoder: PointNet over the normalised partial cloud -> global feature. Seed generator: an MLP decodes
`n_seed` coarse points from it, merged with a farthest-point sample of the input. Snowflake point
deconvolution (SPD) stages: each point splits into `up_factor` children, displaced by offsets predicted
from its own feature, its parent's displacement feature and the global feature (the skip-transformer of the
original is reduced to that carried displacement feature). Clouds are centred/scaled outside the net.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, MissingDependencyError


@dataclass(frozen=True)
class SnowflakeConfig:
    dim: int = 128  # global feature / per-point feature width
    n_seed: int = 128  # coarse points decoded from the global feature
    n_input_keep: int = 128  # input points merged into the seed (farthest-point sample)
    up_factors: tuple[int, ...] = (2, 4)  # children per point at each SPD stage: 256 -> 512 -> 2048

    def __post_init__(self) -> None:
        if self.dim < 8 or self.n_seed < 1 or not self.up_factors or min(self.up_factors) < 1:
            raise ConfigError("dim >= 8, n_seed >= 1 and up_factors >= 1 required")

    @property
    def n_out(self) -> int:
        n = self.n_seed + self.n_input_keep
        for r in self.up_factors:
            n *= r
        return n


def farthest_point_sample(x: torch.Tensor, n: int) -> torch.Tensor:
    """x (B, N, 3) -> indices (B, n) by iterative farthest-point sampling."""
    B, N, _ = x.shape
    idx = torch.zeros(B, n, dtype=torch.long, device=x.device)
    dist = torch.full((B, N), float("inf"), device=x.device)
    far = torch.zeros(B, dtype=torch.long, device=x.device)
    b = torch.arange(B, device=x.device)
    for i in range(n):
        idx[:, i] = far
        d = ((x - x[b, far][:, None]) ** 2).sum(-1)
        dist = torch.minimum(dist, d)
        far = dist.argmax(-1)
    return idx


class PointNetEncoder(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3, 64), nn.ReLU(), nn.Linear(64, dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, N, 3) -> (B, dim)
        return self.mlp(x).max(1).values


class SPD(nn.Module):
    """One snowflake point deconvolution: (B, n, 3) -> (B, n r, 3) with carried displacement features."""

    def __init__(self, dim: int, up: int) -> None:
        super().__init__()
        self.up = up
        self.point_mlp = nn.Sequential(nn.Linear(3 + dim + dim, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.split = nn.Linear(dim, dim * up)
        self.offset = nn.Sequential(nn.Linear(dim, dim // 2), nn.ReLU(), nn.Linear(dim // 2, 3))

    def forward(self, x: torch.Tensor, g: torch.Tensor, k_prev: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        B, n, _ = x.shape
        f = self.point_mlp(torch.cat([x, g[:, None].expand(B, n, -1), k_prev], -1))  # (B, n, dim)
        child = torch.relu(self.split(f)).view(B, n * self.up, -1)  # (B, n r, dim)
        x_up = x.repeat_interleave(self.up, dim=1)  # (B, n r, 3)
        return x_up + torch.tanh(self.offset(child)) * 0.2, child


class SnowflakeNet(nn.Module):
    def __init__(self, config: SnowflakeConfig = SnowflakeConfig()) -> None:
        super().__init__()
        self.config = config
        d = config.dim
        self.encoder = PointNetEncoder(d)
        self.seed = nn.Sequential(nn.Linear(d, 256), nn.ReLU(), nn.Linear(256, config.n_seed * 3))
        self.stages = nn.ModuleList([SPD(d, r) for r in config.up_factors])

    def forward(self, partial: torch.Tensor) -> list[torch.Tensor]:
        """partial (B, N, 3) normalised -> clouds of every stage, coarse to fine; the last is (B, n_out, 3)."""
        B = partial.shape[0]
        g = self.encoder(partial)  # (B, dim)
        seed = self.seed(g).view(B, self.config.n_seed, 3)
        keep = farthest_point_sample(partial, self.config.n_input_keep)  # (B, k)
        x = torch.cat([seed, partial[torch.arange(B)[:, None], keep]], 1)  # (B, n0, 3)
        outs, k = [x], torch.zeros(B, x.shape[1], self.config.dim, device=x.device)
        for stage in self.stages:
            x, k = stage(x, g, k)
            outs.append(x)
        return outs

    def save_pretrained(self, directory: str | Path, meta: dict | None = None) -> None:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").write_text(json.dumps({"model": asdict(self.config), "meta": meta or {}}, indent=2) + "\n")
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(d / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> SnowflakeNet:
        from safetensors.torch import load_file

        d = Path(directory)
        for name in ("config.json", "model.safetensors"):
            if not (d / name).is_file():
                raise MissingDependencyError(f"SnowflakeNet checkpoint file {d / name} is missing; train one with "
                                             "`unihm perception train-completion --out DIR` or use the 'classical' "
                                             "completer")
        raw = json.loads((d / "config.json").read_text())
        model = cls(from_dict(SnowflakeConfig, raw["model"], source=str(d / "config.json")))
        model.load_state_dict(load_file(str(d / "model.safetensors")))
        return model.eval()


def chamfer_l1(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean symmetric nearest-neighbour distance of (B, N, 3) and (B, M, 3)."""
    d = torch.cdist(a, b)  # (B, N, M)
    return 0.5 * (d.min(2).values.mean() + d.min(1).values.mean())
