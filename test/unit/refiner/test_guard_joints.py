"""guard_joints: the refiner also pushes the hand's joint frames (not only its fingertips) out of the object."""

from __future__ import annotations

import numpy as np
import pytest

from unihm_refiner.contact import ObjectCloud
from unihm_refiner.kinematics import KinematicChain, TipKinematics
from unihm_refiner.refiner import Refiner, RefinerOptions


@pytest.fixture(scope="module")
def shadow() -> KinematicChain:
    hands = pytest.importorskip("unihm_common.hands")
    if "shadow_right" not in hands.available_hands():
        pytest.skip("hand library not present")
    return KinematicChain.load("shadow_right")


def test_guard_frames_are_the_non_tip_joint_frames_a_finger_joint_moves(shadow):
    guards = shadow.guard_frames()
    assert "WRJ2" not in guards  # the first joint's origin: nothing moves it
    # only the hand's wrist joints (which move every fingertip) move these: not guards
    assert not {"WRJ1", "FFJ4", "MFJ4", "RFJ4", "LFJ5", "THJ5"} & set(guards)
    # on the axis of the finger joint before them (FFJ4, THJ5): only the wrist could lift them out either
    assert not {"FFJ3", "MFJ3", "RFJ3", "THJ4"} & set(guards)
    assert {"FFJ2", "FFJ1", "LFJ4", "LFJ3", "THJ3", "THJ1"} <= set(guards)  # LFJ4: LFJ5 moves it (metacarpal)
    assert len(guards) == 13
    assert len(shadow.guard_frames(min_lever_m=0.0)) == 17  # no lever asked: the knuckles on an axis join
    assert not set(guards) & set(shadow.tip_frames)
    ext = shadow.with_guard_frames()
    assert ext.num_tips == shadow.num_tips + len(guards) and ext.tip_frames[:shadow.num_tips] == shadow.tip_frames


def _plane(chain: KinematicChain, q: np.ndarray, depth_m: float, under: str):
    """A flat object (plane cloud) placed so one point is `depth_m` inside it and every point of the other kind
    at least 5 mm outside. under="guard": a finger joint frame sinks, the tips stay out; under="tip": a
    fingertip sinks, the joint frames stay out. Returns (cloud, T_world_object, the sunken frame's name)."""
    ext = chain.with_guard_frames()
    pts = TipKinematics(ext).fk(q)  # (F + G, 3) hand root frame = world (wrist at identity)
    tips, guards = pts[:chain.num_tips], pts[chain.num_tips:]
    sink, stay = (guards, tips) if under == "guard" else (tips, guards)
    names = ext.tip_frames[chain.num_tips:] if under == "guard" else ext.tip_frames[:chain.num_tips]
    rng = np.random.default_rng(0)
    for _ in range(5000):
        n = rng.normal(size=3)
        n /= np.linalg.norm(n)
        g = int(np.argmin(sink @ n))
        if names[g].startswith(("WR", "FFJ4", "MFJ4", "RFJ4", "LFJ4", "LFJ5", "THJ5")):
            continue  # want a phalanx joint that the finger itself can lift out
        if (stay @ n).min() - sink[g] @ n > depth_m + 0.005 and np.sort(sink @ n)[1] - sink[g] @ n > depth_m + 0.005:
            break
    else:
        raise AssertionError("no plane found")
    c = sink[g] @ n + depth_m  # the plane: n.x = c; the chosen point sits depth_m below it
    u = np.cross(n, [1.0, 0.0, 0.0] if abs(n[0]) < 0.9 else [0.0, 1.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(n, u)
    T = np.eye(4)
    T[:3, 0], T[:3, 1], T[:3, 2], T[:3, 3] = u, v, n, c * n  # object frame: z = outward normal
    s = np.arange(-0.15, 0.1501, 0.002)
    gx, gy = np.meshgrid(s, s)
    plane = np.stack([gx.ravel(), gy.ravel(), np.zeros(gx.size)], axis=1)
    normals = np.tile([0.0, 0.0, 1.0], (plane.shape[0], 1))
    return ObjectCloud(plane, normals), T, names[g]


Q_FRAC = 0.6  # a half-closed hand


def _pose(chain: KinematicChain) -> np.ndarray:
    return chain.lower_rad + Q_FRAC * (chain.upper_rad - chain.lower_rad)


def test_a_sunken_middle_joint_is_pushed_out_only_with_guards(shadow):
    q0 = _pose(shadow)
    cloud, T, guard = _plane(shadow, q0, 0.006, "guard")
    q_gen = np.tile(q0, (8, 1))
    opts = dict(attraction_band_m=1e-6)  # tips outside feel nothing: only penetration drives the refiner
    plain = Refiner(shadow, RefinerOptions(**opts)).refine(cloud, q_gen, T)
    guarded = Refiner(shadow, RefinerOptions(guard_joints=True, **opts)).refine(cloud, q_gen, T)
    assert plain.max_penetration_mm_before == pytest.approx(0.0, abs=1e-9)  # the tips are all outside
    np.testing.assert_allclose(plain.q, q_gen, atol=1e-9)  # so the paper's refiner leaves the pose alone
    assert guarded.max_penetration_mm_before == pytest.approx(6.0, abs=0.05), guard
    assert guarded.max_penetration_mm_after < 0.5, guard
    # the joint frames themselves, measured independently of the refiner
    kin = TipKinematics(shadow.with_guard_frames())
    Tinv = np.linalg.inv(T)
    depth = [-(kin.fk(q) @ Tinv[:3, :3].T + Tinv[:3, 3])[:, 2].min() for q in guarded.q]
    assert max(depth) < 0.0005
    moved = np.abs(guarded.q - q_gen).max(axis=0)
    assert moved.max() > 0.01 and np.count_nonzero(moved > 1e-3) < shadow.num_joints  # a local correction


def test_guards_leave_a_fingertip_problem_as_the_paper_solves_it(shadow):
    """A fingertip inside, every joint frame well outside: with and without guards the same refinement."""
    q0 = _pose(shadow)
    cloud, T, tip = _plane(shadow, q0, 0.004, "tip")
    q_gen = np.tile(q0, (8, 1))
    opts = dict(attraction_band_m=0.002)  # the tips the plane does not reach are not pulled onto it
    a = Refiner(shadow, RefinerOptions(**opts)).refine(cloud, q_gen, T)
    b = Refiner(shadow, RefinerOptions(guard_joints=True, **opts)).refine(cloud, q_gen, T)
    assert a.max_penetration_mm_before == pytest.approx(4.0, abs=0.05), tip
    assert a.max_penetration_mm_after < 0.5
    np.testing.assert_allclose(b.q, a.q, atol=1e-6)
    np.testing.assert_allclose(b.penetration_after_m, a.penetration_after_m, atol=1e-9)


def test_scipy_baseline_reaches_the_same_guarded_energy(shadow):
    """The refiner's inlined arithmetic against `FrameEnergy` (the plain residuals scipy minimises)."""
    from unihm_refiner.baseline import refine_least_squares

    q0 = _pose(shadow)
    cloud, T, _ = _plane(shadow, q0, 0.006, "guard")
    q_gen = np.tile(q0, (4, 1))
    opts = RefinerOptions(guard_joints=True, attraction_band_m=0.005, respect_coupling=False)
    ours = Refiner(shadow, opts).refine(cloud, q_gen, T)
    base = refine_least_squares(shadow, cloud, q_gen, T, options=opts)
    assert ours.energy_before[0] > 5.0 * ours.energy_after[0]  # the sunken joint costs energy, then is fixed
    np.testing.assert_allclose(ours.energy_after, base.energy_after, rtol=1e-3)
