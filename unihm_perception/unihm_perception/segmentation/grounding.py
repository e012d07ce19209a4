"""Parse an instruction into the attributes of the object to act on, and score clusters against them.

Vocabulary: colour words (scene.PALETTE), size words, nouns from the object catalogue and shape words,
plus verbs / determiners / spatial relations. The object phrase is the first one in the instruction
("put the red mug on the plate" -> red, mug); words after a relation name the reference object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from unihm_common.errors import InputError
from unihm_perception.scene import DEFAULT_OBJECTS, PALETTE, RECEPTACLES, catalog_asset

SIZE_WORDS = {"small": "small", "little": "small", "tiny": "small", "medium": "medium",
              "large": "large", "big": "large", "tall": "large"}
SHAPE_WORDS: dict[str, tuple[str, ...]] = {  # word -> shape classes it names
    "box": ("box",), "block": ("box",), "brick": ("box",), "cube": ("box",), "package": ("box",),
    "can": ("cylinder",), "cylinder": ("cylinder",), "tin": ("cylinder",),
    "ball": ("sphere",), "sphere": ("sphere",), "fruit": ("sphere", "capsule"),
    "cup": ("mug",), "mug": ("mug",), "bottle": ("bottle",), "tool": ("tool",),
    "plate": ("plate",), "dish": ("plate",), "tray": ("tray",), "pen": ("cylinder",),
    "object": (), "thing": (), "item": (),  # () = any shape
}
VERBS = {"pick", "up", "grasp", "grab", "take", "put", "place", "move", "push", "lift", "bring", "set", "hand",
         "give", "get", "hold", "carry", "drop", "slide", "please", "and", "it", "then"}
DETERMINERS = {"the", "a", "an", "this", "that"}
RELATIONS = {"in", "into", "on", "onto", "to", "of", "left", "right", "front", "behind", "next", "near", "beside",
             "top", "side", "inside", "at", "towards", "toward", "back", "over"}


@lru_cache(maxsize=1)
def noun_vocabulary() -> dict[str, frozenset[str]]:
    """noun -> catalogue names it can refer to (name tokens and shape words)."""
    names = (*DEFAULT_OBJECTS, *RECEPTACLES)
    classes = {n: _reference_dims(n)[1] for n in names}
    vocab: dict[str, set[str]] = {}
    for n in names:
        for tok in n.split("_"):
            vocab.setdefault(tok, set()).add(n)
    for word, shape_classes in SHAPE_WORDS.items():
        hits = {n for n in names if not shape_classes or classes[n] in shape_classes}
        vocab.setdefault(word, set()).update(hits)
    return {k: frozenset(v) for k, v in vocab.items()}


@lru_cache(maxsize=64)
def _reference_dims(name: str) -> tuple[tuple[float, float, float], str]:
    """(height, major, minor) extents in m at scale 1, and the shape class."""
    asset = catalog_asset(name)
    e = asset.extents
    return (float(e[2]), float(max(e[0], e[1])), float(min(e[0], e[1]))), asset.shape_class


def known_words() -> list[str]:
    return sorted(set(PALETTE) | set(SIZE_WORDS) | set(noun_vocabulary()) | VERBS | DETERMINERS | RELATIONS)


@dataclass(frozen=True)
class ObjectQuery:
    """The attributes of one object phrase. Empty fields were not stated."""

    colour: str | None
    size: str | None
    nouns: tuple[str, ...]
    phrase: str

    @property
    def candidates(self) -> frozenset[str]:
        """Catalogue names compatible with all nouns (all names when no noun was given)."""
        vocab = noun_vocabulary()
        out = frozenset().union(*vocab.values())
        for n in self.nouns:
            out &= vocab[n]
        return out


def tokenize(instruction: str) -> list[str]:
    return re.findall(r"[a-z]+", instruction.lower())


def _is_name_part(word: str, following: list[str], vocab: dict[str, frozenset[str]]) -> bool:
    """True when `word` and the next word name one catalogue object ("large marker", unlike "large box")."""
    return bool(word in vocab and following and vocab[word] & vocab.get(following[0], frozenset()))


def parse_instruction(instruction: str) -> tuple[ObjectQuery, ObjectQuery | None]:
    """(object to act on, reference object or None). Raises `InputError` on an unknown word."""
    if not isinstance(instruction, str) or not instruction.strip():
        raise InputError("instruction is empty; say which object, e.g. 'pick up the red mug'")
    toks = tokenize(instruction)
    vocab = noun_vocabulary()
    known = set(known_words())
    unknown = [t for t in toks if t not in known]
    if unknown:
        raise InputError(f"unknown word {unknown[0]!r} in instruction {instruction!r}; known words: "
                         f"{', '.join(known_words())}")
    phrases: list[list[str]] = [[]]
    for t in toks:
        if t in RELATIONS:
            if phrases[-1]:
                phrases.append([])
        elif t not in VERBS and t not in DETERMINERS:
            phrases[-1].append(t)
    queries = []
    for words in (p for p in phrases if p):
        colour = size = None
        nouns = []
        for i, w in enumerate(words):
            # "orange" is a colour before a noun ("the orange ball") and a noun at the end ("the orange")
            if w in PALETTE and not (w in vocab and i == len(words) - 1):
                colour = w
            elif w in SIZE_WORDS and not _is_name_part(w, words[i + 1:i + 2], vocab):
                size = SIZE_WORDS[w]
            else:
                nouns.append(w)
        queries.append(ObjectQuery(colour, size, tuple(nouns), " ".join(words)))
    if not queries:
        raise InputError(f"instruction {instruction!r} names no object (give a colour, size or name)")
    q = queries[0]
    if q.nouns and not q.candidates:
        raise InputError(f"no known object is a {' '.join(q.nouns)!r} (instruction {instruction!r})")
    return q, (queries[1] if len(queries) > 1 else None)


def colour_residual(rgb: np.ndarray, colour: str) -> float:
    """Distance (RGB units, 0..1) of `rgb` (3,) to the best shaded copy s * PALETTE[colour], s in [0.4, 1.1]."""
    c = np.asarray(PALETTE[colour])
    s = float(np.clip(np.dot(rgb, c) / max(np.dot(c, c), 1e-6), 0.4, 1.1))
    return float(np.linalg.norm(rgb - s * c))


def nearest_colour(rgb: np.ndarray) -> str:
    return min(PALETTE, key=lambda c: colour_residual(rgb, c))


def size_of(dims: tuple[float, float, float]) -> str:
    """Same thresholds as the data pipeline's size words (largest extent, m)."""
    ext = max(dims)
    return "small" if ext < 0.08 else ("large" if ext > 0.2 else "medium")


def shape_error(dims: tuple[float, float, float], candidates: frozenset[str]) -> float:
    """min over candidate names of a log-ratio mismatch of (height, major) extents."""
    h, major, _minor = (max(d, 1e-3) for d in dims)
    best = np.inf
    for name in candidates:
        (he, me, _), _cls = _reference_dims(name)
        best = min(best, abs(np.log(h / he)) + 0.5 * abs(np.log(major / me)))
    return float(best)
