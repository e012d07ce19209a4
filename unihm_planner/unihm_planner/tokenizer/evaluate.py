"""Held-out evaluation: reconstruction MAE / RMSE per hand in rad (Table B1 layout), codebook usage,
cross-hand translation fingertip error in mm (Eq. 6) when hand kinematics are available."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import torch

from unihm_planner.tokenizer.data import TrajectorySource
from unihm_planner.tokenizer.model import HandTokenizer
from unihm_planner.tokenizer.quantizer import code_usage, perplexity

BACKBONE_LABELS = {"mlp": "MLP", "conv1d": "1D-Conv"}


class Kinematics(Protocol):
    def fingertip_positions(self, q: np.ndarray) -> np.ndarray: ...  # (B, J) rad -> (B, F, 3) m


def _pad(x: np.ndarray, ds: int) -> np.ndarray:
    """Hold the last pose so T is a multiple of ds: (T, J) -> (ceil(T/ds)*ds, J)."""
    T = x.shape[0]
    pad = -T % ds
    return np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]) if pad else x


@torch.no_grad()
def _run(model: HandTokenizer, seq: np.ndarray, src: str, dst: str | None = None) -> tuple[np.ndarray, torch.Tensor]:
    """Whole-sequence tokenize -> detokenize (dst=None: same hand) -> ((T, J_dst), tokens (1, N))."""
    T = seq.shape[0]
    x = torch.from_numpy(_pad(np.asarray(seq, np.float32), model.config.downsample))[None]
    x = x.to(model.quantizer.codebook.device)
    tokens = model.tokenize(x, src)  # (1, N)
    out = model.detokenize(tokens, dst or src)  # (1, T', J)
    return out[0, :T].cpu().numpy(), tokens


def reconstruction_errors(model: HandTokenizer, source: TrajectorySource, split: str = "test",
                          hands: Iterable[str] | None = None) -> dict[str, Any]:
    """{per_hand: {hand: {mae, rmse, frames}}, overall_mae, overall_rmse, codebook_used_frac, perplexity}.

    Errors are over every joint of every frame of every held-out sequence, in rad; overall pools
    all hands' values (not the mean of per-hand figures).
    """
    model.eval()
    per_hand: dict[str, dict[str, float]] = {}
    abs_sum = sq_sum = n_total = 0.0
    counts = torch.zeros(model.config.codebook_size, dtype=torch.long)
    for hand in hands or model.hands:
        seqs = source.sequences(hand, split)
        if not seqs:
            continue
        a = s = n = 0.0
        frames = 0
        for seq in seqs.values():
            x_hat, tokens = _run(model, seq, hand)
            err = x_hat - seq
            a, s, n, frames = a + np.abs(err).sum(), s + (err**2).sum(), n + err.size, frames + seq.shape[0]
            counts += code_usage(tokens.cpu(), model.config.codebook_size)
        per_hand[hand] = {"mae": float(a / n), "rmse": float(np.sqrt(s / n)), "frames": frames}
        abs_sum, sq_sum, n_total = abs_sum + a, sq_sum + s, n_total + n
    if not per_hand:
        raise ValueError(f"no {split!r} sequences for any of the hands {list(hands or model.hands)}")
    return {
        "per_hand": per_hand,
        "overall_mae": float(abs_sum / n_total),
        "overall_rmse": float(np.sqrt(sq_sum / n_total)),
        "codebook_used_frac": float((counts > 0).float().mean()),
        "perplexity": perplexity(counts),
    }


def load_kinematics(hands: Iterable[str]) -> tuple[dict[str, Kinematics], list[str]]:
    """Hand kinematics from the hand library where available -> ({hand: kinematics}, notes)."""
    notes: list[str] = []
    try:
        from unihm_common.hands import load_hand
    except ImportError as exc:
        return {}, [f"translation fingertip error skipped: unihm_common.hands.load_hand unavailable ({exc})"]
    kin: dict[str, Kinematics] = {}
    for h in hands:
        try:
            hand = load_hand(h)
        except Exception as exc:  # a hand the library does not know, or a broken description
            notes.append(f"no kinematics for {h!r}: {exc}")
            continue
        if callable(getattr(hand, "fingertip_positions", None)):
            kin[h] = hand
        else:
            notes.append(f"no kinematics for {h!r}: its hand object has no fingertip_positions")
    return kin, notes


def translation_errors(model: HandTokenizer, source: TrajectorySource, kinematics: dict[str, Kinematics],
                       split: str = "test", pairs: Iterable[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Eq. 6 on retargeted pairs: fingertip distance ||FK_dst(translate(x_src)) - FK_dst(x_dst)|| in mm.

    Returns {pairs: {"src->dst": mm}, mean_mm}; pairs default to every ordered pair of the model's
    hands whose destination has kinematics. Sequences are paired by id.
    """
    model.eval()
    if pairs is None:
        pairs = [(s, d) for s in model.hands for d in model.hands if s != d and d in kinematics]
    out: dict[str, float] = {}
    for src, dst in pairs:
        a, b = source.sequences(src, split), source.sequences(dst, split)
        dists = []
        for sid in sorted(set(a) & set(b)):
            if a[sid].shape[0] != b[sid].shape[0]:
                continue
            q_hat, _ = _run(model, a[sid], src, dst)  # (T, J_dst)
            tips_hat = kinematics[dst].fingertip_positions(q_hat)  # (T, F, 3) m
            tips = kinematics[dst].fingertip_positions(b[sid])  # (T, F, 3) m
            dists.append(np.linalg.norm(np.asarray(tips_hat) - np.asarray(tips), axis=-1).ravel())
        if dists:
            out[f"{src}->{dst}"] = float(1000.0 * np.concatenate(dists).mean())
    return {"pairs": out, "mean_mm": float(np.mean(list(out.values()))) if out else None}


