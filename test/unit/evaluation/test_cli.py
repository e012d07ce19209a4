"""`unihm eval` argument parsing and error path (no dataset)."""

import argparse

import pytest

from unihm_common.errors import InputError
from unihm_planner.evaluation import cli


def parse(argv):
    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers())
    return p.parse_args(["eval", *argv])


def test_defaults_and_flags():
    a = parse([])
    assert a.seeds == 3 and not a.json and not a.quick and a.ablation_train == "fit" and a.func is cli.run
    a = parse(["--json", "--quick", "--seeds", "5", "--policy", "/x", "--ablation-train", "train"])
    assert a.json and a.quick and a.seeds == 5 and str(a.policy) == "/x" and a.ablation_train == "train"


def test_missing_dataset_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="index.json"):
        cli.run(parse(["--data", str(tmp_path), "--no-policy"]))
