"""`unihm bench hands`: batched fingertip FK + Jacobian throughput per hand.

`fk_jacobian_per_s` = configurations per second through `Hand.fingertip_fk_and_jacobians` on a
(batch, J) input (positions (B, F, 3) + Jacobians (B, F, 3, J)); `calls_per_s` = batched calls per second.
Peer, same run, same configurations: `yourdfpy_fk_per_s`, yourdfpy's forward kinematics of the same
fingertip frames (positions only, no Jacobians), and `speedup_vs_yourdfpy` (ours does more work).
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
    p.add_argument("--peer-samples", type=int, default=64, help="configurations timed through yourdfpy")
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
        ours = calls * args.batch / dt
        peer = _yourdfpy_fk_per_s(hand, q[: args.peer_samples])
        per_hand[hand.name] = {"fk_jacobian_per_s": round(ours, 1),
                               "calls_per_s": round(calls / dt, 2), "dof": hand.spec.num_joints,
                               "fingertips": len(hand.spec.fingertip_frames),
                               "yourdfpy_fk_per_s": round(peer, 1), "speedup_vs_yourdfpy": round(ours / peer, 1)}
    return {"per_hand": per_hand, "batch": args.batch, "unit": "configurations/s (FK + Jacobians of all tips)"}


def _yourdfpy_fk_per_s(hand, q: np.ndarray) -> float:
    """yourdfpy FK of the fingertip frames for each row of q (B, J), configurations per second."""
    import yourdfpy

    robot = yourdfpy.URDF.load(str(hand.spec.urdf_path), load_meshes=False, build_scene_graph=True)
    names = hand.spec.joint_names
    actuated = set(robot.actuated_joint_names)
    t0 = time.perf_counter()
    for row in q:
        robot.update_cfg({n: float(v) for n, v in zip(names, row) if n in actuated})
        for frame in hand.spec.fingertip_frames:
            robot.get_transform(frame)
    return len(q) / (time.perf_counter() - t0)
