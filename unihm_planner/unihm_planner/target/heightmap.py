"""Top-down orthographic heightmap + colour map of the workspace from an RGB-D frame (CLIPort's input).

Pixel (row, col) covers world x = x_min + (row + 0.5) * pixel_m, y = y_min + (col + 0.5) * pixel_m;
height is world z above the table top (z = 0), 0 where nothing was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import ConfigError
from unihm_perception.frame import RGBDFrame, backproject


@dataclass(frozen=True)
class HeightmapConfig:
    x_min_m: float = -0.4
    y_min_m: float = -0.4
    pixel_m: float = 0.01
    size_px: int = 80  # square: 80 px * 1 cm = 0.8 m (CPU budget; 3 cm place tolerance = 3 px)
    z_max_m: float = 0.4  # points above are ignored
    stride: int = 2  # use every stride-th image row/col (640x480 -> a 320x240 sampling)

    def __post_init__(self) -> None:
        if self.pixel_m <= 0 or self.size_px < 8 or self.stride < 1:
            raise ConfigError("pixel_m must be > 0, size_px >= 8 and stride >= 1")

    def pixel_to_xy(self, rc: np.ndarray) -> np.ndarray:
        """(…, 2) row, col -> (…, 2) world x, y of the cell centres."""
        rc = np.asarray(rc, dtype=np.float64)
        return np.stack([self.x_min_m + (rc[..., 0] + 0.5) * self.pixel_m,
                         self.y_min_m + (rc[..., 1] + 0.5) * self.pixel_m], axis=-1)

    def xy_to_pixel(self, xy: np.ndarray) -> np.ndarray:
        """(…, 2) world x, y -> (…, 2) int row, col (may fall outside the map)."""
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([np.floor((xy[..., 0] - self.x_min_m) / self.pixel_m),
                         np.floor((xy[..., 1] - self.y_min_m) / self.pixel_m)], axis=-1).astype(np.int64)


def heightmap_from_points(points: np.ndarray, colours: np.ndarray, config: HeightmapConfig) -> tuple[np.ndarray, ...]:
    """(N,3) world points + (N,3) colours -> colour map (S,S,3) float32 in [0,1], height map (S,S) float32 m."""
    S = config.size_px
    rc = config.xy_to_pixel(points[:, :2])
    z = points[:, 2]
    ok = np.all((rc >= 0) & (rc < S), axis=1) & (z < config.z_max_m)
    rc, z, colours = rc[ok], z[ok], colours[ok]
    order = np.argsort(z)  # the highest point of a cell is written last and wins
    rc, z, colours = rc[order], z[order], colours[order]
    height = np.zeros((S, S), np.float32)
    colour = np.zeros((S, S, 3), np.float32)
    height[rc[:, 0], rc[:, 1]] = np.maximum(z, 0.0)
    colour[rc[:, 0], rc[:, 1]] = colours
    return colour, height


def heightmap_from_frame(frame: RGBDFrame, config: HeightmapConfig = HeightmapConfig()) -> tuple[np.ndarray, ...]:
    """RGB-D frame (world-registered) -> colour map (S,S,3), height map (S,S). Raises InputError on bad depth."""
    points, colours, _ = backproject(frame, stride=config.stride)
    return heightmap_from_points(points, colours, config)


def model_input(colour: np.ndarray, height: np.ndarray) -> np.ndarray:
    """(S,S,3), (S,S) -> (4,S,S) float32 network input: centred colour and height in decimetres."""
    return np.concatenate([colour.transpose(2, 0, 1) - 0.5, height[None] * 10.0], axis=0).astype(np.float32)
