"""The demo report: metrics.json, plots (joints, stage latency, object path), motion.gif and viewer.html.

`write_report(out_dir, hand, q, ...)` is the one call the demo makes; `save_result` / `load_result` keep a
result in an .npz or .json file for `unihm view`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError

GIF_MAX_FRAMES = 60
GIF_CLOUD_POINTS = 400


@dataclass
class ManipulationResult:
    """What the graph produced for one goal (shapes: T steps, J joints, N cloud points, P path poses)."""

    hand: str
    q: np.ndarray  # (T, J) rad, the hand's canonical joint order
    T_world_wrist: np.ndarray | None = None  # (T, 4, 4); None = wrist fixed at the world origin
    object_cloud: np.ndarray | None = None  # (N, 3) world frame, at the start of the path
    target_path: np.ndarray | None = None  # (P, 4, 4) object poses
    metrics: dict = field(default_factory=dict)
    stage_ms: dict = field(default_factory=dict)  # stage name -> latency in ms
    fps: float = 10.0
    cloud_colors: np.ndarray | None = None  # (N, 3) in 0..1

    def __post_init__(self) -> None:
        self.q = np.asarray(self.q, dtype=np.float64)
        if self.q.ndim != 2 or len(self.q) == 0:
            raise InputError(f"q must be (T, J) with T >= 1, got {self.q.shape}")
        if self.T_world_wrist is not None:
            self.T_world_wrist = np.asarray(self.T_world_wrist, dtype=np.float64)
            if self.T_world_wrist.shape != (len(self.q), 4, 4):
                raise InputError(f"T_world_wrist must be ({len(self.q)}, 4, 4), got {self.T_world_wrist.shape}")
        if self.target_path is not None:
            self.target_path = np.asarray(self.target_path, dtype=np.float64)
            if self.target_path.ndim != 3 or self.target_path.shape[1:] != (4, 4) or not len(self.target_path):
                raise InputError(f"target_path must be (P, 4, 4), got {self.target_path.shape}")
        if self.object_cloud is not None:
            self.object_cloud = np.asarray(self.object_cloud, dtype=np.float64).reshape(-1, 3)
        if not self.fps > 0:
            raise InputError(f"fps must be > 0, got {self.fps}")


def save_result(path: str | Path, r: ManipulationResult) -> Path:
    """.npz (arrays + JSON metadata) or .json (lists)."""
    path = Path(path)
    arrays = {k: getattr(r, k) for k in ("q", "T_world_wrist", "object_cloud", "target_path", "cloud_colors")
              if getattr(r, k) is not None}
    meta = {"hand": r.hand, "metrics": r.metrics, "stage_ms": r.stage_ms, "fps": r.fps}
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".npz":
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
    elif path.suffix == ".json":
        path.write_text(json.dumps(meta | {k: v.tolist() for k, v in arrays.items()}))
    else:
        raise InputError(f"result file {str(path)!r} must end in .npz or .json")
    return path


def load_result(path: str | Path) -> ManipulationResult:
    path = Path(path)
    if not path.exists():
        raise InputError(f"result file {str(path)!r} not found")
    try:
        if path.suffix == ".npz":
            with np.load(path) as z:
                d = json.loads(str(z["meta"])) | {k: z[k] for k in z.files if k != "meta"}
        elif path.suffix == ".json":
            d = json.loads(path.read_text())
        else:
            raise InputError(f"result file {str(path)!r} must end in .npz or .json")
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(f"cannot read result file {path}: {exc}") from exc
    missing = [k for k in ("hand", "q") if k not in d]
    if missing:
        raise InputError(f"result file {path} lacks {missing}")
    known = ManipulationResult.__dataclass_fields__
    return ManipulationResult(**{k: v for k, v in d.items() if k in known})


def hand_skeleton(hand_name: str, q: np.ndarray, T_world_wrist: np.ndarray | None = None
                  ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """World positions (T, K, 3) of the hand's joints (+ fingertip frames) and the link index pairs."""
    from unihm_common.hands import load_hand

    hand = load_hand(hand_name)
    pin, model, data = hand._pin, hand.model, hand.data
    tips = hand.frame_ids(hand.spec.fingertip_frames)
    links = [(int(model.parents[i]), i) for i in range(1, model.njoints)]
    links += [(int(model.frames[f].parentJoint), model.njoints + k) for k, f in enumerate(tips)]
    qp, _ = hand._batch(np.asarray(q, dtype=np.float64).reshape(-1, len(hand.joint_names)))
    out = np.zeros((len(qp), model.njoints + len(tips), 3))
    for t, qt in enumerate(qp):
        pin.framesForwardKinematics(model, data, qt)
        out[t, :model.njoints] = [data.oMi[i].translation for i in range(model.njoints)]
        out[t, model.njoints:] = [data.oMf[f].translation for f in tips]
    if T_world_wrist is not None:
        T = np.asarray(T_world_wrist, dtype=np.float64)
        out = np.einsum("tij,tkj->tki", T[:, :3, :3], out) + T[:, None, :3, 3]
    return out, links


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_joints(r: ManipulationResult, out: Path, joint_names: tuple[str, ...] = ()) -> Path:
    plt = _plt()
    t = np.arange(len(r.q)) / r.fps
    fig, ax = plt.subplots(figsize=(7, 4))
    for j in range(r.q.shape[1]):
        ax.plot(t, r.q[:, j], lw=1, label=joint_names[j] if j < len(joint_names) else f"q{j}")
    ax.set(xlabel="time [s]", ylabel="joint position [rad]", title=f"{r.hand}: joint trajectories")
    if r.q.shape[1] <= 16:
        ax.legend(fontsize=6, ncol=2, loc="upper right")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_latency(stage_ms: dict, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    names = list(stage_ms)
    vals = [float(stage_ms[n]) for n in names]
    ax.bar(names, vals, color="tab:blue")
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.0f}", ha="center", va="bottom", fontsize=8)
    ax.set(ylabel="latency [ms]", title=f"stage latency (total {sum(vals):.0f} ms)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_object_path(r: ManipulationResult, out: Path) -> Path:
    plt = _plt()
    fig = plt.figure(figsize=(5, 5))
    ax = fig.add_subplot(projection="3d")
    if r.target_path is not None:
        p = r.target_path[:, :3, 3]
        ax.plot(*p.T, color="tab:orange", lw=2, label="object path")
        ax.scatter(*p[0], color="tab:green", s=30, label="start")
        ax.scatter(*p[-1], color="tab:red", s=30, label="goal")
        if r.object_cloud is not None and len(r.object_cloud):
            c = _subsample(r.object_cloud, GIF_CLOUD_POINTS)
            end = _moved(c, r.target_path, len(r.target_path) - 1)
            ax.scatter(*c.T, s=1, color="0.5")
            ax.scatter(*end.T, s=1, color="tab:red", alpha=0.4)
        ax.legend(fontsize=7)
    ax.set(xlabel="x [m]", ylabel="y [m]", zlabel="z [m]", title="object path (world)")
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def _subsample(points: np.ndarray, n: int) -> np.ndarray:
    if len(points) <= n:
        return points
    return points[np.linspace(0, len(points) - 1, n).astype(int)]


def _moved(cloud: np.ndarray, path: np.ndarray, i: int) -> np.ndarray:
    rel = path[i] @ np.linalg.inv(path[0])
    return cloud @ rel[:3, :3].T + rel[:3, 3]


def write_gif(r: ManipulationResult, skeleton: np.ndarray, links: list[tuple[int, int]], out: Path,
              max_frames: int = GIF_MAX_FRAMES) -> Path:
    """Hand skeleton + object cloud along the path, ≤ max_frames frames, small figure (pillow writer)."""
    plt = _plt()
    from matplotlib.animation import FuncAnimation, PillowWriter

    steps = np.unique(np.linspace(0, len(skeleton) - 1, min(max_frames, len(skeleton))).astype(int))
    cloud = None if r.object_cloud is None or not len(r.object_cloud) else _subsample(r.object_cloud, GIF_CLOUD_POINTS)
    allp = [skeleton.reshape(-1, 3)] + ([r.target_path[:, :3, 3]] if r.target_path is not None else [])
    allp += [cloud] if cloud is not None else []
    allp = np.concatenate(allp)
    c, half = (allp.min(0) + allp.max(0)) / 2, max(np.ptp(allp, axis=0).max() / 2, 0.05)
    fig = plt.figure(figsize=(3.6, 3.6))
    ax = fig.add_subplot(projection="3d")

    def frame(k: int):
        ax.cla()
        t = steps[k]
        for a, b in links:
            ax.plot(*skeleton[t, [a, b]].T, color="tab:blue", lw=1.2)
        if r.target_path is not None:
            i = int(round(t / max(len(skeleton) - 1, 1) * (len(r.target_path) - 1)))
            ax.plot(*r.target_path[:, :3, 3].T, color="tab:orange", lw=1)
            if cloud is not None:
                ax.scatter(*_moved(cloud, r.target_path, i).T, s=1, color="0.4")
        ax.set(xlim=(c[0] - half, c[0] + half), ylim=(c[1] - half, c[1] + half), zlim=(c[2] - half, c[2] + half),
               xticks=[], yticks=[], zticks=[])
        ax.set_title(f"{r.hand}  t={t / r.fps:.2f} s", fontsize=8)
        return []

    anim = FuncAnimation(fig, frame, frames=len(steps))
    anim.save(str(out), writer=PillowWriter(fps=min(r.fps, 15)), dpi=70)
    plt.close(fig)
    return out


def write_report(out_dir: str | Path, result: ManipulationResult | None = None, *, title: str | None = None,
                 gif_frames: int = GIF_MAX_FRAMES, **fields) -> dict[str, Path]:
    """Write metrics.json, joints.png, latency.png, object_path.png, motion.gif, viewer.html into `out_dir`.

    Either a `ManipulationResult` or its fields as keywords, e.g. `write_report("demo_out",
    hand="inspire_right", q=q, T_world_wrist=T, object_cloud=cloud, target_path=path,
    metrics={"success": True}, stage_ms={"perception": 120.0})`. Returns {name: path}.
    """
    from unihm_common.hands import load_hand
    from unihm_common.viewer import write_viewer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if (result is None) == (not fields):
        raise InputError("write_report: pass either a ManipulationResult or its fields as keywords")
    r = result if result is not None else ManipulationResult(**fields)
    hand = load_hand(r.hand)
    if r.q.shape[1] != len(hand.joint_names):
        raise InputError(f"q has {r.q.shape[1]} joints; {hand.name} has {len(hand.joint_names)}")
    skeleton, links = hand_skeleton(r.hand, r.q, r.T_world_wrist)
    files = {"joints": plot_joints(r, out / "joints.png", hand.joint_names)}
    if r.stage_ms:
        files["latency"] = plot_latency(r.stage_ms, out / "latency.png")
    if r.target_path is not None:
        files["object_path"] = plot_object_path(r, out / "object_path.png")
    files["gif"] = write_gif(r, skeleton, links, out / "motion.gif", gif_frames)
    files["viewer"] = write_viewer(out / "viewer.html", r.object_cloud, r.cloud_colors, r.target_path,
                                   {hand.name: (skeleton, links)}, fps=r.fps, title=title or f"UniHM: {hand.name}",
                                   metrics=r.metrics)
    summary = {"hand": hand.name, "steps": int(len(r.q)), "duration_s": len(r.q) / r.fps, "metrics": r.metrics,
               "stage_ms": r.stage_ms, "files": {k: p.name for k, p in files.items()}}
    (out / "metrics.json").write_text(json.dumps(summary, indent=2, default=float))
    files["metrics"] = out / "metrics.json"
    return files
