"""Strict loading of frozen config dataclasses from dicts, YAML files and ROS parameter files.

Raw dicts never pass the loader: unknown keys, missing required keys and wrong types raise
`ConfigError` naming the source file and the offending key.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from unihm_common.errors import ConfigError

T = TypeVar("T")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`; allow int->float and list->tuple."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in args:
            if arg is type(None):
                if value is None:
                    return None
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(f"{where}: {value!r} matches none of {[_type_name(a) for a in args]}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {list(args)}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = [_coerce(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
        elif origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            items = [_coerce(v, a, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value))]
        else:
            inner = args[0] if args else Any
            items = [_coerce(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__}")
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, where): _coerce(v, vt, f"{where}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {value!r}")
        return from_dict(tp, value, source=where)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {type(value).__name__} {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {type(value).__name__} {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {type(value).__name__} {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
        return value
    if tp is Path:
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{where}: expected a path, got {type(value).__name__} {value!r}")
        return Path(value)
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return value


def from_dict(cls: type[T], data: dict[str, Any], source: str = "<dict>") -> T:
    """Build the dataclass `cls` from `data`, rejecting unknown keys and wrong types.

    `source` names where the data came from (a file path, a node name) for error messages.
    Validation in the dataclass's own `__post_init__` is re-raised as `ConfigError` with `source`.
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping for {cls.__name__}, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} for {cls.__name__} "
            f"(known keys: {', '.join(sorted(fields))})"
        )
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, field in fields.items():
        if name not in data:
            no_default = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
            if no_default:
                raise ConfigError(f"{source}: missing required key {name!r} for {cls.__name__}")
            continue
        kwargs[name] = _coerce(data[name], hints[name], f"{source}: key {name!r}")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: invalid {cls.__name__}: {exc}") from exc


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning syntax errors into `ConfigError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: YAML syntax error: {exc}") from exc


def load_ros_params(path: str | Path, node_name: str) -> dict[str, Any]:
    """Return the `ros__parameters` of `node_name` from a ROS 2 parameter file.

    Accepts the node's plain name, its fully qualified name (`/ns/name`) and the `/**` wildcard,
    merged in that order of increasing precedence, as rcl does.
    """
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of node names")
    merged: dict[str, Any] = {}
    base = node_name.rsplit("/", 1)[-1]
    for key in ("/**", base, "/" + base, node_name):
        section = data.get(key)
        if section is None:
            continue
        if not isinstance(section, dict) or "ros__parameters" not in section:
            raise ConfigError(f"{path}: node section {key!r} needs a 'ros__parameters' mapping")
        params = section["ros__parameters"]
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: {key}.ros__parameters must be a mapping")
        merged.update(params)
    return merged
