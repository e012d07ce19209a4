"""Hand aliases: a left variant (or a library alias name) runs its trained twin's encoder/decoder."""

import json

import pytest
import torch
from tokenizer_fixtures import tiny_config

from unihm_common.errors import ConfigError, InputError, UnknownHandError
from unihm_planner.tokenizer.aliases import canonical_joint_name, joint_permutation, library_aliases, side_twin
from unihm_planner.tokenizer.model import HandTokenizer


def _model() -> HandTokenizer:
    torch.manual_seed(0)
    m = HandTokenizer(tiny_config().tokenizer)
    m.add_hand("toy_right", ["right_hand_a", "right_hand_b", "c", "d"])
    return m


def test_canonical_names_and_permutation():
    assert canonical_joint_name("left_hand_j3") == canonical_joint_name("right_hand_j3")
    assert canonical_joint_name("WRJ1") == "WRJ1"
    assert canonical_joint_name("bright_j") == "bright_j"  # only whole `_`-separated tokens
    assert joint_permutation(["c", "left_hand_b", "left_hand_a"], ["right_hand_a", "right_hand_b", "c"]) == [2, 1, 0]
    with pytest.raises(ConfigError, match="one-to-one"):
        joint_permutation(["left_hand_a", "x"], ["right_hand_a", "c"])
    assert side_twin("shadow_left") == "shadow_right" and side_twin("panda_gripper") is None


def test_alias_runs_the_twin_with_permuted_columns():
    m = _model()
    m.add_alias("toy_left", "toy_right", ["d", "c", "left_hand_b", "left_hand_a"])
    x = torch.randn(3, 8, 4)
    x_left = x[..., [3, 2, 1, 0]]  # the same poses in the alias's column order
    assert torch.equal(m.tokenize(x_left, "toy_left"), m.tokenize(x, "toy_right"))
    rec = m.reconstruct(x, "toy_right")
    assert torch.allclose(m.reconstruct(x_left, "toy_left"), rec[..., [3, 2, 1, 0]])
    assert torch.allclose(m.translate(x, "toy_right", "toy_left"), rec[..., [3, 2, 1, 0]])
    assert m.resolve_hand("toy_left") == "toy_right" and "toy_left" in m.all_hands
    assert m.hand_joint_names("toy_left")[0] == "d"
    with pytest.raises(InputError, match="4 joints"):
        m.tokenize(torch.randn(1, 8, 3), "toy_left")
    with pytest.raises(UnknownHandError, match="aliases: toy_left"):
        m.tokenize(x, "nope")
    with pytest.raises(ConfigError):
        m.add_alias("bad", "toy_right", ["a", "b", "c", "zz"])


def test_aliases_survive_save_and_load(tmp_path):
    m = _model()
    m.add_alias("toy", "toy_right")
    m.save_pretrained(tmp_path)
    loaded = HandTokenizer.from_pretrained(tmp_path)
    assert loaded.aliases == m.aliases
    x = torch.randn(2, 8, 4)
    assert torch.equal(loaded.tokenize(x, "toy"), m.tokenize(x, "toy_right"))


def test_library_aliases_cover_left_twins():
    out = library_aliases(["shadow_right", "xhand_right"])
    assert out["shadow_left"][0] == "shadow_right" and out["shadow"][0] == "shadow_right"
    target, joints = out["xhand_left"]
    assert target == "xhand_right" and all(j.startswith("left_") for j in joints)
    assert "allegro_left" not in out  # its twin is not trained


def test_aliases_command_adds_library_twins(tmp_path):
    from unihm_common.cli import main
    from unihm_common.hands import load_hand_spec

    m = HandTokenizer(tiny_config().tokenizer)
    m.add_hand("schunk_svh_right", load_hand_spec("schunk_svh_right").joint_names)
    m.save_pretrained(tmp_path / "ck", extra={"train": {"seed": 5}})
    assert main(["tokenizer", "aliases", "--checkpoint", str(tmp_path / "ck"), "--out", str(tmp_path / "out")]) == 0
    loaded = HandTokenizer.from_pretrained(tmp_path / "out")
    assert loaded.resolve_hand("schunk_svh_left") == "schunk_svh_right"
    assert loaded.resolve_hand("schunk_svh") == "schunk_svh_right"
    assert loaded.hand_joint_names("schunk_svh_left") == tuple(load_hand_spec("schunk_svh_left").joint_names)
    assert json.loads((tmp_path / "out" / "config.json").read_text())["train"] == {"seed": 5}
