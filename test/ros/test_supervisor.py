"""The launcher without launch_ros: restarts, clean shutdown, and config errors that stop the graph."""

import os
import signal
import subprocess
import sys
import time

import pytest

from unihm_common.launch_graph import NodeSpec
from unihm_common.supervisor import Supervisor

TOPICS = '["a:std_msgs/msg/String"]'


def echo_spec(name, **kw):
    return NodeSpec("unihm_common", "echo_node", name, parameters={"topics": ["a:std_msgs/msg/String"]}, **kw)


def wait(pred, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def test_killed_node_is_restarted_and_sigint_stops_everything(tmp_path):
    sup = Supervisor([echo_spec("e1", respawn_delay_s=0.2), echo_spec("e2")], dict(os.environ), tmp_path, echo=None)
    sup.start()
    try:
        first = sup.pid("e1")
        assert first and sup.pid("e2")
        time.sleep(1.0)
        os.kill(first, signal.SIGKILL)
        assert wait(lambda: (sup.poll() or True) and sup.pid("e1") not in (None, first)), sup.events
        kinds = [(e.node, e.kind) for e in sup.events]
        assert ("e1", "restarting") in kinds
        assert sup.procs["e1"].restarts == 1
    finally:
        sup.stop()
    assert all(mp.process.poll() is not None for mp in sup.procs.values())
    # SIGINT was enough: rclpy nodes exit cleanly (code 0) on SIGINT
    assert sup.procs["e2"].process.returncode == 0
    assert (tmp_path / "e1.log").is_file()


def test_malformed_parameter_file_exits_nonzero_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("echo_bad:\n  ros__parameters:\n    topicz: []\n")
    sup = Supervisor([NodeSpec("unihm_common", "echo_node", "echo_bad", params_files=(bad,), required=True)],
                     dict(os.environ), tmp_path, echo=None)
    code = sup.run(duration_s=30)
    assert code == 1
    assert sup.procs["echo_bad"].exit_codes == [2], "config errors must not be restarted"
    assert "echo_bad" in sup.failed
    log = (tmp_path / "echo_bad.log").read_text()
    assert "unknown key 'topicz'" in log and str(bad) in log


@pytest.mark.parametrize("content, needle", [
    ("echo_x:\n  ros__parameters:\n    topics: [1, 2\n", "YAML syntax error"),
    ("echo_x:\n  topics: []\n", "must hold exactly one key 'ros__parameters'"),
])
def test_broken_parameter_files_are_named(tmp_path, content, needle):
    bad = tmp_path / "p.yaml"
    bad.write_text(content)
    from unihm_common.supervisor import executable_command

    r = subprocess.run(executable_command("unihm_common", "echo_node")
                       + ["--ros-args", "-r", "__node:=echo_x", "--params-file", str(bad)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert needle in r.stderr and str(bad) in r.stderr


def test_bringup_cli_stops_cleanly_on_sigint(tmp_path):
    """`unihm bringup` on a real hand graph: runs, then SIGINT shuts everything down with exit 0."""
    from unihm_common.hands.registry import available_hands

    if "inspire_right" not in available_hands():
        pytest.skip("hand library not present")
    proc = subprocess.Popen([sys.executable, "-m", "unihm_common.cli", "bringup", "--hand", "inspire",
                             "--log-dir", str(tmp_path)], stderr=subprocess.PIPE, text=True)
    try:
        assert wait(lambda: (tmp_path / "hand_driver.log").is_file() and "ready" in
                    (tmp_path / "hand_driver.log").read_text(), 60), "driver never reported ready"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after" in err
