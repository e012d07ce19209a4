"""Synthetic refinement episodes: a sphere cloud, a jittery grasp trajectory, injected penetration.

Used by the benchmark and the tests. `toy_hand_urdf` builds a small hand in code so that the
refiner can be exercised without the hand library.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from unihm_common.se3 import make_transform
from unihm_common.trajectory import HandMotion
from unihm_refiner.contact import estimate_normals
from unihm_refiner.io import RefineSequence
from unihm_refiner.kinematics import KinematicChain, TipKinematics


def toy_hand_urdf(n_fingers: int = 3, n_joints: int = 3, link_m: float = 0.04) -> tuple[str, tuple[str, ...]]:
    """A URDF of a palm with `n_fingers` fingers of `n_joints` revolute joints each (spread + flexion).

    Fingers start on a 3 cm circle in the palm's xy plane and point along +z; the first joint of
    each finger abducts (about the finger's radial axis' normal), the others flex. Returns (urdf_xml,
    fingertip frame names).
    """
    links = ['<link name="palm"/>']
    joints = []
    tips = []
    for f in range(n_fingers):
        ang = 2.0 * np.pi * f / n_fingers
        ca, sa = np.cos(ang), np.sin(ang)
        parent = "palm"
        for j in range(n_joints):
            name = f"f{f}_l{j}"
            links.append(f'<link name="{name}"/>')
            if j == 0:
                xyz, axis = f"{0.03 * ca:.6f} {0.03 * sa:.6f} 0", f"{ca:.6f} {sa:.6f} 0"
                lim = (-0.5, 0.5)
            else:
                xyz, axis = f"0 0 {link_m}", f"{-sa:.6f} {ca:.6f} 0"
                lim = (-0.3, 1.6)
            joints.append(
                f'<joint name="f{f}_j{j}" type="revolute"><parent link="{parent}"/><child link="{name}"/>'
                f'<origin xyz="{xyz}" rpy="0 0 0"/><axis xyz="{axis}"/>'
                f'<limit lower="{lim[0]}" upper="{lim[1]}" effort="1" velocity="5"/></joint>'
            )
            parent = name
        tip = f"f{f}_tip"
        links.append(f'<link name="{tip}"/>')
        joints.append(f'<joint name="f{f}_tip_joint" type="fixed"><parent link="{parent}"/>'
                      f'<child link="{tip}"/><origin xyz="0 0 {link_m}" rpy="0 0 0"/></joint>')
        tips.append(tip)
    xml = '<?xml version="1.0"?>\n<robot name="toy_hand">\n' + "\n".join(links + joints) + "\n</robot>\n"
    return xml, tuple(tips)


def sphere_cloud(n_points: int, radius_m: float, noise_m: float = 0.0, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Fibonacci-sphere points (N,3) centred at the origin and their exact outward normals (N,3)."""
    i = np.arange(n_points) + 0.5
    phi = np.arccos(1.0 - 2.0 * i / n_points)
    theta = np.pi * (1.0 + 5.0**0.5) * i
    normals = np.stack([np.cos(theta) * np.sin(phi), np.sin(theta) * np.sin(phi), np.cos(phi)], axis=1)
    points = radius_m * normals
    if noise_m > 0:
        points = points + np.random.default_rng(seed).normal(0.0, noise_m, points.shape)
    return points, normals


