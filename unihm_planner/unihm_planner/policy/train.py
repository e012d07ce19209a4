"""Training the motion-token policy (paper App. C.4): masked-token curriculum, AdamW, resume, DDP, curves.

Loss = cross-entropy on the reference hand's motion codes (+ <motion_end>) + `wrist_weight` · MSE of the wrist
head (positions in decimetres, 6-D rotation as is). Under torchrun every rank trains on a shard
(`DistributedSampler`); only rank 0 writes. Output directory: the `save_pretrained` files (config.json,
model.safetensors, text_vocab.json, tokenizer/), `training.json` (recipe + hand-tokenizer identity),
`history.json`, `curves.png`, `train_state.pt` (optimizer + progress, for resume).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from unihm_common.errors import ConfigError, InputError
from unihm_planner.policy.config import PolicyConfig
from unihm_planner.policy.data import (
    PolicySample,
    init_pose_stats,
    init_wrist_vector,
    policy_frame_inputs,
    wrist_in_object_frame,
    wrist_reference_poses,
)
from unihm_planner.policy.masking import mask_ratio, sample_mask

__all__ = ["PolicyTrainConfig", "train_policy", "codebook_id", "TRAINING_FILE"]

TRAINING_FILE = "training.json"
STATE_FILE = "train_state.pt"
POSITION_SCALE = 10.0  # wrist positions enter the loss in decimetres


@dataclass(frozen=True)
class PolicyTrainConfig:
    """The training recipe (stored in training.json)."""

    epochs: int = 60
    batch_size: int = 32
    lr: float = 1e-4  # AdamW (paper)
    weight_decay: float = 0.01
    warmup_steps: int = 50
    grad_clip: float = 1.0
    seed: int = 0
    mask_curriculum: bool = True  # App. C.4; False = the ablation "w/o masked training"
    mask_start: float = 0.2  # fraction of epochs with 0 % masked
    mask_end: float = 0.8  # fraction of epochs from which 100 % are masked
    use_trajectory: bool = True  # False = the ablation "w/o trajectory input"
    wrist_weight: float = 1.0
    num_points: int = 512  # points sampled from the object cloud per example
    trajectory_frames: int = 32  # T_tar is resampled to this many frames for the encoder
    random_instruction: bool = True  # draw one of the sequence's instructions per example and epoch
    augment_yaw: bool = True  # rotate each example's scene about the vertical axis (wrist targets are invariant)
    # scale each example's object (cloud) and the wrist's positions in the object's frame by one s ~ U(1 - a, 1 + a)
    # about the object's origin (0 = off): objects of other sizes, the hand keeping its offset in proportion
    augment_scale: float = 0.0
    # stretch each example's object along its own vertical axis (cloud and the wrist's object-frame height) by
    # u ~ U(1 - a, 1 + a) (0 = off): taller / flatter variants of the train shapes (a tuna can towards a soup can)
    augment_stretch: float = 0.0
    init_wrist_dropout: float = 0.2  # with PolicyConfig.init_wrist: share of examples whose initial wrist is hidden
    save_every: int = 10  # epochs between checkpoints (and at the end)
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.num_points < 1 or self.trajectory_frames < 1:
            raise ConfigError("epochs, batch_size, num_points and trajectory_frames must be >= 1")
        if not self.lr > 0 or self.weight_decay < 0 or self.wrist_weight < 0:
            raise ConfigError("need lr > 0, weight_decay >= 0, wrist_weight >= 0")
        if not 0.0 <= self.augment_scale < 1.0:
            raise ConfigError(f"augment_scale must be in [0, 1), got {self.augment_scale}")
        if not 0.0 <= self.augment_stretch < 1.0:
            raise ConfigError(f"augment_stretch must be in [0, 1), got {self.augment_stretch}")
        if not 0.0 <= self.init_wrist_dropout <= 1.0:
            raise ConfigError(f"init_wrist_dropout must be in [0, 1], got {self.init_wrist_dropout}")
        if not 0.0 <= self.mask_start < self.mask_end <= 1.0:
            raise ConfigError(f"need 0 <= mask_start < mask_end <= 1, got {self.mask_start}, {self.mask_end}")


def codebook_id(tokenizer) -> str:
    """A short digest of the hand tokenizer's codebook: motion codes only mean something with it."""
    book = tokenizer.quantizer.codebook.detach().cpu().float().numpy().tobytes()
    return hashlib.sha256(book).hexdigest()[:16]


