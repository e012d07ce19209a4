"""Message <-> numpy round trips of unihm_common.conversions (message types only, no rclpy context)."""

import numpy as np
import pytest

from unihm_common import conversions as conv
from unihm_common.errors import InputError
from unihm_common.se3 import pose_to_transform


def random_transforms(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return np.stack([pose_to_transform(rng.normal(size=3), qi) for qi in q])


def test_rgb_and_depth_images_round_trip():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    depth = rng.uniform(0.2, 2.0, size=(5, 7)).astype(np.float32)
    depth[1, 2] = np.nan
    m_rgb = conv.image_from_array(rgb, "rgb8", "cam", 3.25)
    m_depth = conv.image_from_array(depth, "32FC1", "cam", 3.25)
    assert (m_rgb.step, m_depth.step) == (7 * 3, 7 * 4)
    np.testing.assert_array_equal(conv.array_from_image(m_rgb), rgb)
    np.testing.assert_array_equal(conv.array_from_image(m_depth), depth)  # NaN == NaN here
    assert conv.time_to_seconds(m_depth.header.stamp) == 3.25 and m_depth.header.frame_id == "cam"
    with pytest.raises(InputError, match="needs"):
        conv.image_from_array(rgb[..., 0], "rgb8")
    m_rgb.step += 1
    with pytest.raises(InputError, match="step"):
        conv.array_from_image(m_rgb)


def test_camera_info_round_trip_and_rejects_zero_K():
    K = np.array([[230.0, 0, 159.5], [0, 231.0, 119.5], [0, 0, 1]])
    msg = conv.camera_info_from_K(K, 320, 240, "cam", 1.0)
    assert (msg.width, msg.height, msg.header.frame_id) == (320, 240, "cam")
    np.testing.assert_array_equal(conv.K_from_camera_info(msg), K)
    np.testing.assert_array_equal(np.reshape(msg.p, (3, 4))[:, :3], K)
    with pytest.raises(InputError, match="invalid K"):
        conv.K_from_camera_info(type(msg)())
    with pytest.raises(InputError):
        conv.camera_info_from_K(np.eye(2), 1, 1)


def test_pointcloud_round_trip_with_normals_and_colours():
    rng = np.random.default_rng(2)
    pts, nrm = rng.normal(size=(100, 3)), rng.normal(size=(100, 3))
    rgb = rng.integers(0, 256, size=(100, 3), dtype=np.uint8)
    back = conv.arrays_from_pointcloud2(conv.pointcloud2_from_arrays(pts, nrm, rgb, "world", 2.0))
    np.testing.assert_array_equal(back["points"], pts.astype(np.float32))
    np.testing.assert_array_equal(back["normals"], nrm.astype(np.float32))
    np.testing.assert_array_equal(back["rgb"], rgb)
    bare = conv.arrays_from_pointcloud2(conv.pointcloud2_from_arrays(pts))
    assert set(bare) == {"points"}
    empty = conv.pointcloud2_from_arrays(np.zeros((0, 3)))
    assert empty.width * empty.height == 0 and conv.arrays_from_pointcloud2(empty)["points"].shape == (0, 3)


def test_path_and_pose_round_trip():
    T = random_transforms(6)
    t = np.arange(6) / 30.0
    back_T, back_t = conv.transforms_from_path(conv.path_from_transforms(T, t, "world", start_s=100.0))
    np.testing.assert_allclose(back_T, T, atol=1e-12)
    np.testing.assert_allclose(back_t, t, atol=1e-8)
    ps = conv.pose_stamped_from_matrix(T[0], "world", 4.0)
    assert ps.header.frame_id == "world" and conv.time_to_seconds(ps.header.stamp) == 4.0
    np.testing.assert_allclose(conv.pose_to_matrix(ps.pose), T[0], atol=1e-12)
    with pytest.raises(InputError):
        conv.path_from_transforms(T, t[:3], "world")