def format_table_b1(results: dict[str, dict[str, Any]], hands: list[str] | None = None) -> str:
    """Table B1 layout: rows MAE/RMSE x backbone (MLP, 1D-Conv), columns hands + Overall, in rad.

    `results` maps a backbone name ("mlp", "conv1d") to `reconstruction_errors` output.
    """
    if hands is None:
        hands = []
        for r in results.values():
            hands += [h for h in r["per_hand"] if h not in hands]
    cols = hands + ["Overall"]
    width = max(9, *(len(c) + 1 for c in cols))
    lines = ["metric  backbone " + "".join(f"{c:>{width}}" for c in cols)]
    for metric in ("mae", "rmse"):
        for bb in ("mlp", "conv1d"):
            r = results.get(bb)
            cells = []
            for h in hands:
                v = r["per_hand"].get(h, {}).get(metric) if r else None
                cells.append(f"{v:>{width}.4f}" if v is not None else f"{'-':>{width}}")
            ov = r[f"overall_{metric}"] if r else None
            cells.append(f"{ov:>{width}.4f}" if ov is not None else f"{'-':>{width}}")
            lines.append(f"{metric.upper():<7} {BACKBONE_LABELS[bb]:<8} " + "".join(cells))
    return "\n".join(lines)


@torch.no_grad()
def throughput_frames_per_s(model: HandTokenizer, hand: str, batch: int = 64, frames: int = 64,
                            repeats: int = 5) -> float:
    """Tokenize + detokenize throughput on the model's device, frames per second (batch x frames)."""
    import time

    model.eval()
    J = len(model.joint_names[hand])
    g = torch.Generator().manual_seed(0)
    norm = model.norms[hand]
    x = norm.inverse(torch.randn(batch, frames, J, generator=g).to(norm.mean.device))  # (B, T, J) rad
    model.detokenize(model.tokenize(x, hand), hand)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeats):
        model.detokenize(model.tokenize(x, hand), hand)
    return batch * frames * repeats / (time.perf_counter() - t0)


def nearest_window_errors(source: TrajectorySource, hand: str, split: str = "test", window: int = 4,
                          train_fraction: float = 1.0, seed: int = 0, std_floor_rad: float = 0.05,
                          block: int = 2048) -> dict[str, float]:
    """MAE/RMSE (rad) of replacing every `window`-frame window of `split` by its nearest `train` window.

    A lookup table of the training windows: what a codebook that memorises them (K >= their number) scores on
    held-out data. Distances in per-joint standardised units (std floored at `std_floor_rad`), windows cut at
    stride `window` (the tokenizer's downsample); `train_fraction` < 1 uses a random subset of the train
    sequences (how the figure scales with data).
    """
    train = list(source.sequences(hand, "train").values())
    held = list(source.sequences(hand, split).values())
    if not train or not held:
        raise ValueError(f"{hand}: no 'train' or {split!r} sequences")
    if train_fraction < 1.0:
        rng = np.random.default_rng(seed)
        keep = rng.choice(len(train), max(1, int(round(train_fraction * len(train)))), replace=False)
        train = [train[i] for i in sorted(keep)]
    frames = np.concatenate(train)
    mu, sd = frames.mean(0), np.maximum(frames.std(0), std_floor_rad)

    def windows(seqs: list[np.ndarray]) -> np.ndarray:
        rows = [((s[: len(s) // window * window] - mu) / sd).reshape(-1, window * s.shape[1]) for s in seqs]
        return np.concatenate([r for r in rows if len(r)]).astype(np.float64)  # (N, window * J)

    W, V = windows(train), windows(held)
    w2 = (W**2).sum(1)
    err = np.empty_like(V)
    for i in range(0, len(V), block):
        v = V[i : i + block]
        d2 = (v**2).sum(1)[:, None] - 2.0 * v @ W.T + w2[None]  # (b, N_train)
        err[i : i + block] = W[d2.argmin(1)] - v
    err_rad = err.reshape(len(V), window, -1) * sd  # back to rad
    return {"mae": float(np.abs(err_rad).mean()), "rmse": float(np.sqrt((err_rad**2).mean())),
            "train_windows": int(len(W)), "train_sequences": len(train)}
