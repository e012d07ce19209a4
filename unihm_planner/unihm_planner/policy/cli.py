"""`unihm policy train|generate` (registered through the `unihm.commands` entry point)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("policy", help="language-conditioned motion-token policy (Qwen3): train, generate")
    sub = p.add_subparsers(dest="policy_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda _a: (p.print_help(), 2)[1])

    t = sub.add_parser("train", help="train a policy on an HOI dataset (docs/policy.md)")
    t.add_argument("--data", required=True, help="HOI dataset folder (unihm data synth + retarget)")
    t.add_argument("--tokenizer", help="hand tokenizer checkpoint (default: the shipped one)")
    t.add_argument("--out", required=True, help="checkpoint folder to write")
    t.add_argument("--config", help="YAML with `policy:` (PolicyConfig) and `train:` (PolicyTrainConfig) sections")
    t.add_argument("--epochs", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--seed", type=int)
    t.add_argument("--no-mask-curriculum", action="store_true", help="ablation: train without masked tokens")
    t.add_argument("--no-trajectory", action="store_true",
                   help="ablation: the policy does not see T_tar (its soft tokens zeroed; the wrist in the "
                        "object's first pose)")
    t.add_argument("--no-init-wrist", action="store_true",
                   help="no initial-wrist input (the policy then never knows where the hand starts)")
    t.add_argument("--holdout-seen", nargs="?", const="", metavar="EVAL_DATA",
                   help="leave out the train sequences `unihm eval --data EVAL_DATA` (default: --data) holds out as "
                        "its 'seen' split")
    t.add_argument("--base-model", help="a local Qwen3ForCausalLM directory (e.g. Qwen3-0.6B) to start from")
    t.add_argument("--resume", action="store_true", help="continue from OUT/train_state.pt")
    t.set_defaults(func=_train)

    g = sub.add_parser("generate", help="generate one trajectory for a dataset sequence's object and path")
    g.add_argument("instruction")
    g.add_argument("--hand", required=True)
    g.add_argument("--data", required=True, help="HOI dataset: the object cloud and T_tar come from --seq")
    g.add_argument("--seq", help="sequence id (default: the first test sequence)")
    g.add_argument("--policy", help="policy checkpoint (default: the shipped one)")
    g.add_argument("--tokenizer", help="hand tokenizer checkpoint (default: the shipped one)")
    g.add_argument("--seed", type=int, default=0, help="0 = greedy")
    g.add_argument("--out", help="write tokens, q, T_world_wrist to this .npz")
    g.set_defaults(func=_generate)


def _load_tokenizer(path):
    from unihm_planner.tokenizer.model import HandTokenizer
    from unihm_planner.tokenizer.paths import default_checkpoint_dir

    return HandTokenizer.from_pretrained(path or default_checkpoint_dir())


def _train(args: argparse.Namespace) -> int:
    from unihm_common.config import from_dict, load_yaml
    from unihm_planner.policy.config import PolicyConfig, policy_config_from_dict
    from unihm_planner.policy.data import load_policy_samples
    from unihm_planner.policy.train import PolicyTrainConfig, train_policy

    raw = (load_yaml(args.config) or {}) if args.config else {}
    unknown = set(raw) - {"policy", "train"}
    if unknown:
        print(f"error: {args.config}: unknown sections {sorted(unknown)} (expected policy:, train:)", file=sys.stderr)
        return 2
    tok = _load_tokenizer(args.tokenizer)
    model_cfg = policy_config_from_dict(raw.get("policy", {}), source=args.config or "<defaults>") \
        if raw.get("policy") else PolicyConfig()
    model_cfg = dataclasses.replace(model_cfg, codebook_size=tok.config.codebook_size,
                                    init_pose_dim=tok.config.code_dim,
                                    **({"base_model": args.base_model} if args.base_model else {}))
    cfg = from_dict(PolicyTrainConfig, raw.get("train", {}), source=args.config or "<defaults>")
    over = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size),
                              ("seed", args.seed)) if v is not None}
    if args.no_mask_curriculum:
        over["mask_curriculum"] = False
    if args.no_trajectory:
        over["use_trajectory"] = False
    cfg = dataclasses.replace(cfg, **over)
    if not args.no_init_wrist:
        model_cfg = dataclasses.replace(model_cfg, init_wrist=True, wrist_residual=model_cfg.wrist_head)
    ref = tok.reference_hand
    train = load_policy_samples(args.data, tok, "train", hand=ref)
    if args.holdout_seen is not None:
        from unihm_planner.evaluation.samples import seen_holdout_ids

        held = set(seen_holdout_ids(args.holdout_seen or args.data))
        train = [s for s in train if s.seq_id not in held]
        print(f"left out the {len(held)} 'seen' evaluation sequences (unihm eval)", file=sys.stderr)
    val = load_policy_samples(args.data, tok, "test", hand=ref)
    print(f"training on {len(train)} sequences ({len(val)} held out), reference hand {ref}", file=sys.stderr)
    _, history = train_policy(cfg, model_cfg, train, args.out, val_samples=val, tokenizer=tok, resume=args.resume)
    print(json.dumps(history[-1]))
    return 0


def _generate(args: argparse.Namespace) -> int:
    import numpy as np

    from unihm_planner.policy.data import load_policy_samples
    from unihm_planner.policy.runner import PolicyRunner

    runner = PolicyRunner.from_pretrained(args.policy, args.tokenizer)
    samples = load_policy_samples(args.data, runner.tokenizer, None, hand=runner.tokenizer.reference_hand)
    sample = next((s for s in samples if s.seq_id == args.seq), None) if args.seq else \
        next((s for s in samples if s.split == "test"), samples[0])
    if sample is None:
        print(f"error: no sequence {args.seq!r} in {args.data}", file=sys.stderr)
        return 2
    T0 = sample.T_world_object[0]
    cloud = sample.cloud_obj @ T0[:3, :3].T + T0[:3, 3]
    g = runner.generate(args.instruction, cloud, sample.T_world_object, args.hand, seed=args.seed)
    print(json.dumps({"hand": g.hand, "seq": sample.seq_id, "frames": len(g.q), "tokens": g.tokens.tolist(),
                      "timings_ms": {k: round(v, 1) for k, v in g.timings_ms.items()}}))
    if args.out:
        np.savez(args.out, tokens=g.tokens, q=g.q, T_world_wrist=g.T_world_wrist,
                 T_world_object=sample.T_world_object, joint_names=np.array(g.joint_names), hand=g.hand)
    return 0
