"""Synthetic tabletop scenes: a table (top at world z = 0) with several attributed objects.

Objects come from the data pipeline's catalogue (`unihm_data.objects`) through `catalog_asset`, plus
two flat receptacles of our own (plate, tray) for "put X on Y" instructions. Any mesh + attributes
can be used by building an `ObjectAsset` directly: the scene only needs the `ObjectAsset` fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from unihm_common.errors import ConfigError, InputError

# Reference RGB (0..1) of every colour word. Renderer and grounding share it.
PALETTE: dict[str, tuple[float, float, float]] = {
    "red": (0.80, 0.10, 0.10),
    "green": (0.15, 0.62, 0.20),
    "blue": (0.12, 0.25, 0.80),
    "yellow": (0.95, 0.85, 0.10),
    "orange": (1.00, 0.50, 0.05),
    "purple": (0.50, 0.15, 0.65),
    "brown": (0.45, 0.27, 0.10),
    "white": (0.93, 0.93, 0.93),
    "black": (0.07, 0.07, 0.07),
    "silver": (0.60, 0.62, 0.65),
}
TABLE_RGB = (0.60, 0.55, 0.45)
RECEPTACLES = ("plate", "tray")
# Catalogue objects that stand stably on the table and fit the workspace.
DEFAULT_OBJECTS = (
    "sugar_box", "pudding_box", "gelatin_box", "foam_brick", "master_chef_can", "tomato_soup_can",
    "tuna_fish_can", "large_marker", "banana", "tennis_ball", "softball", "apple", "orange",
    "mustard_bottle", "mug", "hammer", "power_drill",
)


@dataclass(frozen=True)
class ObjectAsset:
    """A mesh in its own frame (origin at the bounding-box centre, +z up when standing) with attributes."""

    name: str  # catalogue name, e.g. "tomato_soup_can"
    shape_class: str  # box, cylinder, sphere, capsule, mug, bottle, tool, plate, tray
    colour: str  # a PALETTE key
    mesh: trimesh.Trimesh

    @property
    def extents(self) -> np.ndarray:
        return np.asarray(self.mesh.extents)  # (3,) m


@dataclass(frozen=True)
class SceneObject:
    asset: ObjectAsset
    T_world_object: np.ndarray  # (4, 4); the object stands on the table

    @property
    def name(self) -> str:
        return self.asset.name

    @property
    def centre(self) -> np.ndarray:
        return self.T_world_object[:3, 3].copy()

    @property
    def yaw_rad(self) -> float:
        R = self.T_world_object
        return float(np.arctan2(R[1, 0], R[0, 0]))

    def world_mesh(self) -> trimesh.Trimesh:
        return self.asset.mesh.copy().apply_transform(self.T_world_object)


@dataclass(frozen=True)
class TabletopScene:
    objects: tuple[SceneObject, ...]
    table_half_extent_m: float = 0.6

    def index(self, name: str) -> int:
        for i, o in enumerate(self.objects):
            if o.name == name:
                return i
        raise InputError(f"no object {name!r} in the scene; present: {[o.name for o in self.objects]}")


@dataclass(frozen=True)
class SceneConfig:
    """How `sample_scene` draws a scene (all in metres, world frame)."""

    n_objects_min: int = 3  # besides the receptacle
    n_objects_max: int = 4
    with_receptacle: bool = True
    xy_half_range_m: float = 0.2  # object centres in [-r, r]^2
    min_gap_m: float = 0.03  # between footprint circles
    scale_min: float = 0.9
    scale_max: float = 1.1
    object_names: tuple[str, ...] = DEFAULT_OBJECTS

    def __post_init__(self) -> None:
        if not 1 <= self.n_objects_min <= self.n_objects_max:
            raise ConfigError(f"need 1 <= n_objects_min <= n_objects_max, got {self.n_objects_min}, "
                              f"{self.n_objects_max}")
        if not 0 < self.scale_min <= self.scale_max:
            raise ConfigError("need 0 < scale_min <= scale_max")
        if not self.object_names:
            raise ConfigError("object_names is empty")


def receptacle_asset(name: str, colour: str, scale: float = 1.0) -> ObjectAsset:
    """Flat receptacles of our own: a plate (disc) and a tray (thin box)."""
    if name == "plate":
        mesh = trimesh.creation.cylinder(radius=0.09 * scale, height=0.016, sections=32)
    elif name == "tray":
        mesh = trimesh.creation.box(extents=(0.20 * scale, 0.15 * scale, 0.03))
    else:
        raise InputError(f"unknown receptacle {name!r}; known: {', '.join(RECEPTACLES)}")
    return ObjectAsset(name=name, shape_class=name, colour=colour, mesh=mesh)


def catalog_asset(name: str, scale: float = 1.0, colour: str | None = None) -> ObjectAsset:
    """Adapter from `unihm_data.objects` (or our receptacles) to an `ObjectAsset`."""
    if name in RECEPTACLES:
        return receptacle_asset(name, colour or "white", scale)
    from unihm_data.objects import make_object

    obj = make_object(name, scale=scale, colour=colour)
    col = obj.colour if obj.colour in PALETTE else "white"
    return ObjectAsset(name=obj.name, shape_class=obj.shape_class, colour=col, mesh=obj.mesh())


def _yaw_pose(x: float, y: float, z: float, yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = [x, y, z]
    return T


def sample_scene(rng: np.random.Generator, config: SceneConfig = SceneConfig()) -> TabletopScene:
    """Draw non-overlapping standing objects with random yaw and scale (seeded by `rng`)."""
    n = int(rng.integers(config.n_objects_min, config.n_objects_max + 1))
    names = list(rng.choice(config.object_names, size=min(n, len(config.object_names)), replace=False))
    assets = []
    if config.with_receptacle:
        rec = str(rng.choice(RECEPTACLES))
        assets.append(receptacle_asset(rec, str(rng.choice(["white", "blue", "green", "brown", "purple"])),
                                       float(rng.uniform(config.scale_min, config.scale_max))))
    for name in names:
        scale = float(rng.uniform(config.scale_min, config.scale_max))
        colour = None if rng.random() < 0.6 else str(rng.choice(list(PALETTE)))
        assets.append(catalog_asset(str(name), scale, colour))
    placed: list[SceneObject] = []
    radii: list[float] = []
    for asset in assets:
        r = 0.5 * float(np.linalg.norm(asset.extents[:2]))
        for _ in range(200):
            x, y = rng.uniform(-config.xy_half_range_m, config.xy_half_range_m, size=2)
            ok = all(np.hypot(x - o.centre[0], y - o.centre[1]) > r + ro + config.min_gap_m
                     for o, ro in zip(placed, radii))
            if ok:
                yaw = float(rng.uniform(-np.pi, np.pi))
                placed.append(SceneObject(asset, _yaw_pose(x, y, asset.extents[2] / 2, yaw)))
                radii.append(r)
                break
    return TabletopScene(objects=tuple(placed))


def save_scene(path: str, scene: TabletopScene) -> None:
    """Write `scene` (meshes, attributes, poses) to an .npz that `load_scene` reads back exactly."""
    arrays: dict[str, np.ndarray] = {"table_half_extent_m": np.array(scene.table_half_extent_m)}
    for i, o in enumerate(scene.objects):
        a = o.asset
        arrays[f"o{i}_meta"] = np.array([a.name, a.shape_class, a.colour])
        arrays[f"o{i}_vertices"] = np.asarray(a.mesh.vertices)
        arrays[f"o{i}_faces"] = np.asarray(a.mesh.faces)
        arrays[f"o{i}_pose"] = np.asarray(o.T_world_object)
    np.savez_compressed(path, n_objects=np.array(len(scene.objects)), **arrays)


def load_scene(path: str) -> TabletopScene:
    """Read a scene written by `save_scene`; `InputError` naming the file if it is missing or malformed."""
    try:
        data = np.load(path, allow_pickle=False)
        objects = []
        for i in range(int(data["n_objects"])):
            name, shape_class, colour = (str(v) for v in data[f"o{i}_meta"])
            mesh = trimesh.Trimesh(data[f"o{i}_vertices"], data[f"o{i}_faces"], process=False)
            objects.append(SceneObject(ObjectAsset(name, shape_class, colour, mesh), data[f"o{i}_pose"]))
        return TabletopScene(tuple(objects), float(data["table_half_extent_m"]))
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read scene file {path!r}: {exc}") from exc
