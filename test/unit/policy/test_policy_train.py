"""Policy data, training (curriculum flags, resume), runner (decode for any hand, errors, determinism)."""

import json

import numpy as np
import pytest
import torch
from policy_fixtures import tiny_config

from unihm_common.errors import ConfigError, InputError, UnknownHandError
from unihm_common.hands import load_hand_spec
from unihm_planner.policy.config import PolicyConfig
from unihm_planner.policy.data import (
    PolicySample,
    pose_from_9d,
    pose_to_9d,
    wrist_from_object_frame,
    wrist_in_object_frame,
    wrist_reference_poses,
)
from unihm_planner.policy.runner import PolicyRunner
from unihm_planner.policy.train import PolicyTrainConfig, codebook_id, train_policy
from unihm_planner.tokenizer.config import TokenizerConfig
from unihm_planner.tokenizer.model import HandTokenizer

HANDS = ("shadow_right", "inspire_right")


@pytest.fixture(scope="module")
def hand_tokenizer():
    torch.manual_seed(0)
    tok = HandTokenizer(TokenizerConfig(backbone="conv1d", codebook_size=64, code_dim=8, hidden_dim=16,
                                        num_res_blocks=1, downsample=4))
    for h in HANDS:
        tok.add_hand(h, load_hand_spec(h).joint_names)
    return tok.eval()


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def _samples(tok, n=6, T=24, seed=0):
    """Object lifted along x; the wrist follows it at a fixed offset; joints close over time."""
    rng = np.random.default_rng(seed)
    spec = load_hand_spec("shadow_right")
    lo, hi = np.asarray(spec.lower_rad), np.asarray(spec.upper_rad)
    out = []
    for i in range(n):
        s = np.linspace(0, 1, T)
        T_obj = np.tile(np.eye(4), (T, 1, 1))
        T_obj[:, :3, :3] = _rot_z(0.3 * i)
        T_obj[:, 0, 3] = 0.3 + 0.05 * i + 0.1 * s
        T_obj[:, 2, 3] = 0.05 + 0.1 * s
        offset = np.eye(4)
        offset[:3, 3] = [0.0, -0.08, 0.05]
        T_wrist = T_obj @ offset
        q = lo + (hi - lo) * (0.2 + 0.5 * s[:, None] * (i % 2))
        q = q.astype(np.float32)
        with torch.no_grad():
            tokens = tok.tokenize(torch.as_tensor(q)[None], "shadow_right")[0].numpy()
        cloud = rng.normal(size=(64, 3)).astype(np.float32) * 0.03
        text = "lift the mug" if i % 2 else "push the box"
        out.append(PolicySample(f"s{i}", "train", text, cloud, T_obj, q[0], "shadow_right", tokens, T_wrist, q,
                                instructions=(text, text + " please")))
    return out


def test_pose_9d_and_object_frame_round_trip():
    T = np.tile(np.eye(4), (3, 1, 1))
    T[:, :3, :3] = _rot_z(0.7)
    T[:, :3, 3] = [[0.1, 0.2, 0.3]] * 3
    np.testing.assert_allclose(pose_from_9d(pose_to_9d(T)), T, atol=1e-12)
    W = T.copy()
    W[:, 2, 3] += 0.1
    np.testing.assert_allclose(wrist_from_object_frame(T, wrist_in_object_frame(T, W)), W, atol=1e-12)


