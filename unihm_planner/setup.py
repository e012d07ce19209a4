"""ament_python package unihm_planner: works with colcon on a ROS 2 install and with pip here."""


from setuptools import find_packages, setup

PACKAGE = "unihm_planner"

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
    description=('Hand tokenizer (VQ-VAE), motion-token policy (Qwen3), target-trajectory planner, '
                 'with their ROS nodes.'),
    license="Apache-2.0",
    entry_points={
        'console_scripts': [
            'policy_node = unihm_planner.policy_node:main',
            'manipulation_node = unihm_planner.manipulation_node:main',
            'planner_node = unihm_planner.planner_node:main',
        ],
        'unihm.commands': [
            'tokenizer = unihm_planner.tokenizer.cli:register',
            'planner = unihm_planner.target.cli:register',
            'policy = unihm_planner.policy.cli:register',
            'goal = unihm_planner.manipulation.cli:register',
            'eval = unihm_planner.evaluation.cli:register',
        ],
        'unihm.benchmarks': [
            'tokenizer = unihm_planner.tokenizer.bench:run_benchmark',
            'policy = unihm_planner.policy.bench:run_benchmark',
            'e2e = unihm_planner.manipulation.bench:run_benchmark',
        ],
    },
)
