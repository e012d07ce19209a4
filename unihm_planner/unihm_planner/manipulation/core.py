"""The manipulation request's pure logic: validation, the stage sequence and its progress, result metrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import ConfigError, InputError

__all__ = ["STAGES", "ManipulationConfig", "ValidRequest", "validate_request", "progress", "trajectory_metrics",
           "execution_motion"]

STAGES: tuple[str, ...] = ("perception", "plan", "policy", "refine", "execute")
_WEIGHTS = {"perception": 0.15, "plan": 0.10, "policy": 0.25, "refine": 0.20, "execute": 0.30}
MAX_INSTRUCTION_CHARS = 500


@dataclass(frozen=True)
class ManipulationConfig:
    """Defaults and per-stage time limits of the manipulation node."""

    num_frames: int = 105  # trajectory length when the request says 0 (3.5 s at 30 Hz: the data's mean length)
    frame_rate_hz: float = 30.0  # when the request says 0
    max_frames: int = 400
    perception_timeout_s: float = 20.0
    plan_timeout_s: float = 20.0
    policy_timeout_s: float = 60.0
    refine_timeout_s: float = 60.0
    execute_timeout_s: float = 30.0  # beyond the trajectory's own duration
    execute_tolerance_rad: float = 0.05  # final tracking error that counts as executed
    # execution timing (unihm_common.trajectory_timing): the drivers first move to the first point for
    # execute_approach_s, then each segment is slowed to the wrist speed/rate limits and to this fraction of
    # the hand's joint velocity limits (generated motion is human-speed, 30 frames/s)
    execute_approach_s: float = 2.0
    execute_wrist_speed_m_s: float = 0.3
    execute_wrist_rate_rad_s: float = 1.5
    execute_joint_speed_scale: float = 0.8
    # an executed goal on an arm first sends the arm home (its driver's go_home) and waits until it has settled
    home_before_execute: bool = True
    home_timeout_s: float = 20.0  # beyond the move's own duration
    complete_shape: bool = True  # ask perception for shape completion
    world_frame: str = "world"

    def __post_init__(self) -> None:
        if not 2 <= self.num_frames <= self.max_frames:
            raise ConfigError(f"num_frames must be in [2, max_frames={self.max_frames}], got {self.num_frames}")
        if not self.frame_rate_hz > 0:
            raise ConfigError(f"frame_rate_hz must be > 0, got {self.frame_rate_hz}")
        for name in ("perception_timeout_s", "plan_timeout_s", "policy_timeout_s", "refine_timeout_s",
                     "execute_timeout_s", "home_timeout_s", "execute_tolerance_rad", "execute_wrist_speed_m_s",
                     "execute_wrist_rate_rad_s", "execute_joint_speed_scale"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.execute_approach_s >= 0:
            raise ConfigError(f"execute_approach_s must be >= 0, got {self.execute_approach_s}")

    def timeout(self, stage: str) -> float:
        return float(getattr(self, f"{stage}_timeout_s"))


@dataclass(frozen=True)
class ValidRequest:
    instruction: str
    hand: str  # canonical registry name
    num_frames: int
    frame_rate_hz: float
    execute: bool
    refine: bool
    seed: int


def validate_request(instruction: str, hand: str, num_frames: int, frame_rate_hz: float, execute: bool,
                     refine: bool, seed: int, cfg: ManipulationConfig, hands: list[str] | None = None) -> ValidRequest:
    """Check a request before any stage runs; `hands` = the hands this graph drives (None: any in the registry)."""
    from unihm_common.hands.registry import resolve_hand_name

    text = (instruction or "").strip()
    if not text:
        raise InputError("the instruction is empty")
    if len(text) > MAX_INSTRUCTION_CHARS:
        raise InputError(f"the instruction has {len(text)} characters (at most {MAX_INSTRUCTION_CHARS})")
    if not hand:
        raise InputError("no hand given" + (f"; this graph drives: {', '.join(hands)}" if hands else ""))
    canonical = resolve_hand_name(hand)  # UnknownHandError lists the registry
    if hands is not None and canonical not in hands:
        raise InputError(f"hand {hand!r} is not driven by this graph; it drives: {', '.join(hands) or '(none)'}")
    n = int(num_frames) or cfg.num_frames
    if not 2 <= n <= cfg.max_frames:
        raise InputError(f"num_frames must be in [2, {cfg.max_frames}], got {num_frames}")
    rate = float(frame_rate_hz) or cfg.frame_rate_hz
    if not (np.isfinite(rate) and 1.0 <= rate <= 1000.0):
        raise InputError(f"frame_rate_hz must be in [1, 1000], got {frame_rate_hz}")
    return ValidRequest(text, canonical, n, rate, bool(execute), bool(refine), int(seed))


def progress(stage: str, fraction: float, execute: bool, refine: bool = True) -> float:
    """Overall progress in [0, 1] at `fraction` of `stage` (skipped stages carry no weight)."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    active = [s for s in STAGES if (s != "execute" or execute) and (s != "refine" or refine)]
    total = sum(_WEIGHTS[s] for s in active)
    done = sum(_WEIGHTS[s] for s in active[: active.index(stage)]) if stage in active else 0.0
    return float(min(1.0, (done + _WEIGHTS[stage] * min(max(fraction, 0.0), 1.0)) / total))


