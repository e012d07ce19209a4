"""`unihm tokenizer {train,add-hand,merge,aliases,translate,eval,make-synthetic}`.

`register` imports nothing heavy; handlers import torch when they run. Under torchrun:
`torchrun --nproc_per_node=N -m unihm_planner.tokenizer.cli train --config C --data D --out O`.
"""

from __future__ import annotations

import argparse
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tokenizer", help="unified hand tokenizer: train, add a hand, translate, evaluate")
    sub = p.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True)
    _add_actions(sub)


def _add_actions(sub: argparse._SubParsersAction) -> None:
    from unihm_planner.tokenizer.paths import default_checkpoint_dir

    default_ckpt = str(default_checkpoint_dir())
    t = sub.add_parser("train", help="reference hand, then every other hand (staged, Eq. B12-B14)")
    t.add_argument("--config", help="YAML with 'tokenizer:' and 'train:' sections (default: built-in defaults)")
    t.add_argument("--data", required=True, help="data root (folder with hands.json, or a unihm_data root)")
    t.add_argument("--out", required=True, help="output checkpoint directory")
    t.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    t.add_argument("--seed", type=int, help="override train.seed")
    t.add_argument("--reference-only", action="store_true", help="train only the reference stage")
    t.set_defaults(func=_train)

    a = sub.add_parser("add-hand", help="add one hand to a trained tokenizer (others stay frozen)")
    a.add_argument("name", help="hand to add")
    a.add_argument("--checkpoint", default=default_ckpt, help="existing checkpoint")
    a.add_argument("--data", required=True, help="data root with the new hand and the reference hand")
    a.add_argument("--out", help="output directory (default: the checkpoint itself)")
    a.add_argument("--config", help="YAML (default: the training config stored in the checkpoint)")
    a.add_argument("--resume", action="store_true", help="continue an interrupted add-hand")
    a.set_defaults(func=_add_hand)

    m = sub.add_parser("merge", help="copy hands added in parallel (add-hand --out on copies) into one checkpoint")
    m.add_argument("sources", nargs="+", help="checkpoints that each grew from --checkpoint by add-hand")
    m.add_argument("--checkpoint", default=default_ckpt, help="the base checkpoint they grew from")
    m.add_argument("--out", help="output directory (default: the base checkpoint itself)")
    m.set_defaults(func=_merge)

    al = sub.add_parser("aliases", help="let left twins / library alias names use their trained hand (aliases.py)")
    al.add_argument("--checkpoint", default=default_ckpt, help="existing checkpoint")
    al.add_argument("--out", help="output directory (default: the checkpoint itself)")
    al.set_defaults(func=_aliases)

    r = sub.add_parser("translate", help="Eq. 6: joint trajectory of hand SRC -> hand DST")
    r.add_argument("--checkpoint", default=default_ckpt)
    r.add_argument("--src", required=True)
    r.add_argument("--dst", required=True)
    r.add_argument("--input", required=True, help=".npy of shape (T, J_src) or (B, T, J_src) in rad")
    r.add_argument("--output", required=True, help=".npy written with shape (T, J_dst) or (B, T, J_dst)")
    r.set_defaults(func=_translate)

    e = sub.add_parser("eval", help="Table B1 (MAE/RMSE per hand, MLP vs 1D-conv) + translation error")
    e.add_argument("--checkpoint", action="append", help="checkpoint dir (repeat for the MLP and 1D-conv ones)")
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.add_argument("--lookup-bound", action="store_true",
                   help="also print the error of a lookup table of the training windows")
    e.set_defaults(func=_eval)

    s = sub.add_parser("make-synthetic", help="write a synthetic two-hand data folder (smoke tests only)")
    s.add_argument("out")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--sequences", type=int, nargs=3, default=[48, 8, 8], metavar=("TRAIN", "VAL", "TEST"))
    s.set_defaults(func=_make_synthetic)


def _load_cfg(path: str | None):
    from unihm_planner.tokenizer.config import RunConfig

    return RunConfig.from_yaml(path) if path else RunConfig()


def _train(args: argparse.Namespace) -> int:
    import dataclasses

    from unihm_planner.tokenizer.data import open_source
    from unihm_planner.tokenizer.train import train_reference, train_tokenizer

    cfg = _load_cfg(args.config)
    if args.seed is not None:
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, seed=args.seed))
    source = open_source(args.data)
    fn = train_reference if args.reference_only else train_tokenizer
    model = fn(source, cfg, args.out, resume=args.resume)
    print(f"tokenizer with hands {model.hands} written to {args.out}", file=sys.stderr)
    return 0


def _add_hand(args: argparse.Namespace) -> int:
    from unihm_planner.tokenizer.data import open_source
    from unihm_planner.tokenizer.train import add_hand

    cfg = _load_cfg(args.config) if args.config else None
    model = add_hand(open_source(args.data), args.name, args.checkpoint, args.out, cfg, resume=args.resume)
    print(f"tokenizer with hands {model.hands} written to {args.out or args.checkpoint}", file=sys.stderr)
    return 0


def _merge(args: argparse.Namespace) -> int:
    from unihm_planner.tokenizer.merge import merge_hands

    model = merge_hands(args.checkpoint, args.sources, args.out)
    print(f"tokenizer with hands {model.hands} written to {args.out or args.checkpoint}", file=sys.stderr)
    return 0


