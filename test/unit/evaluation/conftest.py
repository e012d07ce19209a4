"""Tiny synthetic evaluation samples on the real shadow_right hand (FK only; no dataset needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from unihm_planner.evaluation.samples import EvalSample

torch.set_num_threads(1)

WORDS = ["pick up the", "push the", "open the", "hand over the"]
OBJECTS = ["mug", "box", "ball", "can"]


def make_samples(n: int, split: str, seed: int, n_frames: int = 12) -> list[EvalSample]:
    from unihm_common.hands import load_hand

    hand = load_hand("shadow_right")
    rng = np.random.default_rng(seed)
    cloud = rng.normal(size=(64, 3)).astype(np.float32) * 0.03
    out = []
    for i in range(n):
        T_obj = np.tile(np.eye(4), (n_frames, 1, 1))
        goal = rng.uniform(-0.2, 0.2, size=3)
        T_obj[:, :3, 3] = np.linspace(0, 1, n_frames)[:, None] * goal + [0.4, 0.0, 0.05]
        T_wr = T_obj.copy()
        T_wr[:, :3, 3] += [-0.1, 0.0, 0.05] + rng.normal(size=3) * 0.01
        q0, q1 = hand.random_q(2, rng)
        q = q0 + np.linspace(0, 1, n_frames)[:, None] * (q1 - q0)
        obj = OBJECTS[i % len(OBJECTS)]
        instr = tuple(f"{w} {obj} number {i}" for w in WORDS)
        out.append(EvalSample(seq_id=f"{split}_{i:03d}", split=split, object_name=obj, instructions=instr,
                              cloud_obj=cloud, normals_obj=None, T_world_object=T_obj, T_world_wrist=T_wr, q=q,
                              hand="shadow_right"))
    return out


@pytest.fixture(scope="session")
def tiny_data():
    return {"fit": make_samples(12, "fit", 0), "seen": make_samples(4, "seen", 1),
            "unseen": make_samples(4, "unseen", 2)}
