"""unihm_msgs is built for real (rosidl) and round-trips through rclpy.serialization."""

import numpy as np
from rclpy.serialization import deserialize_message, serialize_message
from support import sample_motion

from unihm_common import conversions as conv
from unihm_common.trajectory import HandMotion


def test_hand_trajectory_serialization_round_trip():
    from unihm_msgs.msg import HandTrajectory

    motion = sample_motion()
    msg = conv.hand_trajectory_from_motion(motion, frame_id="world", start_s=12.5)
    back = deserialize_message(serialize_message(msg), HandTrajectory)
    assert back == msg
    m2 = conv.motion_from_hand_trajectory(back)
    np.testing.assert_allclose(m2.q, motion.q)
    np.testing.assert_allclose(m2.qd, motion.qd)
    np.testing.assert_allclose(m2.t_s, motion.t_s - motion.t_s[0], atol=1e-9)
    np.testing.assert_allclose(m2.T_world_wrist, motion.T_world_wrist, atol=1e-12)


def test_motion_tokens_and_action_types_round_trip():
    from unihm_msgs.action import Manipulate
    from unihm_msgs.msg import ManipulationRequest, MotionTokens
    from unihm_msgs.srv import SetEnabled

    tok = MotionTokens(hand="allegro_right", codebook_id="default", frames_per_token=4)
    tok.tokens = np.arange(100, dtype=np.int32)
    assert deserialize_message(serialize_message(tok), MotionTokens) == tok
    goal = Manipulate.Goal(request=ManipulationRequest(instruction="put the mug in the box", hand="inspire"))
    assert deserialize_message(serialize_message(goal), Manipulate.Goal) == goal
    fb = Manipulate.Feedback(stage="refine", progress=0.5, detail="frame 30/60")
    assert deserialize_message(serialize_message(fb), Manipulate.Feedback) == fb
    result = Manipulate.Result(success=True, message="ok")
    result.trajectory = conv.hand_trajectory_from_motion(sample_motion(5, 3))
    assert deserialize_message(serialize_message(result), Manipulate.Result) == result
    assert SetEnabled.Request(enabled=True).enabled


def test_pointcloud_and_image_conversions_round_trip():
    from sensor_msgs.msg import Image, PointCloud2

    rng = np.random.default_rng(1)
    pts, nrm = rng.normal(size=(50_000, 3)), rng.normal(size=(50_000, 3))
    rgb = rng.integers(0, 256, size=(50_000, 3))
    msg = deserialize_message(serialize_message(conv.pointcloud2_from_arrays(pts, nrm, rgb, "cam")), PointCloud2)
    out = conv.arrays_from_pointcloud2(msg)
    np.testing.assert_allclose(out["points"], pts.astype(np.float32))
    np.testing.assert_allclose(out["normals"], nrm.astype(np.float32))
    np.testing.assert_array_equal(out["rgb"], rgb)
    depth = rng.random((480, 640), dtype=np.float32)
    img = deserialize_message(serialize_message(conv.image_from_array(depth, "32FC1")), Image)
    np.testing.assert_array_equal(conv.array_from_image(img), depth)


def test_path_round_trip():
    motion = sample_motion(20, 2)
    path = conv.path_from_transforms(motion.T_world_wrist, motion.t_s, "world", start_s=3.0)
    T, t = conv.transforms_from_path(path)
    np.testing.assert_allclose(T, motion.T_world_wrist, atol=1e-12)
    np.testing.assert_allclose(t, motion.t_s, atol=1e-8)


def test_bad_inputs_give_clear_errors():
    import pytest
    from nav_msgs.msg import Path

    from unihm_common.errors import InputError
    from unihm_msgs.msg import HandTrajectory

    with pytest.raises(InputError, match=r"points must be \(N, 3\)"):
        conv.pointcloud2_from_arrays(np.zeros((5, 2)))
    with pytest.raises(InputError, match="no points"):
        conv.motion_from_hand_trajectory(HandTrajectory(hand="x"))
    with pytest.raises(InputError, match="empty"):
        conv.transforms_from_path(Path())
    with pytest.raises(InputError, match="NaN"):
        HandMotion("x", ("a",), np.arange(2.0), np.array([[0.0], [np.nan]]))
    with pytest.raises(InputError, match="unsupported image encoding"):
        conv.image_from_array(np.zeros((2, 2)), "yuv422")
