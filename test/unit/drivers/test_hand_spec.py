"""DeviceSpec from the hand library (skipped until `load_hand_spec` lands)."""

import numpy as np
import pytest

from unihm_drivers.base import DeviceSpec


def test_inspire_right_spec_builds_an_inspire_device_spec():
    hands = pytest.importorskip("unihm_common.hands")
    if not hasattr(hands, "load_hand_spec"):
        pytest.skip("unihm_common.hands.load_hand_spec not available yet")
    try:
        hand = hands.load_hand_spec("inspire_right")
    except Exception as exc:  # the hand folder may not exist yet
        pytest.skip(f"inspire_right not loadable: {exc}")
    spec = DeviceSpec.from_hand_spec(hand, native_range=(0, 1000))
    assert spec.num_joints == 6
    q = (spec.lower + spec.upper) / 2
    np.testing.assert_allclose(spec.native_to_rad(spec.rad_to_native(q)), q, atol=1e-9)
    np.testing.assert_allclose(spec.rad_to_native(q), np.asarray(hand.rad_to_native(q)), atol=1e-6)


def test_device_spec_native_round_trip_and_validation():
    spec = DeviceSpec(("a", "b"), (0.0, -1.0), (1.0, 1.0), (1.0, 1.0), (1000.0, 0.0), (0.0, 1000.0))
    np.testing.assert_allclose(spec.rad_to_native(np.array([0.0, 0.0])), [1000.0, 500.0])
    np.testing.assert_allclose(spec.native_to_rad(np.array([250.0, 250.0])), [0.75, -0.5])
    with pytest.raises(ValueError):
        DeviceSpec(("a",), (1.0,), (0.0,), (1.0,))
