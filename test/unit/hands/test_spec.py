"""hand.yaml schema and URDF cross-checks, DoF/limit table from datasheets, couplings, units, clamping."""

import math
import shutil

import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError
from unihm_common.hands import available_hands, hand_dir, load_hand_spec, load_hand_spec_file

D = math.pi / 180
# name: (joints, actuated, {joint: (lower, upper)}) -- source of each row in the comment.
DATASHEET = {
    # MANO 21-keypoint skeleton: 5 x 4 DoF; AAOS normal ROM (PIP 0-100 deg, thumb MCP 0-50 deg).
    "mano_right": (20, 20, {"index_pip_flex": (0.0, 100 * D), "thumb_mcp_flex": (0.0, 50 * D)}),
    # MuJoCo Menagerie shadow_hand/right_hand.xml (from sr_common): 24 joints, 20 DoF; class proximal
    # -0.261799..1.5708 (FFJ3), wrist_x -0.698132..0.488692 (WRJ1), thbase +-1.0472 (THJ5), thmiddle +-0.698132.
    "shadow_right": (24, 20, {"FFJ3": (-15 * D, 90 * D), "WRJ1": (-40 * D, 28 * D), "THJ5": (-60 * D, 60 * D),
                              "THJ2": (-40 * D, 40 * D)}),
    # mani-skill 3.0.1 assets/robots/allegro/allegro_hand_right.urdf: 16 DoF; joint_0.0 +-0.47, joint_12.0 0.263..1.396.
    "allegro_right": (16, 16, {"joint_0.0": (-0.47, 0.47), "joint_12.0": (0.263, 1.396)}),
    # dex-urdf schunk_hand/schunk_svh_hand_right.urdf: 9 drives, 20 joints; Thumb_Opposition 0..0.9879,
    # Ring_Finger 0..0.98175, Finger_Spread 0..0.5829.
    "schunk_svh_right": (20, 9, {"right_hand_Thumb_Opposition": (0.0, 0.9879), "right_hand_Ring_Finger": (0.0, 0.98175),
                                 "right_hand_Finger_Spread": (0.0, 0.5829)}),
    # dex-urdf leap_hand/leap_hand_right.urdf (LEAP authors' URDF): 16 DoF; joint '12' -0.349..2.094.
    "leap_right": (16, 16, {"j12": (-0.349, 2.094), "j1": (-0.314, 2.23)}),
    # mani-skill 3.0.1 assets/robots/ability_hand/ability_hand_right.urdf: 6 motors, 10 joints; fingers 0..2.0944.
    "ability_right": (10, 6, {"index_q1": (0.0, 120 * D), "thumb_q1": (-120 * D, 0.0)}),
    # dex-urdf inspire_hand/inspire_hand_right.urdf: 6 actuators, 12 joints; index 0..1.47, thumb yaw 0..1.308,
    # thumb pitch 0..0.6.
    "inspire_right": (12, 6, {"index_proximal_joint": (0.0, 1.47), "thumb_proximal_yaw_joint": (0.0, 1.308),
                              "thumb_proximal_pitch_joint": (0.0, 0.6)}),
    # XHAND1 right MJCF (ROBOTERA names): 12 active DoF; index side swing +-0.174, thumb rota1 -0.698..1.745.
    "xhand_right": (12, 12, {"right_hand_index_bend_joint": (-0.174, 0.174),
                             "right_hand_thumb_rota_joint1": (-0.698, 1.745)}),
    # pybullet_data franka_panda/panda.urdf panda_finger_joint1: 0..0.04 m, one drive for 2 fingers.
    "panda_gripper": (2, 1, {"panda_finger_joint1": (0.0, 0.04)}),
}


