"""DexYCB and OakInk fixture trees in their published layouts (see unihm_data/dexycb.py, oakink.py)."""

import json
import pickle

import numpy as np
import pytest
import trimesh
import yaml

from unihm_common.errors import InputError
from unihm_data import dexycb, oakink
from unihm_data.human_hand import HumanHand
from unihm_data.importer import import_sequences
from unihm_data.motion import rot, transform

SUBJECT, SEQ, SERIAL = "20200709-subject-01", "20200709_141754", "836212060125"


def _hand_track(n):
    hand = HumanHand("right")
    q = np.linspace(0, 1, n)[:, None] * np.r_[[0.3, 0.2, 0.3, 0.4], np.tile([0, 0.8, 0.9, 0.5], 4)]
    kp = hand.keypoints(q)  # (n,21,3) in the wrist frame
    return kp + np.linspace([0.4, 0.0, 0.2], [0.5, 0.1, 0.3], n)[:, None, :]


def write_dexycb(root, n=6, no_hand_first=1):
    """meta.yml, calibration/extrinsics_*/extrinsics.yml, calibration/mano_*/mano.yml, labels_%06d.npz, models/."""
    T_world_cam = transform(rot([1, 0, 0], 2.0), [0.1, 0.5, 0.9])
    T_cam_world = np.linalg.inv(T_world_cam)
    seq_dir = root / SUBJECT / SEQ
    (seq_dir / SERIAL).mkdir(parents=True)
    meta = {"serials": [SERIAL, "839512060362"], "num_frames": n, "ycb_ids": [2, 14], "ycb_grasp_ind": 1,
            "mano_sides": ["right"], "mano_calib": ["20200709-subject-01_right"], "extrinsics": "20200702_151821"}
    (seq_dir / "meta.yml").write_text(yaml.safe_dump(meta))
    extr_dir = root / "calibration" / "extrinsics_20200702_151821"
    extr_dir.mkdir(parents=True)
    extr = {"master": SERIAL, "extrinsics": {SERIAL: T_world_cam[:3].reshape(-1).tolist(),
                                             "839512060362": np.eye(4)[:3].reshape(-1).tolist(),
                                             "apriltag": np.eye(4)[:3].reshape(-1).tolist()}}
    (extr_dir / "extrinsics.yml").write_text(yaml.safe_dump(extr))
    (root / "calibration" / "mano_20200709-subject-01_right").mkdir(parents=True)
    (root / "calibration" / "mano_20200709-subject-01_right" / "mano.yml").write_text(
        yaml.safe_dump({"betas": [0.0] * 10}))
    kp_world = _hand_track(n)
    T_world_obj = [transform(rot([0, 0, 1], 0.1 * i), [0.5, 0.05, 0.05 + 0.01 * i]) for i in range(n)]
    for i in range(n):
        pose_y = np.stack([(T_cam_world @ transform(np.eye(3), [0.3, -0.2, 0.1]))[:3],
                           (T_cam_world @ T_world_obj[i])[:3]]).astype(np.float32)  # (num_obj,3,4)
        joint = (kp_world[i] @ T_cam_world[:3, :3].T + T_cam_world[:3, 3])[None].astype(np.float32)
        if i < no_hand_first:
            joint[:] = -1.0
        np.savez(seq_dir / SERIAL / f"labels_{i:06d}.npz", seg=np.zeros((4, 4), np.uint8), pose_y=pose_y,
                 pose_m=np.zeros((1, 51), np.float32), joint_3d=joint)
    mug = root / "models" / "025_mug"
    mug.mkdir(parents=True)
    trimesh.creation.cylinder(radius=0.04, height=0.09).export(mug / "textured_simple.obj")
    return kp_world, np.array(T_world_obj)


