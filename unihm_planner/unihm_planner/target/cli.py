"""`unihm planner train|eval|plan`: the CLIPort-style target planner. Heavy imports happen in handlers."""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("planner", help="target-trajectory planner: train | eval | plan")
    sub = p.add_subparsers(dest="planner_cmd", metavar="ACTION", required=True)
    t = sub.add_parser("train", help="train the affordance net on synthetic tabletop episodes")
    t.add_argument("--out", default=None, help="checkpoint folder (default: the shipped default's)")
    t.add_argument("--episodes", type=int, default=1200)
    t.add_argument("--steps", type=int, default=2000)
    t.add_argument("--batch-size", type=int, default=12)
    t.add_argument("--lr", type=float, default=2e-3)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--cache", default=None, help="reuse / write the rendered episodes here (.npz)")
    t.add_argument("--eval-episodes", type=int, default=200, help="held-out episodes evaluated after training")
    t.set_defaults(func=_train)
    e = sub.add_parser("eval", help="place success (<= 3 cm) on held-out synthetic scenes")
    e.add_argument("--checkpoint", default=None)
    e.add_argument("--episodes", type=int, default=200)
    e.add_argument("--seed", type=int, default=10_000, help="held-out seed (training uses small seeds)")
    e.add_argument("--cache", default=None)
    e.set_defaults(func=_eval)
    q = sub.add_parser("plan", help="plan on one synthetic scene and print the poses")
    q.add_argument("instruction", nargs="?", default=None, help="default: the scene's own instruction")
    q.add_argument("--checkpoint", default=None)
    q.add_argument("--seed", type=int, default=0)
    q.set_defaults(func=_plan)


def _data(n: int, seed: int, hm, cache: str | None):
    from pathlib import Path

    from .train import EpisodeBatch, make_episodes

    if cache and Path(cache).is_file():
        return EpisodeBatch.load(cache)
    data = make_episodes(n, seed, hm)
    if cache:
        data.save(cache)
    return data


def _train(args: argparse.Namespace) -> int:
    from .planner import DEFAULT_CHECKPOINT
    from .train import TrainConfig, evaluate, train

    cfg = TrainConfig(episodes=args.episodes, steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    out = args.out or DEFAULT_CHECKPOINT
    model = train(cfg, out_dir=None, data=_data(cfg.episodes, cfg.seed, cfg.model.heightmap, args.cache))
    metrics = evaluate(model, _data(args.eval_episodes, 10_000 + args.seed, cfg.model.heightmap, None)) \
        if args.eval_episodes else {}
    model.save_pretrained(out, meta={"train": json.loads(json.dumps(cfg, default=lambda o: o.__dict__)),
                                     "heldout": metrics})
    print(json.dumps({"checkpoint": str(out), **metrics}))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from .model import AffordanceNet
    from .planner import DEFAULT_CHECKPOINT
    from .train import evaluate

    model = AffordanceNet.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT)
    print(json.dumps(evaluate(model, _data(args.episodes, args.seed, model.config.heightmap, args.cache))))
    return 0


def _plan(args: argparse.Namespace) -> int:
    import numpy as np

    from unihm_perception.camera.synthetic import SyntheticCameraConfig, render

    from .planner import DEFAULT_CHECKPOINT, TargetPlanner
    from .tasks import sample_episode

    rng = np.random.default_rng(args.seed)
    ep = sample_episode(rng)
    cam = SyntheticCameraConfig()
    frame = render(ep.scene, cam.K(), cam.T_world_camera(), cam.width, cam.height, rng).frame
    planner = TargetPlanner.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT)
    instruction = args.instruction or ep.instruction
    res = planner.plan(frame, instruction)
    print(json.dumps({"instruction": instruction, "pick_xyz": res.pick_pose[:3, 3].round(3).tolist(),
                      "place_xyz": res.place_pose[:3, 3].round(3).tolist(),
                      "gt_place_xyz": ep.place_xyz.round(3).tolist() if args.instruction is None else None,
                      "duration_s": float(res.t_s[-1]), "samples": len(res.t_s)}))
    return 0
