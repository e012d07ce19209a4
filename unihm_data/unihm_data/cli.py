"""`unihm data synth|retarget|refine|stats|render|import|annotate` (the `unihm.commands` entry point)."""

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

    rf = sub.add_parser("refine", help="physics-refine retargeted sequences in place (the refiner, wrist fixed)")
    rf.add_argument("root")
    rf.add_argument("--hands", nargs="+", required=True, help="retargeted hand names")
    rf.add_argument("--refiner", choices=["graph", "paper"], default="graph",
                    help="graph: the operator graph's options (launch/config); paper: Algorithm 1's defaults")
    rf.add_argument("--passes", type=int, default=1, help="refinements in a row, each from the last")
    rf.add_argument("--workers", type=int, default=1)
    rf.add_argument("--json", action="store_true", help="print per-hand figures as JSON")
    rf.set_defaults(func=_refine)

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

    im = sub.add_parser("import", help="import DexYCB or OakInk (their published layouts) into the dataset format")
    im.add_argument("source", choices=["dexycb", "oakink"])
    im.add_argument("src", help="the dataset's root folder")
    im.add_argument("--out", required=True, help="dataset folder to write")
    im.add_argument("--mano-model", help="DexYCB: a MANO_RIGHT/LEFT model file to recompute keypoints from pose_m")
    im.add_argument("--serial", help="DexYCB: camera serial (default: the master camera)")
    im.add_argument("--view", type=int, default=0, help="OakInk: camera view")
    im.add_argument("--limit", type=int, default=0, help="import at most N sequences (0 = all)")
    im.add_argument("--seed", type=int, default=0, help="seed of the 80/20 object split and the instructions")
    im.set_defaults(func=_import)

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


def _refine(args: argparse.Namespace) -> int:
    from unihm_common.hands import resolve_hand_name
    from unihm_data.physics_refine import refine_dataset

    hands = [resolve_hand_name(h) for h in args.hands]
    options = None
    if args.refiner == "paper":
        from unihm_refiner.refiner import RefinerOptions

        options = RefinerOptions()
    results = refine_dataset(args.root, hands, options=options, passes=args.passes, workers=args.workers)
    if args.json:
        print(json.dumps(results))
    else:
        for r in results:
            print(f"{r['hand']:>18}: {r['frames']} frames, mean |dq| {r['mean_abs_change_rad']:.4f} rad, deepest "
                  f"contact point (mean over frames) {r['max_penetration_mm_before']:.1f} -> "
                  f"{r['max_penetration_mm_after']:.1f} mm")
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


def _import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from unihm_data import dexycb, oakink
    from unihm_data.importer import import_sequences

    if args.source == "dexycb":
        names = dexycb.list_sequences(args.src)

        def load(name):
            return dexycb.load_sequence(args.src, name, serial=args.serial, mano_model=args.mano_model)
    else:
        names = oakink.list_sequences(args.src)

        def load(name):
            return oakink.load_sequence(args.src, name, view=args.view)
    if args.limit > 0:
        names = names[: args.limit]
    if not names:
        print(f"error: no {args.source} sequences found under {args.src}", file=sys.stderr)
        return 2
    items = [load(name) for name in tqdm(names, desc=f"reading {args.source}", unit="seq")]
    index = import_sequences(args.out, items, args.source, seed=args.seed)
    print(f"wrote {len(index.sequences)} sequences ({len(index.objects)} objects) to {args.out}", file=sys.stderr)
    return 0


def _annotate(args: argparse.Namespace) -> int:
    from unihm_data.annotate import annotate_dataset

    n = annotate_dataset(args.root, vlm_config=args.vlm_config, seed=args.seed)
    print(f"annotated {n} sequences", file=sys.stderr)
    return 0
