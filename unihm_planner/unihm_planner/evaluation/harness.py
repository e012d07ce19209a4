"""The evaluation harness: methods -> per-split, per-seed App. F metrics -> JSON, markdown (Table 1/4), plots.

A `Method` maps an `EvalSample` and a seed to a `Prediction` (q (T,J), T_world_wrist (T,4,4)). Policy variants
("Ours" = policy + physical refinement, the ablations) and the baselines (post-processed by the same refiner,
as the paper does for its baselines) all go through `evaluate`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from unihm_common.errors import InputError
from unihm_planner.evaluation import metrics as M
from unihm_planner.evaluation.baselines import Prediction
from unihm_planner.evaluation.motion_encoder import MotionEncoder, motion_features
from unihm_planner.evaluation.samples import EvalSample

METRICS = ("mpjpe", "fol", "fpl", "fid", "diversity", "penetration")  # Table 1 column order, + penetration
HEADERS = {"mpjpe": "MPJPE (mm) ↓", "fol": "FOL (deg) ↓", "fpl": "FPL (mm) ↓", "fid": "FID ↓",
           "diversity": "Diversity →", "penetration": "Pen. (mm) ↓"}
SPLIT_TITLES = {"seen": "Seen", "unseen": "Unseen"}
PAIRED_METRICS = ("mpjpe", "fpl")  # the ordering checks' metrics: kept per sequence for paired comparisons


class Method(Protocol):
    name: str

    def predict(self, sample: EvalSample, seed: int) -> Prediction: ...


class Refined:
    """`method` followed by the physics-guided refiner (Algorithm 1) against the object cloud and path."""

    def __init__(self, method: Method, name: str | None = None, options: Any = None) -> None:
        self.method, self.name, self.options = method, name or method.name, options
        self.deterministic = bool(getattr(method, "deterministic", False))
        self._refiners: dict[str, Any] = {}

    def _refiner(self, hand: str):
        if hand not in self._refiners:
            from unihm_refiner.kinematics import KinematicChain
            from unihm_refiner.refiner import Refiner

            self._refiners[hand] = Refiner(KinematicChain.load(hand), self.options)
        return self._refiners[hand]

    def predict(self, sample: EvalSample, seed: int) -> Prediction:
        from unihm_refiner.contact import ObjectCloud

        p = self.method.predict(sample, seed)
        cloud = ObjectCloud(sample.cloud_obj, sample.normals_obj)
        res = self._refiner(sample.hand).refine(cloud, p.q, sample.T_world_object, p.T_world_wrist)
        return Prediction(q=res.q, T_world_wrist=p.T_world_wrist)


class GroundTruth:
    """The held-out motion itself. Wrapped in `Refined` it measures how far the refiner moves the truth: the
    floor under which refinement cannot bring any method's MPJPE (its energy's minimum is not the data's)."""

    name = "Ground truth"  # not "GT": that row holds the data's own Diversity / penetration
    deterministic = True  # scored with the first seed only

    def predict(self, sample: EvalSample, seed: int) -> Prediction:
        return Prediction(q=sample.q.copy(), T_world_wrist=sample.T_world_wrist.copy())


