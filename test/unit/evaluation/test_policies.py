"""Ablation training against stand-ins of unihm_planner.policy.{data,train,runner} (H2's API)."""

import json
import sys
import types
from dataclasses import dataclass

import pytest

from unihm_planner.evaluation import policies as P


@dataclass
class FakeTrainConfig:
    epochs: int = 1
    batch_size: int = 8
    lr: float = 1e-3
    seed: int = 0
    mask_curriculum: bool = True
    use_trajectory: bool = True


@pytest.fixture
def fake_policy(monkeypatch, tmp_path):
    calls = []

    class Runner:
        tokenizer = "TOK"
        policy = types.SimpleNamespace(config="MODEL_CFG")

        @classmethod
        def from_pretrained(cls, policy_dir=None, tokenizer_dir=None):
            return cls()

    def load_policy_samples(root, tokenizer, split, hand="shadow_right"):
        assert tokenizer == "TOK" and split == "train"
        return [types.SimpleNamespace(seq_id=f"s{i}") for i in range(4)]

    def train_policy(cfg, model_cfg, train_samples, out_dir, val_samples=None, tokenizer=None):
        assert tokenizer == "TOK"
        calls.append((cfg, model_cfg, [s.seq_id for s in train_samples]))
        out_dir.mkdir(parents=True, exist_ok=True)

    mods = {"data": {"load_policy_samples": load_policy_samples},
            "train": {"PolicyTrainConfig": FakeTrainConfig, "train_policy": train_policy},
            "runner": {"PolicyRunner": Runner}}
    for name, attrs in mods.items():
        m = types.ModuleType(f"unihm_planner.policy.{name}")
        m.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, m.__name__, m)
    policy_dir = tmp_path / "policy"
    policy_dir.mkdir()
    (policy_dir / "training.json").write_text(json.dumps({"train": {"epochs": 7, "lr": 5e-4, "unknown_key": 1}}))
    return calls, policy_dir


@pytest.mark.parametrize("key,flag", [("no_mask", "mask_curriculum"), ("no_traj", "use_trajectory")])
def test_ablation_uses_default_epochs_flag_and_fit_ids_and_caches(fake_policy, tmp_path, key, flag):
    calls, policy_dir = fake_policy
    out = P.train_ablation(key, tmp_path / "hoi", tmp_path / "work", policy_dir, {"s1", "s3"}, "shadow_right",
                           log=lambda m: None)
    assert len(calls) == 1
    cfg, model_cfg, ids = calls[0]
    assert getattr(cfg, flag) is False and cfg.epochs == 7 and cfg.lr == 5e-4
    other = ({"mask_curriculum", "use_trajectory"} - {flag}).pop()
    assert getattr(cfg, other) is True
    assert model_cfg == "MODEL_CFG" and ids == ["s1", "s3"]
    assert (out / "DONE").is_file()
    P.train_ablation(key, tmp_path / "hoi", tmp_path / "work", policy_dir, {"s1"}, "shadow_right", log=lambda m: None)
    assert len(calls) == 1  # cached
