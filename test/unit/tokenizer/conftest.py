"""Tiny synthetic hands shared by the tokenizer tests (CPU, seconds)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # importlib import mode: make tokenizer_fixtures importable
from tokenizer_fixtures import tiny_config  # noqa: E402

from unihm_planner.tokenizer.synthetic import make_synthetic_source  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def source():
    return make_synthetic_source({"ref_hand": 6, "new_hand": 5}, n_seqs=(12, 3, 3), T_range=(20, 40))


@pytest.fixture(scope="session")
def trained(tmp_path_factory, source):
    """A two-hand tokenizer trained through the whole staged recipe, and its directory."""
    from unihm_planner.tokenizer.train import train_tokenizer

    out = tmp_path_factory.mktemp("tok")
    model = train_tokenizer(source, tiny_config(), out)
    return model, out
