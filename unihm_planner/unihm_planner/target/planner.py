"""`TargetPlanner.plan(frame, instruction)`: the CLIPort-style target-trajectory planner end to end.

heightmap -> (language embedding, affordance net) -> pick / place pixels -> lifted to 6-DoF with the
heightmap (z) and the yaw heads -> minimum-jerk SE(3) object trajectory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unihm_common.errors import InputError
from unihm_perception.frame import RGBDFrame

from .heightmap import HeightmapConfig, heightmap_from_frame, model_input
from .trajectory import TrajectoryConfig, plan_object_trajectory

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "target_planner"


@dataclass(frozen=True)
class PlanResult:
    """Object poses in the frame's world frame; the trajectory moves the object from pick to place."""

    pick_pose: np.ndarray  # (4, 4) T_world_object now
    place_pose: np.ndarray  # (4, 4) T_world_object at the goal
    t_s: np.ndarray  # (T,)
    T_world_object: np.ndarray  # (T, 4, 4)
    pick_px: tuple[int, int] = (0, 0)
    place_px: tuple[int, int] = (0, 0)


def _window(a: np.ndarray, rc: np.ndarray, r: int) -> np.ndarray:
    S = a.shape[0]
    r0, c0 = np.clip(rc - r, 0, S - 1)
    r1, c1 = np.clip(rc + r + 1, 1, S)
    return a[r0:r1, c0:c1]


def lift_pick(rc: np.ndarray, height: np.ndarray, hm: HeightmapConfig, r: int = 3) -> tuple[np.ndarray, float]:
    """Pick pixel -> object centre (3,) world and its half height, for an object standing on the table."""
    top = float(_window(height, rc, r).max())
    return np.array([*hm.pixel_to_xy(rc), top / 2]), top / 2


def lift_place(rc: np.ndarray, height: np.ndarray, hm: HeightmapConfig, half_height_m: float, r: int = 2) -> np.ndarray:
    """Place pixel -> object centre (3,) world: the support's height there plus the object's half height."""
    support = float(np.median(_window(height, rc, r)))
    return np.array([*hm.pixel_to_xy(rc), support + half_height_m])


def yaw_transform(xyz: np.ndarray, yaw_rad: float) -> np.ndarray:
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    T = np.eye(4)
    T[:3, :3] = [[c, -s, 0], [s, c, 0], [0, 0, 1]]
    T[:3, 3] = xyz
    return T


def argmax_pixel(logits: np.ndarray) -> np.ndarray:
    """(S, S) -> (2,) row, col of the maximum."""
    return np.array(np.unravel_index(int(np.argmax(logits)), logits.shape))


class TargetPlanner:
    """Holds the affordance net and the sentence encoder; `plan` is pure computation (no I/O)."""

    def __init__(self, model, encoder=None, trajectory: TrajectoryConfig | None = None,
                 check_vocabulary: bool = True) -> None:
        from .language import default_encoder

        self.model = model.eval()
        self.hm: HeightmapConfig = model.config.heightmap
        self.encoder = encoder or default_encoder()
        self.trajectory = trajectory or TrajectoryConfig()
        self.check_vocabulary = check_vocabulary

    @classmethod
    def from_pretrained(cls, directory: str | Path = DEFAULT_CHECKPOINT, **kwargs) -> TargetPlanner:
        from .model import AffordanceNet

        return cls(AffordanceNet.from_pretrained(directory), **kwargs)

    def affordances(self, frame: RGBDFrame, instruction: str) -> dict[str, np.ndarray]:
        """Raw network outputs on the frame's heightmap: pick/place logits (S,S), yaw vectors (2,S,S), height (S,S)."""
        import torch

        if not isinstance(instruction, str) or not instruction.strip():
            raise InputError("instruction is empty; say what to move where, e.g. 'put the red mug on the plate'")
        if self.check_vocabulary:  # the encoder embeds anything; words it was never trained on are refused
            from unihm_perception.segmentation.grounding import parse_instruction

            parse_instruction(instruction)
        colour, height = heightmap_from_frame(frame, self.hm)
        if not height.any():
            raise InputError("nothing of the workspace is visible in the heightmap (check T_world_camera/bounds)")
        x = torch.from_numpy(model_input(colour, height))[None]
        lang = torch.from_numpy(self.encoder.encode([instruction]))
        with torch.no_grad():
            out = self.model(x, lang)
        return {k: v[0].numpy() for k, v in out.items()} | {"height": height, "colour": colour}

    def plan(self, frame: RGBDFrame, instruction: str, object_points: np.ndarray | None = None) -> PlanResult:
        """Plan the object's path. `object_points` (N,3) world (the segmented/completed object cloud), when
        given, refines the pick position to its bounding-box centre."""
        a = self.affordances(frame, instruction)
        pk, pl = argmax_pixel(a["pick"]), argmax_pixel(a["place"])
        pick_xyz, half_h = lift_pick(pk, a["height"], self.hm)
        if object_points is not None and len(object_points):
            lo, hi = np.min(object_points, 0), np.max(object_points, 0)
            pick_xyz, half_h = (lo + hi) / 2, float(hi[2] - max(lo[2], 0.0)) / 2
        place_xyz = lift_place(pl, a["height"], self.hm, half_h)
        pick_yaw = 0.5 * float(np.arctan2(*a["pick_yaw"][::-1, pk[0], pk[1]]))
        place_yaw = 0.5 * float(np.arctan2(*a["place_yaw"][::-1, pl[0], pl[1]]))
        # the object turns by the smaller of the two half-turn-equivalent angles
        d = (place_yaw - pick_yaw + np.pi / 2) % np.pi - np.pi / 2
        T_pick, T_place = yaw_transform(pick_xyz, pick_yaw), yaw_transform(place_xyz, pick_yaw + d)
        t, T = plan_object_trajectory(T_pick, T_place, self.trajectory)
        return PlanResult(T_pick, T_place, t, T, (int(pk[0]), int(pk[1])), (int(pl[0]), int(pl[1])))
