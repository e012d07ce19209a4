"""Paired differences within a run and the combination of runs over training seeds."""

import argparse
import json

import numpy as np
import pytest

from unihm_common.errors import InputError
from unihm_planner.evaluation import cli
from unihm_planner.evaluation import harness as H


def parse(argv):
    p = argparse.ArgumentParser()
    cli.register(p.add_subparsers())
    return p.parse_args(["eval", *argv])


def fake_run(ours: np.ndarray, ablation: np.ndarray, unseen_scale: float = 1.1) -> dict:
    """A results dict as `evaluate` writes it: per-sample MPJPE/FPL (seeds x sequences) of two methods."""
    def row(per_sample: np.ndarray, scale: float) -> dict:
        ps = per_sample * scale
        out = {k: {"mean": float(ps.mean()), "std": float(ps.mean(axis=1).std())} for k in H.METRICS}
        out["per_sample"] = {k: ps.tolist() for k in H.PAIRED_METRICS}
        return out

    return {"splits": {split: {"GT": {"diversity": {"mean": 1.0, "std": 0.0}},
                               "Ours": row(ours, scale), "w/o Masked Training": row(ablation, scale)}
                       for split, scale in (("seen", 1.0), ("unseen", unseen_scale))}}


def test_paired_difference_is_per_sequence_and_seed_averaged():
    rng = np.random.default_rng(0)
    base = rng.uniform(40, 60, size=(3, 50))
    run = fake_run(base, base + 2.0 + rng.normal(0, 0.5, size=base.shape))
    d = H.paired_differences(run)["seen: Ours - w/o Masked Training (mpjpe)"]
    assert d["sequences"] == 50 and d["seeds"] == 3
    assert d["ci95"][0] < d["mean"] < d["ci95"][1] < 0  # the ablation is 2 mm worse on every sequence
    assert d["mean"] == pytest.approx(-2.0, abs=0.2) and d["share_lower"] == 1.0
    # no systematic difference: the interval holds 0
    same = H.paired_differences(fake_run(base, base + rng.normal(0, 1.0, size=base.shape)))
    lo, hi = same["unseen: Ours - w/o Masked Training (fpl)"]["ci95"]
    assert lo < 0 < hi
    assert H.paired_differences({"splits": {"seen": {"Ours": {"mpjpe": {"mean": 1}}}}}) == {}  # older results


def test_combine_runs_over_training_seeds(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.uniform(40, 60, size=(2, 20))
    good = fake_run(base, base + 3.0)  # the full model wins
    bad = fake_run(base + 5.0, base + 4.0, unseen_scale=1.3)  # this training seed: it loses, unseen/seen 1.3
    comb = H.combine_runs([good, bad])
    assert comb["runs"] == 2
    row = comb["splits"]["seen"]["Ours"]["mpjpe"]
    assert row["per_run"] == pytest.approx([base.mean(), base.mean() + 5.0])
    assert row["mean"] == pytest.approx(base.mean() + 2.5) and row["std"] == pytest.approx(2.5)
    assert comb["checks"]["seen: Ours < w/o Masked Training (mpjpe)"]  # 52.5 vs 53.5 on the means
    assert comb["checks_per_run"]["seen: Ours < w/o Masked Training (mpjpe)"] == [True, False]
    assert comb["checks_per_run"]["unseen/seen mpjpe <= 1.15"] == [True, False]
    paired = comb["paired_per_run"]["seen: Ours - w/o Masked Training (mpjpe)"]
    assert paired["per_run"] == pytest.approx([-3.0, 1.0]) and paired["mean"] == pytest.approx(-1.0)
    md = H.checks_markdown(comb)
    assert "holds in 1 of 2 runs" in md and "-1.00 ± 2.00 mm over runs" in md
    md1 = H.checks_markdown({**good, "checks": H.ordering_checks(good), "paired": H.paired_differences(good)})
    assert "95 % CI [-3.00, -3.00]" in md1 and "lower on 100 % of 20 sequences" in md1
    with pytest.raises(InputError, match="at least one"):
        H.combine_runs([])
    with pytest.raises(InputError, match="different data or sequences"):
        H.combine_runs([{**good, "sample_ids": {"seen": ["a"]}}, {**bad, "sample_ids": {"seen": ["b"]}}])
    with pytest.raises(InputError, match="different data or sequences"):
        H.combine_runs([{**good, "data": "/x"}, {**bad, "data": "/y"}])


def test_check_key_drops_the_measured_ratio():
    assert H.check_key("unseen/seen fpl = 1.100 <= 1.15") == "unseen/seen fpl <= 1.15"
    assert H.check_key("seen: Ours < X (fpl)") == "seen: Ours < X (fpl)"


def test_cli_combine_writes_the_table_and_rejects_other_files(tmp_path, capsys):
    rng = np.random.default_rng(2)
    base = rng.uniform(40, 60, size=(2, 10))
    dirs = []
    for k, shift in enumerate((3.0, 1.0)):
        d = tmp_path / f"run{k}"
        d.mkdir()
        (d / "results.json").write_text(json.dumps(fake_run(base, base + shift)))
        dirs.append(str(d))
    out = tmp_path / "combined"
    assert cli.run(parse(["--combine", *dirs, "--out", str(out), "--json"])) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["seen"]["Ours"]["mpjpe"] == pytest.approx(base.mean())
    table = (out / "table.md").read_text()
    assert "holds in 2 of 2 runs" in table and "| Unseen | Ours |" in table
    saved = json.loads((out / "results.json").read_text())
    assert saved["sources"] == dirs and saved["runs"] == 2
    (tmp_path / "junk.json").write_text("[1, 2]")
    with pytest.raises(InputError, match="not a `unihm eval` results.json"):
        cli.run(parse(["--combine", str(tmp_path / "junk.json"), "--out", str(out)]))
    with pytest.raises(InputError, match="cannot read"):
        cli.run(parse(["--combine", str(tmp_path / "missing"), "--out", str(out)]))
