"""HandTokenizer: per-hand encoders E_h / decoders D_h around one shared codebook Z (paper §3.2).

Joint trajectories are in radians, shape (B, T, J) with T a multiple of `downsample` and J the
hand's joints in the order stored with the hand (and in the checkpoint). Each hand normalises its
joints with stored mean/std before E_h and undoes it after D_h, so losses weigh joints alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from unihm_common.errors import InputError, UnknownHandError
from unihm_planner.tokenizer.backbones import build_backbone
from unihm_planner.tokenizer.config import TokenizerConfig
from unihm_planner.tokenizer.quantizer import VectorQuantizer

_HAND_NAME = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass
class TokenizerOutput:
    x_hat: torch.Tensor  # (B, T, J) reconstruction in rad
    x_hat_norm: torch.Tensor  # (B, T, J) reconstruction in normalised units
    z_e: torch.Tensor  # (B, N, d_z) encoder output
    codes: torch.Tensor  # (B, N*S) long (S = residual stages, 1 by default)
    loss_rec: torch.Tensor  # () Eq. 4, mean squared error in normalised units
    loss_vq: torch.Tensor  # () Eq. 5
    loss_commit: torch.Tensor  # () unweighted commitment term
    stage_inputs: torch.Tensor  # (B, N*S, d_z) the vectors the codes were chosen for (refresh buffer)


class JointNorm(nn.Module):
    """Per-joint affine normalisation x_n = (x - mean) / std, stored as buffers (in the checkpoint)."""

    def __init__(self, num_joints: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_joints))  # (J,) rad
        self.register_buffer("std", torch.ones(num_joints))  # (J,) rad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x_n: torch.Tensor) -> torch.Tensor:
        return x_n * self.std + self.mean


def stats_from_data(trajectories: Sequence, std_floor_rad: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-joint mean and std (floored) over every frame of a list of (T, J) arrays -> (J,), (J,)."""
    x = torch.cat([torch.as_tensor(t, dtype=torch.float64).reshape(-1, t.shape[-1]) for t in trajectories])
    return x.mean(0).float(), x.std(0, correction=0).clamp_min(std_floor_rad).float()


