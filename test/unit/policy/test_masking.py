"""Progressive masking curriculum (App. C.4)."""

import pytest
import torch

from unihm_common.errors import InputError
from unihm_planner.policy.masking import mask_ratio, sample_mask


@pytest.mark.parametrize("frac, ratio", [(0.0, 0.0), (0.1, 0.0), (0.2, 0.0), (0.5, 0.5), (0.65, 0.75),
                                         (0.8, 1.0), (0.9, 1.0), (1.0, 1.0)])
def test_schedule(frac, ratio):
    assert mask_ratio(frac) == pytest.approx(ratio)


def test_schedule_is_monotonic():
    values = [mask_ratio(i / 100) for i in range(101)]
    assert values == sorted(values)


@pytest.mark.parametrize("ratio, count", [(0.0, 0), (0.25, 5), (0.5, 10), (1.0, 20)])
def test_sample_mask_counts(ratio, count):
    m = sample_mask((3, 20), ratio, torch.Generator().manual_seed(1))
    assert m.dtype == torch.bool and m.shape == (3, 20)
    assert (m.sum(1) == count).all()


def test_sample_mask_seeded():
    a = sample_mask(50, 0.4, torch.Generator().manual_seed(7))
    b = sample_mask(50, 0.4, torch.Generator().manual_seed(7))
    c = sample_mask(50, 0.4, torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("call", [lambda: mask_ratio(-0.1), lambda: mask_ratio(float("nan")),
                                  lambda: sample_mask(5, 1.5), lambda: sample_mask(5, -0.1)])
def test_bad_values(call):
    with pytest.raises(InputError):
        call()