def test_dexycb_loads_world_frame_and_eq_b2(tmp_path):
    kp_world, T_world_obj = write_dexycb(tmp_path, n=6, no_hand_first=1)
    assert dexycb.list_sequences(tmp_path) == [f"{SUBJECT}/{SEQ}"]
    seq, mesh = dexycb.load_sequence(tmp_path, f"{SUBJECT}/{SEQ}")
    assert seq.num_frames == 5  # the first frame holds no hand and is trimmed
    assert seq.mano_joints.shape == (5, 21, 3) and seq.T_tar.shape == (5, 4, 4)
    np.testing.assert_allclose(seq.mano_joints, kp_world[1:], atol=1e-5)
    np.testing.assert_allclose(seq.T_tar, T_world_obj[1:], atol=1e-5)  # M_ext^-1 T_obj^cam
    np.testing.assert_allclose(seq.t_s[1], 1 / 30)
    assert seq.object_name == "025_mug" and mesh.name == "textured_simple.obj"
    # wrist frame: +z towards the middle knuckle
    z = seq.T_world_wrist[:, :3, 2]
    d = seq.mano_joints[:, 9] - seq.mano_joints[:, 0]
    assert np.all(np.sum(z * d, axis=1) / np.linalg.norm(d, axis=1) > 0.99)
    index = import_sequences(tmp_path / "out", [(seq, mesh)], "dexycb")
    assert index.sequences[0].source == "dexycb" and len(index.sequences[0].instructions) == 5


def test_dexycb_corrupt_and_missing_files_are_named(tmp_path):
    write_dexycb(tmp_path, n=3)
    label = tmp_path / SUBJECT / SEQ / SERIAL / "labels_000002.npz"
    label.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="labels_000002.npz"):
        dexycb.load_sequence(tmp_path, f"{SUBJECT}/{SEQ}")
    label.unlink()
    with pytest.raises(InputError, match="labels_000002.npz: file not found"):
        dexycb.load_sequence(tmp_path, f"{SUBJECT}/{SEQ}")
    (tmp_path / "calibration" / "extrinsics_20200702_151821" / "extrinsics.yml").unlink()
    with pytest.raises(InputError, match="extrinsics.yml"):
        dexycb.load_sequence(tmp_path, f"{SUBJECT}/{SEQ}")


OAK_SEQ = "A01001_0003_0000/2021-09-26-19-59-58"


def write_oakink(root, n=4):
    """image/anno/{seq_all.json, split/split2/seq_*.json, hand_j, obj_transf, general_info}, image/obj/."""
    anno = root / "image" / "anno"
    for d in ("hand_j", "obj_transf", "general_info", "split/split2"):
        (anno / d).mkdir(parents=True)
    cam_extr = transform(rot([0, 1, 0], 0.7), [0.0, 0.2, 0.6])  # world -> camera
    items = [[OAK_SEQ, 0, f, 0] for f in range(n)] + [[OAK_SEQ, 0, f, 1] for f in range(n)]
    (anno / "seq_all.json").write_text(json.dumps(items))
    (anno / "split" / "split2" / "seq_train.json").write_text(json.dumps(items[:n]))
    (anno / "split" / "split2" / "seq_test.json").write_text(json.dumps([]))
    kp_world = _hand_track(n)
    T_world_obj = [transform(rot([0, 0, 1], 0.2 * i), [0.45, 0.0, 0.1 + 0.02 * i]) for i in range(n)]
    for it in items:
        s = oakink.info_str(it)
        f = it[2]
        with open(anno / "hand_j" / f"{s}.pkl", "wb") as fh:
            pickle.dump((kp_world[f] @ cam_extr[:3, :3].T + cam_extr[:3, 3]).astype(np.float32), fh)
        with open(anno / "obj_transf" / f"{s}.pkl", "wb") as fh:
            pickle.dump((cam_extr @ T_world_obj[f]).astype(np.float32), fh)
        with open(anno / "general_info" / f"{s}.pkl", "wb") as fh:
            pickle.dump({"cam_extr": cam_extr, "hand_anno": {"hand_pose": np.zeros((16, 4)),
                                                            "hand_shape": np.zeros(10)}}, fh)
    (root / "image" / "obj").mkdir(parents=True)
    trimesh.creation.box(extents=[0.05, 0.08, 0.1]).export(root / "image" / "obj" / "A01001.obj")
    return kp_world, np.array(T_world_obj)


