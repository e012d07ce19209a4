"""Staged cross-morphology training (paper §3.2, App. B.2) as importable functions.

1. `train_reference`: E_ref, D_ref and the codebook Z with L_rec + L_vq (Eq. B12) and scheduled
   cold-code refresh (Eq. B9-B11).
2. `add_hand`: for a new hand, first distillation of E_new to the frozen E_ref on retargeted pairs
   (Eq. B13), then fine-tuning of E_new, D_new with L_rec + L_vq + lambda * L_distill (Eq. B14).
   Everything that existed before (other encoders/decoders, the codebook) stays frozen, so adding
   a hand never changes another hand's tokens or reconstructions.

An output directory holds config.json + model.safetensors (the model so far), train_state.pt
(optimizer, progress: `resume=True` continues from it), history.json and curves.png. Under torchrun
every process trains on its shard (DistributedSampler, DDP gradient averaging); only rank 0 writes.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError
from unihm_planner.tokenizer.checkpoint import load_pretrained, save_pretrained
from unihm_planner.tokenizer.config import RunConfig, TrainConfig, tokenizer_config_from_dict
from unihm_planner.tokenizer.data import TrajectorySource, augmented_chunks, make_chunks, make_paired_chunks
from unihm_planner.tokenizer.distributed import DistEnv, all_reduce_sum, barrier, broadcast_, setup_distributed
from unihm_planner.tokenizer.model import HandTokenizer, stats_from_data
from unihm_planner.tokenizer.quantizer import code_usage, perplexity
from unihm_planner.tokenizer.refresh import ReservoirBuffer, refresh_cold_codes

STATE_FILE = "train_state.pt"
HISTORY_FILE = "history.json"
CURVES_FILE = "curves.png"


# ---- per-stage loss modules (what DDP wraps) -------------------------------------------------------
class ReferenceStage(nn.Module):
    """Eq. B12 on the reference hand."""

    def __init__(self, model: HandTokenizer, hand: str) -> None:
        super().__init__()
        self.model, self.hand = model, hand

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.model(x, self.hand)
        return {"loss": out.loss_rec + out.loss_vq, "rec": out.loss_rec, "vq": out.loss_vq,
                "codes": out.codes, "refresh_points": out.stage_inputs}


class AddHandStage(nn.Module):
    """Eq. B13 (`distill_only`) or Eq. B14 for `hand`, against the frozen reference encoder."""

    def __init__(self, model: HandTokenizer, hand: str, ref: str, lambda_distill: float, distill_only: bool) -> None:
        super().__init__()
        self.model, self.hand, self.ref = model, hand, ref
        self.lambda_distill, self.distill_only = lambda_distill, distill_only

    def forward(self, x_ref: torch.Tensor, x_new: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            z_ref = self.model.encode(x_ref, self.ref)  # (B, N, d_z) target, E_ref frozen
            codes_ref = self.model.quantizer.quantize(z_ref)  # (B, N)
        if self.distill_only:
            z_new = self.model.encode(x_new, self.hand)  # (B, N, d_z)
            distill = F.mse_loss(z_new, z_ref)
            codes = self.model.quantizer.quantize(z_new)
            return {"loss": distill, "distill": distill, "codes": codes,
                    "agree": (codes == codes_ref).float().mean()}
        out = self.model(x_new, self.hand)
        distill = F.mse_loss(out.z_e, z_ref)
        return {"loss": out.loss_rec + out.loss_vq + self.lambda_distill * distill, "rec": out.loss_rec,
                "vq": out.loss_vq, "distill": distill, "codes": out.codes,
                "agree": (out.codes == codes_ref).float().mean()}


# ---- history and curves ----------------------------------------------------------------------------
@dataclass
class TrainState:
    """Progress written next to the checkpoint; `resume` continues from it."""

    completed: list[str] = field(default_factory=list)  # finished stage names
    stage: str | None = None  # stage in progress
    epoch: int = 0  # epochs of `stage` done
    optimizer: dict | None = None  # optimizer state of `stage`
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch


def plot_history(history: list[dict[str, Any]], path: str | Path) -> None:
    """Loss and codebook-usage curves (one x axis over all stages) -> PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    x = np.arange(1, len(history) + 1)
    for key in ("loss", "rec", "vq", "distill", "val_mae_rad"):
        y = np.array([h.get(key, np.nan) for h in history], dtype=float)
        if np.isfinite(y).any():
            axes[0].plot(x, y, label=key)
    axes[0].set_yscale("log")
    axes[0].set_title("losses (normalised units; val MAE in rad)")
    axes[1].plot(x, [100 * h["used_frac"] for h in history], label="% codes used")
    axes[1].set_title("codebook usage per epoch (%)")
    axes[2].plot(x, [h["perplexity"] for h in history], label="perplexity")
    axes[2].set_title("code perplexity per epoch")
    for ax in axes:
        last = None
        for i, h in enumerate(history):
            if h["stage"] != last:
                ax.axvline(i + 0.5, color="grey", lw=0.5)
                ax.text(i + 1, ax.get_ylim()[1], h["stage"], fontsize=7, rotation=90, va="top")
                last = h["stage"]
        ax.set_xlabel("epoch (all stages)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---- the generic stage loop ------------------------------------------------------------------------
def _log(env: DistEnv) -> Callable[[str], None]:
    def log(msg: str) -> None:
        if env.is_main:
            from tqdm import tqdm

            tqdm.write(msg, file=sys.stderr)

    return log


def _save(model: HandTokenizer, out_dir: Path, state: TrainState, cfg: RunConfig, env: DistEnv) -> None:
    if not env.is_main:
        return
    save_pretrained(model, out_dir, extra={"train": asdict(cfg.train), "stages_completed": list(state.completed)})
    torch.save(asdict(state), out_dir / (STATE_FILE + ".tmp"))
    (out_dir / (STATE_FILE + ".tmp")).replace(out_dir / STATE_FILE)
    (out_dir / HISTORY_FILE).write_text(json.dumps(state.history, indent=1) + "\n")
    if state.history:
        plot_history(state.history, out_dir / CURVES_FILE)


@torch.no_grad()
def _val_mae(model: HandTokenizer, hand: str, x: torch.Tensor | None, device: torch.device) -> float:
    if x is None or len(x) == 0:
        return float("nan")
    model.eval()
    err = sum(float((model.reconstruct(b.to(device), hand) - b.to(device)).abs().sum()) for b in x.split(256))
    model.train()
    return err / x.numel()


def _run_stage(name: str, model: HandTokenizer, stage: nn.Module, trainable: list[nn.Module],
               tensors: tuple[torch.Tensor, ...], epochs: int, cfg: RunConfig, env: DistEnv, out_dir: Path,
               state: TrainState, hand: str, val: torch.Tensor | None, refresh: bool,
               resample: Callable[[int], tuple[torch.Tensor, ...]] | None = None) -> None:
    """Train the `trainable` modules of `model` through `stage` for `epochs`, with logging and saving.

    `resample(epoch)`, when given, re-cuts the training tensors every epoch (augmentation; same count).
    """
    if name in state.completed:
        return
    tc, K, log = cfg.train, model.config.codebook_size, _log(env)
    start = state.epoch if state.stage == name else 0
    model.requires_grad_(False)
    params = [p for m in trainable for p in m.parameters()]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)
    if state.stage == name and state.optimizer is not None:
        opt.load_state_dict(state.optimizer)
    state.stage, state.epoch = name, start
    net = DistributedDataParallel(stage) if env.distributed else stage
    # one sampler for 1 or N processes: each rank gets a disjoint shuffled shard every epoch
    sampler = DistributedSampler(TensorDataset(*tensors), num_replicas=env.world_size, rank=env.rank,
                                 shuffle=True, seed=tc.seed)
    loader = DataLoader(TensorDataset(*tensors), batch_size=tc.batch_size, sampler=sampler,
                        num_workers=tc.num_workers)
    gen = torch.Generator().manual_seed(tc.seed + zlib.crc32(name.encode()))
    buffer = ReservoirBuffer(tc.refresh_buffer, model.config.code_dim, gen) if refresh else None
    from tqdm import tqdm

    bar = tqdm(range(start, epochs), desc=name, disable=not (env.is_main and tc.progress), file=sys.stderr,
               initial=start, total=epochs)
    model.train()
    for epoch in bar:
        sampler.set_epoch(epoch)
        if resample is not None:
            loader = DataLoader(TensorDataset(*resample(epoch)), batch_size=tc.batch_size, sampler=sampler,
                                num_workers=tc.num_workers)
        counts = torch.zeros(K, dtype=torch.long, device=env.device)
        sums: dict[str, float] = {}
        n_batches = 0
        for batch in loader:
            batch = [b.to(env.device, non_blocking=True) for b in batch]
            out = net(*batch)
            opt.zero_grad(set_to_none=True)
            out["loss"].backward()
            if tc.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(params, tc.grad_clip)
            opt.step()
            counts += code_usage(out["codes"], K)
            if buffer is not None:
                buffer.add(out["refresh_points"])
            for k, v in out.items():
                if v.dim() == 0:
                    sums[k] = sums.get(k, 0.0) + float(v.detach())
            n_batches += 1
        if n_batches == 0:
            raise InputError(f"{name}: no training batches (is the training split empty?)")
        all_reduce_sum(counts, env)  # Eq. B9 over every process's share of the epoch
        row: dict[str, Any] = {"stage": name, "epoch": epoch + 1, **{k: v / n_batches for k, v in sums.items()}}
        row["used_frac"] = float((counts > 0).float().mean())
        row["perplexity"] = perplexity(counts.cpu())
        row["refreshed"] = 0
        if refresh and tc.refresh_at(epoch + 1, epochs):
            cb = model.quantizer.codebook
            if env.is_main:
                row["refreshed"] = int(refresh_cold_codes(cb.data, counts, buffer.data, tc.cold_threshold,
                                                          tc.kmeans_iters, gen).numel())
            broadcast_(cb.data, env)  # rank 0's refreshed codebook everywhere
            buffer.reset()  # "encoder outputs since the previous refresh"
        row["val_mae_rad"] = _val_mae(model, hand, val, env.device) if env.is_main else float("nan")
        state.history.append(row)
        state.epoch = epoch + 1
        state.optimizer = opt.state_dict()
        extra = "".join(f" {k}={row[k]:.4g}" for k in ("rec", "vq", "distill", "agree") if k in row)
        log(f"[{name}] epoch {epoch + 1}/{epochs} loss={row['loss']:.4g}{extra} codes_used="
            f"{100 * row['used_frac']:.2f}% perplexity={row['perplexity']:.1f} val_mae={row['val_mae_rad']:.4f} rad"
            + (f" refreshed={row['refreshed']}" if row["refreshed"] else ""))
        if (epoch + 1) % tc.save_every == 0 and epoch + 1 < epochs:
            _save(model, out_dir, state, cfg, env)
    bar.close()
    state.completed.append(name)
    state.stage, state.epoch, state.optimizer = None, 0, None
    model.requires_grad_(False)
    _save(model, out_dir, state, cfg, env)
    model.eval()


