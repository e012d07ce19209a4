import subprocess
import sys

import pytest

from unihm_common.errors import MissingDependencyError
from unihm_drivers.base import make_driver


def test_driver_core_imports_no_rclpy():
    code = (
        "import sys, unihm_drivers.base as b, unihm_drivers.control_loop, unihm_drivers.bench, "
        "unihm_drivers.sim.inspire_modbus_server; b.available_backends(); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rclpy', 'sensor_msgs', 'trajectory_msgs')]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_xhand_without_sdk_names_the_vendor_package():
    from drivers_fixtures import XHAND_SPEC

    try:
        import xhand_controller  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the vendor SDK is installed here")
    with pytest.raises(MissingDependencyError, match="xhand_controller"):
        make_driver("xhand", {}, XHAND_SPEC).configure()


def test_xhand_gains_and_positions_reach_the_sdk(xhand_sdk):
    import numpy as np
    from drivers_fixtures import XHAND_SPEC, XHandControl

    kp = [float(10 + i) for i in range(12)]
    with make_driver("xhand", {"kp": kp, "torque_limit": [250.0]}, XHAND_SPEC, sdk=xhand_sdk) as d:
        d.write(np.full(12, 0.5))
        dev = XHandControl.instances[-1]
        assert dev.sent[-1] == [0.5] * 12
        assert [g[0] for g in dev.gains] == kp and {g[3] for g in dev.gains} == {250.0}
        np.testing.assert_allclose(d.read().positions, 0.5)


@pytest.mark.hardware
def test_real_inspire_hand_reads():  # pragma: no cover - needs the hand on 192.168.11.210
    from unihm_drivers.bench import BENCH_SPEC

    with make_driver("inspire_modbus", {}, BENCH_SPEC) as d:
        assert d.read().positions.shape == (6,)
