"""Policy variants of the evaluation: the default checkpoint (+/- refinement) and the trained ablations.

Codes against `unihm_planner.policy` (data / train / runner). Ablations ("w/o Masked Training":
mask_curriculum=False, "w/o Trajectory Input": use_trajectory=False) are trained with `train_policy` on the
"fit" sequences (train split minus the seen held-out ids), with the default's epochs, and cached under
`work_dir/ablation_<key>/` (a `DONE` marker makes a later run reuse them).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unihm_common.errors import MissingDependencyError

DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[1] / "checkpoints" / "policy"
ABLATIONS = {"no_mask": ("w/o Masked Training", {"mask_curriculum": False}),
             "no_traj": ("w/o Trajectory Input", {"use_trajectory": False})}


def policy_available() -> bool:
    try:
        from unihm_planner.policy import runner  # noqa: F401
    except ImportError:
        return False
    return True


def load_runner(policy_dir: str | Path | None, tokenizer_dir: str | Path | None = None):
    try:
        from unihm_planner.policy.runner import PolicyRunner
    except ImportError as exc:
        raise MissingDependencyError(f"the policy runner is not available ({exc})") from exc
    return PolicyRunner.from_pretrained(policy_dir=policy_dir, tokenizer_dir=tokenizer_dir)


def default_train_config(policy_dir: Path | None) -> dict[str, Any]:
    """Training settings the default checkpoint recorded (training.json "train"), else {}."""
    p = Path(policy_dir or DEFAULT_POLICY_DIR) / "training.json"
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return {}
    return data.get("train", {}) if isinstance(data, dict) else {}


def _model_config(runner: Any, policy_dir: Path | None) -> Any:
    """The default checkpoint's PolicyConfig: from the runner's model, else its config.json "policy" entry."""
    cfg = getattr(getattr(runner, "policy", None), "config", None) or getattr(runner, "model_cfg", None)
    if cfg is not None:
        return cfg
    from unihm_planner.policy.config import policy_config_from_dict

    d = Path(policy_dir) if policy_dir else DEFAULT_POLICY_DIR
    return policy_config_from_dict(json.loads((d / "config.json").read_text())["policy"], source=str(d))


def train_ablation(key: str, hoi_root: Path, work_dir: Path, policy_dir: Path | None, fit_ids: set[str],
                   hand: str, epochs: int | None = None, log: Callable[[str], None] = print,
                   tokenizer_dir: Path | None = None) -> Path:
    """Train (or reuse) ablation `key`; returns its checkpoint folder."""
    out = Path(work_dir) / f"ablation_{key}"
    if (out / "DONE").is_file():
        return out
    from unihm_planner.policy.data import load_policy_samples
    from unihm_planner.policy.runner import PolicyRunner
    from unihm_planner.policy.train import PolicyTrainConfig, train_policy

    base = PolicyRunner.from_pretrained(policy_dir=policy_dir, tokenizer_dir=tokenizer_dir)
    tokenizer = getattr(base, "tokenizer", None) or getattr(base, "hand_tokenizer", None)
    model_cfg = _model_config(base, policy_dir)
    samples = [s for s in load_policy_samples(hoi_root, tokenizer, "train", hand=hand) if s.seq_id in fit_ids]
    known = {f.name for f in dataclasses.fields(PolicyTrainConfig)}
    recorded = {k: v for k, v in default_train_config(policy_dir).items() if k in known}
    overrides = dict(ABLATIONS[key][1])
    if epochs is not None:
        overrides["epochs"] = epochs
    cfg = dataclasses.replace(PolicyTrainConfig(**recorded), **overrides)
    log(f"training ablation {key}: {len(samples)} samples, {cfg}")
    train_policy(cfg, model_cfg, samples, out, tokenizer=tokenizer)
    (out / "DONE").write_text(json.dumps(dataclasses.asdict(cfg), default=str))
    return out
