"""Topic names of the camera / perception / plan stages, and every topic the RViz config may show (no ROS).

One place for the names: the nodes use these constants, and test_rviz_config checks launch/unihm.rviz
against `RVIZ_TOPICS`. Names are relative (the hand's namespace applies); see docs/architecture.md.
"""

from __future__ import annotations

COLOR = "camera/color/image_raw"  # sensor_msgs/Image rgb8
DEPTH = "camera/depth/image_raw"  # sensor_msgs/Image 32FC1, metres, registered to colour
CAMERA_INFO = "camera/color/camera_info"  # sensor_msgs/CameraInfo
POINTS = "camera/points"  # sensor_msgs/PointCloud2, world frame (no tf2 here), rgb, optionally decimated
CAMERA_POSE = "camera/pose"  # geometry_msgs/PoseStamped, latched: T_world_camera_optical (tf2 stand-in)
OBJECT_CLOUD = "object_cloud"  # sensor_msgs/PointCloud2, latched, world frame
PERCEPTION_MARKERS = "perception_markers"  # visualization_msgs/MarkerArray, latched
TARGET_PATH = "target_path"  # nav_msgs/Path, latched
PLAN_MARKERS = "plan_markers"  # visualization_msgs/MarkerArray, latched
SEGMENT_SERVICE = "segment_object"  # unihm_msgs/srv/SegmentObject
PLAN_SERVICE = "plan_target"  # unihm_msgs/srv/PlanTarget

# topic -> (message type, who publishes it). Everything launch/unihm.rviz names must be listed here.
RVIZ_TOPICS: dict[str, tuple[str, str]] = {
    COLOR: ("sensor_msgs/msg/Image", "camera_node"),
    DEPTH: ("sensor_msgs/msg/Image", "camera_node"),
    POINTS: ("sensor_msgs/msg/PointCloud2", "camera_node"),
    OBJECT_CLOUD: ("sensor_msgs/msg/PointCloud2", "perception_node"),
    PERCEPTION_MARKERS: ("visualization_msgs/msg/MarkerArray", "perception_node"),
    TARGET_PATH: ("nav_msgs/msg/Path", "planner_node"),
    PLAN_MARKERS: ("visualization_msgs/msg/MarkerArray", "planner_node"),
    "contact_markers": ("visualization_msgs/msg/MarkerArray", "refiner_node"),
    # not UniHM nodes: robot_state_publisher (full ROS install) publishes the hand's URDF and turns the
    # driver's `joint_states` into TF for the robot model; RViz's "2D Goal Pose" tool publishes the goal.
    "robot_description": ("std_msgs/msg/String", "robot_state_publisher"),
    "goal_pose": ("geometry_msgs/msg/PoseStamped", "rviz2 (2D Goal Pose tool)"),
}
# Published with TRANSIENT_LOCAL durability (latched): RViz subscribes to these as "Transient Local".
LATCHED_TOPICS = frozenset({CAMERA_POSE, OBJECT_CLOUD, PERCEPTION_MARKERS, TARGET_PATH, PLAN_MARKERS, "contact_markers",
                            "robot_description"})
