"""Merge hands added in parallel: `add-hand` runs on copies of one checkpoint (separate processes or machines)
each add one hand; `merge_hands` copies those hands into the base. Adding a hand never changes the codebook or
another hand, so the merge only has to check that every source really grew from the same base."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from unihm_common.errors import ConfigError

__all__ = ["merge_hands"]

PER_HAND = ("encoders", "decoders", "norms")


def _same_state(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def merge_hands(base_dir: str | Path, source_dirs: Sequence[str | Path], out_dir: str | Path | None = None):
    """Copy every hand of `source_dirs` that `base_dir` lacks into it (written to `out_dir`, default the base).

    Each source must share the base's tokenizer config, codebook and every hand the base has, bit for bit;
    two sources that both add the same hand must agree on it. Returns the merged `HandTokenizer`.
    """
    from unihm_planner.tokenizer.checkpoint import read_config, save_pretrained
    from unihm_planner.tokenizer.model import HandTokenizer

    if not source_dirs:
        raise ConfigError("merge_hands needs at least one source checkpoint")
    base = HandTokenizer.from_pretrained(base_dir)
    meta = read_config(base_dir)
    stages = list(meta.get("stages_completed", []))
    added: dict[str, Path] = {}
    for src_dir in map(Path, source_dirs):
        src = HandTokenizer.from_pretrained(src_dir)
        if src.config != base.config:
            raise ConfigError(f"{src_dir}: tokenizer config differs from {base_dir}'s ({src.config} vs {base.config})")
        if not torch.equal(src.quantizer.codebook, base.quantizer.codebook):
            raise ConfigError(f"{src_dir}: its codebook differs from {base_dir}'s: it did not grow from that base")
        if src.reference_hand != base.reference_hand:
            raise ConfigError(f"{src_dir}: reference hand {src.reference_hand!r} != {base.reference_hand!r}")
        for hand in src.hands:
            known = hand in base.hands
            if known and not all(_same_state(getattr(base, m)[hand], getattr(src, m)[hand]) for m in PER_HAND):
                where = f"added from {added[hand]}" if hand in added else f"in {base_dir}"
                raise ConfigError(f"{src_dir}: hand {hand!r} differs from the one {where}")
            if known:
                continue
            base.add_hand(hand, src.joint_names[hand])
            for m in PER_HAND:
                getattr(base, m)[hand].load_state_dict(getattr(src, m)[hand].state_dict())
            added[hand] = src_dir
            stages += [s for s in read_config(src_dir).get("stages_completed", []) if s.endswith(":" + hand)]
    extra = {k: v for k, v in meta.items() if k not in ("format", "version", "tokenizer", "hands", "aliases")}
    extra["stages_completed"] = stages
    save_pretrained(base, out_dir or base_dir, extra=extra)
    return base
