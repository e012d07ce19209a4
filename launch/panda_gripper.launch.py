"""UniHM graph for the panda_gripper hand. Arguments: use_sim, namespace, robot_ip, serial_port, full, arm.

Same nodes as `unihm bringup --hand panda_gripper --full` (see unihm_common.launch_graph.hand_graph).
"""

from pathlib import Path

from unihm_common.launch_description import hand_launch_description


def generate_launch_description():
    return hand_launch_description("panda_gripper", Path(__file__).resolve().parent / "config")
