"""A numpy MANO layer for a user-supplied MANO model file (licence-restricted: never shipped here).

Accepts the official `MANO_RIGHT.pkl` / `MANO_LEFT.pkl` (mano_v1_2; unpickling the chumpy arrays inside
needs `chumpy`, or convert once to .npz) or an .npz with the same keys: v_template (778,3),
shapedirs (778,3,10), posedirs (778,3,135), J_regressor (16,778), weights (778,16), kintree_table (2,16),
hands_components (45,45), hands_mean (45,). Output joints follow keypoints.py (21, MANO order).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from unihm_common.errors import InputError, MissingDependencyError
from unihm_data.keypoints import MANO_TIP_VERTEX_IDS, MANO_TO_21

MANO_KEYS = ("v_template", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")


def _dense(x: object) -> np.ndarray:
    if hasattr(x, "toarray"):  # scipy.sparse J_regressor
        x = x.toarray()
    if hasattr(x, "r"):  # chumpy array
        x = x.r
    return np.asarray(x, dtype=np.float64)


def load_mano_model(path: str | Path) -> dict[str, np.ndarray]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: MANO model file not found (download mano_v1_2 from https://mano.is.tue.mpg.de)")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                raw = {k: z[k] for k in z.files}
        else:
            with path.open("rb") as f:
                raw = pickle.load(f, encoding="latin1")
    except ModuleNotFoundError as exc:
        raise MissingDependencyError(f"{path}: unpickling needs {exc.name!r} (pip install chumpy), or convert the "
                                     "model to .npz with the keys listed in unihm_data.mano_layer") from exc
    except Exception as exc:
        raise InputError(f"{path}: cannot read MANO model: {exc}") from exc
    missing = [k for k in MANO_KEYS if k not in raw]
    if missing:
        raise InputError(f"{path}: not a MANO model, missing {missing}")
    model = {k: _dense(raw[k]) for k in MANO_KEYS}
    model["hands_components"] = _dense(raw.get("hands_components", np.eye(45)))
    model["hands_mean"] = _dense(raw.get("hands_mean", np.zeros(45)))
    model["kintree_table"] = model["kintree_table"].astype(np.int64)
    return model


class ManoLayer:
    """MANO forward pass: pose (48 = global axis-angle + 45 finger parameters), betas (10), trans (3) -> joints."""

    def __init__(self, model_path: str | Path, use_pca: bool = True, flat_hand_mean: bool = False) -> None:
        self.m = load_mano_model(model_path)
        self.use_pca, self.flat_hand_mean = use_pca, flat_hand_mean
        self.parents = self.m["kintree_table"][0].copy()
        self.parents[0] = -1

    def forward(self, pose: np.ndarray, betas: np.ndarray, trans: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame -> vertices (778,3), joints (21,3) in the frame of `trans` (m).

        With use_pca (DexYCB `pose_m`), pose[3:48] are PCA coefficients of the finger pose.
        """
        m = self.m
        pose = np.asarray(pose, dtype=np.float64).reshape(-1)
        fingers = pose[3:48] @ m["hands_components"][:45] if self.use_pca else pose[3:48]
        if not self.flat_hand_mean:
            fingers = fingers + m["hands_mean"]
        full = np.concatenate([pose[:3], fingers]).reshape(16, 3)
        v = m["v_template"] + m["shapedirs"] @ np.asarray(betas, dtype=np.float64).reshape(-1)[:10]
        J = m["J_regressor"] @ v
        R = Rotation.from_rotvec(full).as_matrix()  # (16,3,3)
        v = v + m["posedirs"] @ (R[1:] - np.eye(3)).reshape(-1)
        G = np.zeros((16, 4, 4))
        for i in range(16):
            local = np.eye(4)
            local[:3, :3] = R[i]
            local[:3, 3] = J[i] - (J[self.parents[i]] if i > 0 else 0.0)
            G[i] = local if i == 0 else G[self.parents[i]] @ local
        joints16 = G[:, :3, 3].copy()
        G[:, :3, 3] -= np.einsum("kij,kj->ki", G[:, :3, :3], J)
        Tv = np.einsum("vk,kij->vij", m["weights"], G)
        verts = np.einsum("vij,vj->vi", Tv[:, :3, :3], v) + Tv[:, :3, 3]
        t = np.asarray(trans, dtype=np.float64).reshape(3)
        verts, joints16 = verts + t, joints16 + t
        joints = np.concatenate([joints16, verts[list(MANO_TIP_VERTEX_IDS)]])[list(MANO_TO_21)]
        return verts, joints
