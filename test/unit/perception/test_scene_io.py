"""save_scene / load_scene: a synthetic scene survives the file exactly (the camera node reads it)."""

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_perception.scene import load_scene, sample_scene, save_scene


def test_scene_round_trip(tmp_path):
    scene = sample_scene(np.random.default_rng(5))
    path = tmp_path / "scene.npz"
    save_scene(str(path), scene)
    back = load_scene(str(path))
    assert [o.name for o in back.objects] == [o.name for o in scene.objects]
    assert back.table_half_extent_m == scene.table_half_extent_m
    for a, b in zip(scene.objects, back.objects):
        assert (a.asset.colour, a.asset.shape_class) == (b.asset.colour, b.asset.shape_class)
        np.testing.assert_array_equal(a.T_world_object, b.T_world_object)
        np.testing.assert_array_equal(a.world_mesh().vertices, b.world_mesh().vertices)
        np.testing.assert_array_equal(a.asset.mesh.faces, b.asset.mesh.faces)


def test_missing_scene_file_names_the_path(tmp_path):
    with pytest.raises(InputError, match="nope.npz"):
        load_scene(str(tmp_path / "nope.npz"))
