"""Write 5 instructions per sequence into index.json: templates, or a configured VLM endpoint (§3.1)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from unihm_common.config import from_dict, load_yaml
from unihm_data import dataformat as fmt
from unihm_data.language import Annotator, OpenAICompatibleAnnotator, VLMConfig, keyframe_indices, template_instructions


def _keyframe_pngs(root: Path, seq: fmt.SequenceData) -> list[bytes]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from unihm_data.keypoints import BONES

    cloud = fmt.load_object_cloud(root, seq.object_name)["points"][::4]
    pngs = []
    for t in keyframe_indices(seq.contact):
        fig = plt.figure(figsize=(3, 3))
        ax = fig.add_subplot(projection="3d")
        pts = cloud @ seq.T_world_object[t, :3, :3].T + seq.T_world_object[t, :3, 3]
        ax.scatter(*pts.T, s=1, c="tab:orange")
        for a, b in BONES:
            ax.plot(*seq.mano_joints[t, [a, b]].T, c="tab:blue")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=80)
        plt.close(fig)
        pngs.append(buf.getvalue())
    return pngs


def annotate_dataset(root: str | Path, vlm_config: str | None = None, seed: int = 0,
                     annotator: Annotator | None = None) -> int:
    """Rewrite every sequence's instructions; returns how many were annotated."""
    root = Path(root)
    index = fmt.read_index(root)
    if annotator is None and vlm_config:
        cfg = from_dict(VLMConfig, load_yaml(vlm_config) or {}, source=vlm_config)
        annotator = OpenAICompatibleAnnotator(cfg) if cfg.enabled else None
    rng = np.random.default_rng(seed)
    new = []
    for e in index.sequences:
        attrs = index.objects.get(e.object, {"name": e.object})
        if annotator is not None:
            seq = fmt.load_sequence(root, e.id)
            context = f"task {e.task}, object {e.object.replace('_', ' ')}, goal: {e.goal or 'none'}"
            texts = annotator.annotate(_keyframe_pngs(root, seq), context, fmt.NUM_INSTRUCTIONS)
        else:
            texts = template_instructions(e.task, attrs, e.goal, rng, fmt.NUM_INSTRUCTIONS, side=e.side)
        new.append(fmt.SequenceEntry(**{**e.__dict__, "instructions": tuple(texts)}))
    index.sequences = new
    fmt.write_index(root, index)
    return len(new)
