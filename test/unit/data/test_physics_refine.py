"""`unihm data refine`: retargeted sequences through the refiner, in place, idempotent, recorded in the index."""

import shutil

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.physics_refine import refine_dataset
from unihm_refiner.graph_options import graph_refiner_options


@pytest.fixture
def dataset(tiny_dataset, tmp_path):
    root = tmp_path / "hoi"
    shutil.copytree(tiny_dataset, root)
    return root


def _tip_distance_mm(root, hand, seq_id, q):
    """Signed distance (mm) of every fingertip to the object surface per frame (nearest cloud point's plane)."""
    from unihm_refiner.contact import ObjectCloud, usable_normals
    from unihm_refiner.kinematics import KinematicChain, TipKinematics

    arrays = fmt.load_retargeted(root, hand, seq_id)
    name = {s.id: s.object for s in fmt.read_index(root).sequences}[seq_id]
    obj = fmt.load_object_cloud(root, name)
    cloud = ObjectCloud(obj["points"], usable_normals(obj["normals"], obj["points"]))
    tips_fk = TipKinematics(KinematicChain.load(hand))
    out = []
    for t in range(q.shape[0]):
        tips = tips_fk.fk(q[t])  # (F,3) hand root frame
        T = np.linalg.inv(arrays["T_world_object"][t]) @ arrays["T_world_wrist"][t]
        x = tips @ T[:3, :3].T + T[:3, 3]
        out.append(cloud.signed_distance(x) * 1e3)
    return np.array(out)


def test_refine_keeps_the_retargeted_solution_and_is_idempotent(dataset):
    hand = "allegro_right"
    ids = [s.id for s in fmt.read_index(dataset).sequences]
    before = {i: fmt.load_retargeted(dataset, hand, i)["q"].copy() for i in ids}
    (res,) = refine_dataset(dataset, [hand], progress=False)
    assert res["sequences"] == len(ids) and res["frames"] == sum(q.shape[0] for q in before.values())
    assert res["mean_abs_change_rad"] > 0
    first = {}
    for i in ids:
        a = fmt.load_retargeted(dataset, hand, i)
        np.testing.assert_array_equal(a["q_retargeted"], before[i])
        assert a["q"].shape == before[i].shape and np.isfinite(a["q"]).all()
        first[i] = a["q"].copy()
    assert any(not np.array_equal(first[i], before[i]) for i in ids)
    refine_dataset(dataset, [hand], progress=False)  # starts from q_retargeted again: same result
    for i in ids:
        np.testing.assert_allclose(fmt.load_retargeted(dataset, hand, i)["q"], first[i], atol=1e-6)
    info = fmt.read_index(dataset).info["refined"][hand]
    graph = graph_refiner_options(hand)
    assert info["passes"] == 1 and info["options"]["attraction_band_m"] == pytest.approx(graph.attraction_band_m)
    assert info["options"]["guard_joints"] is graph.guard_joints is True


def test_refine_brings_near_fingertips_onto_the_surface(dataset):
    hand = "allegro_right"
    ids = [s.id for s in fmt.read_index(dataset).sequences]
    d_before = [_tip_distance_mm(dataset, hand, i, fmt.load_retargeted(dataset, hand, i)["q"]) for i in ids]
    import dataclasses

    opts = dataclasses.replace(graph_refiner_options(hand), attraction_band_m=0.02)  # this set's tips sit 5-20 mm off
    (res,) = refine_dataset(dataset, [hand], options=opts, progress=False, passes=2, workers=2)
    d_after = [_tip_distance_mm(dataset, hand, i, fmt.load_retargeted(dataset, hand, i)["q"]) for i in ids]
    assert res["passes"] == 2
    before, after = np.concatenate([d.ravel() for d in d_before]), np.concatenate([d.ravel() for d in d_after])
    near = np.abs(before) < 20.0  # inside the 2 cm attraction band
    assert near.sum() > 10
    assert np.mean(np.abs(after[near])) < 0.5 * np.mean(np.abs(before[near]))
    assert -after.min() <= max(-before.min(), 0.0) + 1.0  # no new deep penetration
    assert res["max_penetration_mm_after"] <= max(res["max_penetration_mm_before"], 0.0) + 1.0


def test_refine_errors(dataset):
    with pytest.raises(InputError, match="not retargeted"):
        refine_dataset(dataset, ["shadow_right"], progress=False)
    with pytest.raises(InputError, match="passes"):
        refine_dataset(dataset, ["allegro_right"], passes=0, progress=False)


def test_cli_refine_prints_json(dataset, capsys):
    import json

    from unihm_common.cli import main

    assert main(["data", "refine", str(dataset), "--hands", "allegro", "--refiner", "paper", "--json"]) == 0
    (res,) = json.loads(capsys.readouterr().out)
    assert res["hand"] == "allegro_right" and res["frames"] > 0 and res["passes"] == 1
    info = fmt.read_index(dataset).info["refined"]["allegro_right"]
    assert info["options"]["attraction_band_m"] is None and not info["options"]["guard_joints"]  # Algorithm 1's
