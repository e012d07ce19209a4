"""`unihm bench tokenizer [--json]`: held-out reconstruction, codebook usage, throughput, translation.

Keys: overall_mae, overall_rmse (rad), per_hand {hand: {mae, rmse}}, codebook_used_frac,
frames_per_s (tokenize + detokenize on CPU), translate_fingertip_err_mm (null with a note when no
hand kinematics are available).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from unihm_common.errors import MissingDependencyError
from unihm_planner.tokenizer.paths import config_path, default_checkpoint_dir

CONFIG_FILE, WEIGHTS_FILE = "config.json", "model.safetensors"
TRAIN_HINT = "unihm tokenizer train --config {config} --data DATA_DIR --out {out}"


def default_data_root() -> str | None:
    """$UNIHM_DATA_ROOT, else the data pipeline's default root if it declares one."""
    if os.environ.get("UNIHM_DATA_ROOT"):
        return os.environ["UNIHM_DATA_ROOT"]
    try:
        from unihm_data import dataset
    except ImportError:
        return None
    for name in ("DEFAULT_ROOT", "default_root"):
        value = getattr(dataset, name, None)
        value = value() if callable(value) else value
        if value:
            return str(value)
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="unihm bench tokenizer", description=__doc__)
    p.add_argument("--checkpoint", default=str(default_checkpoint_dir()), help="checkpoint directory")
    p.add_argument("--data", default=None, help="data root (default: $UNIHM_DATA_ROOT or unihm_data's default)")
    p.add_argument("--split", default="test", help="held-out split")
    p.add_argument("--throughput-batch", type=int, default=64, help="chunks per tokenize+detokenize call")
    p.add_argument("--throughput-frames", type=int, default=64, help="frames per chunk")
    return p


def require_checkpoint(path: str | Path) -> Path:
    path = Path(path)
    if not (path / CONFIG_FILE).is_file() or not (path / WEIGHTS_FILE).is_file():
        raise MissingDependencyError(
            f"no tokenizer checkpoint at {path} ({CONFIG_FILE} + {WEIGHTS_FILE}); the default one is produced "
            f"by the project's training pipeline: `{TRAIN_HINT.format(config=config_path('default'), out=path)}` "
            "(recipe in docs/tokenizer.md)"
        )
    return path


def run_benchmark(argv: list[str]) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    ckpt = require_checkpoint(args.checkpoint)
    data = args.data or default_data_root()
    if not data:
        raise MissingDependencyError("no data root: pass --data DIR or set UNIHM_DATA_ROOT")

    import torch

    from unihm_planner.tokenizer.data import open_source
    from unihm_planner.tokenizer.evaluate import (
        load_kinematics,
        reconstruction_errors,
        throughput_frames_per_s,
        translation_errors,
    )
    from unihm_planner.tokenizer.model import HandTokenizer

    model = HandTokenizer.from_pretrained(ckpt, map_location="cpu")
    source = open_source(data)
    hands = [h for h in model.hands if h in source.hands()]
    rec = reconstruction_errors(model, source, args.split, hands)
    kin, notes = load_kinematics(hands)
    tr = translation_errors(model, source, kin, args.split) if kin else {"pairs": {}, "mean_mm": None}
    if not kin:
        notes.append("translate_fingertip_err_mm is null: no hand kinematics available")
    with torch.inference_mode():
        fps = throughput_frames_per_s(model, model.reference_hand, args.throughput_batch, args.throughput_frames)
    return {
        "overall_mae": rec["overall_mae"],
        "overall_rmse": rec["overall_rmse"],
        "per_hand": {h: {"mae": v["mae"], "rmse": v["rmse"]} for h, v in rec["per_hand"].items()},
        "codebook_used_frac": rec["codebook_used_frac"],
        "frames_per_s": fps,
        "translate_fingertip_err_mm": tr["mean_mm"],
        "translate_pairs_mm": tr["pairs"],
        "backbone": model.config.backbone,
        "checkpoint": str(ckpt),
        "split": args.split,
        "torch_threads": torch.get_num_threads(),
        "notes": notes,
    }