def test_train_resume_and_runner(tmp_path, hand_tokenizer, qwen_tokenizer):
    tok = hand_tokenizer
    samples = _samples(tok)
    cfg = PolicyTrainConfig(epochs=4, batch_size=4, lr=3e-3, num_points=32, trajectory_frames=8, save_every=2,
                            warmup_steps=1)
    mcfg = tiny_config(codebook_size=64, init_pose_dim=8)
    model, hist = train_policy(cfg, mcfg, samples, tmp_path / "p", val_samples=samples[:2], tokenizer=tok,
                               text_tokenizer=qwen_tokenizer, progress=False)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    # curriculum: 0 % masked in the first 20 % of epochs, 100 % from 80 %
    assert hist[0]["mask_ratio"] == 0.0 and hist[-1]["mask_ratio"] == 1.0
    assert hist[-1]["ce"] < hist[0]["ce"]  # it learns something on 6 sequences
    meta = json.loads((tmp_path / "p" / "training.json").read_text())
    assert meta["codebook_id"] == codebook_id(tok) and meta["inference_mask_inputs"] is True
    assert (tmp_path / "p" / "curves.png").stat().st_size > 1000
    # resume from the saved state continues at epoch 5
    _, hist2 = train_policy(PolicyTrainConfig(**{**cfg.__dict__, "epochs": 5}), mcfg, samples, tmp_path / "p",
                            tokenizer=tok, text_tokenizer=qwen_tokenizer, resume=True, progress=False)
    assert [h["epoch"] for h in hist2] == [1, 2, 3, 4, 5]

    tok_dir = tmp_path / "tok"
    tok.save_pretrained(tok_dir)
    runner = PolicyRunner.from_pretrained(tmp_path / "p", tok_dir)
    s = samples[1]
    cloud = s.cloud_obj @ s.T_world_object[0, :3, :3].T + s.T_world_object[0, :3, 3]
    a = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=0)
    b = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=0)
    np.testing.assert_array_equal(a.tokens, b.tokens)  # greedy is deterministic
    d = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=0, init_wrist=s.T_world_wrist[0])
    np.testing.assert_array_equal(d.T_world_wrist, a.T_world_wrist)  # trained without that input: ignored
    moved = s.T_world_object.copy()
    moved[1:, 1, 3] += 0.2  # the same start, another path: the hand follows the path it is given
    e = runner.generate(s.instruction, cloud, moved, "shadow_right", seed=0)
    assert runner.policy.config.wrist_frame == "path"
    assert abs((e.T_world_wrist[-1, 1, 3] - a.T_world_wrist[-1, 1, 3]) - 0.2) < 0.1
    c1 = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=7)
    c2 = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=7)
    np.testing.assert_array_equal(c1.tokens, c2.tokens)  # a sampling seed is repeatable
    assert a.q.shape == (24, 24) and a.T_world_wrist.shape == (24, 4, 4) and len(a.tokens) == 6
    # the same codes decode to another hand, within its limits; registry aliases resolve
    other = runner.generate(s.instruction, cloud, s.T_world_object, "inspire", seed=0)
    spec = load_hand_spec("inspire_right")
    assert other.hand == "inspire_right" and other.q.shape == (24, len(spec.joint_names))
    assert np.all(other.q >= np.asarray(spec.lower_rad) - 1e-9) and np.all(other.q <= np.asarray(spec.upper_rad) + 1e-9)
    np.testing.assert_array_equal(other.tokens, a.tokens)
    ticks = []
    runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", on_token=lambda d, n: ticks.append((d, n)))
    assert ticks[-1] == (6, 6)
    # clear errors
    with pytest.raises(UnknownHandError):
        runner.generate(s.instruction, cloud, s.T_world_object, "xhand_right")  # not in this tokenizer
    with pytest.raises(UnknownHandError):
        runner.generate(s.instruction, cloud, s.T_world_object, "no_such_hand")
    with pytest.raises(InputError, match="empty"):
        runner.generate("  ", cloud, s.T_world_object, "shadow_right")
    with pytest.raises(InputError, match="needs >= 16"):
        runner.generate(s.instruction, cloud[:5], s.T_world_object, "shadow_right")
    with pytest.raises(InputError, match="target path"):
        runner.generate(s.instruction, cloud, s.T_world_object[:, :3], "shadow_right")


def test_ablation_flags_change_what_the_model_sees(tmp_path, hand_tokenizer, qwen_tokenizer):
    tok = hand_tokenizer
    samples = _samples(tok, n=4)
    mcfg = tiny_config(codebook_size=64, init_pose_dim=8)
    cfg = PolicyTrainConfig(epochs=2, batch_size=4, num_points=32, trajectory_frames=8, mask_curriculum=False,
                            use_trajectory=False, save_every=5)
    model, hist = train_policy(cfg, mcfg, samples, tmp_path / "abl", tokenizer=tok, text_tokenizer=qwen_tokenizer,
                               progress=False)
    assert all(h["mask_ratio"] == 0.0 for h in hist)  # w/o masked training
    assert json.loads((tmp_path / "abl" / "training.json").read_text())["inference_mask_inputs"] is False
    # w/o trajectory input: the output does not depend on T_tar at all
    ids, m = model.encode_text(["lift the mug"])
    cloud, lat = torch.randn(1, 32, 3), torch.randn(1, 8)
    codes = torch.tensor([[1, 2, 3]])
    a = model(ids, cloud, torch.randn(1, 8, 9), lat, codes, text_mask=m).logits
    b = model(ids, cloud, torch.randn(1, 8, 9), lat, codes, text_mask=m).logits
    torch.testing.assert_close(a, b)
    # ... nor through the wrist's frame: it is the object's first pose, so two paths that start alike decode to
    # the same hand motion, and the training targets are the wrist in that fixed frame
    assert model.config.wrist_frame == "first"
    tok_dir = tmp_path / "tok"
    tok.save_pretrained(tok_dir)
    runner = PolicyRunner.from_pretrained(tmp_path / "abl", tok_dir)
    s = samples[1]
    cloud = s.cloud_obj @ s.T_world_object[0, :3, :3].T + s.T_world_object[0, :3, 3]
    other_path = s.T_world_object.copy()
    other_path[1:, :3, 3] += [0.0, 0.2, 0.1]
    g1 = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", seed=0)
    g2 = runner.generate(s.instruction, cloud, other_path, "shadow_right", seed=0)
    np.testing.assert_array_equal(g1.tokens, g2.tokens)
    np.testing.assert_allclose(g1.T_world_wrist, g2.T_world_wrist, atol=1e-9)


