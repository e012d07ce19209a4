"""Where the tokenizer's trajectories come from: a small source protocol, two implementations and
chunking into training tensors.

A source gives, per hand and split, `{sequence_id: (T, J) float array in rad}`. Sequences with the
same id in two hands are the same human motion retargeted to both (same frame count): they are the
(x_ref, x_new) pairs of Eq. B13.

- `FolderSource(root)`: `root/hands.json` = {"hands": {name: {"joint_names": [...]}}} and
  `root/<split>/<hand>.npz` holding one (T, J) array per sequence id (what `write_folder` writes).
- `UnihmDataSource(root)`: adapter over `unihm_data.dataset.load_hand_trajectories` (pairs by index).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from unihm_common.errors import InputError, MissingDependencyError, UnknownHandError

Sequences = dict[str, np.ndarray]  # sequence id -> (T, J) rad


class TrajectorySource(Protocol):
    def hands(self) -> list[str]: ...

    def joint_names(self, hand: str) -> tuple[str, ...]: ...

    def sequences(self, hand: str, split: str) -> Sequences: ...


class InMemorySource:
    """`joint_names` {hand: joints}, `splits` {split: {hand: {seq_id: (T, J)}}}."""

    def __init__(self, joint_names: dict[str, Sequence[str]], splits: dict[str, dict[str, Sequences]]) -> None:
        self._joints = {h: tuple(j) for h, j in joint_names.items()}
        self._splits = splits

    def hands(self) -> list[str]:
        return list(self._joints)

    def joint_names(self, hand: str) -> tuple[str, ...]:
        _check_hand(hand, self._joints)
        return self._joints[hand]

    def sequences(self, hand: str, split: str) -> Sequences:
        _check_hand(hand, self._joints)
        return dict(self._splits.get(split, {}).get(hand, {}))


def _check_hand(hand: str, known) -> None:
    if hand not in known:
        raise UnknownHandError(f"the data has no hand {hand!r}; hands present: {', '.join(known) or '(none)'}")


class FolderSource(InMemorySource):
    """Reads the folder layout written by `write_folder` (lazily, one npz per hand and split)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        meta_path = self.root / "hands.json"
        if not meta_path.is_file():
            raise MissingDependencyError(f"{meta_path} not found: not a tokenizer data folder")
        meta = json.loads(meta_path.read_text())
        super().__init__({h: info["joint_names"] for h, info in meta["hands"].items()}, {})

    def sequences(self, hand: str, split: str) -> Sequences:
        _check_hand(hand, self._joints)
        path = self.root / split / f"{hand}.npz"
        if not path.is_file():
            return {}
        with np.load(path) as npz:
            return {k: np.asarray(npz[k], dtype=np.float32) for k in npz.files}


def write_folder(source: TrajectorySource, root: str | Path, splits: Sequence[str] = ("train", "val", "test")) -> Path:
    """Write `source` in the `FolderSource` layout."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    meta = {"hands": {h: {"joint_names": list(source.joint_names(h))} for h in source.hands()}}
    (root / "hands.json").write_text(json.dumps(meta, indent=2) + "\n")
    for split in splits:
        for hand in source.hands():
            seqs = source.sequences(hand, split)
            if seqs:
                (root / split).mkdir(exist_ok=True)
                np.savez(root / split / f"{hand}.npz", **seqs)
    return root


class UnihmDataSource:
    """Adapter over the project data pipeline (`unihm_data.dataset`), imported only when used.

    Sequences are paired across hands by their position in `load_hand_trajectories` (the data
    pipeline retargets every human sequence to every hand in the same order).
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            from unihm_data import dataset
        except ImportError as exc:
            raise MissingDependencyError(
                f"{self.root} is not a tokenizer data folder (no hands.json) and unihm_data.dataset is "
                f"not available ({exc}); install unihm_data or pass a folder written by write_folder"
            ) from exc
        self._ds = dataset

    def hands(self) -> list[str]:
        for fn_name in ("available_hands", "list_hands", "hands"):
            fn = getattr(self._ds, fn_name, None)
            if callable(fn):
                return list(fn(self.root))
        subdirs = sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []
        if not subdirs:
            raise MissingDependencyError(f"cannot list the hands of {self.root}")
        return subdirs

    def joint_names(self, hand: str) -> tuple[str, ...]:
        fn = getattr(self._ds, "joint_names", None)
        if callable(fn):
            return tuple(fn(self.root, hand))
        try:
            from unihm_common.hands import load_hand
        except ImportError as exc:
            raise MissingDependencyError(f"joint names of {hand!r}: unihm_common.hands.load_hand missing") from exc
        return tuple(load_hand(hand).joint_names)

    def sequences(self, hand: str, split: str) -> Sequences:
        seqs = self._ds.load_hand_trajectories(self.root, hand, split)
        return {f"{i:06d}": np.asarray(s, dtype=np.float32) for i, s in enumerate(seqs)}


