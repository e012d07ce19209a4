"""Stereolabs ZED backend. `pyzed.sl` ships with the ZED SDK (not on PyPI) and is imported lazily."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_perception.camera.base import Camera, register_camera
from unihm_perception.frame import RGBDFrame

INSTALL_HINT = ("the ZED backend needs `pyzed.sl` from the Stereolabs ZED SDK (not the unrelated PyPI `pyzed`): "
                "install the SDK from https://www.stereolabs.com/developers/release and run its "
                "get_python_api.py in this environment")


def import_pyzed():
    try:
        import pyzed.sl as sl
    except ImportError as exc:
        raise MissingDependencyError(INSTALL_HINT) from exc
    return sl


@dataclass(frozen=True)
class ZedCameraConfig:
    resolution: str = "HD720"  # HD2K, HD1080, HD720, VGA
    fps: int = 30
    depth_mode: str = "NEURAL"  # a sl.DEPTH_MODE name
    serial_number: int = 0  # 0: first camera found
    T_world_camera: tuple[float, ...] = field(default_factory=lambda: tuple(np.eye(4).ravel()))  # 16, row-major

    def __post_init__(self) -> None:
        if len(self.T_world_camera) != 16:
            raise ConfigError("T_world_camera needs 16 numbers (row-major 4x4)")
        if self.resolution not in ("HD2K", "HD1080", "HD720", "VGA"):
            raise ConfigError(f"resolution {self.resolution!r} not one of HD2K, HD1080, HD720, VGA")


@register_camera("zed", ZedCameraConfig)
class ZedCamera(Camera):
    """Left colour image + depth registered to it, in metres (the SDK's optical frame)."""

    def __init__(self, config: ZedCameraConfig = ZedCameraConfig()) -> None:
        self.config = config
        self._cam = None

    def open(self) -> None:
        if self._cam is not None:
            return
        sl = import_pyzed()
        init = sl.InitParameters()
        init.camera_resolution = getattr(sl.RESOLUTION, self.config.resolution)
        init.camera_fps = self.config.fps
        init.depth_mode = getattr(sl.DEPTH_MODE, self.config.depth_mode)
        init.coordinate_units = sl.UNIT.METER
        init.coordinate_system = sl.COORDINATE_SYSTEM.IMAGE
        if self.config.serial_number:
            init.set_from_serial_number(self.config.serial_number)
        cam = sl.Camera()
        status = cam.open(init)
        if status != sl.ERROR_CODE.SUCCESS:
            raise MissingDependencyError(f"ZED camera did not open: {status} (is it plugged in?)")
        self._cam, self._sl = cam, sl
        self._image, self._depth = sl.Mat(), sl.Mat()

    def read(self) -> RGBDFrame:
        self.open()
        sl, cam = self._sl, self._cam
        if cam.grab() != sl.ERROR_CODE.SUCCESS:
            raise InputError("ZED grab failed")
        cam.retrieve_image(self._image, sl.VIEW.LEFT)
        cam.retrieve_measure(self._depth, sl.MEASURE.DEPTH)
        rgb = np.ascontiguousarray(self._image.get_data()[..., 2::-1])  # BGRA -> RGB
        depth = np.asarray(self._depth.get_data(), dtype=np.float32)
        calib = cam.get_camera_information().camera_configuration.calibration_parameters.left_cam
        K = np.array([[calib.fx, 0, calib.cx], [0, calib.fy, calib.cy], [0, 0, 1]])
        stamp = cam.get_timestamp(sl.TIME_REFERENCE.IMAGE).get_nanoseconds() * 1e-9
        return RGBDFrame(rgb=rgb, depth_m=depth, K=K, T_world_camera=np.reshape(self.config.T_world_camera, (4, 4)),
                         stamp_s=stamp)

    def close(self) -> None:
        if self._cam is not None:
            self._cam.close()
            self._cam = None
