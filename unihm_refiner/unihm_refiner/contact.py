"""The object point cloud P_obj in the object frame: normals, KD-tree, signed distances (Eq. 11).

Built once per sequence: the KD-tree and the normals are computed once, and each refiner iteration
only queries the F fingertip points. Normals must point out of the object: the sign of the
point-to-plane distance d_i = n_i^T (x_i - p_i) (Eq. 11 / B15) tells inside (d < 0) from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from unihm_common.errors import InputError, MissingDependencyError


def _check_points(points: np.ndarray, what: str) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise InputError(f"{what} must have shape (N, 3), got {pts.shape}")
    if pts.shape[0] == 0:
        raise InputError(f"{what} is empty: the refiner needs an object point cloud with at least 3 points")
    if not np.all(np.isfinite(pts)):
        bad = int(np.count_nonzero(~np.all(np.isfinite(pts), axis=1)))
        raise InputError(f"{what} holds NaN or inf in {bad} of {pts.shape[0]} points; drop them before refining")
    return pts


def usable_normals(normals: np.ndarray | None, points: np.ndarray | None = None,
                   max_missing: float = 0.25) -> np.ndarray | None:
    """Stored normals made usable, or None (`ObjectCloud` then estimates them all).

    Datasets store zero normals where their mesh sampling had none (an importer's faceless samples; a synthetic
    union's seam where two parts' gradients cancel). When every normal is a unit vector they are returned as they
    are. With `points` (N, 3) and at most `max_missing` of them without one, each missing normal takes the normal
    of the nearest point that has one: discarding all stored normals for a few missing ones would hand a thin or
    concave object to the centroid-oriented estimate, which turns normals inward (a door panel's front face), and
    every signed distance read through them (contact, penetration) with it. Otherwise None."""
    if normals is None:
        return None
    n = np.asarray(normals, np.float64)
    ok = np.abs(np.linalg.norm(n, axis=1) - 1.0) < 1e-3
    if ok.all():
        return n
    if points is None or ok.sum() == 0 or np.mean(~ok) > max_missing:
        return None
    pts = np.asarray(points, np.float64)
    if pts.shape != n.shape:
        raise InputError(f"object points {pts.shape} and normals {n.shape} differ in shape")
    _, nearest = cKDTree(pts[ok]).query(pts[~ok])
    filled = n.copy()
    filled[~ok] = n[ok][nearest]
    return filled


def statistical_inlier_mask(points: np.ndarray, k: int = 16, std_ratio: float = 2.5) -> np.ndarray:
    """(N,) bool: points whose mean distance to their k neighbours is within mean + std_ratio * std.

    The usual statistical outlier filter (as open3d's remove_statistical_outlier), vectorised.
    """
    pts = _check_points(points, "object points")
    k_eff = min(k + 1, pts.shape[0])
    dist, _ = cKDTree(pts).query(pts, k=k_eff)  # (N, k+1), first column is the point itself
    mean_d = dist[:, 1:].mean(axis=1) if k_eff > 1 else np.zeros(pts.shape[0])
    return mean_d <= mean_d.mean() + std_ratio * mean_d.std()


def estimate_normals(
    points: np.ndarray,
    k: int = 16,
    method: Literal["pca", "open3d"] = "pca",
    orient: Literal["centroid", "consistent"] = "centroid",
) -> np.ndarray:
    """Outward unit normals (N,3) of an object cloud (object frame).

    "pca": the smallest-eigenvalue direction of each point's k-neighbour covariance, with the
    neighbours weighted by a Gaussian of their distance so that a few outliers barely tilt it
    (batched eigh, no Python loop over points). "open3d": open3d's hybrid KNN estimator.
    orient "centroid" flips each normal to point away from the cloud centroid (right for
    star-shaped objects); "consistent" propagates orientation over a tangent-plane graph (open3d),
    then flips all normals so that most point away from the centroid.
    """
    pts = _check_points(points, "object points")
    n_pts = pts.shape[0]
    if n_pts < 3:
        raise InputError(f"object cloud has {n_pts} points; normal estimation needs at least 3")
    k_eff = int(min(max(k, 3), n_pts))
    if method == "pca":
        dist, idx = cKDTree(pts).query(pts, k=k_eff)  # (N, k)
        nbr = pts[idx]  # (N, k, 3)
        sigma = np.median(dist[:, 1:], axis=1, keepdims=True) + 1e-12  # (N, 1)
        w = np.exp(-0.5 * (dist / (2.0 * sigma)) ** 2)  # (N, k)
        w /= w.sum(axis=1, keepdims=True)
        mu = np.einsum("nk,nkc->nc", w, nbr)  # (N, 3)
        cen = nbr - mu[:, None, :]  # (N, k, 3)
        cov = np.einsum("nk,nki,nkj->nij", w, cen, cen)  # (N, 3, 3)
        _, vecs = np.linalg.eigh(cov)  # ascending eigenvalues
        normals = vecs[:, :, 0]  # (N, 3)
    elif method == "open3d":
        o3d = _import_open3d()
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
        pcd.estimate_normals(o3d.geometry.KDTreeSearchParamKNN(knn=k_eff))
        normals = np.asarray(pcd.normals, dtype=np.float64)
    else:
        raise InputError(f"unknown normal estimation method {method!r}; use 'pca' or 'open3d'")
    outward = pts - pts.mean(axis=0)  # (N, 3)
    if orient == "consistent":
        o3d = _import_open3d()
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts))
        pcd.normals = o3d.utility.Vector3dVector(normals)
        pcd.orient_normals_consistent_tangent_plane(k_eff)
        normals = np.asarray(pcd.normals, dtype=np.float64)
        if np.count_nonzero(np.einsum("nc,nc->n", normals, outward) < 0) > n_pts // 2:
            normals = -normals
    elif orient == "centroid":
        flip = np.einsum("nc,nc->n", normals, outward) < 0
        normals = np.where(flip[:, None], -normals, normals)
    else:
        raise InputError(f"unknown normal orientation {orient!r}; use 'centroid' or 'consistent'")
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def _import_open3d():
    try:
        import open3d as o3d
    except ImportError as exc:
        raise MissingDependencyError("normal method 'open3d' needs open3d: pip install open3d-cpu==0.20.0") from exc
    return o3d


class ObjectCloud:
    """P_obj with outward unit normals and a KD-tree, all in the object frame (metres).

    points: (N, 3); normals: (N, 3) outward, or None to estimate them (`estimate_normals`).
    remove_outliers: drop statistical outliers first (noisy segmentation, Fig. B2).
    """

    def __init__(
        self,
        points: np.ndarray,
        normals: np.ndarray | None = None,
        *,
        normal_k: int = 16,
        normal_method: Literal["pca", "open3d"] = "pca",
        remove_outliers: bool = False,
        outlier_std_ratio: float = 2.5,
        nn_backend: Literal["auto", "scipy", "open3d"] = "auto",
    ) -> None:
        pts = _check_points(points, "object points")
        nrm = None
        if normals is not None:
            nrm = np.asarray(normals, dtype=np.float64)
            if nrm.shape != pts.shape:
                raise InputError(f"object normals have shape {nrm.shape}; expected {pts.shape} like the points")
            if not np.all(np.isfinite(nrm)):
                raise InputError("object normals hold NaN or inf")
            norm = np.linalg.norm(nrm, axis=1, keepdims=True)
            if np.any(norm < 1e-9):
                raise InputError(f"{int(np.count_nonzero(norm < 1e-9))} object normals have zero length")
            nrm = nrm / norm
        if remove_outliers:
            keep = statistical_inlier_mask(pts, k=normal_k, std_ratio=outlier_std_ratio)
            pts = pts[keep]
            nrm = None if nrm is None else nrm[keep]
        if nrm is None:
            nrm = estimate_normals(pts, k=normal_k, method=normal_method)
        if nn_backend not in ("auto", "scipy", "open3d"):
            raise InputError(f"unknown nearest-neighbour backend {nn_backend!r}; use 'auto', 'scipy' or 'open3d'")
        self.points = np.ascontiguousarray(pts)  # (N, 3)
        self.normals = np.ascontiguousarray(nrm)  # (N, 3)
        self.tree = cKDTree(self.points)
        self.nn_backend = nn_backend
        self._query: Callable[[np.ndarray], np.ndarray] | None = None
        self.nn_backend_used: str | None = None  # set when the query function is built

    def nearest_index_fn(self) -> Callable[[np.ndarray], np.ndarray]:
        """A function x (F,3) -> (F,) indices of the nearest cloud points (exact, Euclidean).

        The refiner queries a handful of fingertips at a time, where scipy's cKDTree.query costs
        ~14 us of call overhead. open3d's tensor `NearestNeighborSearch` (an exact nanoflann KD-tree)
        answers the F tips in one call, ~8 us for 5 tips including the numpy<->tensor wrapping;
        one `KDTreeFlann.search_knn_vector_3d` call per tip (~2 us each) is the fallback where the
        tensor API is missing. "auto" uses open3d when it imports, else scipy; all return the exact
        nearest neighbour (ties aside). Built on first use.
        """
        if self._query is None:
            backend = self.nn_backend
            if backend in ("auto", "open3d"):
                try:
                    import open3d as o3d
                except ImportError as exc:
                    if backend == "open3d":
                        raise MissingDependencyError("nn_backend 'open3d' needs open3d: pip install open3d-cpu==0.20.0"
                                                     ) from exc
                    backend = "scipy"
            if backend == "scipy":
                tree_query = self.tree.query

                def query(x: np.ndarray) -> np.ndarray:
                    return tree_query(x)[1]
            else:
                query = _open3d_tensor_query(o3d, self.points)
                backend = "open3d NearestNeighborSearch (nanoflann)"
                if query is None:
                    query, backend = _open3d_flann_query(o3d, self.points), "open3d KDTreeFlann"
            self._query = query
            self.nn_backend_used = "scipy cKDTree" if backend == "scipy" else backend
        return self._query

    def __len__(self) -> int:
        return int(self.points.shape[0])

    def nearest(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest neighbours (p_i, n_i) of query points x (F,3): each (F,3)."""
        idx = self.nearest_index_fn()(np.asarray(x, dtype=np.float64).reshape(-1, 3))
        return self.points[idx], self.normals[idx]

    def signed_distance(self, x: np.ndarray) -> np.ndarray:
        """d_i = n_i^T (x_i - p_i) of Eq. 11 (metres) for x (F,3) in the object frame: (F,)."""
        p, n = self.nearest(x)
        return np.einsum("fc,fc->f", n, x - p)


def _open3d_tensor_query(o3d, points: np.ndarray) -> Callable[[np.ndarray], np.ndarray] | None:
    """Batched exact nearest neighbours with open3d's tensor NNS, or None where it is unavailable."""
    try:
        tensor = o3d.core.Tensor.from_numpy
        nns = o3d.core.nns.NearestNeighborSearch(tensor(points))
        if not nns.knn_index():
            return None
        search = nns.knn_search
    except (AttributeError, RuntimeError):
        return None

    def query(x: np.ndarray) -> np.ndarray:
        return search(tensor(np.ascontiguousarray(x, dtype=np.float64)), 1)[0].numpy().ravel()

    return query


def _open3d_flann_query(o3d, points: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    flann = o3d.geometry.KDTreeFlann(o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points)))
    knn = flann.search_knn_vector_3d

    def query(x: np.ndarray) -> np.ndarray:
        return np.array([knn(xi, 1)[1][0] for xi in x])

    return query
