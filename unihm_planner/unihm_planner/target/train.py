"""Train and evaluate the affordance network on synthetic tabletop episodes (CPU friendly).

Recipe of the shipped default: see docs/perception.md (`unihm planner train`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from unihm_common.errors import ConfigError
from unihm_perception.camera.synthetic import SyntheticCameraConfig, render

from .heightmap import HeightmapConfig, heightmap_from_frame, model_input
from .language import default_encoder
from .model import AffordanceNet, AffordanceNetConfig
from .tasks import Episode, sample_episode


@dataclass(frozen=True)
class TrainConfig:
    episodes: int = 1200  # synthetic training episodes (rendered once, cached)
    steps: int = 1500
    batch_size: int = 12
    lr: float = 2e-3
    weight_decay: float = 1e-4
    yaw_weight: float = 0.5
    seed: int = 0
    render_scale: float = 0.5  # training renders at half the 640x480 camera (same sampling as stride 2)
    threads: int = 1  # torch CPU threads (1 is fastest on a shared 2-core machine)
    model: AffordanceNetConfig = field(default_factory=AffordanceNetConfig)

    def __post_init__(self) -> None:
        if self.episodes < 1 or self.steps < 0 or self.batch_size < 1 or self.lr <= 0:
            raise ConfigError("episodes, batch_size >= 1, steps >= 0, lr > 0 required")


@dataclass
class EpisodeBatch:
    """Stacked network inputs and labels of n episodes (saved/loaded as one .npz)."""

    x: np.ndarray  # (n, 4, S, S) float16
    lang: np.ndarray  # (n, 384) float32
    pick_xyz: np.ndarray  # (n, 3) world
    place_xyz: np.ndarray  # (n, 3) world
    pick_yaw: np.ndarray  # (n,)
    place_yaw: np.ndarray  # (n,)
    instructions: np.ndarray  # (n,) str

    def __len__(self) -> int:
        return len(self.x)

    def save(self, path: str | Path) -> None:
        np.savez_compressed(path, **{k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def load(cls, path: str | Path) -> EpisodeBatch:
        with np.load(path) as z:
            return cls(**{k: z[k] for k in cls.__dataclass_fields__})


def render_episode(ep: Episode, cam: SyntheticCameraConfig, rng: np.random.Generator, scale: float = 1.0):
    """RGB-D frame of the episode's scene from the (optionally downscaled) synthetic camera."""
    w, h = int(cam.width * scale), int(cam.height * scale)
    K = cam.K().copy()
    K[:2] *= scale
    K[:2, 2] = [(w - 1) / 2, (h - 1) / 2]
    return render(ep.scene, K, cam.T_world_camera(), w, h, rng, cam.depth_noise_m_at_1m, cam.dropout,
                  cam.edge_dropout).frame


def make_episodes(n: int, seed: int, hm: HeightmapConfig, render_scale: float = 0.5) -> EpisodeBatch:
    """Sample, render and encode n episodes (seeded; held-out sets use another seed)."""
    rng = np.random.default_rng(seed)
    cam = SyntheticCameraConfig()
    hm_train = HeightmapConfig(**{**asdict(hm), "stride": max(1, round(hm.stride * render_scale))})
    xs, eps = [], []  # eps: list[Episode]
    for _ in tqdm(range(n), desc=f"episodes (seed {seed})", leave=False):
        ep = sample_episode(rng)
        colour, height = heightmap_from_frame(render_episode(ep, cam, rng, render_scale), hm_train)
        xs.append(model_input(colour, height).astype(np.float16))
        eps.append(ep)
    lang = default_encoder().encode([e.instruction for e in eps])
    return EpisodeBatch(
        x=np.stack(xs), lang=lang, pick_xyz=np.stack([e.pick_xyz for e in eps]),
        place_xyz=np.stack([e.place_xyz for e in eps]), pick_yaw=np.array([e.pick_yaw_rad for e in eps]),
        place_yaw=np.array([e.place_yaw_rad for e in eps]), instructions=np.array([e.instruction for e in eps]))


def _yaw_loss(pred: torch.Tensor, px: torch.Tensor, yaw: torch.Tensor) -> torch.Tensor:
    """1 - cos(2 (pred - target)) at the labelled pixel. pred (B,2,S,S), px (B,2), yaw (B,)."""
    b = torch.arange(len(px))
    v = pred[b, :, px[:, 0], px[:, 1]]  # (B, 2)
    target = torch.stack([torch.cos(2 * yaw), torch.sin(2 * yaw)], 1)
    return (1 - (v * target).sum(1)).mean()


