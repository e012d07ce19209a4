"""The human hand as the MANO 21-keypoint kinematic chain of the hand library (`mano_right/left`).

Forward kinematics through Pinocchio gives the 21 keypoints (MANO order) in the wrist frame; the
synthetic generator drives it with joint angles so bone lengths stay constant over time.
"""

from __future__ import annotations

import numpy as np

from unihm_data.handlib import load_hand_info
from unihm_data.keypoints import KEYPOINT_NAMES


class HumanHand:
    """MANO kinematic skeleton of one side. `q` is (20,) in hand.yaml joint order (rad)."""

    def __init__(self, side: str = "right") -> None:
        import pinocchio as pin

        self.side = side
        self.info = load_hand_info(f"mano_{side}")
        self._pin = pin
        self.model = pin.buildModelFromUrdf(str(self.info.urdf_path))
        self.data = self.model.createData()
        names = list(self.model.names)
        # map hand.yaml joint order -> pinocchio q index
        self._q_index = np.array([self.model.joints[names.index(j)].idx_q for j in self.info.joint_names])
        self._frame_ids = [self.model.getFrameId(n) for n in KEYPOINT_NAMES]
        self.lower = self.info.lower_rad
        self.upper = self.info.upper_rad
        self.joint_names = self.info.joint_names

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def keypoints(self, q: np.ndarray) -> np.ndarray:
        """(20,) or (T,20) joint angles -> (21,3) or (T,21,3) keypoints in the wrist frame (m)."""
        q = np.asarray(q, dtype=np.float64)
        if q.ndim == 2:
            return np.stack([self.keypoints(qi) for qi in q])
        qp = np.zeros(self.model.nq)
        qp[self._q_index] = np.clip(q, self.lower, self.upper)
        self._pin.framesForwardKinematics(self.model, self.data, qp)
        return np.array([self.data.oMf[f].translation for f in self._frame_ids])

    def joint_index(self, name: str) -> int:
        return self.joint_names.index(name)


def wrist_pose_from_keypoints(kp: np.ndarray, side: str) -> np.ndarray:
    """(…,21,3) keypoints -> (…,4,4) wrist poses, calibrated so the MANO chain's rest pose gives its root frame.

    The frame spanned by the knuckles (keypoints.wrist_frame_from_keypoints) is a few degrees off the
    chain's root frame; this fixed correction is measured once on the hand library's mano_<side> chain.
    """
    from unihm_data.keypoints import wrist_frame_from_keypoints

    return wrist_frame_from_keypoints(kp, side) @ _rest_correction(side)


_CORRECTION: dict[str, np.ndarray] = {}


def _rest_correction(side: str) -> np.ndarray:
    if side not in _CORRECTION:
        from unihm_data.keypoints import wrist_frame_from_keypoints

        rest = wrist_frame_from_keypoints(HumanHand(side).keypoints(np.zeros(20)), side)
        _CORRECTION[side] = np.linalg.inv(rest)
    return _CORRECTION[side]
