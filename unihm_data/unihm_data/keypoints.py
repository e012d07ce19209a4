"""The 21 human hand keypoints in MANO order, as DexYCB, OakInk and the hand library use them.

Order (dex-ycb-toolkit `_MANO_JOINTS`; oikit `hand_j`): wrist, then per finger (thumb, index, middle,
ring, little) four keypoints from the knuckle to the tip. The fingertips are MANO vertices
745, 317, 444, 556, 673 appended to the 16 regressed joints and reordered.
"""

from __future__ import annotations

import numpy as np

NUM_KEYPOINTS = 21
FINGERS = ("thumb", "index", "middle", "ring", "little")
KEYPOINT_NAMES = ("wrist",) + tuple(
    f"{f}_{k}" for f, ks in zip(FINGERS, [("cmc", "mcp", "ip", "tip")] + [("mcp", "pip", "dip", "tip")] * 4) for k in ks
)
FINGERTIP_INDICES = (4, 8, 12, 16, 20)
FINGER_CHAINS = tuple(tuple(range(1 + 4 * i, 5 + 4 * i)) for i in range(5))  # knuckle..tip per finger
BONES = tuple((0 if j == 0 else c[j - 1], c[j]) for c in FINGER_CHAINS for j in range(4))
# MANO tip vertex ids and the reorder of 16 regressed joints + 5 tips into the order above
# (16-joint MANO order: wrist, index1-3, middle1-3, little1-3, ring1-3, thumb1-3).
MANO_TIP_VERTEX_IDS = (745, 317, 444, 556, 673)
MANO_TO_21 = (0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20)

_S_WORLD = np.diag([1.0, -1.0, 1.0, 1.0])  # left-right flip as seen by the person (at -x)
_S_HAND = np.diag([-1.0, 1.0, 1.0, 1.0])  # wrist-frame x-reflection (thumb side <-> little side)
_M_OBJECT = np.diag([1.0, -1.0, 1.0, 1.0])  # objects are symmetric under their frame's y-reflection


def wrist_frame_from_keypoints(kp: np.ndarray, side: str) -> np.ndarray:
    """(…,21,3) keypoints -> (…,4,4) wrist poses in the hand-library convention.

    Convention (hand.yaml `frames.convention`): origin at the wrist, +z wrist -> middle knuckle,
    +x thumb side for a right hand / little-finger side for a left hand, +y out of the back of the hand.
    """
    kp = np.asarray(kp, dtype=np.float64)
    z = kp[..., 9, :] - kp[..., 0, :]
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    across = kp[..., 5, :] - kp[..., 17, :]  # little -> index knuckle: towards the thumb side
    if side == "left":
        across = -across
    x = across - np.sum(across * z, axis=-1, keepdims=True) * z
    x = x / np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    out = np.zeros(kp.shape[:-2] + (4, 4))
    out[..., :3, 0], out[..., :3, 1], out[..., :3, 2] = x, y, z
    out[..., :3, 3] = kp[..., 0, :]
    out[..., 3, 3] = 1.0
    return out


def mirror_points(points: np.ndarray) -> np.ndarray:
    """Reflect world points through the x-z plane (y -> -y): a right-hand scene becomes a left-hand one
    with the person still at -x."""
    return np.asarray(points) @ _S_WORLD[:3, :3].T


def mirror_wrist_transforms(T: np.ndarray) -> np.ndarray:
    """Mirror (…,4,4) wrist poses: S_world T S_hand. A right-hand wrist frame becomes the left-hand
    convention frame (+x to the little-finger side); the result is a proper rigid transform."""
    return _S_WORLD @ np.asarray(T) @ _S_HAND


def mirror_object_cloud(vectors: np.ndarray) -> np.ndarray:
    """Object-frame points or normals (N, 3) of a mirrored sequence: the frame's y-reflection M that
    `mirror_object_transforms` applies (the cloud a mirrored retargeting's T_world_object poses). Same dtype."""
    v = np.asarray(vectors)
    return (v @ _M_OBJECT[:3, :3].T).astype(v.dtype, copy=False)


def sequence_object_cloud(obj: dict, mirrored: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """A stored object cloud (`load_object_cloud`'s dict) as a sequence's T_world_object poses it: float32 points
    and their normals (`unihm_refiner.contact.usable_normals`: a few missing ones filled; None = let `ObjectCloud`
    estimate them), y-reflected for a mirrored retargeting. What the evaluation and data refinement both read."""
    from unihm_refiner.contact import usable_normals

    pts = np.asarray(obj["points"], np.float32)
    nrm = usable_normals(obj.get("normals"), pts)
    if mirrored:
        pts, nrm = mirror_object_cloud(pts), None if nrm is None else mirror_object_cloud(nrm)
    return pts, nrm


def mirror_object_transforms(T: np.ndarray) -> np.ndarray:
    """Mirror (…,4,4) object poses: S_world T M. Objects are y-symmetric in their frame (objects.py), so
    the same point cloud is valid under the new pose."""
    return _S_WORLD @ np.asarray(T) @ _M_OBJECT
