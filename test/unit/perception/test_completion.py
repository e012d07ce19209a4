import numpy as np
import pytest

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_perception.completion import chamfer_distance, make_completer
from unihm_perception.frame import backproject


def _partial_and_truth(ep, rr):
    pts, _, _ = backproject(rr.frame, mask=rr.instance == ep.pick_index)
    truth = ep.scene.objects[ep.pick_index].world_mesh().sample(3000, seed=0)
    return pts, truth, rr.frame.T_world_camera[:3, 3]


@pytest.mark.parametrize("mode", ["mirror", "primitive"])
def test_classical_completion_lowers_chamfer(episodes, mode):
    comp = make_completer("classical", {"mode": mode})
    gains = []
    for ep, rr in episodes:
        partial, truth, eye = _partial_and_truth(ep, rr)
        out = comp.complete(partial, view_point=eye)
        assert out.points.shape == out.normals.shape == (2048, 3)
        np.testing.assert_allclose(np.linalg.norm(out.normals, axis=1), 1.0, atol=1e-6)
        gains.append(chamfer_distance(partial, truth) - chamfer_distance(out.points, truth))
    if mode == "mirror":  # the default: must help on average
        assert np.mean(gains) > 0, gains


def test_mirror_completes_a_cylinder_seen_from_one_side():
    rng = np.random.default_rng(0)
    theta = rng.uniform(-np.pi / 2, np.pi / 2, 2000) + np.pi  # the half facing a camera at -x
    z = rng.uniform(0, 0.1, 2000)
    r, a = 0.04 * np.sqrt(rng.random(800)), rng.uniform(-np.pi, np.pi, 800)
    top = np.column_stack([r * np.cos(a), r * np.sin(a), np.full(800, 0.1)])  # seen from above
    partial = np.concatenate([np.column_stack([0.04 * np.cos(theta), 0.04 * np.sin(theta), z]), top])
    full_theta = rng.uniform(-np.pi, np.pi, 4000)
    side = np.column_stack([0.04 * np.cos(full_theta), 0.04 * np.sin(full_theta), rng.uniform(0, 0.1, 4000)])
    truth = np.concatenate([side, top])
    out = make_completer("classical", {"close_bottom": False}).complete(partial, view_point=np.array([-0.6, 0, 0.4]))
    assert chamfer_distance(out.points, truth) < 0.7 * chamfer_distance(partial, truth)
    out.points[:, 2] = np.clip(out.points[:, 2], 0.005, 0.095)  # judge normals on the side only
    radial = out.points[:, :2] / np.linalg.norm(out.points[:, :2], axis=1, keepdims=True)
    side_pts = (out.points[:, 2] > 0.005) & (out.points[:, 2] < 0.095)
    assert np.mean(np.sum(out.normals[side_pts, :2] * radial[side_pts], axis=1) > 0) > 0.9  # outward


def test_bad_partial_clouds():
    comp = make_completer("classical")
    with pytest.raises(InputError, match="finite points"):
        comp.complete(np.full((50, 3), np.nan))
    with pytest.raises(InputError, match=r"\(N, 3\)"):
        comp.complete(np.zeros((10, 2)))
    with pytest.raises(ConfigError, match="mode"):
        make_completer("classical", {"mode": "magic"})


def test_snowflake_checkpoint_round_trip(tmp_path):
    import torch

    from unihm_perception.completion.snowflake_model import SnowflakeConfig, SnowflakeNet

    with pytest.raises(MissingDependencyError, match="config.json"):
        make_completer("snowflake", {"checkpoint": str(tmp_path / "none")})
    torch.manual_seed(0)
    cfg = SnowflakeConfig(dim=16, n_seed=8, n_input_keep=8, up_factors=(2,))
    SnowflakeNet(cfg).save_pretrained(tmp_path)
    out = make_completer("snowflake", {"checkpoint": str(tmp_path), "n_input": 64}).complete(
        np.random.default_rng(0).random((100, 3)) * 0.05)
    assert out.points.shape == (cfg.n_out, 3) and np.all(np.isfinite(out.points))


def test_snowflake_training_step_reduces_loss():
    import torch

    from unihm_perception.completion.snowflake_model import SnowflakeConfig, SnowflakeNet, chamfer_l1

    torch.manual_seed(0)
    net = SnowflakeNet(SnowflakeConfig(dim=32, n_seed=16, n_input_keep=16, up_factors=(2,)))
    x = torch.rand(2, 64, 3) - 0.5
    y = torch.cat([x, -x], 1)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = sum(chamfer_l1(o, y) for o in net(x))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert min(losses[-5:]) < 0.8 * losses[0]


def test_shipped_snowflake_default_lowers_chamfer(episodes):
    from unihm_perception.completion.snowflake import DEFAULT_CHECKPOINT

    if not (DEFAULT_CHECKPOINT / "model.safetensors").is_file():
        pytest.skip(f"no SnowflakeNet default at {DEFAULT_CHECKPOINT}")
    comp = make_completer("snowflake")
    gains = []
    for ep, rr in episodes:
        partial, truth, eye = _partial_and_truth(ep, rr)
        gains.append(chamfer_distance(partial, truth) - chamfer_distance(comp.complete(partial, eye).points, truth))
    assert np.mean(gains) > 0, gains
