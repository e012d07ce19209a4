"""The camera interface and its registry. Backends register themselves by name with `@register_camera`."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError
from unihm_perception.frame import RGBDFrame

_REGISTRY: dict[str, tuple[type, type]] = {}  # name -> (camera class, config class)
_BUILTIN = ("synthetic", "zed", "bag")  # modules of unihm_perception.camera imported on demand


class Camera(ABC):
    """A source of `RGBDFrame`s. Use as a context manager: `with make_camera(...) as cam: cam.read()`."""

    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect to the device / open the file. Idempotent."""

    @abstractmethod
    def read(self) -> RGBDFrame:
        """The next frame. Raises `InputError` when the source is exhausted or the frame unusable."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the device. Idempotent."""

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def register_camera(name: str, config_cls: type) -> Callable[[type], type]:
    def deco(cls: type) -> type:
        _REGISTRY[name] = (cls, config_cls)
        return cls

    return deco


def camera_backends() -> list[str]:
    for mod in _BUILTIN:
        importlib.import_module(f"unihm_perception.camera.{mod}")
    return sorted(_REGISTRY)


def make_camera(backend: str, config: dict[str, Any] | object | None = None) -> Camera:
    """Build the camera `backend` from its config dataclass or a dict (checked strictly)."""
    if backend not in _REGISTRY and backend in _BUILTIN:
        importlib.import_module(f"unihm_perception.camera.{backend}")
    if backend not in _REGISTRY:
        raise ConfigError(f"unknown camera backend {backend!r}; known: {', '.join(camera_backends())}")
    cls, config_cls = _REGISTRY[backend]
    if config is None:
        config = config_cls()
    elif isinstance(config, dict):
        config = from_dict(config_cls, config, source=f"camera '{backend}'")
    return cls(config)
