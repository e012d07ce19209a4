"""Baselines sharing the harness: nearest-neighbour retrieval and a non-tokenized regression network.

Both see the policy's conditioning: the instruction (sentence embedding), the object path T_tar, the
object's size and the initial wrist pose in the object's frame (the policy gets it too). Wrist poses are
handled relative to the object path: a motion is stored as the wrist pose in the moving object frame,
T_object_wrist(t) = T_world_object(t)^-1 T_world_wrist(t), and re-expressed on the query's path,
T_world_wrist(t) = T_world_object^query(t) T_object_wrist(t).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from unihm_planner.evaluation.metrics import resample
from unihm_planner.evaluation.samples import EvalSample

Embed = Callable[[list[str]], np.ndarray]  # sentences -> (B, E) float
PATH_POINTS = 16


@dataclass(frozen=True)
class Prediction:
    q: np.ndarray  # (T, J)
    T_world_wrist: np.ndarray  # (T, 4, 4)


def hashed_bow_embed(sentences: list[str], dim: int = 256) -> np.ndarray:
    """Deterministic hashed bag-of-words (+ bigrams) embedding, L2-normalised; the fallback text encoder."""
    out = np.zeros((len(sentences), dim))
    for i, s in enumerate(sentences):
        words = "".join(c if c.isalnum() else " " for c in s.lower()).split()
        for tok in words + [a + "_" + b for a, b in zip(words, words[1:])]:
            out[i, zlib.crc32(tok.encode()) % dim] += 1.0
    n = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.maximum(n, 1e-9)


def sentence_embed() -> Embed:
    """The planner's all-MiniLM-L6-v2 sentence encoder when installed, else `hashed_bow_embed`."""
    try:
        from unihm_planner.target.language import default_encoder

        enc = default_encoder()
        return lambda s: enc.encode(list(s)).astype(np.float64)
    except Exception:  # noqa: BLE001 - optional dependency: fall back to the deterministic encoder
        return hashed_bow_embed


def path_features(sample: EvalSample) -> np.ndarray:
    """Object path relative to its start (PATH_POINTS x 3), final rotation change (6D), start position, size,
    and the initial wrist in the object's frame at frame 0 (position, 6D rotation)."""
    T = sample.T_world_object
    rel = resample(T[:, :3, 3] - T[0, :3, 3], PATH_POINTS).ravel()
    dR = T[0, :3, :3].T @ T[-1, :3, :3]
    ext = sample.cloud_obj.max(0) - sample.cloud_obj.min(0)
    w0 = np.linalg.inv(T[0]) @ sample.T_world_wrist[0]
    return np.concatenate([rel * 5.0, dR[:, :2].T.ravel() * 0.5, T[0, :3, 3], ext * 5.0,
                           w0[:3, 3] * 5.0, w0[:3, :2].T.ravel() * 0.5])


def object_relative_wrist(T_world_object: np.ndarray, T_world_wrist: np.ndarray) -> np.ndarray:
    """(T, 4, 4) wrist poses in the moving object frame."""
    return np.linalg.inv(T_world_object) @ T_world_wrist


def _source_index(n_src: int, n_dst: int) -> np.ndarray:
    return np.round(np.linspace(0, n_src - 1, n_dst)).astype(int)


class RetrievalBaseline:
    """Nearest training sample by instruction embedding + object-path features; its motion on the query path."""

    name = "NN retrieval"

    def __init__(self, train: list[EvalSample], embed: Embed = hashed_bow_embed, path_weight: float = 1.0) -> None:
        if not train:
            raise ValueError("retrieval baseline needs at least one training sample")
        self.train, self.embed, self.path_weight = train, embed, path_weight
        rows = [(i, s) for i, smp in enumerate(train) for s in (smp.instructions or ("",))]
        self._owner = np.array([i for i, _ in rows])
        self._text = np.asarray(embed([s for _, s in rows]), np.float64)
        paths = np.stack([path_features(s) for s in train])
        self._path = paths[self._owner]

    def nearest(self, sample: EvalSample, seed: int = 0) -> int:
        """Index into `train` of the nearest sample for the instruction `sample.instruction(seed)`."""
        t = np.asarray(self.embed([sample.instruction(seed)]), np.float64)[0]
        d = ((self._text - t) ** 2).sum(1) + self.path_weight * ((self._path - path_features(sample)) ** 2).sum(1)
        return int(self._owner[int(np.argmin(d))])

    def predict(self, sample: EvalSample, seed: int = 0) -> Prediction:
        src = self.train[self.nearest(sample, seed)]
        idx = _source_index(src.num_frames, sample.num_frames)
        rel = object_relative_wrist(src.T_world_object, src.T_world_wrist)[idx]
        return Prediction(q=resample(src.q, sample.num_frames), T_world_wrist=sample.T_world_object @ rel)


