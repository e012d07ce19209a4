"""Write sequences read from DexYCB / OakInk into the dataset format, split 80/20 by object."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh
from scipy.spatial import cKDTree

from unihm_common.errors import InputError
from unihm_data import dataformat as fmt
from unihm_data.keypoints import FINGERTIP_INDICES
from unihm_data.language import describe_goal, template_instructions
from unihm_data.objects import split_objects

CONTACT_DIST_M = 0.012  # fingertip keypoint to the nearest surface sample (fingertip pad thickness + tolerance)


def _cloud(mesh_path: Path | None, n: int, rng: np.random.Generator) -> dict:
    if mesh_path is None:
        return {"points": np.zeros((0, 3)), "normals": np.zeros((0, 3)), "vertices": np.zeros((0, 3)),
                "faces": np.zeros((0, 3), int)}
    try:
        mesh = trimesh.load(mesh_path, process=False, force="mesh")
    except Exception as exc:
        raise InputError(f"{mesh_path}: cannot read mesh: {exc}") from exc
    pts, face = trimesh.sample.sample_surface(mesh, n, seed=int(rng.integers(2**31)))
    return {"points": pts, "normals": mesh.face_normals[face], "vertices": mesh.vertices, "faces": mesh.faces}


def import_sequences(out: str | Path, items: list[tuple[fmt.SequenceData, Path | None]], source: str,
                     seed: int = 0, test_fraction: float = 0.2, points_per_object: int = 2048) -> fmt.Index:
    """Write loader outputs (sequence, object mesh path) to `out` with contact flags and instructions."""
    out = Path(out)
    rng = np.random.default_rng(seed)
    split = split_objects([s.object_name for s, _ in items], test_fraction, seed)
    objects, clouds, entries = {}, {}, []
    for seq, mesh_path in items:
        name = seq.object_name
        if name not in clouds:
            c = _cloud(mesh_path, points_per_object, rng)
            attrs = {"name": name, "shape_class": "unknown", "colour": "", "size": "", "split": split[name]}
            if len(c["points"]):
                fmt.save_object(out, name, c["points"], c["normals"], c["vertices"], c["faces"], attrs)
            clouds[name], objects[name] = c, attrs
        contact = seq.contact
        if len(clouds[name]["points"]):
            tree = cKDTree(clouds[name]["points"])
            inv = np.linalg.inv(seq.T_world_object)
            tips = seq.mano_joints[:, FINGERTIP_INDICES]
            local = np.einsum("tij,tkj->tki", inv[:, :3, :3], tips) + inv[:, None, :3, 3]
            contact = (tree.query(local.reshape(-1, 3))[0] < CONTACT_DIST_M).reshape(-1, 5)
        seq = fmt.SequenceData(**{**seq.__dict__, "contact": contact})
        fmt.save_sequence(out, seq)
        goal = describe_goal(seq.task, seq.T_world_object[0], seq.T_world_object[-1])
        fps = float(1.0 / np.median(np.diff(seq.t_s)))
        entries.append(fmt.SequenceEntry(
            id=seq.id, source=source, task=seq.task, object=name, split=split[name], side=seq.side,
            num_frames=seq.num_frames, fps=fps, goal=goal,
            instructions=tuple(template_instructions(seq.task, objects[name], goal, rng, side=seq.side))))
    index = fmt.Index(sequences=entries, objects=objects, info={"source": source, "seed": seed})
    fmt.write_index(out, index)
    return index
