import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.grasp import hand_spheres
from unihm_data.keypoints import BONES, FINGERTIP_INDICES
from unihm_data.motion import min_jerk
from unihm_data.objects import OBJECT_NAMES, make_object, split_objects
from unihm_data.synth import SynthConfig, generate_sequence, synthesize

PENETRATION_LIMIT_M = 0.002


def _tip_sdf(seq, obj):
    inv = np.linalg.inv(seq.T_world_object)
    tips = seq.mano_joints[:, FINGERTIP_INDICES]
    local = np.einsum("tij,tkj->tki", inv[:, :3, :3], tips) + inv[:, None, :3, 3]
    return obj.sdf(local.reshape(-1, 3)).reshape(-1, 5)


@pytest.mark.parametrize("obj_name,task,side", [("mug", "pick_place", "right"), ("tennis_ball", "grab", "left"),
                                                ("sugar_box", "handover", "right"), ("drawer", "open", "right")])
def test_sequence_contacts_without_penetration(obj_name, task, side):
    seq, valid = generate_sequence("s", 11, obj_name, task, side)
    obj = make_object(obj_name)
    assert valid
    assert 60 <= seq.num_frames <= 120
    assert _tip_sdf(seq, obj).min() > -PENETRATION_LIMIT_M
    # carrying = the object moves rigidly with the wrist: >= 2 fingers touch in every such frame
    moving = np.r_[False, np.linalg.norm(np.diff(seq.T_world_object[:, :3, 3], axis=0), axis=1) > 1e-4]
    rel = np.linalg.inv(seq.T_world_object) @ seq.T_world_wrist
    carrying = moving & (np.abs(rel - rel[np.argmax(moving)]).max(axis=(1, 2)) < 1e-6)
    assert carrying.sum() > 10
    assert np.all(seq.contact[carrying].sum(axis=1) >= 2)


def test_bone_lengths_constant_and_motion_smooth():
    seq, _ = generate_sequence("s", 5, "master_chef_can", "pick_place", "right")
    lengths = np.stack([np.linalg.norm(seq.mano_joints[:, b] - seq.mano_joints[:, a], axis=1) for a, b in BONES], 1)
    assert np.ptp(lengths, axis=0).max() < 1e-5  # driven through the kinematic chain
    v = np.diff(seq.mano_joints[:, 0], axis=0) * 30.0
    assert np.linalg.norm(v, axis=1).max() < 1.5  # m/s: no jumps
    assert np.linalg.norm(v[0]) < 1e-6 and np.linalg.norm(v[-1]) < 0.2


def test_left_sequence_is_mirror_of_right():
    right, _ = generate_sequence("s", 2, "mug", "grab", "right")
    left, _ = generate_sequence("s", 2, "mug", "grab", "left")
    np.testing.assert_allclose(left.mano_joints[..., 1], -right.mano_joints[..., 1], atol=1e-6)
    np.testing.assert_allclose(left.mano_joints[..., 0], right.mano_joints[..., 0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(left.T_world_object[:, :3, :3]), 1.0, atol=1e-9)
    sph = hand_spheres(left.mano_joints[50], "left")
    assert np.isfinite(sph.centres).all()
    # the mirrored wrist pose is the left MANO chain's root: its FK reproduces the keypoints
    from unihm_data.human_hand import HumanHand

    kp_local = HumanHand("left").keypoints(left.mano_q[50])
    T = left.T_world_wrist[50]
    np.testing.assert_allclose(kp_local @ T[:3, :3].T + T[:3, 3], left.mano_joints[50], atol=1e-5)


def test_min_jerk_profile():
    s = min_jerk(np.linspace(0, 1, 101))
    assert s[0] == 0 and s[-1] == 1 and np.all(np.diff(s) >= 0)


def test_split_by_object_is_80_20_and_disjoint():
    split = split_objects(list(OBJECT_NAMES), 0.2, seed=0)
    test = [n for n, s in split.items() if s == "test"]
    assert len(test) == round(0.2 * len(OBJECT_NAMES))
    assert split == split_objects(list(OBJECT_NAMES), 0.2, seed=0)


def test_dataset_index_and_files(tiny_dataset):
    index = fmt.read_index(tiny_dataset)
    assert len(index.sequences) == 4
    for e in index.sequences:
        assert len(set(e.instructions)) == 5 and e.split == index.objects[e.object]["split"]
        seq = fmt.load_sequence(tiny_dataset, e.id)
        assert seq.mano_joints.shape == (e.num_frames, 21, 3) and seq.mano_q.shape == (e.num_frames, 20)
        cloud = fmt.load_object_cloud(tiny_dataset, e.object)
        assert cloud["points"].shape == (2048, 3) and cloud["normals"].shape == (2048, 3)
    train = {e.object for e in index.sequences if e.split == "train"}
    test = {e.object for e in index.sequences if e.split == "test"}
    assert not train & test


def test_synth_config_rejects_unknown_object():
    with pytest.raises(ValueError, match="unknown objects"):
        SynthConfig(objects=("unicorn",))


def test_size_variants_of_train_objects(tmp_path):
    from unihm_data.objects import make_object, parse_object_name, variant_name

    assert variant_name("tuna_fish_can", 1.25) == "tuna_fish_can_x125"
    assert parse_object_name("tuna_fish_can_x125") == ("tuna_fish_can", 1.25)
    big, base = make_object("tuna_fish_can_x125"), make_object("tuna_fish_can")
    np.testing.assert_allclose(big.extents(), 1.25 * base.extents())
    for bad in ("unicorn_x120", "tuna_fish_can_x5", "tuna_fish_can_xab"):
        with pytest.raises(InputError, match="unknown object"):
            make_object(bad)
    with pytest.raises(ValueError, match="train_object_scales"):
        SynthConfig(train_object_scales=(1.0,))
    cfg = SynthConfig(objects=("tennis_ball", "sugar_box", "mug", "drawer", "master_chef_can"), tasks=("grab",),
                      train_object_scales=(0.8, 1.25), test_fraction=0.2, min_frames=30, max_frames=40)
    index = synthesize(tmp_path, 6, seed=1, workers=1, cfg=cfg, progress=False)
    split = {name: attrs["split"] for name, attrs in index.objects.items()}
    test = [n for n, s in split.items() if s == "test"]
    assert test and all("_x" not in n for n in test)  # unseen objects get no variants
    rigid_train = [n for n in cfg.objects if split[n] == "train" and make_object(n).articulation == "none"]
    for n in rigid_train:
        assert split[f"{n}_x80"] == split[f"{n}_x125"] == "train"
    assert "drawer_x80" not in split  # articulated objects keep their size
    for e in index.sequences:
        assert e.split == split[e.object]
