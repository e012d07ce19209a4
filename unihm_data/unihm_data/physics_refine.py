"""Physics-refine retargeted sequences (paper §4: "via retargeting plus physics-based refinement").

Retargeting matches keypoints, not contact: retargeted fingertips hover a few mm off the surface or sink into
it. `refine_dataset` runs the refiner (Algorithm 1, `unihm_refiner`) over `retargeted/<hand>/<id>.npz` against
the sequence's object cloud (y-reflected for a mirrored retargeting, as the policy and the evaluation read
it) posed by the file's own `T_world_object`, wrist fixed, and writes the refined
joints back as `q`. The retargeter's solution is kept as `q_retargeted` and every run starts from it, so
refining twice gives the same file. The options used are recorded in index.json `info.refined[<hand>]`.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.keypoints import sequence_object_cloud


def _refine_chunk(args: tuple[str, str, list[str], dict[str, Any], int]) -> dict[str, Any]:
    from unihm_common.config import from_dict
    from unihm_refiner.contact import ObjectCloud
    from unihm_refiner.kinematics import KinematicChain
    from unihm_refiner.refiner import Refiner, RefinerOptions

    root_s, hand, ids, options, passes = args
    root = Path(root_s)
    index = fmt.read_index(root)
    objects = {s.id: s.object for s in index.sequences}
    refiner = Refiner(KinematicChain.load(hand), from_dict(RefinerOptions, options, source="refine options"))
    clouds: dict[tuple[str, bool], Any] = {}  # (object, mirrored) -> ObjectCloud
    frames, moved, pen_before, pen_after, t0 = 0, [], [], [], time.perf_counter()
    for seq_id in ids:
        arrays = fmt.load_retargeted(root, hand, seq_id)
        q_src = np.asarray(arrays.get("q_retargeted", arrays["q"]), dtype=np.float64)
        mirrored = bool(arrays.get("mirrored", False))  # its T_world_object poses the y-reflected cloud
        key = (objects[seq_id], mirrored)
        if key not in clouds:
            clouds[key] = ObjectCloud(*sequence_object_cloud(fmt.load_object_cloud(root, key[0]), mirrored))
        q = q_src
        for k in range(passes):
            res = refiner.refine(clouds[key], q, arrays["T_world_object"], arrays["T_world_wrist"])
            if k == 0:
                pen_before.append(float(np.max(res.penetration_before_m)))
            q = res.q
        pen_after.append(float(np.max(res.penetration_after_m)))
        moved.append(float(np.mean(np.abs(q - q_src))))
        arrays["q_retargeted"] = q_src.astype(np.float32)
        arrays["q"] = q.astype(np.float32)
        fmt.save_retargeted(root, hand, seq_id, **arrays)
        frames += q.shape[0]
    return {"frames": frames, "seconds": time.perf_counter() - t0, "moved": moved, "pen_before": pen_before,
            "pen_after": pen_after}


def _gather(parts: list[dict[str, Any]], key: str) -> np.ndarray:
    return np.array([v for p in parts for v in p[key]])


def refine_dataset(root: str | Path, hands: list[str], options: Any = None, passes: int = 1, workers: int = 1,
                   progress: bool = True, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Refine every retargeted sequence of `hands` in place (see the module docstring); per-hand figures.

    options: a `RefinerOptions` (default: the operator graph's, launch/config); passes: refinements in a row,
    each starting from the last (the refiner's generative prior anchors to its input, so more passes go
    further toward its energy's minimum).
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm import tqdm

    from unihm_refiner.graph_options import graph_refiner_options

    if passes < 1:
        raise InputError(f"passes must be >= 1, got {passes}")
    root = Path(root)
    index = fmt.read_index(root)
    ids = ids if ids is not None else [s.id for s in index.sequences]
    results = []
    for hand in hands:
        if hand not in index.hands:
            raise InputError(f"{root}: hand {hand!r} is not retargeted (have {index.hands}); run `unihm data "
                             f"retarget {root} --hands {hand}` first")
        opts = options if options is not None else graph_refiner_options(hand)
        opt_dict = asdict(opts)
        n_chunks = max(1, min(len(ids), workers * 8))
        chunks = [ids[k::n_chunks] for k in range(n_chunks)]
        jobs = [(str(root), hand, c, opt_dict, passes) for c in chunks if c]
        parts = []
        with tqdm(total=len(ids), desc=f"refine {hand}", unit="seq", disable=not progress) as bar:
            if workers <= 1:
                for job in jobs:
                    parts.append(_refine_chunk(job))
                    bar.update(len(job[2]))
            else:
                with ProcessPoolExecutor(max_workers=workers) as pool:
                    for job, part in zip(jobs, pool.map(_refine_chunk, jobs)):
                        parts.append(part)
                        bar.update(len(job[2]))
        frames = sum(p["frames"] for p in parts)
        cpu_s = sum(p["seconds"] for p in parts)

        results.append({"hand": hand, "sequences": len(ids), "frames": frames, "cpu_s": cpu_s,
                        "frames_per_s_per_worker": frames / max(cpu_s, 1e-9), "passes": passes,
                        "mean_abs_change_rad": float(np.mean(_gather(parts, "moved"))),
                        "max_penetration_mm_before": float(np.mean(_gather(parts, "pen_before")) * 1e3),
                        "max_penetration_mm_after": float(np.mean(_gather(parts, "pen_after")) * 1e3)})
        index = fmt.read_index(root)
        index.info.setdefault("refined", {})[hand] = {"options": opt_dict, "passes": passes}
        fmt.write_index(root, index)
    return results
