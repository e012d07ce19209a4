"""FK against an independent URDF implementation (yourdfpy), Jacobians against finite differences."""

import numpy as np
import pytest

from unihm_common.hands import available_hands, load_arm_hand, load_hand

yourdfpy = pytest.importorskip("yourdfpy")
HANDS = available_hands()
N_RANDOM = 8


@pytest.fixture(scope="module", params=HANDS)
def hand(request):
    return load_hand(request.param)


def test_fk_matches_yourdfpy(hand):
    spec = hand.spec
    urdf = yourdfpy.URDF.load(str(spec.urdf_path), build_scene_graph=True, load_meshes=False,
                              build_collision_scene_graph=False, load_collision_meshes=False)
    q = hand.random_q(N_RANDOM, np.random.default_rng(1))  # (B, J), couplings applied
    tips = hand.fingertip_positions(q)  # (B, F, 3)
    for b in range(N_RANDOM):
        # yourdfpy takes the non-mimic joints and computes <mimic> joints itself: this also checks that
        # the spec's couplings agree with the URDF.
        urdf.update_cfg({n: q[b, spec.joint_names.index(n)] for n in urdf.actuated_joint_names})
        for k, frame in enumerate(spec.fingertip_frames):
            ref = urdf.get_transform(frame_to=frame, frame_from=spec.wrist_frame)[:3, 3]
            np.testing.assert_allclose(tips[b, k], ref, atol=1e-6, err_msg=f"{spec.name} {frame}")


def test_jacobians_match_finite_differences(hand):
    q = hand.random_q(3, np.random.default_rng(2), coupled=False)  # (B, J) every joint independent
    pos, jac = hand.fingertip_fk_and_jacobians(q)
    eps = 1e-6
    for j in range(hand.spec.num_joints):
        dq = np.zeros(hand.spec.num_joints)
        dq[j] = eps
        fd = (hand.fingertip_positions(q + dq) - hand.fingertip_positions(q - dq)) / (2 * eps)  # (B, F, 3)
        np.testing.assert_allclose(jac[..., j], fd, atol=1e-6, err_msg=f"{hand.name} column {j}")
    np.testing.assert_allclose(pos, hand.fingertip_positions(q), atol=1e-12)
    np.testing.assert_allclose(jac, hand.frame_jacobians(q), atol=1e-12)


def test_unbatched_shapes(hand):
    J, F = hand.spec.num_joints, len(hand.spec.fingertip_frames)
    q = hand.random_q(1)[0]
    assert hand.fingertip_positions(q).shape == (F, 3)
    pos, jac = hand.fingertip_fk_and_jacobians(q)
    assert pos.shape == (F, 3) and jac.shape == (F, 3, J)


@pytest.mark.parametrize("name", [n for n in HANDS if n.endswith("_left")])
def test_left_hand_is_mirror_of_right(name):
    left, right = load_hand(name), load_hand(name.replace("_left", "_right"))
    assert left.spec.num_joints == right.spec.num_joints
    q = right.random_q(4, np.random.default_rng(3))
    mirror = np.diag([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(left.fingertip_positions(q), right.fingertip_positions(q) @ mirror, atol=1e-7)


def test_mano_keypoints_are_21_in_order():
    hand = load_hand("mano")
    kp = hand.keypoints(np.zeros(hand.spec.num_joints))
    assert kp.shape == (21, 3)
    np.testing.assert_allclose(kp[0], 0.0)  # wrist
    tips = hand.fingertip_positions(np.zeros(hand.spec.num_joints))
    np.testing.assert_allclose(kp[[4, 8, 12, 16, 20]], tips)  # dex-retargeting's tip indices


@pytest.mark.parametrize("arm", ["fr3", "panda"])
def test_arm_fk_matches_yourdfpy(arm):
    from unihm_common.hands.arm import load_arm_spec

    spec = load_arm_spec(arm)
    chain = load_arm_hand(arm, "panda_gripper")
    urdf = yourdfpy.URDF.load(str(spec.urdf_path), load_meshes=False, build_collision_scene_graph=False,
                              load_collision_meshes=False)
    rng = np.random.default_rng(4)
    for _ in range(4):
        q_arm = rng.uniform(spec.lower_rad, spec.upper_rad)
        urdf.update_cfg(dict(zip(spec.joint_names, q_arm)))
        ref = urdf.get_transform(frame_to=spec.flange_frame, frame_from=spec.base_frame)
        got = chain.frame_transforms(np.concatenate([q_arm, [0.02, 0.02]]), [spec.flange_frame])[0]
        np.testing.assert_allclose(got, ref, atol=1e-6)


def test_franka_zero_pose_flange_height():
    # Franka docs: at q = 0 the flange is at x = 0.088, z = 0.333 + 0.316 + 0.384 - 0.107 = 0.926 m.
    chain = load_arm_hand("fr3", "panda_gripper")
    T = chain.frame_transforms(np.zeros(9), ["fr3_flange"])[0]
    np.testing.assert_allclose(T[:3, 3], [0.088, 0.0, 0.926], atol=1e-9)


@pytest.mark.parametrize("hand_name", ["inspire_right", "allegro_left", "panda_gripper"])
def test_arm_hand_composition(hand_name):
    chain = load_arm_hand("fr3", hand_name)
    hand = chain.hand
    rng = np.random.default_rng(5)
    q_arm = rng.uniform(chain.arm.lower_rad, chain.arm.upper_rad)
    q_hand = hand.random_q(1, rng)[0]
    q = np.concatenate([q_arm, q_hand])
    T_base_flange = chain.frame_transforms(q, [chain.arm.flange_frame])[0]
    tips_hand = hand.fingertip_positions(q_hand)  # (F, 3) in the hand root
    expected = (T_base_flange @ chain.T_flange_wrist @ np.c_[tips_hand, np.ones(len(tips_hand))].T).T[:, :3]
    np.testing.assert_allclose(chain.fingertip_positions(q), expected, atol=1e-9)
    assert chain.frame_jacobians(q).shape == (len(tips_hand), 3, 7 + hand.spec.num_joints)
