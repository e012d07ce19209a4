"""Weight-free segmentation: RANSAC table plane, DBSCAN clusters above it, attribute grounding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from unihm_common.errors import ConfigError, InputError
from unihm_perception.frame import RGBDFrame, backproject
from unihm_perception.segmentation.base import Cluster, Segmentation, Segmenter, register_segmenter
from unihm_perception.segmentation.grounding import (
    ObjectQuery,
    colour_residual,
    parse_instruction,
    shape_error,
    size_of,
)


@dataclass(frozen=True)
class GeometricSegmenterConfig:
    plane_threshold_m: float = 0.008  # RANSAC inlier distance
    plane_samples: int = 6000  # points RANSAC sees
    plane_iterations: int = 200
    min_height_m: float = 0.006  # above the plane counts as object
    max_height_m: float = 0.5
    max_range_m: float = 2.5  # from the camera
    table_margin_m: float = 0.02  # objects must lie over the table's extent (+ margin)
    voxel_m: float = 0.005  # clustering runs on this voxel grid
    cluster_eps_m: float = 0.012
    cluster_min_points: int = 8  # on the voxel grid
    min_object_points: int = 60  # full resolution
    colour_max_residual: float = 0.22  # above: colour does not match
    shape_max_error: float = 0.5  # above: the noun does not match (log-ratio of extents)
    fill_mask_holes: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if min(self.plane_threshold_m, self.voxel_m, self.cluster_eps_m) <= 0:
            raise ConfigError("plane_threshold_m, voxel_m and cluster_eps_m must be > 0")
        if self.min_height_m >= self.max_height_m:
            raise ConfigError("min_height_m must be < max_height_m")


def fit_table_plane(points: np.ndarray, config: GeometricSegmenterConfig, up_hint: np.ndarray) -> np.ndarray:
    """RANSAC plane (open3d) refined by least squares on its inliers; normal along `up_hint`. Returns (4,)."""
    import open3d as o3d

    rng = np.random.default_rng(config.seed)
    sub = points[rng.choice(len(points), size=min(len(points), config.plane_samples), replace=False)]
    o3d.utility.random.seed(config.seed)
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(sub))
    plane, inliers = pcd.segment_plane(config.plane_threshold_m, 3, config.plane_iterations)
    if len(inliers) < 0.1 * len(sub):
        raise InputError(f"no table plane found ({len(inliers)} of {len(sub)} points on the best plane)")
    inl = sub[inliers]
    c = inl.mean(0)
    n = np.linalg.svd(inl - c, full_matrices=False)[2][-1]
    if np.dot(n, up_hint) < 0:
        n = -n
    return np.array([*n, -np.dot(n, c)])


def _dims_above_plane(points: np.ndarray, plane: np.ndarray) -> tuple[float, float, float]:
    n = plane[:3]
    h = float(np.max(points @ n + plane[3]))
    flat = points - np.outer(points @ n + plane[3], n)
    flat = flat - flat.mean(0)
    axes = np.linalg.svd(flat, full_matrices=False)[2][:2]  # (2, 3) in-plane principal axes
    ext = np.ptp(flat @ axes.T, axis=0)
    return h, float(ext.max()), float(ext.min())


class GeometricSegmenter(Segmenter):
    def __init__(self, config: GeometricSegmenterConfig = GeometricSegmenterConfig()) -> None:
        self.config = config

    def clusters(self, frame: RGBDFrame) -> tuple[np.ndarray, list[Cluster]]:
        """Table plane (4,) and the object clusters standing on it.

        The plane is fitted on a pixel subsample; heights of all pixels then come straight from the depth
        image (height is linear in the depth along each pixel's ray), so only foreground pixels are lifted.
        """
        import open3d as o3d

        c = self.config
        frame.check()
        sub, _, _ = backproject(frame, stride=4)
        cam = np.asarray(frame.T_world_camera)[:3, 3]
        sub = sub[np.linalg.norm(sub - cam, axis=1) < c.max_range_m]
        if len(sub) < 50:
            raise InputError(f"only {len(sub)} valid depth points within {c.max_range_m} m; nothing to segment")
        plane = fit_table_plane(sub, c, up_hint=cam - sub.mean(0))
        # height(pixel) = depth * (n . R ray) + (n . t + d), ray = ((u - cx)/fx, (v - cy)/fy, 1)
        H, W = frame.shape
        K, T = np.asarray(frame.K), np.asarray(frame.T_world_camera)
        n_cam = T[:3, :3].T @ plane[:3]  # plane normal in the optical frame
        off = float(plane[:3] @ T[:3, 3] + plane[3])
        gx = ((np.arange(W) - K[0, 2]) / K[0, 0] * n_cam[0]).astype(np.float32)  # (W,)
        gy = ((np.arange(H) - K[1, 2]) / K[1, 1] * n_cam[1]).astype(np.float32)  # (H,)
        depth = frame.depth_m
        with np.errstate(invalid="ignore"):
            height = depth * (gy[:, None] + gx[None, :] + np.float32(n_cam[2])) + np.float32(off)  # (H, W)
            fg = (height > c.min_height_m) & (height < c.max_height_m) & (depth < c.max_range_m)
        fpts, _, fpix = backproject(frame, mask=fg)
        table_pts = sub[np.abs(sub @ plane[:3] + plane[3]) < c.plane_threshold_m]
        if len(table_pts) and len(fpts):  # only what stands over the table's extent (in-plane coordinates)
            axes = np.linalg.svd(np.eye(3) - np.outer(plane[:3], plane[:3]))[0][:, :2]  # (3, 2)
            uv_t, uv = table_pts @ axes, fpts @ axes
            lo, hi = uv_t.min(0) - c.table_margin_m, uv_t.max(0) + c.table_margin_m
            inside = np.all((uv >= lo) & (uv <= hi), axis=1)
            fpts, fpix = fpts[inside], fpix[inside]
        if len(fpts) < c.min_object_points:
            return plane, []
        vox = np.floor(fpts / c.voxel_m).astype(np.int64)
        vox -= vox.min(0)
        key = (vox[:, 0] * (vox[:, 1].max() + 1) + vox[:, 1]) * (vox[:, 2].max() + 1) + vox[:, 2]  # (F,)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(fpts[first]))  # one point per voxel
        labels_v = np.asarray(pcd.cluster_dbscan(c.cluster_eps_m, c.cluster_min_points))  # (V,)
        labels = labels_v[inverse]  # (F,)
        out = []
        for k in range(labels_v.max() + 1 if len(labels_v) else 0):
            sel = labels == k
            if sel.sum() < c.min_object_points:
                continue
            p, px = fpts[sel], fpix[sel]
            rgb = np.median(frame.rgb[px[:, 0], px[:, 1]], axis=0) / 255.0
            out.append(Cluster(index=len(out), points_world=p, pixels=px, rgb=rgb, dims_m=_dims_above_plane(p, plane)))
        return plane, out

    def ground(self, query: ObjectQuery, clusters: list[Cluster]) -> int:
        """Index of the cluster that best matches `query`; `InputError` listing the candidates if none does."""
        c = self.config
        best, best_score = -1, np.inf
        cands = query.candidates
        for cl in clusters:
            score = 0.0
            if query.colour:
                r = colour_residual(cl.rgb, query.colour)
                if r > c.colour_max_residual:
                    continue
                score += r / c.colour_max_residual
            if query.size and size_of(cl.dims_m) != query.size:
                continue
            if query.nouns:
                e = shape_error(cl.dims_m, cands)
                if e > c.shape_max_error:
                    continue
                score += e / c.shape_max_error
            if score < best_score:
                best, best_score = cl.index, score
        if best < 0:
            seen = "; ".join(cl.describe() for cl in clusters) or "no objects above the table"
            raise InputError(f"no object matches {query.phrase!r}; seen: {seen}")
        return best

    def segment(self, frame: RGBDFrame, instruction: str) -> Segmentation:
        query, _ref = parse_instruction(instruction)  # unknown words fail before any geometry
        plane, clusters = self.clusters(frame)
        if not clusters:
            raise InputError(f"no object found above the table (looking for {query.phrase!r})")
        k = self.ground(query, clusters)
        cl = clusters[k]
        mask = np.zeros(frame.shape, dtype=bool)
        mask[cl.pixels[:, 0], cl.pixels[:, 1]] = True
        if self.config.fill_mask_holes:  # pixels lost to depth dropout inside the object (closed in its box)
            (r0, c0), (r1, c1) = cl.pixels.min(0), cl.pixels.max(0) + 1
            pad = 3
            r0, c0 = max(r0 - pad, 0), max(c0 - pad, 0)
            box = mask[r0:r1 + pad, c0:c1 + pad]
            mask[r0:r1 + pad, c0:c1 + pad] = ndimage.binary_fill_holes(ndimage.binary_closing(box, iterations=2) | box)
        cols = frame.rgb[cl.pixels[:, 0], cl.pixels[:, 1]].astype(np.float32) / 255.0
        return Segmentation(phrase=query.phrase, points_world=cl.points_world, colours=cols, mask=mask,
                            table_plane=plane, clusters=tuple(clusters), chosen=k)


register_segmenter("geometric", GeometricSegmenterConfig)(GeometricSegmenter)
