"""Small helpers shared by tests (importable as `support` thanks to pytest's pythonpath)."""

from __future__ import annotations

import numpy as np

from unihm_common.trajectory import HandMotion


def sample_motion(n: int = 30, j: int = 12, seed: int = 0, hand: str = "inspire_right") -> HandMotion:
    rng = np.random.default_rng(seed)
    wrist = np.tile(np.eye(4), (n, 1, 1))
    wrist[:, :3, 3] = rng.normal(size=(n, 3))
    return HandMotion(hand, tuple(f"j{i}" for i in range(j)), np.arange(n) / 30.0,
                      rng.normal(size=(n, j)), qd=rng.normal(size=(n, j)), T_world_wrist=wrist)
