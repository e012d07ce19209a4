"""The `unihm` CLI discovers subcommands and benchmarks from entry points."""

import argparse
import json
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from unihm_common.bench import BENCH_GROUP
from unihm_common.cli import COMMAND_GROUP, build_parser, main


def test_every_registered_command_loads_and_uses_its_entry_point_name():
    eps = list(entry_points(group=COMMAND_GROUP))
    assert {"bench", "bringup", "demo"} <= {ep.name for ep in eps}
    for ep in eps:
        sub = argparse.ArgumentParser().add_subparsers()
        ep.load()(sub)
        assert ep.name in sub.choices, f"{ep.value} registered {list(sub.choices)} instead of {ep.name!r}"


def test_every_benchmark_entry_point_is_callable():
    eps = list(entry_points(group=BENCH_GROUP))
    assert "transport" in {ep.name for ep in eps}
    for ep in eps:
        assert callable(ep.load())


def test_help_lists_commands(capsys):
    parser = build_parser()
    names = parser._subparsers._group_actions[0].choices
    assert "bringup" in names and "bench" in names


def test_unknown_benchmark_part_is_an_error(capsys):
    assert main(["bench", "no_such_part", "--json"]) == 2
    assert "unknown benchmark part 'no_such_part'" in capsys.readouterr().err


def test_bench_lists_parts(capsys):
    assert main(["bench"]) == 0
    assert "transport" in capsys.readouterr().out


def test_unknown_hand_is_refused_with_known_list():
    r = subprocess.run([sys.executable, "-m", "unihm_common.cli", "bringup", "--hand", "no_such_hand", "--dry-run"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "unknown hand 'no_such_hand'; known hands:" in r.stderr


@pytest.mark.parametrize("argv", [["bench", "--help"], ["bringup", "--help"]])
def test_subcommand_help(argv):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0


def test_json_contract_of_a_benchmark_is_one_object(monkeypatch, capsys):
    import unihm_common.bench as bench

    class FakeEp:
        def load(self):
            return lambda argv: {"value": len(argv)}

    monkeypatch.setattr(bench, "benchmark_parts", lambda: {"toy": FakeEp()})
    assert main(["bench", "toy", "--json", "--n", "3"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    data = json.loads(out[0])
    assert data["value"] == 2 and data["part"] == "toy" and "machine" in data
