"""MotionPolicy: loss, masking, generation with/without KV cache, checkpoints, input errors."""

import json

import pytest
import torch
from policy_fixtures import INIT_DIM, MIN_POINTS, K, tiny_config

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_planner.policy.config import PolicyConfig, policy_config_from_dict
from unihm_planner.policy.model import MotionPolicy

TEXT_IDS = list(range(0, 2000)) + [9707, 1879, 151643, 151645]  # a pruned vocabulary covering the batch


def make_policy(seed=0, **overrides) -> MotionPolicy:
    torch.manual_seed(seed)
    policy = MotionPolicy(tiny_config(**overrides), text_ids=TEXT_IDS)
    with torch.no_grad():  # a sharper random model, so greedy decoding depends on its inputs
        for p in policy.parameters():
            if p.dim() > 1:
                p.normal_(0.0, 0.3)
    return policy


@pytest.fixture(scope="module")
def policy():
    return make_policy().eval()


def gen_inputs(batch):
    return {k: v for k, v in batch.items() if k != "motion_tokens"}


def test_vocabulary_layout(policy):
    assert policy.n_text == len(set(TEXT_IDS)) + 1
    assert policy.vocab_size == policy.n_text + K + 4
    assert policy.lm.get_input_embeddings().weight.shape[0] == policy.vocab_size
    assert policy.lm.lm_head.weight.data_ptr() == policy.lm.get_input_embeddings().weight.data_ptr()  # tied
    assert policy.text_lookup[9707] == TEXT_IDS.index(9707) + 1 and policy.text_lookup[50000] == 0  # 0 = unknown


