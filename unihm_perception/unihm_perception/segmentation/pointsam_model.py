"""A compact promptable point-cloud segmenter in the spirit of Point-SAM (Zhou et al., 2024).

Point encoder: PointNet (shared MLP on xyz + rgb, max-pooled global feature concatenated back). Prompt
encoder: Fourier features of prompt xyz + a learned embedding of the label (1 positive, 0 negative).
Mask decoder: point features attend to the prompt tokens (one cross-attention layer), then an MLP gives a
per-point mask logit. Checkpoints: config.json + model.safetensors (`save_pretrained` / `from_pretrained`).
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
class PointSAMConfig:
    dim: int = 128  # feature width
    fourier_bands: int = 8  # per axis, for prompt and point positions
    heads: int = 4
    n_points: int = 4096  # points the segmenter sees (subsampled)

    def __post_init__(self) -> None:
        if self.dim % self.heads or self.dim < 8:
            raise ConfigError(f"dim {self.dim} must be >= 8 and divisible by heads {self.heads}")


def fourier(x: torch.Tensor, bands: int) -> torch.Tensor:
    """(…, 3) -> (…, 3 + 6 bands) positional features."""
    freqs = 2.0 ** torch.arange(bands, device=x.device, dtype=x.dtype) * torch.pi
    xf = x[..., None] * freqs  # (…, 3, bands)
    return torch.cat([x, xf.sin().flatten(-2), xf.cos().flatten(-2)], -1)


class PointSAM(nn.Module):
    def __init__(self, config: PointSAMConfig = PointSAMConfig()) -> None:
        super().__init__()
        self.config = config
        d, pe = config.dim, 3 + 6 * config.fourier_bands
        self.local = nn.Sequential(nn.Linear(pe + 3, d), nn.ReLU(), nn.Linear(d, d), nn.ReLU())
        self.fuse = nn.Sequential(nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, d))
        self.prompt_pos = nn.Linear(pe, d)
        self.label = nn.Embedding(2, d)
        self.attn = nn.MultiheadAttention(d, config.heads, batch_first=True)
        self.norm = nn.LayerNorm(d)
        self.head = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, 1))

    def forward(self, xyz: torch.Tensor, rgb: torch.Tensor, prompt_xyz: torch.Tensor,
                prompt_label: torch.Tensor) -> torch.Tensor:
        """xyz (B,N,3) normalised to about [-1,1], rgb (B,N,3) in [0,1], prompts (B,P,3) and (B,P) long
        -> mask logits (B,N)."""
        b = self.config.fourier_bands
        f = self.local(torch.cat([fourier(xyz, b), rgb], -1))  # (B, N, d)
        g = f.max(1, keepdim=True).values.expand_as(f)  # (B, N, d)
        f = self.fuse(torch.cat([f, g], -1))  # (B, N, d)
        p = self.prompt_pos(fourier(prompt_xyz, b)) + self.label(prompt_label)  # (B, P, d)
        a, _ = self.attn(f, p, p)  # (B, N, d)
        return self.head(self.norm(f + a)).squeeze(-1)  # (B, N)

    def save_pretrained(self, directory: str | Path) -> None:
        from safetensors.torch import save_file

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        (d / "config.json").write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(d / "model.safetensors"))

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> PointSAM:
        """Load config.json + model.safetensors from `directory`; `MissingDependencyError` naming what is absent."""
        from safetensors.torch import load_file

        d = Path(directory) if directory else None
        if d is None or not d.is_dir():
            raise MissingDependencyError(
                f"Point-SAM checkpoint folder {str(directory)!r} not found: pass the folder holding config.json and "
                "model.safetensors of a trained unihm Point-SAM (or use the 'geometric' segmenter, which needs no "
                "weights)")
        for name in ("config.json", "model.safetensors"):
            if not (d / name).is_file():
                raise MissingDependencyError(f"Point-SAM checkpoint file {d / name} is missing (need config.json "
                                             "and model.safetensors; the 'geometric' segmenter needs no weights)")
        cfg = from_dict(PointSAMConfig, json.loads((d / "config.json").read_text()), source=str(d / "config.json"))
        model = cls(cfg)
        model.load_state_dict(load_file(str(d / "model.safetensors")))
        return model.eval()
