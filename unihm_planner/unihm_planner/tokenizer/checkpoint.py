"""Checkpoints in the standard layout: `config.json` (architecture, hands and joint orders, extras)
plus `model.safetensors` (every weight, the codebook and the per-hand normalisation buffers)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from unihm_common.errors import ConfigError, MissingDependencyError
from unihm_planner.tokenizer.config import tokenizer_config_from_dict
from unihm_planner.tokenizer.paths import default_checkpoint_dir

__all__ = ["save_pretrained", "load_pretrained", "read_config", "default_checkpoint_dir"]

FORMAT = "unihm-hand-tokenizer"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"


def save_pretrained(model, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
    """Write `model` to `directory`; `extra` (JSON-able, e.g. the training config) goes into config.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "tokenizer": asdict(model.config),
        "hands": {h: {"joint_names": list(j)} for h, j in model.joint_names.items()},
        "reference_hand": model.reference_hand,
        "aliases": {a: {"hand": h, "joint_names": list(j)} for a, (h, j) in model.aliases.items()},
    }
    if extra:
        meta.update({k: v for k, v in extra.items() if k not in meta})
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # write to temporary names then rename, so an interrupted save never leaves a torn checkpoint
    tmp_w, tmp_c = directory / (WEIGHTS_FILE + ".tmp"), directory / (CONFIG_FILE + ".tmp")
    save_file(tensors, str(tmp_w), metadata={"format": FORMAT})
    tmp_c.write_text(json.dumps(meta, indent=2) + "\n")
    tmp_w.replace(directory / WEIGHTS_FILE)
    tmp_c.replace(directory / CONFIG_FILE)
    return directory


def read_config(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not path.is_file() or not (directory / WEIGHTS_FILE).is_file():
        raise MissingDependencyError(
            f"no tokenizer checkpoint in {directory} (expected {CONFIG_FILE} and {WEIGHTS_FILE}); "
            "train one with `unihm tokenizer train --data DIR --out DIR`"
        )
    meta = json.loads(path.read_text())
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: not a hand-tokenizer checkpoint (format={meta.get('format')!r})")
    if meta.get("version") != VERSION:
        raise ConfigError(f"{path}: checkpoint version {meta.get('version')} is not supported (expected {VERSION})")
    return meta


def load_pretrained(directory: str | Path, expect_joint_names: dict[str, Sequence[str]] | None = None,
                    map_location: str | torch.device = "cpu"):
    """Rebuild a `HandTokenizer` from `directory`; check `expect_joint_names` against the stored orders."""
    from unihm_planner.tokenizer.model import HandTokenizer

    directory = Path(directory)
    meta = read_config(directory)
    cfg = tokenizer_config_from_dict(meta["tokenizer"], source=str(directory / CONFIG_FILE))
    model = HandTokenizer(cfg)
    for hand, info in meta["hands"].items():
        model.add_hand(hand, info["joint_names"])
    state = load_file(str(directory / WEIGHTS_FILE))
    missing = sorted(set(model.state_dict()) - set(state))
    unexpected = sorted(set(state) - set(model.state_dict()))
    if missing or unexpected:
        raise ConfigError(f"{directory}: weights do not match config.json (missing {missing[:5]}, "
                          f"unexpected {unexpected[:5]})")
    model.load_state_dict(state, strict=True)
    for alias, info in (meta.get("aliases") or {}).items():
        model.add_alias(alias, info["hand"], info["joint_names"])
    for hand, joints in (expect_joint_names or {}).items():
        if tuple(joints) != model.hand_joint_names(hand):
            raise ConfigError(
                f"{directory}: hand {hand!r} was trained with joint order {list(model.hand_joint_names(hand))}, "
                f"but the caller uses {list(joints)}"
            )
    return model.to(map_location).eval()