class _Examples(Dataset):
    """Tensors per sample; the random parts (instruction, cloud subset) are drawn in `__getitem__`."""

    def __init__(self, samples: Sequence[PolicySample], latents: np.ndarray, cfg: PolicyTrainConfig, seed: int,
                 init_wrist: bool = False, wrist_frame: str = "path"):
        self.samples, self.latents, self.cfg = list(samples), latents, cfg
        self.rng = np.random.default_rng(seed)
        self.fixed = []
        # the initial wrist in the object's own frame: invariant under the yaw augmentation, like the targets
        self.init_wrist = [init_wrist_vector(s.T_world_object[0], s.T_world_wrist[0], POSITION_SCALE)
                           for s in self.samples] if init_wrist else None
        for s in self.samples:
            cloud_world = s.cloud_obj @ s.T_world_object[0, :3, :3].T + s.T_world_object[0, :3, 3]
            cloud, traj = policy_frame_inputs(cloud_world, s.T_world_object, cfg.trajectory_frames)
            frames = wrist_reference_poses(s.T_world_object, wrist_frame)
            wrist = wrist_in_object_frame(frames, s.T_world_wrist).astype(np.float32)
            wrist[:, :3] *= POSITION_SCALE
            self.fixed.append((cloud, traj, wrist))

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        s, (cloud, traj, wrist) = self.samples[i], self.fixed[i]
        texts = s.instructions or (s.instruction,)
        text = texts[self.rng.integers(len(texts))] if self.cfg.random_instruction else texts[0]
        idx = self.rng.choice(len(cloud), self.cfg.num_points, replace=len(cloud) < self.cfg.num_points)
        cloud = cloud[idx]
        init = None if self.init_wrist is None else self.init_wrist[i]
        if self.cfg.augment_stretch > 0:  # before the yaw turn: the cloud's axes are still the world's
            cloud, wrist, init = stretch_object(cloud, wrist, init, s.T_world_object[0, :3, :3], float(
                self.rng.uniform(1.0 - self.cfg.augment_stretch, 1.0 + self.cfg.augment_stretch)))
        if self.cfg.augment_yaw:
            cloud, traj = rotate_about_z(cloud, traj, float(self.rng.uniform(-np.pi, np.pi)))
        if self.cfg.augment_scale > 0:
            cloud, wrist, init = scale_object(cloud, wrist, init, float(self.rng.uniform(
                1.0 - self.cfg.augment_scale, 1.0 + self.cfg.augment_scale)))
        latent = self.latents[i]
        if init is not None:
            hide = self.rng.random() < self.cfg.init_wrist_dropout
            latent = np.concatenate([latent, np.zeros(10, np.float32) if hide else init])
        return text, cloud, traj, latent, s.tokens, wrist


def scale_object(cloud: np.ndarray, wrist9: np.ndarray, init_wrist: np.ndarray | None, s: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Scale the object (cloud (N, 3) about its origin) and the wrist positions in its frame ((T, 9) targets and
    the (10,) initial-wrist vector) by `s`; rotations and the object's path stay."""
    wrist = wrist9.copy()
    wrist[:, :3] *= s
    if init_wrist is not None:
        init_wrist = init_wrist.copy()
        init_wrist[:3] *= s
    return (cloud * s).astype(np.float32), wrist, init_wrist


def stretch_object(cloud: np.ndarray, wrist9: np.ndarray, init_wrist: np.ndarray | None, R_world_object: np.ndarray,
                   u: float) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Stretch the object along its own z axis by `u`: the cloud ((N, 3), world axes, origin at the object) by
    R diag(1, 1, u) R^T with R = R_world_object at frame 0, the wrist positions in the object's frame ((T, 9)
    targets, the (10,) initial-wrist vector) by diag(1, 1, u); rotations and the object's path stay."""
    R = np.asarray(R_world_object, np.float64)
    A = R @ np.diag([1.0, 1.0, u]) @ R.T
    wrist = wrist9.copy()
    wrist[:, 2] *= u
    if init_wrist is not None:
        init_wrist = init_wrist.copy()
        init_wrist[2] *= u
    return (cloud @ A.T).astype(np.float32), wrist, init_wrist


