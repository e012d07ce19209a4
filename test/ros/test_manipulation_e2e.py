"""The whole manipulation graph across processes (real DDS), started by the supervisor as `unihm bringup --full`.

One graph drives three hands, each on a simulated FR3 arm; goals go through the `manipulate` action: 3 hands x 3
instructions reach a result, one is executed on the simulated hand and arm, invalid goals fail with a clear
message, a node killed mid-goal makes the goal fail cleanly and is restarted, and 50 goals in a row keep the
graph's memory flat.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from unihm_common.base_node import SafeActionClient
from unihm_msgs.action import Manipulate
from unihm_msgs.msg import ManipulationRequest

HANDS = ("inspire_right", "shadow_right", "xhand_right")
SCENE_SEED = 2  # plate, blue master chef can, yellow foam brick, brown pudding box, black marker
INSTRUCTIONS = ("put the yellow foam brick on the plate", "move the blue can to the left of the pudding box",
                "put the black marker on the plate")


_DIAG: dict = {}  # the running graph, for failure messages


def _diagnosis() -> str:
    """Supervisor events and the manipulation node's log tail: what a CI failure needs to be understood."""
    sup, log_dir = _DIAG.get("graph"), _DIAG.get("log_dir")
    if sup is None:
        return ""
    events = "\n".join(f"  {e}" for e in list(sup.events)[-12:])
    log = log_dir / "manipulation.log"
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:]) if log.is_file() else "(no log)"
    return f"\nsupervisor events:\n{events}\nmanipulation log tail:\n{tail}"


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from unihm_common.hands.registry import available_hands
    from unihm_common.launch_graph import manipulation_graph
    from unihm_common.ros_env import local_ros_env
    from unihm_common.supervisor import Supervisor
    from unihm_planner.policy.runner import default_policy_dir

    if not (default_policy_dir() / "config.json").is_file():
        pytest.skip("no shipped policy checkpoint")
    if not set(HANDS) <= set(available_hands()):
        pytest.skip("hand library not present")
    log_dir = tmp_path_factory.mktemp("e2e")
    specs = manipulation_graph(list(HANDS), use_sim=True, arm="fr3", camera={"scene_seed": SCENE_SEED})
    # quick failure on a dead stage: the test kills the policy node mid-goal
    specs = [s if s.name != "manipulation" else dataclasses.replace(s, parameters={
        **s.parameters, "policy_timeout_s": 15.0}) for s in specs]
    sup = Supervisor(specs, local_ros_env(log_dir=str(log_dir / "ros")), log_dir, max_restarts=3, echo=None)
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    _DIAG["graph"], _DIAG["log_dir"] = sup, log_dir
    yield sup
    sup.stop_requested.set()
    t.join(timeout=30)


@pytest.fixture
def client(ros, graph):
    c = SafeActionClient(ros.node, Manipulate, "/manipulate")
    assert c.wait_for_server(timeout_sec=120), "the manipulation node never came up"
    return c


def _run(ros, client, instruction: str, hand: str, execute: bool = False, timeout_s: float = 120.0,
         on_sent=None):
    goal = Manipulate.Goal(request=ManipulationRequest(instruction=instruction, hand=hand, execute=execute,
                                                       refine=True))
    stages = []
    fut = client.send_goal_async(goal, feedback_callback=lambda m: stages.append(m.feedback.stage))
    assert ros.wait_for(fut.done, timeout_s=30), f"goal not answered for {instruction!r} on {hand}{_diagnosis()}"
    handle = fut.result()
    assert handle.accepted
    if on_sent is not None:
        on_sent(stages)
    res = handle.get_result_async()
    assert ros.wait_for(res.done, timeout_s=timeout_s), f"no result for {instruction!r} on {hand}{_diagnosis()}"
    return res.result().result, stages


