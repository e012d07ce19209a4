"""colcon-compatible metadata: package.xml agrees with setup.py, markers exist, launch files are sound."""

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from unihm_common.hands.registry import available_hands
from unihm_common.launch_graph import hand_graph

ROOT = Path(__file__).resolve().parents[2]
PY_PACKAGES = sorted(p.parent.name for p in ROOT.glob("unihm_*/setup.py"))


def setup_kwargs(pkg: str) -> dict:
    """Literal keyword arguments of the setup() call and module-level constants."""
    tree = ast.parse((ROOT / pkg / "setup.py").read_text())
    consts = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            consts[node.targets[0].id] = node.value.value
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    out = {}
    for kw in call.keywords:
        if isinstance(kw.value, ast.Name) and kw.value.id in consts:
            out[kw.arg] = consts[kw.value.id]
        else:
            try:
                out[kw.arg] = ast.literal_eval(kw.value)
            except ValueError:
                out[kw.arg] = None
    return out


def console_scripts(pkg: str) -> dict[str, str]:
    eps = setup_kwargs(pkg).get("entry_points") or {}
    return dict(e.replace(" ", "").split("=", 1) for e in eps.get("console_scripts", []))


def test_all_expected_packages_exist():
    expected = {"unihm_common", "unihm_description", "unihm_data", "unihm_perception", "unihm_planner",
                "unihm_refiner", "unihm_drivers"}
    assert expected <= set(PY_PACKAGES)
    assert (ROOT / "unihm_msgs" / "CMakeLists.txt").is_file()


@pytest.mark.parametrize("pkg", PY_PACKAGES)
def test_ament_python_package(pkg):
    xml = ET.parse(ROOT / pkg / "package.xml").getroot()
    assert xml.findtext("name") == pkg
    assert xml.find("export/build_type").text == "ament_python"
    kwargs = setup_kwargs(pkg)
    assert kwargs["name"] == pkg, "package.xml name != setup.py name"
    assert kwargs["version"] == xml.findtext("version")
    assert (ROOT / pkg / "resource" / pkg).is_file(), "ament resource marker missing"
    assert (ROOT / pkg / pkg / "__init__.py").is_file()
    cfg = (ROOT / pkg / "setup.cfg").read_text()
    assert f"script_dir=$base/lib/{pkg}" in cfg and f"install_scripts=$base/lib/{pkg}" in cfg
    for name, target in console_scripts(pkg).items():
        module, func = target.split(":")
        path = ROOT / pkg / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{pkg}: console script {name} -> missing module {module}"
        assert re.search(rf"^def {func}\(", path.read_text(), re.M), f"{pkg}: {target} has no function {func}"


def test_msgs_package_lists_every_interface_file():
    cmake = (ROOT / "unihm_msgs" / "CMakeLists.txt").read_text()
    for f in (ROOT / "unihm_msgs").rglob("*"):
        if f.suffix in (".msg", ".srv", ".action"):
            assert f'"{f.relative_to(ROOT / "unihm_msgs")}"' in cmake, f"{f.name} not in rosidl_generate_interfaces"


LAUNCH_FILES = sorted((ROOT / "launch").glob("*.launch.py"))


def launch_hand(path: Path) -> str | None:
    """The hand a launch file brings up (None for the generic one taking a `hand` argument)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "hand_launch_description":
            arg = node.args[0]
            return arg.value if isinstance(arg, ast.Constant) else None
    raise AssertionError(f"{path.name} does not call hand_launch_description()")


def test_launch_files_exist():
    assert (ROOT / "launch" / "hand.launch.py") in LAUNCH_FILES
    assert len(LAUNCH_FILES) >= 2


@pytest.mark.parametrize("path", LAUNCH_FILES, ids=lambda p: p.name)
def test_every_node_in_a_launch_file_exists(path):
    hand = launch_hand(path)
    hands = [hand] if hand else available_hands()
    assert hands, "no hands registered"
    for h in hands:
        for use_sim in (True, False):
            for spec in hand_graph(h, use_sim=use_sim, config_dir=ROOT / "launch" / "config"):
                scripts = console_scripts(spec.package)
                assert spec.executable in scripts, f"{path.name}: {spec.package} has no executable {spec.executable}"
                for f in spec.params_files:
                    assert f.is_file(), f"{path.name}: missing parameter file {f}"
