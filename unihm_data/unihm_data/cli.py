"""`unihm data synth|retarget|stats|render|annotate` (registered through the `unihm.commands` entry point)."""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("data", help="HOI datasets: synthesize, retarget, stats, render, annotate")
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda _a: (p.print_help(), 2)[1])

    s = sub.add_parser("synth", help="generate synthetic hand-object interactions")
    s.add_argument("--n", type=int, default=200, help="number of sequences")
    s.add_argument("--out", required=True, help="dataset folder to write")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=1)
    s.add_argument("--config", help="YAML with SynthConfig keys (strict)")
    s.set_defaults(func=_synth)

    r = sub.add_parser("retarget", help="retarget every sequence to robot hands (dex-retargeting)")
    r.add_argument("root")
    r.add_argument("--hands", nargs="+", default=["all"], help="hand names or 'all'")
    r.add_argument("--workers", type=int, default=1)
    r.add_argument("--json", action="store_true", help="print per-hand figures as JSON")
    r.set_defaults(func=_retarget)

    st = sub.add_parser("stats", help="dataset statistics")
    st.add_argument("root")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=_stats)

    rd = sub.add_parser("render", help="render a sequence to a GIF/PNG")
    rd.add_argument("root")
    rd.add_argument("seq")
    rd.add_argument("--hand", default="human", help="'human' or a retargeted hand name")
    rd.add_argument("--out", required=True, help="file.gif or file.png")
    rd.add_argument("--stride", type=int, default=3, help="render every n-th frame")
    rd.set_defaults(func=_render)

    an = sub.add_parser("annotate", help="(re)write the 5 instructions per sequence")
    an.add_argument("root")
    an.add_argument("--vlm-config", help="YAML with VLMConfig keys; templates are used without it")
    an.add_argument("--seed", type=int, default=0)
    an.set_defaults(func=_annotate)


def _synth(args: argparse.Namespace) -> int:
    from unihm_common.config import from_dict, load_yaml
    from unihm_data.synth import SynthConfig, synthesize

    cfg = from_dict(SynthConfig, load_yaml(args.config) or {}, source=args.config) if args.config else SynthConfig()
    index = synthesize(args.out, args.n, seed=args.seed, workers=args.workers, cfg=cfg)
    print(f"wrote {len(index.sequences)} sequences to {args.out}", file=sys.stderr)
    return 0


def _retarget(args: argparse.Namespace) -> int:
    from unihm_data.retarget import retarget_dataset

    results = retarget_dataset(args.root, args.hands, workers=args.workers)
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"{r['hand']:>18}: {r['frames_per_s']:8.0f} frames/s  fingertip error {r['fingertip_err_mm']:.1f} mm")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from unihm_data.stats import dataset_stats

    stats = dataset_stats(args.root)
    print(json.dumps(stats, indent=None if args.json else 1))
    return 0


def _render(args: argparse.Namespace) -> int:
    from unihm_data.render import render_sequence

    print(render_sequence(args.root, args.seq, args.out, hand=args.hand, stride=args.stride))
    return 0


def _annotate(args: argparse.Namespace) -> int:
    from unihm_data.annotate import annotate_dataset

    n = annotate_dataset(args.root, vlm_config=args.vlm_config, seed=args.seed)
    print(f"annotated {n} sequences", file=sys.stderr)
    return 0
