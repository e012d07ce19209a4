"""`PolicyRunner`: instruction + object cloud + target path + hand -> motion codes -> that hand's trajectory.

The same generated codes decode to any hand the hand tokenizer knows (Eq. 9); the wrist comes from the policy's
wrist head in the object's frame, mapped to the world with T_tar (the ablation "w/o trajectory input": with the
object's first pose only, `wrist_reference_poses`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from unihm_common.errors import ConfigError, InputError, MissingDependencyError
from unihm_planner.policy.data import (
    check_codes_per_step,
    init_pose_latent,
    init_wrist_vector,
    policy_frame_inputs,
    wrist_from_object_frame,
    wrist_reference_poses,
)

__all__ = ["GeneratedMotion", "PolicyRunner", "default_policy_dir"]


START_MARGIN = 1.1  # x the farthest training start (training.json init_wrist_max_distance_m)


def default_policy_dir() -> Path:
    """The shipped default policy checkpoint folder."""
    return Path(__file__).resolve().parent.parent / "checkpoints" / "policy"


@dataclass
class GeneratedMotion:
    tokens: np.ndarray  # (M*S,) hand-agnostic motion codes, time-major (S per step with a residual tokenizer)
    q: np.ndarray  # (T, J) joints of `hand`, clamped to its limits
    T_world_wrist: np.ndarray  # (T, 4, 4)
    hand: str
    joint_names: tuple[str, ...]
    frames_per_token: int
    timings_ms: dict[str, float] = field(default_factory=dict)
    start_note: str = ""  # how a given initial wrist was changed before use (empty: used as given, or none given)


class PolicyRunner:
    """A loaded policy + hand tokenizer pair, checked to share one codebook."""

    def __init__(self, policy, tokenizer, training: dict, num_points: int = 512, trajectory_frames: int = 32,
                 wrist_smoothing_frames: int = 9):
        check_codes_per_step(policy.config, tokenizer)
        self.policy, self.tokenizer, self.training = policy.eval(), tokenizer.eval(), training
        self.num_points, self.trajectory_frames = num_points, trajectory_frames
        self.wrist_smoothing_frames = wrist_smoothing_frames  # centred moving average of the wrist head's output
        self.mask_inputs = bool(training.get("inference_mask_inputs", True))
        self.position_scale = float(training.get("position_scale", 10.0))
        # a start farther from the object than any training start (+ START_MARGIN) is replaced by the nearest one
        self.init_wrist_max_m = float(training.get("init_wrist_max_distance_m", float("inf"))) * START_MARGIN
        self.train_starts = np.asarray(training.get("init_wrist_starts", []), np.float32).reshape(-1, 9)
        # an initial hand pose whose latent is farther from the training mean than any training start's
        # (x START_MARGIN, + the rounding of the stored mean) is replaced by the mean (no keys: no check)
        mean = training.get("init_pose_latent_mean")
        self.init_pose_mean = None if mean is None else np.asarray(mean, np.float32)
        self.init_pose_max = float(training.get("init_pose_latent_max_distance", float("inf"))) * START_MARGIN + 1e-3
        self.ds = tokenizer.config.downsample
        self.codes_per_step = policy.config.codes_per_step
        self.parallel = True  # masked inputs: every position in one forward pass (False: the KV-cache loop)
        if policy.config.frames_per_token != self.ds:
            raise ConfigError(f"policy frames_per_token {policy.config.frames_per_token} != tokenizer downsample "
                              f"{self.ds}")

    @classmethod
    def from_pretrained(cls, policy_dir: str | Path | None = None, tokenizer_dir: str | Path | None = None,
                        map_location: str = "cpu") -> PolicyRunner:
        from unihm_planner.policy.model import MotionPolicy
        from unihm_planner.policy.train import TRAINING_FILE, codebook_id
        from unihm_planner.tokenizer.model import HandTokenizer
        from unihm_planner.tokenizer.paths import default_checkpoint_dir

        policy_dir = Path(policy_dir) if policy_dir is not None else default_policy_dir()
        if not (policy_dir / "config.json").is_file():
            raise MissingDependencyError(
                f"no policy checkpoint in {policy_dir}; train one with `unihm policy train --data DIR --out "
                f"{policy_dir}` (docs/policy.md) or pass --policy DIR")
        tok_dir = Path(tokenizer_dir) if tokenizer_dir is not None else default_checkpoint_dir()
        if not (tok_dir / "config.json").is_file():
            raise MissingDependencyError(f"no hand tokenizer checkpoint in {tok_dir} (docs/tokenizer.md)")
        policy = MotionPolicy.from_pretrained(policy_dir, map_location=map_location)
        tokenizer = HandTokenizer.from_pretrained(tok_dir, map_location=map_location)
        training = json.loads((policy_dir / TRAINING_FILE).read_text()) if (policy_dir / TRAINING_FILE).is_file() \
            else {}
        want = training.get("codebook_id")
        if want is not None and want != codebook_id(tokenizer):
            raise ConfigError(f"the policy in {policy_dir} was trained on codebook {want}, but the hand tokenizer in "
                              f"{tok_dir} has codebook {codebook_id(tokenizer)}: pass the matching --tokenizer")
        train = training.get("train", {})
        return cls(policy, tokenizer, training, num_points=int(train.get("num_points", 512)),
                   trajectory_frames=int(train.get("trajectory_frames", 32)))

    @property
    def hands(self) -> list[str]:
        """Hands the generated codes decode to (trained hands and their aliases)."""
        return list(self.tokenizer.all_hands)

    def joint_names(self, hand: str) -> tuple[str, ...]:
        return tuple(self.tokenizer.hand_joint_names(hand))

    def _rest_pose(self, hand: str, names: tuple[str, ...]) -> np.ndarray:
        from unihm_common.hands import load_hand_spec

        spec = load_hand_spec(hand)
        lower, upper = _limits(spec, names)
        return np.clip(np.zeros(len(names)), lower, upper)

    @torch.no_grad()
    def generate(self, instruction: str, cloud_world: np.ndarray, T_world_object: np.ndarray, hand: str,
                 init_q: np.ndarray | None = None, seed: int = 0, temperature: float = 1.0,
                 top_k: int | None = 50, on_token=None, init_wrist: np.ndarray | None = None,
                 stage_start: bool = False) -> GeneratedMotion:
        """One trajectory of len(T_world_object) frames for `hand`; seed 0 = greedy decoding.

        `init_q`: the hand's current joints; one unlike every training start (its latent beyond the training
        spread) is replaced by the typical training start, and `start_note` says so: the generated motion then
        starts from that pose and the driver moves the hand there first.
        `init_wrist`: the hand's current root pose T_world_wrist (4, 4), when known (an arm's forward kinematics,
        a tracked hand). A policy trained with `init_wrist` starts its approach from there; without it the policy
        falls back to its "unknown start" behaviour. Policies trained without that input ignore it.
        `stage_start`: plan from the training start nearest to `init_wrist` in direction and orientation (a
        staging pose the policy knows; the arm moves the hand there first) instead of from `init_wrist` itself.

        `on_token(done, total)` is called after every generated token (progress feedback).
        """
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        if not isinstance(instruction, str) or not instruction.strip():
            raise InputError("the instruction is empty")
        from unihm_common.hands.registry import resolve_hand_name

        hand = resolve_hand_name(hand)  # registry aliases ("inspire" -> "inspire_right"); unknown -> clear error
        names = self.joint_names(hand)  # a hand the tokenizer lacks -> UnknownHandError naming the known ones
        cloud_world = np.asarray(cloud_world, dtype=np.float64)
        if cloud_world.ndim != 2 or cloud_world.shape[1] < 3:
            raise InputError(f"the object cloud must be (N, 3), got shape {cloud_world.shape}")
        cloud_world = cloud_world[:, :3]
        cloud_world = cloud_world[np.isfinite(cloud_world).all(axis=1)]
        need = self.policy.config.min_cloud_points
        if len(cloud_world) < need:
            raise InputError(f"the object cloud has {len(cloud_world)} finite points, the policy needs >= {need}")
        T_world_object = np.asarray(T_world_object, dtype=np.float64)
        if T_world_object.ndim != 3 or T_world_object.shape[1:] != (4, 4) or not np.isfinite(T_world_object).all():
            raise InputError(f"the target path must be finite (T, 4, 4) poses, got shape {T_world_object.shape}")
        T = len(T_world_object)
        if T < self.ds:
            raise InputError(f"the target path has {T} poses, the policy needs >= {self.ds}")
        M = -(-T // self.ds)  # time steps
        S = self.codes_per_step
        longest = self.policy.config.max_motion_tokens // S * self.ds
        if M * S > self.policy.config.max_motion_tokens:
            raise InputError(f"the target path has {T} poses (> {longest}, the longest trajectory this policy "
                             "generates); resample it")
        unknown_q = init_q is None
        if unknown_q:
            init_q = self._rest_pose(hand, names)
        init_q = np.asarray(init_q, dtype=np.float32).reshape(-1)
        if init_q.shape != (len(names),) or not np.isfinite(init_q).all():
            raise InputError(f"initial joints for {hand!r} must be {len(names)} finite values, got {init_q.shape}")
        rng = np.random.default_rng(seed)
        idx = rng.choice(len(cloud_world), self.num_points, replace=len(cloud_world) < self.num_points)
        cloud, traj = policy_frame_inputs(cloud_world[idx], T_world_object, self.trajectory_frames)
        latent = init_pose_latent(self.tokenizer, init_q, hand)
        notes = []
        if self.init_pose_mean is not None and self.init_pose_mean.shape == latent.shape:
            far = 0.0 if unknown_q else float(np.linalg.norm(latent - self.init_pose_mean))
            if unknown_q:  # no joints given: the typical training start, not the hand's zero pose
                latent = self.init_pose_mean.copy()
            elif far > self.init_pose_max:
                latent = self.init_pose_mean.copy()
                notes.append(f"the hand's initial pose is unlike every training start (latent distance {far:.1f} > "
                             f"{self.init_pose_max:.1f}): it plans from the typical training start pose")
        wrist0 = init_wrist_vector(T_world_object[0], init_wrist, self.position_scale)  # validates when given
        start_note = ""
        if init_wrist is not None and self.policy.config.init_wrist:
            dist = float(np.linalg.norm(wrist0[:3])) / self.position_scale
            if stage_start and len(self.train_starts):
                wrist0[:9] = nearest_start(self.train_starts, wrist0[:9])
                staged = float(np.linalg.norm(wrist0[:3])) / self.position_scale
                notes.append(f"the wrist is {dist:.2f} m from the object: it plans from the staging pose "
                             f"{staged:.2f} m away (the training start nearest in direction and orientation)")
                dist = staged
            if dist > self.init_wrist_max_m:  # out of the training range
                start_note = f"the wrist is {dist:.2f} m from the object, beyond the {self.init_wrist_max_m:.2f} m " \
                             "the policy was trained for: "
                if len(self.train_starts):
                    wrist0[:9] = nearest_start(self.train_starts, wrist0[:9])
                    start_note += (f"it plans from the training start nearest in direction and orientation "
                                   f"({np.linalg.norm(wrist0[:3]) / self.position_scale:.2f} m from the object)")
                else:
                    wrist0[:] = 0.0
                    start_note += "it plans without it"
        if start_note:
            notes.append(start_note)
        start_note = "; ".join(notes)
        if self.policy.config.init_wrist:
            latent = np.concatenate([latent, wrist0])
        text_ids, text_mask = self.policy.encode_text([instruction])
        timings["prepare"] = (time.perf_counter() - t0) * 1e3
        t1 = time.perf_counter()
        codes, wrist = self.policy.generate(
            text_ids, torch.as_tensor(cloud)[None], torch.as_tensor(traj)[None], torch.as_tensor(latent)[None],
            text_mask=text_mask, max_tokens=M * S, temperature=0.0 if seed == 0 else temperature,
            top_k=top_k, seed=None if seed == 0 else seed, mask_inputs=self.mask_inputs, force_length=True,
            return_wrist=True, parallel=self.parallel,
            on_token=None if on_token is None else (lambda t: on_token(t, M * S)))
        timings["generate"] = (time.perf_counter() - t1) * 1e3
        t2 = time.perf_counter()
        q = self.tokenizer.detokenize(codes[:, : M * S], hand)[0, :T].float().numpy().astype(np.float64)  # (T, J)
        from unihm_common.hands import load_hand_spec

        lower, upper = _limits(load_hand_spec(hand), names)
        q = np.clip(q, lower, upper)
        w = wrist[0, :M].reshape(M * self.ds, -1)[:T].float().numpy().astype(np.float64)  # (T, 9)
        w[:, :3] /= self.position_scale
        w = smooth_rows(w, self.wrist_smoothing_frames)  # the head predicts each token's frames independently
        frames = wrist_reference_poses(T_world_object, self.policy.config.wrist_frame)
        T_world_wrist = wrist_from_object_frame(frames, w)
        timings["decode"] = (time.perf_counter() - t2) * 1e3
        timings["total"] = (time.perf_counter() - t0) * 1e3
        return GeneratedMotion(tokens=codes[0, : M * S].numpy().astype(np.int64), q=q, T_world_wrist=T_world_wrist,
                               hand=hand, joint_names=names, frames_per_token=self.ds, timings_ms=timings,
                               start_note=start_note)


def nearest_start(starts: np.ndarray, start: np.ndarray, rotation_weight: float = 0.5) -> np.ndarray:
    """The training start (N, 9) closest to `start` (9,) by the angle between their directions from the object
    plus `rotation_weight` x the angle between their orientations (all in the object's frame)."""
    from unihm_planner.policy.data import pose_from_9d

    def unit(v: np.ndarray) -> np.ndarray:
        return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

    dir_angle = np.arccos(np.clip(unit(starts[:, :3]) @ unit(start[:3]), -1.0, 1.0))  # (N,)
    R, R0 = pose_from_9d(starts)[:, :3, :3], pose_from_9d(start)[:3, :3]
    cos = (np.einsum("nij,ij->n", R, R0) - 1.0) / 2.0  # trace(R^T R0) = sum of elementwise products
    rot_angle = np.arccos(np.clip(cos, -1.0, 1.0))
    return starts[int(np.argmin(dir_angle + rotation_weight * rot_angle))].astype(np.float32)


def _limits(spec, names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Lower/upper limits of `names` from a HandSpec."""
    order = list(spec.joint_names)
    lo, hi = np.asarray(spec.lower_rad, float), np.asarray(spec.upper_rad, float)
    idx = [order.index(n) for n in names]
    return lo[idx], hi[idx]


def smooth_rows(x: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average over axis 0 (edges use the shrunken window); window <= 1 returns x.

    Applied to the 9-D wrist vectors in the object's frame (rotation re-orthonormalised afterwards by
    `pose_from_9d`): the wrist head predicts each token's frames separately, and its raw output jumps between
    tokens by up to ~10 cm / 70 deg on unseen scenes, which an arm cannot (and must not) follow.
    """
    if window <= 1 or len(x) < 2:
        return x
    half = window // 2
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), x]), axis=0)
    lo = np.clip(np.arange(len(x)) - half, 0, len(x))
    hi = np.clip(np.arange(len(x)) + half + 1, 0, len(x))
    return (c[hi] - c[lo]) / (hi - lo)[:, None]
