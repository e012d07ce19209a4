"""Staged training: distillation aligns encoders, adding a hand leaves other hands bit-exact,
resume, curves, and the DDP code path (gloo, 2 processes on CPU)."""

import json
import socket

import pytest
import torch
import torch.nn.functional as F
from tokenizer_fixtures import ddp_worker, tiny_config

from unihm_planner.tokenizer.data import make_paired_chunks
from unihm_planner.tokenizer.model import HandTokenizer
from unihm_planner.tokenizer.train import add_hand, train_reference


def _encoder_distance(model: HandTokenizer, source) -> float:
    x_ref, x_new = make_paired_chunks(source.sequences("ref_hand", "val"), source.sequences("new_hand", "val"),
                                      6, 5, 16, 16)
    with torch.no_grad():
        return float(F.mse_loss(model.encode(x_new, "new_hand"), model.encode(x_ref, "ref_hand")))


def test_full_recipe_writes_checkpoint_history_and_curves(trained):
    model, out = trained
    assert model.hands == ["ref_hand", "new_hand"]
    assert {"config.json", "model.safetensors", "train_state.pt", "history.json", "curves.png"} <= {
        p.name for p in out.iterdir()}
    history = json.loads((out / "history.json").read_text())
    assert [h["stage"] for h in history] == ["reference:ref_hand"] * 3 + ["distill:new_hand"] * 3 + [
        "finetune:new_hand"] * 2
    assert all(0 < h["used_frac"] <= 1 and h["perplexity"] >= 1 for h in history)
    assert history[1]["refreshed"] > 0  # refresh_every=2
    meta = json.loads((out / "config.json").read_text())
    assert meta["train"]["reference_hand"] == "ref_hand" and meta["stages_completed"][-1] == "finetune:new_hand"


def test_distillation_reduces_encoder_distance(source, tmp_path):
    cfg = tiny_config(reference_epochs=2, distill_epochs=4, finetune_epochs=0)
    train_reference(source, cfg, tmp_path / "ref")
    before = HandTokenizer.from_pretrained(tmp_path / "ref")
    torch.manual_seed(123)
    from unihm_planner.tokenizer.model import stats_from_data

    mean, std = stats_from_data(list(source.sequences("new_hand", "train").values()), 0.01)
    before.add_hand("new_hand", source.joint_names("new_hand"), mean, std)
    d0 = _encoder_distance(before, source)
    after = add_hand(source, "new_hand", tmp_path / "ref", tmp_path / "new", cfg)
    assert _encoder_distance(after, source) < 0.5 * d0


def test_adding_a_hand_leaves_existing_hands_bit_exact(trained, source, tmp_path):
    model, out = trained
    before = HandTokenizer.from_pretrained(out)
    source3 = _with_third_hand(source)
    cfg = tiny_config(distill_epochs=1, finetune_epochs=1)
    after = add_hand(source3, "third_hand", out, tmp_path / "three", cfg)
    assert after.hands == ["ref_hand", "new_hand", "third_hand"]
    sd_before, sd_after = before.state_dict(), after.state_dict()
    for k, v in sd_before.items():
        assert torch.equal(v, sd_after[k]), k
    x = torch.randn(2, 16, 6) * 0.3
    for hand in ("ref_hand", "new_hand"):
        xh = x[..., : len(before.joint_names[hand])]
        assert torch.equal(before.tokenize(xh, hand), after.tokenize(xh, hand))
        assert torch.equal(before.reconstruct(xh, hand), after.reconstruct(xh, hand))
    assert after.translate(x, "ref_hand", "third_hand").shape == (2, 16, 4)


def _with_third_hand(source):
    from unihm_planner.tokenizer.data import InMemorySource

    joints = {h: source.joint_names(h) for h in source.hands()}
    joints["third_hand"] = [f"t{i}" for i in range(4)]
    splits = {}
    for split in ("train", "val", "test"):
        splits[split] = {h: source.sequences(h, split) for h in source.hands()}
        splits[split]["third_hand"] = {k: v[:, :4] * 0.5 for k, v in source.sequences("new_hand", split).items()}
    return InMemorySource(joints, splits)


