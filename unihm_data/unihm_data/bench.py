"""`unihm bench retarget [--n N] [--hands ...]`: synthesize N sequences, retarget to every hand, time it."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from typing import Any


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    from unihm_data.retarget import retarget_dataset
    from unihm_data.synth import synthesize

    p = argparse.ArgumentParser(prog="unihm bench retarget")
    p.add_argument("--n", type=int, default=8, help="synthetic sequences to generate and retarget")
    p.add_argument("--hands", nargs="+", default=["all"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="unihm-bench-retarget-") as root:
        t0 = time.perf_counter()
        index = synthesize(root, args.n, seed=args.seed, workers=args.workers, progress=False)
        synth_s = time.perf_counter() - t0
        print(f"synthesized {args.n} sequences in {synth_s:.1f} s", file=sys.stderr)
        results = retarget_dataset(root, args.hands, workers=1, progress=False)
    frames = sum(s.num_frames for s in index.sequences)
    return {
        "sequences": args.n, "frames": frames, "synth_sequences_per_s": round(args.n / synth_s, 2),
        "hands": {r["hand"]: {"frames_per_s": round(r["frames_per_s"], 1),
                              "fingertip_err_mm": round(r["fingertip_err_mm"], 2),
                              "fingertip_err_mm_p95": round(r["fingertip_err_mm_p95"], 2)} for r in results},
    }