def stats_from_limits(lower: Sequence[float], upper: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Limits-based normalisation: mid-range to 0, half-range to 1 -> (J,), (J,)."""
    lo, hi = torch.as_tensor(lower, dtype=torch.float32), torch.as_tensor(upper, dtype=torch.float32)
    return (lo + hi) / 2, ((hi - lo) / 2).clamp_min(1e-3)


class HandTokenizer(nn.Module):
    """Shared-codebook VQ-VAE over joint trajectories of several hand morphologies."""

    def __init__(self, config: TokenizerConfig) -> None:
        super().__init__()
        self.config = config
        self.quantizer = VectorQuantizer(config.codebook_size, config.code_dim, config.beta, config.residual_stages)
        self.encoders = nn.ModuleDict()
        self.decoders = nn.ModuleDict()
        self.norms = nn.ModuleDict()
        self.joint_names: dict[str, tuple[str, ...]] = {}  # hand -> joint order, insertion = training order
        self.aliases: dict[str, tuple[str, tuple[str, ...]]] = {}  # alias -> (trained hand, alias joint order)
        self._alias_idx: dict[str, tuple[list[int], list[int]]] = {}  # alias -> (to trained order, back)

    # ---- hands -------------------------------------------------------------------------------------
    @property
    def hands(self) -> list[str]:
        return list(self.joint_names)

    @property
    def reference_hand(self) -> str | None:
        """The first hand added: it trained the codebook."""
        return next(iter(self.joint_names), None)

    def add_hand(self, name: str, joint_names: Sequence[str],
                 mean: torch.Tensor | None = None, std: torch.Tensor | None = None) -> None:
        """Create E_h, D_h and the joint normalisation for a new hand (other hands are untouched)."""
        if not _HAND_NAME.match(name):
            raise ValueError(f"hand name {name!r} must match {_HAND_NAME.pattern}")
        if name in self.joint_names:
            raise ValueError(f"hand {name!r} is already in this tokenizer")
        joint_names = tuple(joint_names)
        if not joint_names or len(set(joint_names)) != len(joint_names):
            raise ValueError(f"hand {name!r}: joint_names must be non-empty and unique, got {joint_names}")
        J = len(joint_names)
        enc, dec = build_backbone(J, self.config)
        norm = JointNorm(J)
        for value, buf in ((mean, norm.mean), (std, norm.std)):
            if value is not None:
                value = torch.as_tensor(value, dtype=torch.float32)
                if value.shape != (J,):
                    raise ValueError(f"hand {name!r}: normalisation stats need shape ({J},), got {tuple(value.shape)}")
                buf.copy_(value)
        if bool((norm.std <= 0).any()):
            raise ValueError(f"hand {name!r}: std must be > 0")
        device = self.quantizer.codebook.device
        self.encoders[name], self.decoders[name], self.norms[name] = enc.to(device), dec.to(device), norm.to(device)
        self.joint_names[name] = joint_names
        self.aliases.pop(name, None)  # a hand trained under an alias's name replaces the alias
        self._alias_idx.pop(name, None)

    @property
    def all_hands(self) -> list[str]:
        """Trained hands, then aliases (see aliases.py)."""
        return self.hands + [a for a in self.aliases if a not in self.joint_names]

    def hand_joint_names(self, hand: str) -> tuple[str, ...]:
        """Joint order of a trained hand or an alias (the column order its inputs/outputs use)."""
        if hand in self.aliases:
            return self.aliases[hand][1]
        self.check_hand(hand)
        return self.joint_names[hand]

    def add_alias(self, alias: str, hand: str, joint_names: Sequence[str] | None = None) -> None:
        """Let `alias` use trained `hand`'s encoder/decoder; `joint_names` (default: `hand`'s) is the alias's
        column order and must match `hand`'s joints one-to-one up to `left`/`right` name tokens."""
        from unihm_planner.tokenizer.aliases import joint_permutation

        self.check_hand(hand)
        if not _HAND_NAME.match(alias):
            raise ValueError(f"alias {alias!r} must match {_HAND_NAME.pattern}")
        if alias in self.joint_names:
            raise ValueError(f"{alias!r} is a trained hand, not an alias")
        joints = tuple(joint_names) if joint_names is not None else self.joint_names[hand]
        idx = joint_permutation(joints, self.joint_names[hand], f"alias {alias!r} -> {hand!r}")
        inv = [0] * len(idx)
        for i, j in enumerate(idx):
            inv[j] = i
        self.aliases[alias] = (hand, joints)
        self._alias_idx[alias] = (idx, inv)

    def resolve_hand(self, hand: str) -> str:
        """The trained hand behind `hand` (itself when trained)."""
        if hand in self.joint_names:
            return hand
        if hand in self.aliases:
            return self.aliases[hand][0]
        self.check_hand(hand)
        return hand

    def _to_trained(self, x: torch.Tensor, hand: str) -> tuple[torch.Tensor, str]:
        """Alias inputs (B, T, J_alias) -> trained column order; trained hands pass through."""
        if hand in self.joint_names or hand not in self.aliases:
            return x, hand
        target, joints = self.aliases[hand]
        if isinstance(x, torch.Tensor) and x.dim() == 3 and x.shape[2] != len(joints):
            raise InputError(f"hand {hand!r} has {len(joints)} joints, got input with {x.shape[2]} "
                             f"(shape {tuple(x.shape)})")
        if isinstance(x, torch.Tensor) and x.dim() == 3:
            x = x[..., self._alias_idx[hand][0]]
        return x, target

    def _from_trained(self, y: torch.Tensor, hand: str) -> torch.Tensor:
        """Trained column order (B, T, J) -> the alias's column order."""
        if hand in self.joint_names or hand not in self.aliases:
            return y
        return y[..., self._alias_idx[hand][1]]

    def check_hand(self, hand: str) -> None:
        if hand not in self.joint_names:
            known = ", ".join(self.joint_names) or "(none)"
            alias_txt = f"; aliases: {', '.join(self.aliases)}" if self.aliases else ""
            raise UnknownHandError(f"the tokenizer has no hand {hand!r}; it was trained for: {known}{alias_txt}")

    def check_input(self, x: torch.Tensor, hand: str) -> None:
        """Raise `InputError` unless x is a float tensor (B, T, J_hand) with T a positive multiple of ds."""
        self.check_hand(hand)
        J, ds = len(self.joint_names[hand]), self.config.downsample
        if not isinstance(x, torch.Tensor):
            raise InputError(f"expected a torch.Tensor (B, T, {J}) for hand {hand!r}, got {type(x).__name__}")
        if x.dim() != 3:
            raise InputError(
                f"expected shape (B, T, J) = (B, T, {J}) for hand {hand!r}, got rank {x.dim()} "
                f"{tuple(x.shape)}" + (" (add a batch axis: x[None])" if x.dim() == 2 else "")
            )
        if x.shape[2] != J:
            raise InputError(f"hand {hand!r} has {J} joints, got input with {x.shape[2]} (shape {tuple(x.shape)})")
        if x.shape[1] == 0 or x.shape[1] % ds:
            raise InputError(f"T={x.shape[1]} frames must be a positive multiple of downsample={ds}")
        if not x.is_floating_point():
            raise InputError(f"expected floating-point joint angles, got dtype {x.dtype}")

    # ---- model -------------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, hand: str) -> torch.Tensor:
        """z_e = E_h(x): (B, T, J) rad -> (B, T/ds, d_z); `hand` may be an alias."""
        x, hand = self._to_trained(x, hand)
        self.check_input(x, hand)
        return self.encoders[hand](self.norms[hand](x))

    def decode_latent(self, z_q: torch.Tensor, hand: str) -> torch.Tensor:
        """D_h in normalised units: (B, N, d_z) -> (B, N*ds, J)."""
        self.check_hand(hand)
        return self.decoders[hand](z_q)

    def forward(self, x: torch.Tensor, hand: str) -> TokenizerOutput:
        """Encode, quantise (straight-through) and decode; Eq. 4 and Eq. 5 losses."""
        self.check_input(x, hand)
        x_n = self.norms[hand](x)  # (B, T, J)
        z_e = self.encoders[hand](x_n)  # (B, N, d_z)
        q = self.quantizer(z_e)
        x_hat_n = self.decoders[hand](q.z_q)  # (B, T, J)
        loss_rec = F.mse_loss(x_hat_n, x_n)
        x_hat = self.norms[hand].inverse(x_hat_n)
        return TokenizerOutput(x_hat, x_hat_n, z_e, q.codes, loss_rec, q.loss_vq, q.loss_commit, q.stage_inputs)

    @torch.no_grad()
    def tokenize(self, x: torch.Tensor, hand: str) -> torch.Tensor:
        """Eq. 1: c = Q(E_h(x)), (B, T, J) rad -> (B, S*T/ds) long (S = residual stages, 1 by default)."""
        return self.quantizer.quantize(self.encode(x, hand))

    @torch.no_grad()
    def detokenize(self, tokens: torch.Tensor, hand: str) -> torch.Tensor:
        """Eq. 2: x_hat = D_h(e_c), (B, N) long -> (B, N*ds/S, J) rad; `hand` may be an alias."""
        alias, hand = hand, self.resolve_hand(hand)
        K = self.config.codebook_size
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype not in (torch.long, torch.int32):
            shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
            raise InputError(f"tokens must be an integer tensor (B, N), got {shape}")
        if tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= K):
            raise InputError(f"tokens must lie in [0, {K}), got [{int(tokens.min())}, {int(tokens.max())}]")
        S = self.config.residual_stages
        if tokens.shape[1] % S:
            raise InputError(f"{tokens.shape[1]} tokens is not a whole number of time steps of {S} tokens")
        z_q = self.quantizer.dequantize(tokens.long())  # (B, N/S, d_z)
        return self._from_trained(self.norms[hand].inverse(self.decoders[hand](z_q)), alias)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, hand: str) -> torch.Tensor:
        """detokenize(tokenize(x)): (B, T, J) -> (B, T, J) rad."""
        return self.detokenize(self.tokenize(x, hand), hand)

    @torch.no_grad()
    def translate(self, x: torch.Tensor, src: str, dst: str) -> torch.Tensor:
        """Eq. 6: x_hat_dst = D_dst(e_{Q(E_src(x))}), (B, T, J_src) rad -> (B, T, J_dst) rad."""
        self.resolve_hand(dst)
        return self.detokenize(self.tokenize(x, src), dst)

    def num_parameters(self, hand: str | None = None) -> int:
        mods = [self.encoders[hand], self.decoders[hand]] if hand else [self]
        return sum(p.numel() for m in mods for p in m.parameters())

    # ---- checkpoints (see checkpoint.py) -----------------------------------------------------------
    def save_pretrained(self, directory, extra: dict | None = None) -> None:
        """Write config.json + model.safetensors to `directory`."""
        from unihm_planner.tokenizer.checkpoint import save_pretrained

        save_pretrained(self, directory, extra=extra)

    @classmethod
    def from_pretrained(cls, directory, expect_joint_names: dict[str, Sequence[str]] | None = None,
                        map_location: str | torch.device = "cpu") -> HandTokenizer:
        """Load a checkpoint directory; `expect_joint_names` {hand: joints} must match the stored order."""
        from unihm_planner.tokenizer.checkpoint import load_pretrained

        return load_pretrained(directory, expect_joint_names=expect_joint_names, map_location=map_location)