def trajectory_metrics(hand: str, q: np.ndarray, T_world_wrist: np.ndarray, t_s: np.ndarray,
                       cloud_world: np.ndarray, T_world_object: np.ndarray, contact_band_m: float = 0.005) -> dict:
    """Contact ratio, max penetration (mm) and mean |jerk| (rad/s^3) of a trajectory against the object.

    `cloud_world` is the object at the first pose of `T_world_object` (the perception output).
    """
    from unihm_common.hands import load_hand
    from unihm_refiner.contact import ObjectCloud
    from unihm_refiner.summary import summarize_contacts

    q = np.asarray(q, float)
    t_s = np.asarray(t_s, float)
    if len(q) < 2 or len(t_s) != len(q):
        raise InputError(f"need >= 2 frames with times, got q {q.shape}, t {t_s.shape}")
    h = load_hand(hand)
    T0_inv = np.linalg.inv(T_world_object[0])
    pts = np.asarray(cloud_world, float)[:, :3] @ T0_inv[:3, :3].T + T0_inv[:3, 3]
    summary = summarize_contacts(h.fingertip_positions(q), T_world_wrist, T_world_object, ObjectCloud(pts, None), q,
                                 t_s, contact_band_m)
    jerk = 0.0
    if len(q) >= 4:
        dt = float(np.median(np.diff(t_s)))
        jerk = float(np.abs(np.diff(q, n=3, axis=0)).mean() / dt**3)
    return {"contact_ratio": float(summary.contact_ratio), "max_penetration_mm": float(summary.max_penetration_mm),
            "mean_jerk_rad_s3": jerk}


def execution_motion(motion, cfg: ManipulationConfig):
    """The timing the drivers get: `motion` (a refined HandMotion at the generated rate) slowed per segment to
    the configured wrist and joint speed limits, starting `execute_approach_s` after its stamp."""
    from unihm_common.hands import load_hand_spec
    from unihm_common.trajectory_timing import SpeedLimits, retime, with_approach

    spec = load_hand_spec(motion.hand)
    vmax = dict(zip(spec.joint_names, np.asarray(spec.velocity_limit_rad_s, dtype=float)))
    missing = [n for n in motion.joint_names if n not in vmax]
    if missing:
        raise InputError(f"{motion.hand}: no velocity limit for joints {missing}")
    limits = SpeedLimits(cfg.execute_wrist_speed_m_s, cfg.execute_wrist_rate_rad_s, cfg.execute_joint_speed_scale)
    timed = retime(motion, np.array([vmax[n] for n in motion.joint_names]), limits)
    return with_approach(timed, cfg.execute_approach_s)
