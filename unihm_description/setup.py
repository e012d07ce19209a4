"""ament_python package unihm_description: works with colcon on a ROS 2 install and with pip here."""

import os

from setuptools import find_packages, setup

PACKAGE = "unihm_description"


def tree_data_files(top: str) -> list[tuple[str, list[str]]]:
    """Install a data folder under share/<package>/ keeping its layout (colcon / plain install)."""
    out = []
    for dirpath, _, files in os.walk(top):
        if files:
            out.append((os.path.join("share", PACKAGE, dirpath), [os.path.join(dirpath, f) for f in files]))
    return out


data_files = [
    ("share/ament_index/resource_index/packages", ["resource/" + PACKAGE]),
    ("share/" + PACKAGE, ["package.xml"]),
    *tree_data_files('hands'),
    *tree_data_files('arms'),
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    include_package_data=True,
    package_data={PACKAGE: ["**/*.yaml", "**/*.xml", "**/*.json", "**/*.safetensors", "**/*.txt"]},
    data_files=data_files,
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="UniHM developers",
    maintainer_email="dev@unihm.org",
    description='Hand and arm models: one folder per hand with a URDF and one hand.yaml.',
    license="Apache-2.0",
    entry_points={
    },
)