def _augmenter(tc: TrainConfig, name: str, groups: list[tuple[np.ndarray, ...]],
               scales: list[np.ndarray]) -> Callable[[int], tuple[torch.Tensor, ...]] | None:
    """Per-epoch augmented re-cut of the training chunks (`augmented_chunks`), or None when it is off.

    Seeded by (seed, stage name, epoch): every process cuts the same chunks and resuming repeats them.
    """
    if not tc.augments:
        return None

    def resample(epoch: int) -> tuple[torch.Tensor, ...]:
        rng = np.random.default_rng([tc.seed, zlib.crc32(name.encode()), epoch])
        return augmented_chunks(groups, tc.chunk_len, tc.chunk_stride, rng, offsets=tc.augment_offsets,
                                speed=tc.augment_speed, noise=tc.augment_noise, noise_scale=scales)

    return resample


def _load_state(out_dir: Path, resume: bool) -> TrainState:
    path = out_dir / STATE_FILE
    if resume and path.is_file():
        return TrainState(**torch.load(path, map_location="cpu", weights_only=False))
    return TrainState()


def _val_chunks(source: TrajectorySource, hand: str, J: int, cfg: RunConfig) -> torch.Tensor | None:
    seqs = source.sequences(hand, "val")
    return make_chunks(seqs, J, cfg.train.chunk_len, cfg.train.chunk_len) if seqs else None


