"""`unihm goal "..." --hand NAME [--execute]` (registered through the `unihm.commands` entry point)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("goal", help="send a language goal to a running manipulation graph (Manipulate action)")
    p.add_argument("instruction", help='e.g. "put the mug on the plate"')
    p.add_argument("--hand", required=True, help="hand name or alias (see `unihm hands list`)")
    p.add_argument("--execute", action="store_true", help="run the refined trajectory on the hand's driver")
    p.add_argument("--no-refine", action="store_true", help="skip the physics-guided refinement")
    p.add_argument("--frames", type=int, default=0, help="trajectory length (0 = the graph's default)")
    p.add_argument("--seed", type=int, default=0, help="0 = greedy decoding")
    p.add_argument("--namespace", default="", help="namespace of the manipulation node")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the result")
    p.add_argument("--wait", type=float, default=30.0, help="seconds to wait for the manipulation node")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if not args.instruction.strip():
        print("error: the instruction is empty", flush=True)
        return 2
    from unihm_planner.goal_client_node import run_goal

    return run_goal(args)
