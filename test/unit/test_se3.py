import numpy as np

from unihm_common.se3 import (
    invert_transform,
    make_transform,
    matrix_to_quat,
    pose_to_transform,
    quat_to_matrix,
    transform_points,
    transform_to_pose,
)


def random_transforms(n, seed=0):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return make_transform(quat_to_matrix(q), rng.normal(size=(n, 3)))


def test_inverse_composes_to_identity():
    T = random_transforms(10)
    np.testing.assert_allclose(T @ invert_transform(T), np.tile(np.eye(4), (10, 1, 1)), atol=1e-12)


def test_pose_round_trip_and_quaternion_sign():
    T = random_transforms(10, seed=1)
    p, q = transform_to_pose(T)
    assert np.all(q[:, 3] >= 0)
    np.testing.assert_allclose(pose_to_transform(p, q), T, atol=1e-12)
    np.testing.assert_allclose(quat_to_matrix(matrix_to_quat(T[:, :3, :3])), T[:, :3, :3], atol=1e-12)


def test_transform_points_matches_homogeneous_product():
    T = random_transforms(1)[0]
    pts = np.random.default_rng(2).normal(size=(5, 3))
    homo = (T @ np.c_[pts, np.ones(5)].T).T[:, :3]
    np.testing.assert_allclose(transform_points(T, pts), homo, atol=1e-12)


def test_interpolate_transforms_hits_samples_and_midpoints():
    from unihm_common.se3 import interpolate_transforms

    T = random_transforms(3, seed=4)
    t = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(interpolate_transforms(T, t, t), T, atol=1e-12)
    mid = interpolate_transforms(T, t, np.array([0.5]))[0]
    np.testing.assert_allclose(mid[:3, 3], (T[0, :3, 3] + T[1, :3, 3]) / 2, atol=1e-12)
    np.testing.assert_allclose(mid[:3, :3] @ mid[:3, :3].T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(interpolate_transforms(T, t, np.array([-1.0, 5.0])), T[[0, 2]], atol=1e-12)