def make_synthetic_sequence(
    chain: KinematicChain,
    n_frames: int = 200,
    n_points: int = 2048,
    penetration_mm: float = 10.0,
    jitter_rad: float = 0.01,
    grasp_fraction: float = 0.55,
    fps: float = 30.0,
    seed: int = 0,
    urdf_xml: str | None = None,
) -> RefineSequence:
    """A grasp-and-hold episode whose fingertips sink into an object by up to ~`penetration_mm`.

    The grasp pose is the joint range at `grasp_fraction`; the object is a smooth blob whose
    surface passes through the fingertips of that pose (`blob_cloud`). The object then
    sways by `penetration_mm` along a random direction while q^gen follows a slow sinusoid plus
    `jitter_rad` white noise. Wrist and object poses get random rotations to exercise the frames.
    """
    rng = np.random.default_rng(seed)
    lo, hi = chain.lower_rad, chain.upper_rad
    q_grasp = lo + grasp_fraction * (hi - lo)  # (J,)
    tips = TipKinematics(chain).fk(q_grasp)  # (F, 3) hand root frame
    points_root, normals = blob_cloud(tips, n_points)
    centre = tips.mean(axis=0)
    t_s = np.arange(n_frames) / fps
    phase = 2.0 * np.pi * t_s / max(t_s[-1], 1e-9) if n_frames > 1 else np.zeros(1)
    sway = 0.03 * (hi - lo) * np.sin(phase)[:, None]  # (T, J) slow finger motion
    q = q_grasp + sway + rng.normal(0.0, jitter_rad, (n_frames, chain.num_joints))
    q = np.clip(q, lo, hi)
    u = rng.normal(size=3)
    u /= np.linalg.norm(u)
    offset = (penetration_mm * 1e-3) * np.sin(3.0 * phase)[:, None] * u  # (T, 3) root frame
    R_wrist = Rotation.from_rotvec(rng.normal(size=3)).as_matrix()
    T_world_wrist = np.broadcast_to(make_transform(R_wrist, rng.normal(size=3) * 0.2), (n_frames, 4, 4)).copy()
    R_obj = Rotation.from_rotvec(rng.normal(size=3)).as_matrix()
    centre_world = (centre + offset) @ R_wrist.T + T_world_wrist[0, :3, 3]  # (T, 3)
    T_world_object = make_transform(np.broadcast_to(R_obj, (n_frames, 3, 3)), centre_world)
    R_obj_root = R_obj.T @ R_wrist  # object frame <- hand root frame (rotation part)
    points = (points_root - centre) @ R_obj_root.T  # (N, 3) object frame, origin at the tips' centroid
    normals = normals @ R_obj_root.T
    motion = HandMotion(hand=chain.name, joint_names=chain.joint_names, t_s=t_s, q=q, T_world_wrist=T_world_wrist)
    return RefineSequence(motion=motion, T_world_object=T_world_object, object_points=points,
                          object_normals=normals, urdf_xml=urdf_xml,
                          tip_frames=chain.tip_frames if urdf_xml is not None else None)


def blob_cloud(tips: np.ndarray, n_points: int, width_rad: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """A smooth star-shaped object through the fingertips (F,3): points (N,3) around the tips' centroid.

    Its radius over directions u is rho + sum_j a_j exp(-angle(u, u_j)^2 / (2 width^2)), with a
    solved so that the surface passes exactly through every tip. Normals are estimated (PCA).
    Returns (points, normals) with the centroid at the origin of the returned points' frame
    shifted back: points are expressed in the same frame as `tips`.
    """
    centre = tips.mean(axis=0)
    rel = tips - centre
    dist = np.linalg.norm(rel, axis=1)  # (F,)
    rho = float(dist.mean())
    dirs_t = rel / dist[:, None]
    kern = lambda a, b: np.exp(-np.arccos(np.clip(a @ b.T, -1.0, 1.0)) ** 2 / (2.0 * width_rad**2))  # noqa: E731
    coef = np.linalg.solve(kern(dirs_t, dirs_t) + 1e-9 * np.eye(len(dist)), dist - rho)  # (F,)
    dirs, _ = sphere_cloud(n_points, 1.0)
    radius = rho + kern(dirs, dirs_t) @ coef  # (N,)
    points = centre + dirs * radius[:, None]
    return points, estimate_normals(points, k=12)


def toy_chain(n_fingers: int = 3, n_joints: int = 3) -> tuple[KinematicChain, str]:
    """The toy hand as a chain, and its URDF."""
    xml, tips = toy_hand_urdf(n_fingers, n_joints)
    return KinematicChain.from_urdf_xml(xml, tips, name="toy_hand"), xml
