"""ament_python package unihm_data: works with colcon on a ROS 2 install and with pip here."""


from setuptools import find_packages, setup

PACKAGE = "unihm_data"

data_files = [
    ("share/ament_index/resource_index/packages", ["resource/" + PACKAGE]),
    ("share/" + PACKAGE, ["package.xml"]),
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    include_package_data=True,
    package_data={PACKAGE: ["**/*.yaml", "**/*.xml", "**/*.json", "**/*.safetensors", "**/*.txt"]},
    data_files=data_files,
    install_requires=["setuptools"],  # dependencies are pinned in one place: the top-level requirements.txt
    zip_safe=False,
    maintainer="UniHM developers",
    maintainer_email="dev@unihm.org",
    description='HOI datasets (DexYCB, OakInk), synthetic interactions, retargeting and language annotation.',
    license="Apache-2.0",
    entry_points={
        "unihm.commands": ["data = unihm_data.cli:register"],
        "unihm.benchmarks": ["retarget = unihm_data.bench:run_benchmark"],
    },
)
