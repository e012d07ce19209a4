"""HandTokenizer API: shapes, translation, clear errors, checkpoints, config strictness."""

import json

import pytest
import torch

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError, MissingDependencyError, UnknownHandError
from unihm_planner.tokenizer.config import RunConfig, TokenizerConfig
from unihm_planner.tokenizer.model import HandTokenizer, stats_from_limits


@pytest.fixture(params=["conv1d", "mlp"])
def model(request):
    torch.manual_seed(0)
    m = HandTokenizer(TokenizerConfig(backbone=request.param, codebook_size=32, code_dim=4, hidden_dim=8,
                                      num_res_blocks=1, downsample=4))
    m.add_hand("a", [f"a{i}" for i in range(5)], mean=torch.linspace(-0.5, 0.5, 5), std=torch.full((5,), 0.3))
    m.add_hand("b", [f"b{i}" for i in range(3)])
    return m.eval()


def test_tokenize_detokenize_translate_shapes(model):
    x = torch.randn(2, 12, 5)
    tokens = model.tokenize(x, "a")
    assert tokens.shape == (2, 3) and tokens.dtype == torch.long
    assert model.detokenize(tokens, "a").shape == (2, 12, 5)
    assert model.detokenize(tokens, "b").shape == (2, 12, 3)
    assert model.translate(x, "a", "b").shape == (2, 12, 3)
    assert model.encode(x, "a").shape == (2, 3, 4)
    out = model(x, "a")
    assert out.x_hat.shape == x.shape and out.codes.shape == (2, 3)
    assert torch.equal(model.reconstruct(x, "a"), model.detokenize(tokens, "a"))


def test_clear_errors(model):
    with pytest.raises(UnknownHandError, match=r"'c'.*a, b"):
        model.tokenize(torch.randn(1, 4, 5), "c")
    with pytest.raises(UnknownHandError, match="trained for: a, b"):
        model.translate(torch.randn(1, 4, 5), "a", "zz")
    with pytest.raises(InputError, match="has 5 joints, got input with 3"):
        model.tokenize(torch.randn(1, 4, 3), "a")
    with pytest.raises(InputError, match=r"rank 2.*x\[None\]"):
        model.tokenize(torch.randn(4, 5), "a")
    with pytest.raises(InputError, match="multiple of downsample=4"):
        model.tokenize(torch.randn(1, 6, 5), "a")
    with pytest.raises(InputError, match=r"\[0, 32\)"):
        model.detokenize(torch.tensor([[0, 32]]), "a")
    with pytest.raises(InputError, match="integer tensor"):
        model.detokenize(torch.zeros(2, 3), "a")
    with pytest.raises(ValueError, match="already"):
        model.add_hand("a", ["x"])
    with pytest.raises(ValueError, match="must match"):
        model.add_hand("bad.name", ["x"])


def test_save_load_round_trip_is_bit_exact(model, tmp_path):
    model.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    assert meta["hands"]["a"]["joint_names"] == [f"a{i}" for i in range(5)] and meta["reference_hand"] == "a"
    loaded = HandTokenizer.from_pretrained(tmp_path)
    assert loaded.config == model.config and loaded.joint_names == model.joint_names
    sd, sd2 = model.state_dict(), loaded.state_dict()
    assert sd.keys() == sd2.keys() and all(torch.equal(sd[k], sd2[k]) for k in sd)
    x = torch.randn(2, 8, 5)
    assert torch.equal(model.translate(x, "a", "b"), loaded.translate(x, "a", "b"))
    HandTokenizer.from_pretrained(tmp_path, expect_joint_names={"b": ["b0", "b1", "b2"]})
    with pytest.raises(ConfigError, match="joint order"):
        HandTokenizer.from_pretrained(tmp_path, expect_joint_names={"b": ["b1", "b0", "b2"]})
    with pytest.raises(UnknownHandError):
        HandTokenizer.from_pretrained(tmp_path, expect_joint_names={"c": ["x"]})


def test_missing_checkpoint_names_the_training_command(tmp_path):
    with pytest.raises(MissingDependencyError, match="unihm tokenizer train"):
        HandTokenizer.from_pretrained(tmp_path)


def test_limits_normalisation():
    mean, std = stats_from_limits([-1.0, 0.0], [1.0, 2.0])
    assert mean.tolist() == [0.0, 1.0] and std.tolist() == [1.0, 1.0]


def test_config_is_strict(tmp_path):
    with pytest.raises(ConfigError, match="unknown key 'codebok_size'"):
        from_dict(TokenizerConfig, {"codebok_size": 8})
    with pytest.raises(ConfigError, match="downsample must be a power of two"):
        from_dict(TokenizerConfig, {"downsample": 3})
    with pytest.raises(ConfigError, match="backbone"):
        from_dict(TokenizerConfig, {"backbone": "transformer"})
    path = tmp_path / "c.yaml"
    path.write_text("tokenizer:\n  downsample: 4\ntrain:\n  chunk_len: 30\n")
    with pytest.raises(ConfigError, match="chunk_len=30 must be a multiple"):
        RunConfig.from_yaml(path)
    path.write_text("train:\n  lr: fast\n")
    with pytest.raises(ConfigError, match=r"c\.yaml.*'lr'"):
        RunConfig.from_yaml(path)
    path.write_text("train:\n  bogus: 1\n")
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        RunConfig.from_yaml(path)


def test_shipped_configs_load():
    from unihm_planner.tokenizer.paths import config_path

    for name in ("default", "tiny", "mlp"):
        cfg = RunConfig.from_yaml(config_path(name))
        assert cfg.tokenizer.codebook_size * cfg.tokenizer.code_dim * 4 < 10e6  # codebook < 10 MB
    assert RunConfig.from_yaml(config_path("default")).train.reference_hand == "shadow_right"  # the data's name
    assert RunConfig.from_yaml(config_path("mlp")).tokenizer.backbone == "mlp"
