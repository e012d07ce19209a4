"""`sim_mujoco`: physics stand-in: a hand URDF compiled by MuJoCo, one position actuator per
DeviceSpec joint, and a free object (box or sphere) to grasp. `check_grasp` turns gravity on and
reports whether the object stays in the hand.

Time: `realtime=True` advances the simulation by the wall-clock time since the last call;
`realtime=False` advances `steps_per_call` steps per read/write (deterministic tests).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from unihm_common.errors import ConfigError, MissingDependencyError
from unihm_drivers.base import DeviceSpec, DeviceUnreachableError, Driver, JointStateSample


@dataclass(frozen=True)
class SimMujocoConfig:
    urdf_path: str  # the hand's URDF (collision geometry is what grasps)
    object_shape: Literal["box", "sphere", "none"] = "box"
    object_size_m: tuple[float, ...] = (0.02, 0.02, 0.02)  # box half-sizes, or (radius, -, -)
    object_pos_m: tuple[float, ...] = (0.0, 0.0, -0.05)  # in the hand's root frame
    object_mass_kg: float = 0.05
    kp: float = 50.0  # position actuator gain (N·m/rad or N/m)
    timestep_s: float = 0.002
    realtime: bool = True
    steps_per_call: int = 5
    max_steps_per_call: int = 200  # caps catch-up after a long pause
    # coupled (mimic) joints: (coupled, source, ratio, offset) -> q_coupled = offset + ratio * q_source,
    # enforced by joint equality constraints (MuJoCo ignores URDF <mimic> tags)
    couplings: tuple[tuple[str, str, float, float], ...] = ()
    armature_kg_m2: float = 0.005  # reflected rotor inertia per joint: the URDFs' 20-40 g links alone are
    # far too light for stiff position servos at this time step (explicit integration would diverge)
    joint_damping: float = 0.05  # N·m·s/rad
    initial_q_rad: tuple[float, ...] | None = None  # start pose of the DeviceSpec joints (default: 0, clipped)

    def __post_init__(self) -> None:
        if not (self.kp > 0 and self.timestep_s > 0 and self.object_mass_kg > 0):
            raise ConfigError("kp, timestep_s and object_mass_kg must be > 0")
        # tuple[float, ...] + a length check: unihm_common.config mis-coerces fixed-length tuples.
        if len(self.object_size_m) != 3 or len(self.object_pos_m) != 3:
            raise ConfigError("object_size_m and object_pos_m need 3 values each")
        if self.steps_per_call < 1 or self.max_steps_per_call < 1:
            raise ConfigError("steps_per_call and max_steps_per_call must be >= 1")


@dataclass(frozen=True)
class GraspResult:
    held: bool  # the object moved less than `max_drop_m` under gravity
    drop_m: float  # object displacement over the hold
    hand_contacts: int  # contacts between the object and hand geoms at the end


class SimMujocoDriver(Driver, backend="sim_mujoco", config=SimMujocoConfig):
    """Efforts are actuator forces (N·m or N)."""

    def __init__(self, config: SimMujocoConfig, spec: DeviceSpec) -> None:
        super().__init__(config, spec)
        self.model = None
        self.data = None
        self._t_s: float | None = None

    def _build(self):
        try:
            import mujoco
        except ImportError as exc:
            raise MissingDependencyError("sim_mujoco needs MuJoCo: pip install mujoco") from exc
        c = self.config
        try:
            spec = mujoco.MjSpec.from_file(c.urdf_path)
        except Exception as exc:
            raise DeviceUnreachableError(f"sim_mujoco: cannot load URDF {c.urdf_path}: {exc}") from exc
        spec.option.timestep = c.timestep_s
        spec.option.gravity = [0.0, 0.0, 0.0]  # on only during check_grasp
        known = {j.name for j in spec.joints}
        missing = [n for n in self.spec.joint_names if n not in known]
        if missing:
            raise ConfigError(f"sim_mujoco: joints {missing} not in {c.urdf_path} (has {sorted(known)})")
        spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
        # Hand geoms collide with the object only: the hand models' simple capsules overlap at the joints.
        for geom in spec.geoms:
            geom.contype, geom.conaffinity = 1, 0
        for joint in spec.joints:
            joint.armature = c.armature_kg_m2
            joint.damping = np.array([c.joint_damping, 0.0, 0.0])  # MuJoCo 4: (linear, quadratic, cubic)
        for coupled, source, ratio, offset in c.couplings:
            if coupled not in known or source not in known:
                raise ConfigError(f"sim_mujoco: coupling {coupled} <- {source}: joint not in {c.urdf_path}")
            eq = spec.add_equality()
            eq.type, eq.name1, eq.name2 = mujoco.mjtEq.mjEQ_JOINT, coupled, source
            eq.objtype = mujoco.mjtObj.mjOBJ_JOINT
            eq.data[:5] = [offset, ratio, 0.0, 0.0, 0.0]
        for name, lo, hi in zip(self.spec.joint_names, self.spec.lower, self.spec.upper):
            act = spec.add_actuator()
            act.name, act.target = f"act_{name}", name
            act.trntype = mujoco.mjtTrn.mjTRN_JOINT
            act.set_to_position(kp=c.kp, kv=0.1 * c.kp ** 0.5)
            act.ctrllimited, act.ctrlrange = True, [lo, hi]
        if c.object_shape != "none":
            body = spec.worldbody.add_body(name="object", pos=list(c.object_pos_m))
            body.add_freejoint(name="object_free")
            geom_type = mujoco.mjtGeom.mjGEOM_BOX if c.object_shape == "box" else mujoco.mjtGeom.mjGEOM_SPHERE
            body.add_geom(name="object_geom", type=geom_type, size=list(c.object_size_m), mass=c.object_mass_kg,
                          friction=[1.5, 0.01, 0.001])
        model = spec.compile()
        data = mujoco.MjData(model)
        self._qadr = np.array([model.jnt_qposadr[model.joint(n).id] for n in self.spec.joint_names])
        self._dadr = np.array([model.jnt_dofadr[model.joint(n).id] for n in self.spec.joint_names])
        start = np.zeros(self.spec.num_joints) if c.initial_q_rad is None else np.asarray(c.initial_q_rad, float)
        if start.shape != (self.spec.num_joints,):
            raise ConfigError(f"sim_mujoco: initial_q_rad has {start.size} values for {self.spec.num_joints} joints")
        start = np.clip(start, self.spec.lower, self.spec.upper)
        for coupled, source, ratio, offset in c.couplings:  # start consistent with the equality constraints
            data.qpos[model.jnt_qposadr[model.joint(coupled).id]] = offset + ratio * start[
                list(self.spec.joint_names).index(source)]
        data.qpos[self._qadr] = start
        data.ctrl[:] = start
        mujoco.mj_forward(model, data)
        return mujoco, model, data

    def _connect(self) -> None:
        self._mj, self.model, self.data = self._build()
        self._t_s = time.monotonic()

    def _disconnect(self) -> None:
        self.model = self.data = None

    def step(self, n: int) -> None:
        """Advance n physics steps."""
        for _ in range(n):
            self._mj.mj_step(self.model, self.data)

    def _advance(self) -> None:
        c = self.config
        if not c.realtime:
            self.step(c.steps_per_call)
            return
        now = time.monotonic()
        n = int((now - self._t_s) / c.timestep_s)
        if n > 0:
            self.step(min(n, c.max_steps_per_call))
            self._t_s = now if n > c.max_steps_per_call else self._t_s + n * c.timestep_s

    def _read(self) -> JointStateSample:
        self._advance()
        d = self.data
        return JointStateSample(
            d.qpos[self._qadr].copy(), d.qvel[self._dadr].copy(), d.actuator_force[: self.spec.num_joints].copy(),
            time.monotonic(),
        )

    def _write(self, q_rad: np.ndarray) -> np.ndarray:
        self.data.ctrl[: self.spec.num_joints] = q_rad
        self._advance()
        return q_rad.copy()

    def joint_positions(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Positions of any joints of the model (coupled ones included), by name."""
        return np.array([self.data.qpos[self.model.jnt_qposadr[self.model.joint(n).id]] for n in names])

    def object_position(self) -> np.ndarray:
        """(3,) object centre in the world (= hand root) frame."""
        return self.data.body("object").xpos.copy()

    def object_contacts(self) -> int:
        """Number of contacts between the object and any other geom."""
        gid = self.model.geom("object_geom").id
        d = self.data
        return sum(1 for i in range(d.ncon) if gid in (d.contact[i].geom1, d.contact[i].geom2))

    def check_grasp(self, hold_s: float = 0.5, max_drop_m: float = 0.01) -> GraspResult:
        """Turn gravity on for `hold_s` (controls held) and report whether the object stayed."""
        self._require_connected("check_grasp")
        p0 = self.object_position()
        self.model.opt.gravity[:] = [0.0, 0.0, -9.81]
        try:
            self.step(int(hold_s / self.config.timestep_s))
        finally:
            self.model.opt.gravity[:] = [0.0, 0.0, 0.0]
        drop = float(np.linalg.norm(self.object_position() - p0))
        return GraspResult(held=drop < max_drop_m, drop_m=drop, hand_contacts=self.object_contacts())
