"""Motion feature encoder f(x) of App. F (FID, Diversity): a small 1-D conv autoencoder.

Input x of one sequence: the evaluated hand's FK joint positions in the world (T, K, 3) and the object
positions (T, 3), both relative to the object's first position, resampled to `length` frames and
standardised with train-split statistics. The encoder's bottleneck z (d = `latent_dim`) is the feature.
Trained once on the train split (`unihm eval --train-encoder`), shipped in checkpoints/motion_encoder/.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_planner.evaluation.metrics import resample

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "checkpoints" / "motion_encoder"


@dataclass(frozen=True)
class EncoderConfig:
    hand: str = "shadow_right"
    num_points: int = 29  # K: FK points per frame of `hand` (metrics.HandPoints)
    length: int = 32  # frames after resampling (divisible by 4)
    hidden: int = 64
    latent_dim: int = 32
    epochs: int = 300
    lr: float = 2e-3
    seed: int = 0

    @property
    def frame_dim(self) -> int:
        return 3 * self.num_points + 3


def motion_features(joints_world: np.ndarray, obj_pos: np.ndarray, length: int) -> np.ndarray:
    """(T, K, 3) joint positions + (T, 3) object positions -> (length, 3K + 3) raw encoder input."""
    joints_world, obj_pos = np.asarray(joints_world, np.float64), np.asarray(obj_pos, np.float64)
    if joints_world.ndim != 3 or obj_pos.shape != (joints_world.shape[0], 3):
        raise InputError(f"motion_features: got joints {joints_world.shape} and object positions {obj_pos.shape}")
    origin = obj_pos[0]
    x = np.concatenate([(joints_world - origin).reshape(len(obj_pos), -1), obj_pos - origin], axis=1)
    return resample(x, length).astype(np.float32)


def _build(cfg: EncoderConfig):
    import torch
    from torch import nn

    if cfg.length % 4:
        raise ConfigError(f"motion encoder length must be divisible by 4, got {cfg.length}")

    class AutoEncoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            h, d, L = cfg.hidden, cfg.frame_dim, cfg.length
            self.enc = nn.Sequential(nn.Conv1d(d, h, 3, stride=2, padding=1), nn.GELU(),
                                     nn.Conv1d(h, h, 3, stride=2, padding=1), nn.GELU(), nn.Flatten(),
                                     nn.Linear(h * (L // 4), cfg.latent_dim))
            self.dec = nn.Sequential(nn.Linear(cfg.latent_dim, 4 * h), nn.GELU(), nn.Linear(4 * h, L * d))

        def encode(self, x: torch.Tensor) -> torch.Tensor:  # (B, L, d) -> (B, latent)
            return self.enc(x.transpose(1, 2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.dec(self.encode(x)).view_as(x)

    return AutoEncoder()


class MotionEncoder:
    """`encode(list of (L, d) raw features) -> (M, latent_dim)`; `train`, `save`, `load`."""

    def __init__(self, cfg: EncoderConfig, net, mean: np.ndarray, std: np.ndarray) -> None:
        self.cfg, self.net, self.mean, self.std = cfg, net.eval(), mean.astype(np.float32), std.astype(np.float32)

    @classmethod
    def train(cls, feats: list[np.ndarray], cfg: EncoderConfig, progress: bool = False) -> MotionEncoder:
        """Fit the autoencoder (MSE reconstruction, Adam, full batch) on raw features (L, d) of the train split."""
        import torch

        if len(feats) < 2:
            raise InputError("the motion encoder needs at least 2 training sequences")
        X = np.stack(feats).astype(np.float32)  # (M, L, d)
        if X.shape[1:] != (cfg.length, cfg.frame_dim):
            raise InputError(f"features have shape {X.shape[1:]}, config wants ({cfg.length}, {cfg.frame_dim})")
        mean, std = X.mean(axis=(0, 1)), X.std(axis=(0, 1)) + 1e-3
        torch.manual_seed(cfg.seed)
        net = _build(cfg)
        xt = torch.from_numpy((X - mean) / std)
        opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
        rng = range(cfg.epochs)
        if progress:
            from tqdm import tqdm

            rng = tqdm(rng, desc="motion encoder", leave=False)
        g = torch.Generator().manual_seed(cfg.seed)
        for _ in rng:
            perm = torch.randperm(len(xt), generator=g)
            for i in range(0, len(xt), 64):
                xb = xt[perm[i:i + 64]]
                loss = torch.nn.functional.mse_loss(net(xb), xb)
                opt.zero_grad()
                loss.backward()
                opt.step()
        enc = cls(cfg, net, mean, std)
        enc.final_loss = float(loss.detach())
        return enc

    def encode(self, feats: list[np.ndarray]) -> np.ndarray:
        import torch

        X = (np.stack(feats).astype(np.float32) - self.mean) / self.std
        with torch.no_grad():
            return self.net.encode(torch.from_numpy(X)).numpy().astype(np.float64)

    def save(self, out_dir: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        enc = {k: v.contiguous() for k, v in self.net.state_dict().items() if k.startswith("enc.")}
        save_file(enc, str(out / "model.safetensors"))  # the decoder only serves training: not shipped
        meta = {"config": asdict(self.cfg), "mean": self.mean.tolist(), "std": self.std.tolist()}
        (out / "config.json").write_text(json.dumps(meta, indent=1))
        return out

    @classmethod
    def load(cls, path: str | Path | None = None) -> MotionEncoder:
        from safetensors.torch import load_file

        d = Path(path) if path is not None else DEFAULT_DIR
        if not (d / "config.json").is_file() or not (d / "model.safetensors").is_file():
            raise InputError(f"{d}: no motion encoder (config.json + model.safetensors); "
                             "train one with `unihm eval --train-encoder`")
        meta = json.loads((d / "config.json").read_text())
        cfg = EncoderConfig(**meta["config"])
        net = _build(cfg)
        missing, unexpected = net.load_state_dict(load_file(str(d / "model.safetensors")), strict=False)
        if unexpected or any(k.startswith("enc.") for k in missing):
            raise InputError(f"{d}: model.safetensors does not match config.json ({missing}, {unexpected})")
        return cls(cfg, net, np.asarray(meta["mean"]), np.asarray(meta["std"]))
