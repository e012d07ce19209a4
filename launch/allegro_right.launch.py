"""UniHM graph for the allegro_right hand. Arguments: use_sim, namespace, robot_ip, serial_port, full, arm.

Same nodes as `unihm bringup --hand allegro_right --full` (see unihm_common.launch_graph.hand_graph).
"""

from pathlib import Path

from unihm_common.launch_description import hand_launch_description


def generate_launch_description():
    return hand_launch_description("allegro_right", Path(__file__).resolve().parent / "config")
