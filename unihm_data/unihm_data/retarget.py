"""Retarget human sequences to every hand of the hand library with dex-retargeting (paper App. B.1, Eq. B1).

Per frame, dex-retargeting solves argmin_q sum_k ||f_k(q) - s * f_k(human)||^2 + lambda ||q - q_prev||^2
within joint limits, warm-started from the previous frame (`normal_delta` = lambda), and low-pass filters
the result (`low_pass_alpha`). Human keypoints are expressed in the robot root frame, which is the human
wrist frame (same frame convention for every hand, hand.yaml `frames.convention`) times the hand's fixed
`mount` transform (identity unless the hand.yaml says otherwise). A left robot hand retargets a right
human sequence mirrored (and vice versa); the retargeted file stores the object poses it used.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_data import dataformat as fmt
from unihm_data.handlib import HandInfo, load_hand_info
from unihm_data.keypoints import mirror_object_transforms, mirror_points, mirror_wrist_transforms

FTOL_ABS = 1e-9  # SLSQP absolute objective tolerance (see HandRetargeter.build)


@dataclass
class HandRetargeter:
    """A built dex-retargeting solver for one hand plus what is needed to score it."""

    info: HandInfo
    solver: Any  # dex_retargeting SeqRetargeting
    kind: str  # position | vector | dexpilot
    scaling: float
    human_idx: np.ndarray  # (K,) task keypoints
    origin_idx: np.ndarray  # (K,) origin keypoints (wrist for position targets)
    task_links: list[int]
    origin_links: list[int | None]
    link_names: tuple[str, ...]
    to_spec: np.ndarray  # spec joint j <- solver dof index

    @classmethod
    def build(cls, hand: str) -> HandRetargeter:
        from dex_retargeting.retargeting_config import RetargetingConfig

        info = load_hand_info(hand)
        cfg = dict(info.retargeting)
        if not cfg:
            raise ConfigError(f"hand {info.name!r}: hand.yaml has no 'retargeting' section")
        cfg.setdefault("add_dummy_free_joint", False)
        kind = cfg.get("type", "vector")
        idx = np.asarray(cfg.get("target_link_human_indices"))
        try:
            with _quiet():
                solver = RetargetingConfig.from_dict(cfg).build()
        except Exception as exc:  # dex-retargeting raises bare RuntimeError/AssertionError/KeyError
            raise ConfigError(f"hand {info.name!r}: dex-retargeting rejected the retargeting config: {exc!r}") from exc
        # dex-retargeting stops SLSQP at ftol_abs 1e-5 (position) / 1e-6 (vector), but its Huber loss is a mean
        # over 3K coordinates of errors of a few mm (~1e-5 itself): the solver stopped far from the optimum
        solver.optimizer.opt.set_ftol_abs(FTOL_ABS)
        robot = solver.optimizer.robot
        if kind == "position":
            task_names, origin_names = list(cfg["target_link_names"]), [None] * len(idx)
            human_idx, origin_idx = idx.reshape(-1), np.zeros(idx.size, dtype=int)
        elif kind == "vector":
            task_names, origin_names = list(cfg["target_task_link_names"]), list(cfg["target_origin_link_names"])
            origin_idx, human_idx = idx[0], idx[1]
        else:
            raise ConfigError(f"hand {info.name!r}: retargeting type {kind!r} not supported here (position, vector)")
        dof = list(robot.dof_joint_names)
        missing = [j for j in info.joint_names if j not in dof]
        if missing:
            raise ConfigError(f"hand {info.name!r}: joints {missing} are not in the URDF seen by dex-retargeting")
        return cls(info=info, solver=solver, kind=kind, scaling=float(cfg.get("scaling_factor", 1.0)),
                   human_idx=np.asarray(human_idx, int), origin_idx=np.asarray(origin_idx, int),
                   task_links=[robot.get_link_index(n) for n in task_names],
                   origin_links=[None if n is None else robot.get_link_index(n) for n in origin_names],
                   link_names=tuple(task_names), to_spec=np.array([dof.index(j) for j in info.joint_names]))

    def _ref(self, kp_root: np.ndarray) -> np.ndarray:
        if self.kind == "position":
            return self.scaling * kp_root[self.human_idx]  # (K,3) targets in the root frame
        return kp_root[self.human_idx] - kp_root[self.origin_idx]  # (K,3) vectors; the solver scales them

    def errors_mm(self, q_dof: np.ndarray, kp_root: np.ndarray) -> np.ndarray:
        """(K,) distance between each robot target link (vector) and its scaled human counterpart, mm."""
        robot = self.solver.optimizer.robot
        robot.compute_forward_kinematics(q_dof)
        err = np.zeros(len(self.task_links))
        for k, (task, origin) in enumerate(zip(self.task_links, self.origin_links)):
            p = robot.get_link_pose(task)[:3, 3]
            if origin is not None:
                p = p - robot.get_link_pose(origin)[:3, 3]
            human = kp_root[self.human_idx[k]] - (kp_root[self.origin_idx[k]] if origin is not None else 0.0)
            err[k] = np.linalg.norm(p - self.scaling * human) * 1000.0
        return err

    def retarget(self, seq: fmt.SequenceData) -> dict[str, np.ndarray]:
        """One sequence -> the arrays of retargeted/<hand>/<id>.npz."""
        kp, T_wh, T_wo = seq.mano_joints, seq.T_world_wrist, seq.T_world_object
        mirrored = self.info.side in ("right", "left") and self.info.side != seq.side
        if mirrored:
            kp, T_wh, T_wo = mirror_points(kp), mirror_wrist_transforms(T_wh), mirror_object_transforms(T_wo)
        T_root = T_wh @ self.info.T_wrist_mount  # (T,4,4) robot root in the world
        R, t = T_root[:, :3, :3], T_root[:, :3, 3]
        kp_root = np.einsum("tji,tkj->tki", R, kp - t[:, None, :])  # (T,21,3)
        self.solver.reset()  # warm start: the first frame starts at mid-range, later ones at the last solution
        if hasattr(self.solver, "filter") and self.solver.filter is not None:
            self.solver.filter.is_init = False
        q = np.zeros((seq.num_frames, len(self.info.joint_names)), dtype=np.float32)
        err = np.zeros((seq.num_frames, len(self.task_links)), dtype=np.float32)
        for i in range(seq.num_frames):
            q_dof = np.array(self.solver.retarget(self._ref(kp_root[i])))
            # dex-retargeting widens limits by 1e-3 and reads them from the URDF; hand.yaml limits rule
            q_dof[self.to_spec] = np.clip(q_dof[self.to_spec], self.info.lower_rad, self.info.upper_rad)
            q[i] = q_dof[self.to_spec]
            err[i] = self.errors_mm(q_dof, kp_root[i])
        return dict(q=q, joint_names=np.array(self.info.joint_names), t_s=seq.t_s, T_world_wrist=T_root,
                    T_world_object=T_wo, fingertip_err_mm=err, err_link_names=np.array(self.link_names),
                    mirrored=np.array(mirrored), hand=np.array(self.info.name))


class _quiet:
    """Silence dex-retargeting's prints while building (it writes a temp URDF and logs to stdout)."""

    def __enter__(self) -> None:
        self._fd = os.dup(1)
        self._tmp = tempfile.TemporaryFile()
        os.dup2(self._tmp.fileno(), 1)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._fd, 1)
        os.close(self._fd)
        self._tmp.close()


