"""The demo report on a synthetic result of a real hand: files, sizes, FK skeleton, result files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from unihm_common.cli import main
from unihm_common.errors import InputError
from unihm_common.hands import load_hand
from unihm_common.report import ManipulationResult, hand_skeleton, load_result, save_result, write_report

HAND = "inspire_right"


@pytest.fixture(scope="module")
def result():
    hand = load_hand(HAND)
    q0, q1 = hand.random_q(2, np.random.default_rng(0))
    T = 70  # more steps than GIF frames: the GIF subsamples
    q = q0 + (q1 - q0) * np.linspace(0, 1, T)[:, None]
    wrist = np.tile(np.eye(4), (T, 1, 1))
    wrist[:, 0, 3] = np.linspace(0.0, 0.2, T)
    path = np.tile(np.eye(4), (15, 1, 1))
    path[:, 1, 3] = np.linspace(0.0, 0.3, 15)
    cloud = np.random.default_rng(1).normal(scale=0.02, size=(2000, 3))
    return ManipulationResult(hand=HAND, q=q, T_world_wrist=wrist, object_cloud=cloud, target_path=path,
                              metrics={"success": True, "path_error_m": 0.01},
                              stage_ms={"perception": 120.0, "planner": 40.0, "policy": 300.0}, fps=20.0)


def test_report_writes_every_file_small(tmp_path, result):
    files = write_report(tmp_path / "rep", result)
    assert set(files) == {"joints", "latency", "object_path", "gif", "viewer", "metrics"}
    for p in files.values():
        assert p.exists() and p.stat().st_size > 0
    m = json.loads(files["metrics"].read_text())
    assert m["hand"] == HAND and m["steps"] == 70 and m["metrics"]["success"] is True
    assert m["stage_ms"]["policy"] == 300.0 and m["duration_s"] == pytest.approx(3.5)
    gif = Image.open(files["gif"])
    assert 2 <= gif.n_frames <= 60 and files["gif"].stat().st_size <= 2_000_000
    assert Image.open(files["joints"]).size[0] > 100
    assert "&quot;success&quot;: true" in files["viewer"].read_text()  # metrics shown on the page


def test_keyword_form_and_bad_input(tmp_path, result):
    files = write_report(tmp_path / "kw", hand=HAND, q=result.q[:5], gif_frames=3)  # no cloud, path, timings
    assert set(files) == {"joints", "gif", "viewer", "metrics"} and Image.open(files["gif"]).n_frames == 3
    with pytest.raises(InputError, match="joints"):
        write_report(tmp_path / "bad", hand=HAND, q=np.zeros((4, 3)))
    with pytest.raises(InputError, match="either"):
        write_report(tmp_path / "bad", result, hand=HAND)
    with pytest.raises(InputError, match="T_world_wrist"):
        ManipulationResult(hand=HAND, q=result.q, T_world_wrist=np.eye(4))


def test_skeleton_is_the_hands_forward_kinematics(result):
    hand = load_hand(HAND)
    pts, links = hand_skeleton(HAND, result.q[[0, -1]])
    tips = hand.fingertip_positions(result.q[[0, -1]])  # (2, F, 3)
    assert np.allclose(pts[:, -tips.shape[1]:], tips, atol=1e-9)
    assert all(0 <= a < pts.shape[1] and 0 <= b < pts.shape[1] for a, b in links)
    moved, _ = hand_skeleton(HAND, result.q[[0, -1]], result.T_world_wrist[[0, -1]])
    assert np.allclose(moved - pts, result.T_world_wrist[[0, -1], None, :3, 3])
    assert not np.allclose(pts[0], pts[1])  # the fingers moved


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_result_files_and_unihm_view(tmp_path, result, suffix):
    path = save_result(tmp_path / f"r{suffix}", result)
    back = load_result(path)
    assert back.hand == HAND and np.allclose(back.q, result.q) and np.allclose(back.target_path, result.target_path)
    assert back.metrics == result.metrics and back.fps == result.fps
    assert main(["view", str(path), "-o", str(tmp_path / "v.html")]) == 0
    assert "UNIHM_DATA" in (tmp_path / "v.html").read_text()
    assert main(["view", str(tmp_path / "missing.npz")]) == 2
