"""`unihm demo`: the README's main command.

Brings up a hand's graph with simulated backends (the same graph as `unihm bringup --sim`),
sends a smoke goal (an open-close-open joint trajectory over the hand's actuated joints), checks that
the simulated hand tracked it, writes a report (metrics.json + tracking.png) and shuts down cleanly.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo", help="run the end-to-end demo on the shipped defaults")
    p.add_argument("--hand", default="inspire", help="hand name or alias (default: inspire)")
    p.add_argument("--out", type=Path, default=Path("demo_out"), help="report folder (default: demo_out)")
    p.add_argument("--duration", type=float, default=3.0, help="smoke trajectory duration, s")
    p.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from unihm_common.smoke_client_node import run_smoke_goal

    report = run_smoke_goal(args.hand, args.out, duration_s=args.duration, timeout_s=args.timeout)
    print(json.dumps(report["metrics"], indent=2))
    print(f"report written to {args.out.resolve()}", file=sys.stderr)
    return 0 if report["metrics"]["success"] else 1