def test_loss_finite_and_gradients_reach_encoders(batch):
    policy = make_policy().train()
    out = policy(**batch)
    assert out.logits.shape == (2, 6, policy.vocab_size)
    assert torch.isfinite(out.loss)
    out.loss.backward()
    for enc in (policy.object_encoder, policy.trajectory_encoder, policy.init_pose_encoder):
        grads = [p.grad for p in enc.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_loss_only_on_motion_positions(policy, batch):
    """Targets: each next code, then <motion_end>; nothing after the end and nothing in the prefix."""
    out = policy(**batch)
    o = policy.motion_offset
    targets = torch.tensor([[1 + o, 2 + o, 3 + o, 4 + o, 5 + o, policy.end_id],
                            [6 + o, 7 + o, 8 + o, policy.end_id, -100, -100]])
    expected = torch.nn.functional.cross_entropy(out.logits.flatten(0, 1), targets.flatten(), ignore_index=-100)
    assert torch.allclose(out.loss, expected)
    # padding after a sequence's end is invisible to the real positions
    longer = policy(**dict(batch, motion_tokens=torch.tensor([[1, 2, 3, 4, 5, 9], [6, 7, 8, -1, -1, -1]])))
    assert torch.allclose(longer.logits[1, :4], out.logits[1, :4], atol=1e-5)


def test_masked_inputs_use_the_mask_embedding(batch):
    policy = make_policy().train()
    seen = {}
    policy.lm.model.register_forward_pre_hook(lambda m, a, kw: seen.update(embeds=kw["inputs_embeds"]),
                                              with_kwargs=True)
    mask = torch.tensor([[False, True, False, True, False], [True, False, False, False, False]])
    out = policy(**batch, mask=mask)
    M = batch["motion_tokens"].shape[1]
    motion_embeds = seen["embeds"][:, -M:]  # (B, M, D)
    table = policy.lm.get_input_embeddings().weight
    for b, j in mask.nonzero().tolist():
        assert torch.equal(motion_embeds[b, j], table[policy.mask_id])
    for b, j in (~mask & (batch["motion_tokens"] >= 0)).nonzero().tolist():
        assert torch.equal(motion_embeds[b, j], table[policy.motion_offset + batch["motion_tokens"][b, j]])
    # a masked input's code no longer matters to the prediction made at that position
    other = batch["motion_tokens"].clone()
    other[0, 1] = 33
    again = policy(**dict(batch, motion_tokens=other), mask=mask)
    assert torch.allclose(out.logits[0, :3], again.logits[0, :3], atol=1e-5)
    assert table.requires_grad  # the one <mask> row is a learnt row of the (tied) table


@pytest.mark.parametrize("mask_inputs", [True, False])
def test_generate_cache_equals_no_cache(policy, batch, mask_inputs):
    kw = dict(gen_inputs(batch), max_tokens=12, temperature=0.0, mask_inputs=mask_inputs, parallel=False)
    with_cache = policy.generate(**kw, use_cache=True)
    without = policy.generate(**kw, use_cache=False)
    assert with_cache.shape[0] == 2 and with_cache.shape[1] <= 12
    assert torch.equal(with_cache, without)
    assert ((with_cache >= -1) & (with_cache < K)).all()


@pytest.mark.parametrize("codes_per_step", [1, 2])
def test_one_pass_generation_equals_the_kv_cache_loop(batch, codes_per_step):
    """With masked inputs every position is computed in one forward pass: same codes, same wrist, same random
    stream as drawing them one by one with the KV cache (greedy and sampled, ends included)."""
    model = make_policy(seed=2, codes_per_step=codes_per_step).eval()
    for kw in (dict(temperature=0.0, force_length=True), dict(temperature=1.5, top_k=20, seed=4),
               dict(temperature=2.0, seed=1)):
        calls = [[], []]
        args = dict(gen_inputs(batch), max_tokens=16, return_wrist=True, **kw)
        one, w_one = model.generate(**args, on_token=calls[0].append)
        loop, w_loop = model.generate(**args, parallel=False, on_token=calls[1].append)
        assert torch.equal(one, loop) and calls[0] == calls[1]
        torch.testing.assert_close(w_one, w_loop, atol=1e-4, rtol=1e-4)
    # ends: make <motion_end> likely for sample 0 from the 5th code on; both stop there, sample 1 goes on
    model.lm.lm_head.register_forward_hook(_favour_end_from(model, 4, sample=0))
    args = dict(gen_inputs(batch), max_tokens=16, return_wrist=True, temperature=0.0)
    one, w_one = model.generate(**args)
    model.lm.lm_head._forward_hooks.clear()
    model.lm.lm_head.register_forward_hook(_favour_end_from(model, 4, sample=0))
    loop, w_loop = model.generate(**args, parallel=False)
    model.lm.lm_head._forward_hooks.clear()
    ended_at = 4  # a step boundary for 1 and 2 codes per step
    assert torch.equal(one, loop) and (one[0, ended_at:] == -1).all() and (one[0, :ended_at] >= 0).all()
    assert (one[1] >= 0).all()
    steps = ended_at // codes_per_step  # the wrist of an ended sample is meaningless after its end
    torch.testing.assert_close(w_one[0, :steps], w_loop[0, :steps], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(w_one[1], w_loop[1], atol=1e-4, rtol=1e-4)


def _favour_end_from(model, t_end: int, sample: int):
    """A forward hook on lm_head that makes <motion_end> the top choice of `sample` from call `t_end` on."""
    calls = []

    def hook(module, args, out):
        calls.append(1)
        if len(calls) > t_end:
            out = out.clone()
            out[sample, ..., model.end_id] += 1e4
        return out

    return hook


def test_generate_sampling_is_seeded(policy, batch):
    kw = dict(gen_inputs(batch), max_tokens=16, temperature=1.0, top_k=10)
    a, b, c = policy.generate(**kw, seed=3), policy.generate(**kw, seed=3), policy.generate(**kw, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(policy.generate(**dict(kw, top_k=1), seed=5), policy.generate(**dict(kw, temperature=0.0)))


def test_generate_pads_after_end(policy, batch):
    out = policy.generate(**gen_inputs(batch), max_tokens=32, temperature=1.5, seed=0)
    for row in out:
        ended = (row == -1).nonzero()
        if len(ended):
            assert (row[ended[0, 0]:] == -1).all()


def test_save_load_round_trip(policy, batch, tmp_path, qwen_tokenizer):
    policy.tokenizer = qwen_tokenizer
    try:
        policy.save_pretrained(tmp_path)
    finally:
        policy.tokenizer = None
    assert {p.name for p in tmp_path.iterdir()} >= {"config.json", "model.safetensors", "text_vocab.json", "tokenizer"}
    loaded = MotionPolicy.from_pretrained(tmp_path).eval()
    assert loaded.config == policy.config
    assert torch.equal(loaded(**batch).logits, policy(**batch).logits)
    kw = dict(gen_inputs(batch), max_tokens=8, temperature=0.0)
    assert torch.equal(loaded.generate(**kw), policy.generate(**kw))
    ids, mask = loaded.encode_text(["Hello world", "open"])
    assert ids[0, :2].tolist() == [9707, 1879] and mask.sum(1).tolist() == [2, 1]


def test_unpruned_round_trip(tmp_path, batch):
    torch.manual_seed(0)
    policy = MotionPolicy(tiny_config(text_vocab_size=2000)).eval()
    b = dict(batch, text_ids=torch.tensor([[5, 6, 7, 8], [40, 1079, 0, 0]]))
    policy.save_pretrained(tmp_path)
    assert not (tmp_path / "text_vocab.json").exists()
    assert torch.equal(MotionPolicy.from_pretrained(tmp_path)(**b).logits, policy(**b).logits)


def test_checkpoint_errors(tmp_path, policy):
    with pytest.raises(MissingDependencyError, match="no policy checkpoint"):
        MotionPolicy.from_pretrained(tmp_path)
    policy.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    meta["policy"]["hidden_sizee"] = 3
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="hidden_sizee"):
        MotionPolicy.from_pretrained(tmp_path)


def _save_base(directory, vocab_size, cfg: PolicyConfig):
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(1)
    base = Qwen3ForCausalLM(Qwen3Config(
        vocab_size=vocab_size, hidden_size=cfg.hidden_size, intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_layers, num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_kv_heads,
        head_dim=cfg.head_dim, tie_word_embeddings=True))
    base.save_pretrained(str(directory))
    return base


def test_base_model_with_mismatched_vocab(tmp_path):
    _save_base(tmp_path, 300, tiny_config())
    with pytest.raises(ConfigError, match=r"vocab_size 300.*text_vocab_size is 500"):
        MotionPolicy(tiny_config(text_vocab_size=500, base_model=str(tmp_path)))


def test_base_model_weights_are_copied(tmp_path):
    base = _save_base(tmp_path, 300, tiny_config())
    policy = MotionPolicy(tiny_config(text_vocab_size=300, base_model=str(tmp_path)), text_ids=[3, 7, 9])
    emb, base_emb = policy.lm.get_input_embeddings().weight, base.get_input_embeddings().weight
    assert torch.equal(emb[1:4], base_emb[[3, 7, 9]])
    key = "model.layers.1.mlp.up_proj.weight"
    assert torch.equal(policy.lm.state_dict()[key], base.state_dict()[key])
    with pytest.raises(ConfigError, match="hidden_size=128 vs base 64"):
        MotionPolicy(tiny_config(text_vocab_size=300, hidden_size=128, base_model=str(tmp_path)))
    with pytest.raises(MissingDependencyError, match="config.json"):
        MotionPolicy(tiny_config(base_model=str(tmp_path / "nowhere")))


def test_config_is_strict():
    assert policy_config_from_dict({"codebook_size": 64}).codebook_size == 64
    with pytest.raises(ConfigError, match="codebok_size"):
        policy_config_from_dict({"codebok_size": 64})
    with pytest.raises(ConfigError, match="num_kv_heads"):
        policy_config_from_dict({"num_heads": 4, "num_kv_heads": 3})
    with pytest.raises(ConfigError, match="hidden_size"):
        policy_config_from_dict({"hidden_size": "big"})
    assert PolicyConfig().codebook_size == 8192 and PolicyConfig().trajectory_hidden == 512


# ---------------------------------------------------------------- input errors
def test_empty_instruction(policy, batch, qwen_tokenizer):
    with pytest.raises(InputError, match="empty instruction"):
        policy(**dict(batch, text_ids=batch["text_ids"][:, :0], text_mask=batch["text_mask"][:, :0]))
    with pytest.raises(InputError, match="empty instruction"):
        policy.generate(**dict(gen_inputs(batch), text_mask=torch.zeros(2, 4, dtype=torch.bool)))
    policy.tokenizer = qwen_tokenizer
    try:
        with pytest.raises(InputError, match="instruction 1 is empty"):
            policy.encode_text(["grasp the mug", "   "])
    finally:
        policy.tokenizer = None
    with pytest.raises(MissingDependencyError, match="tokenizer"):
        policy.encode_text(["grasp"])


def test_too_few_points_names_the_minimum(policy, batch):
    with pytest.raises(InputError, match=f"at least {MIN_POINTS}"):
        policy(**dict(batch, cloud=torch.randn(2, MIN_POINTS - 1, 3)))


@pytest.mark.parametrize("field, value, match", [
    ("cloud", torch.randn(2, 40, 2), "cloud must be"),
    ("cloud", torch.full((2, 40, 3), float("nan")), "NaN"),
    ("T_tar", torch.randn(2, 10, 3, 4), "T_tar must be"),
    ("init_pose", torch.randn(2, INIT_DIM + 1), "init_pose must be"),
    ("init_pose", torch.randn(3, INIT_DIM), "batch size"),
    ("text_ids", torch.tensor([9707, 1879]), "text_ids must be"),
    ("text_ids", torch.tensor([[9707, 10**7, 1, 1], [1, 1, 1, 1]]), "Qwen3 ids"),
    ("motion_tokens", torch.tensor([[1, -1, 3, 4, 5], [1, 2, 3, 4, 5]]), "padding"),
    ("motion_tokens", torch.tensor([[1, 2, K, 4, 5], [1, 2, 3, 4, 5]]), "codebook_size"),
    ("motion_tokens", torch.zeros(2, 40, dtype=torch.long), "max_motion_tokens"),
])
def test_shape_and_value_errors(policy, batch, field, value, match):
    with pytest.raises(InputError, match=match):
        policy(**dict(batch, **{field: value}))


def test_mask_shape_error(policy, batch):
    with pytest.raises(InputError, match="mask must be"):
        policy(**batch, mask=torch.ones(2, 3, dtype=torch.bool))


def test_generate_argument_errors(policy, batch):
    with pytest.raises(InputError, match="max_tokens"):
        policy.generate(**gen_inputs(batch), max_tokens=0)
    with pytest.raises(InputError, match="temperature"):
        policy.generate(**gen_inputs(batch), temperature=-1.0)


def test_wrist_residual_starts_from_the_initial_wrist(batch):
    policy = make_policy(init_wrist=True, wrist_residual=True).eval()
    with torch.no_grad():
        policy.wrist_head[-1].weight.zero_()
        policy.wrist_head[-1].bias.zero_()  # the head adds nothing: the output is the residual's base
    wrist = torch.tensor([[1.0, -2.0, 3.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0],  # known start
                          [5.0, 5.0, 5.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]])  # unknown (flag 0)
    inputs = dict(batch, init_pose=torch.cat([batch["init_pose"], wrist], dim=1))
    out = policy(**inputs).wrist  # (B, M, fpt, 9)
    torch.testing.assert_close(out[0], wrist[0, :9].expand_as(out[0]))
    torch.testing.assert_close(out[1], torch.zeros_like(out[1]))
    _, gen = policy.generate(**gen_inputs(inputs), max_tokens=3, temperature=0, force_length=True, return_wrist=True)
    torch.testing.assert_close(gen[0], wrist[0, :9].expand_as(gen[0]))
    with pytest.raises(ValueError, match="wrist_residual needs init_wrist"):
        tiny_config(wrist_residual=True)
