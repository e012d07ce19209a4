"""Reading a dataset: `HOIDataset` (sequences + per-hand views), `HandChunkDataset` (torch), trajectories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt


class HOIDataset:
    """A dataset folder (docs/data-format.md), optionally restricted to a split and to retargeted hands."""

    def __init__(self, root: str | Path, split: str | None = None, hands: list[str] | None = None) -> None:
        if split not in (None, "train", "test"):
            raise InputError(f"split must be 'train', 'test' or None, got {split!r}")
        self.root = Path(root)
        self.index = fmt.read_index(self.root)
        self.entries = [s for s in self.index.sequences if split is None or s.split == split]
        self.hands = list(hands) if hands is not None else list(self.index.hands)
        unknown = [h for h in self.hands if h not in self.index.hands]
        if unknown:
            raise InputError(f"{self.root / 'index.json'}: hands {unknown} not retargeted (have {self.index.hands}); "
                             f"run `unihm data retarget {self.root} --hands {' '.join(unknown)}`")

    def __len__(self) -> int:
        return len(self.entries)

    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def sequence(self, seq_id: str) -> fmt.SequenceData:
        return fmt.load_sequence(self.root, seq_id)

    def hand_view(self, hand: str, seq_id: str) -> dict[str, np.ndarray]:
        """Retargeted arrays of one sequence for one hand (q, T_world_wrist, T_world_object, ...)."""
        if hand not in self.hands:
            raise InputError(f"hand {hand!r} not in this view (hands={self.hands})")
        return fmt.load_retargeted(self.root, hand, seq_id)

    def object_cloud(self, name: str) -> dict[str, Any]:
        return fmt.load_object_cloud(self.root, name)

    def __getitem__(self, i: int) -> dict[str, Any]:
        entry = self.entries[i]
        return {"entry": entry, "sequence": self.sequence(entry.id),
                "hands": {h: self.hand_view(h, entry.id) for h in self.hands}}


def load_hand_trajectories(root: str | Path, hand: str, split: str | None = "train") -> list[np.ndarray]:
    """Joint trajectories q (T,J) float32 of `hand` (hand.yaml joint order), one per sequence of `split`."""
    ds = HOIDataset(root, split=split, hands=[hand])
    return [ds.hand_view(hand, sid)["q"].astype(np.float32) for sid in ds.ids()]


class HandChunkDataset:
    """torch `Dataset` of fixed-length windows (chunk_len, J) float32 of one hand's joint trajectories.

    Windows start every `stride` frames; sequences shorter than chunk_len are padded by repeating their
    last frame (a hand at rest). `joint_names` gives the column order.
    """

    def __init__(self, root: str | Path, hand: str, split: str | None = "train", chunk_len: int = 32,
                 stride: int = 8) -> None:
        if chunk_len < 1 or stride < 1:
            raise InputError(f"chunk_len and stride must be >= 1, got {chunk_len}, {stride}")
        self.trajectories = load_hand_trajectories(root, hand, split)
        ds = HOIDataset(root, split=split, hands=[hand])
        self.joint_names = tuple(str(n) for n in ds.hand_view(hand, ds.ids()[0])["joint_names"]) if len(ds) else ()
        self.chunk_len, self.stride = chunk_len, stride
        self._windows: list[tuple[int, int]] = []
        for i, q in enumerate(self.trajectories):
            last = max(len(q) - chunk_len, 0)
            self._windows += [(i, s) for s in range(0, last + 1, stride)]

    def __len__(self) -> int:
        return len(self._windows)

    def __getitem__(self, k: int):
        import torch

        i, s = self._windows[k]
        q = self.trajectories[i][s:s + self.chunk_len]
        if len(q) < self.chunk_len:
            q = np.concatenate([q, np.repeat(q[-1:], self.chunk_len - len(q), axis=0)])
        return torch.from_numpy(np.ascontiguousarray(q, dtype=np.float32))  # (chunk_len, J)
