"""Registry aliases, the `unihm hands` CLI, the benchmark entry and the generated files."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from unihm_common.cli import main
from unihm_common.errors import UnknownHandError
from unihm_common.hands import available_hands, resolve_hand_name

ROOT = Path(__file__).resolve().parents[3]
EXPECTED = {"mano_right", "mano_left", "shadow_right", "shadow_left", "allegro_right", "allegro_left",
            "schunk_svh_right", "schunk_svh_left", "leap_right", "leap_left", "ability_right", "ability_left",
            "inspire_right", "inspire_left", "xhand_right", "xhand_left", "panda_gripper"}


def test_all_hands_present():
    assert EXPECTED <= set(available_hands())


@pytest.mark.parametrize("alias", ["mano", "shadow", "allegro", "schunk_svh", "leap", "ability", "inspire", "xhand"])
def test_aliases(alias):
    assert resolve_hand_name(alias) == f"{alias}_right"


def test_unknown_hand_lists_known():
    with pytest.raises(UnknownHandError, match="inspire_right"):
        resolve_hand_name("robotiq")


def test_cli_list_json(capsys):
    assert main(["hands", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert EXPECTED <= set(rows)
    assert rows["inspire_right"]["dof"] == 12 and rows["inspire_right"]["actuated_dof"] == 6
    assert rows["allegro_right"]["fingertips"][0] == "link_15.0_tip"


def test_cli_show(capsys):
    assert main(["hands", "show", "schunk_svh"]) == 0
    out = capsys.readouterr().out
    assert "20 joints, 9 actuated" in out and "right_hand_Finger_Spread" in out
    assert main(["hands", "show", "nope"]) == 2


@pytest.mark.parametrize("q", ["mid", "0.1,0.2,0.3,0.4,0.1,0.5"])
def test_cli_plot_writes_png(tmp_path, q):
    out = tmp_path / "inspire.png"
    assert main(["hands", "plot", "inspire", "--q", q, "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_rejects_wrong_length(tmp_path):
    assert main(["hands", "plot", "inspire", "--q", "0.1,0.2", "--out", str(tmp_path / "x.png")]) == 2


def test_bench_entry_point():
    from unihm_common.hands.bench import run_benchmark

    out = run_benchmark(["--batch", "4", "--seconds", "0.01", "--hands", "inspire_right,panda_gripper"])
    assert out["per_hand"]["inspire_right"]["fk_jacobian_per_s"] > 0 and out["batch"] == 4


def test_generated_files_are_up_to_date():
    path = ROOT / "unihm_description" / "tools" / "build_urdfs.py"
    spec = importlib.util.spec_from_file_location("build_urdfs", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["build_urdfs"] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    for rel, text in mod.render().items():
        committed = ROOT / "unihm_description" / rel
        assert committed.is_file(), f"{rel} missing: run python {path.relative_to(ROOT)}"
        assert committed.read_text() == text, f"{rel} differs from the generator: re-run it"


def test_retargeting_sections_build_dex_retargeting_configs():
    rc = pytest.importorskip("dex_retargeting.retargeting_config")
    from unihm_common.hands import load_hand_spec

    for name in ("inspire_right", "allegro_left", "panda_gripper"):
        spec = load_hand_spec(name)
        cfg = dict(spec.retargeting)
        cfg["urdf_path"] = str(spec.urdf_path.parent / cfg["urdf_path"])
        config = rc.RetargetingConfig.from_dict(cfg)
        assert config.type == "vector"