def _wait_policy_ready(ros, client, timeout_s=180.0):
    """The policy loads its checkpoints for a while after start: wait until a goal passes the policy stage."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        res, _ = _run(ros, client, INSTRUCTIONS[0], HANDS[0])
        if res.success:
            return res
        time.sleep(2)
    raise AssertionError(f"the graph never completed a goal: {res.message}")


def test_three_hands_three_instructions_and_execution(ros, client, graph):
    from unihm_planner.manipulation.core import ManipulationConfig

    frames = ManipulationConfig().num_frames  # the request says 0: the graph's default length
    _wait_policy_ready(ros, client)
    for hand in HANDS:
        for instruction in INSTRUCTIONS:
            res, stages = _run(ros, client, instruction, hand)
            assert res.success, f"{hand} / {instruction}: {res.message}"
            traj = res.trajectory
            assert traj.hand == hand and len(traj.points) == len(res.target_path.poses) == frames
            steps = -(-frames // res.tokens.frames_per_token)
            assert len(traj.wrist_poses) == frames and len(res.tokens.tokens) == steps * _codes_per_step()
            assert {"perception", "plan", "policy", "refine"} <= set(stages)
            assert [t.stage for t in res.metrics.stage_timings] == ["perception", "plan", "policy", "refine"]
            assert 0.0 <= res.metrics.contact_ratio <= 1.0 and res.metrics.total_ms > 0
    # an alias, executed by the hand on its simulated FR3 (the arm driver would fail the goal if it rejected it)
    res, stages = _run(ros, client, INSTRUCTIONS[0], "inspire", execute=True)
    assert res.success, res.message
    assert "execute" in stages and res.metrics.stage_timings[-1].stage == "execute"


def test_invalid_goals_fail_with_a_clear_message(ros, client, graph):
    res, _ = _run(ros, client, "put the zebra on the plate", "inspire_right")
    assert not res.success and "perception" in res.message and "zebra" in res.message
    res, _ = _run(ros, client, "put the brick on the plate", "no_such_hand")
    assert not res.success and "unknown hand" in res.message
    res, _ = _run(ros, client, "   ", "inspire_right")
    assert not res.success and "empty" in res.message
    res, _ = _run(ros, client, "put the brick on the plate", "allegro_right")  # registered, not in this graph
    assert not res.success and "not driven by this graph" in res.message


def test_policy_killed_mid_goal_fails_cleanly_and_restarts(ros, client, graph):
    _wait_policy_ready(ros, client)
    pid = graph.pid("policy")

    def kill_when_policy_runs(stages):
        ros.wait_for(lambda: "policy" in stages or "plan" in stages, timeout_s=30)
        os.kill(pid, signal.SIGKILL)

    res, _ = _run(ros, client, INSTRUCTIONS[1], "shadow_right", on_sent=kill_when_policy_runs, timeout_s=120)
    assert not res.success and res.message.startswith("policy"), res.message
    assert ros.wait_for(lambda: graph.pid("policy") not in (None, pid), timeout_s=30), "policy was not restarted"
    _wait_policy_ready(ros, client)  # the restarted node serves again


def test_fifty_goals_keep_memory_flat(ros, client, graph):
    _wait_policy_ready(ros, client)
    pids = [graph.pid(name) for name in graph.procs]

    def total_rss() -> float:
        return sum(_rss_mb(p) for p in pids if p)

    for i in range(10):  # warm-up: allocator pools and caches fill first
        assert _run(ros, client, INSTRUCTIONS[i % 3], HANDS[i % 3])[0].success
    before = total_rss()
    for i in range(50):
        res, _ = _run(ros, client, INSTRUCTIONS[i % 3], HANDS[i % 3])
        assert res.success, res.message
    after = total_rss()
    assert before > 0
    assert after - before < max(150.0, 0.05 * before), f"graph RSS grew {before:.0f} -> {after:.0f} MB"


def test_cancel_mid_goal(ros, client, graph):
    from action_msgs.msg import GoalStatus

    _wait_policy_ready(ros, client)
    goal = Manipulate.Goal(request=ManipulationRequest(instruction=INSTRUCTIONS[2], hand="xhand_right",
                                                       execute=True, refine=True))
    stages = []
    fut = client.send_goal_async(goal, feedback_callback=lambda m: stages.append(m.feedback.stage))
    assert ros.wait_for(fut.done, timeout_s=30)
    handle = fut.result()
    assert ros.wait_for(lambda: bool(stages), timeout_s=60)  # running: cancel at once, long before execution ends
    cancel = handle.cancel_goal_async()
    assert ros.wait_for(cancel.done, timeout_s=30)
    res = handle.get_result_async()
    assert ros.wait_for(res.done, timeout_s=60)
    assert res.result().status == GoalStatus.STATUS_CANCELED, f"stages {stages}"
    assert res.result().result.message == "cancelled"
    assert len(res.result().result.trajectory.points) == 0  # no result trajectory for a cancelled goal
    res2, _ = _run(ros, client, INSTRUCTIONS[0], "xhand_right")  # the graph serves the next goal
    assert res2.success, res2.message


def _codes_per_step() -> int:
    """Codes per time step of the shipped hand tokenizer (its residual stages)."""
    import json

    from unihm_planner.tokenizer.paths import default_checkpoint_dir

    config = json.loads((default_checkpoint_dir() / "config.json").read_text())
    return int(config["tokenizer"].get("residual_stages", 1))
