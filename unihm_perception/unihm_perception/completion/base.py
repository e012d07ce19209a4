"""Shape-completion interface: a partial object cloud (one view) -> a complete cloud with outward normals."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, InputError

_REGISTRY: dict[str, tuple[type, type]] = {}
_BUILTIN = ("classical", "snowflake")


@dataclass(frozen=True)
class CompletedCloud:
    points: np.ndarray  # (M, 3) world
    normals: np.ndarray  # (M, 3) unit, outward


class Completer(ABC):
    @abstractmethod
    def complete(self, points: np.ndarray, view_point: np.ndarray | None = None) -> CompletedCloud:
        """(N, 3) partial cloud in a z-up world frame (table at z = 0); `view_point` (3,) is the camera position."""


def check_partial(points: np.ndarray, min_points: int = 10) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3:
        raise InputError(f"partial cloud must be (N, 3), got {p.shape}")
    p = p[np.all(np.isfinite(p), axis=1)]
    if len(p) < min_points:
        raise InputError(f"partial cloud has {len(p)} finite points; need at least {min_points} to complete")
    return p


def chamfer_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Symmetric Chamfer distance (mean nearest-neighbour distance both ways, m) of (N,3) and (M,3)."""
    from scipy.spatial import cKDTree

    return float(cKDTree(b).query(a)[0].mean() + cKDTree(a).query(b)[0].mean())


def register_completer(name: str, config_cls: type) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        _REGISTRY[name] = (cls, config_cls)
        return cls

    return deco


def completer_backends() -> list[str]:
    for mod in _BUILTIN:
        importlib.import_module(f"unihm_perception.completion.{mod}")
    return sorted(_REGISTRY)


def make_completer(backend: str = "classical", config: dict[str, Any] | object | None = None) -> Completer:
    if backend not in _REGISTRY and backend in _BUILTIN:
        importlib.import_module(f"unihm_perception.completion.{backend}")
    if backend not in _REGISTRY:
        raise ConfigError(f"unknown completion backend {backend!r}; known: {', '.join(completer_backends())}")
    cls, config_cls = _REGISTRY[backend]
    if config is None:
        config = config_cls()
    elif isinstance(config, dict):
        config = from_dict(config_cls, config, source=f"completer '{backend}'")
    return cls(config)