@pytest.mark.parametrize("name", sorted(DATASHEET))
def test_dof_and_limits_match_datasheet(name):
    joints, actuated, limits = DATASHEET[name]
    for variant in {name, name.replace("_right", "_left")}:
        spec = load_hand_spec(variant)
        assert (spec.num_joints, spec.num_actuated) == (joints, actuated), variant
        for j, (lo, hi) in limits.items():
            i = spec.joint_names.index(j.replace("right", "left") if variant.endswith("_left") else j)
            assert spec.lower_rad[i] == pytest.approx(lo, abs=2e-3) and spec.upper_rad[i] == pytest.approx(hi, abs=2e-3)


def test_every_hand_is_in_the_datasheet_table():
    for name in available_hands():
        assert name.replace("_left", "_right") in DATASHEET, f"add {name} to DATASHEET with its source"


@pytest.mark.parametrize("name", available_hands())
def test_spec_is_consistent(name):
    spec = load_hand_spec(name)
    assert spec.name == name
    assert spec.urdf_path.is_file()
    assert set(spec.actuated_joint_names) <= set(spec.joint_names)
    assert set(spec.coupling) == set(spec.joint_names) - set(spec.actuated_joint_names)
    assert np.all(spec.lower_rad <= spec.upper_rad) and np.all(spec.velocity_limit_rad_s > 0)
    assert spec.fingertip_frames and spec.wrist_frame and spec.palm_frame
    rng = np.random.default_rng(0)
    idx = spec.actuated_indices
    q_act = rng.uniform(spec.lower_rad[idx], spec.upper_rad[idx], size=(5, spec.num_actuated))
    q = spec.actuated_to_full(q_act)  # (5, J)
    np.testing.assert_allclose(spec.full_to_actuated(q), q_act)
    assert np.all(q >= spec.lower_rad - 1e-9) and np.all(q <= spec.upper_rad + 1e-9)
    np.testing.assert_allclose(spec.native_to_rad(spec.rad_to_native(q_act)), q_act, atol=1e-9)


def test_inspire_native_units():
    spec = load_hand_spec("inspire")
    assert spec.name == "inspire_right"
    assert spec.actuated_joint_names[:4] == ("pinky_proximal_joint", "ring_proximal_joint",
                                             "middle_proximal_joint", "index_proximal_joint")
    idx = spec.actuated_indices
    lo, hi = spec.lower_rad[idx], spec.upper_rad[idx]
    np.testing.assert_allclose(spec.rad_to_native(lo), 1000.0)  # open
    np.testing.assert_allclose(spec.rad_to_native(hi), 0.0)  # closed
    np.testing.assert_allclose(spec.native_to_rad(np.full((2, 6), 500.0)), np.tile((lo + hi) / 2, (2, 1)))
    assert "inspire_modbus" in spec.driver_backends


def test_leap_and_ability_native_units():
    leap = load_hand_spec("leap")
    np.testing.assert_allclose(leap.rad_to_native(np.zeros(16)), np.pi)  # LEAP: pi = flat
    ability = load_hand_spec("ability")
    np.testing.assert_allclose(ability.rad_to_native(np.full(6, math.pi / 2))[:4], 90.0)  # degrees
    gripper = load_hand_spec("panda_gripper")
    np.testing.assert_allclose(gripper.rad_to_native(np.array([0.03])), [0.06])  # width = 2 x finger


def test_identity_native_when_driver_speaks_radians():
    spec = load_hand_spec("allegro")
    q = np.linspace(-0.1, 0.1, 16)
    np.testing.assert_array_equal(spec.rad_to_native(q), q)


def test_clamp_counts_and_rejects_nan():
    spec = load_hand_spec("inspire_right")
    q = (spec.lower_rad + spec.upper_rad) / 2
    q[0] = spec.upper_rad[0] + 1.0
    q[3] = spec.lower_rad[3] - 1.0
    out, n = spec.clamp(q)
    assert n == 2 and out[0] == spec.upper_rad[0] and out[3] == spec.lower_rad[3]
    batch, n = spec.clamp(np.stack([q, q, (spec.lower_rad + spec.upper_rad) / 2]))
    assert n == 4 and batch.shape == (3, 12)
    q[5] = np.nan
    with pytest.raises(InputError, match="NaN"):
        spec.clamp(q)
    with pytest.raises(InputError, match="last axis of 12"):
        spec.clamp(np.zeros(5))


