"""`unihm demo`: the README's main command.

Default: the full language pipeline on a synthetic scene (camera → perception → planner → policy → refiner →
simulated hand on a simulated FR3 arm), one goal, a report in `--out` (see unihm_planner.demo_client_node).
`--smoke`: the older graph check (driver + refiner only, an open–close–open joint trajectory).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_INSTRUCTION = "put the yellow foam brick on the plate"  # scene seed 2: plate, can, brick, box, marker


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the end-to-end demo on the shipped defaults")
    p.add_argument("--hand", default="inspire", help="hand name or alias (default: inspire)")
    p.add_argument("--instruction", default=DEFAULT_INSTRUCTION, help=f"default: {DEFAULT_INSTRUCTION!r}")
    p.add_argument("--scene-seed", type=int, default=2, help="synthetic scene (default 2)")
    p.add_argument("--arm", default="fr3", help="simulated arm carrying the hand ('' = fixed wrist)")
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="report folder (default: demo_out)")
    p.add_argument("--smoke", action="store_true", help="only the driver smoke test (no language pipeline)")
    p.add_argument("--duration", type=float, default=3.0, help="--smoke: trajectory duration, s")
    p.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.smoke:
        from unihm_common.smoke_client_node import run_smoke_goal

        report = run_smoke_goal(args.hand, args.out, duration_s=args.duration, timeout_s=args.timeout)
        print(json.dumps(report["metrics"], indent=2))
        print(f"report written to {args.out.resolve()}", file=sys.stderr)
        return 0 if report["metrics"]["success"] else 1
    from unihm_common.errors import UnihmError
    from unihm_planner.demo_client_node import run_language_demo

    try:
        summary = run_language_demo(args.hand, args.instruction, args.out, scene_seed=args.scene_seed, arm=args.arm,
                                    timeout_s=args.timeout, log=lambda s: print(s, file=sys.stderr, flush=True))
    except UnihmError as exc:
        print(f"[demo] failed: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"metrics": summary["metrics"], "stage_ms": summary["stage_ms"]}, indent=2, default=float))
    return 0