class PolicyMethod:
    """A `PolicyRunner` (unihm_planner.policy.runner) as a method: instruction + cloud + T_tar + init pose."""

    def __init__(self, runner: Any, name: str) -> None:
        self.runner, self.name = runner, name
        self._names: dict[str, tuple[str, ...]] = {}

    def _joint_names(self, hand: str) -> tuple[str, ...]:
        if hand not in self._names:
            from unihm_common.hands import load_hand_spec

            self._names[hand] = tuple(load_hand_spec(hand).joint_names)
        return self._names[hand]

    def predict(self, sample: EvalSample, seed: int) -> Prediction:
        T0 = sample.T_world_object[0]
        cloud_world = sample.cloud_obj.astype(np.float64) @ T0[:3, :3].T + T0[:3, 3]
        g = self.runner.generate(sample.instruction(seed), cloud_world.astype(np.float32), sample.T_world_object,
                                 sample.hand, init_q=sample.q[0], seed=seed, init_wrist=sample.T_world_wrist[0])
        q, Tw = np.asarray(g.q, np.float64), np.asarray(g.T_world_wrist, np.float64)
        names = tuple(getattr(g, "joint_names", ()) or ())
        want = self._joint_names(sample.hand)
        if names and names != want:  # the runner's joint order -> hand.yaml order (the ground truth's)
            if sorted(names) != sorted(want):
                raise InputError(f"{self.name}: generated joints {names} are not {sample.hand}'s {want}")
            q = q[:, [names.index(n) for n in want]]
        if q.shape[0] != sample.num_frames:  # generated length differs: compare on the ground truth's clock
            idx = np.round(np.linspace(0, len(Tw) - 1, sample.num_frames)).astype(int)
            q, Tw = M.resample(q, sample.num_frames), Tw[idx]
        return Prediction(q=q, T_world_wrist=Tw)


@dataclass
class EvalContext:
    """What all methods are scored with: the hand's FK points, the motion encoder, per-split real features."""

    hand_points: M.HandPoints
    encoder: MotionEncoder
    real_features: dict[str, np.ndarray] = field(default_factory=dict)
    _clouds: dict[str, Any] = field(default_factory=dict, repr=False)  # seq id -> (ObjectCloud, T_object_world)

    def features(self, q: np.ndarray, T_world_wrist: np.ndarray, T_world_object: np.ndarray) -> np.ndarray:
        joints = self.hand_points.joints_world(q, T_world_wrist)
        return motion_features(joints, T_world_object[:, :3, 3], self.encoder.cfg.length)

    def penetration_mm(self, sample: EvalSample, points_world: np.ndarray) -> float:
        """Deepest hand point (joint frames and fingertips, (T, K, 3) world) inside the object over the sequence
        (mm, 0 when none is inside): what the physical refinement is for, and MPJPE does not see."""
        from unihm_refiner.contact import ObjectCloud

        if sample.seq_id not in self._clouds:  # scored once per method and seed: build once
            self._clouds[sample.seq_id] = (ObjectCloud(sample.cloud_obj, sample.normals_obj),
                                           np.linalg.inv(sample.T_world_object))
        cloud, T_inv = self._clouds[sample.seq_id]  # T_inv (T, 4, 4): world -> object frame per frame
        return M.penetration_mm(cloud, T_inv, points_world)

    def set_real(self, split: str, samples: list[EvalSample]) -> None:
        feats = [self.features(s.q, s.T_world_wrist, s.T_world_object) for s in samples]
        self.real_features[split] = self.encoder.encode(feats)


def score_seed(method: Method, samples: list[EvalSample], seed: int, ctx: EvalContext, split: str
               ) -> dict[str, float]:
    """App. F metrics of one method on one split for one seed."""
    mpjpe, fpl, fol, feats, pen = [], [], [], [], []
    hp = ctx.hand_points
    for s in samples:
        p = method.predict(s, seed)
        if p.q.shape != s.q.shape or p.T_world_wrist.shape != s.T_world_wrist.shape:
            raise InputError(f"{method.name} on {s.seq_id}: prediction shapes {p.q.shape}, {p.T_world_wrist.shape}"
                             f" != ground truth {s.q.shape}, {s.T_world_wrist.shape}")
        pj = hp.joints_world(p.q, p.T_world_wrist)
        gj = hp.joints_world(s.q, s.T_world_wrist)
        mpjpe.append(M.mpjpe_mm(pj, gj))
        fpl.append(M.fpl_mm(hp.palm_world(p.q[-1], p.T_world_wrist[-1]), hp.palm_world(s.q[-1], s.T_world_wrist[-1])))
        fol.append(M.fol_deg(s.T_world_wrist[-1], p.T_world_wrist[-1]))
        feats.append(motion_features(pj, s.T_world_object[:, :3, 3], ctx.encoder.cfg.length))
        pen.append(ctx.penetration_mm(s, pj))
    z = ctx.encoder.encode(feats)
    return {"mpjpe": float(np.mean(mpjpe)), "fpl": float(np.mean(fpl)), "fol": float(np.mean(fol)),
            "fid": M.fid(ctx.real_features[split], z), "diversity": M.diversity(z), "penetration": float(np.mean(pen)),
            "per_sample": {"mpjpe": [float(v) for v in mpjpe], "fpl": [float(v) for v in fpl]}}


