"""`unihm goal "put the mug in the box" --hand inspire [--execute]`: a Manipulate action client.

Prints live progress per stage (stderr), the result summary (stdout; `--json`: one JSON object), and exits with 0
(success), 1 (the goal failed or was rejected), 2 (bad arguments), 3 (no manipulation node answered), 130 (Ctrl-C:
the goal is cancelled first).
"""

from __future__ import annotations

import json
import sys
import time

import rclpy

from unihm_common.base_node import SafeActionClient
from unihm_msgs.action import Manipulate
from unihm_msgs.msg import ManipulationRequest


def _progress_line(fb) -> str:
    width = 24
    filled = int(round(width * max(0.0, min(1.0, fb.progress))))
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * fb.progress:5.1f} %  {fb.stage:<10} {fb.detail[:50]:<50}"


def result_summary(res, wall_s: float) -> dict:
    """The JSON form of a Manipulate result."""
    m = res.metrics
    return {"success": bool(res.success), "message": res.message, "hand": res.trajectory.hand,
            "frames": len(res.trajectory.points), "tokens": len(res.tokens.tokens),
            "path_poses": len(res.target_path.poses),
            "metrics": {"contact_ratio": m.contact_ratio, "max_penetration_mm": m.max_penetration_mm,
                        "mean_jerk_rad_s3": m.mean_jerk_rad_s3, "total_ms": m.total_ms},
            "stage_ms": {t.stage: round(t.duration_ms, 1) for t in m.stage_timings}, "wall_s": round(wall_s, 2)}


def run_goal(args) -> int:
    from unihm_common.ros_env import apply_local_ros_env

    apply_local_ros_env()
    rclpy.init()
    node = rclpy.create_node("unihm_goal")
    ns = args.namespace.strip("/")
    client = SafeActionClient(node, Manipulate, (f"/{ns}/" if ns else "/") + "manipulate")
    code = 1
    handle = None
    t0 = time.monotonic()
    try:
        if not client.wait_for_server(timeout_sec=args.wait):
            print(f"error: no manipulation node answers on {client._action_name} within {args.wait:.0f} s "
                  "(start one: unihm bringup --hand NAME --full)", file=sys.stderr)
            return 3
        req = ManipulationRequest(instruction=args.instruction, hand=args.hand, execute=args.execute,
                                  refine=not args.no_refine, num_frames=args.frames, seed=args.seed)
        show = not args.json and sys.stderr.isatty()
        send = client.send_goal_async(Manipulate.Goal(request=req),
                                      feedback_callback=lambda m: print(_progress_line(m.feedback), end="",
                                                                        file=sys.stderr, flush=True) if show else None)
        rclpy.spin_until_future_complete(node, send, timeout_sec=args.timeout)
        handle = send.result()
        if handle is None or not handle.accepted:
            print("error: the goal was rejected (invalid instruction or hand; see the manipulation node's log)",
                  file=sys.stderr)
            return 1
        res_fut = handle.get_result_async()
        rclpy.spin_until_future_complete(node, res_fut, timeout_sec=args.timeout)
        if not res_fut.done():
            print(f"\nerror: no result within {args.timeout:.0f} s; cancelling", file=sys.stderr)
            cancel = handle.cancel_goal_async()
            rclpy.spin_until_future_complete(node, cancel, timeout_sec=5)
            return 1
        res = res_fut.result().result
        if show:
            print(file=sys.stderr)
        summary = result_summary(res, time.monotonic() - t0)
        print(json.dumps(summary) if args.json else ("OK " if res.success else "FAILED ") + res.message)
        code = 0 if res.success else 1
    except KeyboardInterrupt:
        if handle is not None:
            print("\ncancelling the goal ...", file=sys.stderr)
            cancel = handle.cancel_goal_async()
            rclpy.spin_until_future_complete(node, cancel, timeout_sec=5)
        code = 130
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
    return code
