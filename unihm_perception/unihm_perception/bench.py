"""`unihm bench perception --json`: synthetic 640x480 frame -> segmentation -> completion -> plan -> trajectory.

Reports segment_iou (instructed object vs ground-truth mask), completion_chamfer_gain (Chamfer distance of the
partial cloud minus that of the completed cloud, to the true surface, m), place_success_rate (place within
3 cm of the goal), latency_ms (median, camera frame -> planned path) and per-stage medians.
With --node-scenes N (default 5; 0 = off) the first N scenes also run through camera_node -> perception_node
-> planner_node (see bench_nodes): latency_ms is then that node-level figure, from the camera frame's stamp to
the published target path; core_latency_ms keeps the in-library figure.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np


def run_benchmark(argv: list[str]) -> dict:
    p = argparse.ArgumentParser(prog="unihm bench perception")
    p.add_argument("--scenes", type=int, default=20)
    p.add_argument("--seed", type=int, default=20_000, help="held-out scenes (planner training uses small seeds)")
    p.add_argument("--checkpoint", default=None, help="planner checkpoint (default: the shipped one)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--node-scenes", type=int, default=5, help="scenes also timed through the ROS nodes (0 = off)")
    args = p.parse_args(argv)

    import torch

    from unihm_common.errors import InputError, MissingDependencyError
    from unihm_perception.camera.synthetic import SyntheticCameraConfig, render
    from unihm_perception.completion import chamfer_distance
    from unihm_perception.pipeline import PerceptionPipeline
    from unihm_planner.target.planner import DEFAULT_CHECKPOINT, TargetPlanner
    from unihm_planner.target.tasks import sample_episode

    torch.set_num_threads(args.threads)
    cam = SyntheticCameraConfig()
    K, T = cam.K(), cam.T_world_camera()
    pipe = PerceptionPipeline()
    try:
        planner = TargetPlanner.from_pretrained(args.checkpoint or DEFAULT_CHECKPOINT)
    except MissingDependencyError as exc:
        print(f"planner unavailable: {exc}", file=sys.stderr)
        planner = None
    rng = np.random.default_rng(args.seed)
    ious, gains, placed, errors, episodes = [], [], [], 0, []
    core_total: dict[int, float] = {}  # episode index -> core ms
    lat: dict[str, list[float]] = {k: [] for k in ("render", "segment", "complete", "plan", "total")}
    for _ in range(args.scenes):
        ep = sample_episode(rng)
        episodes.append(ep)
        t0 = time.perf_counter()
        rr = render(ep.scene, K, T, cam.width, cam.height, rng, cam.depth_noise_m_at_1m, cam.dropout, cam.edge_dropout)
        lat["render"].append(1e3 * (time.perf_counter() - t0))
        frame = rr.frame
        t0 = time.perf_counter()
        try:
            res = pipe.run(frame, ep.instruction)
        except InputError as exc:
            print(f"perception failed on {ep.instruction!r}: {exc}", file=sys.stderr)
            errors += 1
            continue
        t1 = time.perf_counter()
        gt = rr.instance == ep.pick_index
        ious.append(float((gt & res.segmentation.mask).sum() / max((gt | res.segmentation.mask).sum(), 1)))
        surface = ep.scene.objects[ep.pick_index].world_mesh().sample(4000, seed=0)
        partial, done = res.segmentation.points_world, res.completed.points
        gains.append(chamfer_distance(partial, surface) - chamfer_distance(done, surface))
        lat["segment"].append(res.latency_ms["segment"])
        lat["complete"].append(res.latency_ms["complete"])
        if planner is not None:
            plan = planner.plan(frame, ep.instruction, object_points=res.completed.points)
            t2 = time.perf_counter()
            placed.append(float(np.linalg.norm(plan.place_pose[:3, 3] - ep.place_xyz) <= 0.03))
            lat["plan"].append(1e3 * (t2 - t1))
            lat["total"].append(1e3 * (t2 - t0))
            core_total[len(episodes) - 1] = lat["total"][-1]
    med = {k: round(float(np.median(v)), 1) if v else None for k, v in lat.items()}
    nodes = None
    if args.node_scenes > 0 and planner is not None:
        from unihm_perception.bench_nodes import node_latencies

        nodes = node_latencies(episodes[: args.node_scenes], cam.width, cam.height, cam.fx)
    same = [core_total[i] for i in range(min(args.node_scenes, len(episodes))) if i in core_total]
    return {
        "segment_iou": round(float(np.mean(ious)), 4) if ious else None,
        "completion_chamfer_gain": round(float(np.mean(gains)), 5) if gains else None,
        "completion_chamfer_gain_unit": "m",
        "place_success_rate": round(float(np.mean(placed)), 4) if placed else None,
        "latency_ms": nodes["median_ms"] if nodes else med["total"],
        "core_latency_ms": med["total"],
        "node_latency_ms": nodes["median_ms"] if nodes else None,
        "core_latency_ms_node_scenes": round(float(np.median(same)), 1) if nodes and same else None,
        "node_scenes": len(nodes["per_scene_ms"]) if nodes else 0,
        "node_failures": nodes["failures"] if nodes else [],
        "stage_latency_ms": {k: med[k] for k in ("render", "segment", "complete", "plan")},
        "scenes": args.scenes,
        "perception_errors": errors,
        "image": f"{cam.width}x{cam.height}",
        "torch_threads": args.threads,
    }
