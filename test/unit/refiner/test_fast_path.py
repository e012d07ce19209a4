"""The refiner's fast per-frame kernel against the reference `FrameEnergy`, and its options."""

import numpy as np
import pytest

from unihm_refiner.baseline import refine_least_squares
from unihm_refiner.contact import ObjectCloud
from unihm_refiner.refiner import Refiner, RefinerOptions, check_inputs
from unihm_refiner.synthetic import sphere_cloud


def test_fast_energy_gradient_and_hessian_match_frame_energy(toy, toy_seq):
    chain, _ = toy
    ref = Refiner(chain)
    cloud = toy_seq.cloud()
    q_gen, R, t = check_inputs(chain, toy_seq.motion.q, toy_seq.T_world_object, toy_seq.T_world_wrist)
    inv = ref._inv
    rng = np.random.default_rng(4)
    for frame in (0, 17, 40):
        qg, q1, q2 = q_gen[frame], q_gen[frame - 1], q_gen[frame - 2]
        prob = ref.frame_energy(cloud, R[frame], t[frame], qg, q1, q2)
        evaluate, linearize, _ = ref._frame_functions(cloud, R[frame], t[frame], qg[inv], q1[inv], q2[inv])
        q = qg + rng.normal(0, 0.02, chain.num_joints)
        e, state = evaluate(q[inv])
        assert np.isclose(e, prob.energy(q), rtol=1e-10, atol=1e-12)
        grad, H, _ = linearize(q[inv], state)
        corr = prob.correspondences(q)
        r, J = prob.residuals(q, corr), prob.jacobian(q, corr)
        assert np.allclose(grad, (J.T @ r)[inv], rtol=1e-8, atol=1e-8 * np.abs(grad).max())
        assert np.allclose(H, (J.T @ J)[np.ix_(inv, inv)], rtol=1e-8, atol=1e-8 * np.abs(H).max())


def test_live_views_track_pinocchio_data(toy):
    chain, _ = toy
    from unihm_refiner.kinematics import TipKinematics

    kin = TipKinematics(chain)
    assert kin.live_views is not None
    for q in (chain.lower_rad, chain.upper_rad, 0.5 * (chain.lower_rad + chain.upper_rad)):
        kin.update(q)
        assert np.array_equal(kin.positions(), kin.positions_slow())


def test_nearest_neighbour_backends_agree():
    pytest.importorskip("open3d")
    pts, normals = sphere_cloud(2048, 0.05, noise_m=0.0005)
    x = np.random.default_rng(1).normal(0, 0.04, (5000, 3))
    a = ObjectCloud(pts, normals, nn_backend="scipy").nearest_index_fn()(x)
    cloud = ObjectCloud(pts, normals, nn_backend="open3d")
    b = cloud.nearest_index_fn()(x)
    assert np.array_equal(a, b)
    assert "open3d" in cloud.nn_backend_used
    import open3d as o3d

    from unihm_refiner.contact import _open3d_flann_query, _open3d_tensor_query

    tensor_query = _open3d_tensor_query(o3d, pts)  # batched (tensor API) and per-point fallback
    assert tensor_query is not None and np.array_equal(tensor_query(x[:5]), a[:5])
    assert np.array_equal(_open3d_flann_query(o3d, pts)(x), a)


def test_warm_start_same_energy_fewer_iterations(toy, toy_seq):
    chain, _ = toy
    args = (toy_seq.cloud(), toy_seq.motion.q, toy_seq.T_world_object, toy_seq.T_world_wrist)
    cold = Refiner(chain).refine(*args)
    warm = Refiner(chain, RefinerOptions(warm_start=True)).refine(*args)
    assert warm.iterations.sum() < cold.iterations.sum()
    assert warm.max_penetration_mm_after < 2.0 and warm.converged.mean() > 0.9
    assert warm.energy_after.sum() <= cold.energy_after.sum() * 1.05
    base = refine_least_squares(chain, *args, options=RefinerOptions(warm_start=True, energy_rtol=1e-8))
    assert np.abs(base.q - warm.q).mean() < 0.01  # same problem, same starting points
