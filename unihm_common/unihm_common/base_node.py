"""What every UniHM node shares: parameters -> frozen config dataclass, and a clean `main`.

Nodes stay thin: they convert messages, hold a config built here, and call the pure core.
"""

from __future__ import annotations

import dataclasses
import sys
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import rclpy
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from unihm_common.config import from_dict
from unihm_common.errors import ConfigError, UnihmError

T = TypeVar("T")
_ROS_BUILTIN_PARAMS = {"use_sim_time", "start_type_description_service"}


def params_files_from_args(argv: list[str] | None = None) -> list[str]:
    argv = sys.argv if argv is None else argv
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--params-file"]


def _param_value(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return list(value) if isinstance(value, (tuple,)) else value


def config_from_parameters(node: Node, cls: type[T]) -> T:
    """Build `cls` from the node's parameter overrides, strictly.

    The node must be created with `automatically_declare_parameters_from_overrides=True` so that
    every key of its parameter file is seen: an unknown key raises `ConfigError` naming the key
    and the parameter file. Fields not overridden keep their defaults and are declared too, so
    `ros2 param list` shows the full configuration.
    """
    values = {}
    for name, param in node.get_parameters_by_prefix("").items():
        if name in _ROS_BUILTIN_PARAMS or param.type_ == Parameter.Type.NOT_SET:
            continue
        values[name] = _param_value(param.value)
    files = params_files_from_args()
    source = f"parameters of node {node.get_fully_qualified_name()!r}"
    if files:
        source += f" (from {', '.join(files)})"
    nested = _nest(values)
    config = from_dict(cls, nested, source=source)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in nested or node.has_parameter(field.name):
            continue
        value = getattr(config, field.name)
        if hints[field.name] in (bool, int, float, str) and value is not None:
            node.declare_parameter(field.name, value)
    return config


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """'a.b': 1 -> {'a': {'b': 1}} (ROS parameter files flatten nested mappings with dots)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split(".")
        cursor = out
        for p in parts[:-1]:
            cursor = cursor.setdefault(p, {})
        cursor[parts[-1]] = value
    return out


def make_node(name: str, **kwargs: Any) -> Node:
    """A Node that sees every key of its parameter file (for strict config loading)."""
    return Node(name, automatically_declare_parameters_from_overrides=True, **kwargs)


def run_node(factory: Callable[[], Node], args: list[str] | None = None, threads: int = 2) -> int:
    """rclpy.init, build the node, spin until SIGINT/SIGTERM, shut down. Returns the exit code.

    A configuration error exits with code 2 and the message on stderr (names the offending key).
    """
    rclpy.init(args=args)
    node = None
    code = 0
    try:
        node = factory()
        executor = SingleThreadedExecutor() if threads <= 1 else MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        code = 0
    except ConfigError as exc:
        print(f"[{Path(sys.argv[0]).name}] configuration error: {exc}", file=sys.stderr, flush=True)
        code = 2
    except UnihmError as exc:
        print(f"[{Path(sys.argv[0]).name}] error: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        if node is not None:
            close = getattr(node, "close", None)
            if callable(close):
                close()
            node.destroy_node()
        rclpy.try_shutdown()
    return code
