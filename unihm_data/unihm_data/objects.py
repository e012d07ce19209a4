"""YCB-like objects as unions of primitives: an analytic signed distance, a trimesh mesh, surface points.

Every object lives in its own frame: origin at the bounding-box centre, +z up when the object stands
on the table. Parts are placed by a (4,4) pose in the object frame. Objects are symmetric under the
y -> -y reflection of their frame, so mirrored (left-hand) sequences reuse the same geometry
(see `keypoints.mirror_object_transforms`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from unihm_common.errors import InputError


@dataclass(frozen=True)
class Part:
    """One primitive. kind: box (size = full extents xyz), cylinder (radius, height; axis z),
    sphere (radius), capsule (radius, length of the straight part; axis z), torus (major, minor; axis y)."""

    kind: str
    dims: tuple[float, ...]
    pose: np.ndarray = field(default_factory=lambda: np.eye(4))  # T_object_part

    def sdf_local(self, p: np.ndarray) -> np.ndarray:  # p (N,3) in the part frame
        if self.kind == "box":
            q = np.abs(p) - np.asarray(self.dims) / 2
            return np.linalg.norm(np.maximum(q, 0.0), axis=1) + np.minimum(q.max(axis=1), 0.0)
        if self.kind == "cylinder":
            r, h = self.dims
            d = np.stack([np.linalg.norm(p[:, :2], axis=1) - r, np.abs(p[:, 2]) - h / 2], axis=1)
            return np.linalg.norm(np.maximum(d, 0.0), axis=1) + np.minimum(d.max(axis=1), 0.0)
        if self.kind == "sphere":
            return np.linalg.norm(p, axis=1) - self.dims[0]
        if self.kind == "capsule":
            r, length = self.dims
            z = np.clip(p[:, 2], -length / 2, length / 2)
            return np.linalg.norm(p - np.stack([0 * z, 0 * z, z], axis=1), axis=1) - r
        if self.kind == "torus":
            major, minor = self.dims
            ring = np.linalg.norm(p[:, [0, 2]], axis=1) - major
            return np.sqrt(ring**2 + p[:, 1] ** 2) - minor
        raise InputError(f"unknown primitive kind {self.kind!r}")

    def mesh(self) -> trimesh.Trimesh:
        if self.kind == "box":
            m = trimesh.creation.box(extents=self.dims)
        elif self.kind == "cylinder":
            m = trimesh.creation.cylinder(radius=self.dims[0], height=self.dims[1], sections=32)
        elif self.kind == "sphere":
            m = trimesh.creation.icosphere(subdivisions=3, radius=self.dims[0])
        elif self.kind == "capsule":
            m = trimesh.creation.capsule(height=self.dims[1], radius=self.dims[0], count=[16, 16])
        elif self.kind == "torus":
            m = trimesh.creation.torus(major_radius=self.dims[0], minor_radius=self.dims[1],
                                       major_sections=32, minor_sections=12)
            m.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
        else:
            raise InputError(f"unknown primitive kind {self.kind!r}")
        m.apply_transform(self.pose)
        return m


@dataclass(frozen=True)
class HOIObject:
    """A rigid object: name, attributes for language, parts. `articulation`: none, drawer or door."""

    name: str
    shape_class: str
    colour: str
    parts: tuple[Part, ...]
    articulation: str = "none"

    def sdf(self, points: np.ndarray) -> np.ndarray:
        """(N,3) points in the object frame -> (N,) signed distance in m (negative inside)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        out = np.full(len(points), np.inf)
        for part in self.parts:
            R, t = part.pose[:3, :3], part.pose[:3, 3]
            out = np.minimum(out, part.sdf_local((points - t) @ R))
        return out

    def normals(self, points: np.ndarray, eps: float = 1e-4) -> np.ndarray:
        """Outward unit normals (N,3) from the SDF gradient (central differences)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        g = np.stack([self.sdf(points + eps * e) - self.sdf(points - eps * e) for e in np.eye(3)], axis=1)
        return g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)

    def mesh(self) -> trimesh.Trimesh:
        return trimesh.util.concatenate([p.mesh() for p in self.parts])

    def extents(self) -> np.ndarray:
        return self.mesh().extents

    def sample_surface(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """n points on the outer surface (N,3) and their outward normals (N,3), object frame."""
        mesh = self.mesh()
        seed = int(rng.integers(2**31))
        pts = np.zeros((0, 3))
        while len(pts) < n:  # drop samples hidden inside another part of the union
            cand, _ = trimesh.sample.sample_surface(mesh, 2 * n, seed=seed)
            seed += 1
            pts = np.concatenate([pts, cand[self.sdf(cand) > -5e-4]])
        pts = pts[:n]
        return pts, self.normals(pts)


def _T(x: float = 0.0, y: float = 0.0, z: float = 0.0, rot_x: float = 0.0, rot_y: float = 0.0) -> np.ndarray:
    T = trimesh.transformations.euler_matrix(rot_x, rot_y, 0.0)
    T[:3, 3] = [x, y, z]
    return T


def _recentre(parts: list[Part]) -> tuple[Part, ...]:
    bounds = trimesh.util.concatenate([p.mesh() for p in parts]).bounds
    c = bounds.mean(axis=0)
    c[1] = 0.0  # keep the y-mirror symmetry of the frame
    out = []
    for p in parts:
        pose = p.pose.copy()
        pose[:3, 3] -= c
        out.append(Part(p.kind, p.dims, pose))
    return tuple(out)


# name -> (shape class, default colour, builder(scale) -> parts). Dimensions from the YCB object set (approx.).
def _catalog() -> dict[str, tuple[str, str, object]]:
    box = lambda x, y, z: lambda s: [Part("box", (x * s, y * s, z * s))]  # noqa: E731
    cyl = lambda r, h: lambda s: [Part("cylinder", (r * s, h * s))]  # noqa: E731
    sph = lambda r: lambda s: [Part("sphere", (r * s,))]  # noqa: E731

    def bottle(w, d, h, neck_r, neck_h):
        return lambda s: [Part("box", (w * s, d * s, h * s)),
                          Part("cylinder", (neck_r * s, neck_h * s), _T(z=(h + neck_h) * s / 2))]

    def mug(r, h, handle):
        return lambda s: [Part("cylinder", (r * s, h * s)),
                          Part("torus", (handle * s, 0.007 * s), _T(x=(r + handle * 0.6) * s))]

    def hammer(length, head):
        return lambda s: [Part("capsule", (0.014 * s, length * s), _T(rot_y=np.pi / 2)),
                          Part("box", (0.03 * s, 0.03 * s, head * s), _T(x=length * s / 2))]

    def drill():
        return lambda s: [Part("box", (0.05 * s, 0.06 * s, 0.13 * s)),
                          Part("cylinder", (0.03 * s, 0.16 * s), _T(x=0.06 * s, z=0.09 * s, rot_y=np.pi / 2))]

    def drawer():
        return lambda s: [Part("box", (0.30 * s, 0.25 * s, 0.12 * s)),
                          Part("capsule", (0.01 * s, 0.10 * s), _T(x=-0.17 * s, rot_x=np.pi / 2)),
                          Part("box", (0.02 * s, 0.01 * s, 0.01 * s), _T(x=-0.155 * s, y=0.05 * s)),
                          Part("box", (0.02 * s, 0.01 * s, 0.01 * s), _T(x=-0.155 * s, y=-0.05 * s))]

    def door():
        return lambda s: [Part("box", (0.02 * s, 0.30 * s, 0.35 * s)),
                          Part("capsule", (0.011 * s, 0.12 * s), _T(x=-0.05 * s)),
                          Part("box", (0.04 * s, 0.012 * s, 0.012 * s), _T(x=-0.03 * s, z=0.05 * s)),
                          Part("box", (0.04 * s, 0.012 * s, 0.012 * s), _T(x=-0.03 * s, z=-0.05 * s))]

    return {
        "cracker_box": ("box", "red", box(0.06, 0.16, 0.21)),
        "sugar_box": ("box", "yellow", box(0.038, 0.089, 0.175)),
        "pudding_box": ("box", "brown", box(0.035, 0.11, 0.089)),
        "gelatin_box": ("box", "red", box(0.028, 0.085, 0.073)),
        "wood_block": ("box", "brown", box(0.085, 0.085, 0.2)),
        "foam_brick": ("box", "red", box(0.05, 0.075, 0.05)),
        "master_chef_can": ("cylinder", "blue", cyl(0.051, 0.139)),
        "tomato_soup_can": ("cylinder", "red", cyl(0.033, 0.101)),
        "tuna_fish_can": ("cylinder", "silver", cyl(0.043, 0.033)),
        "chips_can": ("cylinder", "red", cyl(0.038, 0.25)),
        "large_marker": ("cylinder", "black", lambda s: [Part("capsule", (0.009 * s, 0.10 * s), _T(rot_y=np.pi / 2))]),
        "banana": ("capsule", "yellow", lambda s: [Part("capsule", (0.018 * s, 0.15 * s), _T(rot_y=np.pi / 2))]),
        "tennis_ball": ("sphere", "green", sph(0.033)),
        "softball": ("sphere", "white", sph(0.048)),
        "apple": ("sphere", "red", sph(0.037)),
        "orange": ("sphere", "orange", sph(0.036)),
        "mustard_bottle": ("bottle", "yellow", bottle(0.095, 0.058, 0.15, 0.014, 0.04)),
        "bleach_cleanser": ("bottle", "white", bottle(0.1, 0.065, 0.2, 0.016, 0.05)),
        "mug": ("mug", "red", mug(0.04, 0.09, 0.028)),
        "pitcher_base": ("mug", "blue", mug(0.07, 0.2, 0.05)),
        "hammer": ("tool", "black", hammer(0.28, 0.12)),
        "power_drill": ("tool", "green", drill()),
        "drawer": ("drawer", "white", drawer()),
        "cabinet_door": ("door", "brown", door()),
    }


OBJECT_NAMES = tuple(_catalog())
ARTICULATION = {"drawer": "drawer", "cabinet_door": "door"}


def variant_name(base: str, scale: float) -> str:
    """Name of catalog object `base` uniformly scaled by `scale` (a size variant): "tuna_fish_can_x125"."""
    pct = int(round(scale * 100))
    if not 10 <= pct <= 999:
        raise InputError(f"size variant scale must be in [0.1, 9.99], got {scale}")
    return f"{base}_x{pct}"


def parse_object_name(name: str) -> tuple[str, float]:
    """Catalog name and scale of `name` (a catalog object or a size variant); InputError if neither."""
    cat = _catalog()
    if name in cat:
        return name, 1.0
    base, _, pct = name.rpartition("_x")
    if base in cat and pct.isdigit() and 10 <= int(pct) <= 999:
        return base, int(pct) / 100.0
    raise InputError(f"unknown object {name!r}; known: {', '.join(cat)} (and size variants NAME_xPCT)")


def make_object(name: str, scale: float = 1.0, colour: str | None = None) -> HOIObject:
    """Build catalog object `name` (or size variant NAME_xPCT: PCT % of the catalog size), scaled by `scale`."""
    base, variant_scale = parse_object_name(name)
    shape_class, default_colour, build = _catalog()[base]
    return HOIObject(name=name, shape_class=shape_class, colour=colour or default_colour,
                     parts=_recentre(build(scale * variant_scale)), articulation=ARTICULATION.get(base, "none"))


def size_word(obj: HOIObject) -> str:
    ext = float(np.max(obj.extents()))
    return "small" if ext < 0.08 else ("large" if ext > 0.2 else "medium")


def split_objects(names: list[str], test_fraction: float = 0.2, seed: int = 0) -> dict[str, str]:
    """80/20 split by object (paper §4.1): name -> 'train' | 'test', deterministic in `seed`."""
    names = sorted(set(names))
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(names))
    n_test = max(1, int(round(test_fraction * len(names)))) if len(names) > 1 else 0
    test = {names[i] for i in order[:n_test]}
    return {n: ("test" if n in test else "train") for n in names}
