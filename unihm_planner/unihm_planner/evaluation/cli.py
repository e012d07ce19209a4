"""`unihm eval`: the paper's App. F evaluation (Table 1/4 layout) of the policy, its ablations and baselines."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

DEFAULT_DATA = Path("/work/data/hoi")
DEFAULT_WORK = Path("/work/data/eval")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("eval", help="App. F evaluation: MPJPE/FOL/FPL/FID/Diversity, ablations, baselines",
                              description=__doc__)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="HOI dataset root (docs/data-format.md)")
    p.add_argument("--train-data", type=Path,
                   help="train the baselines and ablations on this dataset's train split (a superset of --data's, "
                        "same object split) minus --data's 'seen' ids (default: --data's 'fit')")
    p.add_argument("--policy", type=Path, help="policy checkpoint folder (default: the shipped checkpoint)")
    p.add_argument("--tokenizer", type=Path, help="tokenizer checkpoint folder (default: the runner's)")
    p.add_argument("--work", type=Path, default=DEFAULT_WORK, help="cache of trained ablations + outputs")
    p.add_argument("--out", type=Path, help="results folder (default: WORK/results)")
    p.add_argument("--hand", default="shadow_right")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..n-1 (seed 0 = greedy policy decoding)")
    p.add_argument("--json", action="store_true", help="print {split: {variant: metrics}} as JSON")
    p.add_argument("--quick", action="store_true",
                   help="8 sequences per split, 2 seeds, no ablations unless --ablation-epochs")
    p.add_argument("--no-policy", action="store_true", help="baselines only (no policy variants)")
    p.add_argument("--no-ablations", action="store_true", help="skip training/evaluating the ablations")
    p.add_argument("--ablation-epochs", type=int, help="override the ablations' epochs (default: the default's)")
    p.add_argument("--ablation-train", choices=("fit", "train"), default="fit",
                   help="ablations train on 'fit' (train split minus the seen held-out ids) or the whole 'train' "
                        "split (use it when the default checkpoint was trained on the whole train split)")
    p.add_argument("--refiner", choices=("graph", "paper"), default="graph",
                   help="refiner options: the operator graph's (launch/config, default) or Algorithm 1's defaults")
    p.add_argument("--encoder", type=Path, help="motion encoder folder (default: the shipped one)")
    p.add_argument("--train-encoder", action="store_true", help="(re)train the motion encoder on the fit split")
    p.add_argument("--combine", type=Path, nargs="+", metavar="RESULTS",
                   help="evaluate nothing: combine earlier runs (results.json or their folders) that differ in the "
                        "policy's training seed into one table over runs (mean ± std), with per-run check verdicts; "
                        "writes to --out (default WORK/combined)")
    p.add_argument("--refiner-sweep", action="store_true",
                   help="evaluate nothing else: the policy's raw output on validation sequences (--data's test split "
                        "minus --exclude's) through several refiner settings (attraction band x guard joints); "
                        "writes WORK/refiner_sweep (docs/evaluation.md)")
    p.add_argument("--exclude", type=Path,
                   help="with --refiner-sweep: a dataset whose test split (the evaluation's unseen) is left out")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.combine:  # reads results files only: none of the models below
        return combine(args)
    if args.refiner_sweep:
        return refiner_sweep(args)
    import torch

    from unihm_common.hands import load_hand
    from unihm_planner.evaluation import baselines as B
    from unihm_planner.evaluation import harness as H
    from unihm_planner.evaluation import policies as P
    from unihm_planner.evaluation.metrics import HandPoints
    from unihm_planner.evaluation.motion_encoder import DEFAULT_DIR, EncoderConfig, MotionEncoder, motion_features
    from unihm_planner.evaluation.samples import load_eval_samples
    from unihm_refiner.graph_options import graph_refiner_options

    torch.set_num_threads(1)
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    t_start = time.perf_counter()
    limit = 8 if args.quick else None
    seeds = list(range(2 if args.quick else args.seeds))
    data = load_eval_samples(args.data, args.hand)
    fit = data["fit"]
    if args.train_data:
        seen_ids = {s.seq_id for s in data["seen"]}
        more = load_eval_samples(args.train_data, args.hand, splits=("fit", "seen"))
        fit = [s for s in more["fit"] + more["seen"] if s.seq_id not in seen_ids]
    splits = {k: data[k][:limit] if limit else data[k] for k in ("seen", "unseen")}
    log(f"data {args.data}: fit {len(fit)}, seen {len(splits['seen'])}, unseen {len(splits['unseen'])}; "
        f"seeds {seeds}")
    hp = HandPoints(load_hand(args.hand))
    enc_dir = args.encoder or DEFAULT_DIR
    if args.train_encoder or not (Path(enc_dir) / "config.json").is_file():
        cfg = EncoderConfig(hand=args.hand, num_points=len(hp.frames))
        feats = [motion_features(hp.joints_world(s.q, s.T_world_wrist), s.T_world_object[:, :3, 3], cfg.length)
                 for s in fit]
        t0 = time.perf_counter()
        encoder = MotionEncoder.train(feats, cfg, progress=True)
        encoder.save(enc_dir)
        log(f"motion encoder trained in {time.perf_counter() - t0:.1f} s (loss {encoder.final_loss:.4f}) -> {enc_dir}")
    encoder = MotionEncoder.load(enc_dir)
    ctx = H.EvalContext(hand_points=hp, encoder=encoder)

    opts = graph_refiner_options(args.hand) if args.refiner == "graph" else None
    log(f"refiner options: {args.refiner} {opts or '(RefinerOptions defaults)'}")
    embed = B.sentence_embed()
    t0 = time.perf_counter()
    methods: list = []
    train_times = {}
    if not args.no_policy and P.policy_available():
        runner = P.load_runner(args.policy, args.tokenizer)
        methods += [H.Refined(H.PolicyMethod(runner, "Ours"), "Ours", opts),
                    H.PolicyMethod(runner, "w/o Physical Refinement")]
        if not (args.no_ablations or (args.quick and args.ablation_epochs is None)):
            fit_ids = {s.seq_id for s in fit}
            if args.ablation_train == "train":
                fit_ids |= {s.seq_id for s in data["seen"]}
            for key, (title, _) in P.ABLATIONS.items():
                t1 = time.perf_counter()
                d = P.train_ablation(key, args.train_data or args.data, args.work, args.policy, fit_ids, args.hand,
                                     epochs=args.ablation_epochs, log=log, tokenizer_dir=args.tokenizer)
                train_times[title] = round(time.perf_counter() - t1, 1)
                methods.append(H.Refined(H.PolicyMethod(P.load_runner(d, args.tokenizer), title), title, opts))
    elif not args.no_policy:
        log("policy runner not available: evaluating the baselines only")
    t1 = time.perf_counter()
    retrieval = B.RetrievalBaseline(fit, embed=embed)
    regression = B.RegressionBaseline(fit, embed=embed)
    train_times["baselines"] = round(time.perf_counter() - t1, 1)
    methods += [H.Refined(retrieval, options=opts), H.Refined(regression, options=opts),
                H.Refined(H.GroundTruth(), "GT + Physical Refinement", opts)]
    results = H.evaluate(methods, splits, seeds, ctx)
    results.update(train_times_s=train_times, data=str(args.data), hand=args.hand, quick=bool(args.quick),
                   setup_s=round(t1 - t0, 1), total_s=round(time.perf_counter() - t_start, 1))
    results["checks"] = H.ordering_checks(results)
    results["paired"] = H.paired_differences(results)
    return _report(results, args.out or Path(args.work) / "results", args.json)


def combine(args: argparse.Namespace) -> int:
    """`--combine`: runs that differ in the policy's training seed -> mean ± std over runs + per-run verdicts."""
    from unihm_common.errors import InputError
    from unihm_planner.evaluation import harness as H

    runs = []
    for path in args.combine:
        f = path / "results.json" if path.is_dir() else path
        try:
            runs.append(json.loads(f.read_text()))
        except (OSError, ValueError) as exc:
            raise InputError(f"--combine {path}: cannot read an evaluation's results.json ({exc})") from exc
        if not isinstance(runs[-1], dict) or "splits" not in runs[-1]:
            raise InputError(f"--combine {path}: {f} is not a `unihm eval` results.json (no 'splits')")
    results = H.combine_runs(runs)
    results["sources"] = [str(p) for p in args.combine]
    return _report(results, args.out or Path(args.work) / "combined", args.json)


