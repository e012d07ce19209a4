"""`unihm bench <part> [--json] [part options]`: every measured part registers one benchmark.

A package adds a part with `entry_points={"unihm.benchmarks": ["<part> = <module>:run_benchmark"]}`
where `run_benchmark(argv: list[str]) -> dict` parses its own options, measures, and returns one
JSON-serialisable dict (the keys its issue names). The runner adds `machine` facts, prints one JSON
object on stdout with `--json` (logs go to stderr), or a readable listing otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from importlib.metadata import entry_points
from typing import Any

BENCH_GROUP = "unihm.benchmarks"


def benchmark_parts() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=BENCH_GROUP)}


def machine_facts() -> dict[str, Any]:
    """Where a figure was measured: needed to compare figures across machines."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bench", help="run a benchmark: unihm bench <part> --json")
    p.add_argument("part", nargs="?", help="part to measure (omit to list parts)")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--out", help="also write the JSON object to this file")
    p.set_defaults(func=run, accepts_extra=True)


def run(args: argparse.Namespace) -> int:
    parts = benchmark_parts()
    if not args.part:
        print("benchmark parts: " + ", ".join(sorted(parts)))
        return 0
    if args.part not in parts:
        print(f"unknown benchmark part {args.part!r}; known: {', '.join(sorted(parts))}", file=sys.stderr)
        return 2
    fn = parts[args.part].load()
    t0 = time.perf_counter()
    result = fn(list(args.extra))
    result = dict(result)
    result.setdefault("part", args.part)
    result["bench_wall_s"] = round(time.perf_counter() - t0, 3)
    result["machine"] = machine_facts()
    text = json.dumps(result, sort_keys=False)
    if args.out:
        with open(args.out, "w") as f:
            f.write(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(text)
    else:
        for key, value in result.items():
            print(f"{key:>28}: {value}")
    return 0
