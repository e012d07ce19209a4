"""Driver interface, device backends (Franka, Panda gripper, XHand, Inspire, sim) and the driver node."""
