"""Retrieval and regression baselines."""

import numpy as np
import pytest

from unihm_planner.evaluation.baselines import (
    RegressionBaseline,
    RetrievalBaseline,
    _rot6d_to_matrix,
    hashed_bow_embed,
)


def test_retrieval_returns_the_exact_training_motion(tiny_data):
    fit = tiny_data["fit"]
    base = RetrievalBaseline(fit)
    for k, s in enumerate(fit[:5]):
        assert base.nearest(s, seed=k) == k
        p = base.predict(s, seed=k)
        assert p.q == pytest.approx(s.q)
        assert p.T_world_wrist == pytest.approx(s.T_world_wrist)


def test_retrieval_reexpresses_the_motion_on_the_query_path(tiny_data):
    src = tiny_data["fit"][0]
    moved = type(src)(**{**src.__dict__, "T_world_object": src.T_world_object.copy(), "seq_id": "q"})
    moved.T_world_object[:, :3, 3] += [0.05, 0.0, 0.0]
    p = RetrievalBaseline([src]).predict(moved)
    assert p.T_world_wrist[:, :3, 3] == pytest.approx(src.T_world_wrist[:, :3, 3] + [0.05, 0.0, 0.0])


def test_hashed_embedding_is_normalised_and_word_sensitive():
    e = hashed_bow_embed(["pick up the mug", "pick up the mug", "push the box"])
    assert np.linalg.norm(e, axis=1) == pytest.approx(np.ones(3))
    assert e[0] @ e[1] == pytest.approx(1.0)
    assert e[0] @ e[2] < 0.9


def test_rot6d_gives_rotations():
    R = _rot6d_to_matrix(np.random.default_rng(0).normal(size=(5, 6)))
    assert np.einsum("bji,bjk->bik", R, R) == pytest.approx(np.tile(np.eye(3), (5, 1, 1)), abs=1e-9)
    assert np.linalg.det(R) == pytest.approx(np.ones(5))


def test_regression_fits_its_training_set_better_than_the_mean(tiny_data):
    fit = tiny_data["fit"]
    reg = RegressionBaseline(fit, epochs=200, hidden=64)
    err = np.mean([np.abs(reg.predict(s, 0).q - s.q).mean() for s in fit])
    mean_q = np.mean([s.q for s in fit], axis=0)
    err_mean = np.mean([np.abs(mean_q - s.q).mean() for s in fit])
    assert err < 0.5 * err_mean
    p = reg.predict(tiny_data["unseen"][0], 1)
    assert p.q.shape == tiny_data["unseen"][0].q.shape and p.T_world_wrist.shape == (12, 4, 4)
