"""`unihm bench e2e --json`: goal -> executed trajectory through the whole graph, per stage (see
demo_client_node.run_e2e_bench). Keys: home (the arm's move home first), perception, plan, policy, refine,
execute, total_ms (ms), success, peak_rss_mb (sum over the graph's processes)."""

from __future__ import annotations

import argparse
from typing import Any


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="unihm bench e2e", description=__doc__)
    p.add_argument("--hand", default="inspire")
    p.add_argument("--goals", type=int, default=5)
    p.add_argument("--scene-seed", type=int, default=2)
    p.add_argument("--arm", default="fr3")
    p.add_argument("--instruction", default="put the yellow foam brick on the plate")
    args = p.parse_args(argv)
    from unihm_planner.demo_client_node import run_e2e_bench

    return run_e2e_bench(args.hand, args.goals, args.scene_seed, args.arm, args.instruction)
