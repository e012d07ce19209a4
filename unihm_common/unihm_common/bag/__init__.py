"""Bags without rosbag2: MCAP files of raw CDR messages (schema encoding `ros2msg`), readable by `rosbags`
and by rosbag2's mcap storage plugin. Pure core (no rclpy); the ROS side lives in `unihm_common.bag_node`."""

from unihm_common.bag.mcap_io import BagMessage, BagWriter, TopicInfo, bag_info, parse_remaps, read_messages

__all__ = ["BagMessage", "BagWriter", "TopicInfo", "bag_info", "parse_remaps", "read_messages"]
