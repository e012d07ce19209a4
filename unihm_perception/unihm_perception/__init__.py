"""Camera backends, object segmentation and shape completion, with their ROS nodes."""
