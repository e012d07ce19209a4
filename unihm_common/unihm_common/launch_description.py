"""Turn `hand_graph()` into a real ROS 2 LaunchDescription (needs `launch` and `launch_ros`).

Used by `launch/*.launch.py` on a full ROS 2 install. Launch arguments: use_sim, namespace,
robot_ip, serial_port, full (default true: the whole manipulation graph), arm (and hand, for the generic
hand.launch.py).
"""

from __future__ import annotations

from pathlib import Path


def hand_launch_description(hand: str | None, config_dir: Path):
    from launch.actions import DeclareLaunchArgument, OpaqueFunction
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    from launch import LaunchDescription
    from unihm_common.launch_graph import hand_graph

    def nodes(context):
        def arg(name: str) -> str:
            return LaunchConfiguration(name).perform(context)

        specs = hand_graph(
            hand or arg("hand"),
            use_sim=arg("use_sim").lower() in ("1", "true", "yes"),
            namespace=arg("namespace"),
            robot_ip=arg("robot_ip"),
            serial_port=arg("serial_port"),
            config_dir=config_dir,
            full=arg("full").lower() in ("1", "true", "yes"),
            arm=arg("arm"),
        )
        return [
            Node(
                package=s.package,
                executable=s.executable,
                name=s.name,
                namespace=s.namespace or None,
                parameters=[str(p) for p in s.params_files] + [dict(s.parameters)],
                remappings=list(s.remappings),
                respawn=s.respawn,
                respawn_delay=s.respawn_delay_s,
                output="screen",
            )
            for s in specs
        ]

    args = [
        DeclareLaunchArgument("use_sim", default_value="true", description="simulated backends"),
        DeclareLaunchArgument("namespace", default_value="", description="namespace of every node"),
        DeclareLaunchArgument("robot_ip", default_value="", description="Franka robot IP (real arm)"),
        DeclareLaunchArgument("serial_port", default_value="", description="hand serial port or tcp://host:port"),
        DeclareLaunchArgument("full", default_value="true",
                              description="the whole manipulation graph (camera ... manipulate action); "
                                          "false: the hand's driver + refiner only"),
        DeclareLaunchArgument("arm", default_value="", description="carry the hand on this arm, e.g. fr3"),
    ]
    if hand is None:
        args.insert(0, DeclareLaunchArgument("hand", description="hand name from `unihm hands list`"))
    return LaunchDescription([*args, OpaqueFunction(function=nodes)])