def open_source(root: str | Path) -> TrajectorySource:
    """`FolderSource` when `root/hands.json` exists, else the `unihm_data` adapter."""
    root = Path(root)
    if (root / "hands.json").is_file():
        return FolderSource(root)
    return UnihmDataSource(root)


def chunk_starts(T: int, chunk_len: int, stride: int) -> list[int]:
    """Chunk start frames covering [0, T): every `stride` frames plus one ending at the last frame."""
    if T <= chunk_len:
        return [0]
    starts = list(range(0, T - chunk_len + 1, stride))
    if starts[-1] != T - chunk_len:
        starts.append(T - chunk_len)
    return starts


def pad_to(x: np.ndarray, T: int) -> np.ndarray:
    """Hold the last pose until `T` frames: (t, J) -> (max(t, T), J)."""
    if x.shape[0] >= T:
        return x
    return np.concatenate([x, np.repeat(x[-1:], T - x.shape[0], axis=0)])


def _validate(seq: np.ndarray, J: int, what: str) -> np.ndarray:
    seq = np.asarray(seq, dtype=np.float32)
    if seq.ndim != 2 or seq.shape[1] != J or seq.shape[0] == 0:
        raise InputError(f"{what}: expected a (T, {J}) array, got {seq.shape}")
    if not np.isfinite(seq).all():
        raise InputError(f"{what}: contains NaN or inf")
    return seq


def make_chunks(seqs: Sequences, J: int, chunk_len: int, stride: int) -> torch.Tensor:
    """All training chunks of a hand's sequences -> (N, chunk_len, J) float32."""
    out = []
    for sid, seq in seqs.items():
        seq = pad_to(_validate(seq, J, f"sequence {sid!r}"), chunk_len)
        out += [seq[s:s + chunk_len] for s in chunk_starts(seq.shape[0], chunk_len, stride)]
    if not out:
        raise InputError("no training sequences")
    return torch.from_numpy(np.stack(out))


def make_paired_chunks(ref: Sequences, new: Sequences, J_ref: int, J_new: int, chunk_len: int,
                       stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Time-aligned chunks of the sequences present in both hands -> (N, L, J_ref), (N, L, J_new)."""
    xs_ref, xs_new = [], []
    for sid in sorted(set(ref) & set(new)):
        a = _validate(ref[sid], J_ref, f"reference sequence {sid!r}")
        b = _validate(new[sid], J_new, f"sequence {sid!r}")
        if a.shape[0] != b.shape[0]:
            raise InputError(f"paired sequence {sid!r} has {a.shape[0]} frames for the reference hand and "
                             f"{b.shape[0]} for the new hand; retargeted pairs must have the same frame count")
        a, b = pad_to(a, chunk_len), pad_to(b, chunk_len)
        for s in chunk_starts(a.shape[0], chunk_len, stride):
            xs_ref.append(a[s:s + chunk_len])
            xs_new.append(b[s:s + chunk_len])
    if not xs_ref:
        raise InputError("no retargeted pairs: the reference and new hand share no sequence id")
    return torch.from_numpy(np.stack(xs_ref)), torch.from_numpy(np.stack(xs_new))
