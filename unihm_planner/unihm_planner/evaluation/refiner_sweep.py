"""Choosing the refiner's settings on a validation set, never on the evaluation's own splits.

`unihm eval --refiner-sweep` takes one method's raw predictions on validation sequences (by default the test
split of a larger dataset minus the evaluation's unseen sequences: same unseen objects, other sequences), sends
each through several refiner settings and scores them per sequence and seed: MPJPE, FPL and penetration (the
evaluation's measures), with each setting's paired difference from the raw prediction (95 % t-interval over
sequences). The operator graph's options (launch/config) were chosen this way (docs/benchmarks.md).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.errors import InputError
from unihm_planner.evaluation import metrics as M
from unihm_planner.evaluation.samples import EvalSample, load_eval_samples

RAW = "raw (no refinement)"
SWEEP_METRICS = ("mpjpe", "fpl", "penetration")


def default_variants(graph: Any) -> dict[str, Any]:
    """RAW, Algorithm 1's defaults, and the graph's options with every (attraction band, guard_joints) pair."""
    from unihm_refiner.refiner import RefinerOptions

    out: dict[str, Any] = {RAW: None, "paper (Algorithm 1 defaults)": RefinerOptions()}
    for guards in (False, True):
        for name, band in (("no attraction", 1e-6), ("band 2 mm", 0.002), ("band 5 mm", 0.005),
                           ("band 1 cm", 0.01), ("band 2 cm", 0.02)):
            label = f"{name}{', guard joints' if guards else ''}"
            out[label] = dataclasses.replace(graph, attraction_band_m=band, guard_joints=guards)
    return out


def validation_samples(data: str | Path, exclude: str | Path | None, hand: str) -> list[EvalSample]:
    """The test-split sequences of `data` whose ids are not in `exclude`'s test split (the evaluation's unseen)."""
    samples = load_eval_samples(data, hand, splits=("unseen",))["unseen"]
    if exclude is not None:
        held = {s.seq_id for s in load_eval_samples(exclude, hand, splits=("unseen",))["unseen"]}
        samples = [s for s in samples if s.seq_id not in held]
    if not samples:
        raise InputError(f"no validation sequences: {data}'s test split is empty or all in {exclude}'s")
    return samples


def sweep(method: Any, samples: list[EvalSample], variants: dict[str, Any], seeds: list[int],
          hand_points: M.HandPoints, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Score `method`'s predictions through every refiner variant (None = raw). Returns {"variants": {name:
    {metric: (seeds, sequences) list}}, "sample_ids", "seeds", "refine_s": {name: seconds}}."""
    from unihm_refiner.contact import ObjectCloud
    from unihm_refiner.kinematics import KinematicChain
    from unihm_refiner.refiner import Refiner

    if not samples or not variants:
        raise InputError("refiner sweep: need at least one sample and one variant")
    refiners: dict[tuple[str, str], Any] = {}
    scores = {v: {m: [[] for _ in seeds] for m in SWEEP_METRICS} for v in variants}
    times = dict.fromkeys(variants, 0.0)
    for k, seed in enumerate(seeds):
        for i, s in enumerate(samples):
            p = method.predict(s, seed)
            truth = hand_points.joints_world(s.q, s.T_world_wrist)
            palm_truth = hand_points.palm_world(s.q[-1], s.T_world_wrist[-1])
            cloud = ObjectCloud(s.cloud_obj, s.normals_obj)
            T_inv = np.linalg.inv(s.T_world_object)
            for name, opts in variants.items():
                q = p.q
                if opts is not None:
                    key = (name, s.hand)
                    if key not in refiners:
                        refiners[key] = Refiner(KinematicChain.load(s.hand), opts)
                    t0 = time.perf_counter()
                    q = refiners[key].refine(cloud, p.q, s.T_world_object, p.T_world_wrist).q
                    times[name] += time.perf_counter() - t0
                pts = hand_points.joints_world(q, p.T_world_wrist)
                scores[name]["mpjpe"][k].append(M.mpjpe_mm(pts, truth))
                scores[name]["fpl"][k].append(M.fpl_mm(hand_points.palm_world(q[-1], p.T_world_wrist[-1]), palm_truth))
                scores[name]["penetration"][k].append(M.penetration_mm(cloud, T_inv, pts))
            if progress is not None and (i + 1) % 20 == 0:
                progress(f"seed {seed}: {i + 1}/{len(samples)} sequences")
    return {"variants": scores, "sample_ids": [s.seq_id for s in samples], "seeds": list(seeds),
            "refine_s": {k: round(v, 2) for k, v in times.items()}}


def summarize(result: dict[str, Any], reference: str = RAW) -> dict[str, dict[str, Any]]:
    """Per variant and metric: mean, and the paired difference from `reference` (seed-averaged per sequence)
    with its 95 % t-interval."""
    from scipy import stats

    ref = result["variants"][reference]
    out: dict[str, dict[str, Any]] = {}
    for name, tab in result["variants"].items():
        row: dict[str, Any] = {}
        for m in SWEEP_METRICS:
            a = np.asarray(tab[m], dtype=np.float64)  # (seeds, sequences)
            d = (a - np.asarray(ref[m], dtype=np.float64)).mean(axis=0)
            n = d.size
            half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0
            row[m] = {"mean": float(a.mean()), "diff": float(d.mean()), "ci95": [float(d.mean() - half),
                                                                                  float(d.mean() + half)]}
        out[name] = row
    return out


def sweep_markdown(summary: dict[str, dict[str, Any]], sequences: int, seeds: int) -> str:
    """The summary as a markdown table (differences from the raw prediction, 95 % CI)."""
    lines = [f"Refiner settings on {sequences} validation sequences x {seeds} seeds (difference from the raw "
             "prediction, 95 % CI over sequences)", "",
             "| setting | MPJPE (mm) | Δ MPJPE | FPL (mm) | Δ FPL | Pen. (mm) | Δ Pen. |",
             "|---|---|---|---|---|---|---|"]
    for name, row in summary.items():
        cells = []
        for m in SWEEP_METRICS:
            r = row[m]
            cells += [f"{r['mean']:.2f}", f"{r['diff']:+.2f} [{r['ci95'][0]:+.2f}, {r['ci95'][1]:+.2f}]"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