# ---------------------------------------------------------------- schema errors name file and key
def _broken_copy(tmp_path, edit, name="inspire_right"):
    dst = tmp_path / "hands" / name
    shutil.copytree(hand_dir(name), dst)
    path = dst / "hand.yaml"
    path.write_text(edit(path.read_text()))
    return path


@pytest.mark.parametrize("edit, key", [
    (lambda t: t.replace("side: right", "side: right\nsiide: left"), "siide"),
    (lambda t: t.replace("  native_unit: inspire_0_1000\n", ""), None),  # optional: must still load
    (lambda t: t.replace("{name: index_proximal_joint, lower: 0.0", "{name: index_proximal_joint, lower: zero"),
     "lower"),
    (lambda t: t.replace("name: pinky_proximal_joint,", "name: pinky_proximal_jont,"), "joints[0].name"),
    (lambda t: t.replace("upper: 1.47, velocity: 1.8}", "upper: 1.6, velocity: 1.8}", 1), "joints[0]"),
    (lambda t: t.replace("palm: palm", "palm: palmm"), "frames.palm"),
    (lambda t: t.replace("wrist: base", "wrist: palm"), "frames.wrist"),
    (lambda t: t.replace("source: pinky_proximal_joint, ratio: 1.06399", "source: pinky_proximal_joint, ratio: 1.2"),
     "coupling.pinky_intermediate_joint"),
    (lambda t: t.replace("    pinky_proximal_joint: {at_lower: 1000.0, at_upper: 0.0}\n", ""), "driver.native"),
    (lambda t: t.replace('target_task_link_names: ["thumb_tip"', 'target_task_link_names: ["thumb_tipp"'),
     "retargeting.target_task_link_names[0]"),
    (lambda t: t.replace("frames:", "frames: 3\nframes_old:"), "frames"),
    (lambda t: t.replace("actuated: [", 'actuated: ["ring_proximal_joint", '), "actuated"),
])
def test_broken_yaml_names_file_and_key(tmp_path, edit, key):
    path = _broken_copy(tmp_path, edit)
    if key is None:
        load_hand_spec_file(path)
        return
    with pytest.raises(ConfigError) as exc:
        load_hand_spec_file(path)
    msg = str(exc.value)
    assert str(path) in msg and key in msg, msg


def test_yaml_syntax_error_names_file(tmp_path):
    path = _broken_copy(tmp_path, lambda t: t + "joints: [unclosed\n")
    with pytest.raises(ConfigError, match="hand.yaml"):
        load_hand_spec_file(path)


def test_missing_urdf_joint_is_reported(tmp_path):
    path = _broken_copy(tmp_path, lambda t: "\n".join(ln for ln in t.splitlines() if "thumb_distal_joint" not in ln))
    with pytest.raises(ConfigError, match="thumb_distal_joint"):
        load_hand_spec_file(path)


def test_extra_folder_via_env_is_discovered(tmp_path, monkeypatch):
    from unihm_common.hands import registry

    src = hand_dir("allegro_right")
    dst = tmp_path / "hands" / "allegro_custom"
    shutil.copytree(src, dst)
    (dst / "allegro_right.urdf").rename(dst / "allegro_custom.urdf")
    text = (dst / "hand.yaml").read_text().replace("name: allegro_right", "name: allegro_custom")
    text = text.replace("urdf: allegro_right.urdf", "urdf: allegro_custom.urdf").replace('aliases: ["allegro"]',
                                                                                         "aliases: []")
    (dst / "hand.yaml").write_text(text)
    monkeypatch.setenv("UNIHM_DESCRIPTION_PATH", str(tmp_path))
    registry.refresh()
    try:
        assert "allegro_custom" in available_hands()
        assert load_hand_spec("allegro_custom").num_joints == 16
    finally:
        monkeypatch.delenv("UNIHM_DESCRIPTION_PATH")
        registry.refresh()
