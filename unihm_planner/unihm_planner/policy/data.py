"""Policy training samples from an HOI dataset (docs/data-format.md) and a hand tokenizer.

One `PolicySample` per sequence: its instructions, the object's surface cloud (object frame), the object's
trajectory T_world_object, the reference hand's retargeted joints and the wrist, and the reference hand's motion
codes (hand-agnostic targets). Left-hand sequences are used through their mirrored right-hand retargeting: the
retargeted file stores the mirrored world (`mirrored`), and the object cloud is mirrored the same way (y -> -y).

Object-centric frame of the policy's inputs (`policy_frame_inputs`): the origin is the object's position at the
first frame, axes stay the world's (z up), so gravity and the table keep their meaning across scenes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from unihm_common.errors import ConfigError, InputError
from unihm_data import dataformat as fmt
from unihm_data.keypoints import mirror_object_cloud
from unihm_planner.policy.config import WRIST_FRAMES

__all__ = [
    "PolicySample",
    "check_codes_per_step",
    "init_pose_stats",
    "load_policy_samples",
    "policy_frame_inputs",
    "wrist_in_object_frame",
    "wrist_from_object_frame",
    "wrist_reference_poses",
    "pose_to_9d",
    "pose_from_9d",
    "resample_poses_9d",
    "init_pose_latent",
    "init_wrist_vector",
]

@dataclass
class PolicySample:
    """One training / evaluation example (arrays in SI units, world frame unless named otherwise)."""

    seq_id: str
    split: str
    instruction: str  # the first of `instructions`
    cloud_obj: np.ndarray  # (N, 3) float32 object surface points, object frame
    T_world_object: np.ndarray  # (T, 4, 4) the object's trajectory (the target T_tar)
    init_q: np.ndarray  # (J,) `hand`'s joints at frame 0
    hand: str  # the hand of init_q / q_ref (the reference hand for training)
    tokens: np.ndarray  # (M*S,) int64 motion codes of q_ref, time-major (M = T // frames_per_token, S stages)
    T_world_wrist: np.ndarray  # (T, 4, 4) wrist (hand root) poses
    q_ref: np.ndarray  # (T, J) `hand`'s joint trajectory
    instructions: tuple[str, ...] = field(default_factory=tuple)  # all annotations (5 per sequence)
    task: str = ""
    object_name: str = ""

    @property
    def num_frames(self) -> int:
        return len(self.T_world_object)


def pose_to_9d(T: np.ndarray) -> np.ndarray:
    """(..., 4, 4) -> (..., 9) [t, R[:, 0], R[:, 1]] (the policy's pose vector)."""
    return np.concatenate([T[..., :3, 3], T[..., :3, 0], T[..., :3, 1]], axis=-1)


def pose_from_9d(v: np.ndarray) -> np.ndarray:
    """(..., 9) -> (..., 4, 4), rotation by Gram-Schmidt on the two 3-vectors."""
    v = np.asarray(v, dtype=np.float64)
    a, b = v[..., 3:6], v[..., 6:9]
    x = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b - np.sum(x * b, axis=-1, keepdims=True) * x
    y = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    T = np.zeros(v.shape[:-1] + (4, 4))
    T[..., :3, 0], T[..., :3, 1], T[..., :3, 2], T[..., :3, 3], T[..., 3, 3] = x, y, z, v[..., :3], 1.0
    return T


def resample_poses_9d(T: np.ndarray, n: int) -> np.ndarray:
    """(T, 4, 4) -> (n, 9): pose vectors linearly resampled over the normalised time axis."""
    v = pose_to_9d(T)
    src = np.linspace(0.0, 1.0, len(v))
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, v[:, c]) for c in range(v.shape[1])], axis=1)


