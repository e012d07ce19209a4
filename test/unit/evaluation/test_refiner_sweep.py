"""Refiner settings on a validation set: per-sequence scores, paired differences, the CLI's flags and errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_planner.evaluation import refiner_sweep as S
from unihm_planner.evaluation.baselines import Prediction
from unihm_planner.evaluation.samples import EvalSample


def _ball_samples(n: int) -> list[EvalSample]:
    """A 6 cm ball under a hand whose truth keeps every point outside it; sample i is static."""
    from unihm_common.hands import load_hand

    hand = load_hand("shadow_right")
    rng = np.random.default_rng(0)
    dirs = rng.normal(size=(800, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    cloud, normals = (0.03 * dirs).astype(np.float32), dirs.astype(np.float32)
    q = np.tile(hand.spec.lower_rad + 0.3 * (hand.spec.upper_rad - hand.spec.lower_rad), (6, 1))
    out = []
    for i in range(n):
        T_obj = np.tile(np.eye(4), (6, 1, 1))
        T_wr = np.tile(np.eye(4), (6, 1, 1))
        T_wr[:, :3, 3] = [0.0, 0.2 + 0.01 * i, -0.05]  # the hand well away from the ball
        out.append(EvalSample(seq_id=f"v{i}", split="unseen", object_name="ball", instructions=("grab the ball",),
                              cloud_obj=cloud, normals_obj=normals, T_world_object=T_obj, T_world_wrist=T_wr, q=q,
                              hand="shadow_right"))
    return out


class SinkTheHand:
    """Predicts the truth's joints with the wrist moved so the middle fingertip sits `depth` inside the ball."""

    name = "sink"

    def __init__(self, depth_m: float) -> None:
        self.depth = depth_m

    def predict(self, sample: EvalSample, seed: int) -> Prediction:
        from unihm_common.hands import load_hand

        tip = load_hand("shadow_right").frame_positions(sample.q[:1], ["mftip"])[0, 0]  # hand root frame
        T = sample.T_world_wrist.copy()
        T[:, :3, 3] = -tip + np.array([0.0, 0.0, 0.03 - self.depth])  # mftip at the ball's top, depth inside
        return Prediction(q=sample.q.copy(), T_world_wrist=T)


@pytest.fixture(scope="module")
def hand_points():
    from unihm_common.hands import load_hand
    from unihm_planner.evaluation.metrics import HandPoints

    return HandPoints(load_hand("shadow_right"))


def test_sweep_scores_each_setting_against_the_raw_prediction(hand_points):
    from unihm_refiner.refiner import RefinerOptions

    samples = _ball_samples(3)
    base = RefinerOptions(attraction_band_m=1e-6)
    variants = {S.RAW: None, "push out": base, "push out again": dataclasses.replace(base),
                "push out, guards": dataclasses.replace(base, guard_joints=True)}
    res = S.sweep(SinkTheHand(0.006), samples, variants, seeds=[0, 1], hand_points=hand_points)
    assert res["sample_ids"] == ["v0", "v1", "v2"] and res["seeds"] == [0, 1]
    raw = np.asarray(res["variants"][S.RAW]["penetration"])
    assert raw.shape == (2, 3) and np.all(raw > 5.0)  # the sunken fingertip, read by the evaluation's measure
    refined = np.asarray(res["variants"]["push out"]["penetration"])
    guarded = np.asarray(res["variants"]["push out, guards"]["penetration"])
    assert np.all(refined < 0.5 * raw) and np.all(guarded < 0.5)  # tips only: its joints stay a little inside
    summary = S.summarize(res)
    assert summary[S.RAW]["mpjpe"]["diff"] == 0.0 and summary[S.RAW]["mpjpe"]["ci95"] == [0.0, 0.0]
    pen = summary["push out"]["penetration"]
    assert pen["diff"] == pytest.approx(refined.mean() - raw.mean()) and pen["ci95"][1] < 0.0
    assert summary["push out again"]["mpjpe"]["mean"] == pytest.approx(summary["push out"]["mpjpe"]["mean"])
    table = S.sweep_markdown(summary, 3, 2)
    assert "| push out |" in table and "3 validation sequences x 2 seeds" in table


def test_default_variants_cover_bands_and_guards():
    from unihm_refiner.refiner import RefinerOptions

    graph = RefinerOptions(attraction_band_m=0.005, guard_joints=True, lambda_c=2.0)
    v = S.default_variants(graph)
    assert v[S.RAW] is None and v["paper (Algorithm 1 defaults)"] == RefinerOptions()
    assert v["band 2 cm"].attraction_band_m == 0.02 and not v["band 2 cm"].guard_joints
    assert v["band 5 mm, guard joints"].guard_joints and v["band 5 mm, guard joints"].lambda_c == 2.0
    assert len(v) == 12


def test_errors(tmp_path, hand_points):
    with pytest.raises(InputError, match="at least one"):
        S.sweep(SinkTheHand(0.0), [], {S.RAW: None}, [0], hand_points)
    with pytest.raises(InputError, match="index.json"):
        S.validation_samples(tmp_path, None, "shadow_right")


def test_cli_flags():
    import argparse

    from unihm_planner.evaluation import cli

    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers())
    a = p.parse_args(["eval", "--refiner-sweep", "--exclude", "/x", "--seeds", "2"])
    assert a.refiner_sweep and str(a.exclude) == "/x" and a.seeds == 2
