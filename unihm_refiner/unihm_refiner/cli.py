"""`unihm refine INPUT.npz --out OUT.npz --plot OUT.png`: Algorithm 1 on a saved sequence (see io.py)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("refine", help="physics-guided refinement of a saved sequence (paper §3.4)",
                              description=__doc__)
    p.add_argument("input", type=Path, help="sequence .npz (unihm_refiner.io format)")
    p.add_argument("--out", type=Path, help="write the refined sequence here (.npz)")
    p.add_argument("--plot", type=Path, help="write a PNG of per-frame energy and penetration before/after")
    p.add_argument("--options", type=Path, help="YAML file of RefinerOptions (unknown keys are errors)")
    p.add_argument("--max-iters", type=int, help="override RefinerOptions.max_iters")
    p.add_argument("--lambda-c", type=float, help="override RefinerOptions.lambda_c")
    p.add_argument("--estimate-normals", action="store_true", help="ignore stored normals, estimate them (PCA)")
    p.add_argument("--remove-outliers", action="store_true", help="drop statistical outliers from the cloud")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from unihm_common.config import from_dict, load_yaml
    from unihm_refiner.io import load_sequence, save_sequence
    from unihm_refiner.refiner import Refiner, RefinerOptions

    options = RefinerOptions()
    if args.options:
        options = from_dict(RefinerOptions, load_yaml(args.options) or {}, source=str(args.options))
    overrides = {k: v for k, v in (("max_iters", args.max_iters), ("lambda_c", args.lambda_c)) if v is not None}
    options = dataclasses.replace(options, **overrides)
    seq = load_sequence(args.input)
    chain = seq.chain()
    normals = None if args.estimate_normals else seq.object_normals
    from unihm_refiner.contact import ObjectCloud

    cloud = ObjectCloud(seq.object_points, normals, remove_outliers=args.remove_outliers)
    res = Refiner(chain, options).refine(cloud, seq.motion.q, seq.T_world_object, seq.T_world_wrist)
    print(f"refined {res.q.shape[0]} frames at {res.frames_per_s:.0f} frames/s; energy "
          f"{res.energy_before.sum():.6g} -> {res.energy_after.sum():.6g}; max penetration "
          f"{res.max_penetration_mm_before:.3f} -> {res.max_penetration_mm_after:.3f} mm; "
          f"mean iterations {res.iterations.mean():.2f}, converged {res.converged.mean() * 100:.0f}%")
    if args.out:
        save_sequence(args.out, seq.with_q(res.q), q_gen=seq.motion.q, energy_before=res.energy_before,
                      energy_after=res.energy_after, penetration_before_m=res.penetration_before_m,
                      penetration_after_m=res.penetration_after_m, iterations=res.iterations)
        print(f"wrote {args.out}")
    if args.plot:
        plot_result(res, seq.motion.t_s, args.plot)
        print(f"wrote {args.plot}")
    return 0


def plot_result(res, t_s, path: Path) -> Path:
    """Per-frame energy (log scale) and deepest penetration (mm), before vs after, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_e, ax_p) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    ax_e.semilogy(t_s, res.energy_before, label="before (q_gen)")
    ax_e.semilogy(t_s, res.energy_after, label="after (refined)")
    ax_e.set_ylabel("E_t (Eq. 16)")
    ax_e.legend()
    ax_p.plot(t_s, res.penetration_before_m * 1e3, label="before")
    ax_p.plot(t_s, res.penetration_after_m * 1e3, label="after")
    ax_p.set_ylabel("max penetration (mm)")
    ax_p.set_xlabel("t (s)")
    ax_p.legend()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