def policy_frame_inputs(cloud_world: np.ndarray, T_world_object: np.ndarray,
                        trajectory_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Object-centric inputs: cloud (N, 3) and T_tar as (trajectory_frames, 9), origin = object at frame 0."""
    origin = T_world_object[0, :3, 3]
    T = T_world_object.copy()
    T[:, :3, 3] -= origin
    return (cloud_world - origin).astype(np.float32), resample_poses_9d(T, trajectory_frames).astype(np.float32)


def wrist_in_object_frame(T_world_object: np.ndarray, T_world_wrist: np.ndarray) -> np.ndarray:
    """(T, 4, 4) each -> (T, 9): the wrist in the object's frame at every frame."""
    return pose_to_9d(np.linalg.inv(T_world_object) @ T_world_wrist)


def wrist_from_object_frame(T_world_object: np.ndarray, wrist_9d: np.ndarray) -> np.ndarray:
    """Inverse of `wrist_in_object_frame`: (T, 4, 4), (T, 9) -> T_world_wrist (T, 4, 4)."""
    return T_world_object @ pose_from_9d(wrist_9d)


def wrist_reference_poses(T_world_object: np.ndarray, wrist_frame: str = "path") -> np.ndarray:
    """The frames the wrist head's poses live in (`PolicyConfig.wrist_frame`) -> (T, 4, 4).

    "path": the object's pose at every frame (T_tar), so the hand follows the object's path. "first": the
    object's pose at frame 0 held for every frame, i.e. the object as observed now (the ablation "w/o trajectory
    input": a policy that never sees T_tar must not be given it through the wrist's frame either).
    """
    T = np.asarray(T_world_object, np.float64)
    if wrist_frame == "path":
        return T
    if wrist_frame == "first":
        return np.repeat(T[:1], len(T), axis=0)
    raise ConfigError(f"wrist_frame must be one of {list(WRIST_FRAMES)}, got {wrist_frame!r}")


def init_wrist_vector(T_world_object0: np.ndarray, T_world_wrist0: np.ndarray | None,
                      position_scale: float) -> np.ndarray:
    """The initial wrist for the init-pose token -> (10,) float32: [9-D pose in the object's frame at frame 0
    (positions x `position_scale`), 1]; all zeros when the wrist is unknown (None)."""
    out = np.zeros(10, np.float32)
    if T_world_wrist0 is None:
        return out
    T_w = np.asarray(T_world_wrist0, np.float64)
    if T_w.shape != (4, 4) or not np.isfinite(T_w).all():
        raise InputError(f"the initial wrist pose must be a finite 4x4 transform, got shape {T_w.shape}")
    v = pose_to_9d(np.linalg.inv(np.asarray(T_world_object0, np.float64)) @ T_w)
    v[:3] *= position_scale
    out[:9], out[9] = v, 1.0
    return out


def init_pose_stats(latents: np.ndarray) -> dict:
    """What the runner needs to tell a training-like initial hand pose from an unusual one: the mean of the
    training init-pose latents (N, d) and their largest distance from it (training.json keys)."""
    lat = np.asarray(latents, np.float64).reshape(len(latents), -1)
    mean = lat.mean(0)
    return {"init_pose_latent_mean": [round(float(x), 5) for x in mean],
            "init_pose_latent_max_distance": float(np.linalg.norm(lat - mean, axis=1).max())}


def check_codes_per_step(policy_config, tokenizer) -> None:
    """A policy emits `codes_per_step` codes per `downsample` frames: it only pairs with a hand tokenizer that
    codes each step with as many (`TokenizerConfig.residual_stages`)."""
    stages = getattr(tokenizer.config, "residual_stages", 1)
    if stages != policy_config.codes_per_step:
        raise ConfigError(f"the hand tokenizer codes each time step with {stages} codes (residual_stages={stages}), "
                          f"the policy with {policy_config.codes_per_step} (codes_per_step): pass the tokenizer the "
                          "policy was trained with")


def init_pose_latent(tokenizer, q0: np.ndarray, hand: str) -> np.ndarray:
    """E_h(Q_pos0): the hand encoder's latent of a chunk holding the initial pose -> (d_z,)."""
    ds = tokenizer.config.downsample
    x = torch.as_tensor(np.repeat(np.asarray(q0, np.float32)[None, None], ds, axis=1))  # (1, ds, J)
    with torch.no_grad():
        return tokenizer.encode(x, hand)[0, 0].float().numpy()


def load_policy_samples(hoi_root: str | Path, tokenizer, split: str | None, hand: str = "shadow_right",
                        limit: int | None = None) -> list[PolicySample]:
    """Samples of `split` ('train' / 'test' / None = all) whose `hand` retargeting exists.

    The codes are `tokenizer`'s for `hand`; frames are cropped to a multiple of its downsample.
    """
    root = Path(hoi_root)
    index = fmt.read_index(root)
    entries = [e for e in index.sequences if split is None or e.split == split]
    if not entries:
        raise InputError(f"{root}: no sequences in split {split!r}")
    ds = tokenizer.config.downsample
    clouds: dict[str, np.ndarray] = {}
    samples = []
    for e in entries[: limit or None]:
        try:
            ret = fmt.load_retargeted(root, hand, e.id)
        except InputError:
            continue  # not retargeted to this hand (yet)
        T = (len(ret["q"]) // ds) * ds
        if T < ds:
            continue
        if e.object not in clouds:
            clouds[e.object] = np.asarray(fmt.load_object_cloud(root, e.object)["points"], np.float32)
        cloud = clouds[e.object]
        if bool(ret.get("mirrored", False)):
            cloud = mirror_object_cloud(cloud)
        q = np.asarray(ret["q"][:T], np.float32)
        with torch.no_grad():
            tokens = tokenizer.tokenize(torch.as_tensor(q)[None], hand)[0].numpy().astype(np.int64)
        samples.append(PolicySample(
            seq_id=e.id, split=e.split, instruction=e.instructions[0], cloud_obj=cloud,
            T_world_object=np.asarray(ret["T_world_object"][:T], np.float64), init_q=q[0].copy(), hand=hand,
            tokens=tokens, T_world_wrist=np.asarray(ret["T_world_wrist"][:T], np.float64), q_ref=q,
            instructions=tuple(e.instructions), task=e.task, object_name=e.object))
    if not samples:
        raise InputError(f"{root}: no sequence of split {split!r} is retargeted to {hand!r} "
                         f"(run: unihm data retarget {root} --hands {hand})")
    return samples
