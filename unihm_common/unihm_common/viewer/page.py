"""Write one HTML file with the data embedded as JSON and a small canvas-2D renderer (viewer.js).

Orbit by mouse drag, zoom with the wheel, play/pause and scrub the motion. Works offline from file://.
"""

from __future__ import annotations

import html
import json
from importlib.resources import files
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError

MAX_CLOUD_POINTS = 4000
HAND_COLORS = ("#ff7f50", "#7fdbff", "#b10dc9", "#2ecc40")

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{background:#222;color:#ddd;font:14px sans-serif;margin:0;padding:8px}}
canvas{{display:block;background:#111;cursor:grab}}pre{{font-size:12px}}</style></head>
<body><h3>{title}</h3>
<canvas id="view" width="800" height="600"></canvas>
<div><button id="play">pause</button> <input id="scrub" type="range" min="0" max="0" value="0" style="width:600px">
<span id="frame"></span></div>
<p>drag: orbit, wheel: zoom. Yellow: target object path (triad: current pose); lines: hand links.</p>
<pre id="metrics">{metrics}</pre>
<script>window.UNIHM_DATA = {data};</script>
<script>{script}</script>
</body></html>
"""


def _r(a: np.ndarray, nd: int = 4) -> list:
    return np.round(np.asarray(a, dtype=np.float64), nd).tolist()


def viewer_data(cloud_points=None, cloud_colors=None, target_path=None, hand_frames=None, fps: float = 10.0,
                follow: bool = True, seed: int = 0) -> dict:
    """The JSON the page embeds. Shapes: cloud (N,3) [+ (N,3) colours 0..1 or 0..255], target_path (T,4,4),
    hand_frames {name: ((T,K,3) positions, [(a, b), ...] link index pairs)}."""
    pts = np.zeros((0, 3)) if cloud_points is None else np.asarray(cloud_points, dtype=np.float64).reshape(-1, 3)
    cols = np.zeros((0, 3)) if cloud_colors is None else np.asarray(cloud_colors, dtype=np.float64).reshape(-1, 3)
    if len(cols) and len(cols) != len(pts):
        raise InputError(f"cloud_colors has {len(cols)} rows for {len(pts)} points")
    if len(pts) > MAX_CLOUD_POINTS:  # keep the page small
        keep = np.sort(np.random.default_rng(seed).choice(len(pts), MAX_CLOUD_POINTS, replace=False))
        pts, cols = pts[keep], cols[keep] if len(cols) else cols
    if len(cols) and cols.max() <= 1.0:
        cols = cols * 255
    path = np.zeros((0, 4, 4)) if target_path is None else np.asarray(target_path, dtype=np.float64)
    if path.ndim != 3 or path.shape[1:] != (4, 4):
        raise InputError(f"target_path must be (T, 4, 4), got {path.shape}")
    inv0 = np.linalg.inv(path[0]) if len(path) else np.eye(4)
    hands, frames, all_pts = [], max(len(path), 1), [pts, path[:, :3, 3]]
    for i, (name, (positions, links)) in enumerate((hand_frames or {}).items()):
        p = np.asarray(positions, dtype=np.float64)
        if p.ndim != 3 or p.shape[2] != 3:
            raise InputError(f"hand {name!r}: positions must be (T, K, 3), got {p.shape}")
        links = [(int(a), int(b)) for a, b in links]
        if any(not (0 <= a < p.shape[1] and 0 <= b < p.shape[1]) for a, b in links):
            raise InputError(f"hand {name!r}: link indices out of range 0..{p.shape[1] - 1}")
        hands.append({"name": name, "points": _r(p), "links": links, "color": HAND_COLORS[i % len(HAND_COLORS)]})
        frames = max(frames, p.shape[0])
        all_pts.append(p.reshape(-1, 3))
    every = np.concatenate([a for a in all_pts if len(a)]) if any(len(a) for a in all_pts) else np.zeros((1, 3))
    lo, hi = every.min(0), every.max(0)
    return {"cloud": {"points": _r(pts), "colors": np.clip(np.round(cols), 0, 255).astype(int).tolist()},
            "path": [{"xyz": _r(T[:3, 3]), "m": _r(T.ravel()), "rel": _r((T @ inv0).ravel())} for T in path],
            "hands": hands, "frames": int(frames), "fps": float(fps), "follow": bool(follow and len(path)),
            "center": _r((lo + hi) / 2), "radius": float(max(np.linalg.norm(hi - lo) / 2, 0.05))}


def write_viewer(path: str | Path, cloud_points=None, cloud_colors=None, target_path=None, hand_frames=None,
                 fps: float = 10.0, title: str = "UniHM result", metrics: dict | None = None,
                 follow: bool = True) -> Path:
    """Write the page; see `viewer_data` for the shapes. `follow`: the cloud moves along the target path."""
    data = viewer_data(cloud_points, cloud_colors, target_path, hand_frames, fps, follow)
    script = files("unihm_common.viewer").joinpath("viewer.js").read_text()
    text = TEMPLATE.format(title=html.escape(title), metrics=html.escape(json.dumps(metrics or {}, indent=2)),
                           data=json.dumps(data, separators=(",", ":")).replace("</", "<\\/"), script=script)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
