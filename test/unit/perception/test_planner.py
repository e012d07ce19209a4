import numpy as np
import pytest

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError
from unihm_planner.target.heightmap import HeightmapConfig, heightmap_from_frame
from unihm_planner.target.planner import DEFAULT_CHECKPOINT, argmax_pixel, lift_pick, lift_place
from unihm_planner.target.train import AffordanceNetConfig, TrainConfig


def test_pixel_round_trip():
    hm = HeightmapConfig()
    rc = np.array([[0, 0], [10, 70], [79, 79]])
    np.testing.assert_array_equal(hm.xy_to_pixel(hm.pixel_to_xy(rc)), rc)


def test_ground_truth_affordance_lifts_to_the_goal(episodes):
    """The heightmap/argmax/lifting path with a ground-truth affordance places within 3 cm."""
    hm = HeightmapConfig()
    for ep, rr in episodes:
        colour, height = heightmap_from_frame(rr.frame, hm)
        obj = ep.scene.objects[ep.pick_index]
        logits = np.zeros((hm.size_px, hm.size_px))
        logits[tuple(hm.xy_to_pixel(ep.pick_xyz[:2]))] = 1.0
        pick_xyz, half_h = lift_pick(argmax_pixel(logits), height, hm)
        assert np.linalg.norm(pick_xyz - obj.centre) < 0.03
        place_xyz = lift_place(hm.xy_to_pixel(ep.place_xyz[:2]), height, hm, half_h)
        assert np.linalg.norm(place_xyz - ep.place_xyz) < 0.03


def test_strict_planner_configs():
    with pytest.raises(ConfigError, match="unknown key 'chanels'"):
        from_dict(AffordanceNetConfig, {"chanels": [8, 16]})
    with pytest.raises(ConfigError):
        TrainConfig(lr=0)


def test_affordance_net_shapes_and_checkpoint(tmp_path):
    import torch

    from unihm_planner.target.model import AffordanceNet

    cfg = AffordanceNetConfig(channels=(8, 8), heightmap=HeightmapConfig(size_px=32, pixel_m=0.025))
    net = AffordanceNet(cfg).eval()
    x, lang = torch.rand(2, 4, 32, 32), torch.rand(2, 384)
    out = net(x, lang)
    assert out["pick"].shape == (2, 32, 32) and out["place_yaw"].shape == (2, 2, 32, 32)
    net.save_pretrained(tmp_path)
    torch.testing.assert_close(AffordanceNet.from_pretrained(tmp_path)(x, lang)["place"], out["place"])


@pytest.fixture(scope="module")
def planner():
    from unihm_common.errors import MissingDependencyError
    from unihm_planner.target.planner import TargetPlanner

    if not (DEFAULT_CHECKPOINT / "model.safetensors").is_file():
        pytest.skip(f"no trained planner checkpoint at {DEFAULT_CHECKPOINT} (train: unihm planner train)")
    try:
        return TargetPlanner.from_pretrained()
    except MissingDependencyError as exc:
        pytest.skip(str(exc))


def test_learned_planner_places_within_3cm_on_heldout_scenes(planner, episodes):
    ok = []
    for ep, rr in episodes:
        res = planner.plan(rr.frame, ep.instruction)
        ok.append(np.linalg.norm(res.place_pose[:3, 3] - ep.place_xyz) <= 0.03)
        assert res.T_world_object.shape == (len(res.t_s), 4, 4)
        np.testing.assert_allclose(res.T_world_object[-1], res.place_pose, atol=1e-9)
    print(f"held-out place success {np.mean(ok):.2f} on {len(ok)} scenes")
    assert np.mean(ok) >= 0.5


def test_planner_rejects_bad_input(planner, episodes):
    from unihm_perception.frame import RGBDFrame

    _, rr = episodes[0]
    with pytest.raises(InputError, match="instruction is empty"):
        planner.plan(rr.frame, "  ")
    with pytest.raises(InputError, match="unknown word 'teleport'"):
        planner.plan(rr.frame, "teleport the mug")
    f = rr.frame
    with pytest.raises(InputError, match="depth"):
        planner.plan(RGBDFrame(f.rgb, np.full_like(f.depth_m, np.nan), f.K, f.T_world_camera), "move the mug")


def test_sentence_encoder_is_384d_and_deterministic():
    from unihm_common.errors import MissingDependencyError

    try:
        from unihm_planner.target.language import default_encoder

        enc = default_encoder()
    except MissingDependencyError as exc:
        pytest.skip(str(exc))
    e = enc.encode(["put the red mug on the plate", "put the red mug on the plate", "move the banana left"])
    assert e.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    assert e[0] @ e[2] < 0.99
