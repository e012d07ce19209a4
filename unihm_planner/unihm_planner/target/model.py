"""Two-stream CLIPort-style affordance network.

Spatial stream: a small U-Net over the (4, S, S) top-down heightmap (RGB + height). Language stream: the
384-d sentence embedding, fused into every U-Net stage by FiLM (per-channel scale and shift).
Outputs per pixel: pick logit, place logit (each a softmax over pixels), and the object's yaw at pick and
at place as (cos 2y, sin 2y) (objects are treated as symmetric under a half turn).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, MissingDependencyError

from .heightmap import HeightmapConfig


@dataclass(frozen=True)
class AffordanceNetConfig:
    in_channels: int = 4  # RGB + height
    lang_dim: int = 384  # sentence-embedding size
    channels: tuple[int, ...] = (16, 32, 48, 64)  # U-Net widths, one stride-2 stage between each
    heightmap: HeightmapConfig = HeightmapConfig()

    def __post_init__(self) -> None:
        if len(self.channels) < 2 or min(self.channels) < 1:
            raise ConfigError(f"channels needs >= 2 positive widths, got {self.channels}")
        if self.heightmap.size_px % (2 ** len(self.channels)):
            raise ConfigError("heightmap size_px must be divisible by 2^len(channels)")


class FiLMBlock(nn.Module):
    """conv-GN-ReLU x2, then language FiLM: x * (1 + gamma) + beta."""

    def __init__(self, c_in: int, c_out: int, lang_dim: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.norm1 = nn.GroupNorm(4, c_out)
        self.norm2 = nn.GroupNorm(4, c_out)
        self.film = nn.Linear(lang_dim, 2 * c_out)

    def forward(self, x: torch.Tensor, lang: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.norm1(self.conv1(x)))
        x = self.norm2(self.conv2(x))
        gamma, beta = self.film(lang)[..., None, None].chunk(2, dim=1)  # (B, C, 1, 1) each
        return F.relu(x * (1 + gamma) + beta)


class AffordanceNet(nn.Module):
    def __init__(self, config: AffordanceNetConfig = AffordanceNetConfig()) -> None:
        super().__init__()
        self.config = config
        ch, L = config.channels, config.lang_dim
        # the first stage already halves the resolution (CPU budget); logits are upsampled back at the end
        self.down = nn.ModuleList([FiLMBlock(config.in_channels + 2, ch[0], L, stride=2)] +
                                  [FiLMBlock(ch[i - 1], ch[i], L, stride=2) for i in range(1, len(ch))])
        self.up = nn.ModuleList([FiLMBlock(ch[i] + ch[i - 1], ch[i - 1], L) for i in range(len(ch) - 1, 0, -1)])
        self.head = nn.Conv2d(ch[0], 6, 1)  # pick, place, pick cos/sin 2y, place cos/sin 2y

    def forward(self, x: torch.Tensor, lang: torch.Tensor) -> dict[str, torch.Tensor]:
        """x (B, 4, S, S), lang (B, 384) -> logits (B, S, S) x2 and unit yaw vectors (B, 2, S, S) x2."""
        B, _, S, _ = x.shape
        coords = torch.linspace(-1, 1, S, device=x.device)
        grid = torch.stack(torch.meshgrid(coords, coords, indexing="ij"))[None].expand(B, 2, S, S)
        h = torch.cat([x, grid], 1)  # (B, 6, S, S) position-aware, for "left of" etc.
        skips = []
        for blk in self.down:
            h = blk(h, lang)
            skips.append(h)
        skips.pop()
        for blk in self.up:
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = blk(torch.cat([h, skips.pop()], 1), lang)
        out = F.interpolate(self.head(h), size=(S, S), mode="bilinear", align_corners=False)  # (B, 6, S, S)
        return {"pick": out[:, 0], "place": out[:, 1],
                "pick_yaw": F.normalize(out[:, 2:4], dim=1), "place_yaw": F.normalize(out[:, 4:6], dim=1)}

    def save_pretrained(self, directory: str | Path, meta: dict | None = None) -> None:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        cfg = asdict(self.config)
        (d / "config.json").write_text(json.dumps({"model": cfg, "meta": meta or {}}, indent=2) + "\n")
        tensors = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(tensors, str(d / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> AffordanceNet:
        from safetensors.torch import load_file

        d = Path(directory)
        for name in ("config.json", "model.safetensors"):
            if not (d / name).is_file():
                raise MissingDependencyError(
                    f"planner checkpoint file {d / name} is missing; train one with `unihm planner train --out {d}`")
        raw = json.loads((d / "config.json").read_text())
        model = cls(from_dict(AffordanceNetConfig, raw["model"], source=str(d / "config.json")))
        model.load_state_dict(load_file(str(d / "model.safetensors")))
        return model.eval()
