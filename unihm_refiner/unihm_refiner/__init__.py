"""Pinocchio-based physics-guided trajectory refiner and its ROS node."""
