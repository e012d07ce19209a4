"""The README's main demo: a synthetic scene, a language goal, a refined trajectory executed in simulation.

Brings up the full manipulation graph for one hand (simulated camera, drivers and arm; shipped checkpoints),
sends the goal through the `manipulate` action with execution on, records the driver's joint states, and writes a
report (metrics.json, joints / latency / object-path plots, motion.gif, viewer.html, result.npz, tracking.png).
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState, PointCloud2

from unihm_common import conversions as conv
from unihm_common.base_node import SafeActionClient
from unihm_common.errors import UnihmError
from unihm_common.launch_graph import manipulation_graph
from unihm_common.ros_env import apply_local_ros_env, random_domain_id
from unihm_common.supervisor import Supervisor
from unihm_msgs.action import Manipulate
from unihm_msgs.msg import ManipulationRequest
from unihm_planner.manipulation.core import ManipulationConfig, execution_motion


def run_language_demo(hand: str, instruction: str, out: Path, scene_seed: int = 2, arm: str = "fr3",
                      timeout_s: float = 300.0, log=print) -> dict:
    """Run one goal end to end; returns the summary written to out/metrics.json."""
    from unihm_common.hands.registry import resolve_hand_name
    from unihm_common.report import ManipulationResult, save_result, write_report

    hand = resolve_hand_name(hand)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="unihm_demo_"))
    env = apply_local_ros_env(domain_id=random_domain_id(), log_dir=str(log_dir / "ros"))
    sup = Supervisor(manipulation_graph([hand], use_sim=True, arm=arm, camera={"scene_seed": scene_seed}), env,
                     log_dir, max_restarts=2, echo=None)
    runner = threading.Thread(target=sup.run, daemon=True)
    runner.start()
    log(f"[demo] graph: {len(sup.procs)} nodes (logs in {log_dir}); scene seed {scene_seed}")
    rclpy.init()
    node = rclpy.create_node("unihm_demo")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    states: list[tuple[float, dict[str, float]]] = []
    cloud: dict[str, np.ndarray] = {}
    node.create_subscription(JointState, f"/{hand}/joint_states",
                             lambda m: states.append((time.monotonic(), dict(zip(m.name, m.position)))), 50)
    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    node.create_subscription(PointCloud2, "/object_cloud",
                             lambda m: cloud.update(conv.arrays_from_pointcloud2(m)), latched)
    client = SafeActionClient(node, Manipulate, "/manipulate")
    try:
        t0 = time.monotonic()
        if not client.wait_for_server(timeout_sec=timeout_s):
            raise UnihmError(f"the manipulation node did not come up (logs: {log_dir})")
        log(f"[demo] graph up in {time.monotonic() - t0:.1f} s; goal: {instruction!r} for {hand}")
        goal = Manipulate.Goal(request=ManipulationRequest(instruction=instruction, hand=hand, execute=True,
                                                           refine=True))
        last = {"stage": ""}

        def on_fb(m):
            fb = m.feedback
            if fb.stage != last["stage"]:
                last["stage"] = fb.stage
                if fb.stage == "execute":
                    last["t_execute"] = time.monotonic()  # the trajectory goes to the drivers now
                log(f"[demo]   {fb.stage:<10} {100 * fb.progress:5.1f} %  {fb.detail}")

        send = client.send_goal_async(goal, feedback_callback=on_fb)
        res = _wait(send, timeout_s).get_result_async()
        result = _wait(res, timeout_s).result
        if not result.success:
            raise UnihmError(f"the goal failed: {result.message} (logs: {log_dir})")
        log(f"[demo] {result.message}")
        motion = conv.motion_from_hand_trajectory(result.trajectory)
        path_T, _ = conv.transforms_from_path(result.target_path)
        stage_ms = {t.stage: round(t.duration_ms, 1) for t in result.metrics.stage_timings}
        m = result.metrics
        metrics = {"success": True, "instruction": instruction, "message": result.message,
                   "contact_ratio": m.contact_ratio, "max_penetration_mm": m.max_penetration_mm,
                   "mean_jerk_rad_s3": m.mean_jerk_rad_s3, "total_ms": m.total_ms, "tokens": list(result.tokens.tokens),
                   "arm": arm or None, "scene_seed": scene_seed}
        executed = execution_motion(motion, ManipulationConfig())  # the timing the drivers were given
        metrics.update(_tracking_plot(states, executed, last.get("t_execute"), out / "tracking.png"))
        if arm:
            metrics.update(_arm_final_error(states, arm, hand, motion.T_world_wrist[-1]))
        r = ManipulationResult(hand=hand, q=motion.q, T_world_wrist=motion.T_world_wrist,
                               object_cloud=cloud.get("points"), target_path=path_T, metrics=metrics,
                               stage_ms=stage_ms, fps=float(1.0 / np.median(np.diff(motion.t_s))))
        save_result(out / "result.npz", r)
        files = write_report(out, r, title=f"UniHM demo: {instruction} ({hand})")
        log(f"[demo] report: {', '.join(sorted(p.name for p in files.values()))} in {out.resolve()}")
        return {"metrics": metrics, "stage_ms": stage_ms, "files": {k: str(p) for k, p in files.items()}}
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        sup.stop_requested.set()
        runner.join(timeout=30)


def _wait(future, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while not future.done():
        if time.monotonic() > deadline:
            raise UnihmError(f"no answer within {timeout_s:.0f} s")
        time.sleep(0.02)
    return future.result()


def _tracking_plot(states, executed, t_execute: float | None, path: Path) -> dict:
    """Commanded (the execution timing) vs measured hand joints, from when the execute stage began."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from unihm_common.hands import load_hand_spec

    names = [n for n in load_hand_spec(executed.hand).actuated_joint_names if n in executed.joint_names][:6]
    rows = [(t, s) for t, s in states if all(n in s for n in names)]
    if not rows or not names:
        return {"tracking_samples": 0}
    t = np.array([r[0] for r in rows])
    t = t - (t_execute if t_execute is not None else t[-1] - executed.t_s[-1])
    keep = t >= -0.5
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for i, n in enumerate(names):
        j = list(executed.joint_names).index(n)
        ax.plot(executed.t_s, executed.q[:, j], f"C{i}--", lw=1)
        ax.plot(t[keep], [r[1][n] for r, k in zip(rows, keep) if k], f"C{i}-", lw=1.5, label=n)
    ax.axvline(executed.t_s[0], color="0.6", lw=0.8)
    ax.set_xlabel("s (approach, then the trajectory slowed to the speed limits)")
    ax.set_ylabel("rad")
    ax.set_title("commanded (dashed) vs simulated hand joints")
    ax.legend(fontsize=6, ncol=3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    final = rows[-1][1]
    err = max(abs(final[n] - executed.q[-1, list(executed.joint_names).index(n)]) for n in names)
    return {"tracking_samples": len(rows), "final_tracking_error_rad": float(err)}


def _arm_final_error(states, arm: str, hand: str, T_world_wrist_goal: np.ndarray) -> dict:
    """Where the simulated arm put the wrist at the end (FK of its last joint_states) vs the trajectory's last
    wrist pose: position (mm) and rotation (deg) errors."""
    import yaml

    from unihm_common.hands import load_hand_spec
    from unihm_common.hands.arm import load_arm_spec
    from unihm_common.hands.ik import ArmIk, mount_transform
    from unihm_common.launch_graph import graph_params_files

    spec = load_arm_spec(arm)
    rows = [s for _, s in states if all(n in s for n in spec.joint_names)]
    if not rows:
        return {"arm_samples": 0}
    params: dict = {}
    for f in graph_params_files(hand):
        params.update((yaml.safe_load(f.read_text()) or {}).get("/**/arm_driver", {}).get("ros__parameters", {}))
    hand_spec = load_hand_spec(hand)
    T_world_base = mount_transform(params.get("base_xyz", (0, 0, 0)), params.get("base_rpy", (0, 0, 0)))
    q = np.array([rows[-1][n] for n in spec.joint_names])
    T = T_world_base @ ArmIk(spec).flange_pose(q) @ mount_transform(hand_spec.mount_xyz, hand_spec.mount_rpy)
    R_err = T[:3, :3].T @ T_world_wrist_goal[:3, :3]
    angle = np.degrees(np.arccos(np.clip((np.trace(R_err) - 1) / 2, -1, 1)))
    return {"arm_samples": len(rows), "arm_final_wrist_error_mm": round(1e3 * float(np.linalg.norm(
        T[:3, 3] - T_world_wrist_goal[:3, 3])), 2), "arm_final_wrist_error_deg": round(float(angle), 2)}


def _rss_mb(pid: int | None) -> float:
    if not pid:
        return 0.0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_e2e_bench(hand: str = "inspire", goals: int = 5, scene_seed: int = 2, arm: str = "fr3",
                  instruction: str = "put the yellow foam brick on the plate", timeout_s: float = 300.0) -> dict:
    """Goal -> executed trajectory through the full graph: per-stage latency (median over `goals`, after one
    warm-up goal), total, success rate and the graph's peak RSS (sum over its processes, sampled every 0.2 s)."""
    from unihm_common.hands.registry import resolve_hand_name

    hand = resolve_hand_name(hand)
    log_dir = Path(tempfile.mkdtemp(prefix="unihm_bench_e2e_"))
    env = apply_local_ros_env(domain_id=random_domain_id(), log_dir=str(log_dir / "ros"))
    sup = Supervisor(manipulation_graph([hand], use_sim=True, arm=arm, camera={"scene_seed": scene_seed}), env,
                     log_dir, max_restarts=0, echo=None)
    runner = threading.Thread(target=sup.run, daemon=True)
    runner.start()
    peak = {"rss": 0.0}
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], sum(_rss_mb(sup.pid(n)) for n in sup.procs))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rclpy.init()
    node = rclpy.create_node("unihm_bench_e2e")
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    client = SafeActionClient(node, Manipulate, "/manipulate")
    runs, ok = [], 0
    try:
        if not client.wait_for_server(timeout_sec=timeout_s):
            raise UnihmError(f"the manipulation node did not come up (logs: {log_dir})")
        for i in range(goals + 1):
            goal = Manipulate.Goal(request=ManipulationRequest(instruction=instruction, hand=hand, execute=True,
                                                               refine=True))
            t0 = time.perf_counter()
            res = _wait(_wait(client.send_goal_async(goal), timeout_s).get_result_async(), timeout_s).result
            wall = (time.perf_counter() - t0) * 1e3
            if i == 0:
                continue  # warm-up: first-call costs (lazy imports, caches)
            ok += int(res.success)
            if res.success:
                row = {t.stage: t.duration_ms for t in res.metrics.stage_timings}
                row["total_ms"] = wall
                runs.append(row)
    finally:
        stop.set()
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        sup.stop_requested.set()
        runner.join(timeout=30)
    keys = ("home", "perception", "plan", "policy", "refine", "execute", "total_ms")
    out = {k: round(float(np.median([r.get(k, 0.0 if k == "home" else np.nan) for r in runs])), 1) if runs else None
           for k in keys}
    out.update({"success": ok / goals if goals else 0.0, "goals": goals, "hand": hand, "arm": arm or None,
                "peak_rss_mb": round(peak["rss"], 1), "processes": len(sup.procs),
                "timing": "median over goals after one warm-up; home = the arm's move home before the goal (0 without "
                          "an arm); execute includes the trajectory's own duration"})
    return out
