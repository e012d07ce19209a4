"""OakInk-Image loader for its published layout (oakink/OakInk, `oikit/oi_image/oi_image.py`):

    $OAKINK_DIR/image/anno/seq_all.json            [[seq_id, sub_id, frame_id, view_id], ...]
    $OAKINK_DIR/image/anno/split/<split_key>/seq_{train,test}.json   same items (split0 default,
                                                   split1 subject, split2 object)
    $OAKINK_DIR/image/anno/hand_j/<info_str>.pkl   (21,3) keypoints, camera frame
    $OAKINK_DIR/image/anno/obj_transf/<info_str>.pkl   (4,4) object pose, camera frame
    $OAKINK_DIR/image/anno/general_info/<info_str>.pkl dict: cam_extr (4,4) world->camera, hand_anno
    $OAKINK_DIR/image/obj/<obj_id>.obj|.ply        object meshes (centred on their bounding box)

info_str = "__".join(map(str, item)).replace("/", "__"); seq_id = "<obj>_<intent>_<subject>/<timestamp>",
intent 0001 use, 0002 hold, 0003 liftup, 0004 handover. Eq. B2: T_tar = cam_extr^-1 obj_transf.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.human_hand import wrist_pose_from_keypoints

FPS = 30.0
INTENT_TASK = {"0001": "grab", "0002": "grab", "0003": "grab", "0004": "handover"}


def _json(path: Path) -> list:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON: {exc}") from exc


def _pkl(path: Path) -> object:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with path.open("rb") as f:
            return pickle.load(f)
    except Exception as exc:
        raise InputError(f"{path}: corrupt or unreadable pickle ({exc})") from exc


def _array(x: object, shape: tuple[int, ...], path: Path) -> np.ndarray:
    a = np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=np.float64)
    if a.shape != shape:
        raise InputError(f"{path}: expected shape {shape}, got {a.shape}")
    return a


def info_str(item: list) -> str:
    return "__".join(str(x) for x in item).replace("/", "__")


def decode_seq_cat(seq_cat: str) -> tuple[str, str]:
    fields = seq_cat.split("_")
    return fields[0], fields[1]


def list_sequences(root: str | Path, split: str | None = None, split_key: str = "split2") -> list[str]:
    """Sequence ids, from seq_all.json or from a split file (`split`: train|test; split2 splits by object)."""
    anno = Path(root) / "image" / "anno"
    items = _json(anno / "seq_all.json") if split is None else _json(anno / "split" / split_key / f"seq_{split}.json")
    return sorted({it[0] for it in items})


def load_sequence(root: str | Path, seq_id: str, view: int = 0,
                  sub_id: int = 0) -> tuple[fmt.SequenceData, Path | None]:
    """One OakInk sequence seen from camera `view` for hand `sub_id` (0/1; two hands in handovers)."""
    root = Path(root)
    anno = root / "image" / "anno"
    items = [it for it in _json(anno / "seq_all.json") if it[0] == seq_id and it[3] == view and it[1] == sub_id]
    if not items:
        raise InputError(f"{anno / 'seq_all.json'}: no frames for sequence {seq_id!r} view {view} hand {sub_id}")
    items.sort(key=lambda it: it[2])
    kp, T_tar = [], []
    for it in items:
        s = info_str(it)
        j_path, o_path, g_path = (anno / d / f"{s}.pkl" for d in ("hand_j", "obj_transf", "general_info"))
        info = _pkl(g_path)
        if not isinstance(info, dict) or "cam_extr" not in info:
            raise InputError(f"{g_path}: missing 'cam_extr'")
        T_world_cam = np.linalg.inv(_array(info["cam_extr"], (4, 4), g_path))
        j = _array(_pkl(j_path), (21, 3), j_path)
        kp.append(j @ T_world_cam[:3, :3].T + T_world_cam[:3, 3])
        T_tar.append(T_world_cam @ _array(_pkl(o_path), (4, 4), o_path))  # Eq. B2
    kp, T_tar = np.array(kp), np.array(T_tar)
    seq_cat, _ = seq_id.split("/")
    obj_id, intent = decode_seq_cat(seq_cat)
    mesh = next((p for p in (root / "image" / "obj" / f"{obj_id}.obj", root / "image" / "obj" / f"{obj_id}.ply")
                 if p.is_file()), None)
    t_s = np.array([it[2] for it in items], dtype=np.float64) / FPS
    seq = fmt.SequenceData(
        id="oakink_" + seq_id.replace("/", "_") + f"_v{view}_h{sub_id}", object_name=obj_id, side="right",
        task=INTENT_TASK.get(intent, "grab"), t_s=t_s - t_s[0], mano_joints=kp,
        T_world_wrist=wrist_pose_from_keypoints(kp, "right"), T_world_object=T_tar, T_tar=T_tar.copy(),
        contact=np.zeros((len(items), 5), dtype=bool))
    return seq, mesh
