"""Evaluation samples read straight from a HOI dataset (docs/data-format.md) and the seen/unseen splits.

Splits (paper §4.1, by object): "unseen" = the dataset's `test` split (objects never trained on);
"seen" = a deterministic held-out subset of the `train` split (every `SEEN_STRIDE`-th train sequence in
sorted id order), which every method the harness trains excludes from training ("fit" = the rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError
from unihm_data.keypoints import sequence_object_cloud

SEEN_STRIDE = 8  # every 8th train sequence (sorted ids, offset SEEN_STRIDE - 1) is held out as "seen" test


@dataclass(frozen=True)
class EvalSample:
    """One sequence for one hand: conditioning + ground truth (world frame, metres)."""

    seq_id: str
    split: str  # "fit" | "seen" | "unseen"
    object_name: str
    instructions: tuple[str, ...]
    cloud_obj: np.ndarray  # (N, 3) float32 object frame
    normals_obj: np.ndarray | None  # (N, 3)
    T_world_object: np.ndarray  # (T, 4, 4) the object path T_tar
    T_world_wrist: np.ndarray  # (T, 4, 4) ground-truth robot root poses
    q: np.ndarray  # (T, J) ground-truth joint positions
    hand: str

    @property
    def num_frames(self) -> int:
        return int(self.q.shape[0])

    def instruction(self, seed: int) -> str:
        """The instruction a seed evaluates (seed k -> the k-th of the 5 instructions, cyclically)."""
        return self.instructions[seed % len(self.instructions)] if self.instructions else ""


def split_ids(train_ids: list[str]) -> tuple[list[str], list[str]]:
    """Sorted train ids -> (fit ids, seen held-out ids)."""
    ids = sorted(train_ids)
    seen = ids[SEEN_STRIDE - 1::SEEN_STRIDE]
    held = set(seen)
    return [i for i in ids if i not in held], seen


def seen_holdout_ids(hoi_root: str | Path) -> list[str]:
    """The train-split sequence ids held out as the "seen" test set (for trainers that must exclude them)."""
    from unihm_data.dataset import HOIDataset

    return split_ids(HOIDataset(hoi_root, split="train", hands=[]).ids())[1]


def load_eval_samples(hoi_root: str | Path, hand: str = "shadow_right",
                      splits: tuple[str, ...] = ("fit", "seen", "unseen"), limit: int | None = None
                      ) -> dict[str, list[EvalSample]]:
    """{split: [EvalSample]} of `hand`; `limit` keeps the first n of each split (quick runs)."""
    from unihm_data.dataset import HOIDataset

    root = Path(hoi_root)
    if not (root / "index.json").is_file():
        raise InputError(f"{root}: no HOI dataset (index.json missing); see docs/data-format.md")
    ds = HOIDataset(root, split=None, hands=[hand])
    fit, seen = split_ids([e.id for e in ds.entries if e.split == "train"])
    which = {**{i: "fit" for i in fit}, **{i: "seen" for i in seen},
             **{e.id: "unseen" for e in ds.entries if e.split == "test"}}
    clouds: dict[tuple[str, bool], tuple] = {}  # (object, mirrored) -> (points, normals)
    out: dict[str, list[EvalSample]] = {s: [] for s in splits}
    for e in sorted(ds.entries, key=lambda e: e.id):
        sp = which[e.id]
        if sp not in out or (limit is not None and len(out[sp]) >= limit):
            continue
        view = ds.hand_view(hand, e.id)
        key = (e.object, bool(view.get("mirrored", False)))  # mirrored: a left-hand demo on a right hand
        if key not in clouds:
            clouds[key] = sequence_object_cloud(ds.object_cloud(e.object), key[1])
        pts, nrm = clouds[key]
        out[sp].append(EvalSample(
            seq_id=e.id, split=sp, object_name=e.object, instructions=tuple(e.instructions),
            cloud_obj=pts, normals_obj=nrm,
            T_world_object=np.asarray(view["T_world_object"], np.float64),
            T_world_wrist=np.asarray(view["T_world_wrist"], np.float64),
            q=np.asarray(view["q"], np.float64), hand=hand))
    return out