def test_the_wrist_frame_follows_the_path_only_with_the_trajectory_input():
    T = np.tile(np.eye(4), (5, 1, 1))
    T[:, :3, :3] = _rot_z(0.4)
    T[:, 0, 3] = np.linspace(0.0, 0.4, 5)
    np.testing.assert_array_equal(wrist_reference_poses(T, "path"), T)
    first = wrist_reference_poses(T, "first")
    assert first.shape == T.shape
    np.testing.assert_array_equal(first, np.repeat(T[:1], 5, axis=0))
    # a wrist carried with the object: constant in the moving frame, moving in the first frame
    W = T @ np.array([[1, 0, 0, 0], [0, 1, 0, -0.08], [0, 0, 1, 0.05], [0, 0, 0, 1.0]])
    assert np.ptp(wrist_in_object_frame(T, W)[:, :3], axis=0).max() < 1e-12
    np.testing.assert_allclose(wrist_in_object_frame(first, W)[-1, :3] - wrist_in_object_frame(first, W)[0, :3],
                               _rot_z(0.4).T @ [0.4, 0.0, 0.0], atol=1e-12)
    with pytest.raises(ConfigError, match="wrist_frame"):
        wrist_reference_poses(T, "world")
    with pytest.raises(ValueError, match="ablation"):
        PolicyConfig(wrist_frame="first")  # only a policy without the trajectory input uses the first frame
    with pytest.raises(ValueError, match="wrist_frame"):
        PolicyConfig(use_trajectory=False, wrist_frame="start")


def test_wrist_smoothing_keeps_ramps_and_damps_jumps():
    from unihm_planner.policy.runner import smooth_rows

    ramp = np.linspace(0, 1, 20)[:, None].repeat(9, axis=1)
    np.testing.assert_allclose(smooth_rows(ramp, 5)[2:-2], ramp[2:-2])  # a linear motion passes unchanged
    step = np.r_[np.zeros(10), np.ones(10)][:, None]
    out = smooth_rows(step, 9)
    assert np.abs(np.diff(out[:, 0])).max() <= 1 / 9 + 1e-12  # a 1.0 jump is spread over 9 frames
    assert smooth_rows(step, 1) is step


def test_init_wrist_vector_encodes_the_start_in_the_object_frame():
    from unihm_planner.policy.data import init_wrist_vector

    T_obj = np.eye(4)
    T_obj[:3, :3], T_obj[:3, 3] = _rot_z(0.5), [0.4, 0.1, 0.05]
    T_w = np.eye(4)
    T_w[:3, :3], T_w[:3, 3] = _rot_z(-0.2), [0.2, 0.3, 0.25]
    v = init_wrist_vector(T_obj, T_w, 10.0)
    assert v.shape == (10,) and v[9] == 1.0
    back = v[:9].astype(np.float64)
    back[:3] /= 10.0
    np.testing.assert_allclose(T_obj @ pose_from_9d(back), T_w, atol=1e-6)
    np.testing.assert_array_equal(init_wrist_vector(T_obj, None, 10.0), np.zeros(10))  # unknown start
    with pytest.raises(InputError, match="4x4"):
        init_wrist_vector(T_obj, np.full((4, 4), np.nan), 10.0)


