"""`unihm data stats`: counts, lengths, contact and penetration figures, retargeting errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from unihm_data import dataformat as fmt
from unihm_data.keypoints import FINGERTIP_INDICES


def _object_sdf(root: Path, name: str, cache: dict):
    """Analytic SDF for catalog objects; None for others (real datasets)."""
    if name not in cache:
        from unihm_common.errors import InputError
        from unihm_data.objects import make_object

        try:
            cache[name] = make_object(name).sdf  # catalog objects and their size variants
        except InputError:
            cache[name] = None
    return cache[name]


def dataset_stats(root: str | Path, penetration: bool = True) -> dict[str, Any]:
    root = Path(root)
    index = fmt.read_index(root)
    seqs = index.sequences
    frames = np.array([s.num_frames for s in seqs]) if seqs else np.zeros(0)
    out: dict[str, Any] = {
        "root": str(root), "format_version": fmt.FORMAT_VERSION, "sequences": len(seqs), "frames": int(frames.sum()),
        "frames_per_sequence": {"min": int(frames.min()), "mean": float(frames.mean()), "max": int(frames.max())}
        if len(seqs) else {},
        "duration_s": float(sum(s.num_frames / s.fps for s in seqs)),
        "by_split": dict(Counter(s.split for s in seqs)), "by_task": dict(Counter(s.task for s in seqs)),
        "by_source": dict(Counter(s.source for s in seqs)), "by_side": dict(Counter(s.side for s in seqs)),
        "objects": {"total": len(index.objects), "train": sorted({s.object for s in seqs if s.split == "train"}),
                    "test": sorted({s.object for s in seqs if s.split == "test"})},
        "instructions_per_sequence": float(np.mean([len(s.instructions) for s in seqs])) if seqs else 0.0,
    }
    if penetration and seqs:
        cache: dict = {}
        depth, contact_frac = [], []
        for s in seqs:
            seq = fmt.load_sequence(root, s.id)
            contact_frac.append(float(seq.contact.any(axis=1).mean()))
            sdf = _object_sdf(root, s.object, cache)
            if sdf is None:
                continue
            inv = np.linalg.inv(seq.T_world_object)
            tips = seq.mano_joints[:, FINGERTIP_INDICES]  # (T,5,3)
            local = np.einsum("tij,tkj->tki", inv[:, :3, :3], tips) + inv[:, None, :3, 3]
            depth.append(float(max(0.0, -sdf(local.reshape(-1, 3)).min())))
        out["contact_frame_fraction"] = float(np.mean(contact_frac))
        if depth:
            out["fingertip_penetration_mm"] = {"max": 1000 * max(depth), "mean": 1000 * float(np.mean(depth)),
                                               "sequences_over_2mm": int(sum(d > 0.002 for d in depth))}
    hands = {}
    for hand in index.hands:
        errs = []
        for s in seqs:
            path = fmt.retargeted_path(root, hand, s.id)
            if path.is_file():
                errs.append(fmt.load_retargeted(root, hand, s.id)["fingertip_err_mm"])
        if errs:
            e = np.concatenate(errs)
            hands[hand] = {"sequences": len(errs), "fingertip_err_mm": float(e.mean()),
                           "fingertip_err_mm_p95": float(np.percentile(e, 95))}
    out["hands"] = hands
    return out
