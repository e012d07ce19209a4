"""Harness end-to-end on a tiny synthetic set with tiny models and a stand-in policy runner."""

import json
from dataclasses import dataclass

import numpy as np
import pytest

from unihm_planner.evaluation import harness as H
from unihm_planner.evaluation.baselines import Prediction, RegressionBaseline, RetrievalBaseline
from unihm_planner.evaluation.metrics import HandPoints
from unihm_planner.evaluation.motion_encoder import EncoderConfig, MotionEncoder, motion_features
from unihm_planner.evaluation.samples import split_ids


@dataclass
class FakeMotion:
    q: np.ndarray
    T_world_wrist: np.ndarray
    joint_names: tuple = ()


class FakeRunner:
    """Stand-in for PolicyRunner: returns the ground truth of the matching sample plus seeded noise."""

    def __init__(self, samples, noise: float) -> None:
        self.by_path = {s.T_world_object.tobytes(): s for s in samples}
        self.noise = noise

    def generate(self, instruction, cloud_world, T_world_object, hand, init_q=None, seed=0, init_wrist=None):
        s = self.by_path[np.asarray(T_world_object).tobytes()]
        rng = np.random.default_rng(seed)
        Tw = s.T_world_wrist.copy()
        Tw[:, :3, 3] += rng.normal(size=3) * self.noise
        return FakeMotion(q=s.q + rng.normal(size=s.q.shape) * self.noise, T_world_wrist=Tw)


class Oracle:
    name = "oracle"

    def predict(self, sample, seed):
        return Prediction(q=sample.q.copy(), T_world_wrist=sample.T_world_wrist.copy())


@pytest.fixture(scope="module")
def ctx(tiny_data):
    from unihm_common.hands import load_hand

    hp = HandPoints(load_hand("shadow_right"))
    cfg = EncoderConfig(num_points=len(hp.frames), length=8, hidden=16, latent_dim=4, epochs=20)
    feats = [motion_features(hp.joints_world(s.q, s.T_world_wrist), s.T_world_object[:, :3, 3], cfg.length)
             for s in tiny_data["fit"]]
    return H.EvalContext(hand_points=hp, encoder=MotionEncoder.train(feats, cfg))


def test_encoder_save_load_roundtrip(ctx, tmp_path, tiny_data):
    ctx.encoder.save(tmp_path / "enc")
    enc2 = MotionEncoder.load(tmp_path / "enc")
    s = tiny_data["seen"][0]
    f = [ctx.features(s.q, s.T_world_wrist, s.T_world_object)]
    assert enc2.encode(f) == pytest.approx(ctx.encoder.encode(f), abs=1e-6)
    assert sum(p.stat().st_size for p in (tmp_path / "enc").iterdir()) < 2_000_000


def test_harness_end_to_end(ctx, tiny_data, tmp_path):
    splits = {k: tiny_data[k] for k in ("seen", "unseen")}
    everything = tiny_data["fit"] + tiny_data["seen"] + tiny_data["unseen"]
    good = H.PolicyMethod(FakeRunner(everything, 0.01), "Ours")
    bad = H.PolicyMethod(FakeRunner(everything, 0.1), "w/o Masked Training")
    methods = [Oracle(), good, bad, RetrievalBaseline(tiny_data["fit"]),
               RegressionBaseline(tiny_data["fit"], epochs=20, hidden=32)]
    res = H.evaluate(methods, splits, seeds=[0, 1], ctx=ctx, progress=False)
    for split in splits:
        tab = res["splits"][split]
        assert tab["oracle"]["mpjpe"]["mean"] == pytest.approx(0.0, abs=1e-9)
        assert tab["oracle"]["fol"]["mean"] == pytest.approx(0.0, abs=1e-3)
        assert tab["oracle"]["fid"]["mean"] == pytest.approx(0.0, abs=1e-4)
        assert tab["oracle"]["diversity"]["mean"] == pytest.approx(tab["GT"]["diversity"]["mean"])
        for k in ("mpjpe", "fpl"):
            assert tab["Ours"][k]["mean"] < tab["w/o Masked Training"][k]["mean"]
        assert tab["Ours"]["mpjpe"]["std"] > 0  # seeds differ
        assert len(tab["Ours"]["mpjpe"]["per_seed"]) == 2
    paths = H.write_outputs(res, tmp_path / "out")
    table = paths["markdown"].read_text()
    assert table.count("| Seen |") == 6 and "MPJPE" in table and "± " in table
    assert json.loads(paths["json"].read_text())["splits"]["unseen"]["Ours"]["fid"]["mean"] >= 0
    assert all(p.stat().st_size > 0 for k, p in paths.items() if k.startswith("plot"))
    checks = H.ordering_checks(res)
    assert checks["seen: Ours < w/o Masked Training (mpjpe)"] and checks["unseen: Ours < w/o Masked Training (fpl)"]
    assert len(checks) == 6 and H.ordering_checks({"splits": {"seen": {"GT": {}}}}) == {}
    assert res["sample_ids"]["seen"] == [s.seq_id for s in splits["seen"]]
    per_sample = res["splits"]["seen"]["Ours"]["per_sample"]["mpjpe"]
    assert np.mean(per_sample, axis=1) == pytest.approx(res["splits"]["seen"]["Ours"]["mpjpe"]["per_seed"])
    d = H.paired_differences(res)["seen: Ours - w/o Masked Training (mpjpe)"]
    assert d["mean"] < 0 and d["sequences"] == len(splits["seen"]) and d["seeds"] == 2
    compact = H.compact(res)
    assert set(compact["unseen"]["NN retrieval"]) >= {"mpjpe", "fpl", "fol", "fid", "diversity"}


