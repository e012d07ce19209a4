"""ament_python package unihm_refiner: works with colcon on a ROS 2 install and with pip here."""


from setuptools import find_packages, setup

PACKAGE = "unihm_refiner"

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
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="UniHM developers",
    maintainer_email="dev@unihm.org",
    description='Pinocchio-based physics-guided trajectory refiner and its ROS node.',
    license="Apache-2.0",
    entry_points={
        'console_scripts': ['refiner_node = unihm_refiner.refiner_node:main'],
        'unihm.commands': ['refine = unihm_refiner.cli:register'],
        'unihm.benchmarks': ['refiner = unihm_refiner.bench:run_benchmark'],
    },
)
