"""`unihm tokenizer ...` and `unihm bench tokenizer` end to end on a tiny generated data folder."""

import json

import numpy as np
import pytest

from unihm_common.cli import main
from unihm_common.errors import MissingDependencyError
from unihm_planner.tokenizer.bench import run_benchmark

TINY_YAML = """
tokenizer: {codebook_size: 32, code_dim: 4, hidden_dim: 8, num_res_blocks: 1, downsample: 4}
train: {reference_hand: ref_hand, chunk_len: 16, chunk_stride: 8, batch_size: 32, lr: 0.003,
        reference_epochs: 2, distill_epochs: 1, finetune_epochs: 1, refresh_every: 1, refresh_buffer: 256,
        kmeans_iters: 2, progress: false, device: cpu}
"""


@pytest.fixture(scope="module")
def cli_checkpoint(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    assert main(["tokenizer", "make-synthetic", str(root / "data"), "--sequences", "6", "2", "2"]) == 0
    (root / "tiny.yaml").write_text(TINY_YAML)
    assert main(["tokenizer", "train", "--config", str(root / "tiny.yaml"), "--data", str(root / "data"),
                 "--out", str(root / "ckpt"), "--seed", "3"]) == 0
    return root


def test_train_writes_checkpoint_and_curves(cli_checkpoint):
    ckpt = cli_checkpoint / "ckpt"
    for name in ("config.json", "model.safetensors", "curves.png", "history.json"):
        assert (ckpt / name).is_file(), name
    meta = json.loads((ckpt / "config.json").read_text())
    assert list(meta["hands"]) == ["ref_hand", "new_hand"] and meta["train"]["seed"] == 3


def test_eval_prints_table_b1(cli_checkpoint, capsys):
    assert main(["tokenizer", "eval", "--checkpoint", str(cli_checkpoint / "ckpt"),
                 "--data", str(cli_checkpoint / "data")]) == 0
    out = capsys.readouterr().out
    assert "MAE     1D-Conv" in out and "RMSE    MLP" in out and "Overall" in out and "ref_hand" in out


def test_translate_command(cli_checkpoint, tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((10, 10), np.float32))
    assert main(["tokenizer", "translate", "--checkpoint", str(cli_checkpoint / "ckpt"), "--src", "ref_hand",
                 "--dst", "new_hand", "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")]) == 0
    assert np.load(tmp_path / "y.npy").shape == (10, 7)


def test_bench_reports_the_issue_keys(cli_checkpoint):
    r = run_benchmark(["--checkpoint", str(cli_checkpoint / "ckpt"), "--data", str(cli_checkpoint / "data"),
                       "--throughput-batch", "4", "--throughput-frames", "16"])
    for key in ("overall_mae", "overall_rmse", "per_hand", "codebook_used_frac", "frames_per_s",
                "translate_fingertip_err_mm"):
        assert key in r
    assert set(r["per_hand"]) == {"ref_hand", "new_hand"} and r["frames_per_s"] > 0
    json.dumps(r)


def test_bench_without_checkpoint_says_how_to_train_it(tmp_path):
    with pytest.raises(MissingDependencyError, match=r"no tokenizer checkpoint at .*unihm tokenizer train"):
        run_benchmark(["--checkpoint", str(tmp_path / "none"), "--data", str(tmp_path)])
    assert main(["bench", "tokenizer", "--json", "--checkpoint", str(tmp_path / "none")]) == 2


def test_translation_fingertip_error_with_kinematics(cli_checkpoint):
    from unihm_planner.tokenizer.data import open_source
    from unihm_planner.tokenizer.evaluate import translation_errors
    from unihm_planner.tokenizer.model import HandTokenizer
    from unihm_planner.tokenizer.synthetic import LinearFingertips

    model = HandTokenizer.from_pretrained(cli_checkpoint / "ckpt")
    kin = {"ref_hand": LinearFingertips(10), "new_hand": LinearFingertips(7, seed=1)}
    r = translation_errors(model, open_source(cli_checkpoint / "data"), kin)
    assert set(r["pairs"]) == {"ref_hand->new_hand", "new_hand->ref_hand"} and r["mean_mm"] > 0


def test_lookup_bound_is_exact_on_training_windows_and_grows_off_them(cli_checkpoint, capsys):
    from unihm_planner.tokenizer.data import InMemorySource
    from unihm_planner.tokenizer.evaluate import nearest_window_errors

    rng = np.random.default_rng(0)
    train = {f"s{i}": rng.normal(size=(16, 3)) for i in range(4)}
    near = {k: v[:8] + 0.01 for k, v in train.items()}  # the train windows, shifted by 0.01 rad
    src = InMemorySource({"h": ("a", "b", "c")}, {"train": {"h": train}, "same": {"h": train}, "near": {"h": near}})
    assert nearest_window_errors(src, "h", "same")["mae"] == pytest.approx(0.0, abs=1e-12)
    r = nearest_window_errors(src, "h", "near")
    assert r["mae"] == pytest.approx(0.01, abs=1e-9) and r["train_windows"] == 16
    assert nearest_window_errors(src, "h", "near", train_fraction=0.5)["train_sequences"] == 2
    assert main(["tokenizer", "eval", "--checkpoint", str(cli_checkpoint / "ckpt"), "--data",
                 str(cli_checkpoint / "data"), "--lookup-bound"]) == 0
    assert "Lookup bound" in capsys.readouterr().out


def test_add_hand_on_a_copy_then_merge(cli_checkpoint, tmp_path, capsys):
    import torch

    from unihm_planner.tokenizer.model import HandTokenizer

    data, cfg = str(cli_checkpoint / "data"), str(cli_checkpoint / "tiny.yaml")
    ref, added, merged = (str(tmp_path / n) for n in ("ref", "added", "merged"))
    assert main(["tokenizer", "train", "--reference-only", "--config", cfg, "--data", data, "--out", ref]) == 0
    assert main(["tokenizer", "add-hand", "new_hand", "--checkpoint", ref, "--data", data, "--out", added]) == 0
    assert main(["tokenizer", "merge", added, "--checkpoint", ref, "--out", merged]) == 0
    a, m = HandTokenizer.from_pretrained(added), HandTokenizer.from_pretrained(merged)
    assert m.hands == ["ref_hand", "new_hand"]
    x = torch.randn(1, 16, len(m.joint_names["new_hand"])) * 0.3
    assert torch.equal(a.reconstruct(x, "new_hand"), m.reconstruct(x, "new_hand"))
    # the checkpoint trained with another seed has another codebook: refused, nothing written
    assert main(["tokenizer", "merge", str(cli_checkpoint / "ckpt"), "--checkpoint", ref,
                 "--out", str(tmp_path / "bad")]) == 2
    assert "codebook differs" in capsys.readouterr().err and not (tmp_path / "bad").exists()
