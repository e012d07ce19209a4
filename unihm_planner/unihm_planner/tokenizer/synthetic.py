"""Synthetic multi-hand joint trajectories for tests and smoke training (not a stand-in for real data).

A shared latent motion s(t) (sums of sinusoids, smooth, per sequence) drives every hand through its
own fixed map q_h = c_h + A_h s + 0.1 sin(B_h s), clipped to +-1.5 rad: the same id in two hands is
the same motion, so distillation and translation are meaningful.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unihm_planner.tokenizer.data import InMemorySource


def latent_motion(rng: np.random.Generator, T: int, dim: int, fps: float = 30.0) -> np.ndarray:
    """(T, dim) smooth motion: 3 sinusoids per latent dimension, 0.1-1.5 Hz."""
    t = np.arange(T)[:, None, None] / fps  # (T, 1, 1)
    freq = rng.uniform(0.1, 1.5, size=(1, dim, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, dim, 3))
    amp = rng.uniform(0.2, 0.6, size=(1, dim, 3))
    return (amp * np.sin(2 * np.pi * freq * t + phase)).sum(-1)  # (T, dim)


def make_synthetic_source(hand_joints: dict[str, int] | None = None, n_seqs: Sequence[int] = (48, 8, 8),
                          T_range: tuple[int, int] = (40, 120), latent_dim: int = 4,
                          seed: int = 0) -> InMemorySource:
    """Hands {name: J} sharing one latent motion per sequence; splits train/val/test of `n_seqs` sizes."""
    hand_joints = hand_joints or {"ref_hand": 10, "new_hand": 7}
    rng = np.random.default_rng(seed)
    maps = {}
    for h, J in hand_joints.items():
        maps[h] = (rng.uniform(-0.3, 0.3, J), rng.normal(0, 0.6, (J, latent_dim)), rng.normal(0, 1.0, (J, latent_dim)))
    splits: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for split, n in zip(("train", "val", "test"), n_seqs):
        splits[split] = {h: {} for h in hand_joints}
        for i in range(n):
            s = latent_motion(rng, int(rng.integers(T_range[0], T_range[1] + 1)), latent_dim)
            for h, (c, A, B) in maps.items():
                q = c + s @ A.T + 0.1 * np.sin(s @ B.T)  # (T, J)
                splits[split][h][f"{split}_{i:04d}"] = np.clip(q, -1.5, 1.5).astype(np.float32)
    joints = {h: [f"{h}_j{j}" for j in range(J)] for h, J in hand_joints.items()}
    return InMemorySource(joints, splits)


class LinearFingertips:
    """Stand-in kinematics for synthetic hands: fingertips = fixed linear map of q, (B, J) -> (B, F, 3) m."""

    def __init__(self, num_joints: int, num_fingertips: int = 4, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.W = rng.normal(0, 0.03, (num_fingertips * 3, num_joints))  # 3 cm per rad
        self.F = num_fingertips

    def fingertip_positions(self, q: np.ndarray) -> np.ndarray:
        q = np.asarray(q)
        return (q @ self.W.T).reshape(q.shape[0], self.F, 3)
