"""The little the refiner needs from a hand: a Pinocchio model, fingertip frames, joint limits.

`KinematicChain` is built from a hand of the hand library (`from_hand`) or from any URDF
(`from_urdf_xml`, used by the tests' toy hands). `TipKinematics` evaluates fingertip positions and
translational Jacobians in the hand root frame with one reused `pinocchio.Data`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pinocchio as pin

from unihm_common.errors import ConfigError


@dataclass(frozen=True, eq=False)
class KinematicChain:
    """A hand as the refiner sees it.

    model: pinocchio model whose world frame is the hand root (wrist) frame.
    tip_frame_ids: ids of the F fingertip frames in `model`.
    lower_rad, upper_rad: (J,) joint limits in `joint_names` order.
    q_index: (J,) index into the pinocchio configuration of each joint of `joint_names`;
      None when the two orders agree.
    """

    model: Any
    tip_frame_ids: tuple[int, ...]
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    joint_names: tuple[str, ...]
    tip_frames: tuple[str, ...] = ()
    q_index: np.ndarray | None = None
    name: str = "custom"
    # linear joint couplings (underactuated hands), joint_names: (coupled, source, ratio, offset) with
    # q[coupled] = ratio * q[source] + offset; the refiner then optimises the free joints only
    coupling: tuple[tuple[str, str, float, float], ...] = ()

    def __post_init__(self) -> None:
        if self.model.nq != self.model.nv:
            raise ConfigError(f"hand {self.name!r}: the refiner needs nq == nv (no continuous/free joints)")
        n = len(self.joint_names)
        if n != self.model.nq:
            raise ConfigError(f"hand {self.name!r}: {n} joint names for a model with nq = {self.model.nq}")
        if not self.tip_frame_ids:
            raise ConfigError(f"hand {self.name!r}: no fingertip frames")
        lo = np.asarray(self.lower_rad, dtype=np.float64)
        hi = np.asarray(self.upper_rad, dtype=np.float64)
        if lo.shape != (n,) or hi.shape != (n,) or np.any(lo > hi):
            raise ConfigError(f"hand {self.name!r}: joint limits must be (J,) with lower <= upper")
        object.__setattr__(self, "lower_rad", lo)
        object.__setattr__(self, "upper_rad", hi)
        if self.q_index is not None:
            idx = np.asarray(self.q_index, dtype=np.int64)
            object.__setattr__(self, "q_index", None if np.array_equal(idx, np.arange(n)) else idx)
        coupled = [c[0] for c in self.coupling]
        for dst, src, _, _ in self.coupling:
            if dst not in self.joint_names or src not in self.joint_names or src in coupled:
                raise ConfigError(f"hand {self.name!r}: coupling {dst!r} <- {src!r} needs two known joints and a "
                                  f"free source")
        if len(set(coupled)) != len(coupled):
            raise ConfigError(f"hand {self.name!r}: a joint is coupled twice")

    def coupling_map(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(C (J, A), b (J,), free (A,)): q = C q[free] + b in joint_names order; free = uncoupled joints."""
        names = list(self.joint_names)
        coupled = {c[0]: c for c in self.coupling}
        free = np.array([i for i, n in enumerate(names) if n not in coupled], dtype=np.int64)
        col = {int(j): a for a, j in enumerate(free)}
        C, b = np.zeros((len(names), len(free))), np.zeros(len(names))
        for i, n in enumerate(names):
            if n in coupled:
                _, src, ratio, offset = coupled[n]
                C[i, col[names.index(src)]], b[i] = ratio, offset
            else:
                C[i, col[i]] = 1.0
        return C, b, free

    def guard_frames(self, min_lever_m: float = 0.005) -> tuple[str, ...]:
        """Joint frames (named after the joints) that are not fingertips and that a finger joint moves: the points
        `RefinerOptions.guard_joints` keeps out of the object.

        A finger joint is one that does not move every fingertip (the hand's own wrist, e.g. shadow's WRJ2/WRJ1,
        moves them all), and it must move the frame (lever arm >= `min_lever_m`: shadow's THJ4 sits on THJ5's
        axis). A frame only the wrist can lift out (the palm's knuckles) would make the refiner turn the whole
        hand, moving every finger away from the motion (measured: +1.15 mm MPJPE on validation with them)."""
        m, tips = self.model, set(self.tip_frame_ids)
        palm = set.intersection(*(set(m.supports[m.frames[t].parentJoint]) for t in self.tip_frame_ids))
        data, q0 = m.createData(), pin.neutral(m)

        def frame_origins(q: np.ndarray) -> np.ndarray:  # (nframes, 3)
            pin.framesForwardKinematics(m, data, q)
            return np.array([f.translation for f in data.oMf])

        rest, turned = frame_origins(q0), {}  # turned: joint -> frame origins with that joint moved by 0.1
        out = []
        for jn in self.joint_names:
            if not m.existFrame(jn):
                continue
            fid = m.getFrameId(jn)
            if fid in tips:
                continue
            for j in m.supports[m.frames[fid].parentJoint]:
                if j == 0 or j in palm or m.names[j] == jn:
                    continue
                if j not in turned:
                    q1 = q0.copy()
                    q1[m.joints[j].idx_q] += 0.1  # rad (or m): a lever of min_lever_m moves a frame by 0.1 x it
                    turned[j] = frame_origins(q1)
                if np.linalg.norm(turned[j][fid] - rest[fid]) >= 0.1 * min_lever_m:
                    out.append(jn)
                    break
        return tuple(out)

    def with_guard_frames(self) -> KinematicChain:
        """This chain with `guard_frames()` appended to its contact frames (tip_frame_ids / tip_frames)."""
        guards = self.guard_frames()
        ids = tuple(self.model.getFrameId(g) for g in guards)
        return dataclasses.replace(self, tip_frame_ids=self.tip_frame_ids + ids,
                                   tip_frames=tuple(self.tip_frames) + guards)

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def num_tips(self) -> int:
        return len(self.tip_frame_ids)

    @classmethod
    def from_model(
        cls,
        model: Any,
        tip_frames: tuple[str, ...] | list[str],
        joint_names: tuple[str, ...] | list[str] | None = None,
        lower_rad: np.ndarray | None = None,
        upper_rad: np.ndarray | None = None,
        name: str = "custom",
    ) -> KinematicChain:
        """From a pinocchio model; joint order and limits default to the model's own."""
        model_joints = [model.names[j] for j in range(1, model.njoints) if model.joints[j].nq > 0]
        names = tuple(joint_names) if joint_names is not None else tuple(model_joints)
        idx = []
        for jn in names:
            if not model.existJointName(jn):
                raise ConfigError(f"hand {name!r}: joint {jn!r} is not in the model (model joints: {model_joints})")
            joint = model.joints[model.getJointId(jn)]
            if joint.nq != 1:
                raise ConfigError(f"hand {name!r}: joint {jn!r} has nq = {joint.nq}; only 1-DoF joints are supported")
            idx.append(joint.idx_q)
        idx_arr = np.asarray(idx, dtype=np.int64)
        lo = model.lowerPositionLimit[idx_arr] if lower_rad is None else lower_rad
        hi = model.upperPositionLimit[idx_arr] if upper_rad is None else upper_rad
        tip_ids = []
        for fr in tip_frames:
            if not model.existFrame(fr):
                raise ConfigError(f"hand {name!r}: fingertip frame {fr!r} is not in the model")
            tip_ids.append(model.getFrameId(fr))
        return cls(model, tuple(tip_ids), np.asarray(lo, float), np.asarray(hi, float), names,
                   tuple(tip_frames), idx_arr, name)

    @classmethod
    def from_urdf_xml(cls, urdf_xml: str, tip_frames: tuple[str, ...] | list[str], name: str = "custom"
                      ) -> KinematicChain:
        """From a URDF string (fixed base: the URDF root link is the hand root frame)."""
        return cls.from_model(pin.buildModelFromXML(urdf_xml), tip_frames, name=name)

    @classmethod
    def from_hand(cls, hand: Any) -> KinematicChain:
        """From a `unihm_common.hands` Hand (`.spec`, `.model`): its joint order, limits and fingertips."""
        spec = hand.spec
        chain = cls.from_model(hand.model, tuple(spec.fingertip_frames), tuple(spec.joint_names),
                               np.asarray(spec.lower_rad, float), np.asarray(spec.upper_rad, float),
                               name=str(getattr(spec, "name", "hand")))
        coupling = tuple((dst, src, float(r), float(o)) for dst, (src, r, o) in
                         dict(getattr(spec, "coupling", {}) or {}).items())
        return dataclasses.replace(chain, coupling=coupling) if coupling else chain

    @classmethod
    def load(cls, hand_name: str) -> KinematicChain:
        """`from_hand(load_hand(hand_name))` (imports the hand library lazily)."""
        try:
            from unihm_common.hands import load_hand
        except ImportError:  # the hand library before it exported load_hand at package level
            from unihm_common.hands.model import load_hand

        return cls.from_hand(load_hand(hand_name))


