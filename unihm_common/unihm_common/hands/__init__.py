"""The hand library: discovery (registry), specs (one YAML + URDF per hand) and kinematics.

Importing this package is cheap: Pinocchio is imported when a `Hand` is built.
"""

from unihm_common.hands.registry import available_hands, hand_dir, resolve_hand_name
from unihm_common.hands.spec import HandSpec, load_hand_spec, load_hand_spec_file

__all__ = ["HandSpec", "available_hands", "hand_dir", "load_arm_hand", "load_hand", "load_hand_spec",
           "load_hand_spec_file", "resolve_hand_name"]


def load_hand(name: str):
    """Build the `Hand` (spec + Pinocchio model) of `name` or an alias; see `hands.model.Hand`."""
    from unihm_common.hands.model import load_hand as _load

    return _load(name)


def load_arm_hand(arm: str, hand: str):
    """Compose an arm (e.g. "fr3") and a hand at the flange; see `hands.arm.ArmHand`."""
    from unihm_common.hands.arm import load_arm_hand as _load

    return _load(arm, hand)
