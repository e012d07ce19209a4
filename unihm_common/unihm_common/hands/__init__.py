"""The hand library: discovery (registry), specs (one YAML + URDF per hand) and kinematics."""

from unihm_common.hands.registry import available_hands, hand_dir, resolve_hand_name

__all__ = ["available_hands", "hand_dir", "resolve_hand_name"]