def test_init_wrist_conditioning_reaches_the_wrist_head(tmp_path, hand_tokenizer, qwen_tokenizer):
    from unihm_planner.policy.train import _Examples

    tok = hand_tokenizer
    samples = _samples(tok, n=4)
    mcfg = tiny_config(codebook_size=64, init_pose_dim=8, init_wrist=True)
    cfg = PolicyTrainConfig(epochs=2, batch_size=4, num_points=32, trajectory_frames=8, save_every=5)
    train_policy(cfg, mcfg, samples, tmp_path / "w", tokenizer=tok, text_tokenizer=qwen_tokenizer, progress=False)
    tok.save_pretrained(tmp_path / "tok")
    runner = PolicyRunner.from_pretrained(tmp_path / "w", tmp_path / "tok")
    assert runner.policy.config.init_wrist and runner.policy.init_pose_encoder.in_dim == 8 + 10
    s = samples[0]
    cloud = s.cloud_obj @ s.T_world_object[0, :3, :3].T + s.T_world_object[0, :3, 3]
    unknown = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right")
    known = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_wrist=s.T_world_wrist[0])
    moved = s.T_world_wrist[0].copy()
    moved[:3, 3] += s.T_world_object[0, :3, :3] @ [0.0, 0.01, 0.0]  # 1 cm closer to the object: in range
    elsewhere = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_wrist=moved)
    assert not np.allclose(known.T_world_wrist, unknown.T_world_wrist)
    assert not np.allclose(known.T_world_wrist, elsewhere.T_world_wrist)
    with pytest.raises(InputError, match="initial wrist"):
        runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_wrist=np.eye(3))
    # training hides the start for `init_wrist_dropout` of the examples (the "unknown" input is all zeros)
    lat = np.zeros((len(samples), 8), np.float32)
    hidden = _Examples(samples, lat, PolicyTrainConfig(init_wrist_dropout=1.0, num_points=32), 0, init_wrist=True)
    shown = _Examples(samples, lat, PolicyTrainConfig(init_wrist_dropout=0.0, num_points=32), 0, init_wrist=True)
    assert not hidden[0][3][8:].any() and shown[0][3][17] == 1.0
    # the scale augmentation scales the wrist targets and the start's position by one factor per example
    scaled = _Examples(samples, lat, PolicyTrainConfig(init_wrist_dropout=0.0, num_points=32, augment_scale=0.2), 0,
                       init_wrist=True)
    ex, plain = scaled[0], scaled.fixed[0][2]
    r = float((ex[5][:, :3] * plain[:, :3]).sum() / (plain[:, :3] ** 2).sum())
    assert 0.8 <= r <= 1.2 and r != 1.0
    np.testing.assert_allclose(ex[5][:, :3], plain[:, :3] * r, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ex[5][:, 3:], plain[:, 3:])
    np.testing.assert_allclose(ex[3][8:11], scaled.init_wrist[0][:3] * r, rtol=1e-5, atol=1e-7)
    # the stretch augmentation changes only the object-frame height of the wrist targets and of the start
    stretched = _Examples(samples, lat, PolicyTrainConfig(init_wrist_dropout=0.0, num_points=32, augment_yaw=False,
                                                           augment_stretch=0.2), 0, init_wrist=True)
    ex, plain = stretched[0], stretched.fixed[0][2]
    u = float((ex[5][:, 2] * plain[:, 2]).sum() / (plain[:, 2] ** 2).sum())
    assert 0.8 <= u <= 1.2 and u != 1.0
    np.testing.assert_allclose(ex[5][:, 2], plain[:, 2] * u, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(ex[5][:, :2], plain[:, :2])
    np.testing.assert_allclose(ex[3][10], stretched.init_wrist[0][2] * u, rtol=1e-5, atol=1e-7)
    # a start beyond the farthest training start (training.json) is replaced by the training start nearest in
    # direction and orientation (here every sample starts at the same object-frame offset), and said so
    meta = json.loads((tmp_path / "w" / "training.json").read_text())
    assert meta["init_wrist_max_distance_m"] == pytest.approx(np.linalg.norm([0.0, -0.08, 0.05]))
    assert len(meta["init_wrist_starts"]) == len(samples) and known.start_note == ""
    far = s.T_world_wrist[0].copy()
    far[:3, 3] = s.T_world_object[0, :3, 3] + [0.0, 0.0, 0.8]
    beyond = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_wrist=far)
    np.testing.assert_allclose(beyond.T_world_wrist, known.T_world_wrist, atol=1e-4)
    assert "0.80 m from the object" in beyond.start_note and "nearest" in beyond.start_note
    assert not unknown.start_note
    # staging: plan from the nearest training start even when the given start is in range (the arm goes there)
    staged = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_wrist=moved, stage_start=True)
    np.testing.assert_allclose(staged.T_world_wrist, known.T_world_wrist, atol=1e-4)
    assert "staging pose" in staged.start_note
    # an initial hand pose unlike every training start is replaced by the training mean (as for an unknown one)
    assert len(meta["init_pose_latent_mean"]) == 8 and meta["init_pose_latent_max_distance"] >= 0.0
    typical = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_q=s.init_q)
    assert typical.start_note == ""
    odd = runner.generate(s.instruction, cloud, s.T_world_object, "shadow_right", init_q=s.init_q + 3.0)
    assert "unlike every training start" in odd.start_note
    np.testing.assert_allclose(odd.T_world_wrist, unknown.T_world_wrist, atol=1e-5)
    np.testing.assert_array_equal(odd.tokens, unknown.tokens)


