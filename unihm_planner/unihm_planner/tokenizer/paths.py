"""Where the tokenizer's shipped files live (no torch import: the CLI registers with this)."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def default_checkpoint_dir() -> Path:
    """The project's default tokenizer checkpoint (config.json + model.safetensors, committed)."""
    return PACKAGE_DIR.parent / "checkpoints" / "tokenizer"


def config_path(name: str) -> Path:
    """A shipped training config: `default` (the real recipe) or `tiny` (smoke runs)."""
    return PACKAGE_DIR / "configs" / f"{name}.yaml"
