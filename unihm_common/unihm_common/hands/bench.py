"""`unihm bench hands`: batched fingertip FK + Jacobian throughput per hand.

`fk_jacobian_per_s` = configurations per second through `Hand.fingertip_fk_and_jacobians` on a
(batch, J) input (positions (B, F, 3) + Jacobians (B, F, 3, J)); `calls_per_s` = batched calls per second.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def run_benchmark(argv: list[str]) -> dict:
    from unihm_common.hands.model import load_hand
    from unihm_common.hands.registry import available_hands

    p = argparse.ArgumentParser(prog="unihm bench hands")
    p.add_argument("--batch", type=int, default=256, help="configurations per call")
    p.add_argument("--seconds", type=float, default=1.0, help="measuring time per hand")
    p.add_argument("--hands", default="", help="comma-separated subset (default: all)")
    args = p.parse_args(argv)
    names = [n for n in args.hands.split(",") if n] or available_hands()
    rng = np.random.default_rng(0)
    per_hand = {}
    for name in names:
        hand = load_hand(name)
        q = hand.random_q(args.batch, rng)  # (B, J)
        hand.fingertip_fk_and_jacobians(q)  # warm-up
        calls, t0 = 0, time.perf_counter()
        while True:
            hand.fingertip_fk_and_jacobians(q)
            calls += 1
            dt = time.perf_counter() - t0
            if dt >= args.seconds:
                break
        per_hand[hand.name] = {"fk_jacobian_per_s": round(calls * args.batch / dt, 1),
                               "calls_per_s": round(calls / dt, 2), "dof": hand.spec.num_joints,
                               "fingertips": len(hand.spec.fingertip_frames)}
    return {"per_hand": per_hand, "batch": args.batch, "unit": "configurations/s (FK + Jacobians of all tips)"}
