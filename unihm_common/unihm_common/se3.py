"""SE(3) helpers on numpy arrays. Quaternions are (x, y, z, w), as in ROS messages.

Transforms are 4x4 homogeneous matrices named by frames: `T_world_object` maps object-frame
points into the world frame.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def make_transform(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Stack (…,3,3) rotations and (…,3) translations into (…,4,4) transforms."""
    rotation = np.asarray(rotation, dtype=np.float64)
    translation = np.asarray(translation, dtype=np.float64)
    out = np.zeros(rotation.shape[:-2] + (4, 4))
    out[..., :3, :3] = rotation
    out[..., :3, 3] = translation
    out[..., 3, 3] = 1.0
    return out


def quat_to_matrix(quat_xyzw: np.ndarray) -> np.ndarray:
    """(…,4) unit quaternions (x,y,z,w) -> (…,3,3) rotation matrices."""
    q = np.asarray(quat_xyzw, dtype=np.float64)
    flat = q.reshape(-1, 4)
    return Rotation.from_quat(flat).as_matrix().reshape(q.shape[:-1] + (3, 3))


def matrix_to_quat(rotation: np.ndarray) -> np.ndarray:
    """(…,3,3) rotation matrices -> (…,4) quaternions (x,y,z,w) with w >= 0."""
    r = np.asarray(rotation, dtype=np.float64)
    q = Rotation.from_matrix(r.reshape(-1, 3, 3)).as_quat()
    q[q[:, 3] < 0] *= -1.0
    return q.reshape(r.shape[:-2] + (4,))


def pose_to_transform(position: np.ndarray, quat_xyzw: np.ndarray) -> np.ndarray:
    return make_transform(quat_to_matrix(quat_xyzw), position)


def transform_to_pose(transform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(…,4,4) -> positions (…,3), quaternions (…,4)."""
    transform = np.asarray(transform, dtype=np.float64)
    return transform[..., :3, 3].copy(), matrix_to_quat(transform[..., :3, :3])


def invert_transform(transform: np.ndarray) -> np.ndarray:
    """Inverse of (…,4,4) rigid transforms without a general matrix inverse."""
    transform = np.asarray(transform, dtype=np.float64)
    rot_t = np.swapaxes(transform[..., :3, :3], -1, -2)
    return make_transform(rot_t, -np.einsum("...ij,...j->...i", rot_t, transform[..., :3, 3]))


def transform_points(transform: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (4,4) transform to (N,3) points."""
    transform = np.asarray(transform, dtype=np.float64)
    return np.asarray(points) @ transform[:3, :3].T + transform[:3, 3]


def interpolate_transforms(transforms: np.ndarray, t_src: np.ndarray, t_dst: np.ndarray) -> np.ndarray:
    """Resample (T,4,4) poses given at times t_src to times t_dst: linear translation, SLERP rotation.

    Times outside [t_src[0], t_src[-1]] hold the end poses.
    """
    from scipy.spatial.transform import Slerp

    transforms = np.asarray(transforms, dtype=np.float64)
    t_src = np.asarray(t_src, dtype=np.float64)
    t_dst = np.clip(np.asarray(t_dst, dtype=np.float64), t_src[0], t_src[-1])
    if len(t_src) == 1:
        return np.repeat(transforms, len(t_dst), axis=0)
    pos = np.stack([np.interp(t_dst, t_src, transforms[:, :3, 3][:, i]) for i in range(3)], axis=1)
    rot = Slerp(t_src, Rotation.from_matrix(transforms[:, :3, :3]))(t_dst).as_matrix()
    return make_transform(rot, pos)
