"""The shipped default tokenizer: loads, covers the hand library (aliases included) and reconstructs
trajectories of the real data pipeline (2 freshly synthesised and retargeted sequences) far better than
an untrained model or the mean pose."""

import json

import numpy as np
import pytest
import torch

from unihm_planner.tokenizer import load_default
from unihm_planner.tokenizer.data import UnihmDataSource
from unihm_planner.tokenizer.evaluate import reconstruction_errors
from unihm_planner.tokenizer.model import HandTokenizer

HANDS = ["shadow_right", "shadow_left", "allegro_right", "xhand_left"]  # trained hands and left aliases


@pytest.fixture(scope="module")
def model():
    return load_default()


@pytest.fixture(scope="module")
def pipeline_data(tmp_path_factory):
    from unihm_data.retarget import retarget_dataset
    from unihm_data.synth import SynthConfig, synthesize

    root = tmp_path_factory.mktemp("hoi_default_ckpt")
    synthesize(root, 2, seed=15, workers=1, cfg=SynthConfig(min_frames=60, max_frames=80, test_fraction=0.0),
               progress=False)
    retarget_dataset(root, HANDS, progress=False)  # seed 15: a right and a left (mirrored) human hand
    return UnihmDataSource(root, val_frac=0.0)


def test_default_checkpoint_covers_the_hand_library(model):
    from unihm_common.hands import available_hands, load_hand_spec
    from unihm_common.hands.registry import hand_aliases

    assert model.reference_hand == "shadow_right" and model.config.codebook_size == 8192
    for hand in available_hands() + sorted(hand_aliases()):
        trained = model.resolve_hand(hand)  # raises UnknownHandError for an uncovered hand
        assert trained in model.hands
        assert model.hand_joint_names(hand) == tuple(load_hand_spec(hand).joint_names), hand
    assert set(model.aliases) >= {"shadow_left", "xhand_left", "schunk_svh_left", "shadow"}


def test_default_checkpoint_reconstructs_pipeline_trajectories(model, pipeline_data):
    res = reconstruction_errors(model, pipeline_data, "train", HANDS)
    torch.manual_seed(0)
    untrained = HandTokenizer(model.config)
    for hand in model.hands:
        untrained.add_hand(hand, model.joint_names[hand], model.norms[hand].mean, model.norms[hand].std)
    for alias, (target, joints) in model.aliases.items():
        untrained.add_alias(alias, target, joints)
    base = reconstruction_errors(untrained, pipeline_data, "train", HANDS)
    for hand in HANDS:
        seqs = list(pipeline_data.sequences(hand, "train").values())
        assert len(seqs) == 2
        x = np.concatenate(seqs)
        mean_pose_mae = float(np.abs(x - x.mean(0)).mean())
        mae = res["per_hand"][hand]["mae"]
        assert mae < 0.12, (hand, mae)  # rad; held-out figures of the shipped model: docs/benchmarks.md
        assert mae < 0.3 * base["per_hand"][hand]["mae"], (hand, mae, base["per_hand"][hand])
        assert mae < 0.5 * mean_pose_mae, (hand, mae, mean_pose_mae)


def test_unihm_source_pairs_by_id_and_carves_val(pipeline_data):
    from unihm_planner.tokenizer.data import UnihmDataSource

    ids = pipeline_data.ids("all")
    assert set(pipeline_data.hands()) == set(HANDS) and len(ids) == 2
    index = json.loads((pipeline_data.root / "index.json").read_text())
    assert sorted(e["side"] for e in index["sequences"]) == ["left", "right"]
    a, b = pipeline_data.sequences("shadow_right", "train"), pipeline_data.sequences("xhand_left", "train")
    assert list(a) == list(b) == ids and all(a[i].shape[0] == b[i].shape[0] for i in ids)
    assert pipeline_data.joint_names("xhand_left")[0].startswith("left_")
    split = UnihmDataSource(pipeline_data.root, val_frac=0.5)
    assert sorted(split.ids("train") + split.ids("val")) == sorted(ids)
