"""`unihm data render`: hand + object over time as a GIF or a PNG strip (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.keypoints import BONES


def _robot_segments(hand: str, q: np.ndarray, T_world_root: np.ndarray) -> list[np.ndarray]:
    """(T,) lists of (S,2,3) segments: parent joint -> child joint and link frames, world frame."""
    import pinocchio as pin

    from unihm_data.handlib import load_hand_info

    info = load_hand_info(hand)
    model = pin.buildModelFromUrdf(str(info.urdf_path))
    data = model.createData()
    names = list(model.names)
    idx = [model.joints[names.index(j)].idx_q for j in info.joint_names]
    out = []
    for qt, T in zip(q, T_world_root):
        qp = np.zeros(model.nq)
        qp[idx] = qt
        pin.framesForwardKinematics(model, data, qp)
        segs = []
        for f in model.frames:
            if f.parentFrame < len(model.frames) and f.parentFrame != 0 or f.type == pin.FrameType.BODY:
                a = data.oMf[f.parentFrame].translation
                b = data.oMf[model.getFrameId(f.name)].translation
                if np.linalg.norm(b - a) > 1e-6:
                    segs.append([a, b])
        segs = np.array(segs).reshape(-1, 2, 3)
        out.append(segs @ T[:3, :3].T + T[:3, 3])
    return out


def render_sequence(root: str | Path, seq_id: str, out: str | Path, hand: str = "human", stride: int = 3) -> Path:
    """Render sequence `seq_id` with the human keypoints (hand="human") or a retargeted hand."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    root, out = Path(root), Path(out)
    seq = fmt.load_sequence(root, seq_id)
    cloud = fmt.load_object_cloud(root, seq.object_name)["points"][::4]
    if hand in ("human", "mano"):
        T_obj = seq.T_world_object
        segs = [np.stack([kp[[a for a, _ in BONES]], kp[[b for _, b in BONES]]], axis=1) for kp in seq.mano_joints]
    else:
        r = fmt.load_retargeted(root, hand, seq_id)
        T_obj = r["T_world_object"]
        segs = _robot_segments(hand, r["q"], r["T_world_wrist"])
    frames = list(range(0, seq.num_frames, max(1, stride)))
    allpts = np.concatenate([np.concatenate(segs).reshape(-1, 3), T_obj[:, :3, 3]])
    lo, hi = allpts.min(0) - 0.1, allpts.max(0) + 0.1
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")

    def draw(t: int) -> None:
        ax.cla()
        pts = cloud @ T_obj[t, :3, :3].T + T_obj[t, :3, 3]
        ax.scatter(pts[:, 0], pts[:, 1], pts[:, 2], s=1, c="tab:orange")
        for a, b in segs[t]:
            ax.plot(*np.stack([a, b]).T, c="tab:blue", lw=1.5)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_zlim(max(lo[2], -0.05), hi[2])
        ax.set_title(f"{seq_id} {seq.task} {seq.object_name} [{hand}] t={seq.t_s[t]:.2f}s", fontsize=8)

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".gif":
        FuncAnimation(fig, draw, frames=frames).save(out, writer=PillowWriter(fps=max(1, int(30 / stride))))
    elif out.suffix.lower() == ".png":
        draw(frames[len(frames) // 2])
        fig.savefig(out, dpi=100)
    else:
        plt.close(fig)
        raise InputError(f"{out}: output must end in .gif or .png")
    plt.close(fig)
    return out
