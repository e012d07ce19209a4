"""UniHM graph for any hand: `ros2 launch launch/hand.launch.py hand:=allegro_right use_sim:=true`.

The node list comes from unihm_common.launch_graph.hand_graph, which `unihm bringup` also uses,
so both start the same nodes with the same parameter files (config/default.yaml, config/<hand>.yaml).
"""

from pathlib import Path

from unihm_common.launch_description import hand_launch_description


def generate_launch_description():
    return hand_launch_description(None, Path(__file__).resolve().parent / "config")
