"""`unihm bag record|play|info|make-camera`: MCAP bags without rosbag2 (see docs/operator-tools.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("bag", help="record / play / inspect MCAP bags; make a synthetic camera bag")
    sub = p.add_subparsers(dest="bag_command", metavar="SUBCOMMAND", required=True)

    r = sub.add_parser("record", help="record live topics (raw CDR) into an .mcap file")
    r.add_argument("out", type=Path, help="output .mcap file")
    r.add_argument("--topics", nargs="+", default=None, help="topics to record (absolute names)")
    r.add_argument("--all", action="store_true", help="record every topic that appears")
    r.add_argument("--duration", type=float, default=0.0, help="stop after S seconds (default: until Ctrl-C)")
    r.add_argument("--max-messages", type=int, default=0, help="stop after N messages (default: no limit)")
    r.set_defaults(func=cmd_record)

    pl = sub.add_parser("play", help="republish a bag's raw messages with their original timing")
    pl.add_argument("bag", type=Path)
    pl.add_argument("--rate", type=float, default=1.0, help="playback speed factor (default 1)")
    pl.add_argument("--loop", action="store_true", help="play again and again until Ctrl-C")
    pl.add_argument("--topics", nargs="+", default=None, help="play only these topics")
    pl.add_argument("--remap", nargs="+", default=[], metavar="FROM:=TO", help="rename topics on output")
    pl.add_argument("--namespace", default="", help="prefix every output topic with this namespace")
    pl.add_argument("--delay", type=float, default=0.5, help="seconds to wait before the first message (discovery)")
    pl.add_argument("--wait-subscribers", type=float, default=0.0, metavar="S",
                    help="first wait up to S seconds until every non-latched topic has a subscriber")
    pl.add_argument("--linger", type=float, default=0.0, metavar="S",
                    help="keep latched topics available S seconds after the last message")
    pl.set_defaults(func=cmd_play)

    i = sub.add_parser("info", help="topics, types, counts and duration of a bag")
    i.add_argument("bag", type=Path)
    i.add_argument("--json", action="store_true")
    i.set_defaults(func=cmd_info)

    m = sub.add_parser("make-camera", help="render a synthetic RGB-D camera bag (camera node topics)")
    m.add_argument("out", type=Path)
    m.add_argument("--seed", type=int, default=0, help="scene seed")
    m.add_argument("--frames", type=int, default=5)
    m.add_argument("--fps", type=float, default=5.0)
    m.add_argument("--width", type=int, default=320)
    m.add_argument("--height", type=int, default=240)
    m.add_argument("--fx", type=float, default=230.0)
    m.add_argument("--scene-file", default="", help="a scene saved by unihm_perception.scene.save_scene")
    m.set_defaults(func=cmd_make_camera)


def cmd_record(args: argparse.Namespace) -> int:
    from unihm_common.errors import InputError

    if not args.all and not args.topics:
        raise InputError("give --topics T1 T2 ... or --all")
    from unihm_common.bag_node import record_bag

    res = record_bag(args.out, None if args.all else args.topics, duration_s=args.duration,
                     max_messages=args.max_messages)
    print(json.dumps(res, indent=2))
    if res["missing"]:
        print(f"unihm bag record: topics never seen: {res['missing']}", file=sys.stderr)
        return 1
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    from unihm_common.bag.mcap_io import parse_remaps
    from unihm_common.bag_node import play_bag

    res = play_bag(args.bag, rate=args.rate, loop=args.loop, topics=args.topics, remaps=parse_remaps(args.remap),
                   namespace=args.namespace, start_delay_s=args.delay, wait_subscribers_s=args.wait_subscribers,
                   linger_s=args.linger)
    print(json.dumps(res))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from unihm_common.bag.mcap_io import bag_info

    info = bag_info(args.bag)
    if args.json:
        print(json.dumps(info | {"topics": [asdict(t) for t in info["topics"]]}, indent=2))
        return 0
    print(f"bag:       {info['path']}\nmessages:  {info['count']}\nduration:  {info['duration_s']:.3f} s")
    for t in info["topics"]:
        print(f"  {t.topic:40s} {t.msgtype:36s} {t.count:6d}{'  (latched)' if t.latched else ''}")
    return 0


def cmd_make_camera(args: argparse.Namespace) -> int:
    from unihm_common.bag.camera import make_camera_bag

    res = make_camera_bag(args.out, seed=args.seed, frames=args.frames, fps=args.fps, width=args.width,
                          height=args.height, fx=args.fx, scene_file=args.scene_file)
    print(json.dumps(res))
    return 0
