"""Inverse kinematics of an arm flange: wrist poses of a HandTrajectory -> arm joint trajectory.

Damped least squares on the SE(3) error log6(T_cur^-1 T_target) with the LOCAL frame Jacobian, a null-space
term that keeps the joints away from their limits, limits enforced by clipping, and each waypoint warm-started
from the previous solution (smooth and fast). A warm-started path can run into a joint limit on a branch that
cannot follow the rest of the path, so `solve` tries the path from the current configuration first and, if
that branch fails, from further start configurations, keeping the best feasible branch.
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
    starts_tried: int = 1  # start configurations tried before this branch was kept
    max_velocity_ratio: float = 0.0  # worst joint speed / velocity limit along the timed path (0: untimed)

    @property
    def max_position_error_m(self) -> float:
        return float(self.position_error_m.max(initial=0.0))

    @property
    def max_rotation_error_rad(self) -> float:
        return float(self.rotation_error_rad.max(initial=0.0))

    def feasible(self, position_tol_m: float, rotation_tol_rad: float) -> bool:
        return (self.max_position_error_m <= position_tol_m and self.max_rotation_error_rad <= rotation_tol_rad
                and self.max_velocity_ratio <= 1.0)

    def slowdown(self, position_tol_m: float, rotation_tol_rad: float) -> float:
        """How much slower the timed path must run to become feasible (> 1), or 0 when slowing cannot help
        (a pose is out of reach) or is not needed."""
        if self.max_position_error_m > position_tol_m or self.max_rotation_error_rad > rotation_tol_rad:
            return 0.0
        return self.max_velocity_ratio if self.max_velocity_ratio > 1.0 else 0.0

    def why_infeasible(self, position_tol_m: float, rotation_tol_rad: float) -> str:
        """'' when feasible, else what fails, in words an operator can act on."""
        why = []
        if self.max_position_error_m > position_tol_m:
            why.append(f"position error {1000 * self.max_position_error_m:.0f} mm > {1000 * position_tol_m:.0f} mm")
        if self.max_rotation_error_rad > rotation_tol_rad:
            why.append(f"rotation error {self.max_rotation_error_rad:.2f} rad > {rotation_tol_rad:.2f} rad")
        if self.max_velocity_ratio > 1.0:
            why.append(f"joint speed {self.max_velocity_ratio:.1f}x the velocity limit (slow the trajectory down)")
        return "; ".join(why)


class ArmIk:
    """IK of `arm`'s flange frame. Poses are in the arm base frame."""

    def __init__(self, arm: ArmSpec, damping: float = 1e-4, max_iters: int = 200, tol: float = 1e-5,
                 max_step_rad: float = 0.2, limit_gain: float = 0.05, restarts: int = 12,
                 position_tol_m: float = 0.01, rotation_tol_rad: float = 0.2) -> None:
        pin = import_pinocchio()
        self._pin = pin
        self.arm = arm
        self.model = pin.buildModelFromUrdf(str(arm.urdf_path))
        self.data = self.model.createData()
        self.fid = self.model.getFrameId(arm.flange_frame)
        self._q_idx = np.array([self.model.joints[self.model.getJointId(n)].idx_q for n in arm.joint_names])
        if self.model.nq != len(arm.joint_names) or self.model.nv != self.model.nq:
            raise InputError(f"{arm.name}: IK needs a model with exactly the arm's {len(arm.joint_names)} joints")
        self.damping, self.max_iters, self.tol, self.max_step = damping, max_iters, tol, max_step_rad
        self.limit_gain, self.restarts = limit_gain, restarts
        self.position_tol_m, self.rotation_tol_rad = position_tol_m, rotation_tol_rad
        lo, hi = np.asarray(arm.lower_rad, dtype=float), np.asarray(arm.upper_rad, dtype=float)
        self._mid, self._half = (lo + hi) / 2, (hi - lo) / 2

    def flange_pose(self, q_arm: np.ndarray) -> np.ndarray:
        """(7,) -> (4,4) T_base_flange."""
        pin = self._pin
        q = np.zeros(self.model.nq)
        q[self._q_idx] = q_arm
        pin.framesForwardKinematics(self.model, self.data, q)
        return self.data.oMf[self.fid].homogeneous.copy()

    def solve(self, T_base_flange: np.ndarray, q_init: np.ndarray, t_s: np.ndarray | None = None) -> IkResult:
        """Solve for (T,4,4) (or (4,4)) flange targets from `q_init` (7,), warm-starting each waypoint.

        `t_s` (T,): when each target is due, in s after the arm leaves `q_init`; given, a branch must also
        keep every joint within its velocity limit (from `q_init` to the first target, and between targets).

        The branch through `q_init` is kept when it reaches every waypoint within the tolerances; otherwise up
        to `restarts` further start configurations (joint mid-range, then seeded random ones: deterministic)
        are tried in turn until one is feasible; if none is, the branch that reaches every pose and needs the least
        slow-down (`max_velocity_ratio`), else the one with the lowest worst pose error, is returned."""
        targets = np.asarray(T_base_flange, dtype=np.float64)
        if targets.ndim == 2:
            targets = targets[None]
        if targets.ndim != 3 or targets.shape[1:] != (4, 4) or not np.all(np.isfinite(targets)):
            raise InputError(f"IK targets must be finite (T,4,4), got {targets.shape}")
        q_init = np.clip(np.asarray(q_init, dtype=np.float64), self.arm.lower_rad, self.arm.upper_rad)
        rng = np.random.default_rng(0)
        others = [self._mid.copy()] + [self._mid + self._half * rng.uniform(-0.8, 0.8, len(self._mid))
                                       for _ in range(max(0, self.restarts - 1))]
        starts = [q_init] + others[:max(0, self.restarts)]
        best, best_key = None, None
        times = None
        if t_s is not None:
            times = np.asarray(t_s, dtype=np.float64).reshape(-1)
            if times.shape != (len(targets),) or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0) \
                    or times[0] < 0:
                raise InputError(f"IK times must be {len(targets)} finite, increasing values >= 0")
        tried = 0
        for q0 in starts:
            tried += 1
            res = self._solve_branch(targets, q0)
            if times is not None:
                res = IkResult(res.q, res.position_error_m, res.rotation_error_rad, res.iterations,
                               max_velocity_ratio=self.velocity_ratio(res.q, times, q_init))
            ok = res.feasible(self.position_tol_m, self.rotation_tol_rad)
            travel = float(np.abs(res.q[0] - q_init).sum() + np.abs(np.diff(res.q, axis=0)).sum())
            pose_ok = res.max_position_error_m <= self.position_tol_m and \
                res.max_rotation_error_rad <= self.rotation_tol_rad
            # feasible first; then pose-feasible branches by the slow-down they need; then the smallest pose error
            miss = 0.0 if ok else (res.max_velocity_ratio if pose_ok else
                                   res.max_position_error_m + 0.1 * res.max_rotation_error_rad)
            key = (not ok, not pose_ok, miss, travel)
            if best_key is None or key < best_key:
                best, best_key = res, key
            if ok:
                break  # the first feasible branch: the current configuration's if it works (no jump)
        assert best is not None
        return IkResult(best.q, best.position_error_m, best.rotation_error_rad, best.iterations, starts_tried=tried,
                        max_velocity_ratio=best.max_velocity_ratio)

    def velocity_ratio(self, q: np.ndarray, t_s: np.ndarray, q_init: np.ndarray) -> float:
        """Worst |dq/dt| / velocity limit over the path q (T,7) timed by t_s, starting at q_init at t = 0."""
        vmax = np.asarray(self.arm.velocity_limit_rad_s, dtype=np.float64)
        steps = np.abs(np.diff(np.vstack([q_init, q]), axis=0)) / vmax  # (T, 7) s needed per step
        dt = np.diff(np.concatenate([[0.0], t_s]))
        need = steps.max(axis=1)
        with np.errstate(divide="ignore"):
            ratio = np.where(dt > 0, need / np.maximum(dt, 1e-12), np.where(need > 1e-6, np.inf, 0.0))
        return float(ratio.max(initial=0.0))

    def _solve_branch(self, targets: np.ndarray, q_start: np.ndarray) -> IkResult:
        pin = self._pin
        lo, hi = self.arm.lower_rad, self.arm.upper_rad
        q = np.zeros(self.model.nq)
        q_ext = q_start.copy()
        n = len(targets)
        out = np.zeros((n, len(lo)))
        pos_err, rot_err, iters = np.zeros(n), np.zeros(n), np.zeros(n, dtype=int)
        eye6, eye_n = np.eye(6), np.eye(self.model.nv)
        for t, target in enumerate(targets):
            goal = pin.SE3(target[:3, :3], target[:3, 3])
            q[self._q_idx] = q_ext
            for _ in range(self.max_iters):
                iters[t] += 1
                pin.forwardKinematics(self.model, self.data, q)
                pin.updateFramePlacement(self.model, self.data, self.fid)
                err = pin.log6(self.data.oMf[self.fid].actInv(goal)).vector  # (6,) in the flange frame
                e2 = err @ err
                if e2 < self.tol**2:
                    break
                J = pin.computeFrameJacobian(self.model, self.data, q, self.fid, pin.LOCAL)  # (6, nv)
                J_pinv = J.T @ np.linalg.inv(J @ J.T + self.damping * eye6)
                dq = J_pinv @ err
                if self.limit_gain > 0 and e2 > (100 * self.tol) ** 2:  # drift to mid-range in the null space
                    qa = q[self._q_idx]
                    centre = np.zeros(self.model.nv)
                    centre[self._q_idx] = self.limit_gain * (self._mid - qa) / self._half
                    dq += (eye_n - J_pinv @ J) @ centre
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
