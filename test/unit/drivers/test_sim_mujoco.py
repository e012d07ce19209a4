import numpy as np
from drivers_fixtures import TOY_GRIPPER_SPEC, TOY_GRIPPER_URDF

from unihm_drivers.base import make_driver


def _hand(**extra):
    cfg = {"urdf_path": str(TOY_GRIPPER_URDF), "realtime": False, "object_size_m": [0.02, 0.02, 0.02],
           "object_pos_m": [0.0, 0.0, -0.04], **extra}
    return make_driver("sim_mujoco", cfg, TOY_GRIPPER_SPEC)


def test_closed_hand_holds_the_box_against_gravity():
    with _hand() as hand:
        for _ in range(100):
            hand.write(TOY_GRIPPER_SPEC.upper)  # close
        result = hand.check_grasp(hold_s=0.5)
        assert result.held and result.hand_contacts > 0, result


def test_open_hand_drops_the_box():
    with _hand() as hand:
        for _ in range(100):
            hand.write(TOY_GRIPPER_SPEC.lower)
        result = hand.check_grasp(hold_s=0.5)
        assert not result.held and result.hand_contacts == 0


def test_sphere_object_and_state_in_limits():
    with _hand(object_shape="sphere", object_size_m=[0.02, 0.0, 0.0]) as hand:
        for _ in range(50):
            hand.write(np.array([0.01, 0.01]))
        s = hand.read()
        assert np.all(s.positions >= -1e-3) and np.all(s.positions <= 0.04 + 1e-3)
