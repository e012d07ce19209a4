"""A CPU RGB-D renderer of tabletop scenes (open3d ray casting) with ground-truth instance masks.

Depth noise follows a stereo-like model: sigma = depth_noise_m_at_1m * z^2, plus random dropout and
dropout at depth discontinuities (as stereo matchers lose object edges).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_perception.camera.base import Camera, register_camera
from unihm_perception.frame import RGBDFrame, look_at, pinhole_K
from unihm_perception.scene import PALETTE, TABLE_RGB, SceneConfig, TabletopScene, sample_scene

LIGHT_DIR = np.array([0.3, -0.2, 1.0]) / np.linalg.norm([0.3, -0.2, 1.0])


@dataclass(frozen=True)
class SyntheticCameraConfig:
    width: int = 640
    height: int = 480
    fx: float = 460.0  # px; ~70 deg horizontal field of view at 640 px
    eye_m: tuple[float, float, float] = (-0.55, 0.0, 0.75)  # camera position, world frame
    target_m: tuple[float, float, float] = (0.02, 0.0, 0.0)  # point the optical axis goes through
    depth_noise_m_at_1m: float = 0.002
    dropout: float = 0.01  # fraction of pixels with NaN depth
    edge_dropout: bool = True
    seed: int = 0
    scene: SceneConfig = field(default_factory=SceneConfig)

    def __post_init__(self) -> None:
        if self.width < 8 or self.height < 8 or self.fx <= 0:
            raise ConfigError(f"bad image size {self.width}x{self.height} or fx {self.fx}")
        if not 0 <= self.dropout < 1 or self.depth_noise_m_at_1m < 0:
            raise ConfigError("dropout must be in [0, 1) and depth_noise_m_at_1m >= 0")

    def K(self) -> np.ndarray:
        return pinhole_K(self.width, self.height, self.fx)

    def T_world_camera(self) -> np.ndarray:
        return look_at(np.array(self.eye_m), np.array(self.target_m))


@dataclass(frozen=True)
class RenderResult:
    frame: RGBDFrame
    instance: np.ndarray  # (H, W) int32: object index in scene.objects, -1 table, -2 background


def render(scene: TabletopScene, K: np.ndarray, T_world_camera: np.ndarray, width: int, height: int,
           rng: np.random.Generator | None = None, depth_noise_m_at_1m: float = 0.0, dropout: float = 0.0,
           edge_dropout: bool = False, stamp_s: float = 0.0) -> RenderResult:
    """Ray-cast `scene` into a pinhole camera; Lambertian shading with a little colour noise."""
    import open3d as o3d

    rng = rng or np.random.default_rng(0)
    rs = o3d.t.geometry.RaycastingScene()
    colours = []
    h = scene.table_half_extent_m
    table = np.array([[-h, -h, 0], [h, -h, 0], [h, h, 0], [-h, h, 0]], dtype=np.float32)
    rs.add_triangles(o3d.core.Tensor(table), o3d.core.Tensor(np.array([[0, 1, 2], [0, 2, 3]], dtype=np.uint32)))
    colours.append(TABLE_RGB)
    for obj in scene.objects:
        m = obj.world_mesh()
        rs.add_triangles(o3d.core.Tensor(np.asarray(m.vertices, np.float32)),
                         o3d.core.Tensor(np.asarray(m.faces, np.uint32)))
        colours.append(PALETTE[obj.asset.colour])
    T_cam_world = np.linalg.inv(T_world_camera)
    rays = o3d.t.geometry.RaycastingScene.create_rays_pinhole(
        o3d.core.Tensor(np.asarray(K, np.float64)), o3d.core.Tensor(T_cam_world), width, height)
    hit = rs.cast_rays(rays)
    t = hit["t_hit"].numpy()  # (H, W)
    gid = hit["geometry_ids"].numpy().astype(np.int64)  # (H, W)
    normals = hit["primitive_normals"].numpy()  # (H, W, 3) world frame
    miss = ~np.isfinite(t)
    # rays have optical-axis component 1 in the camera frame, so t_hit is the z depth
    depth = np.where(miss, np.nan, t).astype(np.float32)
    instance = np.where(miss, -2, gid - 1).astype(np.int32)
    lut = np.array(colours + [(0.0, 0.0, 0.0)], dtype=np.float32)  # last row: background
    base = lut[np.where(miss, len(colours), gid)]  # (H, W, 3)
    view = -np.asarray(rays.numpy()[..., 3:])  # towards the camera, for two-sided shading
    flip = np.sign(np.sum(normals * view, axis=-1, keepdims=True))
    shade = 0.45 + 0.55 * np.clip(np.sum(normals * flip * LIGHT_DIR, axis=-1, keepdims=True), 0, 1)
    rgb = base * shade + rng.normal(0, 0.015, base.shape)
    rgb = (np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    if depth_noise_m_at_1m > 0:
        depth = depth + (rng.standard_normal(depth.shape) * depth_noise_m_at_1m * depth**2).astype(np.float32)
    if dropout > 0:
        depth[rng.random(depth.shape) < dropout] = np.nan
    if edge_dropout:
        edges = np.zeros_like(miss)
        edges[:, 1:] |= instance[:, 1:] != instance[:, :-1]
        edges[1:, :] |= instance[1:, :] != instance[:-1, :]
        depth[edges & (rng.random(depth.shape) < 0.5)] = np.nan
    frame = RGBDFrame(rgb=rgb, depth_m=depth, K=np.asarray(K, float), T_world_camera=np.asarray(T_world_camera, float),
                      stamp_s=stamp_s)
    return RenderResult(frame=frame, instance=instance)


@register_camera("synthetic", SyntheticCameraConfig)
class SyntheticCamera(Camera):
    """Renders a freshly sampled scene per `read()` (or a fixed one passed to `set_scene`)."""

    def __init__(self, config: SyntheticCameraConfig = SyntheticCameraConfig()) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.scene: TabletopScene | None = None
        self.last: RenderResult | None = None
        self._fixed = False
        self._count = 0

    def set_scene(self, scene: TabletopScene) -> None:
        self.scene, self._fixed = scene, True

    def render(self, scene: TabletopScene) -> RenderResult:
        c = self.config
        return render(scene, c.K(), c.T_world_camera(), c.width, c.height, self.rng, c.depth_noise_m_at_1m,
                      c.dropout, c.edge_dropout, stamp_s=self._count * (1 / 30))

    def read(self) -> RGBDFrame:
        if not self._fixed:
            self.scene = sample_scene(self.rng, self.config.scene)
        if self.scene is None or not self.scene.objects:
            raise InputError("synthetic camera has no scene to render")
        self.last = self.render(self.scene)
        self._count += 1
        return self.last.frame
