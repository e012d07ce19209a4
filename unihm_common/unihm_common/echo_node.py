"""Echo node: republishes raw CDR from `<name>_in` to `<name>_out` without deserialising.

Used to measure transport round trips and to check cross-process message integrity.
Parameter `topics`: list of "name:pkg/msg/Type" entries.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from rclpy.qos import QoSProfile, ReliabilityPolicy

from unihm_common.base_node import config_from_parameters, make_node, run_node
from unihm_common.errors import ConfigError


@dataclass(frozen=True)
class EchoConfig:
    topics: tuple[str, ...] = ()
    depth: int = 50

    def __post_init__(self) -> None:
        for entry in self.topics:
            if entry.count(":") != 1 or entry.split(":")[1].count("/") != 2:
                raise ConfigError(f"topics entry {entry!r} must look like 'name:pkg/msg/Type'")


def message_type(type_name: str):
    """'sensor_msgs/msg/PointCloud2' -> the message class."""
    pkg, kind, name = type_name.split("/")
    try:
        return getattr(importlib.import_module(f"{pkg}.{kind}"), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"unknown message type {type_name!r}: {exc}") from exc


def build_echo_node():
    node = make_node("echo")
    cfg = config_from_parameters(node, EchoConfig)
    qos = QoSProfile(depth=cfg.depth, reliability=ReliabilityPolicy.RELIABLE)
    node._echo_keep = []
    for entry in cfg.topics:
        name, type_name = entry.split(":")
        msg_type = message_type(type_name)
        pub = node.create_publisher(msg_type, f"{name}_out", qos)
        sub = node.create_subscription(msg_type, f"{name}_in", pub.publish, qos, raw=True)
        node._echo_keep.append((pub, sub))
    node.get_logger().info(f"echoing {len(cfg.topics)} topics")
    return node


def main(args: list[str] | None = None) -> int:
    return run_node(build_echo_node, args, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
