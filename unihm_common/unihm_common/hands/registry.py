"""Discover hands from the description folders: adding a hand = adding one folder.

A hand folder is any directory under a `hands/` root that holds a `hand.yaml`. Its name is the
folder name. A hand.yaml may list `aliases` (e.g. `inspire` for `inspire_right`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from unihm_common.errors import UnknownHandError
from unihm_description import hands_dirs


@lru_cache(maxsize=1)
def _scan() -> tuple[dict[str, Path], dict[str, str]]:
    folders: dict[str, Path] = {}
    aliases: dict[str, str] = {}
    for root in hands_dirs():
        for sub in sorted(root.iterdir()):
            if sub.name in folders or not (sub / "hand.yaml").is_file():
                continue  # earlier roots take precedence
            folders[sub.name] = sub
    for name, sub in folders.items():
        try:
            data = yaml.safe_load((sub / "hand.yaml").read_text()) or {}
        except yaml.YAMLError:
            continue  # the spec loader reports syntax errors with file and line
        for alias in data.get("aliases", []) or []:
            aliases.setdefault(str(alias), name)
    return folders, aliases


def refresh() -> None:
    """Forget the cached scan (after adding a hand folder at run time)."""
    _scan.cache_clear()


def available_hands() -> list[str]:
    """Canonical names of every discovered hand, sorted."""
    return sorted(_scan()[0])


def hand_aliases() -> dict[str, str]:
    return dict(_scan()[1])


def resolve_hand_name(name: str) -> str:
    """Return the canonical hand name for `name` or an alias; raise `UnknownHandError` listing hands."""
    folders, aliases = _scan()
    if name in folders:
        return name
    if name in aliases:
        return aliases[name]
    known = ", ".join(available_hands()) or "(none found: is unihm_description installed?)"
    alias_txt = f"; aliases: {', '.join(sorted(aliases))}" if aliases else ""
    raise UnknownHandError(f"unknown hand {name!r}; known hands: {known}{alias_txt}")


def hand_dir(name: str) -> Path:
    """The folder of hand `name` (alias allowed)."""
    return _scan()[0][resolve_hand_name(name)]
