"""Baseline: the same per-frame energy E_t minimised by `scipy.optimize.least_squares`.

Frame by frame like Algorithm 1 (q_{t-1}, q_{t-2} are this solver's own refined frames, with the
same boundary rule), on the same stacked residual vector (`FrameEnergy.residuals`: contact
residuals of Eq. 13 with fresh nearest neighbours at every evaluation, then sqrt(W)-weighted prior
residuals), the analytic Jacobian of Eq. B19, and the joint limits as bounds ("trf"). It starts each
frame where `Refiner` does: q_t^gen, or with `RefinerOptions.warm_start` q_t^gen plus its own
previous frame's correction. Nearest neighbours come from the same `ObjectCloud.nearest_index_fn`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from unihm_refiner.contact import ObjectCloud
from unihm_refiner.kinematics import KinematicChain
from unihm_refiner.refiner import Refiner, RefinerOptions, check_inputs


@dataclass(frozen=True)
class BaselineResult:
    q: np.ndarray  # (T, J)
    energy_after: np.ndarray  # (T,) E_t at the solution, with this solver's own history
    nfev: np.ndarray  # (T,) residual evaluations
    njev: np.ndarray  # (T,) Jacobian evaluations
    wall_s: float

    @property
    def frames_per_s(self) -> float:
        return float(self.q.shape[0] / self.wall_s) if self.wall_s > 0 else float("inf")


def refine_least_squares(chain: KinematicChain, cloud: ObjectCloud, q_gen: np.ndarray,
                         T_world_object: np.ndarray, T_world_wrist: np.ndarray | None = None,
                         options: RefinerOptions | None = None, ftol: float = 1e-8, xtol: float = 1e-8,
                         gtol: float = 1e-8, max_nfev: int | None = None) -> BaselineResult:
    """Minimise each E_t with scipy's trust-region reflective least squares (see module docstring)."""
    refiner = Refiner(chain, options)
    q_gen, R_all, t_all = check_inputs(chain, q_gen, T_world_object, T_world_wrist)
    lo, hi = chain.lower_rad, chain.upper_rad
    limits = refiner.options.joint_limits
    # least_squares needs lower < upper strictly; a fixed joint gets a hair of room
    hi_b = np.where(hi > lo, hi, lo + 1e-12)
    bounds = (lo, hi_b) if limits else (-np.inf, np.inf)
    n_frames = q_gen.shape[0]
    out = np.empty_like(q_gen)
    energy = np.empty(n_frames)
    nfev = np.zeros(n_frames, dtype=np.int64)
    njev = np.zeros(n_frames, dtype=np.int64)
    q1 = q2 = q_gen[0]
    t0 = time.perf_counter()
    warm = refiner.options.warm_start
    for t in range(n_frames):
        prob = refiner.frame_energy(cloud, R_all[t], t_all[t], q_gen[t], q1, q2)
        x0 = q_gen[t] + (q1 - q_gen[t - 1]) if warm and t > 0 else q_gen[t]  # as Refiner.refine
        x0 = np.clip(x0, lo, hi_b) if limits else x0
        sol = least_squares(prob.residuals, x0, jac=prob.jacobian, bounds=bounds, method="trf",
                            ftol=ftol, xtol=xtol, gtol=gtol, max_nfev=max_nfev)
        out[t] = sol.x
        energy[t] = float(sol.cost)
        nfev[t], njev[t] = sol.nfev, sol.njev or 0
        q2, q1 = q1, sol.x
    wall = time.perf_counter() - t0
    return BaselineResult(q=out, energy_after=energy, nfev=nfev, njev=njev, wall_s=wall)