def resolve_hands(spec: list[str] | str) -> list[str]:
    """'all' or names (aliases allowed) -> canonical hand names that have a retargeting section."""
    from unihm_common.hands import available_hands, resolve_hand_name

    names = available_hands() if spec == "all" or spec == ["all"] else [resolve_hand_name(h) for h in spec]
    return [n for n in names if load_hand_info(n).retargeting]


def _retarget_hand(args: tuple[str, str, list[str]]) -> dict[str, Any]:
    root, hand, ids = args
    rt = HandRetargeter.build(hand)
    frames, errs, t0 = 0, [], time.perf_counter()
    for seq_id in ids:
        seq = fmt.load_sequence(Path(root), seq_id)
        out = rt.retarget(seq)
        fmt.save_retargeted(Path(root), hand, seq_id, **out)
        frames += seq.num_frames
        errs.append(out["fingertip_err_mm"])
    dt = time.perf_counter() - t0
    tips = [k for k, n in enumerate(rt.link_names) if n in rt.info.fingertip_frames] or list(range(len(rt.link_names)))
    e = np.concatenate(errs)[:, tips] if errs else np.zeros((0, 1))
    return {"hand": hand, "frames": frames, "seconds": dt, "frames_per_s": frames / max(dt, 1e-9),
            "fingertip_err_mm": float(np.mean(e)) if e.size else float("nan"),
            "fingertip_err_mm_p95": float(np.percentile(e, 95)) if e.size else float("nan")}


def retarget_dataset(root: str | Path, hands: list[str] | str = "all", workers: int = 1,
                     progress: bool = True, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Retarget every sequence of the dataset at `root` to `hands`; updates index.json `hands`."""
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    root = Path(root)
    index = fmt.read_index(root)
    ids = ids if ids is not None else [s.id for s in index.sequences]
    if not ids:
        raise InputError(f"{root / 'index.json'}: no sequences to retarget")
    names = resolve_hands(hands)
    jobs = [(str(root), h, ids) for h in names]
    results = []
    with tqdm(total=len(jobs), desc="retarget", unit="hand", disable=not progress) as bar:
        if workers <= 1:
            for job in jobs:
                results.append(_retarget_hand(job))
                bar.set_postfix(hand=job[1])
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                for res in pool.map(_retarget_hand, jobs):
                    results.append(res)
                    bar.update()
    index = fmt.read_index(root)
    index.hands = sorted(set(index.hands) | set(names))
    fmt.write_index(root, index)
    return results
