"""The Python packages build with colcon as ament_python packages, as on a full ROS 2 install."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["unihm_common", "unihm_description", "unihm_data", "unihm_perception", "unihm_planner",
            "unihm_refiner", "unihm_drivers"]


def test_colcon_builds_every_python_package(tmp_path):
    colcon = Path(sys.executable).parent / "colcon"
    if not colcon.is_file():
        pytest.skip("colcon not installed (scripts/setup.sh installs colcon-common-extensions)")
    src = tmp_path / "src"
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMENT", "COLCON"))}
    r = subprocess.run([str(colcon), "--log-base", str(tmp_path / "log"), "build", "--base-paths", str(src),
                        "--build-base", str(tmp_path / "build"), "--install-base", str(tmp_path / "install")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"Summary: {len(PACKAGES)} packages finished" in r.stdout
    install = tmp_path / "install"
    for pkg in PACKAGES:
        assert (install / pkg / "share" / "ament_index" / "resource_index" / "packages" / pkg).is_file()
        assert (install / pkg / "share" / pkg / "package.xml").is_file()
    # `ros2 run <pkg> <exe>` looks in lib/<pkg>/
    assert (install / "unihm_drivers" / "lib" / "unihm_drivers" / "driver_node").is_file()
    assert (install / "unihm_refiner" / "lib" / "unihm_refiner" / "refiner_node").is_file()
    # the hand data is installed into the share folder, where unihm_description finds it
    hands = install / "unihm_description" / "share" / "unihm_description" / "hands"
    assert (hands / "inspire_right" / "hand.yaml").is_file()


def test_colcon_builds_the_interfaces_with_rosidl(tmp_path):
    """unihm_msgs as an ament_cmake package, against the ROS 2 wheels' CMake configs in the venv."""
    venv = Path(sys.executable).parent.parent
    colcon = venv / "bin" / "colcon"
    if not colcon.is_file():
        pytest.skip("colcon not installed (scripts/setup.sh installs colcon-common-extensions)")
    shutil.copytree(ROOT / "unihm_msgs", tmp_path / "src" / "unihm_msgs")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMENT", "COLCON", "CMAKE"))}
    env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", CMAKE_PREFIX_PATH=str(venv), AMENT_PREFIX_PATH=str(venv))
    r = subprocess.run([str(colcon), "--log-base", str(tmp_path / "log"), "build", "--base-paths",
                        str(tmp_path / "src"), "--build-base", str(tmp_path / "build"), "--install-base",
                        str(tmp_path / "install"), "--cmake-args", f"-DPython3_EXECUTABLE={sys.executable}",
                        "-DBUILD_TESTING=OFF"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = tmp_path / "install" / "unihm_msgs" / "lib" / "python3.11" / "site-packages" / "unihm_msgs"
    for sub in ("msg", "srv", "action"):
        assert (site / sub / "__init__.py").is_file()
    assert list(site.glob("unihm_msgs_s__rosidl_typesupport_fastrtps_c*.so"))