def _aliases(args: argparse.Namespace) -> int:
    from unihm_planner.tokenizer.aliases import library_aliases
    from unihm_planner.tokenizer.bench import require_checkpoint
    from unihm_planner.tokenizer.checkpoint import read_config, save_pretrained
    from unihm_planner.tokenizer.model import HandTokenizer

    ckpt = require_checkpoint(args.checkpoint)
    model = HandTokenizer.from_pretrained(ckpt)
    for alias, (hand, joints) in library_aliases(model.hands).items():
        model.add_alias(alias, hand, joints)
    meta = read_config(ckpt)
    extra = {k: v for k, v in meta.items() if k not in ("format", "version", "tokenizer", "hands", "aliases")}
    save_pretrained(model, args.out or ckpt, extra=extra)
    pairs = ", ".join(f"{a}->{h}" for a, (h, _) in model.aliases.items())
    print(f"aliases written to {args.out or ckpt}: {pairs or '(none)'}", file=sys.stderr)
    return 0


def _translate(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from unihm_planner.tokenizer.bench import require_checkpoint
    from unihm_planner.tokenizer.evaluate import _pad
    from unihm_planner.tokenizer.model import HandTokenizer

    model = HandTokenizer.from_pretrained(require_checkpoint(args.checkpoint))
    x = np.load(args.input).astype(np.float32)
    single = x.ndim == 2
    xb = x[None] if single else x
    T = xb.shape[1]
    padded = np.stack([_pad(s, model.config.downsample) for s in xb])  # (B, T', J_src)
    y = model.translate(torch.from_numpy(padded), args.src, args.dst)[:, :T].numpy()
    np.save(args.output, y[0] if single else y)
    print(f"{args.src} {x.shape} -> {args.dst} {y[0].shape if single else y.shape}: {args.output}", file=sys.stderr)
    return 0


def _eval(args: argparse.Namespace) -> int:
    from unihm_planner.tokenizer.bench import require_checkpoint
    from unihm_planner.tokenizer.data import open_source
    from unihm_planner.tokenizer.evaluate import (
        format_table_b1,
        load_kinematics,
        reconstruction_errors,
        translation_errors,
    )
    from unihm_planner.tokenizer.model import HandTokenizer
    from unihm_planner.tokenizer.paths import default_checkpoint_dir

    source = open_source(args.data)
    results, translation, notes = {}, {}, []
    for path in args.checkpoint or [str(default_checkpoint_dir())]:
        model = HandTokenizer.from_pretrained(require_checkpoint(path))
        hands = [h for h in model.hands if h in source.hands()]
        results[model.config.backbone] = reconstruction_errors(model, source, args.split, hands)
        kin, kin_notes = load_kinematics(hands)
        notes += kin_notes
        if kin:
            translation[model.config.backbone] = translation_errors(model, source, kin, args.split)
    if args.json:
        print(json.dumps({"reconstruction": results, "translation": translation, "notes": notes}, indent=2))
        return 0
    print(f"Reconstruction on the {args.split!r} split (rad)")
    print(format_table_b1(results))
    for bb, r in results.items():
        print(f"{bb}: codebook used {100 * r['codebook_used_frac']:.2f}% perplexity {r['perplexity']:.1f}")
    for bb, tr in translation.items():
        pairs = ", ".join(f"{k} {v:.2f}" for k, v in tr["pairs"].items())
        mean = "n/a (needs two hands)" if tr["mean_mm"] is None else f"{tr['mean_mm']:.2f} mm"
        print(f"{bb}: translation fingertip error mean {mean} ({pairs})")
    if not translation:
        print("translation fingertip error: skipped (no hand kinematics available)")
    if args.lookup_bound:
        _print_lookup_bound(source, model, args.split)
    for n in notes:
        print(f"note: {n}", file=sys.stderr)
    return 0


def _print_lookup_bound(source, model, split: str) -> None:
    """Nearest-training-window lookup on `split` for the last checkpoint's hands, at 1/8 .. all of the data."""
    from unihm_planner.tokenizer.evaluate import nearest_window_errors

    ds = model.config.downsample
    print(f"Lookup bound: every {ds}-frame window of {split!r} replaced by its nearest 'train' window (rad)")
    for hand in [h for h in model.hands if h in source.hands()]:
        rows = [(f, nearest_window_errors(source, hand, split, ds, train_fraction=f)) for f in (0.125, 0.25, 0.5, 1.0)]
        cells = ", ".join(f"{r['train_sequences']} seqs MAE {r['mae']:.4f} RMSE {r['rmse']:.4f}" for _, r in rows)
        print(f"  {hand}: {cells}")


def _make_synthetic(args: argparse.Namespace) -> int:
    from unihm_planner.tokenizer.data import write_folder
    from unihm_planner.tokenizer.synthetic import make_synthetic_source

    root = write_folder(make_synthetic_source(n_seqs=tuple(args.sequences), seed=args.seed), args.out)
    print(f"synthetic hands written to {root}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m unihm_planner.tokenizer.cli ACTION ...` (what torchrun launches)."""
    from unihm_common.errors import UnihmError

    parser = argparse.ArgumentParser(prog="unihm tokenizer")
    _add_actions(parser.add_subparsers(dest="tokenizer_command", metavar="ACTION", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UnihmError as exc:
        print(f"unihm tokenizer: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