class TipKinematics:
    """Fingertip FK and Jacobians in the hand root frame, reusing one pinocchio.Data.

    Call `update(q)` once, then `positions()` and (if needed) `jacobians()` for that q.
    q and Jacobian columns are in `chain.joint_names` order, or in the model's own order with
    `pinocchio_order=True` (no permutation per call: the refiner permutes whole sequences once).
    """

    def __init__(self, chain: KinematicChain, pinocchio_order: bool = False) -> None:
        self.chain = chain
        self.model = chain.model
        self.data = chain.model.createData()
        self._tips = chain.tip_frame_ids
        self._qi = None if pinocchio_order else chain.q_index
        self._q_pin = pin.neutral(chain.model)
        self._lwa = pin.ReferenceFrame.LOCAL_WORLD_ALIGNED
        self._views = self._live_views()

    def _live_views(self) -> tuple[list[np.ndarray], np.ndarray] | None:
        """Numpy views into `data` of the fingertip translations and of data.J, if they track updates.

        pinocchio's Python bindings return `data.oMf[i].translation` and `data.J` as views of the
        C++ buffers, so reading them costs no binding call per tip. Checked here at two configurations;
        None (fall back to one binding call per tip) if this pinocchio build returns copies.
        """
        m, d = self.model, self.data
        qa = pin.neutral(m)
        pin.computeJointJacobians(m, d, qa)
        pin.updateFramePlacements(m, d)
        pos = [d.oMf[i].translation for i in self._tips]
        jac = d.J
        qb = np.clip(qa + 0.5, np.maximum(m.lowerPositionLimit, -3.0), np.minimum(m.upperPositionLimit, 3.0))
        pin.computeJointJacobians(m, d, qb)
        pin.updateFramePlacements(m, d)
        ok = jac.shape == (6, m.nv) and np.array_equal(jac, d.J) and all(
            np.array_equal(v, d.oMf[i].translation) for v, i in zip(pos, self._tips, strict=True))
        ok = ok and np.array_equal(np.array(pos), self.positions_slow())
        return (pos, jac) if ok else None

    @property
    def live_views(self) -> tuple[list[np.ndarray], np.ndarray] | None:
        """(tip translation views (F x (3,)), data.J view (6, nv)) that follow `update`, or None."""
        return self._views

    def support_mask(self) -> np.ndarray:
        """(F, nv) 1.0 where velocity index v moves fingertip f (its joint supports the tip frame), else 0."""
        m = self.model
        mask = np.zeros((len(self._tips), m.nv))
        for f, fid in enumerate(self._tips):
            for jid in m.supports[m.frames[fid].parentJoint]:
                jnt = m.joints[jid]
                if jid > 0 and jnt.nv > 0:
                    mask[f, jnt.idx_v:jnt.idx_v + jnt.nv] = 1.0
        return mask

    def update(self, q: np.ndarray) -> None:
        """Forward kinematics + joint Jacobians at q (J,) (joint_names order)."""
        if self._qi is None:
            qp = q
        else:
            qp = self._q_pin
            qp[self._qi] = q
        pin.computeJointJacobians(self.model, self.data, qp)
        pin.updateFramePlacements(self.model, self.data)

    def positions(self) -> np.ndarray:
        """(F, 3) fingertip positions (hand root frame, m) at the last `update` (a copy)."""
        if self._views is not None:
            return np.array(self._views[0])
        return self.positions_slow()

    def positions_slow(self) -> np.ndarray:
        oMf = self.data.oMf
        return np.array([oMf[i].translation for i in self._tips])

    def jacobians(self) -> np.ndarray:
        """(F, 3, J) translational fingertip Jacobians (LOCAL_WORLD_ALIGNED) at the last `update`."""
        m, d, lwa = self.model, self.data, self._lwa
        jac = np.array([pin.getFrameJacobian(m, d, i, lwa)[:3] for i in self._tips])  # (F, 3, nv)
        return jac if self._qi is None else jac[:, :, self._qi]

    def fk(self, q: np.ndarray) -> np.ndarray:
        """(F, 3) fingertip positions at q (J,)."""
        self.update(q)
        return self.positions()