def evaluate(methods: list[Method], splits: dict[str, list[EvalSample]], seeds: list[int], ctx: EvalContext,
             progress: bool = True) -> dict[str, Any]:
    """{"splits": {split: {"GT": {...}, method: {metric: {mean, std, per_seed}}}}, "timings_s": {...}}."""
    from tqdm import tqdm

    out: dict[str, Any] = {"splits": {}, "timings_s": {}, "seeds": list(seeds)}
    for split, samples in splits.items():
        if len(samples) < 2:
            raise InputError(f"split {split!r} has {len(samples)} samples; FID/Diversity need at least 2")
        ctx.set_real(split, samples)
        pen = [ctx.penetration_mm(s, ctx.hand_points.joints_world(s.q, s.T_world_wrist)) for s in samples]
        table: dict[str, Any] = {"GT": {"diversity": {"mean": M.diversity(ctx.real_features[split]), "std": 0.0},
                                        "penetration": {"mean": float(np.mean(pen)), "std": 0.0}}}
        for m in methods:
            t0 = time.perf_counter()
            run_seeds = seeds[:1] if getattr(m, "deterministic", False) else seeds
            runs = [score_seed(m, samples, sd, ctx, split)
                    for sd in tqdm(run_seeds, desc=f"{split}: {m.name}", leave=False, disable=not progress)]
            table[m.name] = {k: {**M.mean_std([r[k] for r in runs]), "per_seed": [r[k] for r in runs]}
                             for k in METRICS}
            # per sequence (rows: seeds, columns: `sample_ids` order): what paired comparisons need
            table[m.name]["per_sample"] = {k: [r["per_sample"][k] for r in runs] for k in PAIRED_METRICS}
            out["timings_s"][f"{split}/{m.name}"] = round(time.perf_counter() - t0, 2)
        out["splits"][split] = table
        out.setdefault("num_samples", {})[split] = len(samples)
        out.setdefault("sample_ids", {})[split] = [s.seq_id for s in samples]
    return out


