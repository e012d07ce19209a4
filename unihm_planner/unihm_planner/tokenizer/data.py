"""Where the tokenizer's trajectories come from: a small source protocol, two implementations and
chunking into training tensors.

A source gives, per hand and split, `{sequence_id: (T, J) float array in rad}`. Sequences with the
same id in two hands are the same human motion retargeted to both (same frame count): they are the
(x_ref, x_new) pairs of Eq. B13.

- `FolderSource(root)`: `root/hands.json` = {"hands": {name: {"joint_names": [...]}}} and
  `root/<split>/<hand>.npz` holding one (T, J) array per sequence id (what `write_folder` writes).
- `UnihmDataSource(root)`: adapter over a `unihm_data` dataset folder (pairs by sequence id; `val` is
  a fixed 10 % of the training ids).
"""

from __future__ import annotations

import json
import zlib
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
    """Adapter over a project dataset folder (`unihm_data`, docs/data-format.md), imported only when used.

    Hands are index.json `hands` (the retargeted ones); sequences are keyed by their id, so a sequence
    retargeted to two hands pairs by id (Eq. B13). The data has `train` and `test` splits (test by
    object); `val` is carved out of `train`: every sequence whose id hashes into the first `val_frac`
    (stable crc32), and those sequences are left out of `train`.
    """

    def __init__(self, root: str | Path, val_frac: float = 0.1) -> None:
        self.root = Path(root)
        if not 0.0 <= val_frac < 1.0:
            raise InputError(f"val_frac must be in [0, 1), got {val_frac}")
        self.val_frac = val_frac
        try:
            from unihm_data import dataformat
        except ImportError as exc:
            raise MissingDependencyError(
                f"{self.root} is not a tokenizer data folder (no hands.json) and unihm_data is "
                f"not available ({exc}); install unihm_data or pass a folder written by write_folder"
            ) from exc
        self._fmt = dataformat
        self._index = dataformat.read_index(self.root)
        self._joints: dict[str, tuple[str, ...]] = {}

    def hands(self) -> list[str]:
        return list(self._index.hands)

    def _is_val(self, seq_id: str) -> bool:
        return (zlib.crc32(seq_id.encode()) % 1000) < 1000 * self.val_frac

    def ids(self, split: str) -> list[str]:
        """Sequence ids of `split` ('train' minus val, 'val', 'test', or 'all')."""
        seqs = self._index.sequences
        if split == "all":
            return [s.id for s in seqs]
        if split == "val":
            return [s.id for s in seqs if s.split == "train" and self._is_val(s.id)]
        if split == "train":
            return [s.id for s in seqs if s.split == "train" and not self._is_val(s.id)]
        return [s.id for s in seqs if s.split == split]

    def joint_names(self, hand: str) -> tuple[str, ...]:
        _check_hand(hand, self.hands())
        if hand not in self._joints:
            first = self._index.sequences[0].id
            self._joints[hand] = tuple(str(n) for n in self._fmt.load_retargeted(self.root, hand, first)["joint_names"])
        return self._joints[hand]

    def sequences(self, hand: str, split: str) -> Sequences:
        _check_hand(hand, self.hands())
        out: Sequences = {}
        for sid in self.ids(split):
            if self._fmt.retargeted_path(self.root, hand, sid).is_file():
                out[sid] = np.asarray(self._fmt.load_retargeted(self.root, hand, sid)["q"], dtype=np.float32)
        return out


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


def augmented_chunks(groups: Sequence[Sequence[np.ndarray]], chunk_len: int, stride: int, rng: np.random.Generator,
                     offsets: bool = False, speed: float = 1.0, noise: float = 0.0,
                     noise_scale: Sequence[np.ndarray | float] | None = None) -> tuple[torch.Tensor, ...]:
    """Training chunks re-cut with random augmentation -> one (N, chunk_len, J_i) float32 tensor per array.

    `groups`: per sequence, a tuple of time-aligned (T, J_i) arrays (one per hand: the reference stage passes
    1-tuples, paired stages (x_ref, x_new)); every array of a group gets the same offsets and speeds, so pairs
    stay aligned. The chunk count and start grid are those of `make_chunks` (`chunk_starts`), and with
    everything off the result equals `make_chunks` / `make_paired_chunks` exactly. Per chunk:
    - `offsets`: the start moves by a random integer in [0, stride) (clamped so the chunk stays inside);
    - `speed` > 1: the chunk samples the sequence at a rate log-uniform in [1/speed, speed] frames per frame
      (linear interpolation), i.e. the motion played 0.8-1.25x as fast for speed 1.25;
    - `noise` > 0: adds N(0, (noise * scale_j)^2) per value, scale = `noise_scale[i]` (per joint, e.g. the
      hand's normalisation std; default 1).
    Past the last frame the last pose is held (as `pad_to`).
    """
    if not groups:
        raise InputError("no training sequences")
    n_arr = len(groups[0])
    outs: list[list[np.ndarray]] = [[] for _ in range(n_arr)]
    log_s = float(np.log(speed)) if speed > 1.0 else 0.0
    base_t = np.arange(chunk_len, dtype=np.float64)
    for group in groups:
        T = group[0].shape[0]
        starts = np.asarray(chunk_starts(T, chunk_len, stride), dtype=np.float64)
        n = len(starts)
        rates = np.exp(rng.uniform(-log_s, log_s, n)) if log_s > 0 else np.ones(n)
        if offsets:
            starts = starts + rng.integers(0, stride, n)
        span = (chunk_len - 1) * rates
        starts = np.clip(starts, 0.0, np.maximum(0.0, (T - 1) - span))
        pos = np.clip(starts[:, None] + base_t[None, :] * rates[:, None], 0.0, T - 1)  # (n, L)
        i0 = np.floor(pos).astype(np.int64)
        i1 = np.minimum(i0 + 1, T - 1)
        w = (pos - i0)[..., None].astype(np.float32)
        for k, arr in enumerate(group):
            arr = np.asarray(arr, dtype=np.float32)
            outs[k].append(arr[i0] * (1 - w) + arr[i1] * w if log_s > 0 else arr[i0])
    result = []
    for k in range(n_arr):
        x = np.concatenate(outs[k]).astype(np.float32)
        if noise > 0:
            scale = np.asarray(1.0 if noise_scale is None else noise_scale[k], dtype=np.float32)
            x = x + (rng.standard_normal(x.shape) * noise * scale).astype(np.float32)
        result.append(torch.from_numpy(np.ascontiguousarray(x)))
    return tuple(result)