def test_oakink_loads_world_frame_and_eq_b2(tmp_path):
    kp_world, T_world_obj = write_oakink(tmp_path, n=4)
    assert oakink.list_sequences(tmp_path) == [OAK_SEQ]
    assert oakink.list_sequences(tmp_path, split="train") == [OAK_SEQ]
    seq, mesh = oakink.load_sequence(tmp_path, OAK_SEQ, view=1)
    assert seq.mano_joints.shape == (4, 21, 3) and seq.task == "grab" and seq.object_name == "A01001"
    np.testing.assert_allclose(seq.mano_joints, kp_world, atol=1e-5)
    np.testing.assert_allclose(seq.T_tar, T_world_obj, atol=1e-5)
    assert mesh is not None and mesh.suffix == ".obj"


def test_oakink_missing_and_corrupt_files_are_named(tmp_path):
    write_oakink(tmp_path, n=2)
    s = oakink.info_str([OAK_SEQ, 0, 1, 0])
    (tmp_path / "image" / "anno" / "obj_transf" / f"{s}.pkl").write_bytes(b"\x80garbage")
    with pytest.raises(InputError, match=f"obj_transf/{s}.pkl"):
        oakink.load_sequence(tmp_path, OAK_SEQ)
    (tmp_path / "image" / "anno" / "hand_j" / f"{s}.pkl").unlink()
    with pytest.raises(InputError, match=f"hand_j/{s}.pkl: file not found"):
        oakink.load_sequence(tmp_path, OAK_SEQ)


def test_mano_layer_with_user_model_file(tmp_path):
    from unihm_data.mano_layer import ManoLayer

    rng = np.random.default_rng(0)
    v = rng.normal(0, 0.05, (778, 3))
    J_reg = np.zeros((16, 778))
    J_reg[np.arange(16), np.arange(16)] = 1.0
    parents = np.array([-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14])
    weights = np.zeros((778, 16))
    weights[np.arange(778), np.arange(778) % 16] = 1.0
    path = tmp_path / "MANO_RIGHT.npz"
    np.savez(path, v_template=v, shapedirs=np.zeros((778, 3, 10)), posedirs=np.zeros((778, 3, 135)),
             J_regressor=J_reg, weights=weights,
             kintree_table=np.stack([np.r_[4294967295, parents[1:]], np.arange(16)]),
             hands_components=np.eye(45), hands_mean=np.zeros(45))
    verts, joints = ManoLayer(path).forward(np.zeros(48), np.zeros(10), [0.1, 0.0, 0.0])
    assert verts.shape == (778, 3) and joints.shape == (21, 3)
    np.testing.assert_allclose(joints[0], v[0] + [0.1, 0, 0])  # zero pose: joints = regressed template
    np.testing.assert_allclose(joints[4], v[745] + [0.1, 0, 0])  # thumb tip vertex
    with pytest.raises(InputError, match="MANO_LEFT.pkl: MANO model file not found"):
        ManoLayer(tmp_path / "MANO_LEFT.pkl")


def test_import_cli_writes_a_readable_dataset(tmp_path):
    from unihm_common.cli import main as unihm_main
    from unihm_data.dataset import HOIDataset

    kp_world, _ = write_oakink(tmp_path / "oak", n=4)
    assert unihm_main(["data", "import", "oakink", str(tmp_path / "oak"), "--out", str(tmp_path / "ds")]) == 0
    ds = HOIDataset(tmp_path / "ds")
    assert len(ds) == 1
    np.testing.assert_allclose(ds[0]["sequence"].mano_joints, kp_world, atol=1e-5)
    write_dexycb(tmp_path / "dex", n=4)
    assert unihm_main(["data", "import", "dexycb", str(tmp_path / "dex"), "--out", str(tmp_path / "ds2")]) == 0
    assert len(HOIDataset(tmp_path / "ds2")) == 1
    # an empty root is a clear error, not a traceback
    (tmp_path / "empty").mkdir()
    assert unihm_main(["data", "import", "dexycb", str(tmp_path / "empty"), "--out", str(tmp_path / "ds3")]) == 2
