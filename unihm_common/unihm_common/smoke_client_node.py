"""A smoke goal for a hand's graph: bring it up, send a joint trajectory, check it was tracked.

Used by `unihm demo` and the end-to-end tests. The graph runs in separate processes (supervised);
this process is the client: it publishes `joint_trajectory` and records `joint_states`.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from trajectory_msgs.msg import JointTrajectory

from unihm_common import conversions as conv
from unihm_common.errors import UnihmError
from unihm_common.hands import load_hand_spec
from unihm_common.launch_graph import hand_graph
from unihm_common.ros_env import apply_local_ros_env, random_domain_id
from unihm_common.supervisor import Supervisor
from unihm_common.trajectory import HandMotion


def open_close_open(spec, duration_s: float, q_start: np.ndarray | None = None, n: int = 31) -> HandMotion:
    """Actuated joints: from `q_start` (default 10 %) to 10 % -> 70 % -> 10 % of their range, smoothly.

    The first quarter of the time moves from the measured pose to the 10 % pose (cosine blend).
    """
    lower = spec.full_to_actuated(spec.lower_rad)
    upper = spec.full_to_actuated(spec.upper_rad)
    t = np.linspace(0.0, duration_s, n)
    s = 0.1 + 0.6 * 0.5 * (1 - np.cos(2 * np.pi * t / duration_s))  # (n,) fraction of range
    q = lower + s[:, None] * (upper - lower)  # (n, A)
    if q_start is not None:
        blend = np.clip(t / (0.25 * duration_s), 0.0, 1.0)
        w = (0.5 * (1 - np.cos(np.pi * blend)))[:, None]  # 0 -> 1
        q = (1 - w) * q_start + w * q
    return HandMotion(spec.name, spec.actuated_joint_names, t, q)


class _Recorder:
    def __init__(self) -> None:
        self.t: list[float] = []
        self.q: list[np.ndarray] = []
        self.names: list[str] | None = None
        self.lock = threading.Lock()

    def __call__(self, msg: JointState) -> None:
        with self.lock:
            self.names = list(msg.name)
            self.t.append(time.monotonic())
            self.q.append(np.asarray(msg.position, dtype=np.float64).copy())


def run_smoke_goal(hand: str, out_dir: Path, duration_s: float = 3.0, timeout_s: float = 60.0) -> dict:
    """Run the smoke goal; returns {'metrics': {...}, 'files': [...]} and writes them to `out_dir`."""
    spec = load_hand_spec(hand)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log_dir = Path(tempfile.mkdtemp(prefix="unihm_demo_"))
    env = apply_local_ros_env(domain_id=random_domain_id(), log_dir=str(log_dir / "ros"))
    t_start = time.monotonic()
    sup = Supervisor(hand_graph(spec.name, use_sim=True), env, log_dir, echo=None)
    sup.start()
    stop_polling = threading.Event()

    def supervise() -> None:
        while not stop_polling.is_set():
            sup.poll()
            time.sleep(0.05)

    threading.Thread(target=supervise, daemon=True).start()
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node("unihm_demo_client", context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    spin = threading.Thread(target=executor.spin, daemon=True)
    spin.start()
    rec = _Recorder()
    qos = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE)
    node.create_subscription(JointState, "joint_states", rec, qos)
    pub = node.create_publisher(JointTrajectory, "joint_trajectory", qos)
    try:
        deadline = time.monotonic() + timeout_s
        while not (rec.t and pub.get_subscription_count() > 0):
            if time.monotonic() > deadline or sup.failed:
                raise UnihmError(f"the graph did not come up in {timeout_s:.0f} s ({sup.failed or 'no joint_states'});"
                                 f" logs in {log_dir}")
            time.sleep(0.05)
        t_ready = time.monotonic()
        with rec.lock:
            names, latest = rec.names, rec.q[-1]
        q_start = latest[[names.index(j) for j in spec.actuated_joint_names]]
        motion = open_close_open(spec, duration_s, q_start)
        t_send = time.monotonic()
        pub.publish(conv.joint_trajectory_from_motion(motion))
        time.sleep(duration_s + 1.0)
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)
        stop_polling.set()
        sup.stop()
    return _report(spec, motion, rec, t_send, t_ready - t_start, out_dir, sup)


def _report(spec, motion: HandMotion, rec: _Recorder, t_send: float, bringup_s: float, out_dir: Path, sup) -> dict:
    names = rec.names or []
    idx = [names.index(j) for j in motion.joint_names]
    t = np.asarray(rec.t) - t_send  # (S,) s since the goal was sent
    q = np.stack(rec.q)[:, idx]  # (S, A)
    cmd = np.stack([np.interp(t, motion.t_s, motion.q[:, j]) for j in range(q.shape[1])], 1)  # (S, A)
    during = (t >= 0) & (t <= motion.duration_s + 1.0)
    final = t >= motion.duration_s + 0.5
    err = np.abs(q - cmd)
    span = spec.full_to_actuated(spec.upper_rad) - spec.full_to_actuated(spec.lower_rad)
    metrics = {
        "hand": spec.name,
        "bringup_s": round(bringup_s, 2),
        "states_received": int(len(t)),
        "tracking_rms_rad": float(np.sqrt(np.mean(err[during] ** 2))) if during.any() else None,
        "final_error_rad": float(err[final].max()) if final.any() else None,
        "max_range_fraction_reached": float(np.max((q[during] - spec.full_to_actuated(spec.lower_rad)) / span))
        if during.any() else None,
        "restarts": int(sum(mp.restarts for mp in sup.procs.values())),
    }
    metrics["success"] = bool(
        metrics["final_error_rad"] is not None and metrics["final_error_rad"] < 0.02
        and metrics["max_range_fraction_reached"] > 0.6 and not sup.failed
    )
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    _plot(t, q, cmd, motion.joint_names, out_dir / "tracking.png", spec.name)
    return {"metrics": metrics, "files": [str(out_dir / "metrics.json"), str(out_dir / "tracking.png")]}


def _plot(t, q, cmd, names, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for j, name in enumerate(names):
        line, = ax.plot(t, q[:, j], label=name)
        ax.plot(t, cmd[:, j], "--", color=line.get_color(), alpha=0.6)
    ax.set_xlabel("time since goal [s]")
    ax.set_ylabel("joint position [rad]")
    ax.set_title(f"{title}: measured (solid) vs commanded (dashed)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
