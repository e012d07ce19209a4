"""DexYCB loader for its published layout (NVlabs/dex-ycb-toolkit, `dex_ycb.py`, `sequence_loader.py`):

    $DEX_YCB_DIR/<subject>/<sequence>/meta.yml          serials, num_frames, ycb_ids, ycb_grasp_ind,
                                                         mano_sides, mano_calib, extrinsics
    $DEX_YCB_DIR/<subject>/<sequence>/<serial>/labels_%06d.npz
                                                         pose_y (num_obj,3,4) object poses, camera frame
                                                         pose_m (1,51) MANO PCA pose (48) + translation (3)
                                                         joint_3d (1,21,3) keypoints, camera frame (-1: no hand)
    $DEX_YCB_DIR/calibration/extrinsics_<name>/extrinsics.yml   extrinsics: {serial: 3x4 camera->world}, master
    $DEX_YCB_DIR/calibration/mano_<calib>/mano.yml     betas (10)
    $DEX_YCB_DIR/models/<ycb name>/textured_simple.obj

Frames are at 30 fps. Eq. B2: the stored 3x4 extrinsic maps camera to world (= M_ext^-1), so
T_tar(t) = M_ext^-1 T_obj^cam(t).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.human_hand import wrist_pose_from_keypoints

FPS = 30.0
YCB_CLASSES = {
    1: "002_master_chef_can", 2: "003_cracker_box", 3: "004_sugar_box", 4: "005_tomato_soup_can",
    5: "006_mustard_bottle", 6: "007_tuna_fish_can", 7: "008_pudding_box", 8: "009_gelatin_box",
    9: "010_potted_meat_can", 10: "011_banana", 11: "019_pitcher_base", 12: "021_bleach_cleanser", 13: "024_bowl",
    14: "025_mug", 15: "035_power_drill", 16: "036_wood_block", 17: "037_scissors", 18: "040_large_marker",
    19: "051_large_clamp", 20: "052_extra_large_clamp", 21: "061_foam_brick",
}


def _yaml(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: YAML syntax error: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping")
    return data


def _labels(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path) as z:
            d = {k: z[k] for k in z.files}
    except Exception as exc:
        raise InputError(f"{path}: corrupt or unreadable npz file ({exc})") from exc
    for key in ("pose_y", "pose_m"):
        if key not in d:
            raise InputError(f"{path}: missing array {key!r} (has {sorted(d)})")
    return d


def list_sequences(root: str | Path) -> list[str]:
    """'<subject>/<sequence>' names under a DexYCB root (folders holding meta.yml)."""
    root = Path(root)
    return sorted(str(p.parent.relative_to(root)) for p in root.glob("*/*/meta.yml"))


def _fill_invalid(kp: np.ndarray, valid: np.ndarray, where: str) -> np.ndarray:
    if not valid.any():
        raise InputError(f"{where}: no frame holds a hand")
    idx = np.arange(len(kp))
    out = kp.copy()
    for k in range(21):
        for c in range(3):
            out[:, k, c] = np.interp(idx, idx[valid], kp[valid, k, c])
    return out


def load_sequence(root: str | Path, name: str, serial: str | None = None, mano_model: str | Path | None = None,
                  trim: bool = True) -> tuple[fmt.SequenceData, Path | None]:
    """Read DexYCB sequence `name` ('<subject>/<sequence>') seen from `serial` (default: the master camera).

    Keypoints come from `joint_3d`; with `mano_model` (a MANO_RIGHT/LEFT file) they are recomputed from
    `pose_m` and the subject's betas. Frames without a hand before the first / after the last hand frame
    are trimmed (`trim`), gaps inside are interpolated. Returns the sequence and the object mesh path
    (None when models/ is absent).
    """
    root = Path(root)
    seq_dir = root / name
    meta = _yaml(seq_dir / "meta.yml")
    for key in ("serials", "num_frames", "ycb_ids", "ycb_grasp_ind", "mano_sides", "extrinsics"):
        if key not in meta:
            raise InputError(f"{seq_dir / 'meta.yml'}: missing key {key!r}")
    extr_path = root / "calibration" / f"extrinsics_{meta['extrinsics']}" / "extrinsics.yml"
    extr = _yaml(extr_path)
    serial = serial or str(extr.get("master", meta["serials"][0]))
    if serial not in extr.get("extrinsics", {}):
        raise InputError(f"{extr_path}: no extrinsics for camera {serial}")
    T_world_cam = np.eye(4)
    T_world_cam[:3, :] = np.asarray(extr["extrinsics"][serial], dtype=np.float64).reshape(3, 4)
    side = str(meta["mano_sides"][0])
    layer = betas = None
    if mano_model is not None:
        from unihm_data.mano_layer import ManoLayer

        layer = ManoLayer(mano_model, use_pca=True, flat_hand_mean=False)
        betas = np.asarray(_yaml(root / "calibration" / f"mano_{meta['mano_calib'][0]}" / "mano.yml")["betas"])
    n = int(meta["num_frames"])
    grasp = int(meta["ycb_grasp_ind"])
    kp_cam = np.zeros((n, 21, 3))
    T_cam_obj = np.tile(np.eye(4), (n, 1, 1))
    valid = np.zeros(n, dtype=bool)
    for i in range(n):
        path = seq_dir / serial / f"labels_{i:06d}.npz"
        lab = _labels(path)
        pose_y = lab["pose_y"]
        if pose_y.ndim != 3 or pose_y.shape[1:] != (3, 4) or grasp >= len(pose_y):
            raise InputError(f"{path}: pose_y has shape {pose_y.shape}, expected (num_obj>{grasp}, 3, 4)")
        T_cam_obj[i, :3, :] = pose_y[grasp]
        pose_m = lab["pose_m"].reshape(-1)
        if layer is not None:
            valid[i] = bool(np.any(pose_m != 0))
            if valid[i]:
                kp_cam[i] = layer.forward(pose_m[:48], betas, pose_m[48:51])[1]
        else:
            if "joint_3d" not in lab:
                raise InputError(f"{path}: missing array 'joint_3d' (pass a MANO model to use pose_m instead)")
            j = lab["joint_3d"].reshape(-1, 21, 3)[0]
            valid[i] = bool(np.all(j != -1))
            kp_cam[i] = j
    kp_cam = _fill_invalid(kp_cam, valid, str(seq_dir / serial))
    keep = np.arange(n)
    if trim:
        first, last = np.flatnonzero(valid)[[0, -1]]
        keep = keep[first:last + 1]
    kp = np.einsum("ij,tkj->tki", T_world_cam[:3, :3], kp_cam[keep]) + T_world_cam[:3, 3]
    T_tar = T_world_cam @ T_cam_obj[keep]  # Eq. B2
    obj_name = YCB_CLASSES.get(int(meta["ycb_ids"][grasp]), f"ycb_{meta['ycb_ids'][grasp]}")
    mesh = root / "models" / obj_name / "textured_simple.obj"
    seq = fmt.SequenceData(
        id="dexycb_" + name.replace("/", "_") + f"_{serial}", object_name=obj_name, side=side, task="grab",
        t_s=np.arange(len(keep)) / FPS, mano_joints=kp, T_world_wrist=wrist_pose_from_keypoints(kp, side),
        T_world_object=T_tar, T_tar=T_tar.copy(), contact=np.zeros((len(keep), 5), dtype=bool))
    return seq, (mesh if mesh.is_file() else None)
