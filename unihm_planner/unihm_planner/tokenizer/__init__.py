"""Unified Hand-Dexterous Tokenizer (paper §3.2): per-hand VQ-VAE encoders/decoders, one codebook.

`HandTokenizer.from_pretrained(default_checkpoint_dir())` loads the project's default checkpoint.
Submodules import torch; this package file does not, so the CLI stays light.
"""

__all__ = ["HandTokenizer", "TokenizerConfig", "TrainConfig", "RunConfig", "default_checkpoint_dir", "load_default"]


def __getattr__(name: str):
    if name == "HandTokenizer":
        from unihm_planner.tokenizer.model import HandTokenizer

        return HandTokenizer
    if name in ("TokenizerConfig", "TrainConfig", "RunConfig"):
        from unihm_planner.tokenizer import config

        return getattr(config, name)
    if name == "default_checkpoint_dir":
        from unihm_planner.tokenizer.paths import default_checkpoint_dir

        return default_checkpoint_dir
    if name == "load_default":
        return load_default
    raise AttributeError(name)


def load_default(map_location: str = "cpu"):
    """The project's default tokenizer; raises MissingDependencyError (with the training command) if absent."""
    from unihm_planner.tokenizer.bench import require_checkpoint
    from unihm_planner.tokenizer.model import HandTokenizer
    from unihm_planner.tokenizer.paths import default_checkpoint_dir

    return HandTokenizer.from_pretrained(require_checkpoint(default_checkpoint_dir()), map_location=map_location)
