"""`unihm bench policy --json`: ms per 60-frame trajectory, tokens/s, peak RSS, device.

Default: the shipped policy + hand tokenizer, batch 1, greedy, one synthetic object cloud and a 60-frame
lift-carry path, decoded as the runner does (one forward pass when the inputs are masked) and, as the peer,
step by step with the KV cache (`*_kv_cache`, same codes). `--qwen06b` measures a randomly initialised
Qwen3-0.6B-sized language model instead (tokens/s with the KV cache only; meant for a GPU: `--device cuda`).
"""

from __future__ import annotations

import argparse
import resource
import time
from typing import Any

import numpy as np


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unihm bench policy", description=__doc__)
    p.add_argument("--policy", help="policy checkpoint (default: shipped)")
    p.add_argument("--tokenizer", help="hand tokenizer checkpoint (default: shipped)")
    p.add_argument("--hand", default="shadow_right")
    p.add_argument("--frames", type=int, default=60)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--qwen06b", action="store_true", help="random-init Qwen3-0.6B-sized model (tokens/s)")
    p.add_argument("--device", default="cpu")
    return p


def _path(frames: int) -> np.ndarray:
    T = np.tile(np.eye(4), (frames, 1, 1))
    s = np.linspace(0, 1, frames)
    T[:, 0, 3] = 0.4 + 0.1 * s
    T[:, 2, 3] = 0.05 + 0.1 * np.sin(np.pi * s)
    return T


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    import torch

    args = _parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.qwen06b:
        return _qwen06b(args)
    from unihm_planner.policy.runner import PolicyRunner

    runner = PolicyRunner.from_pretrained(args.policy, args.tokenizer)
    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(2048, 3)) * [0.03, 0.03, 0.05] + [0.4, 0.0, 0.05]
    T = _path(args.frames)
    runner.generate("pick up the mug and move it forward", cloud, T, args.hand)  # warm-up
    runs = [runner.generate("pick up the mug and move it forward", cloud, T, args.hand) for _ in range(args.repeats)]
    best = min(runs, key=lambda g: g.timings_ms["total"])
    n_tok = len(best.tokens)
    runner.parallel = False  # the same generation step by step with the KV cache (the peer)
    loop = min((runner.generate("pick up the mug and move it forward", cloud, T, args.hand)
                for _ in range(args.repeats)), key=lambda g: g.timings_ms["total"])
    if not np.array_equal(loop.tokens, best.tokens):
        raise RuntimeError("one-pass and KV-cache generation disagree (a bug: they must draw the same codes)")
    one_pass = runner.mask_inputs  # a policy trained without masking can only decode step by step
    return {
        "ms_per_trajectory": round(best.timings_ms["total"], 1),
        "ms_generate": round(best.timings_ms["generate"], 1),
        "ms_decode": round(best.timings_ms["decode"], 1),
        "tokens_per_s": round(n_tok / (best.timings_ms["generate"] / 1e3), 1),
        "tokens": n_tok, "frames": args.frames, "hand": args.hand,
        "parameters_m": round(sum(p.numel() for p in runner.policy.parameters()) / 1e6, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "ms_per_trajectory_kv_cache": round(loop.timings_ms["total"], 1),
        "tokens_per_s_kv_cache": round(n_tok / (loop.timings_ms["generate"] / 1e3), 1),
        "speedup_vs_kv_cache": round(loop.timings_ms["total"] / best.timings_ms["total"], 2),
        "codes_per_step": runner.codes_per_step,
        "device": "cpu", "threads": args.threads,
        "timing": f"best of {args.repeats}, batch 1, greedy, "
                  + ("one forward pass (masked inputs)" if one_pass else "KV cache"),
    }


def _qwen06b(args) -> dict[str, Any]:
    """Qwen3-0.6B shape (1024 hidden, 28 layers, 16/8 heads, 151,936 + 8,196 vocab), random weights."""
    import torch

    from unihm_planner.policy.config import PolicyConfig
    from unihm_planner.policy.model import MotionPolicy

    cfg = PolicyConfig(hidden_size=1024, num_layers=28, num_heads=16, num_kv_heads=8, head_dim=128,
                       intermediate_size=3072, max_motion_tokens=256)
    dev = torch.device(args.device)
    model = MotionPolicy(cfg).to(dev).eval()
    if dev.type == "cuda":
        model = model.to(torch.bfloat16)
    ids = torch.tensor([[785, 2548, 264, 18568]], device=dev)
    cloud = torch.randn(1, 512, 3, device=dev)
    traj = torch.randn(1, 32, 9, device=dev)
    lat = torch.randn(1, cfg.init_pose_dim, device=dev)
    n = 128
    model.generate(ids, cloud, traj, lat, max_tokens=8, temperature=0, force_length=True)
    best = float("inf")
    for _ in range(args.repeats):
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(ids, cloud, traj, lat, max_tokens=n, temperature=0, force_length=True, parallel=False)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return {"tokens_per_s": round(n / best, 1), "tokens": n, "ms_per_trajectory": round(best * 1e3 * 15 / n, 1),
            "parameters_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "model": "Qwen3-0.6B-sized, random init, batch 1, greedy, KV cache"}
