"""`unihm hands list|show|plot`: look at the hand library from the shell."""

from __future__ import annotations

import argparse
import json

import numpy as np

from unihm_common.errors import InputError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("hands", help="list, inspect and plot the hand models")
    sub = p.add_subparsers(dest="hands_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="every discovered hand")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=cmd_list)
    show = sub.add_parser("show", help="DoF table of one hand")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)
    plot = sub.add_parser("plot", help="write a PNG of the kinematic skeleton and fingertip frames")
    plot.add_argument("name")
    plot.add_argument("--q", default="mid", help="'zero', 'mid', 'lower', 'upper', or comma-separated values "
                      "(J joint values, or A actuated values with couplings applied)")
    plot.add_argument("--out", default=None, help="PNG path (default: <name>.png)")
    plot.set_defaults(func=cmd_plot)


def hand_summary(name: str) -> dict:
    from unihm_common.hands.spec import load_hand_spec

    s = load_hand_spec(name)
    return {"name": s.name, "aliases": list(s.aliases), "side": s.side, "dof": s.num_joints,
            "actuated_dof": s.num_actuated, "fingertips": list(s.fingertip_frames),
            "driver_backends": list(s.driver_backends), "native_unit": s.native_unit}


def cmd_list(args: argparse.Namespace) -> int:
    from unihm_common.hands.registry import available_hands

    rows = [hand_summary(n) for n in available_hands()]
    if args.json:
        print(json.dumps(rows))
        return 0
    print(f"{'hand':<18} {'dof':>4} {'act':>4}  fingertips")
    for r in rows:
        print(f"{r['name']:<18} {r['dof']:>4} {r['actuated_dof']:>4}  {', '.join(r['fingertips'])}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from unihm_common.hands.spec import load_hand_spec

    s = load_hand_spec(args.name)
    rows = []
    for i, n in enumerate(s.joint_names):
        c = s.coupling.get(n)
        role = "actuated" if c is None else f"= {c[1]:g}*{c[0]}{c[2]:+g}"
        rows.append({"joint": n, "type": s.joint_types[i], "lower": float(s.lower_rad[i]),
                     "upper": float(s.upper_rad[i]), "velocity": float(s.velocity_limit_rad_s[i]), "role": role})
    if args.json:
        print(json.dumps({**hand_summary(s.name), "joints": rows}))
        return 0
    print(f"{s.name}: {s.num_joints} joints, {s.num_actuated} actuated; wrist {s.wrist_frame}, palm "
          f"{s.palm_frame}; native unit {s.native_unit}; backends {', '.join(s.driver_backends) or '-'}")
    print(f"{'#':>3} {'joint':<34} {'type':<9} {'lower':>8} {'upper':>8} {'vel':>7}  role")
    for i, r in enumerate(rows):
        print(f"{i:>3} {r['joint']:<34} {r['type']:<9} {r['lower']:>8.4f} {r['upper']:>8.4f} "
              f"{r['velocity']:>7.3f}  {r['role']}")
    return 0


def parse_q(text: str, spec) -> np.ndarray:
    """Joint positions (J,) from a CLI string (see `unihm hands plot --help`)."""
    presets = {"zero": np.clip(np.zeros(spec.num_joints), spec.lower_rad, spec.upper_rad),
               "mid": (spec.lower_rad + spec.upper_rad) / 2, "lower": spec.lower_rad, "upper": spec.upper_rad}
    if text in presets:
        q = np.array(presets[text])
        return spec.actuated_to_full(spec.full_to_actuated(q))  # keep couplings consistent
    try:
        vals = np.array([float(v) for v in text.replace(" ", "").split(",") if v])
    except ValueError as exc:
        raise InputError(f"--q: cannot parse {text!r}: {exc}") from exc
    if vals.size == spec.num_joints:
        return vals
    if vals.size == spec.num_actuated:
        return spec.actuated_to_full(vals)
    raise InputError(f"--q: {spec.name} needs {spec.num_joints} joint or {spec.num_actuated} actuated values, "
                     f"got {vals.size}")


def cmd_plot(args: argparse.Namespace) -> int:
    from unihm_common.hands.model import load_hand
    from unihm_common.hands.plot import plot_hand

    hand = load_hand(args.name)
    q = parse_q(args.q, hand.spec)
    q, n = hand.clamp(q)
    out = plot_hand(hand, q, args.out or f"{hand.name}.png")
    print(f"wrote {out}" + (f" ({n} joint values clamped into limits)" if n else ""))
    return 0
