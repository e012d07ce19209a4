"""Physics-guided dynamic refinement (paper §3.4, App. B.3, Algorithm 1).

Frame by frame, q_t minimises (Eq. 16 / B22)

    E_t(q) = lambda_c sum_i f(d_i(q))                      contact, Eqs. 11-13
           + 1/2 |q - q_t^gen|^2_Wgen                      generative prior, Eq. 14
           + 1/2 |q - q_{t-1}|^2_Wvel                      temporal prior, Eq. 15
           + 1/2 |(q - q_{t-1}) - (q_{t-1} - q_{t-2})|^2_Wacc

by Gauss-Newton with Levenberg-Marquardt damping (Eq. 17 / B25). Each iteration recomputes the
fingertip nearest neighbours (p_i, n_i) and keeps them frozen while it builds J_t and solves; a
step is accepted only if the true energy (fresh neighbours) decreases, which lowers the damping,
otherwise the damping is raised and the same system is solved again. q_{t-1}, q_{t-2} are the
already refined frames, with q_{-2} = q_{-1} = q_0^gen (Algorithm 1, line 1).

Frames: the refiner optimises the finger joints q only. The hand root (wrist) is posed in the world
by T_world_wrist(t) and the object by T_world_object(t) = T_tar(t); both are fixed per frame. The
cloud is in the object frame, so fingertips s_i (hand root frame) map to x_i = T_tar^-1 T_world_wrist s_i.
Distances enter f in units of `length_unit_m` (default mm), see `RefinerOptions`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pinocchio as pin
from scipy.linalg.lapack import dposv

from unihm_common.errors import InputError
from unihm_common.se3 import invert_transform
from unihm_refiner.contact import ObjectCloud
from unihm_refiner.kinematics import KinematicChain, TipKinematics
from unihm_refiner.penalty import EXP_CAP, penalty_and_grad

Weight = float | tuple[float, ...]


@dataclass(frozen=True)
class RefinerOptions:
    """Options of Algorithm 1. Weights are diagonal: a scalar (times I) or one value per joint."""

    lambda_c: float = 1.0  # contact strength lambda_c (Eq. 13); not given in the paper
    alpha: float = 1.0  # outside scale alpha of f(d) (Eq. 12); App. B.3 sets alpha = 1
    k: float = 1.0  # inside scale k of f(d) (Eq. 12); App. B.3 sets k = 1
    length_unit_m: float = 1e-3  # d is expressed in this unit inside f (Eq. 11); the paper leaves it open
    epsilon: float = 1e-3  # epsilon of the guarded contact Jacobian (Eq. B19), "small positive"
    w_gen: Weight = 10.0  # W_gen, generative prior weight, rad^-2 (Eq. 14); W_gen > 0
    w_vel: Weight = 1.0  # W_vel, velocity prior weight (Eq. 15)
    w_acc: Weight = 1.0  # W_acc, acceleration prior weight (Eq. 15)
    damping_init: float = 1e-3  # initial LM damping lambda (Eq. 17 / B25), per frame
    damping_decrease: float = 0.3  # lambda *= this after an accepted step (Algorithm 1, line 10)
    damping_increase: float = 10.0  # lambda *= this after a rejected step (Algorithm 1, line 10)
    damping_floor: float = 1e-3  # after a rejection lambda >= this * mean(diag H), so damping bites at once
    damping_max: float = 1e10  # give up on the frame when lambda exceeds this
    max_iters: int = 20  # outer Gauss-Newton iterations per frame (Algorithm 1, line 11)
    grad_tol: float = 1e-7  # converged when the projected |gradient|_inf falls below this
    energy_rtol: float = 1e-4  # converged when a step lowers (or is predicted to lower) E_t by less than
    # energy_atol + energy_rtol * E_t; below that the sampled cloud's point-to-plane facets make further
    # progress noise: a tip crossing from one cloud point's tangent plane to the next changes d by up to
    # ~0.5 mm, and without an absolute floor frames whose E_t is ~1e-2 chatter there to max_iters
    energy_atol: float = 1e-4  # (E_t units: d in length_unit_m, so f(0.014 mm) = 1e-4 at alpha = 1)
    step_tol_rad: float = 1e-9  # converged when an accepted step is smaller than this
    joint_limits: bool = True  # keep q inside [lower, upper]: projected steps with an active set
    record_history: bool = False  # keep the energies of every accepted iterate per frame
    # Initial point of frame t > 0. False: q_t^gen, as Algorithm 1, line 3. True: q_t^gen plus the
    # previous frame's correction, q_t^gen + (q_{t-1}^opt - q_{t-1}^gen) (clipped to the limits); the
    # energy E_t is unchanged, only where the LM iterations start (fewer of them on smooth motion).
    warm_start: bool = False
    # Step length along the LM step (line 10 of Algorithm 1 takes q + dq). With a fingertip deeper than
    # 1/k inside, Gauss-Newton on r_i = sqrt(2 lambda_c f(d_i)) moves it out by only ~2/k per step (the
    # exponential branch doubles r per 1/k of depth). True: there, pick the step length s in
    # [1, line_search_max_step] minimising E_t along q + s dq with d_i linear in s (frozen
    # correspondences, no extra kinematics; a scalar Newton solve), try q + s dq first and keep it only
    # if its true E_t (fresh neighbours) is lower than at q, else try q + dq as without it.
    line_search: bool = True
    line_search_max_step: float = 16.0
    # A rejected step whose predicted decrease was below this many times the convergence tolerance
    # (energy_atol + energy_rtol * E_t) ends the frame as converged: the model still sees a sliver of
    # gain but the true E_t, with fresh neighbours, rises (a fingertip crossing to the next cloud
    # point's tangent plane), and shrinking the step through more rejections gains less than that.
    # 0: only the plain tolerance ends a frame.
    reject_converge_factor: float = 10.0
    # Not in the paper: fingertips farther than this outside the object feel no contact attraction (f held at
    # f(band), f' = 0). None = Eq. 12 as written: every tip is pulled to the surface from any distance, which on
    # generated approach/release frames drags far fingers onto the object (in mm units the pull dominates W_gen).
    attraction_band_m: float | None = None
    # Underactuated hands (chain.coupling): optimise the free joints only, coupled ones follow their source
    # (q = C q_free + b), so the result is a pose the hand can take. False: every joint independently (the
    # driver would project the result onto the coupling, moving the fingertips).
    respect_coupling: bool = True
    # Not in the paper: also keep every joint frame of the hand (`KinematicChain.guard_frames`: knuckles,
    # phalanx joints; the points the evaluation's penetration reads) out of the object. They feel Eq. 12's inside
    # branch only (no attraction: f = 0 outside), so a finger whose tip is outside but whose middle joint sinks
    # into the object is pushed out too. False: Eq. 13 over the fingertips only, as the paper.
    guard_joints: bool = False

    def __post_init__(self) -> None:
        for name in ("lambda_c", "alpha", "k", "length_unit_m", "epsilon"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("w_gen", "w_vel", "w_acc"):
            w = np.atleast_1d(np.asarray(getattr(self, name), dtype=np.float64))
            if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w < 0):
                raise ValueError(f"{name} must be a non-negative scalar or one value per joint, got {w}")
            if name == "w_gen" and np.any(w <= 0):
                raise ValueError("w_gen must be > 0 (W_gen is positive definite, Eq. 14)")
        if not (0 < self.damping_decrease < 1 < self.damping_increase):
            raise ValueError("need 0 < damping_decrease < 1 < damping_increase")
        if self.attraction_band_m is not None and not self.attraction_band_m > 0:
            raise ValueError(f"attraction_band_m must be > 0 or None, got {self.attraction_band_m}")
        if not self.reject_converge_factor >= 0.0:
            raise ValueError(f"reject_converge_factor must be >= 0, got {self.reject_converge_factor}")
        if not self.line_search_max_step >= 1.0:
            raise ValueError(f"line_search_max_step must be >= 1, got {self.line_search_max_step}")
        if self.damping_init < 0 or self.max_iters < 0:
            raise ValueError("damping_init and max_iters must be >= 0")

    @property
    def band(self) -> float:
        """attraction_band_m in `length_unit_m` (inf when off)."""
        return math.inf if self.attraction_band_m is None else self.attraction_band_m / self.length_unit_m

    def weight(self, name: str, num_joints: int) -> np.ndarray:
        """The diagonal of W_gen / W_vel / W_acc as a (J,) array."""
        w = np.atleast_1d(np.asarray(getattr(self, name), dtype=np.float64))
        if w.size == 1:
            return np.full(num_joints, float(w[0]))
        if w.size != num_joints:
            raise InputError(f"{name} has {w.size} values for a hand with {num_joints} joints")
        return w.copy()


@dataclass(frozen=True)
class RefineResult:
    """Refined trajectory and what the solver did, per frame (T frames, J joints)."""

    q: np.ndarray  # (T, J) refined joints q^opt
    energy_before: np.ndarray  # (T,) E_t of the generated sequence (its own history as q_{t-1}, q_{t-2})
    energy_after: np.ndarray  # (T,) E_t of the refined sequence
    contact_energy_before: np.ndarray  # (T,) lambda_c sum f(d_i) at q^gen
    contact_energy_after: np.ndarray  # (T,)
    penetration_before_m: np.ndarray  # (T,) deepest penetration max(0, -d_i) at q^gen over the contact points
    # (fingertips, + joint frames with guard_joints)
    penetration_after_m: np.ndarray  # (T,)
    iterations: np.ndarray  # (T,) outer iterations (Jacobian evaluations)
    accepted_steps: np.ndarray  # (T,)
    rejected_steps: np.ndarray  # (T,)
    converged: np.ndarray  # (T,) bool
    clamped_joints: int  # q^gen entries outside the joint limits (clamped to start from)
    wall_s: float  # refinement time only (not the before/after statistics)
    history: tuple[np.ndarray, ...] | None = None  # per frame, E_t at every accepted iterate

    @property
    def frames_per_s(self) -> float:
        return float(self.q.shape[0] / self.wall_s) if self.wall_s > 0 else float("inf")

    @property
    def max_penetration_mm_before(self) -> float:
        return float(self.penetration_before_m.max(initial=0.0) * 1e3)

    @property
    def max_penetration_mm_after(self) -> float:
        return float(self.penetration_after_m.max(initial=0.0) * 1e3)


def _as_poses(T: np.ndarray | None, n: int, what: str) -> np.ndarray:
    if T is None:
        return np.broadcast_to(np.eye(4), (n, 4, 4))
    arr = np.asarray(T, dtype=np.float64)
    if arr.shape == (4, 4):
        arr = np.broadcast_to(arr, (n, 4, 4))
    if arr.shape != (n, 4, 4):
        raise InputError(f"{what} must have shape (4, 4) or ({n}, 4, 4), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} holds NaN or inf")
    return arr


def check_inputs(chain: KinematicChain, q_gen: np.ndarray, T_world_object: np.ndarray,
                 T_world_wrist: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate the inputs; return q_gen (T,J) and the root->object rotations (T,3,3), translations (T,3)."""
    q = np.asarray(q_gen, dtype=np.float64)
    if q.ndim != 2 or q.shape[1] != chain.num_joints:
        raise InputError(f"q_gen has shape {q.shape}; expected (T, {chain.num_joints}) for hand {chain.name!r}")
    if q.shape[0] == 0:
        raise InputError("q_gen is empty: nothing to refine")
    if not np.all(np.isfinite(q)):
        frames = np.flatnonzero(~np.all(np.isfinite(q), axis=1))
        raise InputError(f"q_gen holds NaN or inf in {frames.size} frame(s), first at frame {int(frames[0])}")
    n = q.shape[0]
    T_obj = _as_poses(T_world_object, n, "T_world_object")
    T_wr = _as_poses(T_world_wrist, n, "T_world_wrist")
    T_object_root = invert_transform(T_obj) @ T_wr  # (T, 4, 4): x = T_tar^-1 T_world_wrist s
    return q, np.ascontiguousarray(T_object_root[:, :3, :3]), np.ascontiguousarray(T_object_root[:, :3, 3])


