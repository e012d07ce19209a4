"""Rule of the house: only *_node.py files and the conversion module touch rclpy or messages.

A static walk of every module's import-time imports: core modules must not import rclpy, message
packages, a node module or the conversion module (which would pull rclpy in transitively).
Imports inside functions are allowed: a CLI handler may start a node when the user asks for it.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["unihm_common", "unihm_data", "unihm_perception", "unihm_planner", "unihm_refiner", "unihm_drivers",
            "unihm_description"]
ROS_MODULES = ("rclpy", "std_msgs", "sensor_msgs", "geometry_msgs", "trajectory_msgs", "nav_msgs",
               "visualization_msgs", "std_srvs", "builtin_interfaces", "unihm_msgs", "action_msgs", "launch",
               "launch_ros")
# Modules allowed to touch ROS: nodes, the conversion module, the launch glue.
ALLOWED = ("_node.py", "conversions.py", "launch_description.py")


def core_modules():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg / pkg).rglob("*.py")):
            if not path.name.endswith(ALLOWED):
                yield path


def _module_level(tree: ast.Module):
    """Statements executed at import time (not inside function bodies)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_names(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in _module_level(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


@pytest.mark.parametrize("path", list(core_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_does_not_import_ros(path):
    bad = []
    for name in imported_names(path):
        top = name.split(".")[0]
        leaf = name.split(".")[-1]
        if top in ROS_MODULES or leaf.endswith("_node") or leaf == "conversions":
            bad.append(name)
    assert not bad, f"{path.relative_to(ROOT)} imports ROS-side modules {bad}; move that code into a *_node.py"


def test_the_rule_catches_a_violation(tmp_path):
    f = tmp_path / "core.py"
    f.write_text("import numpy\nfrom rclpy.node import Node\nfrom unihm_common import conversions\n"
                 "def f():\n    import rclpy\n")
    names = list(imported_names(f))
    assert "rclpy.node" in names and "unihm_common.conversions" in names
    assert "rclpy" not in names
