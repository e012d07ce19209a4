"""CLIPort-style target-trajectory planner (paper §3.3, App. C.5): RGB-D + instruction -> SE(3) object path."""
