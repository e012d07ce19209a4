"""Object segmentation: `geometric` (no weights: RANSAC table, clustering, attribute grounding), `pointsam`."""

from unihm_perception.segmentation.base import Cluster, Segmentation, Segmenter, make_segmenter, segmenter_backends

__all__ = ["Cluster", "Segmentation", "Segmenter", "make_segmenter", "segmenter_backends"]
