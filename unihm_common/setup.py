"""ament_python package unihm_common: works with colcon on a ROS 2 install and with pip here."""


from setuptools import find_packages, setup

PACKAGE = "unihm_common"

data_files = [
    ("share/ament_index/resource_index/packages", ["resource/" + PACKAGE]),
    ("share/" + PACKAGE, ["package.xml"]),
]

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*"]),
    include_package_data=True,
    package_data={PACKAGE: ["**/*.yaml", "**/*.xml", "**/*.json", "**/*.safetensors", "**/*.txt", "**/*.js"]},
    data_files=data_files,
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="UniHM developers",
    maintainer_email="dev@unihm.org",
    description='Pure helpers: hand library, configs, SE(3), msg<->numpy conversions, the unihm CLI and launcher.',
    license="Apache-2.0",
    entry_points={
        'console_scripts': [
            'unihm = unihm_common.cli:main',
            'echo_node = unihm_common.echo_node:main',
        ],
        'unihm.commands': [
            'bringup = unihm_common.bringup_cli:register',
            'bag = unihm_common.bag.cli:register',
            'bench = unihm_common.bench:register',
            'demo = unihm_common.demo:register',
            'hands = unihm_common.hands.cli:register',
            'view = unihm_common.viewer.cli:register',
        ],
        'unihm.benchmarks': [
            'transport = unihm_common.transport_bench_node:run_benchmark',
            'hands = unihm_common.hands.bench:run_benchmark',
        ],
    },
)