class FrameEnergy:
    """E_t of one frame as residuals (Eq. 13 + the priors as weighted linear residuals).

    0.5 |residuals(q)|^2 == energy(q). Used by the scipy baseline and the tests; `Refiner` runs the
    same arithmetic inlined for speed.
    """

    def __init__(self, kin: TipKinematics, cloud: ObjectCloud, options: RefinerOptions, R: np.ndarray,
                 tvec: np.ndarray, q_gen: np.ndarray, q_prev: np.ndarray, q_prev2: np.ndarray,
                 bands: np.ndarray | None = None) -> None:
        J = kin.chain.num_joints
        self.kin, self.cloud, self.o = kin, cloud, options
        self.bands = options.band if bands is None else bands  # per contact point: o.band, 0 for guard frames
        self.R, self.tvec = R, tvec  # (3, 3), (3,): hand root -> object frame
        self.anchors = np.stack([q_gen, q_prev, 2.0 * q_prev - q_prev2])  # (3, J): q - anchor per prior
        self.sqrt_w = np.sqrt(np.stack([options.weight(w, J) for w in ("w_gen", "w_vel", "w_acc")]))  # (3, J)

    def tips_object(self, q: np.ndarray) -> np.ndarray:
        """x_i(q) (F,3), fingertips in the object frame (m)."""
        return self.kin.fk(q) @ self.R.T + self.tvec

    def correspondences(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.cloud.nearest(self.tips_object(q))

    def distances(self, q: np.ndarray, corr: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """d_i (F,) in `length_unit_m`, with fresh (None) or given frozen correspondences."""
        x = self.tips_object(q)
        p, n = self.cloud.nearest(x) if corr is None else corr
        return np.einsum("fc,fc->f", n, x - p) / self.o.length_unit_m

    def residuals(self, q: np.ndarray, corr: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """(F + 3J,) stacked residuals: r_contact (Eq. 13) then sqrt(W) (q - anchor) for the priors."""
        f, _ = penalty_and_grad(self.distances(q, corr), self.o.alpha, self.o.k, self.bands)
        r_c = np.sqrt(2.0 * self.o.lambda_c * f)
        return np.concatenate([r_c, (self.sqrt_w * (q - self.anchors)).ravel()])

    def jacobian(self, q: np.ndarray, corr: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """(F + 3J, J) Jacobian of `residuals`, contact rows by Eq. B19 with the correspondences frozen."""
        o = self.o
        x = self.tips_object(q)  # also leaves FK + joint Jacobians in kin.data
        p, n = self.cloud.nearest(x) if corr is None else corr
        d = np.einsum("fc,fc->f", n, x - p) / o.length_unit_m
        f, fp = penalty_and_grad(d, o.alpha, o.k, self.bands)
        J_d = np.einsum("fk,fkj->fj", n @ self.R, self.kin.jacobians()) / o.length_unit_m  # (F, J)
        g = np.sqrt(2.0 * o.lambda_c) * fp / (2.0 * np.sqrt(f) + o.epsilon**2)
        prior = np.concatenate([np.diag(s) for s in self.sqrt_w])  # (3J, J)
        return np.vstack([g[:, None] * J_d, prior])

    def energy(self, q: np.ndarray) -> float:
        r = self.residuals(q)
        return 0.5 * float(r @ r)


class Refiner:
    """Algorithm 1 for one hand. Reuse it across sequences; it is not thread-safe (one pinocchio.Data)."""

    def __init__(self, chain: KinematicChain, options: RefinerOptions | None = None) -> None:
        self.chain = chain
        self.options = options or RefinerOptions()
        self.num_tips = chain.num_tips
        contact_chain = chain.with_guard_frames() if self.options.guard_joints else chain
        self.num_guards = contact_chain.num_tips - chain.num_tips
        # per contact point: the attraction band (length units) of the tips, 0 (push-out only) for guard frames
        self._bands = np.array([self.options.band] * self.num_tips + [0.0] * self.num_guards)
        self._band_list = self._bands.tolist()  # the same, and f held beyond each, for the per-point loops
        self._f_bands = [0.5 * self.options.alpha * b * b if b < math.inf else math.inf for b in self._band_list]
        self.kin = TipKinematics(contact_chain)
        J = chain.num_joints
        # the solver runs in the model's joint order; sequences are permuted once on the way in/out
        self._perm = np.arange(J) if chain.q_index is None else chain.q_index  # internal[perm] = external
        self._inv = np.argsort(self._perm)  # external[:, inv] -> internal
        self._kin_int = TipKinematics(contact_chain, pinocchio_order=True)
        # the solver's variables: all joints in model order, or with couplings the free joints only
        self._C_int = self._b_int = None  # model-order q = C_int z + b_int in the reduced case
        self._C_ext = self._b_ext = None
        var = self._inv  # external column of each solver variable
        if chain.coupling and self.options.respect_coupling:
            C, b, free = chain.coupling_map()
            self._C_ext, self._b_ext = C, b
            self._C_int, self._b_int = np.ascontiguousarray(C[self._inv]), b[self._inv]
            var = free
        self._var = var
        self.w_gen = self.options.weight("w_gen", J)[var]
        self.w_vel = self.options.weight("w_vel", J)[var]
        self.w_acc = self.options.weight("w_acc", J)[var]
        self._lo = chain.lower_rad[var]
        self._hi = chain.upper_rad[var]
        self._wsum = self.w_gen + self.w_vel + self.w_acc
        self._half_wsum = 0.5 * self._wsum
        self._W_diag = np.diag(self._wsum)
        self._eye = np.eye(len(var))
        self._model = chain.model
        views = self._kin_int.live_views
        self._tip_views = None if views is None else views[0]
        self._J_lin = None if views is None else views[1][:3]  # live (3, nv) views of data.J
        self._J_ang = None if views is None else views[1][3:]
        self._support = self._kin_int.support_mask()  # (F, J), model order
        self._normals_cache: tuple | None = None
        support = self._support if self._C_int is None else (self._support @ (self._C_int != 0) > 0).astype(float)
        tips = support[:self.num_tips]  # the line search lengthens the steps of each fingertip's own joints
        self._exclusive = np.vstack([tips * (tips.sum(axis=0) == 1),  # solver variables that move one tip only
                                     np.zeros((self.num_guards, support.shape[1]))])
        # the guard frames each tip's own joints also move (its finger's phalanx joints): they join the tip's
        # one-dimensional line-search model, so lengthening a finger's step cannot drive its joints inside
        self._finger_guards = [[int(g) for g in range(self.num_tips, support.shape[0])
                                if (support[g] * self._exclusive[i]).any()] for i in range(self.num_tips)]

    def frame_energy(self, cloud: ObjectCloud, R: np.ndarray, tvec: np.ndarray, q_gen: np.ndarray,
                     q_prev: np.ndarray, q_prev2: np.ndarray) -> FrameEnergy:
        return FrameEnergy(self.kin, cloud, self.options, R, tvec, q_gen, q_prev, q_prev2, self._bands)

    def refine(self, cloud: ObjectCloud, q_gen: np.ndarray, T_world_object: np.ndarray,
               T_world_wrist: np.ndarray | None = None) -> RefineResult:
        """Refine q_gen (T,J) against the object cloud (object frame) posed by T_world_object (T,4,4)|(4,4).

        T_world_wrist (T,4,4)|(4,4)|None poses the hand root frame (identity when None); it is not
        optimised. Raises InputError on NaN/empty inputs.
        """
        if not isinstance(cloud, ObjectCloud):
            raise InputError(f"cloud must be an ObjectCloud, got {type(cloud).__name__}")
        q_gen, R_all, t_all = check_inputs(self.chain, q_gen, T_world_object, T_world_wrist)
        o = self.options
        n_frames, J = q_gen.shape
        lo, hi = self.chain.lower_rad, self.chain.upper_rad
        q_start = np.clip(q_gen, lo, hi) if o.joint_limits else q_gen
        clamped = int(np.count_nonzero(q_start != q_gen))
        var = self._var
        qg_int, q_start = q_gen[:, var], q_start[:, var]  # (T, V) the solver's variables

        out = np.empty_like(qg_int)
        stats = np.zeros((n_frames, 4), dtype=np.int64)  # iterations, accepted, rejected, converged
        e_after = np.empty(n_frames)
        hist: list[np.ndarray] | None = [] if o.record_history else None
        q1 = q2 = qg_int[0]  # boundary priors q_{-1} = q_{-2} = q_0^gen (Algorithm 1, line 1)
        t0 = time.perf_counter()
        lo_i, hi_i, warm = self._lo, self._hi, o.warm_start
        for t in range(n_frames):
            q0 = q_start[t]
            if warm and t > 0:  # q_t^0 = q_t^gen + (q_{t-1}^opt - q_{t-1}^gen), inside the limits
                q0 = qg_int[t] + (q1 - qg_int[t - 1])
                if o.joint_limits:
                    q0 = np.minimum(np.maximum(q0, lo_i), hi_i)
            q, e, st, h = self._refine_frame(cloud, R_all[t], t_all[t], qg_int[t], q0, q1, q2)
            out[t], e_after[t], stats[t] = q, e, st
            if hist is not None:
                hist.append(h)
            q2, q1 = q1, q
        wall = time.perf_counter() - t0
        if self._C_ext is None:
            out = out[:, self._perm]  # back to joint_names order
        else:  # free joints -> all joints (couplings applied)
            out = out @ self._C_ext.T + self._b_ext

        ec_before, pen_before, e_before = self._sequence_stats(cloud, R_all, t_all, q_gen, q_gen)
        ec_after, pen_after, _ = self._sequence_stats(cloud, R_all, t_all, out, None)
        return RefineResult(
            q=out, energy_before=e_before, energy_after=e_after,
            contact_energy_before=ec_before, contact_energy_after=ec_after,
            penetration_before_m=pen_before, penetration_after_m=pen_after,
            iterations=stats[:, 0], accepted_steps=stats[:, 1], rejected_steps=stats[:, 2],
            converged=stats[:, 3].astype(bool), clamped_joints=clamped, wall_s=wall,
            history=None if hist is None else tuple(hist),
        )

    def _sequence_stats(self, cloud: ObjectCloud, R_all: np.ndarray, t_all: np.ndarray, q: np.ndarray,
                        q_gen: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Contact energy and deepest penetration per frame; with q_gen also E_t (q's own history)."""
        o = self.options
        n_frames = q.shape[0]
        ec, pen = np.empty(n_frames), np.empty(n_frames)
        energy = None if q_gen is None else np.empty(n_frames)
        q1 = q2 = q[0] if q_gen is None else q_gen[0]
        for t in range(n_frames):
            x = self.kin.fk(q[t]) @ R_all[t].T + t_all[t]
            p, n = cloud.nearest(x)
            d_m = np.einsum("fc,fc->f", n, x - p)
            f, _ = penalty_and_grad(d_m / o.length_unit_m, o.alpha, o.k, self._bands)
            ec[t] = o.lambda_c * f.sum()
            pen[t] = max(0.0, float(-d_m.min()))
            if energy is not None:
                energy[t] = ec[t] + self._prior_energy(q[t], q_gen[t], q1, q2)
            q2, q1 = q1, q[t]
        return ec, pen, energy

    def _prior_energy(self, q: np.ndarray, qg: np.ndarray, q1: np.ndarray, q2: np.ndarray) -> float:
        """Eqs. 14-15 with q's in joint_names order."""
        v = self._var
        eg, ev, ea = (q - qg)[v], (q - q1)[v], (q - 2.0 * q1 + q2)[v]
        return 0.5 * float(self.w_gen @ (eg * eg) + self.w_vel @ (ev * ev) + self.w_acc @ (ea * ea))

    def _refine_frame(self, cloud: ObjectCloud, R: np.ndarray, tv: np.ndarray, qg: np.ndarray,
                      q0: np.ndarray, q1: np.ndarray, q2: np.ndarray
                      ) -> tuple[np.ndarray, float, tuple[int, int, int, int], Any]:
        """Algorithm 1, lines 3-12, for one frame. Returns q_t^opt, E_t, counters, energy history.

        Written for speed: every numpy call on these tiny arrays costs about a microsecond, so the
        arithmetic is folded (e.g. the priors' energy as 0.5 q.W.q - m.q + c, Eq. 14-15 expanded),
        the per-fingertip penalty runs on Python floats, fingertip positions and the joint Jacobian
        are read from live views into pinocchio's Data, and a trial point that is rejected never
        gets its Jacobian built.
        """
        o = self.options
        evaluate, linearize, step_length = self._frame_functions(cloud, R, tv, qg, q1, q2)
        search, deep = o.line_search, -1.0 / o.k  # try longer steps while a tip is deeper than 1/k
        lo, hi, limits = self._lo, self._hi, o.joint_limits
        vmax, vmin, vmaxi = np.maximum.reduce, np.minimum, np.maximum
        eye = self._eye
        rtol, atol, gtol, stol = o.energy_rtol, o.energy_atol, o.grad_tol, o.step_tol_rad
        dec, inc, floor, lam_max = o.damping_decrease, o.damping_increase, o.damping_floor, o.damping_max
        stop_rej = o.reject_converge_factor

        q = q0.copy()
        e, state = evaluate(q)
        lam = o.damping_init
        it = acc = rej = conv = 0
        hist = [e] if o.record_history else None
        at_bound = limits and bool(((q <= lo) | (q >= hi)).any())
        while it < o.max_iters:
            it += 1
            grad, H, J_d = linearize(q, state)  # lines 7-8: J_t with frozen correspondences, W~
            try_long = search and min(state[2]) < deep
            if at_bound:
                active = ((q <= lo) & (grad > 0)) | ((q >= hi) & (grad < 0))
                if active.any():  # joints pinned at a limit and pushed outwards stay put
                    grad[active] = 0.0
                    H[active, :] = 0.0
                    H[:, active] = 0.0
                    H[active, active] = 1.0
            if vmax(grad) < gtol and vmax(-grad) < gtol:  # |grad|_inf < gtol, cheapest test first
                conv = 1
                break
            ngrad = -grad
            while True:  # lines 9-10: solve, try, adapt lambda
                _, dq, info = dposv(H + lam * eye, ngrad, 0, 1, 0)  # lower=0, overwrite_a=1, overwrite_b=0
                if info == 0:
                    # GN model decrease -(dq.grad + dq.H.dq / 2), with H dq = -grad - lam dq
                    predicted = 0.5 * float(lam * (dq @ dq) + dq @ ngrad)
                    if predicted <= atol + rtol * e:
                        lam = np.inf  # the model sees no useful step left: converged
                        break
                    if try_long:  # once per iteration, on the first solve
                        try_long = False
                        sl = step_length(q, dq, state[2], J_d)
                        if sl is not None:
                            q_new = q + sl * dq
                            q_new = vmin(vmaxi(q_new, lo), hi) if limits else q_new
                            e_new, state_new = evaluate(q_new)
                            if e_new < e:
                                break
                    q_new = vmin(vmaxi(q + dq, lo), hi) if limits else q + dq
                    e_new, state_new = evaluate(q_new)
                    if e_new < e:
                        break
                rej += 1
                if info == 0 and predicted <= stop_rej * (atol + rtol * e):
                    lam = np.inf  # a small predicted gain the true E_t refuses: a facet edge, converged
                    break
                # jump straight to a damping felt next to H's diagonal, then grow geometrically
                lam = max(lam * inc, floor * float(H.trace()) / H.shape[0])
                if lam > lam_max:
                    break
            if lam > lam_max:
                conv = int(np.isinf(lam))  # else: no step lowers E_t any more
                break
            acc += 1
            drop = e - e_new
            lam *= dec
            q, e, state = q_new, e_new, state_new
            if limits:
                at_bound = vmax(lo - q) >= 0.0 or vmax(q - hi) >= 0.0
            if hist is not None:
                hist.append(e)
            if drop <= atol + rtol * e or (vmax(dq) < stol and vmax(-dq) < stol):
                conv = 1
                break
        return q, e, (it, acc, rej, conv), None if hist is None else np.asarray(hist)

    def _unit_normals(self, cloud: ObjectCloud, inv_unit: float) -> np.ndarray:
        """cloud.normals * inv_unit, cached for the last cloud (one sequence is refined frame by frame)."""
        cached = self._normals_cache
        if cached is None or cached[0] is not cloud or cached[1] is not cloud.normals:
            cached = self._normals_cache = (cloud, cloud.normals, cloud.normals * inv_unit)
        return cached[2]

    def _frame_functions(self, cloud: ObjectCloud, R: np.ndarray, tv: np.ndarray, qg: np.ndarray,
                         q1: np.ndarray, q2: np.ndarray):
        """(evaluate, linearize, step_length) of E_t for one frame, in the model's joint order.

        evaluate(q) -> (E_t(q), state): FK at q, fresh nearest neighbours (Algorithm 1, lines 5-6),
        d_i (Eq. 11), E_t (Eq. 16); it leaves q's kinematics in the pinocchio Data.
        linearize(q, state) -> (gradient J^T r + W~, J^T J + W_gen + W_vel + W_acc, d d_i / dq) (Eqs.
        17-18, B19) with the correspondences of `state` frozen; q must be the last point evaluated.
        """
        o = self.options
        model, data = self._model, self._kin_int.data
        cjj, ufp = pin.computeJointJacobians, pin.updateFramePlacements
        inv_unit, lc, alpha, kk = 1.0 / o.length_unit_m, o.lambda_c, o.alpha, o.k
        s_in, a_in, half_alpha = alpha / (kk * kk), alpha / kk, 0.5 * alpha
        sq2lc, eps2 = math.sqrt(2.0 * lc), o.epsilon**2
        vsum = np.add.reduce
        wg, wv, wa = self.w_gen, self.w_vel, self.w_acc
        wsum = self._wsum  # (J,) diagonal of W_gen + W_vel + W_acc (Eq. 17)
        half_wsum, W_diag = self._half_wsum, self._W_diag
        c_acc = 2.0 * q1 - q2  # (q - q1) - (q1 - q2) = q - c_acc
        m = wg * qg + wv * q1 + wa * c_acc  # W~ (Eq. 18) = wsum * q - m
        e0 = 0.5 * float(wg @ (qg * qg) + wv @ (q1 * q1) + wa @ (c_acc * c_acc))
        query, P = cloud.nearest_index_fn(), cloud.points
        N = self._unit_normals(cloud, inv_unit)  # n_i / unit: d_i = (n_i / unit)^T (x_i - p_i), Eq. 11
        RT = R.T.copy()
        kin, views = self._kin_int, self._tip_views
        mask, J_lin, J_ang = self._support, self._J_lin, self._J_ang
        expm1, sqrt = math.expm1, math.sqrt

        band = o.band  # the fingertips' (the line search moves tips only)
        bands, f_bands = self._band_list, self._f_bands  # per contact point

        def f_and_grad(di: float, bd: float, fb: float) -> tuple[float, float]:
            if di >= 0.0:
                if di > bd:
                    return fb, 0.0
                return half_alpha * di * di, alpha * di
            u = -kk * di
            if u > EXP_CAP:
                f, fp = penalty_and_grad(np.array([di]), alpha, kk)
                return float(f[0]), float(fp[0])
            em1 = expm1(u)
            return s_in * (em1 - u), -a_in * em1

        Cz, bz = self._C_int, self._b_int

        def evaluate(q: np.ndarray) -> tuple[float, tuple]:
            qm = q if Cz is None else Cz @ q + bz  # the model's configuration
            if views is None:
                kin.update(qm)
                X = kin.positions()
            else:
                cjj(model, data, qm)
                ufp(model, data)
                X = np.array(views)  # (F, 3) hand root frame
            x = X @ RT + tv  # (F, 3) object frame (Algorithm 1, line 5)
            idx = query(x)  # line 6
            n = N.take(idx, 0)  # take: a third of the cost of fancy indexing on these sizes
            dl = vsum((x - P.take(idx, 0)) * n, axis=1).tolist()  # Eq. 11, in length units
            ec = 0.0
            for di, bd, fb in zip(dl, bands, f_bands):  # Eq. 12-13
                if di >= 0.0:
                    ec += half_alpha * di * di if di <= bd else fb
                elif -kk * di <= EXP_CAP:
                    u = -kk * di
                    ec += s_in * (expm1(u) - u)
                else:
                    ec += f_and_grad(di, bd, fb)[0]
            e = lc * ec + float(half_wsum @ (q * q) - m @ q) + e0  # Eq. 16
            return e, (X, n, dl)

        def linearize(q: np.ndarray, state: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            X, n, dl = state
            g, r = [], []
            for di, bd, fb in zip(dl, bands, f_bands):  # Eq. B19: dr_i/dd_i and r_i
                f, fp = f_and_grad(di, bd, fb)
                sf = sqrt(f)
                g.append(sq2lc * fp / (2.0 * sf + eps2))
                r.append(sq2lc * sf)
            M = n @ R  # (F, 3): n_i^T R / unit, root frame
            if views is None:
                J_d = np.einsum("fk,fkj->fj", M, kin.jacobians())
            else:
                # translational Jacobian of tip p: J_lin + J_ang x p (data.J is in the root frame), so
                # m^T J_p = m^T J_lin + (p x m)^T J_ang on the joints that support the tip
                C = np.einsum("ijk,fj,fk->fi", _LEVI_CIVITA, X, M)
                J_d = mask * (M @ J_lin + C @ J_ang)  # (F, J) = d d_i / dq (length units per rad)
            if Cz is not None:
                J_d = J_d @ Cz  # (F, V): chain rule through the couplings
            J_r = J_d * np.array(g)[:, None]  # (F, J) = d r_contact / dq
            return J_r.T @ np.array(r) + wsum * q - m, J_r.T @ J_r + W_diag, J_d

        e_cap = math.exp(EXP_CAP)
        s_max = o.line_search_max_step
        excl = self._exclusive  # (P, J): 1 where joint j moves fingertip i and no other tip (guard rows: 0)
        finger_guards, n_tips = self._finger_guards, self.num_tips

        def step_length(q: np.ndarray, dq: np.ndarray, dl: list, J_d: np.ndarray) -> np.ndarray | None:
            """Per-fingertip step lengths s_i in [1, s_max] along the LM step dq, as a (J,) joint scale.

            The joints that move only fingertip i (its finger) take s_i dq, shared joints dq. With
            the distances linear in the step (d_i + c0_i + s_i c_i, frozen correspondences) and
            diagonal priors, the model of E_t separates into one convex function of s_i per finger (its
            tip, plus with guard_joints the finger's joint frames, which feel the push-out only);
            each s_i is its minimiser, found by bracketing the root of the slope (doubling s from 1)
            and regula falsi (Illinois); Newton would move an exponential tip by only ~1/k per
            iteration, as slowly as the outer Gauss-Newton steps this is meant to save. Returns None
            when every s_i is 1.
            """
            Jx = J_d * dq  # (P, J): each joint's share of the step's change of d_p
            C1 = vsum(Jx * excl, axis=1)  # (P,) c_i: tip i's own joints
            C0 = (vsum(Jx, axis=1) - C1).tolist()  # (P,) shared joints
            gq = (wsum * q - m) * dq
            B = (excl @ gq).tolist()  # d/ds_i of the priors (Eqs. 14-15) at s_i = 0
            A = (excl @ (wsum * dq * dq)).tolist()  # their second derivative
            scale = None
            for i, ci in enumerate(C1[:n_tips].tolist()):
                # the finger's points as (d at s = 0, change per unit s, attraction band): tip, then guards
                pts = [(dl[i] + C0[i], ci, band)]
                for g in finger_guards[i]:
                    cg = float(Jx[g] @ excl[i])
                    pts.append((dl[g] + float(Jx[g].sum()) - cg, cg, 0.0))
                if not any(c > 0.0 and d0 + c < 0.0 for d0, c, _ in pts):
                    continue  # no point moving out and still inside at s = 1: the GN step stands
                a, b = A[i], B[i]

                def slope(s: float, pts: list = pts, a: float = a, b: float = b) -> float:
                    total = a * s + b
                    for d0, c, bd in pts:
                        x = d0 + s * c
                        if x >= 0.0:
                            gc = alpha * x if x <= bd else 0.0
                        else:
                            u = -kk * x
                            if u <= EXP_CAP:
                                gc = -a_in * expm1(u)
                            else:  # the quadratic continuation of penalty.py beyond the cap
                                gc = -a_in * (e_cap - 1.0 + e_cap * (u - EXP_CAP))
                        total += lc * gc * c
                    return total

                s_lo, g_lo = 1.0, slope(1.0)
                if g_lo >= 0.0:
                    continue
                s_hi = 2.0
                while True:
                    g_hi = slope(s_hi)
                    if g_hi >= 0.0 or s_hi >= s_max:
                        break
                    s_lo, g_lo = s_hi, g_hi
                    s_hi = min(2.0 * s_hi, s_max)
                if g_hi < 0.0:
                    s_lo = s_hi
                else:
                    side = 0
                    for _ in range(12):
                        if s_hi - s_lo < 0.02 * s_lo:
                            break
                        s = (s_lo * g_hi - s_hi * g_lo) / (g_hi - g_lo)
                        g = slope(s)
                        if g < 0.0:
                            s_lo, g_lo = s, g
                            if side == -1:
                                g_hi *= 0.5
                            side = -1
                        else:
                            s_hi, g_hi = s, g
                            if side == 1:
                                g_lo *= 0.5
                            side = 1
                if s_lo > 1.25:
                    if scale is None:
                        scale = np.ones(q.shape[0])
                    scale += (s_lo - 1.0) * excl[i]
            return scale

        return evaluate, linearize, step_length


_LEVI_CIVITA = np.zeros((3, 3, 3))
_LEVI_CIVITA[0, 1, 2] = _LEVI_CIVITA[1, 2, 0] = _LEVI_CIVITA[2, 0, 1] = 1.0
_LEVI_CIVITA[0, 2, 1] = _LEVI_CIVITA[2, 1, 0] = _LEVI_CIVITA[1, 0, 2] = -1.0


def _penalty_fast(d: np.ndarray, alpha: float, k: float) -> tuple[np.ndarray, np.ndarray]:
    """`penalty_and_grad` with fewer numpy calls: f = s (e^u+ - u+ - 1) + alpha/2 (d+)^2, u = -k d."""
    u = -k * d
    if np.maximum.reduce(u) > EXP_CAP:
        return penalty_and_grad(d, alpha, k)
    up = np.maximum(u, 0.0)
    dp = np.maximum(d, 0.0)
    em1 = np.expm1(up)
    s = alpha / (k * k)
    return s * (em1 - up) + (0.5 * alpha) * dp * dp, alpha * dp - (alpha / k) * em1


def refine(chain: KinematicChain, cloud: ObjectCloud, q_gen: np.ndarray, T_world_object: np.ndarray,
           T_world_wrist: np.ndarray | None = None, options: RefinerOptions | None = None) -> RefineResult:
    """One-call form of `Refiner(chain, options).refine(...)`."""
    return Refiner(chain, options).refine(cloud, q_gen, T_world_object, T_world_wrist)