def test_nearest_start_weighs_direction_and_orientation():
    from unihm_planner.policy.runner import nearest_start

    def start(direction, yaw):
        R = _rot_z(yaw)
        return np.concatenate([np.asarray(direction, float) * 3.0, R[:, 0], R[:, 1]]).astype(np.float32)

    starts = np.stack([start([0, 0, 1], 0.0), start([1, 0, 0], 0.0), start([0, 0, 1], 2.5)])
    np.testing.assert_array_equal(nearest_start(starts, start([0.1, 0, 1], 0.1)), starts[0])  # above, same turn
    np.testing.assert_array_equal(nearest_start(starts, start([0.1, 0, 1], 2.4)), starts[2])  # above, turned
    np.testing.assert_array_equal(nearest_start(starts, start([1, 0, 0.2], 0.3)), starts[1])  # from the side


def _residual_tokenizer(stages=2):
    torch.manual_seed(1)
    tok = HandTokenizer(TokenizerConfig(backbone="conv1d", codebook_size=64, code_dim=8, hidden_dim=16,
                                        num_res_blocks=1, downsample=4, residual_stages=stages))
    for h in HANDS:
        tok.add_hand(h, load_hand_spec(h).joint_names)
    return tok.eval()


def test_a_policy_on_a_residual_tokenizer_emits_whole_steps(tmp_path, qwen_tokenizer):
    from unihm_common.errors import ConfigError

    tok = _residual_tokenizer(2)
    samples = _samples(tok, n=4)
    assert len(samples[0].tokens) == 2 * 24 // 4  # time-major: 2 codes per 4-frame step
    cfg = PolicyTrainConfig(epochs=2, batch_size=4, lr=3e-3, num_points=32, trajectory_frames=8, save_every=2,
                            warmup_steps=1)
    model, hist = train_policy(cfg, tiny_config(), samples, tmp_path / "p", tokenizer=tok,
                               text_tokenizer=qwen_tokenizer, progress=False)
    assert model.config.codes_per_step == 2 and model.stage_embedding is not None
    assert json.loads((tmp_path / "p" / "training.json").read_text())["codes_per_step"] == 2
    tok.save_pretrained(tmp_path / "tok")
    runner = PolicyRunner.from_pretrained(tmp_path / "p", tmp_path / "tok")
    s = samples[0]
    cloud = s.cloud_obj @ s.T_world_object[0, :3, :3].T + s.T_world_object[0, :3, 3]
    ticks = []
    g = runner.generate(s.instruction, cloud, s.T_world_object[:22], "inspire", seed=0,
                        on_token=lambda d, n: ticks.append((d, n)))
    assert len(g.tokens) == 12 and ticks[-1] == (12, 12)  # 22 frames -> 6 steps x 2 codes
    assert g.q.shape[0] == 22 and g.T_world_wrist.shape == (22, 4, 4)
    spec = load_hand_spec("inspire")
    decoded = tok.detokenize(torch.as_tensor(g.tokens)[None], "inspire_right")[0, :22].numpy()
    np.testing.assert_allclose(g.q, np.clip(decoded, spec.lower_rad, spec.upper_rad), atol=1e-5)
    # <motion_end> may only follow a whole step: make it the likeliest choice after the first code
    calls = []

    def favour_end(module, args, out):
        calls.append(1)
        if len(calls) > 1:
            out = out.clone()
            out[..., model.end_id] += 1e4
        return out

    text_ids, text_mask = model.encode_text([s.instruction])
    args = (text_ids, torch.as_tensor(s.cloud_obj)[None], torch.zeros(1, 8, 9), torch.zeros(1, 8))
    handle = model.lm.lm_head.register_forward_hook(favour_end)
    try:
        codes = model.generate(*args, text_mask=text_mask, max_tokens=8, temperature=0)
    finally:
        handle.remove()
    assert (codes[0] >= 0).sum() == 2  # ended after step 1, not after its first code
    with pytest.raises(InputError, match="multiple of codes_per_step"):
        model.generate(*args, text_mask=text_mask, max_tokens=7)
    with pytest.raises(InputError, match="whole time steps"):
        model(*args, torch.tensor([[1, 2, 3]]), text_mask=text_mask)
    from unihm_planner.policy.bench import run_benchmark

    res = run_benchmark(["--policy", str(tmp_path / "p"), "--tokenizer", str(tmp_path / "tok"), "--frames", "24",
                         "--repeats", "1"])
    assert {"ms_per_trajectory", "tokens_per_s", "peak_rss_mb", "device", "tokens_per_s_kv_cache"} <= set(res)
    assert res["tokens"] == 12 and res["codes_per_step"] == 2 and res["tokens_per_s"] > 0
    with pytest.raises(ConfigError, match="codes_per_step"):  # a one-code tokenizer cannot decode this policy
        PolicyRunner(model, HandTokenizer(TokenizerConfig(codebook_size=64, code_dim=8, hidden_dim=8,
                                                          num_res_blocks=1)), {})