def markdown_table(results: dict[str, Any]) -> str:
    """Paper Table 1/4 layout: GT row, then per split one row per method, `mean ± std` per metric."""
    lines = ["| Split | Method | " + " | ".join(HEADERS[k] for k in METRICS) + " |",
             "|---|---|" + "---|" * len(METRICS)]
    for split, table in results["splits"].items():
        for name, row in table.items():
            cells = [f"{row[k]['mean']:.2f} ± {row[k]['std']:.2f}" if k in row else "-" for k in METRICS]
            lines.append(f"| {SPLIT_TITLES.get(split, split)} | {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot_results(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """One PNG of grouped bars (methods x splits, std error bars) per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    splits = list(results["splits"])
    names = [n for n in results["splits"][splits[0]] if n != "GT"]
    for k in METRICS:
        fig, ax = plt.subplots(figsize=(1.6 * len(names) + 3, 3.5))
        w = 0.8 / max(len(splits), 1)
        for i, sp in enumerate(splits):
            tab = results["splits"][sp]
            means = [tab[n][k]["mean"] for n in names]
            stds = [tab[n][k]["std"] for n in names]
            ax.bar(np.arange(len(names)) + i * w, means, w, yerr=stds, label=SPLIT_TITLES.get(sp, sp), capsize=3)
            if k == "diversity":
                ax.axhline(tab["GT"]["diversity"]["mean"], ls="--", lw=1, color=f"C{i}")
        ax.set_xticks(np.arange(len(names)) + w * (len(splits) - 1) / 2)
        ax.set_xticklabels(names, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(HEADERS[k])
        ax.legend(fontsize=8)
        fig.tight_layout()
        p = out_dir / f"eval_{k}.png"
        fig.savefig(p, dpi=90)
        plt.close(fig)
        paths.append(p)
    return paths


def write_outputs(results: dict[str, Any], out_dir: str | Path, plots: bool = True) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "results.json", "markdown": out / "table.md"}
    paths["json"].write_text(json.dumps(results, indent=1))
    checks = checks_markdown(results)
    paths["markdown"].write_text(markdown_table(results) + (f"\nOrdering checks:\n\n{checks}" if checks else ""))
    if plots:
        for i, p in enumerate(plot_results(results, out)):
            paths[f"plot{i}"] = p
    return paths


ABLATION_NAMES = ("w/o Masked Training", "w/o Physical Refinement", "w/o Trajectory Input")


def ordering_checks(results: dict[str, Any], full: str = "Ours", tolerance: float = 0.15) -> dict[str, Any]:
    """The issue's acceptance checks: full model better than each ablation on MPJPE and FPL (per split), and
    unseen within `tolerance` of seen (MPJPE, FPL). Empty when the full model was not evaluated."""
    sp = results["splits"]
    if not all(full in t for t in sp.values()):
        return {}
    out: dict[str, Any] = {}
    for split, tab in sp.items():
        for name in ABLATION_NAMES:
            if name in tab:
                for k in ("mpjpe", "fpl"):
                    out[f"{split}: {full} < {name} ({k})"] = bool(tab[full][k]["mean"] < tab[name][k]["mean"])
    if "seen" in sp and "unseen" in sp:
        for k in ("mpjpe", "fpl"):
            ratio = sp["unseen"][full][k]["mean"] / max(sp["seen"][full][k]["mean"], 1e-12)
            out[f"unseen/seen {k} = {ratio:.3f} <= {1 + tolerance:.2f}"] = bool(ratio <= 1 + tolerance)
    return out


def check_key(name: str) -> str:
    """A check's name without its measured value ("unseen/seen mpjpe = 1.114 <= 1.15" -> "unseen/seen mpjpe <=
    1.15"), so the same check of different runs shares a key."""
    import re

    return re.sub(r" = [0-9.]+ <=", " <=", name)


def paired_differences(results: dict[str, Any], full: str = "Ours") -> dict[str, dict[str, float]]:
    """Per check of `ordering_checks`: the full model minus the ablation on the same sequences and seeds.

    Each sequence's difference is averaged over the seeds both were scored with; the entry holds the mean over
    sequences, its 95 % t-interval and the share of sequences where the full model is lower. An interval that
    holds 0 means the split's sequences cannot tell the two apart, whatever the sign of the mean."""
    from scipy import stats

    out: dict[str, dict[str, float]] = {}
    for split, tab in results["splits"].items():
        if "per_sample" not in tab.get(full, {}):
            continue
        for name in ABLATION_NAMES:
            if "per_sample" not in tab.get(name, {}):
                continue
            for k in PAIRED_METRICS:
                a, b = np.asarray(tab[full]["per_sample"][k]), np.asarray(tab[name]["per_sample"][k])
                n_seeds = min(len(a), len(b))
                d = (a[:n_seeds] - b[:n_seeds]).mean(axis=0)  # (sequences,)
                half = float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0
                out[f"{split}: {full} - {name} ({k})"] = {
                    "mean": float(d.mean()), "ci95": [float(d.mean() - half), float(d.mean() + half)],
                    "share_lower": float(np.mean(d < 0)), "sequences": int(len(d)), "seeds": int(n_seeds)}
    return out


def combine_runs(runs: list[dict[str, Any]], full: str = "Ours") -> dict[str, Any]:
    """Results of runs that differ in the policy's training seed -> one table over training seeds.

    Per split, method and metric: mean ± std of the runs' means (`per_run` keeps them); `checks` are
    `ordering_checks` on those means, `checks_per_run` each run's own verdicts, and `paired_per_run` each run's
    mean paired difference (full model minus ablation; negative = the full model is better)."""
    if len(runs) < 1:
        raise InputError("combine_runs needs at least one results dict")
    ids = [r.get("sample_ids") for r in runs]
    if any(i is not None and i != ids[0] for i in ids[1:]) or any(r.get("data") != runs[0].get("data") for r in runs):
        raise InputError("combine_runs: the runs evaluated different data or sequences (`data`, `sample_ids`); "
                         "only runs on the same held-out sequences differ by training seed alone")
    splits = list(runs[0]["splits"])
    combined: dict[str, Any] = {"splits": {}, "runs": len(runs)}
    for split in splits:
        names = [n for n in runs[0]["splits"][split] if all(n in r["splits"].get(split, {}) for r in runs)]
        if not names:
            raise InputError(f"split {split!r}: no method is in every run")
        table: dict[str, Any] = {}
        for name in names:
            rows = [r["splits"][split][name] for r in runs]
            table[name] = {k: {**M.mean_std([row[k]["mean"] for row in rows]),
                               "per_run": [row[k]["mean"] for row in rows]}
                           for k in METRICS if all(k in row for row in rows)}
        combined["splits"][split] = table
    combined["checks"] = ordering_checks(combined, full)
    per_run = [{check_key(c): v for c, v in ordering_checks(r, full).items()} for r in runs]
    combined["checks_per_run"] = {check_key(c): [pr.get(check_key(c)) for pr in per_run] for c in combined["checks"]}
    paired = [paired_differences(r, full) for r in runs]
    keys = [k for k in paired[0] if all(k in p for p in paired)]
    combined["paired_per_run"] = {k: {**M.mean_std([p[k]["mean"] for p in paired]),
                                      "per_run": [p[k]["mean"] for p in paired]} for k in keys}
    return combined


def checks_markdown(results: dict[str, Any]) -> str:
    """The ordering checks as a list: verdict, then (one run) the paired difference with its 95 % interval and the
    share of sequences the full model wins, or (combined runs) in how many runs the check holds and the paired
    difference's mean ± std over runs."""
    lines = []
    paired, per_run = results.get("paired", {}), results.get("checks_per_run", {})
    runs_paired = results.get("paired_per_run", {})
    for name, ok in results.get("checks", {}).items():
        line = f"- [{'ok' if ok else 'FAIL'}] {name}"
        pkey = name.replace(" < ", " - ")
        if check_key(name) in per_run:
            votes = [v for v in per_run[check_key(name)] if v is not None]
            line += f"; holds in {sum(votes)} of {len(votes)} runs"
        if pkey in paired:
            d = paired[pkey]
            line += (f"; paired difference {d['mean']:+.2f} mm, 95 % CI [{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}], "
                     f"lower on {100 * d['share_lower']:.0f} % of {d['sequences']} sequences")
        elif pkey in runs_paired:
            d = runs_paired[pkey]
            line += f"; paired difference {d['mean']:+.2f} ± {d['std']:.2f} mm over runs"
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def compact(results: dict[str, Any]) -> dict[str, Any]:
    """`--json` form: {split: {variant: {mpjpe, fpl, fol, fid, diversity}}} (means; `_std` siblings)."""
    out: dict[str, Any] = {}
    for split, table in results["splits"].items():
        out[split] = {}
        for name, row in table.items():
            d = {}
            for k in METRICS:
                if k in row:
                    d[k], d[k + "_std"] = row[k]["mean"], row[k]["std"]
            out[split][name] = d
    return out
