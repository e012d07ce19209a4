"""Training-time augmentation (TrainConfig.augment_*): off by default, shapes kept, seeded, pairs aligned."""

import json

import numpy as np
import pytest
import torch
from tokenizer_fixtures import tiny_config

from unihm_planner.tokenizer.config import RunConfig, TrainConfig
from unihm_planner.tokenizer.data import augmented_chunks, make_chunks, make_paired_chunks
from unihm_planner.tokenizer.train import _augmenter, add_hand, train_reference


def _seqs(lengths=(20, 40, 64, 10), J=3, seed=0):
    rng = np.random.default_rng(seed)
    return {f"s{i}": np.cumsum(rng.normal(size=(T, J)), axis=0).astype(np.float32) for i, T in enumerate(lengths)}


def test_off_by_default_and_old_configs_load_unchanged(tmp_path):
    tc = TrainConfig()
    assert not tc.augments and (tc.augment_offsets, tc.augment_speed, tc.augment_noise) == (False, 1.0, 0.0)
    assert _augmenter(tc, "reference:x", [(np.zeros((8, 2), np.float32),)], [np.ones(2)]) is None
    # a config written before the fields existed (the shipped checkpoint's `train` section) loads as before
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  chunk_stride: 16\n  reference_epochs: 200\n")
    assert not RunConfig.from_yaml(path).train.augments
    path.write_text("train:\n  augment_offsets: true\n  augment_speed: 1.25\n  augment_noise: 0.05\n")
    assert RunConfig.from_yaml(path).train.augments


def test_bad_values_are_rejected():
    with pytest.raises(ValueError, match="augment_speed"):
        TrainConfig(augment_speed=0.8)
    with pytest.raises(ValueError, match="augment_noise"):
        TrainConfig(augment_noise=-0.1)


def test_everything_off_equals_make_chunks():
    seqs = _seqs()
    groups = [(s,) for s in seqs.values()]
    (x,) = augmented_chunks(groups, 16, 4, np.random.default_rng(0))
    assert torch.equal(x, make_chunks(seqs, 3, 16, 4))
    other = _seqs(seed=1)
    pairs = [(seqs[k], other[k][:, :2]) for k in sorted(seqs)]
    a, b = augmented_chunks(pairs, 16, 4, np.random.default_rng(0))
    ra, rb = make_paired_chunks(seqs, {k: v[:, :2] for k, v in other.items()}, 3, 2, 16, 4)
    assert torch.equal(a, ra) and torch.equal(b, rb)


@pytest.mark.parametrize("kw", [dict(offsets=True), dict(speed=1.25), dict(noise=0.1),
                                dict(offsets=True, speed=1.25, noise=0.1)])
def test_shapes_kept_and_seeded(kw):
    seqs = _seqs()
    groups = [(s,) for s in seqs.values()]
    (x,) = augmented_chunks(groups, 16, 4, np.random.default_rng(3), **kw)
    ref = make_chunks(seqs, 3, 16, 4)
    assert x.shape == ref.shape and x.dtype == torch.float32 and torch.isfinite(x).all()
    assert not torch.equal(x, ref)
    (y,) = augmented_chunks(groups, 16, 4, np.random.default_rng(3), **kw)
    (z,) = augmented_chunks(groups, 16, 4, np.random.default_rng(4), **kw)
    assert torch.equal(x, y) and not torch.equal(x, z)


def test_offsets_and_warp_stay_inside_the_sequence_and_keep_pairs_aligned():
    T = 50
    t = np.arange(T, dtype=np.float32)
    a = np.stack([t, 2 * t], axis=1)  # value = frame index, so the chunk shows where it sampled
    b = t[:, None] + 100.0
    xa, xb = augmented_chunks([(a, b)], 16, 8, np.random.default_rng(0), offsets=True, speed=1.25)
    frames = xa[..., 0]
    assert float(frames.min()) >= 0 and float(frames.max()) <= T - 1
    step = frames[:, 1:] - frames[:, :-1]  # constant per chunk, in [0.8, 1.25]
    assert torch.allclose(step, step[:, :1].expand_as(step), atol=1e-4)
    assert float(step.min()) >= 0.8 - 1e-4 and float(step.max()) <= 1.25 + 1e-4 and float(step.std()) > 0
    assert torch.allclose(xb[..., 0] - 100.0, frames, atol=1e-4)  # both hands cut at the same times
    # integer offsets alone: the chunks are exact frames, starts within [grid, grid + stride)
    (xo,) = augmented_chunks([(a,)], 16, 8, np.random.default_rng(0), offsets=True)
    grid = torch.tensor([0, 8, 16, 24, 32, 34], dtype=torch.float32)
    starts = xo[:, 0, 0]
    assert torch.equal(starts, starts.round()) and (starts >= grid).all() and (starts < grid + 8).all()
    assert (starts <= T - 16).all()


def test_noise_scales_per_joint():
    a = np.zeros((400, 2), np.float32)
    (x,) = augmented_chunks([(a,)], 16, 16, np.random.default_rng(0), noise=0.5,
                            noise_scale=[np.array([1.0, 0.1], np.float32)])
    std = x.reshape(-1, 2).std(0)
    assert abs(float(std[0]) - 0.5) < 0.05 and abs(float(std[1]) - 0.05) < 0.005


def test_training_with_augmentation_runs_and_is_deterministic(source, tmp_path):
    cfg = tiny_config(reference_epochs=2, distill_epochs=1, finetune_epochs=1, augment_offsets=True,
                      augment_speed=1.25, augment_noise=0.05)
    m1 = train_reference(source, cfg, tmp_path / "a")
    m2 = train_reference(source, cfg, tmp_path / "b")
    for k, v in m1.state_dict().items():
        assert torch.equal(v, m2.state_dict()[k]), k
    assert json.loads((tmp_path / "a" / "config.json").read_text())["train"]["augment_speed"] == 1.25
    model = add_hand(source, "new_hand", tmp_path / "a", tmp_path / "c")  # paired stages, cfg from the checkpoint
    assert model.hands == ["ref_hand", "new_hand"]
    plain = train_reference(source, tiny_config(reference_epochs=2), tmp_path / "p")
    assert any(not torch.equal(v, plain.state_dict()[k]) for k, v in m1.state_dict().items())
