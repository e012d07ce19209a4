import subprocess
import sys

import numpy as np
import pytest

from unihm_refiner.io import load_sequence, save_sequence


def test_save_load_round_trip(tmp_path, toy_seq):
    path = save_sequence(tmp_path / "seq.npz", toy_seq)
    back = load_sequence(path)
    assert back.motion.joint_names == toy_seq.motion.joint_names
    for a in ("T_world_object", "object_points", "object_normals"):
        assert np.array_equal(getattr(back, a), getattr(toy_seq, a))
    assert np.array_equal(back.motion.q, toy_seq.motion.q) and np.array_equal(back.T_world_wrist, toy_seq.T_world_wrist)
    assert back.urdf_xml == toy_seq.urdf_xml and back.tip_frames == toy_seq.tip_frames
    assert back.chain().num_joints == 9


def test_load_rejects_foreign_files(tmp_path):
    from unihm_common.errors import InputError

    np.savez(tmp_path / "x.npz", a=np.zeros(3))
    with pytest.raises(InputError, match="not a"):
        load_sequence(tmp_path / "x.npz")


def test_cli_refine_writes_output_and_plot(tmp_path, toy_seq):
    from unihm_common.cli import main

    src = save_sequence(tmp_path / "in.npz", toy_seq)
    out, png = tmp_path / "out.npz", tmp_path / "plot.png"
    assert main(["refine", str(src), "--out", str(out), "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    refined = load_sequence(out)
    with np.load(out) as z:
        assert np.array_equal(z["q_gen"], toy_seq.motion.q)
        assert z["penetration_after_m"].max() < 2e-3
    assert refined.motion.q.shape == toy_seq.motion.q.shape


def test_cli_rejects_unknown_option_key(tmp_path, toy_seq):
    src = save_sequence(tmp_path / "in.npz", toy_seq)
    (tmp_path / "opts.yaml").write_text("lambda_cc: 2.0\n")
    proc = subprocess.run([sys.executable, "-m", "unihm_common.cli", "refine", str(src), "--options",
                           str(tmp_path / "opts.yaml")], capture_output=True, text=True)
    assert proc.returncode == 2 and "lambda_cc" in proc.stderr
