"""The MuJoCo physics backend on the real hand models: every hand loads, tracks, and keeps its couplings."""

import numpy as np
import pytest

from unihm_common.hands import available_hands, load_hand, load_hand_spec
from unihm_drivers.base import DeviceSpec, make_driver
from unihm_drivers.node_config import DriverNodeConfig, backend_options

pytest.importorskip("mujoco")
ROBOT_HANDS = [h for h in available_hands() if not h.startswith("mano")]
OPTION_FIELDS = {"urdf_path", "couplings", "realtime", "steps_per_call", "object_shape", "object_pos_m",
                 "object_size_m", "kp", "initial_q_rad"}


def mujoco_driver(name, **extra):
    spec = load_hand_spec(name)
    options = backend_options(DriverNodeConfig(hand=name), "sim_mujoco", OPTION_FIELDS, spec)
    options.update(realtime=False, steps_per_call=50, **extra)
    return spec, make_driver("sim_mujoco", options, DeviceSpec.from_hand_spec(spec))


@pytest.mark.parametrize("name", [h for h in ROBOT_HANDS if h.endswith("right") or h == "panda_gripper"])
def test_hand_tracks_commands_and_keeps_couplings(name):
    spec, drv = mujoco_driver(name, object_shape="none")
    lo, hi = spec.full_to_actuated(spec.lower_rad), spec.full_to_actuated(spec.upper_rad)
    target = lo + 0.6 * (hi - lo)
    with drv:
        drv.activate()
        for _ in range(40):
            drv.write(target)
        q = drv.read().positions
        np.testing.assert_allclose(q, target, atol=0.05 * np.maximum(hi - lo, 1e-3).max())
        full = drv.joint_positions(spec.joint_names)
        np.testing.assert_allclose(full, spec.actuated_to_full(q), atol=0.03)


def test_panda_gripper_holds_a_box_under_gravity_and_drops_it_open():
    hand = load_hand("panda_gripper")
    spec = hand.spec
    lo, hi = spec.full_to_actuated(spec.lower_rad), spec.full_to_actuated(spec.upper_rad)
    tips = hand.fingertip_positions(spec.actuated_to_full(hi))  # open: (F, 3) in the hand root frame
    centre = tips.mean(axis=0)
    for closed, expect_held in ((True, True), (False, False)):
        _, drv = mujoco_driver("panda_gripper", object_shape="box", object_pos_m=tuple(centre - [0, 0, 0.01]),
                               object_size_m=(0.015, 0.015, 0.015), kp=400.0, initial_q_rad=tuple(hi))
        with drv:
            drv.activate()
            for _ in range(60):
                drv.write(lo if closed else hi)
            result = drv.check_grasp(hold_s=0.5)
        assert result.held is expect_held, result
