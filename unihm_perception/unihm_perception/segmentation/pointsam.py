"""Point-SAM segmentation backend: geometric grounding gives the prompt (positive point on the named object,
negatives on the others), the promptable network cuts the object out of the scene cloud."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from unihm_common.errors import InputError
from unihm_perception.frame import RGBDFrame, backproject
from unihm_perception.segmentation.base import Segmentation, Segmenter, register_segmenter
from unihm_perception.segmentation.geometric import GeometricSegmenter, GeometricSegmenterConfig
from unihm_perception.segmentation.grounding import parse_instruction


@dataclass(frozen=True)
class PointSAMSegmenterConfig:
    checkpoint: str = ""  # folder with config.json + model.safetensors
    crop_radius_m: float = 0.3  # the network sees the scene within this radius of the prompt
    threshold: float = 0.0  # mask logit threshold
    seed: int = 0
    geometric: GeometricSegmenterConfig = field(default_factory=GeometricSegmenterConfig)


class PointSAMSegmenter(Segmenter):
    def __init__(self, config: PointSAMSegmenterConfig = PointSAMSegmenterConfig()) -> None:
        from unihm_perception.segmentation.pointsam_model import PointSAM

        self.config = config
        self.model = PointSAM.from_pretrained(config.checkpoint)  # fails early, naming the missing file
        self.geometric = GeometricSegmenter(config.geometric)

    def segment(self, frame: RGBDFrame, instruction: str) -> Segmentation:
        import torch

        query, _ = parse_instruction(instruction)
        plane, clusters = self.geometric.clusters(frame)
        if not clusters:
            raise InputError(f"no object found above the table (looking for {query.phrase!r})")
        k = self.geometric.ground(query, clusters)
        centre = clusters[k].points_world.mean(0)
        pts, cols, pix = backproject(frame)
        near = np.linalg.norm(pts - centre, axis=1) < self.config.crop_radius_m
        pts, cols, pix = pts[near], cols[near], pix[near]
        rng = np.random.default_rng(self.config.seed)
        n = self.model.config.n_points
        sel = rng.choice(len(pts), size=min(n, len(pts)), replace=False)
        prompts = [centre] + [c.points_world.mean(0) for c in clusters if c.index != k]
        labels = [1] + [0] * (len(prompts) - 1)
        scale = self.config.crop_radius_m

        def t(a, dtype=torch.float32):
            return torch.as_tensor(np.asarray(a), dtype=dtype)[None]

        with torch.no_grad():
            logits = self.model(t((pts[sel] - centre) / scale), t(cols[sel]), t((np.array(prompts) - centre) / scale),
                                t(labels, torch.long))[0].numpy()  # (n,)
        # propagate the subsample's labels to every point of the crop by nearest neighbour
        from scipy.spatial import cKDTree

        _, nn_idx = cKDTree(pts[sel]).query(pts)
        inside = logits[nn_idx] > self.config.threshold
        if not inside.any():
            raise InputError(f"Point-SAM found no points of {query.phrase!r}")
        mask = np.zeros(frame.shape, dtype=bool)
        mask[pix[inside, 0], pix[inside, 1]] = True
        return Segmentation(phrase=query.phrase, points_world=pts[inside], colours=cols[inside], mask=mask,
                            table_plane=plane, clusters=tuple(clusters), chosen=k)


register_segmenter("pointsam", PointSAMSegmenterConfig)(PointSAMSegmenter)
