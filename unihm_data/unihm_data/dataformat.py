"""The one on-disk dataset format (docs/data-format.md). Reading validates and names the bad file.

    ROOT/index.json                    format + version, objects, sequences (id, source, task, object,
                                       split, side, num_frames, fps, goal, instructions[5]), hands
    ROOT/objects/<name>.npz            points (N,3), normals (N,3), vertices (V,3), faces (F,3), extents_m (3,)
    ROOT/sequences/<id>.npz            t_s, mano_joints, T_world_wrist, T_world_object, T_tar, contact [, mano_q]
    ROOT/retargeted/<hand>/<id>.npz    q, joint_names, t_s, T_world_wrist, T_world_object, fingertip_err_mm, ...
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unihm_common.errors import InputError

FORMAT_NAME = "unihm-hoi"
FORMAT_VERSION = 1
NUM_INSTRUCTIONS = 5
SOURCES = ("synthetic", "dexycb", "oakink")
TASKS = ("grab", "pick_place", "push", "pull", "open", "close", "handover")


@dataclass(frozen=True)
class SequenceEntry:
    """One row of index.json `sequences`."""

    id: str
    source: str
    task: str
    object: str
    split: str  # "train" | "test" (by object: test objects are unseen in training)
    side: str  # human hand side: "right" | "left"
    num_frames: int
    fps: float
    goal: str = ""
    instructions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.split not in ("train", "test"):
            raise ValueError(f"split must be train or test, got {self.split!r}")
        if self.side not in ("right", "left"):
            raise ValueError(f"side must be right or left, got {self.side!r}")
        object.__setattr__(self, "instructions", tuple(self.instructions))


@dataclass
class Index:
    """index.json in memory. `objects`: name -> attributes; `hands`: hands retargeted so far."""

    sequences: list[SequenceEntry] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    hands: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def by_id(self) -> dict[str, SequenceEntry]:
        return {s.id: s for s in self.sequences}


@dataclass(frozen=True)
class SequenceData:
    """One human HOI sequence. World frame: z up, table top at z = 0 (synthetic).

    t_s (T,) s; mano_joints (T,21,3) m, MANO keypoint order (keypoints.py); T_world_wrist (T,4,4) human wrist
    in the hand-library frame convention; T_world_object (T,4,4); T_tar (T,4,4) object target trajectory
    in the world (Eq. B2); contact (T,5) bool per finger (thumb..little); mano_q (T,20) joint angles of the
    hand library's mano_<side> chain when known.
    """

    id: str
    object_name: str
    side: str
    task: str
    t_s: np.ndarray
    mano_joints: np.ndarray
    T_world_wrist: np.ndarray
    T_world_object: np.ndarray
    T_tar: np.ndarray
    contact: np.ndarray
    mano_q: np.ndarray | None = None

    def __post_init__(self) -> None:
        T = len(self.t_s)
        checks = {"mano_joints": (T, 21, 3), "T_world_wrist": (T, 4, 4), "T_world_object": (T, 4, 4),
                  "T_tar": (T, 4, 4), "contact": (T, 5)}
        for key, shape in checks.items():
            arr = np.asarray(getattr(self, key))
            if arr.shape != shape:
                raise InputError(f"sequence {self.id}: {key} has shape {arr.shape}, expected {shape}")
        if T < 2 or np.any(np.diff(self.t_s) <= 0):
            raise InputError(f"sequence {self.id}: t_s must hold >= 2 strictly increasing times")
        if not np.all(np.isfinite(self.mano_joints)):
            raise InputError(f"sequence {self.id}: mano_joints holds NaN or inf")

    @property
    def num_frames(self) -> int:
        return len(self.t_s)


def _load_npz(path: Path, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise InputError(f"{path}: corrupt or unreadable npz file ({exc})") from exc
    missing = [k for k in required if k not in data]
    if missing:
        raise InputError(f"{path}: missing arrays {missing} (has {sorted(data)})")
    return data


def sequence_path(root: Path, seq_id: str) -> Path:
    return Path(root) / "sequences" / f"{seq_id}.npz"


def object_path(root: Path, name: str) -> Path:
    return Path(root) / "objects" / f"{name}.npz"


def retargeted_path(root: Path, hand: str, seq_id: str) -> Path:
    return Path(root) / "retargeted" / hand / f"{seq_id}.npz"


def save_sequence(root: Path, seq: SequenceData) -> Path:
    path = sequence_path(root, seq.id)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = dict(t_s=np.asarray(seq.t_s, np.float64), mano_joints=np.asarray(seq.mano_joints, np.float32),
                  T_world_wrist=np.asarray(seq.T_world_wrist, np.float64),
                  T_world_object=np.asarray(seq.T_world_object, np.float64), T_tar=np.asarray(seq.T_tar, np.float64),
                  contact=np.asarray(seq.contact, bool), object_name=np.array(seq.object_name),
                  side=np.array(seq.side), task=np.array(seq.task))
    if seq.mano_q is not None:
        arrays["mano_q"] = np.asarray(seq.mano_q, np.float32)
    np.savez_compressed(path, **arrays)
    return path


SEQUENCE_KEYS = ("t_s", "mano_joints", "T_world_wrist", "T_world_object", "T_tar", "contact", "object_name", "side",
                 "task")


def load_sequence(root: Path, seq_id: str) -> SequenceData:
    path = sequence_path(root, seq_id)
    d = _load_npz(path, SEQUENCE_KEYS)
    try:
        return SequenceData(id=seq_id, object_name=str(d["object_name"]), side=str(d["side"]), task=str(d["task"]),
                            t_s=d["t_s"], mano_joints=d["mano_joints"].astype(np.float64),
                            T_world_wrist=d["T_world_wrist"], T_world_object=d["T_world_object"], T_tar=d["T_tar"],
                            contact=d["contact"], mano_q=d.get("mano_q"))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


OBJECT_KEYS = ("points", "normals", "vertices", "faces", "extents_m")


def save_object(root: Path, name: str, points: np.ndarray, normals: np.ndarray, vertices: np.ndarray,
                faces: np.ndarray, attributes: dict[str, Any]) -> Path:
    path = object_path(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, points=np.asarray(points, np.float32), normals=np.asarray(normals, np.float32),
                        vertices=np.asarray(vertices, np.float32), faces=np.asarray(faces, np.int32),
                        extents_m=np.ptp(np.asarray(vertices), axis=0).astype(np.float32),
                        attributes=np.array(json.dumps(attributes)))
    return path


def load_object_cloud(root: Path, name: str) -> dict[str, Any]:
    """objects/<name>.npz -> dict(points, normals, vertices, faces, extents_m, attributes) in the object frame."""
    path = object_path(root, name)
    d = _load_npz(path, OBJECT_KEYS)
    d["attributes"] = json.loads(str(d["attributes"])) if "attributes" in d else {}
    return d


RETARGET_KEYS = ("q", "joint_names", "t_s", "T_world_wrist", "T_world_object", "fingertip_err_mm", "err_link_names")


def save_retargeted(root: Path, hand: str, seq_id: str, /, **arrays: Any) -> Path:
    path = retargeted_path(root, hand, seq_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    missing = [k for k in RETARGET_KEYS if k not in arrays]
    if missing:
        raise InputError(f"retargeted {hand}/{seq_id}: missing {missing}")
    np.savez_compressed(path, **arrays)
    return path


def load_retargeted(root: Path, hand: str, seq_id: str) -> dict[str, np.ndarray]:
    """retargeted/<hand>/<id>.npz: q (T,J) in joint_names order, T_world_wrist (T,4,4) robot root pose, ..."""
    path = retargeted_path(root, hand, seq_id)
    d = _load_npz(path, RETARGET_KEYS)
    if d["q"].ndim != 2 or d["q"].shape[1] != len(d["joint_names"]):
        raise InputError(f"{path}: q has shape {d['q'].shape} but {len(d['joint_names'])} joint names")
    return d


def write_index(root: Path, index: Index) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "info": index.info, "objects": index.objects,
           "hands": sorted(index.hands), "sequences": [asdict(s) for s in index.sequences]}
    path = root / "index.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1))
    tmp.replace(path)
    return path


def read_index(root: Path) -> Index:
    path = Path(root) / "index.json"
    if not path.is_file():
        raise InputError(f"{path}: file not found (is {root} a dataset made by `unihm data synth`?)")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        raise InputError(f"{path}: not a {FORMAT_NAME} index")
    if doc.get("format_version") != FORMAT_VERSION:
        raise InputError(f"{path}: format_version {doc.get('format_version')} unsupported (want {FORMAT_VERSION})")
    try:
        seqs = [SequenceEntry(**s) for s in doc.get("sequences", [])]
    except (TypeError, ValueError) as exc:
        raise InputError(f"{path}: malformed sequence entry: {exc}") from exc
    return Index(sequences=seqs, objects=dict(doc.get("objects", {})), hands=list(doc.get("hands", [])),
                 info=dict(doc.get("info", {})))
