"""`unihm perception demo|train-completion`. Heavy imports happen in the handlers."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("perception", help="camera -> object cloud: demo | train-completion")
    sub = p.add_subparsers(dest="perception_cmd", metavar="ACTION", required=True)
    d = sub.add_parser("demo", help="segment and complete the instructed object in a synthetic scene")
    d.add_argument("instruction", nargs="?", default=None, help="default: 'pick up the <first object>'")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--segmenter", default="geometric")
    d.add_argument("--completer", default="classical")
    d.set_defaults(func=_demo)
    t = sub.add_parser("train-completion", help="train the SnowflakeNet-style completer on synthetic pairs")
    t.add_argument("--out", required=True)
    t.add_argument("--pairs", type=int, default=400)
    t.add_argument("--steps", type=int, default=600)
    t.set_defaults(func=_train_completion)


def _demo(args: argparse.Namespace) -> int:
    from unihm_perception.camera import make_camera
    from unihm_perception.pipeline import PerceptionConfig, PerceptionPipeline

    cam = make_camera("synthetic", {"seed": args.seed})
    frame = cam.read()
    obj = cam.scene.objects[-1]
    instruction = args.instruction or f"pick up the {obj.asset.colour} {obj.name.split('_')[-1]}"
    res = PerceptionPipeline(PerceptionConfig(args.segmenter, args.completer)).run(frame, instruction)
    print(json.dumps({"instruction": instruction, "scene": [f"{o.asset.colour} {o.name}" for o in cam.scene.objects],
                      "object": res.segmentation.phrase, "points": len(res.segmentation.points_world),
                      "completed_points": len(res.completed.points),
                      "centre": res.completed.points.mean(0).round(3).tolist(),
                      "latency_ms": {k: round(v, 1) for k, v in res.latency_ms.items()}}))
    return 0


def _train_completion(args: argparse.Namespace) -> int:
    from unihm_perception.completion.snowflake import CompletionTrainConfig, train_completion

    train_completion(CompletionTrainConfig(pairs=args.pairs, steps=args.steps), out_dir=args.out)
    print(json.dumps({"checkpoint": args.out}))
    return 0
