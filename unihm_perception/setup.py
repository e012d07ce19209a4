"""ament_python package unihm_perception: works with colcon on a ROS 2 install and with pip here."""


from setuptools import find_packages, setup

PACKAGE = "unihm_perception"

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
    description='Camera backends, object segmentation and shape completion, with their ROS nodes.',
    license="Apache-2.0",
    entry_points={
        'console_scripts': [
            'camera_node = unihm_perception.camera_node:main',
            'perception_node = unihm_perception.perception_node:main',
        ],
        'unihm.commands': ['perception = unihm_perception.cli:register'],
        'unihm.benchmarks': ['perception = unihm_perception.bench:run_benchmark'],
    },
)
