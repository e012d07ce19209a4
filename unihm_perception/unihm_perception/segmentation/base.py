"""The object-segmentation interface: (RGB-D frame, instruction) -> the instructed object's cloud and mask."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError
from unihm_perception.frame import RGBDFrame

_REGISTRY: dict[str, tuple[type, type]] = {}
_BUILTIN = ("geometric", "pointsam")


@dataclass(frozen=True)
class Cluster:
    """One object candidate above the table, with the attributes grounding compares."""

    index: int
    points_world: np.ndarray  # (N, 3)
    pixels: np.ndarray  # (N, 2) row, col
    rgb: np.ndarray  # (3,) median colour in [0, 1]
    dims_m: tuple[float, float, float]  # height above table, major and minor horizontal extent

    def describe(self) -> str:
        from unihm_perception.segmentation.grounding import nearest_colour, size_of

        h, a, b = self.dims_m
        return (f"#{self.index} {size_of(self.dims_m)} {nearest_colour(self.rgb)} "
                f"({h * 100:.0f}x{a * 100:.0f}x{b * 100:.0f} cm) at {np.round(self.points_world.mean(0), 2).tolist()}")


@dataclass(frozen=True)
class Segmentation:
    """The instructed object. Points are in the world frame of the input frame."""

    phrase: str  # the grounded object phrase, e.g. "red mug"
    points_world: np.ndarray  # (N, 3)
    colours: np.ndarray  # (N, 3) float in [0, 1]
    mask: np.ndarray  # (H, W) bool
    table_plane: np.ndarray  # (4,) a, b, c, d with a x + b y + c z + d = 0, unit normal pointing up
    clusters: tuple[Cluster, ...] = ()
    chosen: int = -1  # index into clusters


class Segmenter(ABC):
    @abstractmethod
    def segment(self, frame: RGBDFrame, instruction: str) -> Segmentation:
        """Raises `InputError` for an unusable frame, an unknown word or no matching object."""


def register_segmenter(name: str, config_cls: type) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        _REGISTRY[name] = (cls, config_cls)
        return cls

    return deco


def segmenter_backends() -> list[str]:
    for mod in _BUILTIN:
        importlib.import_module(f"unihm_perception.segmentation.{mod}")
    return sorted(_REGISTRY)


def make_segmenter(backend: str = "geometric", config: dict[str, Any] | object | None = None) -> Segmenter:
    if backend not in _REGISTRY and backend in _BUILTIN:
        importlib.import_module(f"unihm_perception.segmentation.{backend}")
    if backend not in _REGISTRY:
        raise ConfigError(f"unknown segmentation backend {backend!r}; known: {', '.join(segmenter_backends())}")
    cls, config_cls = _REGISTRY[backend]
    if config is None:
        config = config_cls()
    elif isinstance(config, dict):
        config = from_dict(config_cls, config, source=f"segmenter '{backend}'")
    return cls(config)
