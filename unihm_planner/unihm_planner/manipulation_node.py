"""manipulation_node: the `Manipulate` action, the single entry point of the manipulation graph.

action `manipulate` (unihm_msgs/action/Manipulate): request -> perception (srv `segment_object`) -> plan (srv
    `plan_target`) -> policy (action `generate_motion`) -> refine (pub `<hand>/hand_trajectory_generated`, sub
    `<hand>/hand_trajectory_refined`) -> execute (pub `<hand>/hand_trajectory`, retimed to the speed limits
    after an approach; sub `<hand>/joint_states`, `<hand>/{hand,arm}_driver/status` for rejections). The
    policy goal carries the hand's joints and, when an arm carries the hand, its wrist pose
    (`<hand>/arm_driver/wrist_pose`, used when younger than WRIST_FRESH_S): the policy starts from there.
    A goal to execute on an arm first sends the arm home (srv `<hand>/arm_driver/go_home`, `home_before_execute`),
    so every goal plans from the same known start and the arm does not stand in the camera's view.
    Feedback per stage; cancel at any stage (cancels the policy goal too); every stage has a time limit, and a
    failing stage aborts the goal with the stage's name and reason.
sub `manipulation_request` (unihm_msgs/ManipulationRequest): the same pipeline for tools that can only publish
    (an RViz panel, `ros2 topic pub`); results are logged.
Parameters: hands (the hands this graph drives; [] = any registered hand), plus ManipulationConfig's fields.
Requests are stamped once and the stamp travels through every stage (docs/architecture.md).
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from geometry_msgs.msg import Pose, PoseStamped
from rclpy.action import ActionServer, CancelResponse, GoalResponse
from rclpy.task import Future
from sensor_msgs.msg import JointState
from std_srvs.srv import Trigger

from unihm_common import conversions as conv
from unihm_common.base_node import SafeActionClient, config_from_parameters, make_node, run_node
from unihm_common.errors import UnihmError
from unihm_msgs.action import GenerateMotion, Manipulate
from unihm_msgs.msg import DriverStatus, HandTrajectory, ManipulationMetrics, ManipulationRequest, StageTiming
from unihm_msgs.srv import PlanTarget, SegmentObject
from unihm_planner.manipulation.core import (
    ManipulationConfig,
    execution_motion,
    progress,
    trajectory_metrics,
    validate_request,
)


class StageFailed(Exception):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason = stage, reason


class Rejected(Exception):
    """A driver refused the trajectory; `slowdown` > 1: it would accept it that many times slower."""

    def __init__(self, driver: str, reason: str, slowdown: float) -> None:
        super().__init__(reason)
        self.driver, self.reason, self.slowdown = driver, reason, slowdown


class Cancelled(Exception):
    pass


MAX_SLOWDOWN_RETRIES = 3  # times a trajectory is resent slower when a driver says how much slower it would take it
WRIST_FRESH_S = 2.0  # an arm's wrist pose older than this is not used as the policy's start (sent at 2 Hz)
DRIVERS = ("hand_driver", "arm_driver")  # driver node names in a hand's namespace (unihm_common.launch_graph)
SETTLED_RAD, SETTLE_S = 1e-4, 0.3  # executed = every joint (hand and arm) moved < SETTLED_RAD for SETTLE_S


@dataclass(frozen=True)
class ManipulationNodeConfig(ManipulationConfig):
    hands: list[str] = field(default_factory=list)  # hands this graph drives; [] = any registered hand


class ManipulationNode:
    def __init__(self) -> None:
        from unihm_common.hands.registry import resolve_hand_name

        self.node = n = make_node("manipulation")
        self.cfg = config_from_parameters(n, ManipulationNodeConfig)
        self.hands = [resolve_hand_name(h) for h in self.cfg.hands] or None
        self.log = n.get_logger()
        self.segment = n.create_client(SegmentObject, "segment_object")
        self.plan = n.create_client(PlanTarget, "plan_target")
        self.policy = SafeActionClient(n, GenerateMotion, "generate_motion")
        self.per_hand: dict[str, dict] = {}
        self.refined: dict[tuple[str, int, int], HandTrajectory] = {}
        self.joint_pos: dict[str, dict[str, float]] = {}  # hand -> joint -> latest position (hand and arm drivers)
        self._sleepers: list[tuple[float, Future]] = []
        self.driver_status: dict[tuple[str, str], DriverStatus] = {}  # (hand, driver node) -> latest status
        self.last_motion: dict[str, float] = {}  # hand -> when any of its joints (hand or arm) last moved
        self.wrist_pose: dict[str, tuple[float, Pose]] = {}  # hand -> (monotonic receipt, world pose from the arm)
        self.home_clients: dict[str, object] = {}  # hand -> `<hand>/arm_driver/go_home` client
        n.create_timer(0.01, self._wake_sleepers)
        self.server = ActionServer(n, Manipulate, "manipulate", execute_callback=self.execute,
                                   goal_callback=self.on_goal, cancel_callback=lambda _g: CancelResponse.ACCEPT)
        n.create_subscription(ManipulationRequest, "manipulation_request", self.on_request_topic, 10)
        for h in self.hands or []:
            self._hand_io(h)
        self.log.info(f"ready: hands {', '.join(self.hands) if self.hands else '(any)'}")

    # ------------------------------------------------------------------ plumbing
    def _hand_io(self, hand: str) -> dict:
        if hand not in self.per_hand:
            n = self.node
            io = {"generated": n.create_publisher(HandTrajectory, f"{hand}/hand_trajectory_generated", 10),
                  "execute": n.create_publisher(HandTrajectory, f"{hand}/hand_trajectory", 10)}
            n.create_subscription(HandTrajectory, f"{hand}/hand_trajectory_refined", self._on_refined(hand), 10)
            n.create_subscription(JointState, f"{hand}/joint_states", self._on_joints(hand), 10)
            for driver in DRIVERS:
                n.create_subscription(DriverStatus, f"{hand}/{driver}/status", self._on_status(hand, driver), 10)
            n.create_subscription(PoseStamped, f"{hand}/arm_driver/wrist_pose", self._on_wrist(hand), 10)
            self.per_hand[hand] = io
        return self.per_hand[hand]

    def _on_wrist(self, hand: str):
        def cb(msg: PoseStamped) -> None:
            self.wrist_pose[hand] = (time.monotonic(), msg.pose)

        return cb

    def _on_refined(self, hand: str):
        def cb(msg: HandTrajectory) -> None:
            self.refined[(hand, msg.header.stamp.sec, msg.header.stamp.nanosec)] = msg
            while len(self.refined) > 16:
                self.refined.pop(next(iter(self.refined)))
        return cb

    def _on_status(self, hand: str, driver: str):
        def cb(msg: DriverStatus) -> None:
            self.driver_status[(hand, driver)] = msg
        return cb

    def _rejections(self, hand: str) -> dict[str, int]:
        return {d: int(st.commands_rejected) for (h, d), st in self.driver_status.items() if h == hand}

    def _on_joints(self, hand: str):
        def cb(msg: JointState) -> None:
            have = self.joint_pos.setdefault(hand, {})
            if any(abs(have.get(n, np.inf) - q) > SETTLED_RAD for n, q in zip(msg.name, msg.position)):
                self.last_motion[hand] = time.monotonic()
            have.update(zip(msg.name, msg.position))
        return cb

    def _sleep(self, dt: float) -> Future:
        """A future done after `dt` seconds, woken by the node's one persistent ticker (creating and destroying
        a timer per sleep races with the executor's wait set over thousands of goals)."""
        fut = Future()
        self._sleepers.append((time.monotonic() + dt, fut))
        return fut

    def _wake_sleepers(self) -> None:
        if not self._sleepers:
            return
        now = time.monotonic()
        due = [f for t, f in self._sleepers if t <= now]
        self._sleepers = [(t, f) for t, f in self._sleepers if t > now]
        for f in due:
            if not f.done():
                f.set_result(None)

    async def _wait(self, predicate, stage: str, timeout_s: float, is_cancelled) -> None:
        t0 = time.monotonic()
        while not predicate():
            if is_cancelled():
                raise Cancelled()
            if time.monotonic() - t0 > timeout_s:
                raise StageFailed(stage, f"no answer within {timeout_s:.0f} s (is the {stage} node running?)")
            await self._sleep(0.02)

    # ------------------------------------------------------------------ action
    def on_goal(self, goal) -> GoalResponse:
        """Accept every goal: an invalid one is aborted at once with the reason in the result message (a bare
        REJECT would leave the client without the reason)."""
        return GoalResponse.ACCEPT

    async def execute(self, goal_handle) -> Manipulate.Result:
        result = Manipulate.Result()
        r = goal_handle.request.request
        try:
            req = validate_request(r.instruction, r.hand, r.num_frames, r.frame_rate_hz, r.execute, r.refine,
                                   r.seed, self.cfg, self.hands)
        except UnihmError as exc:
            result.message = f"invalid request: {exc}"
            goal_handle.abort()
            return result

        def feedback(stage: str, frac: float, detail: str = "") -> None:
            goal_handle.publish_feedback(Manipulate.Feedback(
                stage=stage, progress=progress(stage, frac, req.execute, req.refine), detail=detail))

        try:
            result = await self.run(req, feedback, lambda: goal_handle.is_cancel_requested)
            goal_handle.succeed()
        except Cancelled:
            result.message = "cancelled"
            goal_handle.canceled()
        except StageFailed as exc:
            result.message = str(exc)
            self.log.error(f"goal failed at {exc}")
            goal_handle.abort()
        except UnihmError as exc:  # e.g. a malformed stage output
            result.message = f"error: {exc}"
            self.log.error(result.message)
            goal_handle.abort()
        except Exception as exc:  # a bug must not leave the client waiting forever
            result.message = f"internal error: {type(exc).__name__}: {exc}"
            self.log.error(f"{result.message}\n{traceback.format_exc()}")
            goal_handle.abort()
        return result

    def on_request_topic(self, msg: ManipulationRequest) -> None:
        try:
            req = validate_request(msg.instruction, msg.hand, msg.num_frames, msg.frame_rate_hz, msg.execute,
                                   msg.refine, msg.seed, self.cfg, self.hands)
        except UnihmError as exc:
            self.log.error(f"manipulation_request rejected: {exc}")
            return

        async def job():
            try:
                res = await self.run(req, lambda s, f, d="": None, lambda: False)
                self.log.info(f"manipulation_request done: {res.message}")
            except (StageFailed, Cancelled, UnihmError) as exc:
                self.log.error(f"manipulation_request failed: {exc}")
            except Exception:  # keep the node serving
                self.log.error(f"manipulation_request crashed:\n{traceback.format_exc()}")

        self.node.executor.create_task(job)

    async def run(self, req, feedback, is_cancelled) -> Manipulate.Result:
        """The stage sequence; raises StageFailed / Cancelled."""
        cfg, timings = self.cfg, {}
        t_start = time.perf_counter()
        stamp = self.node.get_clock().now().to_msg()
        io = self._hand_io(req.hand)

        # -- an arm first goes home, so the policy starts from a pose it knows (and the camera sees the table)
        if req.execute and cfg.home_before_execute and req.hand in self.wrist_pose:
            t0 = time.perf_counter()
            await self._go_home(req.hand, feedback, is_cancelled)
            timings["home"] = (time.perf_counter() - t0) * 1e3

        # -- perception
        feedback("perception", 0.0, "segmenting the instructed object")
        t0 = time.perf_counter()
        seg = await self._call(self.segment, SegmentObject.Request(
            header=conv.make_header(cfg.world_frame), instruction=req.instruction, complete=cfg.complete_shape),
            "perception", stamp, is_cancelled)
        cloud_msg = seg.object_cloud
        cloud = conv.arrays_from_pointcloud2(cloud_msg)["points"]
        timings["perception"] = (time.perf_counter() - t0) * 1e3
        feedback("perception", 1.0, f"{seg.object_name}: {len(cloud)} points")

        # -- plan
        t0 = time.perf_counter()
        plan = await self._call(self.plan, PlanTarget.Request(
            header=conv.make_header(cfg.world_frame), instruction=req.instruction, object_cloud=cloud_msg,
            num_frames=req.num_frames, frame_rate_hz=req.frame_rate_hz), "plan", stamp, is_cancelled)
        path = plan.target_path
        path.header.stamp = stamp
        timings["plan"] = (time.perf_counter() - t0) * 1e3
        feedback("plan", 1.0, f"{len(path.poses)} poses")

        # -- policy
        t0 = time.perf_counter()
        gen = await self._generate(req, cloud_msg, path, feedback, is_cancelled)
        traj = gen.trajectory
        traj.header.stamp = stamp
        timings["policy"] = (time.perf_counter() - t0) * 1e3

        # -- refine
        if req.refine:
            t0 = time.perf_counter()
            feedback("refine", 0.0, "physics-guided refinement")
            key = (req.hand, stamp.sec, stamp.nanosec)
            io["generated"].publish(traj)
            await self._wait(lambda: key in self.refined, "refine", cfg.refine_timeout_s, is_cancelled)
            traj = self.refined.pop(key)
            timings["refine"] = (time.perf_counter() - t0) * 1e3
            feedback("refine", 1.0)

        motion = conv.motion_from_hand_trajectory(traj)
        T_obj, _ = conv.transforms_from_path(path)
        n = len(motion.q)
        wrist = motion.T_world_wrist if motion.T_world_wrist is not None else np.tile(np.eye(4), (n, 1, 1))
        metrics = trajectory_metrics(req.hand, motion.q, wrist, motion.t_s, cloud, _resample(T_obj, n))

        # -- execute
        if req.execute:
            t0 = time.perf_counter()
            feedback("execute", 0.0, "sending the trajectory to the driver")
            metrics["tracking_error_rad"] = await self._execute(req.hand, io, traj, motion, feedback, is_cancelled)
            timings["execute"] = (time.perf_counter() - t0) * 1e3

        total = (time.perf_counter() - t_start) * 1e3
        result = Manipulate.Result(success=True, trajectory=traj, tokens=gen.tokens, target_path=path)
        result.message = (f"{req.hand}: {n} frames, contact in {100 * metrics['contact_ratio']:.0f} % of frames, "
                          f"max penetration {metrics['max_penetration_mm']:.1f} mm, {total:.0f} ms")
        result.metrics = ManipulationMetrics(
            contact_ratio=metrics["contact_ratio"], max_penetration_mm=metrics["max_penetration_mm"],
            mean_jerk_rad_s3=metrics["mean_jerk_rad_s3"], total_ms=total,
            stage_timings=[StageTiming(stage=s, duration_ms=float(v)) for s, v in timings.items()])
        return result

    async def _go_home(self, hand: str, feedback, is_cancelled) -> None:
        """Call the arm driver's go_home, wait until every joint has settled and a wrist pose from there arrived."""
        if hand not in self.home_clients:
            self.home_clients[hand] = self.node.create_client(Trigger, f"{hand}/arm_driver/go_home")
        cli = self.home_clients[hand]
        await self._wait(cli.service_is_ready, "execute", 5.0, is_cancelled)
        fut = cli.call_async(Trigger.Request())
        await self._wait(fut.done, "execute", 5.0, is_cancelled)
        res = fut.result()
        if res is None or not res.success:
            raise StageFailed("execute", f"the arm did not go home: {res.message if res else 'no answer'}")
        feedback("perception", 0.0, f"arm: {res.message}")
        try:
            duration = float(res.message.rsplit(" in ", 1)[1].split()[0])
        except (IndexError, ValueError):
            duration = 0.0
        t0 = time.monotonic()

        def settled() -> bool:
            now = time.monotonic()
            return now - t0 >= duration and now - self.last_motion.get(hand, 0.0) >= SETTLE_S

        await self._wait(settled, "execute", duration + self.cfg.home_timeout_s, is_cancelled)
        since = time.monotonic()
        await self._wait(lambda: self.wrist_pose.get(hand, (0.0, None))[0] > since, "execute", WRIST_FRESH_S + 1.0,
                         is_cancelled)

    async def _call(self, client, request, stage: str, stamp, is_cancelled):
        """Call a stage service; a stage still waiting for its first camera frame is asked again until the
        stage's time limit (a graph that has just started)."""
        request.header.stamp = stamp
        limit = self.cfg.timeout(stage)
        t0 = time.monotonic()
        await self._wait(client.service_is_ready, stage, limit, is_cancelled)
        while True:
            fut = client.call_async(request)
            await self._wait(fut.done, stage, limit, is_cancelled)
            res = fut.result()
            if res is not None and res.success:
                return res
            why = res.message if res is not None else "no response"
            if "no camera frame yet" not in why or time.monotonic() - t0 > limit:
                raise StageFailed(stage, why)
            await self._sleep(0.2)

    async def _generate(self, req, cloud_msg, path, feedback, is_cancelled):
        limit = self.cfg.timeout("policy")
        await self._wait(self.policy.server_is_ready, "policy", limit, is_cancelled)
        goal = GenerateMotion.Goal(instruction=req.instruction, hand=req.hand, object_cloud=cloud_msg,
                                   target_path=path, seed=req.seed)
        joints = self.joint_pos.get(req.hand)
        if joints:
            goal.initial_positions = _hand_positions(req.hand, joints)
        seen, pose = self.wrist_pose.get(req.hand, (-1e9, None))
        if pose is not None and time.monotonic() - seen < WRIST_FRESH_S:  # the arm says where the hand starts
            goal.initial_wrist, goal.initial_wrist_known = pose, True

        def on_fb(msg):
            fb = msg.feedback
            feedback("policy", fb.tokens_generated / max(1, fb.tokens_total),
                     f"token {fb.tokens_generated}/{fb.tokens_total}")

        send = self.policy.send_goal_async(goal, feedback_callback=on_fb)
        await self._wait(send.done, "policy", limit, is_cancelled)
        handle = send.result()
        if handle is None or not handle.accepted:
            raise StageFailed("policy", "the policy node rejected the goal")
        res_fut = handle.get_result_async()
        try:
            await self._wait(res_fut.done, "policy", limit, is_cancelled)
        except (Cancelled, StageFailed):
            handle.cancel_goal_async()
            raise
        res = res_fut.result().result
        if not res.success:
            raise StageFailed("policy", res.message)
        return res

    async def _execute(self, hand, io, traj, motion, feedback, is_cancelled) -> float:
        """Send the refined trajectory, slowed to the speed limits and after an approach, to the hand's drivers
        (hand, and arm if any); wait until it has played, the hand holds its last point and every joint has
        settled. A driver that rejects it fails the stage with the driver's reason, unless it says how much
        slower it would accept it (the arm's joint speeds): then the whole timing is stretched and resent."""
        if io["execute"].get_subscription_count() == 0:
            raise StageFailed("execute", f"no driver listens on {hand}/hand_trajectory")
        try:
            timed = execution_motion(motion, self.cfg)
        except UnihmError as exc:
            raise StageFailed("execute", str(exc)) from None
        for attempt in range(MAX_SLOWDOWN_RETRIES + 1):
            try:
                return await self._play(hand, io, traj, motion, timed, feedback, is_cancelled)
            except Rejected as exc:
                if not exc.slowdown > 1.0 or attempt == MAX_SLOWDOWN_RETRIES:
                    raise StageFailed("execute", exc.reason) from None
                factor = 1.1 * exc.slowdown
                timed = dataclasses.replace(timed, t_s=timed.t_s * factor)  # the approach too
                self.log.warning(f"{exc.reason}; resending {factor:.2f}x slower")
                feedback("execute", 0.0, f"{exc.driver} needs {exc.slowdown:.2f}x slower: resending")
        raise AssertionError("unreachable")

    async def _play(self, hand, io, traj, motion, timed, feedback, is_cancelled) -> float:
        msg = conv.hand_trajectory_from_motion(timed, traj.header.frame_id or self.cfg.world_frame,
                                               keep_time_offset=True)
        msg.header.stamp = self.node.get_clock().now().to_msg()  # the drivers start (approach) now
        rejected_before = self._rejections(hand)
        io["execute"].publish(msg)
        duration = float(timed.t_s[-1])
        t0 = time.monotonic()
        from unihm_common.hands import load_hand_spec

        actuated = set(load_hand_spec(hand).actuated_joint_names)  # coupled joints follow their drivers
        final = {nm: q for nm, q in zip(motion.joint_names, motion.q[-1]) if nm in actuated}

        def tracking_error() -> float | None:
            have = self.joint_pos.get(hand, {})
            errs = [abs(have[nm] - q) for nm, q in final.items() if nm in have]
            return max(errs) if errs else None

        def check_rejections() -> None:
            for driver, count in self._rejections(hand).items():
                if count > rejected_before.get(driver, 0):
                    st = self.driver_status[(hand, driver)]
                    raise Rejected(driver, f"{hand}/{driver} rejected the trajectory: "
                                           f"{st.last_rejection or 'see its log'}", float(st.last_rejection_slowdown))

        def done() -> bool:
            elapsed = time.monotonic() - t0
            check_rejections()
            feedback("execute", min(1.0, elapsed / max(duration, 1e-3)), f"{elapsed:.1f}/{duration:.1f} s")
            err = tracking_error()
            settled = time.monotonic() - self.last_motion.get(hand, 0.0) >= SETTLE_S  # the arm lags the hand
            return elapsed >= duration and err is not None and err <= self.cfg.execute_tolerance_rad and settled

        try:
            await self._wait(done, "execute", duration + self.cfg.execute_timeout_s, is_cancelled)
            check_rejections()
        except StageFailed:
            err = tracking_error()
            why = "no joint_states from the driver" if err is None else \
                f"final tracking error {err:.3f} rad > {self.cfg.execute_tolerance_rad} rad"
            raise StageFailed("execute", f"{why} {duration + self.cfg.execute_timeout_s:.0f} s after sending") from None
        return float(tracking_error() or 0.0)


def _hand_positions(hand: str, have: dict[str, float]) -> list[float]:
    from unihm_common.hands import load_hand_spec

    names = load_hand_spec(hand).joint_names
    return [float(have[nm]) for nm in names] if all(nm in have for nm in names) else []


def _resample(T: np.ndarray, n: int) -> np.ndarray:
    if len(T) == n:
        return T
    idx = np.round(np.linspace(0, len(T) - 1, n)).astype(int)
    return T[idx]


def build():
    holder = ManipulationNode()
    return holder.node


def main(args: list[str] | None = None) -> int:
    return run_node(build, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