def rotate_about_z(cloud: np.ndarray, traj9: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate the object-centric inputs (cloud (N, 3), T_tar as (T, 9)) about the vertical axis through the origin.

    The wrist targets live in the object's own frame, which turns with the scene, so they do not change.
    """
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    t = traj9.reshape(-1, 3, 3) @ R.T  # position, rotation column 0, rotation column 1: all rotate alike
    return (cloud @ R.T).astype(np.float32), t.reshape(traj9.shape).astype(np.float32)


def _collate(batch, ds: int, stages: int = 1):
    """Codes (B, M) padded with -1 and wrist targets (B, M / stages, ds, 9): one wrist row per time step."""
    texts, clouds, trajs, latents, tokens, wrists = zip(*batch)
    M = max(len(t) for t in tokens)
    codes = torch.full((len(batch), M), -1, dtype=torch.long)
    wrist = torch.zeros(len(batch), M // stages, ds, 9)
    for b, (t, w) in enumerate(zip(tokens, wrists)):
        n = len(t) // stages
        codes[b, : len(t)] = torch.as_tensor(t)
        wrist[b, :n] = torch.as_tensor(w[: n * ds]).view(n, ds, 9)
    return (list(texts), torch.as_tensor(np.stack(clouds)), torch.as_tensor(np.stack(trajs)),
            torch.as_tensor(np.stack(latents)), codes, wrist)


def _text_ids(tokenizer, samples: Sequence[PolicySample]) -> list[int]:
    texts = sorted({t for s in samples for t in (s.instructions or (s.instruction,))})
    ids = set()
    for i in range(0, len(texts), 256):
        for row in tokenizer(texts[i : i + 256])["input_ids"]:
            ids.update(row)
    return sorted(ids)


def _batch_loss(model, batch, ratio: float, cfg: PolicyTrainConfig, gen: torch.Generator, dev, net=None):
    """Losses of one batch; `net` (a DDP wrapper of `model`, or None) runs the forward."""
    texts, cloud, traj, latent, codes, wrist = batch
    text_ids, text_mask = model.encode_text(texts)
    mask = sample_mask(tuple(codes.shape), ratio, gen) if ratio > 0 else None
    out = (net or model)(text_ids.to(dev), cloud.to(dev), traj.to(dev), latent.to(dev), codes.to(dev),
                mask=None if mask is None else mask.to(dev), text_mask=text_mask.to(dev))
    wrist_loss = torch.zeros((), device=dev)
    if out.wrist is not None and cfg.wrist_weight > 0:
        steps = (codes >= 0)[:, :: model.config.codes_per_step]  # (B, M / S): one wrist row per step
        valid = steps.to(dev)[..., None, None].float()
        err = (out.wrist - wrist.to(dev)) ** 2 * valid
        wrist_loss = err.sum() / (valid.sum() * wrist.shape[2] * wrist.shape[3]).clamp(min=1)
    with torch.no_grad():
        pred = out.logits[:, :-1].argmax(-1) - model.motion_offset  # (B, M)
        valid = codes.to(dev) >= 0
        acc = ((pred == codes.to(dev)) & valid).sum().float() / valid.sum().clamp(min=1)
    return out.loss, wrist_loss, acc


def train_policy(cfg: PolicyTrainConfig, model_cfg: PolicyConfig, train_samples: Sequence[PolicySample],
                 out_dir: str | Path, val_samples: Sequence[PolicySample] | None = None, tokenizer=None,
                 text_tokenizer=None, resume: bool = False, progress: bool = True):
    """Train a `MotionPolicy` on `train_samples`; returns (model, history). `tokenizer` = the hand tokenizer
    whose codes the samples hold (for the initial-pose latents and the checkpoint's codebook id)."""
    from tqdm import tqdm

    from unihm_planner.policy.data import init_pose_latent
    from unihm_planner.policy.model import MotionPolicy
    from unihm_planner.policy.text_tokenizer import load_text_tokenizer
    from unihm_planner.tokenizer.distributed import setup_distributed

    if tokenizer is None:
        raise InputError("train_policy needs the hand tokenizer the samples were tokenized with")
    if not train_samples:
        raise InputError("no training samples")
    ds = tokenizer.config.downsample
    tcfg = tokenizer.config
    if model_cfg.codebook_size != tcfg.codebook_size or model_cfg.init_pose_dim != tcfg.code_dim:
        raise ConfigError(f"PolicyConfig codebook_size/init_pose_dim ({model_cfg.codebook_size}/"
                          f"{model_cfg.init_pose_dim}) must equal the tokenizer's ({tokenizer.config.codebook_size}/"
                          f"{tokenizer.config.code_dim})")
    S = tcfg.residual_stages  # codes per time step
    model_cfg = dataclasses.replace(model_cfg, frames_per_token=ds, codes_per_step=S,
                                    use_trajectory=cfg.use_trajectory,
                                    wrist_frame="path" if cfg.use_trajectory else "first")
    longest = max(len(s.tokens) for s in train_samples)
    if longest > model_cfg.max_motion_tokens:
        raise ConfigError(f"a sample has {longest} motion tokens > max_motion_tokens={model_cfg.max_motion_tokens}")
    env = setup_distributed(cfg.device)
    dev = env.device
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    text_tok = text_tokenizer if text_tokenizer is not None else load_text_tokenizer()
    all_samples = list(train_samples) + list(val_samples or [])
    model = MotionPolicy(model_cfg, text_ids=_text_ids(text_tok, all_samples), tokenizer=text_tok).to(dev)
    latents = np.stack([init_pose_latent(tokenizer, s.init_q, s.hand) for s in train_samples]).astype(np.float32)
    data = _Examples(train_samples, latents, cfg, cfg.seed + env.rank, init_wrist=model_cfg.init_wrist,
                     wrist_frame=model_cfg.wrist_frame)
    sampler = torch.utils.data.DistributedSampler(data, num_replicas=env.world_size, rank=env.rank,
                                                  shuffle=True, seed=cfg.seed)
    loader = DataLoader(data, batch_size=cfg.batch_size, sampler=sampler, collate_fn=lambda b: _collate(b, ds, S))
    net = model
    if env.distributed:
        net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    total_steps = cfg.epochs * len(loader)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, cfg.warmup_steps)) * 0.5 * (
        1 + math.cos(math.pi * min(1.0, s / max(1, total_steps)))))
    out = Path(out_dir)
    history: list[dict] = []
    start_epoch = 0
    if resume and (out / STATE_FILE).is_file():
        state = torch.load(out / STATE_FILE, map_location=dev, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start_epoch, history = state["epoch"], state["history"]
    val_data = None
    if val_samples:
        val_lat = np.stack([init_pose_latent(tokenizer, s.init_q, s.hand) for s in val_samples]).astype(np.float32)
        val_cfg = dataclasses.replace(cfg, random_instruction=False, augment_yaw=False, init_wrist_dropout=0.0)
        val_data = DataLoader(_Examples(val_samples, val_lat, val_cfg, 12345, init_wrist=model_cfg.init_wrist,
                                         wrist_frame=model_cfg.wrist_frame),
                              batch_size=cfg.batch_size,
                              collate_fn=lambda b: _collate(b, ds, S))
    # the training starts and the farthest of them: the runner replaces a start beyond it by the nearest one
    extra = {"init_wrist_max_distance_m": max(float(np.linalg.norm(v[:3])) for v in data.init_wrist) / POSITION_SCALE,
             "init_wrist_starts": [[round(float(x), 4) for x in v[:9]] for v in data.init_wrist]} \
        if data.init_wrist is not None else {}
    extra.update(init_pose_stats(latents))
    gen = torch.Generator().manual_seed(cfg.seed + env.rank)
    bar = tqdm(range(start_epoch, cfg.epochs), desc="policy", unit="epoch", disable=not (progress and env.is_main))
    for epoch in bar:
        sampler.set_epoch(epoch)
        frac = epoch / max(1, cfg.epochs - 1)  # first epoch 0, last epoch 1
        ratio = mask_ratio(frac, cfg.mask_start, cfg.mask_end) if cfg.mask_curriculum else 0.0
        net.train()
        sums = np.zeros(3)
        for batch in loader:
            ce, wl, acc = _batch_loss(model, batch, ratio, cfg, gen, dev, net=net)
            loss = ce + cfg.wrist_weight * wl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            sums += [ce.item(), wl.item(), acc.item()]
        row = {"epoch": epoch + 1, "mask_ratio": ratio, "ce": sums[0] / len(loader), "wrist": sums[1] / len(loader),
               "token_acc": sums[2] / len(loader), "lr": sched.get_last_lr()[0]}
        if val_data is not None:
            row.update(_validate(model, val_data, 1.0 if cfg.mask_curriculum else 0.0, cfg, dev))
        history.append(row)
        bar.set_postfix(ce=f"{row['ce']:.3f}", wrist=f"{row['wrist']:.4f}", mask=f"{ratio:.2f}")
        if env.is_main and ((epoch + 1) % cfg.save_every == 0 or epoch + 1 == cfg.epochs):
            _save(model, cfg, tokenizer, out, history, opt, sched, epoch + 1, extra)
    return model, history


@torch.no_grad()
def _validate(model, loader, ratio: float, cfg: PolicyTrainConfig, dev) -> dict:
    model.eval()
    gen = torch.Generator().manual_seed(0)
    sums, n = np.zeros(3), 0
    for batch in loader:
        ce, wl, acc = _batch_loss(model, batch, ratio, cfg, gen, dev)
        sums += [ce.item(), wl.item(), acc.item()]
        n += 1
    model.train()
    return {"val_ce": sums[0] / n, "val_wrist": sums[1] / n, "val_token_acc": sums[2] / n}


def _save(model, cfg, tokenizer, out: Path, history, opt, sched, epoch: int, extra: dict) -> None:
    model.save_pretrained(out)
    meta = {"train": dataclasses.asdict(cfg), **extra, "epochs_done": epoch, "codebook_id": codebook_id(tokenizer),
            "reference_hand": tokenizer.reference_hand, "frames_per_token": tokenizer.config.downsample,
            "codes_per_step": tokenizer.config.residual_stages,
            "inference_mask_inputs": bool(cfg.mask_curriculum), "position_scale": POSITION_SCALE}
    (out / TRAINING_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                "epoch": epoch, "history": history}, out / STATE_FILE)
    _plot(history, out / "curves.png")


def _plot(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.2))
    ax[0].plot(ep, [h["ce"] for h in history], label="train")
    if "val_ce" in history[0]:
        ax[0].plot(ep, [h.get("val_ce", np.nan) for h in history], label="val (all masked)")
    ax[0].set_title("token cross-entropy")
    ax[1].plot(ep, [h["wrist"] for h in history], label="train")
    if "val_wrist" in history[0]:
        ax[1].plot(ep, [h.get("val_wrist", np.nan) for h in history], label="val")
    ax[1].set_title("wrist MSE (dm, 6-D)")
    ax[2].plot(ep, [h["mask_ratio"] for h in history], label="mask ratio")
    ax[2].plot(ep, [h["token_acc"] for h in history], label="token acc")
    ax[2].set_title("curriculum")
    for a in ax:
        a.set_xlabel("epoch")
        a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
