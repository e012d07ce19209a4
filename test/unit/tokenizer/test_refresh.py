"""Cold-code refresh (Eq. B9-B11) replaces only the cold codes."""

import torch

from unihm_planner.tokenizer.config import TrainConfig
from unihm_planner.tokenizer.refresh import ReservoirBuffer, cold_codes, kmeans, refresh_cold_codes


def test_refresh_replaces_only_cold_codes():
    g = torch.Generator().manual_seed(0)
    codebook = torch.randn(32, 4, generator=g)
    before = codebook.clone()
    counts = torch.zeros(32, dtype=torch.long)
    hot = torch.tensor([0, 3, 7, 8, 20])
    counts[hot] = torch.tensor([1, 5, 2, 9, 1])
    buffer = torch.randn(200, 4, generator=g) + 10.0  # far from every old code
    refreshed = refresh_cold_codes(codebook, counts, buffer, threshold=1, iters=3, generator=g)
    cold = torch.ones(32, dtype=torch.bool)
    cold[hot] = False
    assert torch.equal(refreshed, torch.nonzero(cold).flatten())
    assert torch.equal(codebook[hot], before[hot])  # bit-identical
    assert (codebook[cold] - before[cold]).abs().min() > 1.0  # every cold code moved to the data
    assert (codebook[cold].mean(0) - 10.0).abs().max() < 1.0


def test_cold_set_threshold_and_schedule():
    assert cold_codes(torch.tensor([0, 1, 2, 3]), 2).tolist() == [0, 1]
    assert cold_codes(torch.tensor([0, 1]), 0).numel() == 0
    cfg = TrainConfig(refresh_every=50, refresh_first_epoch=False, refresh_stop_frac=0.8)
    assert [e for e in range(1, 201) if cfg.refresh_at(e, 200)] == [50, 100, 150]


def test_kmeans_finds_separated_clusters_and_handles_few_points():
    g = torch.Generator().manual_seed(1)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = torch.cat([c + 0.1 * torch.randn(50, 2, generator=g) for c in centres])
    c = kmeans(x, 3, iters=10, generator=g)
    assert torch.cdist(c, centres).min(1).values.max() < 0.5  # every centroid sits on a true cluster
    few = kmeans(torch.randn(2, 2, generator=g), 5, iters=2, generator=g)
    assert few.shape == (5, 2) and torch.isfinite(few).all()


def test_reservoir_keeps_capacity_and_samples_everything():
    buf = ReservoirBuffer(10, 1, torch.Generator().manual_seed(0))
    for i in range(100):
        buf.add(torch.full((3, 1), float(i)))
    assert len(buf) == 10 and buf.seen == 300
    assert buf.data.max() > 50  # later items got in
    buf.reset()
    assert len(buf) == 0