def _rot6d_to_matrix(x: np.ndarray) -> np.ndarray:
    """(..., 6) two columns -> (..., 3, 3) by Gram-Schmidt."""
    a, b = x[..., :3], x[..., 3:]
    c1 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b - (c1 * b).sum(-1, keepdims=True) * c1
    c2 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    return np.stack([c1, c2, np.cross(c1, c2)], axis=-1)


class RegressionBaseline:
    """A non-tokenized MLP regressing q and the object-relative wrist pose (L frames) from the conditioning."""

    name = "Regression (non-tokenized)"

    def __init__(self, train: list[EvalSample], embed: Embed = hashed_bow_embed, length: int = 32,
                 hidden: int = 256, epochs: int = 400, lr: float = 1e-3, seed: int = 0) -> None:
        import torch
        from torch import nn

        self.embed, self.length = embed, length
        X, Y = [], []
        for smp in train:
            y = self._targets(smp)
            for s in smp.instructions or ("",):
                X.append((s, smp))
                Y.append(y)
        text = np.asarray(embed([s for s, _ in X]), np.float64)
        cond = np.concatenate([text, np.stack([path_features(smp) for _, smp in X])], axis=1)
        Y = np.stack(Y)
        self._xm, self._xs = cond.mean(0), cond.std(0) + 1e-6
        self._ym, self._ys = Y.mean(0), Y.std(0) + 1e-6
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(cond.shape[1], hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.GELU(),
                                 nn.Linear(hidden, Y.shape[1]))
        xt = torch.tensor((cond - self._xm) / self._xs, dtype=torch.float32)
        yt = torch.tensor((Y - self._ym) / self._ys, dtype=torch.float32)
        opt = torch.optim.Adam(self.net.parameters(), lr=lr, weight_decay=1e-4)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(xt), generator=g)
            for i in range(0, len(xt), 128):
                b = perm[i:i + 128]
                loss = nn.functional.mse_loss(self.net(xt[b]), yt[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
        self.net.eval()
        self.num_joints = train[0].q.shape[1]

    def _targets(self, smp: EvalSample) -> np.ndarray:
        rel = object_relative_wrist(smp.T_world_object, smp.T_world_wrist)
        per_frame = np.concatenate([smp.q, rel[:, :3, 3] * 10.0, rel[:, :3, :2].transpose(0, 2, 1).reshape(-1, 6)],
                                   axis=1)
        return resample(per_frame, self.length).ravel()

    def predict(self, sample: EvalSample, seed: int = 0) -> Prediction:
        import torch

        cond = np.concatenate([np.asarray(self.embed([sample.instruction(seed)]), np.float64)[0],
                               path_features(sample)])
        with torch.no_grad():
            y = self.net(torch.tensor(((cond - self._xm) / self._xs)[None], dtype=torch.float32)).numpy()[0]
        y = (y * self._ys + self._ym).reshape(self.length, -1)
        y = resample(y, sample.num_frames)
        J = self.num_joints
        rel = np.tile(np.eye(4), (sample.num_frames, 1, 1))
        rel[:, :3, 3] = y[:, J:J + 3] / 10.0
        rel[:, :3, :3] = _rot6d_to_matrix(y[:, J + 3:J + 9])
        return Prediction(q=y[:, :J], T_world_wrist=sample.T_world_object @ rel)
