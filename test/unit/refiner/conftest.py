"""Fixtures for the refiner tests: an in-code toy hand (always available) and synthetic episodes."""

from __future__ import annotations

import pytest

from unihm_refiner.synthetic import make_synthetic_sequence, toy_chain


@pytest.fixture(scope="session")
def toy():
    """(chain, urdf_xml) of a 3-finger, 9-DoF toy hand."""
    return toy_chain(3, 3)


@pytest.fixture(scope="session")
def toy_seq(toy):
    chain, xml = toy
    return make_synthetic_sequence(chain, n_frames=60, n_points=1024, penetration_mm=8.0, seed=1, urdf_xml=xml)
