"""The manipulation request's pure logic: validation, progress, execution timing."""

import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError
from unihm_common.hands import load_hand_spec
from unihm_common.trajectory import HandMotion
from unihm_planner.manipulation.core import (
    STAGES,
    ManipulationConfig,
    execution_motion,
    progress,
    validate_request,
)

CFG = ManipulationConfig()


def test_validate_request_defaults_and_aliases():
    r = validate_request("  put the brick on the plate ", "inspire", 0, 0.0, True, True, 3, CFG)
    assert r.instruction == "put the brick on the plate" and r.hand == "inspire_right"
    assert (r.num_frames, r.frame_rate_hz, r.seed) == (CFG.num_frames, CFG.frame_rate_hz, 3)


@pytest.mark.parametrize("args, match", [
    (("", "inspire_right", 0, 0.0), "empty"),
    (("x" * 600, "inspire_right", 0, 0.0), "characters"),
    (("go", "", 0, 0.0), "no hand"),
    (("go", "inspire_right", 1, 0.0), "num_frames"),
    (("go", "inspire_right", 0, float("nan")), "frame_rate_hz"),
])
def test_validate_request_rejects_bad_requests(args, match):
    with pytest.raises(InputError, match=match):
        validate_request(*args, False, True, 0, CFG)


def test_a_hand_outside_the_graph_is_named():
    with pytest.raises(InputError, match="not driven by this graph"):
        validate_request("go", "allegro_right", 0, 0.0, False, True, 0, CFG, hands=["inspire_right"])


def test_progress_is_monotonic_and_ends_at_one():
    for execute in (False, True):
        stages = [s for s in STAGES if execute or s != "execute"]
        values = [progress(s, f, execute) for s in stages for f in (0.0, 0.5, 1.0)]
        assert values == sorted(values) and values[-1] == pytest.approx(1.0) and values[0] == 0.0
    with pytest.raises(ValueError):
        progress("dance", 0.5, True)


def test_config_rejects_bad_execution_limits():
    with pytest.raises(ConfigError):
        ManipulationConfig(execute_wrist_speed_m_s=0.0)
    with pytest.raises(ConfigError):
        ManipulationConfig(execute_approach_s=-1.0)


def test_execution_motion_slows_to_the_limits_after_an_approach():
    spec = load_hand_spec("inspire_right")
    n = 30
    t = np.arange(n) / 30.0
    q = np.tile((spec.lower_rad + spec.upper_rad) / 2, (n, 1))
    q[:, 0] += np.linspace(0, 0.5, n)  # 0.5 rad over 1 s: within the joint limit
    T = np.tile(np.eye(4), (n, 1, 1))
    T[:, 0, 3] = np.linspace(0, 0.6, n)  # 0.6 m in 1 s: twice the 0.3 m/s wrist limit
    timed = execution_motion(HandMotion(spec.name, spec.joint_names, t, q, T_world_wrist=T), CFG)
    assert timed.t_s[0] == pytest.approx(CFG.execute_approach_s)
    speed = np.linalg.norm(np.diff(timed.T_world_wrist[:, :3, 3], axis=0), axis=1) / np.diff(timed.t_s)
    np.testing.assert_allclose(speed, CFG.execute_wrist_speed_m_s)
    assert timed.t_s[-1] - timed.t_s[0] == pytest.approx(2.0)
    qd = np.abs(np.diff(timed.q, axis=0)) / np.diff(timed.t_s)[:, None]
    assert np.all(qd <= spec.velocity_limit_rad_s * CFG.execute_joint_speed_scale + 1e-9)