def refiner_sweep(args: argparse.Namespace) -> int:
    """`--refiner-sweep`: refiner settings on a validation set, paired against the raw policy output."""
    import torch

    from unihm_common.hands import load_hand
    from unihm_planner.evaluation import harness as H
    from unihm_planner.evaluation import policies as P
    from unihm_planner.evaluation import refiner_sweep as S
    from unihm_planner.evaluation.metrics import HandPoints
    from unihm_refiner.graph_options import graph_refiner_options

    torch.set_num_threads(1)
    log = (lambda m: print(m, file=sys.stderr)) if args.json else print
    samples = S.validation_samples(args.data, args.exclude, args.hand)
    seeds = list(range(args.seeds))
    log(f"refiner sweep: {len(samples)} validation sequences of {args.data}"
        f"{f' (minus {args.exclude} test split)' if args.exclude else ''}, seeds {seeds}")
    method = H.PolicyMethod(P.load_runner(args.policy, args.tokenizer), "policy")
    variants = S.default_variants(graph_refiner_options(args.hand))
    t0 = time.perf_counter()
    result = S.sweep(method, samples, variants, seeds, HandPoints(load_hand(args.hand)), progress=log)
    summary = S.summarize(result)
    result.update(summary=summary, data=str(args.data), exclude=str(args.exclude), hand=args.hand,
                  policy=str(args.policy or P.DEFAULT_POLICY_DIR), total_s=round(time.perf_counter() - t0, 1))
    out = args.out or Path(args.work) / "refiner_sweep"
    out.mkdir(parents=True, exist_ok=True)
    (out / "refiner_sweep.json").write_text(json.dumps(result, indent=1))
    table = S.sweep_markdown(summary, len(samples), len(seeds))
    (out / "refiner_sweep.md").write_text(table)
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(table, end="")
        print(f"wrote {out / 'refiner_sweep.json'}, {out / 'refiner_sweep.md'}")
    return 0


def _report(results: dict, out: Path, as_json: bool) -> int:
    from unihm_planner.evaluation import harness as H

    paths = H.write_outputs(results, out)
    if as_json:
        print(json.dumps(H.compact(results), indent=1))
    else:
        print(H.markdown_table(results))
        print(H.checks_markdown(results), end="")
        print(f"wrote {', '.join(str(p) for p in paths.values())}")
    return 0
