"""Camera frame + instruction -> instructed object's cloud (segmented) -> completed cloud with normals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from unihm_perception.completion import CompletedCloud, make_completer
from unihm_perception.frame import RGBDFrame
from unihm_perception.segmentation import Segmentation, make_segmenter


@dataclass(frozen=True)
class PerceptionConfig:
    segmenter: str = "geometric"  # geometric | pointsam
    completer: str = "classical"  # classical | snowflake
    segmenter_config: dict = field(default_factory=dict)  # checked strictly by the backend's config class
    completer_config: dict = field(default_factory=dict)


@dataclass(frozen=True)
class PerceptionResult:
    segmentation: Segmentation
    completed: CompletedCloud
    latency_ms: dict[str, float]


class PerceptionPipeline:
    def __init__(self, config: PerceptionConfig = PerceptionConfig()) -> None:
        self.config = config
        self.segmenter = make_segmenter(config.segmenter, config.segmenter_config)
        self.completer = make_completer(config.completer, config.completer_config)

    def run(self, frame: RGBDFrame, instruction: str) -> PerceptionResult:
        """Raises `InputError` (bad frame, unknown word, no matching object) and nothing else on bad input."""
        t0 = time.perf_counter()
        seg = self.segmenter.segment(frame, instruction)
        t1 = time.perf_counter()
        done = self.completer.complete(seg.points_world, view_point=np.asarray(frame.T_world_camera)[:3, 3])
        t2 = time.perf_counter()
        return PerceptionResult(seg, done, {"segment": 1e3 * (t1 - t0), "complete": 1e3 * (t2 - t1)})
