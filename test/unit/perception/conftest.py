"""Shared synthetic scenes for the perception / target-planner tests (rendered once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from unihm_perception.camera.synthetic import SyntheticCameraConfig, render
from unihm_planner.target.tasks import sample_episode


@pytest.fixture(scope="session")
def episodes():
    """Four held-out synthetic pick-and-place episodes with their 640x480 renders (seeded)."""
    rng = np.random.default_rng(777)
    cam = SyntheticCameraConfig()
    out = []
    for _ in range(4):
        ep = sample_episode(rng)
        out.append((ep, render(ep.scene, cam.K(), cam.T_world_camera(), cam.width, cam.height, rng,
                               cam.depth_noise_m_at_1m, cam.dropout, cam.edge_dropout)))
    return out
