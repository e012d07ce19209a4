"""What every UniHM node shares: parameters -> frozen config dataclass, and a clean `main`.

Nodes stay thin: they convert messages, hold a config built here, and call the pure core.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import rclpy
from rclpy._rclpy_pybind11 import RCLError
from rclpy.action import ActionClient
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter

from unihm_common.config import from_dict, load_yaml
from unihm_common.errors import ConfigError, UnihmError

T = TypeVar("T")
_ROS_BUILTIN_PARAMS = {"use_sim_time", "start_type_description_service"}


def params_files_from_args(argv: list[str] | None = None) -> list[str]:
    argv = sys.argv if argv is None else argv
    return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--params-file"]


def check_params_file(path: str | Path) -> None:
    """Fail early, naming the file and key, on a parameter file rcl would reject or misread."""
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must map node names to {{ros__parameters: ...}}")
    for key, section in data.items():
        if not isinstance(section, dict) or set(section) != {"ros__parameters"}:
            raise ConfigError(f"{path}: node section {key!r} must hold exactly one key 'ros__parameters'")
        if not isinstance(section["ros__parameters"], dict):
            raise ConfigError(f"{path}: {key}.ros__parameters must be a mapping")


def _param_value(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    return list(value) if isinstance(value, (tuple,)) else value


def config_from_parameters(node: Node, cls: type[T]) -> T:
    """Build `cls` from the node's parameter overrides (files and -p), strictly.

    Every override is seen, so an unknown key raises `ConfigError` naming the key and the
    parameter file. The resulting values are then declared as the node's parameters, so
    `ros2 param list/get` shows the full configuration.
    """
    hints = typing.get_type_hints(cls)
    values = {}
    for name, param in node._parameter_overrides.items():  # rclpy keeps overrides here before declaration
        if name in _ROS_BUILTIN_PARAMS:
            continue
        value = _param_value(param.value)
        if param.type_ == Parameter.Type.NOT_SET and value is None:
            value = []  # rcl gives an empty YAML list no type
        values[name] = value
    files = params_files_from_args()
    source = f"parameters of node {node.get_fully_qualified_name()!r}"
    if files:
        source += f" (from {', '.join(files)})"
    config = from_dict(cls, _nest(values), source=source)
    for field in dataclasses.fields(cls):
        value = getattr(config, field.name)
        if node.has_parameter(field.name) or value is None:
            continue
        if hints[field.name] in (bool, int, float, str) or (isinstance(value, tuple) and value):
            node.declare_parameter(field.name, list(value) if isinstance(value, tuple) else value)
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


class SafeActionClient(ActionClient):
    """`rclpy.action.ActionClient` that can be created on a node an executor is already spinning.

    rclpy (Kilted) registers the client with its node before it creates the client's lock, so an executor thread
    that wakes in between calls `take_data` and dies with "'ActionClient' object has no attribute '_lock'" (seen
    once in 12 `unihm demo` runs). The lock exists here before the client is registered.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        lock = self._lock = threading.Lock()
        super().__init__(*args, **kwargs)
        self._lock = lock  # the same lock for every caller, before and after rclpy's own assignment


def make_node(name: str, **kwargs: Any) -> Node:
    """A Node whose parameters are declared by `config_from_parameters` (strict config loading)."""
    return Node(name, **kwargs)


def _spin(executor, node, burst: int = 50, window_s: float = 10.0) -> None:
    """`executor.spin()` that survives one failing callback or message take: the error is logged with its
    traceback and the node keeps serving (one bad message must not take a stage down). A burst of `burst`
    errors within `window_s` re-raises, so a node that is really broken exits and is restarted."""
    import time
    import traceback

    errors: list[float] = []
    while rclpy.ok():
        try:
            executor.spin_once(timeout_sec=0.5)
        except (KeyboardInterrupt, ExternalShutdownException, UnihmError):
            raise
        except Exception:
            if not rclpy.ok():
                return  # shutting down: a take on a destroyed handle, nothing to report
            now = time.monotonic()
            errors = [t for t in errors if now - t < window_s] + [now]
            node.get_logger().error(f"callback failed (node keeps running):\n{traceback.format_exc()}")
            if len(errors) >= burst:
                raise


def run_node(factory: Callable[[], Node], args: list[str] | None = None, threads: int = 1) -> int:
    """rclpy.init, build the node, spin until SIGINT/SIGTERM, shut down. Returns the exit code.

    One thread by default: rclpy's MultiThreadedExecutor was measured here to add ~0.4 s batching
    latency with one worker, and to busy-spin a core while a callback runs (the node then misses
    SIGTERM). Long work belongs in the core's own threads (as the driver's control loop does).

    A configuration error exits with code 2 and the message on stderr (names the offending key).
    """
    node = None
    code = 0
    try:
        for path in params_files_from_args(args if args is not None else None):
            check_params_file(path)
    except ConfigError as exc:
        print(f"[{Path(sys.argv[0]).name}] configuration error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        rclpy.init(args=args)
    except RCLError as exc:  # malformed --ros-args (e.g. an unparsable -p override)
        print(f"[{Path(sys.argv[0]).name}] configuration error: {exc}", file=sys.stderr, flush=True)
        return 2
    try:
        node = factory()
        executor = SingleThreadedExecutor() if threads <= 1 else MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        _spin(executor, node)
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
