"""Per-fingertip step lengths along the LM step (`RefinerOptions.line_search`) and the rejection stop."""

import numpy as np
import pytest
from scipy.linalg.lapack import dposv

from unihm_refiner.penalty import penalty
from unihm_refiner.refiner import Refiner, RefinerOptions, check_inputs
from unihm_refiner.synthetic import make_synthetic_sequence


@pytest.fixture(scope="module")
def deep_seq(toy):
    chain, xml = toy
    return make_synthetic_sequence(chain, n_frames=40, n_points=1024, penetration_mm=16.0, seed=2, urdf_xml=xml)


def _refine(chain, seq, **opts):
    return Refiner(chain, RefinerOptions(**opts)).refine(seq.cloud(), seq.motion.q, seq.T_world_object,
                                                         seq.T_world_wrist)


def test_longer_steps_fewer_iterations_same_minimum(toy, deep_seq):
    chain, _ = toy
    plain = _refine(chain, deep_seq, line_search=False)
    long = _refine(chain, deep_seq, line_search=True)
    assert plain.max_penetration_mm_before > 10.0
    assert long.iterations.sum() < 0.85 * plain.iterations.sum()
    assert long.converged.all() and plain.converged.all()
    assert long.max_penetration_mm_after < 2.0
    # the same energy, to within the spread of nearby local minima (cloud point-to-plane facets)
    assert long.energy_after.sum() == pytest.approx(plain.energy_after.sum(), rel=0.01)
    assert np.abs(long.q - plain.q).mean() < 0.01


def test_energy_never_increases_with_long_steps(toy, deep_seq):
    chain, _ = toy
    res = _refine(chain, deep_seq, record_history=True)
    for h in res.history:
        assert np.all(np.diff(h) < 0)
    assert np.allclose([h[-1] for h in res.history], res.energy_after)
    assert np.all(res.energy_after <= res.energy_before + 1e-9)


def test_step_length_minimises_the_linearised_model(toy, deep_seq):
    """Each finger's s_i is the minimiser of its part of the model (distances linear in the step)."""
    chain, _ = toy
    ref = Refiner(chain)
    cloud = deep_seq.cloud()
    q_gen, R, t = check_inputs(chain, deep_seq.motion.q, deep_seq.T_world_object, deep_seq.T_world_wrist)
    frame = int(np.argmax(ref.refine(cloud, deep_seq.motion.q, deep_seq.T_world_object,
                                     deep_seq.T_world_wrist).penetration_before_m))
    inv, perm = ref._inv, ref._perm
    qg = q_gen[frame][inv]
    evaluate, linearize, step_length = ref._frame_functions(cloud, R[frame], t[frame], qg, qg, qg)
    q = np.clip(qg, ref._lo, ref._hi)
    _, state = evaluate(q)
    assert min(state[2]) < -5.0  # a fingertip more than 5 mm inside
    grad, H, J_d = linearize(q, state)
    dq = dposv(H + 1e-3 * np.eye(len(q)), -grad)[1]
    scale = step_length(q, dq, state[2], J_d)
    assert scale is not None and scale.max() > 1.5
    excl = ref._exclusive
    prob = ref.frame_energy(cloud, R[frame], t[frame], qg[perm], qg[perm], qg[perm])
    w = ref.w_gen + ref.w_vel + ref.w_acc

    def model(tip, s):  # E_t of the joints of one finger, with d_i linear in the step
        step = dq * np.where(excl[tip] > 0, s, 1.0)
        d = state[2][tip] + float(J_d[tip] @ step)
        dqi = (q + step - qg) * excl[tip]
        return float(penalty(np.array([d]))[0]) + 0.5 * float(w @ (dqi * dqi))

    for tip in range(excl.shape[0]):
        s = float(scale @ excl[tip]) / excl[tip].sum()
        if s > 1.0:  # a local minimum of the model along s (up to the 2% bracket tolerance)
            assert model(tip, s) < model(tip, 1.0)
            assert model(tip, s) <= min(model(tip, 0.95 * s), model(tip, 1.05 * s)) + 1e-9 * abs(model(tip, s))
    assert prob.energy((np.clip(q + scale * dq, ref._lo, ref._hi))[perm]) < prob.energy(q[perm])


def test_reject_converge_factor_trades_a_little_energy_for_iterations(toy, toy_seq):
    chain, _ = toy
    strict = _refine(chain, toy_seq, reject_converge_factor=0.0)
    default = _refine(chain, toy_seq)
    assert default.rejected_steps.sum() <= strict.rejected_steps.sum()
    assert default.energy_after.sum() == pytest.approx(strict.energy_after.sum(), rel=0.01)


def test_new_options_are_validated():
    with pytest.raises(ValueError, match="line_search_max_step"):
        RefinerOptions(line_search_max_step=0.5)
    with pytest.raises(ValueError, match="reject_converge_factor"):
        RefinerOptions(reject_converge_factor=-1.0)