def loss_fn(out: dict[str, torch.Tensor], pick_px: torch.Tensor, place_px: torch.Tensor, pick_yaw: torch.Tensor,
            place_yaw: torch.Tensor, yaw_weight: float) -> tuple[torch.Tensor, dict[str, float]]:
    S = out["pick"].shape[-1]
    ce_pick = F.cross_entropy(out["pick"].flatten(1), pick_px[:, 0] * S + pick_px[:, 1])
    ce_place = F.cross_entropy(out["place"].flatten(1), place_px[:, 0] * S + place_px[:, 1])
    yaw = _yaw_loss(out["pick_yaw"], pick_px, pick_yaw) + _yaw_loss(out["place_yaw"], place_px, place_yaw)
    total = ce_pick + ce_place + yaw_weight * yaw
    return total, {"pick": ce_pick.item(), "place": ce_place.item(), "yaw": yaw.item()}


def train(config: TrainConfig, out_dir: str | Path | None = None, data: EpisodeBatch | None = None,
          log_every: int = 100) -> AffordanceNet:
    """Train from scratch; save config + safetensors to `out_dir` when given."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    S = config.model.heightmap.size_px
    hm = config.model.heightmap
    data = data or make_episodes(config.episodes, config.seed, config.model.heightmap, config.render_scale)
    model = AffordanceNet(config.model)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, config.lr, total_steps=max(config.steps, 20), pct_start=0.1)
    rng = np.random.default_rng(config.seed + 1)
    n = len(data)
    pick_px_all = np.clip(hm.xy_to_pixel(data.pick_xyz[:, :2]), 0, S - 1)
    place_px_all = np.clip(hm.xy_to_pixel(data.place_xyz[:, :2]), 0, S - 1)
    t0 = time.perf_counter()
    bar = tqdm(range(config.steps), desc="train planner")
    for step in bar:
        idx = rng.choice(n, size=min(config.batch_size, n), replace=False)
        x = torch.from_numpy(data.x[idx].astype(np.float32))
        out = model(x, torch.from_numpy(data.lang[idx]))
        pick_px, place_px = torch.from_numpy(pick_px_all[idx]), torch.from_numpy(place_px_all[idx])
        loss, parts = loss_fn(out, pick_px, place_px, torch.from_numpy(data.pick_yaw[idx]).float(),
                              torch.from_numpy(data.place_yaw[idx]).float(), config.yaw_weight)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 10 == 0:
            bar.set_postfix({k: f"{v:.2f}" for k, v in parts.items()})
        if log_every and step % log_every == 0:
            tqdm.write(f"step {step} loss {loss.item():.3f} {parts} {time.perf_counter() - t0:.0f}s")
    model.eval()
    if out_dir is not None:
        model.save_pretrained(out_dir, meta={"train": asdict(config), "train_s": round(time.perf_counter() - t0, 1)})
    return model


@torch.no_grad()
def evaluate(model: AffordanceNet, data: EpisodeBatch, tol_m: float = 0.03) -> dict[str, float]:
    """Pick and place success (3-D distance <= tol_m) with the planner's lifting, on rendered episodes."""
    from .planner import lift_pick, lift_place

    hm = model.config.heightmap
    S = hm.size_px
    pick_ok, place_ok, place_err = [], [], []
    for i in range(0, len(data), 32):
        x = torch.from_numpy(data.x[i:i + 32].astype(np.float32))
        out = model(x, torch.from_numpy(data.lang[i:i + 32]))
        for j in range(len(x)):
            height = x[j, 3].numpy() / 10.0
            pk = np.unravel_index(int(out["pick"][j].argmax()), (S, S))
            pl = np.unravel_index(int(out["place"][j].argmax()), (S, S))
            pick_xyz, half_h = lift_pick(np.array(pk), height, hm)
            place_xyz = lift_place(np.array(pl), height, hm, half_h)
            pick_ok.append(np.linalg.norm(pick_xyz - data.pick_xyz[i + j]) <= tol_m)
            err = float(np.linalg.norm(place_xyz - data.place_xyz[i + j]))
            place_err.append(err)
            place_ok.append(err <= tol_m)
    return {"pick_success_rate": float(np.mean(pick_ok)), "place_success_rate": float(np.mean(place_ok)),
            "place_error_median_m": float(np.median(place_err)), "episodes": len(place_ok)}