def test_policy_method_reorders_runner_joints(tiny_data):
    from unihm_common.hands import load_hand_spec

    names = tuple(load_hand_spec("shadow_right").joint_names)
    s = tiny_data["seen"][0]

    class Reversed:
        def generate(self, instruction, cloud_world, T_world_object, hand, init_q=None, seed=0, init_wrist=None):
            assert cloud_world.shape == s.cloud_obj.shape and init_q is not None
            return FakeMotion(q=s.q[:, ::-1], T_world_wrist=s.T_world_wrist, joint_names=names[::-1])

    p = H.PolicyMethod(Reversed(), "rev").predict(s, 0)
    assert p.q == pytest.approx(s.q)


def test_refined_wrapper_keeps_shapes_and_wrist(tiny_data):
    s = tiny_data["seen"][0]
    p = H.Refined(Oracle()).predict(s, 0)
    assert p.q.shape == s.q.shape
    assert p.T_world_wrist == pytest.approx(s.T_world_wrist)


def test_seen_split_is_deterministic_and_disjoint():
    ids = [f"s{i:03d}" for i in range(40)][::-1]
    fit, seen = split_ids(ids)
    assert len(seen) == 5 and not set(fit) & set(seen) and sorted(fit + seen) == sorted(ids)
    assert split_ids(list(reversed(ids))) == (fit, seen)


def test_penetration_is_the_deepest_hand_point_inside_the_object():
    from unihm_planner.evaluation.samples import EvalSample

    n = 4000  # a 5 cm sphere (Fibonacci points, outward normals), moved along x over 3 frames
    i = np.arange(n) + 0.5
    phi, theta = np.arccos(1 - 2 * i / n), np.pi * (1 + 5**0.5) * i
    normals = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)
    T_obj = np.tile(np.eye(4), (3, 1, 1))
    T_obj[:, 0, 3] = [0.0, 0.1, 0.2]
    s = EvalSample(seq_id="ball", split="seen", object_name="ball", instructions=("x",), cloud_obj=normals * 0.05,
                   normals_obj=normals, T_world_object=T_obj, T_world_wrist=T_obj.copy(), q=np.zeros((3, 2)),
                   hand="shadow_right")
    ctx = H.EvalContext(hand_points=None, encoder=None)
    outside = np.zeros((3, 2, 3))
    outside[:, :, 2] = 0.08  # 3 cm above the sphere at every frame
    outside[:, :, 0] = T_obj[:, None, 0, 3]
    assert ctx.penetration_mm(s, outside) == 0.0
    inside = outside.copy()
    inside[1, 1, 2] = 0.03  # frame 1: one point 2 cm below the surface, in the moved object
    assert ctx.penetration_mm(s, inside) == pytest.approx(20.0, abs=0.5)


def test_ground_truth_rows(ctx, tiny_data):
    """The GT row carries the data's own penetration; "GT + Physical Refinement" is scored once (it has no
    randomness) and measures how far the refiner moves the truth."""
    splits = {k: tiny_data[k] for k in ("seen", "unseen")}
    refined = H.Refined(H.GroundTruth(), "GT + Physical Refinement")
    assert refined.deterministic and not H.Refined(Oracle()).deterministic
    res = H.evaluate([H.GroundTruth(), refined], splits, seeds=[0, 1, 2], ctx=ctx, progress=False)
    for split in splits:
        tab = res["splits"][split]
        truth = tab["Ground truth"]
        assert len(truth["mpjpe"]["per_seed"]) == 1 and truth["mpjpe"]["mean"] == pytest.approx(0.0, abs=1e-9)
        assert tab["GT"]["penetration"]["mean"] == pytest.approx(truth["penetration"]["mean"])
        assert tab["GT"]["diversity"]["mean"] == pytest.approx(truth["diversity"]["mean"])
        row = tab["GT + Physical Refinement"]
        assert len(row["mpjpe"]["per_seed"]) == 1 and np.isfinite(row["mpjpe"]["mean"]) and row["mpjpe"]["mean"] >= 0
