"""Learned completion backend (SnowflakeNet-style) and its training on synthetic partial -> complete pairs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unihm_common.errors import ConfigError
from unihm_perception.completion.base import CompletedCloud, Completer, check_partial, register_completer
from unihm_perception.completion.classical import _outward_normals

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "snowflake"


@dataclass(frozen=True)
class SnowflakeCompleterConfig:
    checkpoint: str = str(DEFAULT_CHECKPOINT)
    n_input: int = 1024  # the partial cloud is resampled to this many points
    seed: int = 0


def normalise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre on the bounding-box centre and scale to unit half-diagonal: returns (normed, centre, scale)."""
    lo, hi = points.min(0), points.max(0)
    c, s = (lo + hi) / 2, max(float(np.linalg.norm(hi - lo)) / 2, 1e-3)
    return (points - c) / s, c, s


class SnowflakeCompleter(Completer):
    def __init__(self, config: SnowflakeCompleterConfig = SnowflakeCompleterConfig()) -> None:
        from unihm_perception.completion.snowflake_model import SnowflakeNet

        self.config = config
        self.model = SnowflakeNet.from_pretrained(config.checkpoint)

    def complete(self, points: np.ndarray, view_point: np.ndarray | None = None) -> CompletedCloud:
        import torch

        p = check_partial(points)
        rng = np.random.default_rng(self.config.seed)
        p = p[rng.choice(len(p), self.config.n_input, replace=len(p) < self.config.n_input)]
        x, c, s = normalise(p)
        with torch.no_grad():
            out = self.model(torch.as_tensor(x, dtype=torch.float32)[None])[-1][0].numpy()
        full = out.astype(np.float64) * s + c
        return CompletedCloud(points=full, normals=_outward_normals(full, 16))


register_completer("snowflake", SnowflakeCompleterConfig)(SnowflakeCompleter)


@dataclass(frozen=True)
class CompletionTrainConfig:
    pairs: int = 400  # synthetic partial -> complete pairs
    steps: int = 600
    batch_size: int = 8
    lr: float = 1e-3
    n_input: int = 1024
    n_gt: int = 2048
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.pairs, self.batch_size, self.n_input, self.n_gt) < 1 or self.lr <= 0:
            raise ConfigError("pairs, batch_size, n_input, n_gt >= 1 and lr > 0 required")


def make_pairs(n: int, seed: int, n_input: int = 1024, n_gt: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Render scenes with the synthetic camera; every visible object gives (partial (n_input,3), complete
    (n_gt,3)), both normalised by the partial's bounding box (as at inference)."""
    from unihm_perception.camera.synthetic import SyntheticCamera, SyntheticCameraConfig
    from unihm_perception.frame import backproject

    cam = SyntheticCamera(SyntheticCameraConfig(seed=seed, width=320, height=240, fx=230.0))
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    while len(xs) < n:
        frame = cam.read()
        for k, obj in enumerate(cam.scene.objects):
            p, _, _ = backproject(frame, mask=cam.last.instance == k)
            if len(p) < 30 or len(xs) >= n:
                continue
            full = obj.world_mesh().sample(n_gt, seed=int(rng.integers(2**31)))  # trimesh >= 4 accepts seed
            p = p[rng.choice(len(p), n_input, replace=len(p) < n_input)]
            x, c, s = normalise(p)
            xs.append(x.astype(np.float32))
            ys.append(((full - c) / s).astype(np.float32))
    return np.stack(xs), np.stack(ys)


def train_completion(config: CompletionTrainConfig, out_dir: str | Path | None = None, threads: int = 1):
    """Train a SnowflakeNet on synthetic pairs with the Chamfer loss of every stage; save when `out_dir`."""
    import torch
    from tqdm import tqdm

    from unihm_perception.completion.snowflake_model import SnowflakeNet, chamfer_l1

    torch.manual_seed(config.seed)
    torch.set_num_threads(threads)
    xs, ys = make_pairs(config.pairs, config.seed, config.n_input, config.n_gt)
    model = SnowflakeNet()
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = np.random.default_rng(config.seed)
    for _ in (bar := tqdm(range(config.steps), desc="train snowflake")):
        idx = rng.choice(len(xs), config.batch_size, replace=False)
        x, y = torch.from_numpy(xs[idx]), torch.from_numpy(ys[idx])
        loss = sum(chamfer_l1(o, y) for o in model(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.4f}")
    model.eval()
    if out_dir is not None:
        model.save_pretrained(out_dir, meta={"pairs": config.pairs, "steps": config.steps})
    return model
