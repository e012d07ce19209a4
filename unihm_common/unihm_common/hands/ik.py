"""Inverse kinematics of an arm flange: wrist poses of a HandTrajectory -> arm joint trajectory.

Damped least squares on the SE(3) error log6(T_cur^-1 T_target) with the LOCAL frame Jacobian,
joint limits by clipping, each waypoint warm-started from the previous solution (smooth and fast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unihm_common.errors import InputError
from unihm_common.hands.arm import ArmSpec
from unihm_common.hands.model import import_pinocchio


@dataclass(frozen=True)
class IkResult:
    q: np.ndarray  # (T, 7) arm joints, rad
    position_error_m: np.ndarray  # (T,)
    rotation_error_rad: np.ndarray  # (T,)
    iterations: np.ndarray  # (T,)

    @property
    def max_position_error_m(self) -> float:
        return float(self.position_error_m.max(initial=0.0))


class ArmIk:
    """IK of `arm`'s flange frame. Poses are in the arm base frame."""

    def __init__(self, arm: ArmSpec, damping: float = 1e-4, max_iters: int = 200, tol: float = 1e-6,
                 max_step_rad: float = 0.2) -> None:
        pin = import_pinocchio()
        self._pin = pin
        self.arm = arm
        self.model = pin.buildModelFromUrdf(str(arm.urdf_path))
        self.data = self.model.createData()
        self.fid = self.model.getFrameId(arm.flange_frame)
        self._q_idx = np.array([self.model.joints[self.model.getJointId(n)].idx_q for n in arm.joint_names])
        if self.model.nq != len(arm.joint_names):
            raise InputError(f"{arm.name}: IK needs a model with exactly the arm's {len(arm.joint_names)} joints")
        self.damping, self.max_iters, self.tol, self.max_step = damping, max_iters, tol, max_step_rad

    def flange_pose(self, q_arm: np.ndarray) -> np.ndarray:
        """(7,) -> (4,4) T_base_flange."""
        pin = self._pin
        q = np.zeros(self.model.nq)
        q[self._q_idx] = q_arm
        pin.framesForwardKinematics(self.model, self.data, q)
        return self.data.oMf[self.fid].homogeneous.copy()

    def solve(self, T_base_flange: np.ndarray, q_init: np.ndarray) -> IkResult:
        """Solve for (T,4,4) (or (4,4)) flange targets from `q_init` (7,), warm-starting each waypoint."""
        pin = self._pin
        targets = np.asarray(T_base_flange, dtype=np.float64)
        if targets.ndim == 2:
            targets = targets[None]
        if targets.ndim != 3 or targets.shape[1:] != (4, 4) or not np.all(np.isfinite(targets)):
            raise InputError(f"IK targets must be finite (T,4,4), got {targets.shape}")
        lo, hi = self.arm.lower_rad, self.arm.upper_rad
        q_ext = np.clip(np.asarray(q_init, dtype=np.float64), lo, hi)
        q = np.zeros(self.model.nq)
        n = len(targets)
        out = np.zeros((n, len(lo)))
        pos_err, rot_err, iters = np.zeros(n), np.zeros(n), np.zeros(n, dtype=int)
        for t, target in enumerate(targets):
            goal = pin.SE3(target[:3, :3], target[:3, 3])
            q[self._q_idx] = q_ext
            for _ in range(self.max_iters):
                iters[t] += 1
                pin.forwardKinematics(self.model, self.data, q)
                pin.updateFramePlacement(self.model, self.data, self.fid)
                err = pin.log6(self.data.oMf[self.fid].actInv(goal)).vector  # (6,) in the flange frame
                if err @ err < self.tol**2:
                    break
                J = pin.computeFrameJacobian(self.model, self.data, q, self.fid, pin.LOCAL)  # (6, nv)
                dq = J.T @ np.linalg.solve(J @ J.T + self.damping * np.eye(6), err)
                dq *= min(1.0, self.max_step / max(np.abs(dq).max(), 1e-12))
                q = pin.integrate(self.model, q, dq)
                q[self._q_idx] = np.clip(q[self._q_idx], lo, hi)
            q_ext = q[self._q_idx].copy()
            out[t] = q_ext
            pos_err[t], rot_err[t] = np.linalg.norm(err[:3]), np.linalg.norm(err[3:])
        return IkResult(out, pos_err, rot_err, iters)


def mount_transform(xyz: tuple[float, float, float], rpy: tuple[float, float, float]) -> np.ndarray:
    """(4,4) T_flange_wrist from a hand.yaml `mount` (xyz in m, roll-pitch-yaw in rad, R = Rz Ry Rx)."""
    from scipy.spatial.transform import Rotation

    T = np.eye(4)
    T[:3, :3] = Rotation.from_euler("xyz", rpy).as_matrix()
    T[:3, 3] = xyz
    return T


def flange_targets(T_world_wrist: np.ndarray, T_world_base: np.ndarray, T_flange_wrist: np.ndarray) -> np.ndarray:
    """Wrist (hand root) poses (T,4,4) in the world -> flange poses in the arm base frame (T,4,4)."""
    from unihm_common.se3 import invert_transform

    return invert_transform(T_world_base) @ np.asarray(T_world_wrist) @ invert_transform(T_flange_wrist)
