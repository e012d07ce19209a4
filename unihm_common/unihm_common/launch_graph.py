"""The one description of each hand's ROS graph, read by `launch/*.launch.py` AND `unihm bringup`.

`hand_graph()` returns plain `NodeSpec`s (no launch imports), so the ROS 2 launch files (real
`launch_ros` Nodes, for users with a full ROS install) and the project's own supervisor (for
users with ROS from PyPI wheels) start exactly the same nodes with the same parameter files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unihm_common.errors import ConfigError
from unihm_common.hands.registry import resolve_hand_name


@dataclass(frozen=True)
class NodeSpec:
    """One node of a graph, in the terms of launch_ros.actions.Node."""

    package: str
    executable: str
    name: str
    namespace: str = ""
    params_files: tuple[Path, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)  # inline overrides, win over files
    remappings: tuple[tuple[str, str], ...] = ()
    respawn: bool = True
    respawn_delay_s: float = 1.0
    required: bool = False  # if it exits for good, the whole graph shuts down

    @property
    def qualified_name(self) -> str:
        """`<namespace>/<name>` without the leading slash (just `name` at the root): unique in a graph."""
        return "/".join(p for p in (self.namespace.strip("/"), self.name) if p)

    def ros_args(self) -> list[str]:
        """The `--ros-args ...` a process of this node is started with."""
        args = ["--ros-args", "-r", f"__node:={self.name}"]
        if self.namespace:
            args += ["-r", f"__ns:={_absolute(self.namespace)}"]
        for src, dst in self.remappings:
            args += ["-r", f"{src}:={dst}"]
        for path in self.params_files:
            args += ["--params-file", str(path)]
        for key, value in self.parameters.items():
            args += ["-p", f"{key}:={_param_literal(value)}"]
        return args


def _absolute(namespace: str) -> str:
    return namespace if namespace.startswith("/") else "/" + namespace


def _param_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a YAML double-quoted scalar: safe for ':' and '[' in values
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_param_literal(v) for v in value) + "]"
    return repr(value)


def launch_dir() -> Path:
    """Folder of the launch files and their `config/` (override with UNIHM_LAUNCH_DIR)."""
    env = os.environ.get("UNIHM_LAUNCH_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "launch" / "config").is_dir():
            return parent / "launch"
    raise ConfigError("cannot find the launch/ folder (with launch/config/); set UNIHM_LAUNCH_DIR")


def graph_params_files(hand: str, config_dir: Path | None = None) -> tuple[Path, ...]:
    """Parameter files for a hand's graph: defaults, then the hand's own file if it has one."""
    config = Path(config_dir) if config_dir is not None else launch_dir() / "config"
    files = [config / "default.yaml"]
    own = config / f"{hand}.yaml"
    if own.is_file():
        files.append(own)
    return tuple(files)


def hand_graph(
    hand: str,
    *,
    use_sim: bool = True,
    namespace: str = "",
    robot_ip: str = "",
    serial_port: str = "",
    config_dir: Path | None = None,
    full: bool = False,
    arm: str = "",
) -> list[NodeSpec]:
    """The nodes that bring up `hand` (alias allowed; unknown hands raise UnknownHandError).

    `full`: the whole manipulation graph (camera → perception → planner → policy → refiner → driver, and the
    manipulation node with the `manipulate` action), see `manipulation_graph`; otherwise driver + refiner.

    `config_dir` holds `default.yaml` and optional `<hand>.yaml` parameter files (ros__parameters
    format); launch files pass their own `config/` folder, the CLI finds it with `launch_dir()`.
    """
    if full:
        return manipulation_graph([hand], use_sim=use_sim, namespace=namespace, robot_ip=robot_ip,
                                  serial_port=serial_port, config_dir=config_dir, arm=arm)
    hand = resolve_hand_name(hand)
    files = graph_params_files(hand, config_dir)
    common = {"hand": hand}
    driver_params = {**common, "use_sim": use_sim}
    if robot_ip:
        driver_params["robot_ip"] = robot_ip
    if serial_port:
        driver_params["serial_port"] = serial_port
    return [
        NodeSpec("unihm_drivers", "driver_node", "hand_driver", namespace, files, driver_params, required=True),
        NodeSpec("unihm_refiner", "refiner_node", "refiner", namespace, files, common),
    ]


def manipulation_graph(
    hands: list[str],
    *,
    use_sim: bool = True,
    namespace: str = "",
    robot_ip: str = "",
    serial_port: str = "",
    config_dir: Path | None = None,
    arm: str = "",
    camera: Mapping[str, Any] | None = None,
) -> list[NodeSpec]:
    """The full graph for one or more hands (docs/architecture.md, "The manipulation graph").

    Shared in `namespace`: camera, perception, planner, policy and manipulation nodes. Per hand, in
    `<namespace>/<hand>`: its driver (`arm`: e.g. "fr3" to carry the hand on an arm) and its refiner, which reads
    the shared `object_cloud` and `target_path`. `camera`: extra camera-node parameters (e.g. scene_seed).
    """
    if not hands:
        raise ConfigError("manipulation_graph needs at least one hand")
    names = [resolve_hand_name(h) for h in hands]
    if len(set(names)) != len(names):
        raise ConfigError(f"hands listed twice: {hands}")
    files = graph_params_files("", config_dir)
    ns = namespace.strip("/")
    shared = "/" + ns if ns else ""
    specs = [
        NodeSpec("unihm_perception", "camera_node", "camera", namespace, files, dict(camera or {})),
        NodeSpec("unihm_perception", "perception_node", "perception", namespace, files),
        NodeSpec("unihm_planner", "planner_node", "planner", namespace, files),
        NodeSpec("unihm_planner", "policy_node", "policy", namespace, files),
        NodeSpec("unihm_planner", "manipulation_node", "manipulation", namespace, files, {"hands": names},
                 required=True),
    ]
    for hand in names:
        hand_ns = f"{ns}/{hand}" if ns else hand
        hand_files = graph_params_files(hand, config_dir)
        driver_params: dict[str, Any] = {"hand": hand, "use_sim": use_sim}
        if robot_ip:
            driver_params["robot_ip"] = robot_ip
        if serial_port:
            driver_params["serial_port"] = serial_port
        remap = (("object_cloud", f"{shared}/object_cloud"), ("target_path", f"{shared}/target_path"))
        specs += [
            NodeSpec("unihm_drivers", "driver_node", "hand_driver", hand_ns, hand_files, driver_params, required=True),
            NodeSpec("unihm_refiner", "refiner_node", "refiner", hand_ns, hand_files, {"hand": hand},
                     remappings=remap),
        ]
        if arm:  # a second driver carries the hand: wrist poses of the same trajectories -> arm IK
            arm_params = {k: v for k, v in driver_params.items() if k != "serial_port"} | {"arm": arm}
            specs.append(NodeSpec("unihm_drivers", "driver_node", "arm_driver", hand_ns, hand_files, arm_params,
                                  required=True))
    return specs
