"""Synthetic human hand-object interactions (`unihm data synth`).

A sequence: the hand starts relaxed 20-30 cm from the object, approaches along a min-jerk path while
pre-shaping, slides in until the open hand is a few mm from the object, closes each finger until it
touches (grasp.py), moves the object along a task trajectory (grab, pick_place, push, pull, open,
close, handover) holding the grasp fixed in the object frame, releases and retreats. All motion is
min-jerk; the hand is the hand library's MANO chain driven by 20 joint angles.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from unihm_common.errors import ConfigError, InputError
from unihm_data import dataformat as fmt
from unihm_data.grasp import close_fingers, finger_contacts, hand_spheres, place_hand, to_world
from unihm_data.human_hand import HumanHand
from unihm_data.keypoints import mirror_object_transforms, mirror_points, mirror_wrist_transforms
from unihm_data.language import describe_goal, template_instructions
from unihm_data.motion import blend_segment, min_jerk, pose_segment, rot, transform
from unihm_data.objects import (
    OBJECT_NAMES,
    HOIObject,
    make_object,
    parse_object_name,
    size_word,
    split_objects,
    variant_name,
)

TASK_WEIGHTS = {"grab": 0.2, "pick_place": 0.25, "push": 0.1, "pull": 0.1, "open": 0.075, "close": 0.075,
                "handover": 0.2}
THUMB_OPEN = np.array([-0.3, -0.2, 0.05, 0.05])
THUMB_CLOSED = np.array([0.6, -0.05, 0.5, 1.2])  # opposition: tip sweeps towards the palm centre
FINGER_CLOSED = np.array([0.0, 1.45, 1.6, 1.2])  # abd, mcp, pip, dip
Q_REST = np.concatenate([[0.15, 0.15, 0.2, 0.2], np.tile([0.0, 0.35, 0.45, 0.25], 4)])


@dataclass(frozen=True)
class SynthConfig:
    """Synthetic dataset settings (all defaults reproduce `unihm data synth`)."""

    fps: float = 30.0  # frame rate of every sequence (DexYCB and OakInk record at 30 fps)
    min_frames: int = 60
    max_frames: int = 120
    points_per_object: int = 2048  # surface samples stored in objects/<name>.npz
    test_fraction: float = 0.2  # share of objects held out as unseen (paper §4.1: 80/20)
    left_fraction: float = 0.25  # share of left-hand sequences (mirrored)
    objects: tuple[str, ...] = OBJECT_NAMES
    tasks: tuple[str, ...] = tuple(TASK_WEIGHTS)
    # size variants of every rigid TRAIN object (uniform scales, e.g. [0.8, 1.25]): more shapes to learn from,
    # while the unseen (test) objects stay as they are; () = none
    train_object_scales: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.min_frames <= self.max_frames:
            raise ValueError(f"need 0 < min_frames <= max_frames, got {self.min_frames}, {self.max_frames}")
        unknown = [o for o in self.objects if not _known_object(o)]
        if unknown:
            raise ValueError(f"unknown objects {unknown}; known: {', '.join(OBJECT_NAMES)}")
        bad = [t for t in self.tasks if t not in TASK_WEIGHTS]
        if bad:
            raise ValueError(f"unknown tasks {bad}; known: {', '.join(TASK_WEIGHTS)}")
        if any(not 0.1 <= sc <= 9.99 or sc == 1.0 for sc in self.train_object_scales):
            raise ValueError(f"train_object_scales must be in [0.1, 9.99] and != 1, got {self.train_object_scales}")
        if not 0.0 <= self.test_fraction < 1.0 or not 0.0 <= self.left_fraction <= 1.0:
            raise ValueError("test_fraction must be in [0,1) and left_fraction in [0,1]")


def _known_object(name: str) -> bool:
    """A catalog object or one of its size variants (NAME_xPCT)."""
    try:
        parse_object_name(name)
    except InputError:
        return False
    return True


@lru_cache(maxsize=2)
def _hand(side: str) -> HumanHand:
    return HumanHand(side)


def _scene_sdf(obj: HOIObject, T_world_obj: np.ndarray, table: bool = True):
    Tinv = np.linalg.inv(T_world_obj)

    def sdf(p: np.ndarray) -> np.ndarray:
        d = obj.sdf(p @ Tinv[:3, :3].T + Tinv[:3, 3])
        return np.minimum(d, p[:, 2]) if table else d

    return sdf


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _frame_from(y_axis: np.ndarray, x_hint: np.ndarray) -> np.ndarray:
    """Rotation with +y = y_axis (palm faces -y) and +x as close as possible to x_hint."""
    y = _unit(y_axis)
    x = _unit(x_hint - np.dot(x_hint, y) * y)
    return np.stack([x, y, np.cross(x, y)], axis=1)


def _choose_grasp(obj: HOIObject, T_obj: np.ndarray, task: str, rng: np.random.Generator, force_top: bool = False):
    """Approach direction d (world, towards the object), wrist rotation, target point (world)."""
    R_o, c = T_obj[:3, :3], T_obj[:3, 3]
    ext = obj.extents()
    if obj.articulation != "none":
        handle = obj.parts[1].pose[:3, 3]
        d = R_o[:, 0]
        x_hint = -R_o[:, 1] if obj.articulation == "drawer" else R_o[:, 2]
        R = _frame_from(-d, x_hint) @ rot([0, 0, 1], rng.uniform(-0.15, 0.15))
        return d, R, to_world(T_obj, handle[None])[0], np.array([0.0, -0.02, 0.085])
    top = force_top or task != "push" and (ext[2] < 0.07 or obj.shape_class in ("capsule", "tool") or
                              (rng.random() < 0.3 and ext[2] < 0.22))
    if top:
        tilt = rng.uniform(0.15, 0.6) if ext[2] < 0.04 else rng.uniform(0, 0.35)
        az = rng.uniform(-np.pi, np.pi)
        d = _unit(np.array([np.sin(tilt) * np.cos(az), np.sin(tilt) * np.sin(az), -np.cos(tilt)]))
        long_axis = R_o[:, int(np.argmax(ext[:2]))] * rng.choice([-1.0, 1.0])
        R = _frame_from(-d, long_axis)
        target = c + np.array([0, 0, 0.2 * ext[2]])
    else:
        cands = [R_o[:, 1], -R_o[:, 1]] if obj.shape_class == "mug" else [R_o[:, 0], -R_o[:, 0], R_o[:, 1], -R_o[:, 1]]
        toward = np.array([1.0, rng.uniform(-0.6, 0.6), 0.0])  # the person stands at -x
        d_h = max(cands, key=lambda v: float(np.dot(v, toward)))
        d_h = rot([0, 0, 1], rng.uniform(-0.45, 0.45)) @ d_h
        d_h[2] = 0.0
        tilt = rng.uniform(0.0, 0.35)
        d = _unit(_unit(d_h) * np.cos(tilt) - np.array([0, 0, np.sin(tilt)]))
        R = _frame_from(-d, np.array([0.0, 0.0, 1.0])) @ rot([0, 1, 0], rng.uniform(-0.3, 0.3))
        target = c + np.array([0, 0, rng.uniform(-0.15, 0.25) * ext[2]])
    grasp_point = np.array([rng.uniform(-0.01, 0.01), -0.02, rng.uniform(0.06, 0.085)])
    if min(ext) < 0.035 or max(ext) < 0.08:  # small or thin: precision grasp between the finger pads
        grasp_point = np.array([rng.uniform(0.0, 0.015), -0.04, rng.uniform(0.095, 0.11)])
    return d, R, target, grasp_point


def _object_motion(obj: HOIObject, T0: np.ndarray, task: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,4,4) object poses during manipulation, starting after T0."""
    up = np.array([0.0, 0.0, 1.0])
    if task in ("grab", "handover", "pick_place"):
        lift = transform(T0[:3, :3], T0[:3, 3] + up * rng.uniform(0.08, 0.18))
        if task == "grab":
            return np.concatenate([pose_segment(T0, lift, n - n // 4), np.repeat(lift[None], n // 4, 0)])
        if task == "handover":
            goal = transform(rot(up, rng.uniform(-0.6, 0.6)) @ T0[:3, :3],
                             T0[:3, 3] + np.array([rng.uniform(0.05, 0.2), rng.choice([-1, 1]) * rng.uniform(0.1, 0.25),
                                                   rng.uniform(0.15, 0.3)]))
            n1 = n // 3
            return np.concatenate([pose_segment(T0, lift, n1), pose_segment(lift, goal, n - n1)])
        step = rng.uniform(0.15, 0.3) * _unit(np.array([rng.uniform(-0.5, 1.0), rng.uniform(-1, 1), 0.0]))
        place = transform(rot(up, rng.uniform(-0.8, 0.8)) @ T0[:3, :3], T0[:3, 3] + step)
        carry = transform(place[:3, :3], place[:3, 3] + up * (lift[2, 3] - T0[2, 3]))
        n1, n3 = n // 4, n // 4
        return np.concatenate([pose_segment(T0, lift, n1), pose_segment(lift, carry, n - n1 - n3),
                               pose_segment(carry, place, n3)])
    if task in ("push", "pull"):
        d = rng.uniform(0.1, 0.2) * _unit(np.array([1.0 if task == "push" else -1.0, rng.uniform(-0.4, 0.4), 0.0]))
        end = transform(rot(up, rng.uniform(-0.3, 0.3)) @ T0[:3, :3], T0[:3, 3] + d)
        return pose_segment(T0, end, n)
    # open / close: drawer slides along its -x axis, door swings about its hinge edge
    sign = 1.0 if task == "open" else -1.0
    if obj.articulation == "drawer":
        end = transform(T0[:3, :3], T0[:3, 3] - sign * rng.uniform(0.1, 0.18) * T0[:3, 0])
        return pose_segment(T0, end, n)
    hinge = to_world(T0, np.array([[0.0, -0.5 * obj.extents()[1], 0.0]]))[0]
    angle = sign * rng.uniform(0.5, 1.2)
    s = np.arange(1, n + 1) / n
    out = []
    for a in angle * min_jerk(s):
        Rz = rot(T0[:3, 2], -a)
        out.append(transform(Rz @ T0[:3, :3], hinge + Rz @ (T0[:3, 3] - hinge)))
    return np.array(out)


def _initial_object_pose(obj: HOIObject, task: str, rng: np.random.Generator) -> np.ndarray:
    ext = obj.extents()
    # articulated objects: the front (-x of the object, where the handle is) faces the person at -x
    yaw = rng.uniform(-np.pi, np.pi) if obj.articulation == "none" else rng.uniform(-0.3, 0.3)
    pos = np.array([rng.uniform(0.35, 0.6), rng.uniform(-0.2, 0.2), ext[2] / 2])
    if obj.articulation != "none":  # mounted in furniture (not modelled) above the table top
        pos[2] += rng.uniform(0.12, 0.3)
    T0 = transform(rot([0, 0, 1], yaw), pos)
    if task == "close" and obj.articulation != "none":  # start from the opened state
        T0 = _object_motion(obj, T0, "open", 2, rng)[-1]
    return T0


def _durations(rng: np.random.Generator, cfg: SynthConfig, release: bool) -> list[int]:
    fps = cfg.fps
    secs = [rng.uniform(0.1, 0.25), rng.uniform(0.6, 1.0), rng.uniform(0.25, 0.4), rng.uniform(0.25, 0.35),
            rng.uniform(0.9, 1.6), rng.uniform(0.25, 0.35) if release else 0.0,
            rng.uniform(0.3, 0.45) if release else rng.uniform(0.1, 0.3)]
    n = np.maximum(np.round(np.array(secs) * fps).astype(int), [1, 4, 3, 3, 8, 0, 2])
    if not release:
        n[5] = 0
    total = n.sum()
    target = int(np.clip(total, cfg.min_frames, cfg.max_frames))
    if total != target:
        scaled = np.maximum(np.round(n * target / total).astype(int), [1, 4, 3, 3, 8, 0, 2] if release else
                            [1, 4, 3, 3, 8, 0, 2])
        if not release:
            scaled[5] = 0
        scaled[4] += target - scaled.sum()
        n = scaled
    return [int(v) for v in n]


MAX_PENETRATION_M = 0.0015  # a sequence is redrawn if any hand sphere sinks deeper into the object


def generate_sequence(seq_id: str, seed: int, obj_name: str, task: str, side: str,
                      cfg: SynthConfig = SynthConfig(), attempts: int = 8) -> tuple[fmt.SequenceData, bool]:
    """One synthetic sequence (deterministic in `seed`). Built as a right hand, mirrored for `side="left"`.

    Approach paths are not planned around the object, so a draw whose hand penetrates the object by more
    than MAX_PENETRATION_M in any frame, or that does not hold the object (MIN_FINGERS_HOLDING), is
    redrawn (same object and task, next sub-seed). Returns the sequence and whether it is valid.
    """
    best = None
    for k in range(attempts):
        seq, depth, held = _generate(seq_id, seed + 1_000_003 * k, obj_name, task, side, cfg, force_top=k >= 3)
        score = depth + (0.0 if held else 1.0)
        if score <= MAX_PENETRATION_M:
            return seq, True
        if best is None or score < best[1]:
            best = (seq, score)
    return best[0], False


def penetration_depth(seq: fmt.SequenceData, obj: HOIObject) -> float:
    """Deepest penetration (m, >= 0) of any hand sphere into the object over the sequence."""
    worst = 0.0
    for t in range(seq.num_frames):
        sdf = _scene_sdf(obj, seq.T_world_object[t], table=False)
        sph = hand_spheres(seq.mano_joints[t], seq.side)
        worst = max(worst, float(np.max(sph.radii - sdf(sph.centres))))
    return max(worst, 0.0)


MIN_FINGERS_HOLDING = 2  # fingers in contact in every carrying frame of a grasping task


def _generate(seq_id: str, seed: int, obj_name: str, task: str, side: str, cfg: SynthConfig,
              force_top: bool = False) -> tuple[fmt.SequenceData, float, bool]:
    rng = np.random.default_rng(seed)
    hand = _hand("right")
    obj = make_object(obj_name)
    T0 = _initial_object_pose(obj, task, rng)
    d, R_grasp, target, grasp_point = _choose_grasp(obj, T0, task, rng, force_top)

    q_open = np.concatenate([THUMB_OPEN + rng.normal(0, 0.05, 4)] + [
        np.array([a, rng.uniform(-0.1, 0.15), rng.uniform(0.05, 0.2), rng.uniform(0.05, 0.15)])
        for a in rng.uniform(0.5, 1.0) * np.array([0.15, 0.0, -0.1, -0.2])])
    q_closed = np.concatenate([THUMB_CLOSED, np.tile(FINGER_CLOSED, 4)])
    if task == "push":
        q_closed = q_open + 0.45 * (q_closed - q_open)
    q_open = np.clip(q_open, hand.lower, hand.upper)
    scene = _scene_sdf(obj, T0)
    T_grasp = place_hand(hand, q_open, R_grasp, target, grasp_point, d, scene, margin_m=rng.uniform(0.002, 0.008))
    q_grasp, q_mid = close_fingers(hand, q_open, q_closed, T_grasp, scene)

    release = task != "grab"
    n_wait, n_app, n_reach, n_close, n_manip, n_rel, n_ret = _durations(rng, cfg, release)
    back = transform(np.eye(3), -d * rng.uniform(0.2, 0.3) + np.array([0, 0, rng.uniform(0.05, 0.15)]))
    T_start = back @ T_grasp
    T_start[:3, :3] = rot(rng.normal(0, 1, 3), rng.uniform(0.1, 0.5)) @ T_start[:3, :3]
    T_pre = transform(np.eye(3), -d * rng.uniform(0.05, 0.09)) @ T_grasp

    wrist = [np.repeat(T_start[None], n_wait, 0), pose_segment(T_start, T_pre, n_app),
             pose_segment(T_pre, T_grasp, n_reach), np.repeat(T_grasp[None], n_close, 0)]
    q_rest = Q_REST + rng.normal(0, 0.05, 20)
    n_a1 = n_app // 3
    fingers = [np.repeat(q_rest[None], n_wait + n_a1, 0), blend_segment(q_rest, q_open, n_app - n_a1),
               np.repeat(q_open[None], n_reach, 0), blend_segment(q_open, q_mid, n_close // 2),
               blend_segment(q_mid, q_grasp, n_close - n_close // 2)]
    objs = [np.repeat(T0[None], n_wait + n_app + n_reach + n_close, 0)]

    motion = _object_motion(obj, T0, task, n_manip, rng)
    T_obj_wrist = np.linalg.inv(T0) @ T_grasp
    wrist.append(motion @ T_obj_wrist)
    fingers.append(np.repeat(q_grasp[None], n_manip, 0))
    objs.append(motion)
    T_end, T_obj_end = wrist[-1][-1], motion[-1]
    if release:
        wrist.append(np.repeat(T_end[None], n_rel, 0))
        fingers.append(np.concatenate([blend_segment(q_grasp, q_mid, n_rel // 2),
                                       blend_segment(q_mid, q_open, n_rel - n_rel // 2)]))
        objs.append(np.repeat(T_obj_end[None], n_rel, 0))
        d_end = T_end[:3, :3] @ (T_grasp[:3, :3].T @ d)
        T_away = transform(np.eye(3), -d_end * rng.uniform(0.08, 0.15) + np.array([0, 0, 0.04])) @ T_end
        wrist.append(pose_segment(T_end, T_away, n_ret))
        fingers.append(blend_segment(q_open, q_rest, n_ret))
        if task == "handover":  # the receiver takes the object away
            taken = transform(T_obj_end[:3, :3], T_obj_end[:3, 3] + np.array([0.0, np.sign(T_obj_end[1, 3] - T0[1, 3])
                                                                              * 0.12, 0.02]))
            objs.append(pose_segment(T_obj_end, taken, n_ret))
        else:
            objs.append(np.repeat(T_obj_end[None], n_ret, 0))
    else:
        wrist.append(np.repeat(T_end[None], n_ret, 0))
        fingers.append(np.repeat(q_grasp[None], n_ret, 0))
        objs.append(np.repeat(T_obj_end[None], n_ret, 0))

    T_ww, q, T_wo = np.concatenate(wrist), np.concatenate(fingers), np.concatenate(objs)
    kp_local = hand.keypoints(q)  # (T,21,3)
    kp = np.einsum("tij,tkj->tki", T_ww[:, :3, :3], kp_local) + T_ww[:, None, :3, 3]
    contact = np.array([finger_contacts(kp[t], "right", _scene_sdf(obj, T_wo[t], table=False))
                        for t in range(len(q))])
    t_s = np.arange(len(q)) / cfg.fps
    seq = fmt.SequenceData(id=seq_id, object_name=obj_name, side="right", task=task, t_s=t_s, mano_joints=kp,
                           T_world_wrist=T_ww, T_world_object=T_wo, T_tar=T_wo.copy(), contact=contact, mano_q=q)
    depth = penetration_depth(seq, obj)
    manip = slice(n_wait + n_app + n_reach + n_close, n_wait + n_app + n_reach + n_close + n_manip)
    sph = hand_spheres(kp[manip.start], "right")
    reached = float(np.min(_scene_sdf(obj, T_wo[manip.start], table=False)(sph.centres) - sph.radii)) <= 0.004
    held = reached and (task == "push" or bool(np.all(contact[manip].sum(axis=1) >= MIN_FINGERS_HOLDING)))
    if side == "left":
        kp, T_ww, T_wo = mirror_points(kp), mirror_wrist_transforms(T_ww), mirror_object_transforms(T_wo)
        seq = fmt.SequenceData(id=seq_id, object_name=obj_name, side=side, task=task, t_s=t_s, mano_joints=kp,
                               T_world_wrist=T_ww, T_world_object=T_wo, T_tar=T_wo.copy(), contact=contact, mano_q=q)
    return seq, depth, held


def object_pool(cfg: SynthConfig, split: dict[str, str]) -> list[str]:
    """The configured objects plus the size variants of the rigid train objects (cfg.train_object_scales)."""
    extra = [variant_name(o, sc) for o in cfg.objects if split.get(o) == "train"
             and make_object(o).articulation == "none" for sc in cfg.train_object_scales]
    return list(cfg.objects) + extra


def plan_sequences(n: int, seed: int, cfg: SynthConfig,
                   objects: list[str] | None = None) -> list[tuple[str, int, str, str, str]]:
    """(id, seed, object, task, side) for n sequences; object/task drawn per sequence from `objects`
    (default: cfg.objects)."""
    rng = np.random.default_rng(seed)
    objects = list(cfg.objects) if objects is None else objects
    articulated = [o for o in objects if make_object(o).articulation != "none"]
    rigid = [o for o in objects if o not in articulated]
    tasks = [t for t in cfg.tasks if (t not in ("open", "close") or articulated) and
             (t in ("open", "close") or rigid)]
    if not tasks:
        raise ConfigError("no task can be generated with the configured objects")
    w = np.array([TASK_WEIGHTS[t] for t in tasks])
    plans = []
    for i in range(n):
        task = str(rng.choice(tasks, p=w / w.sum()))
        pool = articulated if task in ("open", "close") else rigid
        obj = str(pool[int(rng.integers(len(pool)))])
        side = "left" if rng.random() < cfg.left_fraction else "right"
        plans.append((f"syn_{i:05d}", int(rng.integers(2**31)), obj, task, side))
    return plans


def _work(args: tuple) -> dict:
    root, seq_id, seed, obj, task, side, cfg, objects = args
    rng = np.random.default_rng(seed)
    seq, ok = generate_sequence(seq_id, seed, obj, task, side, cfg)
    # a replacement object comes from the same split (a train draw must not turn into an unseen object)
    pool = [o for o in objects if (make_object(o).articulation != "none") == (task in ("open", "close"))
            and objects[o] == objects[obj]]
    for _ in range(4):  # an object this draw cannot grasp cleanly: same task, another object
        if ok:
            break
        obj = str(pool[int(rng.integers(len(pool)))])
        seq, ok = generate_sequence(seq_id, int(rng.integers(2**31)), obj, task, side, cfg)
    fmt.save_sequence(Path(root), seq)
    T_wo = seq.T_world_object
    return {"id": seq_id, "task": task, "object": obj, "side": side, "num_frames": seq.num_frames, "valid": ok,
            "goal": describe_goal(task, T_wo[0], T_wo[-1]), "seed": seed}


def synthesize(root: str | Path, n: int, seed: int = 0, workers: int = 1, cfg: SynthConfig = SynthConfig(),
               progress: bool = True) -> fmt.Index:
    """Generate n sequences + their objects into `root` and write index.json. Returns the index."""
    from tqdm import tqdm

    root = Path(root)
    split = split_objects(list(cfg.objects), cfg.test_fraction, seed)
    names = object_pool(cfg, split)
    for name in names[len(cfg.objects):]:  # size variants of train objects are train objects
        split[name] = "train"
    plans = plan_sequences(n, seed, cfg, names)
    used = sorted(names)  # a draw may switch objects, so store them all (small files)
    rng = np.random.default_rng(seed + 1)
    objects = {}
    for name in used:
        obj = make_object(name)
        pts, nrm = obj.sample_surface(cfg.points_per_object, rng)
        mesh = obj.mesh()
        attrs = {"name": name, "shape_class": obj.shape_class, "colour": obj.colour, "size": size_word(obj),
                 "articulation": obj.articulation, "extents_m": [round(float(e), 4) for e in obj.extents()],
                 "split": split[name]}
        fmt.save_object(root, name, pts, nrm, mesh.vertices, mesh.faces, attrs)
        objects[name] = attrs
    jobs = [(str(root), *p, cfg, {o: split[o] for o in names}) for p in plans]
    results = []
    bar = tqdm(total=n, desc="synth", unit="seq", disable=not progress)
    if workers <= 1:
        for job in jobs:
            results.append(_work(job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_work, job) for job in jobs]
            for fut in as_completed(futures):
                results.append(fut.result())
                bar.update()
    bar.close()
    results.sort(key=lambda r: r["id"])
    entries = []
    for r in results:
        attrs = objects[r["object"]]
        lang_rng = np.random.default_rng(r["seed"] + 7)
        entries.append(fmt.SequenceEntry(
            id=r["id"], source="synthetic", task=r["task"], object=r["object"], split=split[r["object"]],
            side=r["side"], num_frames=r["num_frames"], fps=cfg.fps, goal=r["goal"],
            instructions=tuple(template_instructions(r["task"], attrs, r["goal"], lang_rng))))
    index = fmt.Index(sequences=entries, objects=objects,
                      info={"generator": "unihm_data.synth", "seed": seed, "n": n, "table_z_m": 0.0})
    fmt.write_index(root, index)
    return index