def test_scale_augmentation_scales_object_and_wrist_offsets_alike():
    from unihm_planner.policy.train import scale_object

    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(50, 3)).astype(np.float32) * 0.05
    wrist = rng.normal(size=(6, 9)).astype(np.float32)
    init = np.concatenate([rng.normal(size=9), [1.0]]).astype(np.float32)
    c2, w2, i2 = scale_object(cloud, wrist, init, 1.1)
    np.testing.assert_allclose(c2, cloud * 1.1, rtol=1e-6)
    np.testing.assert_allclose(w2[:, :3], wrist[:, :3] * 1.1, rtol=1e-6)
    np.testing.assert_array_equal(w2[:, 3:], wrist[:, 3:])  # rotations stay
    np.testing.assert_allclose(i2[:3], init[:3] * 1.1, rtol=1e-6)
    np.testing.assert_array_equal(i2[3:], init[3:])
    # the wrist's distance to its nearest object point scales with the object
    d = lambda c, w: np.linalg.norm(c - w[0, :3], axis=1).min()  # noqa: E731
    assert d(c2, w2) == pytest.approx(1.1 * d(cloud, wrist), rel=1e-5)
    assert scale_object(cloud, wrist, None, 0.9)[2] is None
    with pytest.raises(Exception, match="augment_scale"):
        PolicyTrainConfig(augment_scale=1.0)


def test_stretch_augmentation_stretches_along_the_objects_own_vertical_axis():
    from unihm_planner.policy.train import stretch_object

    rng = np.random.default_rng(1)
    p_obj = rng.normal(size=(40, 3)) * 0.05  # object-frame points
    c, s_ = np.cos(np.radians(30.0)), np.sin(np.radians(30.0))
    R = np.array([[1.0, 0.0, 0.0], [0.0, c, -s_], [0.0, s_, c]])  # a tilted object
    cloud = (p_obj @ R.T).astype(np.float32)  # world axes, origin at the object
    wrist = rng.normal(size=(5, 9)).astype(np.float32)
    init = np.concatenate([rng.normal(size=9), [1.0]]).astype(np.float32)
    c2, w2, i2 = stretch_object(cloud, wrist, init, R, 1.3)
    np.testing.assert_allclose(c2, (p_obj * [1.0, 1.0, 1.3]) @ R.T, atol=1e-6)  # stretched in its own frame
    np.testing.assert_allclose(w2[:, :3], wrist[:, :3] * [1.0, 1.0, 1.3], rtol=1e-6)
    np.testing.assert_array_equal(w2[:, 3:], wrist[:, 3:])
    np.testing.assert_allclose(i2[:3], init[:3] * [1.0, 1.0, 1.3], rtol=1e-6)
    np.testing.assert_array_equal(i2[3:], init[3:])
    assert stretch_object(cloud, wrist, None, R, 0.8)[2] is None
    with pytest.raises(Exception, match="augment_stretch"):
        PolicyTrainConfig(augment_stretch=-0.1)