def test_resume_with_more_finetune_epochs_continues_that_stage(trained, source, tmp_path):
    _, out = trained
    data = _with_third_hand(source)
    first = add_hand(data, "third_hand", out, tmp_path / "t", tiny_config(distill_epochs=1, finetune_epochs=1))
    before = {k: v.clone() for k, v in first.state_dict().items()}
    again = add_hand(data, "third_hand", out, tmp_path / "t", tiny_config(distill_epochs=1, finetune_epochs=1),
                     resume=True)  # nothing left to do: unchanged
    assert all(torch.equal(v, again.state_dict()[k]) for k, v in before.items())
    more = add_hand(data, "third_hand", out, tmp_path / "t", tiny_config(distill_epochs=1, finetune_epochs=3),
                    resume=True)
    rows = [r["epoch"] for r in json.loads((tmp_path / "t" / "history.json").read_text())
            if r["stage"] == "finetune:third_hand"]
    assert rows == [1, 2, 3]  # epochs 2 and 3 added to the finished one
    after = more.state_dict()
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all(".third_hand." in k for k in changed)  # only the new hand's weights moved


def _with_fourth_hand(source):
    from unihm_planner.tokenizer.data import InMemorySource

    three = _with_third_hand(source)
    joints = {h: three.joint_names(h) for h in three.hands()}
    joints["fourth_hand"] = [f"f{i}" for i in range(3)]
    splits = {}
    for split in ("train", "val", "test"):
        splits[split] = {h: three.sequences(h, split) for h in three.hands()}
        splits[split]["fourth_hand"] = {k: -v[:, 1:4] for k, v in source.sequences("new_hand", split).items()}
    return InMemorySource(joints, splits)


def test_hands_added_in_parallel_merge_into_one_checkpoint(trained, source, tmp_path):
    from unihm_common.errors import ConfigError
    from unihm_planner.tokenizer.merge import merge_hands

    _, out = trained
    data = _with_fourth_hand(source)
    cfg = tiny_config(distill_epochs=1, finetune_epochs=1)
    third = add_hand(data, "third_hand", out, tmp_path / "third", cfg)  # two runs on copies of one base
    fourth = add_hand(data, "fourth_hand", out, tmp_path / "fourth", cfg)
    merged = merge_hands(out, [tmp_path / "third", tmp_path / "fourth"], tmp_path / "merged")
    assert merged.hands == ["ref_hand", "new_hand", "third_hand", "fourth_hand"]
    loaded = HandTokenizer.from_pretrained(tmp_path / "merged")
    x = torch.randn(2, 16, 6) * 0.3
    for hand, model in (("third_hand", third), ("fourth_hand", fourth), ("new_hand", third)):
        xh = x[..., : len(model.joint_names[hand])]
        assert torch.equal(loaded.tokenize(xh, hand), model.tokenize(xh, hand))
        assert torch.equal(loaded.reconstruct(xh, hand), model.reconstruct(xh, hand))
    stages = json.loads((tmp_path / "merged" / "config.json").read_text())["stages_completed"]
    assert {"finetune:third_hand", "finetune:fourth_hand"} <= set(stages)
    # a source that did not grow from this base is refused, naming what differs
    other = train_reference(source, tiny_config(reference_epochs=1, seed=3), tmp_path / "other")
    assert not torch.equal(other.quantizer.codebook, merged.quantizer.codebook)
    with pytest.raises(ConfigError, match="codebook differs"):
        merge_hands(out, [tmp_path / "other"], tmp_path / "bad")
    with pytest.raises(ConfigError, match="at least one"):
        merge_hands(out, [], tmp_path / "bad")


def test_resume_continues_an_interrupted_stage(source, tmp_path):
    cfg = tiny_config(reference_epochs=2, save_every=1)
    train_reference(source, cfg, tmp_path)
    # pretend the run stopped after epoch 2 of 4: mark the stage unfinished
    state = torch.load(tmp_path / "train_state.pt", weights_only=False)
    state["completed"], state["stage"], state["epoch"] = [], "reference:ref_hand", 2
    torch.save(state, tmp_path / "train_state.pt")
    train_reference(source, tiny_config(reference_epochs=4, save_every=1), tmp_path, resume=True)
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_two_processes_on_cpu(source, tmp_path):
    from unihm_planner.tokenizer.data import write_folder

    write_folder(source, tmp_path / "data")
    torch.multiprocessing.spawn(ddp_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    s0, s1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    assert all(torch.equal(s0[k], s1[k]) for k in s0)  # replicas stayed in sync (incl. refreshed codebook)
    loaded = HandTokenizer.from_pretrained(tmp_path / "out")
    assert all(torch.equal(s0[k], v) for k, v in loaded.state_dict().items())  # rank 0 saved
