import json

import numpy as np
import pytest

from unihm_common.cli import main
from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.dataset import HandChunkDataset, HOIDataset, load_hand_trajectories
from unihm_data.language import keyframe_indices, parse_instructions


def test_hoi_dataset_views(tiny_dataset):
    ds = HOIDataset(tiny_dataset, split=None, hands=["allegro_right"])
    item = ds[0]
    assert item["hands"]["allegro_right"]["q"].shape[0] == item["sequence"].num_frames
    with pytest.raises(InputError, match="not retargeted"):
        HOIDataset(tiny_dataset, hands=["leap_right"])


def test_chunks_and_trajectories(tiny_dataset):
    trajs = load_hand_trajectories(tiny_dataset, "xhand_left", split=None)
    assert len(trajs) == 4 and all(t.dtype == np.float32 and t.shape[1] == 12 for t in trajs)
    chunks = HandChunkDataset(tiny_dataset, "xhand_left", split=None, chunk_len=32, stride=16)
    x = chunks[0]
    assert tuple(x.shape) == (32, 12) and str(x.dtype) == "torch.float32"
    assert len(chunks) == sum((len(t) - 32) // 16 + 1 for t in trajs)
    assert len(chunks.joint_names) == 12


def test_corrupt_sequence_names_the_file(tiny_dataset, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(tiny_dataset, root)
    sid = fmt.read_index(root).sequences[0].id
    fmt.sequence_path(root, sid).write_bytes(b"garbage")
    with pytest.raises(InputError, match=f"{sid}.npz: corrupt"):
        fmt.load_sequence(root, sid)
    (root / "index.json").write_text("{")
    with pytest.raises(InputError, match="index.json: invalid JSON"):
        fmt.read_index(root)


def test_cli_stats_json(tiny_dataset, capsys):
    assert main(["data", "stats", str(tiny_dataset), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["sequences"] == 4 and stats["fingertip_penetration_mm"]["max"] < 2.0
    assert set(stats["hands"]) == {"allegro_right", "xhand_left"}


def test_cli_render_gif(tiny_dataset, tmp_path):
    sid = fmt.read_index(tiny_dataset).sequences[0].id
    out = tmp_path / "r.gif"
    assert main(["data", "render", str(tiny_dataset), sid, "--hand", "allegro_right", "--out", str(out),
                 "--stride", "20"]) == 0
    assert out.stat().st_size > 1000


def test_language_helpers():
    contact = np.zeros((30, 5), bool)
    contact[12:, 1] = True
    assert keyframe_indices(contact) == [0, 9, 10, 11, 29]
    assert parse_instructions('```json\n["a", "b", "c", "d", "e", "f"]\n```', 5) == ["a", "b", "c", "d", "e"]
    with pytest.raises(InputError):
        parse_instructions("only one", 5)
