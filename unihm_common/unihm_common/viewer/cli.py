"""`unihm view RESULT.npz|.json -o page.html`: the static browser viewer of a manipulation result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("view", help="write a self-contained HTML viewer of a result (.npz/.json)")
    p.add_argument("result", type=Path, help="result file written by unihm_common.report.save_result")
    p.add_argument("-o", "--out", type=Path, default=Path("viewer.html"), help="output page (default viewer.html)")
    p.add_argument("--title", default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from unihm_common.report import hand_skeleton, load_result
    from unihm_common.viewer import write_viewer

    r = load_result(args.result)
    skeleton, links = hand_skeleton(r.hand, r.q, r.T_world_wrist)
    out = write_viewer(args.out, r.object_cloud, r.cloud_colors, r.target_path, {r.hand: (skeleton, links)},
                       fps=r.fps, title=args.title or f"UniHM: {r.hand}", metrics=r.metrics)
    print(f"viewer written to {out.resolve()}", file=sys.stderr)
    return 0
