"""Weight-free completion of a standing object seen from one side.

`mirror`: reflect the cloud about the vertical plane facing the camera through the object's centre. The
centre along the horizontal view direction is the middle of the cloud's extent there: an oblique camera sees
the object's top, so that extent spans the whole object. Then close the bottom at the table.
`primitive`: fit a vertical box (yaw from PCA) or cylinder (circle fit), whichever explains the points
better, and sample its surface. Normals point away from the object's vertical axis / centre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import ConfigError
from unihm_perception.completion.base import CompletedCloud, Completer, check_partial, register_completer


@dataclass(frozen=True)
class ClassicalCompleterConfig:
    mode: str = "mirror"  # mirror | primitive
    n_points: int = 2048  # output size
    close_bottom: bool = True  # add the face resting on the table (mirror mode)
    normal_neighbours: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        if self.mode not in ("mirror", "primitive"):
            raise ConfigError(f"mode {self.mode!r} is not one of mirror, primitive")
        if self.n_points < 16:
            raise ConfigError("n_points must be >= 16")


def _view_dir(points: np.ndarray, view_point: np.ndarray | None) -> np.ndarray:
    """Horizontal unit direction from the camera to the object (x when unknown)."""
    if view_point is None:
        return np.array([1.0, 0.0, 0.0])
    d = points.mean(0) - np.asarray(view_point, float)
    d[2] = 0.0
    n = np.linalg.norm(d)
    return d / n if n > 1e-6 else np.array([1.0, 0.0, 0.0])


def _resample(points: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return points[rng.choice(len(points), size=n, replace=len(points) < n)]


def _outward_normals(points: np.ndarray, k: int) -> np.ndarray:
    """PCA normals over k neighbours, flipped away from the vertical axis through the centroid (the bottom face
    points down)."""
    import open3d as o3d

    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
    pcd.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(k))
    n = np.asarray(pcd.normals)
    c = points.mean(0)
    out = points - c
    out[:, 2] *= 0.5  # mostly radial: objects are upright
    n[np.sum(n * out, axis=1) < 0] *= -1
    return n


def _mirror(points: np.ndarray, normal: np.ndarray) -> np.ndarray:
    s = points @ normal
    mid = 0.5 * (s.min() + s.max())
    return points - 2.0 * np.outer(s - mid, normal)  # reflect about the plane {x: x.n = mid}


class _PlaneScorer:
    """Scores mirror planes (lower is better). A mirrored point is a violation when the camera would have seen
    it: outside the observed silhouette (it would hide the table) or in front of the observed surface. Points
    that add surface (away from the observed ones) are rewarded."""

    def __init__(self, points: np.ndarray, view_point: np.ndarray | None) -> None:
        from scipy.spatial import cKDTree

        self.tree = cKDTree(points)
        self.vp = view_point
        if view_point is not None:
            rel = points - view_point
            self.rng = np.linalg.norm(rel, axis=1)
            self.dir_tree = cKDTree(rel / self.rng[:, None])

    def __call__(self, mirrored: np.ndarray) -> float:
        novel = self.tree.query(mirrored)[0] > 0.01
        if self.vp is None:
            return -float(novel.mean())
        rel = mirrored - self.vp
        rng_m = np.linalg.norm(rel, axis=1)
        ang_d, idx = self.dir_tree.query(rel / rng_m[:, None])
        violation = (ang_d > 0.006) | (rng_m < self.rng[idx] - 0.01)
        return float(violation.mean()) - 0.3 * float(novel.mean())


def mirror_complete(points: np.ndarray, view_point: np.ndarray | None, close_bottom: bool,
                    rng: np.random.Generator, n_candidates: int = 12) -> np.ndarray:
    """Reflect about the best of `n_candidates` vertical planes (yaw steps of pi / n) through the centre."""
    score = _PlaneScorer(points, None if view_point is None else np.asarray(view_point, float))
    best, best_score = None, np.inf
    for yaw in np.arange(n_candidates) * np.pi / n_candidates:
        m = _mirror(points, np.array([np.cos(yaw), np.sin(yaw), 0.0]))
        sc = score(m)
        if sc < best_score:
            best, best_score = m, sc
    full = np.concatenate([points, best])
    if close_bottom:  # fill the footprint at the lowest height with points inside the footprint's hull
        from scipy.spatial import ConvexHull, Delaunay, QhullError

        z0 = max(points[:, 2].min(), 0.0)
        xy = full[:, :2]
        try:
            tri = Delaunay(xy[ConvexHull(xy).vertices])
        except QhullError:  # degenerate (colinear) footprint: no bottom
            return full
        cand = rng.uniform(xy.min(0), xy.max(0), size=(len(points) // 2, 2))
        cand = cand[tri.find_simplex(cand) >= 0]
        full = np.concatenate([full, np.column_stack([cand, np.full(len(cand), z0)])])
    return full


def primitive_complete(points: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Sample the surface of the better of a vertical box and a vertical cylinder fitted to the points."""
    z0, z1 = max(points[:, 2].min(), 0.0), points[:, 2].max()
    xy = points[:, :2]
    # cylinder: algebraic circle fit x^2 + y^2 + a x + b y + c = 0
    A = np.column_stack([xy, np.ones(len(xy))])
    sol = np.linalg.lstsq(A, -(xy**2).sum(1), rcond=None)[0]
    cxy = -sol[:2] / 2
    r = float(np.sqrt(max(cxy @ cxy - sol[2], 1e-8)))
    cyl_res = np.abs(np.linalg.norm(xy - cxy, axis=1) - r)
    cyl_res = np.where(points[:, 2] > z1 - 0.005, 0.0, cyl_res).mean()  # top points lie inside the circle
    # box: PCA yaw, extents from the points
    c = xy.mean(0)
    axes = np.linalg.svd(xy - c, full_matrices=False)[2]  # (2, 2)
    uv = (xy - c) @ axes.T
    lo, hi = uv.min(0), uv.max(0)
    box_res = np.minimum(np.abs(uv - lo), np.abs(uv - hi)).min(1)
    box_res = np.where(points[:, 2] > z1 - 0.005, 0.0, box_res).mean()
    h = z1 - z0
    if cyl_res < box_res and r < 0.3:
        theta = rng.uniform(0, 2 * np.pi, n)
        side = rng.random(n) < (2 * np.pi * r * h) / (2 * np.pi * r * h + 2 * np.pi * r * r)
        rad = np.where(side, r, r * np.sqrt(rng.random(n)))
        z = np.where(side, rng.uniform(z0, z1, n), np.where(rng.random(n) < 0.5, z0, z1))
        return np.column_stack([cxy[0] + rad * np.cos(theta), cxy[1] + rad * np.sin(theta), z])
    ext = np.array([*(hi - lo), h])
    mid_uv = (lo + hi) / 2
    local = rng.uniform(-0.5, 0.5, (n, 3)) * ext
    face = rng.integers(0, 3, n)  # push each sample onto a random face, area-weighted roughly by uniform choice
    local[np.arange(n), face] = np.sign(rng.random(n) - 0.5) * ext[face] / 2
    xy_out = c + (mid_uv + local[:, :2]) @ axes
    return np.column_stack([xy_out, (z0 + z1) / 2 + local[:, 2]])


class ClassicalCompleter(Completer):
    def __init__(self, config: ClassicalCompleterConfig = ClassicalCompleterConfig()) -> None:
        self.config = config

    def complete(self, points: np.ndarray, view_point: np.ndarray | None = None) -> CompletedCloud:
        c = self.config
        p = check_partial(points)
        rng = np.random.default_rng(c.seed)
        if c.mode == "mirror":
            p = _resample(p, min(len(p), c.n_points), rng) if len(p) > c.n_points else p
            full = _resample(mirror_complete(p, view_point, c.close_bottom, rng), c.n_points, rng)
        else:
            full = primitive_complete(p, rng, c.n_points)
        return CompletedCloud(points=full, normals=_outward_normals(full, c.normal_neighbours))


register_completer("classical", ClassicalCompleterConfig)(ClassicalCompleter)
