"""Draw a hand's kinematic skeleton and fingertip frames (matplotlib 3D) into a PNG."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unihm_common.hands.model import Hand

AXIS_LEN_M = 0.015


def plot_hand(hand: Hand, q: np.ndarray, out: str | Path, title: str | None = None) -> Path:
    """Write a PNG of `hand` at joint positions q (J,): links as segments, fingertip frames as triads."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    model, data = hand.model, hand.data
    names = [f.name for f in model.frames]
    q = np.asarray(q, dtype=np.float64)
    T = hand.frame_transforms(q, names)  # (F, 4, 4) every frame in the root frame; also runs FK on data
    fig = plt.figure(figsize=(6, 6))
    ax = fig.add_subplot(projection="3d")
    segments = [(data.oMi[model.parents[i]].translation, data.oMi[i].translation) for i in range(1, model.njoints)]
    for k, frame in enumerate(model.frames):  # fixed frames (tips, palm) hang off their parent joint
        segments.append((data.oMi[frame.parentJoint].translation, T[k][:3, 3]))
    for a, b in segments:
        if np.linalg.norm(a - b) > 1e-9:
            ax.plot(*np.stack([a, b]).T, color="0.3", lw=2)
    joints = np.array([T[names.index(n)][:3, 3] for n in hand.spec.joint_names if n in names])
    if len(joints):
        ax.scatter(*joints.T, color="tab:blue", s=12, label="joints")
    for tip in hand.spec.fingertip_frames:
        Tt = T[names.index(tip)]
        for c, color in enumerate(("r", "g", "b")):
            ax.plot(*np.stack([Tt[:3, 3], Tt[:3, 3] + AXIS_LEN_M * Tt[:3, c]]).T, color=color, lw=1.5)
        ax.text(*Tt[:3, 3], tip, fontsize=6)
    pts = T[:, :3, 3]
    center, half = pts.mean(0), max(np.ptp(pts, axis=0).max() / 2, 0.05)
    ax.set(xlim=(center[0] - half, center[0] + half), ylim=(center[1] - half, center[1] + half),
           zlim=(center[2] - half, center[2] + half), xlabel="x [m]", ylabel="y [m]", zlabel="z [m]")
    ax.set_box_aspect((1, 1, 1))  # equal scale on every axis: the default box squashes z
    ax.set_title(title or f"{hand.name} ({hand.spec.wrist_frame} frame)")
    ax.legend(loc="upper left", fontsize=7)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
