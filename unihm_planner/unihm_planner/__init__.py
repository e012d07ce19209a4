"""Hand tokenizer (VQ-VAE), motion-token policy (Qwen3), target-trajectory planner, with their ROS nodes."""
