"""Synthetic tabletop pick-and-place episodes with language instructions and ground-truth SE(3) goals.

Tasks: "put the X on/in the Y" (Y a plate or tray: X ends on Y's top, centred) and "move the X to the
left of / right of / in front of / behind the Y" (X ends on the table `offset_m` from Y's centre; left is
+y, front is -x, as seen from the default camera at -x looking towards +x). X's final yaw is Y's yaw
(mod a half turn): the goal orientation is visible at the place pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_perception.scene import RECEPTACLES, SceneConfig, SceneObject, TabletopScene, sample_scene

ON_TEMPLATES = ("put the {x} on the {y}", "place the {x} in the {y}", "move the {x} onto the {y}",
                "put the {x} into the {y}")
REL_TEMPLATES = {"left": ("move the {x} to the left of the {y}", "put the {x} left of the {y}"),
                 "right": ("move the {x} to the right of the {y}", "put the {x} right of the {y}"),
                 "front": ("move the {x} in front of the {y}", "put the {x} in front of the {y}"),
                 "behind": ("move the {x} behind the {y}", "put the {x} behind the {y}")}
REL_DIRS = {"left": (0.0, 1.0), "right": (0.0, -1.0), "front": (-1.0, 0.0), "behind": (1.0, 0.0)}


@dataclass(frozen=True)
class Episode:
    scene: TabletopScene
    instruction: str
    pick_index: int  # the object to move
    ref_index: int  # the reference object
    pick_xyz: np.ndarray  # (3,) object centre now, world
    place_xyz: np.ndarray  # (3,) object centre at the goal, world
    pick_yaw_rad: float
    place_yaw_rad: float


def describe(obj: SceneObject, scene: TabletopScene, rng: np.random.Generator) -> str:
    """A phrase that singles `obj` out in `scene`: 'red can', else 'red tomato soup can'."""
    noun = obj.name.split("_")[-1]
    short = f"{obj.asset.colour} {noun}"
    clash = any(o is not obj and o.asset.colour == obj.asset.colour and o.name.split("_")[-1] == noun
                for o in scene.objects)
    if clash or rng.random() < 0.3:
        return f"{obj.asset.colour} {obj.name.replace('_', ' ')}"
    return short if rng.random() < 0.8 else noun if not any(
        o is not obj and o.name.split("_")[-1] == noun for o in scene.objects) else short


def sample_episode(rng: np.random.Generator, scene_config: SceneConfig | None = None, offset_m: float = 0.15,
                   bound_m: float = 0.36) -> Episode:
    """A random scene and a task in it whose goal lies within `bound_m` of the workspace centre."""
    scene_config = scene_config or SceneConfig()
    while True:
        scene = sample_scene(rng, scene_config)
        movable = [i for i, o in enumerate(scene.objects) if o.name not in RECEPTACLES]
        recs = [i for i, o in enumerate(scene.objects) if o.name in RECEPTACLES]
        if not movable or len(scene.objects) < 2:
            continue
        i = int(rng.choice(movable))
        x = scene.objects[i]
        half_h = x.asset.extents[2] / 2
        if recs and rng.random() < 0.4:
            j = int(rng.choice(recs))
            y = scene.objects[j]
            goal = np.array([y.centre[0], y.centre[1], y.asset.extents[2] + half_h])
            template = str(rng.choice(ON_TEMPLATES))
        else:
            j = int(rng.choice([k for k in range(len(scene.objects)) if k != i]))
            y = scene.objects[j]
            rel = str(rng.choice(list(REL_DIRS)))
            goal = np.array([*(y.centre[:2] + offset_m * np.array(REL_DIRS[rel])), half_h])
            template = str(rng.choice(REL_TEMPLATES[rel]))
            if any(np.linalg.norm(goal[:2] - o.centre[:2]) < 0.5 * np.linalg.norm(o.asset.extents[:2]) + 0.02
                   for k, o in enumerate(scene.objects) if k != i):
                continue  # the goal spot is taken
        if np.max(np.abs(goal[:2])) > bound_m:
            continue
        text = template.format(x=describe(x, scene, rng), y=describe(y, scene, rng))
        return Episode(scene, text, i, j, x.centre, goal, x.yaw_rad, y.yaw_rad)
