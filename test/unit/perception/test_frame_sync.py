"""FrameSync pairs colour and depth by stamp, and says what is missing before the first frame."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_perception.frame_sync import FrameSync


def images(value: int):
    return np.full((4, 5, 3), value, np.uint8), np.full((4, 5), 0.5 + value, np.float32)


def test_missing_parts_are_named_then_latest_pair_wins():
    sync = FrameSync(max_gap_s=0.005)
    with pytest.raises(InputError, match="color image, depth image, camera_info, camera pose"):
        sync.latest()
    rgb1, d1 = images(1)
    sync.add_color(1.0, rgb1, "cam")
    sync.add_depth(1.0, d1)
    with pytest.raises(InputError, match="camera_info, camera pose"):
        sync.latest()
    sync.set_intrinsics(np.eye(3))
    sync.set_pose(np.eye(4))
    f = sync.latest()
    assert f.stamp_s == 1.0 and f.frame_id == "cam" and f.rgb[0, 0, 0] == 1 and f.depth_m[0, 0] == 1.5
    rgb2, d2 = images(2)
    sync.add_depth(2.0, d2)  # its colour has not arrived yet: the previous pair stays
    assert sync.latest().stamp_s == 1.0
    sync.add_color(2.0 + 0.001, rgb2)
    f = sync.latest()
    assert f.stamp_s == 2.0 and f.rgb[0, 0, 0] == 2 and f.depth_m[0, 0] == 2.5


def test_stamps_that_never_match_are_reported():
    sync = FrameSync(max_gap_s=0.005)
    sync.set_intrinsics(np.eye(3))
    sync.set_pose(np.eye(4))
    rgb, d = images(1)
    sync.add_color(1.0, rgb)
    sync.add_depth(1.5, d)
    with pytest.raises(InputError, match="never matched"):
        sync.latest()
