"""`HandMotion`: the pure-Python form of a hand trajectory that every stage passes around."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import InputError


@dataclass(frozen=True)
class HandMotion:
    """A joint trajectory of one hand, with optional wrist poses.

    t_s: (T,) seconds from the start, strictly increasing.
    q: (T, J) joint positions (rad, or m for prismatic joints), columns in `joint_names` order.
    qd: optional (T, J) joint velocities.
    T_world_wrist: optional (T, 4, 4) wrist poses.
    """

    hand: str
    joint_names: tuple[str, ...]
    t_s: np.ndarray
    q: np.ndarray
    qd: np.ndarray | None = None
    T_world_wrist: np.ndarray | None = None

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        q = np.asarray(self.q, dtype=np.float64)
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "joint_names", tuple(self.joint_names))
        if q.ndim != 2 or q.shape[1] != len(self.joint_names):
            raise InputError(f"q has shape {q.shape}; expected (T, {len(self.joint_names)}) for {self.hand!r}")
        if t.shape != (q.shape[0],):
            raise InputError(f"t_s has shape {t.shape}; expected ({q.shape[0]},)")
        if len(t) > 1 and np.any(np.diff(t) <= 0):
            raise InputError("t_s must be strictly increasing")
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(t))):
            raise InputError(f"trajectory of {self.hand!r} holds NaN or inf")
        if self.qd is not None:
            qd = np.asarray(self.qd, dtype=np.float64)
            if qd.shape != q.shape or not np.all(np.isfinite(qd)):
                raise InputError(f"qd must be finite with shape {q.shape}, got {qd.shape}")
            object.__setattr__(self, "qd", qd)
        if self.T_world_wrist is not None:
            w = np.asarray(self.T_world_wrist, dtype=np.float64)
            if w.shape != (q.shape[0], 4, 4) or not np.all(np.isfinite(w)):
                raise InputError(f"T_world_wrist must be finite with shape ({q.shape[0]}, 4, 4), got {w.shape}")
            object.__setattr__(self, "T_world_wrist", w)

    @property
    def num_frames(self) -> int:
        return int(self.q.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if self.num_frames else 0.0
