import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_perception.frame import RGBDFrame
from unihm_perception.scene import PALETTE
from unihm_perception.segmentation import make_segmenter
from unihm_perception.segmentation.grounding import parse_instruction


def test_instructed_object_iou(episodes):
    seg = make_segmenter("geometric")
    ious = []
    for ep, rr in episodes:
        mask = seg.segment(rr.frame, ep.instruction).mask
        gt = rr.instance == ep.pick_index
        ious.append((mask & gt).sum() / (mask | gt).sum())
    assert min(ious) >= 0.8, ious


def test_parse_object_and_reference():
    obj, ref = parse_instruction("Put the small red mug on the blue plate.")
    assert (obj.colour, obj.size, obj.nouns) == ("red", "small", ("mug",))
    assert (ref.colour, ref.nouns) == ("blue", ("plate",))
    assert parse_instruction("pick up the orange")[0].nouns == ("orange",)  # a noun at the end of its phrase
    assert parse_instruction("move the large marker")[0].nouns == ("large", "marker")  # a name, not a size
    assert parse_instruction("move the large box")[0].size == "large"


def test_unknown_word_lists_known_words(episodes):
    ep, rr = episodes[0]
    with pytest.raises(InputError, match=r"unknown word 'flurble'.*known words: .*mug"):
        make_segmenter("geometric").segment(rr.frame, "pick up the flurble")


def test_no_matching_object_is_a_clear_error(episodes):
    ep, rr = episodes[0]
    absent = next(c for c in PALETTE if all(o.asset.colour != c for o in ep.scene.objects)
                  and c not in ("white", "silver", "black", "brown", "orange"))
    with pytest.raises(InputError, match="no object matches"):
        make_segmenter("geometric").segment(rr.frame, f"pick up the {absent} mug")


def test_bad_depth_is_a_clear_error(episodes):
    _, rr = episodes[0]
    f = rr.frame
    nan = RGBDFrame(rgb=f.rgb, depth_m=np.full_like(f.depth_m, np.nan), K=f.K, T_world_camera=f.T_world_camera)
    with pytest.raises(InputError, match="depth"):
        make_segmenter("geometric").segment(nan, "pick up the mug")


def test_strict_segmenter_config():
    with pytest.raises(ConfigError, match="unknown key 'eps'"):
        make_segmenter("geometric", {"eps": 0.01})
    with pytest.raises(ConfigError, match="unknown segmentation backend"):
        make_segmenter("sam2")


def test_pointsam_missing_checkpoint_names_the_file(tmp_path):
    with pytest.raises(MissingDependencyError, match="Point-SAM checkpoint folder"):
        make_segmenter("pointsam", {"checkpoint": str(tmp_path / "nope")})
    with pytest.raises(MissingDependencyError, match="model.safetensors"):
        (tmp_path / "config.json").write_text("{}")
        make_segmenter("pointsam", {"checkpoint": str(tmp_path)})


def test_pointsam_runs_from_a_saved_checkpoint(tmp_path, episodes):
    import torch

    from unihm_perception.segmentation.pointsam_model import PointSAM, PointSAMConfig

    torch.manual_seed(0)
    model = PointSAM(PointSAMConfig(dim=32, n_points=512))
    model.save_pretrained(tmp_path)
    again = PointSAM.from_pretrained(tmp_path)
    x = torch.rand(1, 50, 3)
    args = (x, x, x[:, :2], torch.tensor([[1, 0]]))
    torch.testing.assert_close(model(*args), again(*args))
    ep, rr = episodes[0]
    seg = make_segmenter("pointsam", {"checkpoint": str(tmp_path), "threshold": -1e9})  # untrained: keep all
    out = seg.segment(rr.frame, ep.instruction)
    assert out.mask.any() and out.points_world.shape[1] == 3