@torch.no_grad()
def _kmeans_init(model: HandTokenizer, hand: str, chunks: torch.Tensor, tc: TrainConfig, env: DistEnv) -> None:
    """Data-dependent codebook start: every code is cold before training, so refresh them all (B11)."""
    if env.is_main:
        gen = torch.Generator().manual_seed(tc.seed)
        n = max(1, tc.refresh_buffer // max(1, chunks.shape[1] // model.config.downsample))
        idx = torch.randperm(len(chunks), generator=gen)[:n]
        z = torch.cat([model.encode(b.to(env.device), hand).reshape(-1, model.config.code_dim).cpu()
                       for b in chunks[idx].split(tc.batch_size)])
        counts = torch.zeros(model.config.codebook_size, dtype=torch.long)
        refresh_cold_codes(model.quantizer.codebook.data, counts, z, 1, tc.kmeans_iters, gen)
    broadcast_(model.quantizer.codebook.data, env)


# ---- public entry points ---------------------------------------------------------------------------
def train_reference(source: TrajectorySource, cfg: RunConfig, out_dir: str | Path, resume: bool = False,
                    env: DistEnv | None = None) -> HandTokenizer:
    """Stage 1: the reference hand's encoder/decoder and the shared codebook (Eq. B12 + refresh)."""
    env = env or setup_distributed(cfg.train.device)
    out_dir = Path(out_dir)
    if env.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    ref, tc = cfg.train.reference_hand, cfg.train
    state = _load_state(out_dir, resume)
    J = len(source.joint_names(ref))
    train = source.sequences(ref, "train")
    if not train:
        raise InputError(f"no 'train' sequences for the reference hand {ref!r}")
    if resume and (out_dir / STATE_FILE).is_file():
        model = load_pretrained(out_dir, {ref: source.joint_names(ref)}, map_location=env.device)
    else:
        torch.manual_seed(tc.seed)
        model = HandTokenizer(cfg.tokenizer)
        mean, std = stats_from_data(list(train.values()), cfg.tokenizer.std_floor_rad)
        model.add_hand(ref, source.joint_names(ref), mean, std)
        model.to(env.device)
    chunks = make_chunks(train, J, tc.chunk_len, tc.chunk_stride)
    if tc.kmeans_init and not state.history:
        _kmeans_init(model, ref, chunks, tc, env)
    stage = ReferenceStage(model, ref)
    trainable = [model.encoders[ref], model.decoders[ref], model.quantizer]
    name = f"reference:{ref}"
    resample = _augmenter(tc, name, [(np.asarray(x, dtype=np.float32),) for x in train.values()],
                          [model.norms[ref].std.cpu().numpy()])
    _run_stage(name, model, stage, trainable, (chunks,), tc.reference_epochs, cfg, env, out_dir,
               state, ref, _val_chunks(source, ref, J, cfg), refresh=True, resample=resample)
    barrier(env)
    return model


def _reopen_finetune(state: TrainState, hand: str, epochs: int) -> None:
    """A resumed add-hand whose config asks for more fine-tuning epochs than the finished stage ran continues
    that stage from its last epoch (same weights, fresh optimizer moments; the learning rate is constant)."""
    name = f"finetune:{hand}"
    done = sum(1 for row in state.history if row.get("stage") == name)
    if name in state.completed and done < epochs:
        state.completed = [s for s in state.completed if s != name]
        state.stage, state.epoch, state.optimizer = name, done, None


def add_hand(source: TrajectorySource, hand: str, checkpoint: str | Path, out_dir: str | Path | None = None,
             cfg: RunConfig | None = None, resume: bool = False, env: DistEnv | None = None) -> HandTokenizer:
    """Stages 2-3 for `hand`: distillation to E_ref (Eq. B13), then fine-tuning (Eq. B14).

    Loads `checkpoint` (its reference hand, codebook and other hands stay frozen) and writes the
    model with the new hand to `out_dir` (default: `checkpoint` itself). `cfg` defaults to the
    training config stored in the checkpoint. `resume` continues an interrupted run, or a finished one whose
    `cfg` asks for more fine-tuning epochs than it ran.
    """
    from unihm_planner.tokenizer.checkpoint import read_config

    checkpoint = Path(checkpoint)
    out_dir = Path(out_dir) if out_dir is not None else checkpoint
    meta = read_config(checkpoint)
    if cfg is None:
        src = str(checkpoint / "config.json")
        cfg = RunConfig(tokenizer=tokenizer_config_from_dict(meta["tokenizer"], source=src),
                        train=from_dict(TrainConfig, meta.get("train") or {}, source=src))
    env = env or setup_distributed(cfg.train.device)
    if env.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    tc = cfg.train
    resuming = resume and (out_dir / STATE_FILE).is_file()
    # keep the history of earlier stages; restart this hand's stages unless resuming
    state = _load_state(out_dir if resuming else checkpoint, True)
    if not resuming:
        state.stage, state.epoch, state.optimizer = None, 0, None
        state.completed = [s for s in state.completed if not s.endswith(f":{hand}")]
    else:
        _reopen_finetune(state, hand, cfg.train.finetune_epochs)
    model = load_pretrained(out_dir if resuming else checkpoint, map_location=env.device)
    ref = model.reference_hand
    if ref is None:
        raise ConfigError(f"{checkpoint}: the checkpoint has no hands; train the reference hand first")
    if hand in model.hands and not (resuming and f"finetune:{hand}" not in state.completed):
        if resuming:
            return model
        raise ConfigError(f"{checkpoint}: hand {hand!r} is already trained (hands: {', '.join(model.hands)})")
    J_ref, J = len(model.joint_names[ref]), len(source.joint_names(hand))
    train_new, train_ref = source.sequences(hand, "train"), source.sequences(ref, "train")
    if hand not in model.hands:
        torch.manual_seed(tc.seed + zlib.crc32(hand.encode()))
        mean, std = stats_from_data(list(train_new.values()) or [np.zeros((1, J))], cfg.tokenizer.std_floor_rad)
        model.add_hand(hand, source.joint_names(hand), mean, std)
    elif model.joint_names[hand] != source.joint_names(hand):
        raise ConfigError(f"{out_dir}: joint order of {hand!r} in the checkpoint differs from the data's")
    x_ref, x_new = make_paired_chunks(train_ref, train_new, J_ref, J, tc.chunk_len, tc.chunk_stride)
    val = _val_chunks(source, hand, J, cfg)
    enc, dec = model.encoders[hand], model.decoders[hand]
    pairs = [(np.asarray(train_ref[sid], dtype=np.float32), np.asarray(train_new[sid], dtype=np.float32))
             for sid in sorted(set(train_ref) & set(train_new))] if tc.augments else []
    scales = [model.norms[ref].std.cpu().numpy(), model.norms[hand].std.cpu().numpy()]
    for name, epochs, trainable, distill_only in (
        (f"distill:{hand}", tc.distill_epochs, [enc], True),
        (f"finetune:{hand}", tc.finetune_epochs, [enc, dec], False),
    ):
        stage = AddHandStage(model, hand, ref, tc.lambda_distill, distill_only)
        resample = _augmenter(tc, name, pairs, scales)
        _run_stage(name, model, stage, trainable, (x_ref, x_new), epochs, cfg, env, out_dir, state, hand, val,
                   refresh=False, resample=resample)
    barrier(env)
    return model


def train_tokenizer(source: TrajectorySource, cfg: RunConfig, out_dir: str | Path,
                    resume: bool = False) -> HandTokenizer:
    """The whole recipe: reference hand, then every other hand (cfg.train.hands or all in the data)."""
    env = setup_distributed(cfg.train.device)
    ref = cfg.train.reference_hand
    if ref not in source.hands():
        raise ConfigError(f"reference_hand {ref!r} is not in the data (hands: {', '.join(source.hands())})")
    hands = list(cfg.train.hands) or [h for h in source.hands() if h != ref]
    model = train_reference(source, cfg, out_dir, resume=resume, env=env)
    for hand in hands:
        model = add_hand(source, hand, out_dir, out_dir, cfg, resume=True, env=env)
    return model
