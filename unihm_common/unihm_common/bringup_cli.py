"""`unihm bringup --hand NAME [--sim]`: start a hand's graph without launch_ros, supervised."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bringup", help="start the nodes of launch/<hand>.launch.py, supervised")
    p.add_argument("--hand", required=True, nargs="+",
                   help="hand name or alias (see `unihm hands list`); several hands need --full")
    p.add_argument("--full", action="store_true",
                   help="the whole manipulation graph (camera, perception, planner, policy, refiner, drivers and "
                        "the `manipulate` action); default: the hand's drivers + refiner")
    p.add_argument("--arm", default="", help="with --full: carry each hand on this arm (e.g. fr3)")
    p.add_argument("--scene-seed", type=int, default=None, help="with --full --sim: the synthetic camera's scene")
    sim = p.add_mutually_exclusive_group()
    sim.add_argument("--sim", dest="use_sim", action="store_true", default=True, help="simulated backends (default)")
    sim.add_argument("--real", dest="use_sim", action="store_false", help="real hardware backends")
    p.add_argument("--namespace", default="")
    p.add_argument("--robot-ip", default="")
    p.add_argument("--serial-port", default="")
    p.add_argument("--config-dir", type=Path, default=None, help="folder with default.yaml/<hand>.yaml")
    p.add_argument("--log-dir", type=Path, default=None, help="per-node logs (default: a temp dir)")
    p.add_argument("--domain-id", type=int, default=None, help="ROS_DOMAIN_ID (default: environment's)")
    p.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--max-restarts", type=int, default=5)
    p.add_argument("--dry-run", action="store_true", help="print the node commands and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from unihm_common.launch_graph import hand_graph, manipulation_graph
    from unihm_common.ros_env import local_ros_env
    from unihm_common.supervisor import Supervisor, executable_command

    common = dict(use_sim=args.use_sim, namespace=args.namespace, robot_ip=args.robot_ip,
                  serial_port=args.serial_port, config_dir=args.config_dir)
    if args.full:
        camera = {"scene_seed": args.scene_seed} if args.scene_seed is not None else {}
        specs = manipulation_graph(args.hand, arm=args.arm, camera=camera, **common)
    elif len(args.hand) > 1:
        print("error: several hands need --full (one manipulation graph drives them all)", file=sys.stderr)
        return 2
    else:
        specs = hand_graph(args.hand[0], **common)
    if args.dry_run:
        for s in specs:
            print(" ".join(executable_command(s.package, s.executable) + s.ros_args()))
        return 0
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="unihm_bringup_"))
    env = local_ros_env(domain_id=args.domain_id, log_dir=str(log_dir / "ros"))
    sup = Supervisor(specs, env, log_dir, max_restarts=args.max_restarts)

    def request_stop(signum, _frame):
        print(f"[bringup] {signal.Signals(signum).name}: shutting down", file=sys.stderr, flush=True)
        sup.stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    print(f"[bringup] hands {', '.join(args.hand)}: {len(specs)} nodes, logs in {log_dir}",
          file=sys.stderr, flush=True)
    t0 = time.monotonic()
    code = sup.run(duration_s=args.duration)
    if sup.failed:
        print(f"[bringup] {sup.failed}", file=sys.stderr)
    print(f"[bringup] stopped after {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return code
