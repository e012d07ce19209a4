"""Camera backends behind one interface: `synthetic` (renderer), `zed` (Stereolabs SDK), `bag` (mcap playback)."""

from unihm_perception.camera.base import Camera, camera_backends, make_camera, register_camera

__all__ = ["Camera", "camera_backends", "make_camera", "register_camera"]
