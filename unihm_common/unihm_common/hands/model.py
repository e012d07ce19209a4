"""`Hand`: a HandSpec plus its Pinocchio model; batched fingertip FK and frame Jacobians (numpy in/out).

Positions are in the model's root frame (the hand's wrist frame; for an arm+hand chain, the arm base).
Jacobians are translational, `pinocchio.LOCAL_WORLD_ALIGNED`, columns in canonical joint order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unihm_common.errors import InputError, MissingDependencyError
from unihm_common.hands.spec import HandSpec, load_hand_spec


def import_pinocchio():
    try:
        import pinocchio
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError("the hand library needs Pinocchio: pip install pin") from exc
    return pinocchio


class Kinematics:
    """Batched FK/Jacobians of named frames of a Pinocchio model over a canonical joint order."""

    def __init__(self, model, joint_names: Sequence[str], frames: Sequence[str], label: str) -> None:
        pin = import_pinocchio()
        self._pin = pin
        self.model = model
        self.data = model.createData()
        self.label = label
        self.joint_names = tuple(joint_names)
        q_idx, v_idx = [], []
        for n in self.joint_names:
            if not model.existJointName(n):
                raise InputError(f"{label}: joint {n!r} is not in the Pinocchio model")
            jm = model.joints[model.getJointId(n)]
            if jm.nq != 1 or jm.nv != 1:
                raise InputError(f"{label}: joint {n!r} has nq={jm.nq}; only 1-DoF joints are supported")
            q_idx.append(jm.idx_q)
            v_idx.append(jm.idx_v)
        if model.nq != len(q_idx):
            raise InputError(f"{label}: model has nq={model.nq} but {len(q_idx)} joints are named")
        self._q_idx = np.array(q_idx)
        self._v_idx = np.array(v_idx)
        self.fingertip_frames = tuple(frames)
        self._tip_ids = self.frame_ids(frames)

    def frame_ids(self, frames: Sequence[str]) -> list[int]:
        ids = []
        for f in frames:
            if not self.model.existFrame(f):
                raise InputError(f"{self.label}: frame {f!r} is not in the model")
            ids.append(self.model.getFrameId(f))
        return ids

    def _batch(self, q) -> tuple[np.ndarray, bool]:
        q = np.asarray(q, dtype=np.float64)
        single = q.ndim == 1
        q2 = q.reshape(1, -1) if single else q
        if q2.ndim != 2 or q2.shape[1] != len(self.joint_names):
            raise InputError(f"{self.label}: q must be (J,) or (B, J) with J={len(self.joint_names)}, "
                             f"got shape {q.shape}")
        if not np.all(np.isfinite(q2)):
            raise InputError(f"{self.label}: q contains NaN/inf")
        qp = np.zeros((q2.shape[0], self.model.nq))  # (B, nq) Pinocchio order
        qp[:, self._q_idx] = q2
        return qp, single

    def frame_positions(self, q, frames: Sequence[str] | None = None) -> np.ndarray:
        """q (B, J) or (J,) -> (B, F, 3) or (F, 3) frame origins in the root frame (m)."""
        ids = self._tip_ids if frames is None else self.frame_ids(frames)
        qp, single = self._batch(q)
        out = np.empty((qp.shape[0], len(ids), 3))  # (B, F, 3)
        pin, model, data = self._pin, self.model, self.data
        for b in range(qp.shape[0]):
            pin.framesForwardKinematics(model, data, qp[b])
            for k, fid in enumerate(ids):
                out[b, k] = data.oMf[fid].translation
        return out[0] if single else out

    def fk_and_jacobians(self, q, frames: Sequence[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """q (B, J) -> positions (B, F, 3) and translational Jacobians (B, F, 3, J); unbatched for (J,)."""
        ids = self._tip_ids if frames is None else self.frame_ids(frames)
        qp, single = self._batch(q)
        B, J = qp.shape[0], len(self.joint_names)
        pos = np.empty((B, len(ids), 3))  # (B, F, 3)
        jac = np.empty((B, len(ids), 3, J))  # (B, F, 3, J)
        pin, model, data = self._pin, self.model, self.data
        lwa, cols = pin.LOCAL_WORLD_ALIGNED, self._v_idx
        for b in range(B):
            pin.computeJointJacobians(model, data, qp[b])
            pin.updateFramePlacements(model, data)
            for k, fid in enumerate(ids):
                pos[b, k] = data.oMf[fid].translation
                jac[b, k] = pin.getFrameJacobian(model, data, fid, lwa)[:3, cols]
        return (pos[0], jac[0]) if single else (pos, jac)

    # Names the rest of the stack codes against.
    def fingertip_positions(self, q) -> np.ndarray:
        """q (B, J) or (J,) -> fingertip positions (B, F, 3) or (F, 3) in the root frame (m)."""
        return self.frame_positions(q)

    def frame_jacobians(self, q, frames: Sequence[str] | None = None) -> np.ndarray:
        """q (B, J) -> (B, F, 3, J) translational Jacobians (LOCAL_WORLD_ALIGNED), canonical columns."""
        return self.fk_and_jacobians(q, frames)[1]

    def fingertip_fk_and_jacobians(self, q) -> tuple[np.ndarray, np.ndarray]:
        """Fingertip positions (B, F, 3) and Jacobians (B, F, 3, J) in one pass."""
        return self.fk_and_jacobians(q)

    def frame_transforms(self, q, frames: Sequence[str]) -> np.ndarray:
        """q (J,) -> (F, 4, 4) homogeneous transforms of `frames` in the root frame."""
        qp, _ = self._batch(q)
        self._pin.framesForwardKinematics(self.model, self.data, qp[0])
        return np.stack([self.data.oMf[f].homogeneous for f in self.frame_ids(frames)])


class Hand(Kinematics):
    """A hand: `spec` (joint order, limits, couplings, units) + Pinocchio `model`/`data`."""

    def __init__(self, spec: HandSpec) -> None:
        pin = import_pinocchio()
        model = pin.buildModelFromUrdf(str(spec.urdf_path))  # mimic joints stay ordinary joints (J = nq)
        super().__init__(model, spec.joint_names, spec.fingertip_frames, spec.name)
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    def clamp(self, q) -> tuple[np.ndarray, int]:
        """Clip (..., J) into the joint limits -> (clipped, count clipped); InputError on NaN/inf."""
        return self.spec.clamp(q)

    def keypoints(self, q) -> np.ndarray:
        """(B, K, 3) positions of the spec's keypoint frames (MANO: the 21 keypoints)."""
        if not self.spec.keypoint_frames:
            raise InputError(f"{self.name} defines no keypoints")
        return self.frame_positions(q, self.spec.keypoint_frames)

    def random_q(self, n: int, rng: np.random.Generator | None = None, coupled: bool = True) -> np.ndarray:
        """(n, J) uniform samples within the limits; with `coupled`, coupled joints follow their sources."""
        rng = rng or np.random.default_rng()
        spec = self.spec
        idx = spec.actuated_indices
        q_act = rng.uniform(spec.lower_rad[idx], spec.upper_rad[idx], size=(n, spec.num_actuated))
        if coupled:
            return spec.actuated_to_full(q_act)
        return rng.uniform(spec.lower_rad, spec.upper_rad, size=(n, spec.num_joints))


def load_hand(name: str) -> Hand:
    """Build the `Hand` (spec + Pinocchio model) of `name` or an alias."""
    return Hand(load_hand_spec(name))
