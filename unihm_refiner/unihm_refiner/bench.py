"""`unihm bench refiner`: Algorithm 1 vs scipy least_squares on the same frames, same energy, one core.

Both solvers refine the same synthetic episode (`make_synthetic_sequence`: a hand's fingertips
sinking up to `--penetration-mm` into a 2,048-point object) frame by frame in this process, pinned
to one CPU core. Final energies are sums of the per-frame E_t (Eq. 16), each solver with its own
refined history.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import numpy as np


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unihm bench refiner", description=__doc__)
    p.add_argument("--hand", default="allegro_right", help="hand library name (allegro_right, leap_right, ...)")
    p.add_argument("--toy", action="store_true", help="use the in-code 5-finger 20-DoF toy hand instead")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--points", type=int, default=2048)
    p.add_argument("--penetration-mm", type=float, default=10.0, help="amplitude of the injected object sway")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="best of N runs, for both solvers")
    p.add_argument("--cpu", type=int, default=0, help="core to pin to (-1: do not pin)")
    p.add_argument("--warm-start", action="store_true",
                   help="start frame t at q_t^gen + (q_{t-1}^opt - q_{t-1}^gen), both solvers (default: q_t^gen, "
                        "Algorithm 1 line 3)")
    p.add_argument("--guard-joints", action="store_true",
                   help="also keep the hand's joint frames out of the object (RefinerOptions.guard_joints), "
                        "both solvers")
    return p


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    args = _parser().parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # effective only if BLAS is not loaded yet; the pin below is
    old_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if args.cpu >= 0 and old_affinity is not None:
        os.sched_setaffinity(0, {args.cpu})
    try:
        return _run(args)
    finally:
        if args.cpu >= 0 and old_affinity is not None:
            os.sched_setaffinity(0, old_affinity)


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from unihm_refiner.baseline import refine_least_squares
    from unihm_refiner.kinematics import KinematicChain
    from unihm_refiner.refiner import Refiner, RefinerOptions
    from unihm_refiner.synthetic import make_synthetic_sequence, toy_chain

    if args.toy:
        chain, xml = toy_chain(5, 4)
    else:
        chain, xml = KinematicChain.load(args.hand), None
    seq = make_synthetic_sequence(chain, n_frames=args.frames, n_points=args.points,
                                  penetration_mm=args.penetration_mm, seed=args.seed, urdf_xml=xml)
    cloud = seq.cloud()
    options = RefinerOptions(warm_start=args.warm_start, guard_joints=args.guard_joints)
    refiner = Refiner(chain, options)
    q_gen, T_obj, T_wr = seq.motion.q, seq.T_world_object, seq.T_world_wrist
    refiner.refine(cloud, q_gen[:20], T_obj[:20], T_wr[:20])  # warm-up (allocations, caches)
    print(f"refining {args.frames} frames of {chain.name} ({chain.num_joints} DoF, {chain.num_tips} tips, "
          f"{len(cloud)} points) ...", file=sys.stderr)
    res = min((refiner.refine(cloud, q_gen, T_obj, T_wr) for _ in range(args.repeats)), key=lambda r: r.wall_s)
    base = min((refine_least_squares(chain, cloud, q_gen, T_obj, T_wr, options) for _ in range(args.repeats)),
               key=lambda r: r.wall_s)
    dq = np.abs(res.q - q_gen)
    return {
        "frames_per_s": round(res.frames_per_s, 1),
        "baseline_frames_per_s": round(base.frames_per_s, 1),
        "speedup": round(res.frames_per_s / base.frames_per_s, 2),
        "final_energy": float(res.energy_after.sum()),
        "baseline_final_energy": float(base.energy_after.sum()),
        "initial_energy": float(res.energy_before.sum()),
        "max_penetration_mm_before": round(res.max_penetration_mm_before, 3),
        "max_penetration_mm_after": round(res.max_penetration_mm_after, 3),
        "mean_abs_dq_rad": round(float(dq.mean()), 5),
        "mean_iterations": round(float(res.iterations.mean()), 2),
        "mean_rejected_steps": round(float(res.rejected_steps.mean()), 2),
        "guard_joints": options.guard_joints, "guard_frames": refiner.num_guards,
        "line_search": options.line_search, "reject_converge_factor": options.reject_converge_factor,
        "converged_fraction": round(float(res.converged.mean()), 3),
        "baseline_mean_nfev": round(float(base.nfev.mean()), 2),
        "hand": chain.name, "dof": chain.num_joints, "fingertips": chain.num_tips, "tips": list(chain.tip_frames),
        "points": len(cloud), "init": "warm (previous correction)" if args.warm_start else "q_gen (Algorithm 1)",
        "nn_backend": cloud.nn_backend_used,
        "frames": args.frames, "penetration_mm_injected": args.penetration_mm,
        "cpu_pinned": args.cpu, "timing": f"best of {args.repeats} runs for both solvers",
    }

