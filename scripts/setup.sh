#!/usr/bin/env bash
# Idempotent setup on Debian/Ubuntu with Python 3.11: .venv with the pinned requirements, the
# unihm_msgs interfaces built with rosidl into the venv, and every package installed editable.
# Each step is skipped when its inputs have not changed since the last successful run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=$ROOT/.venv
STAMPS=$VENV/.unihm-stamps
PACKAGES="unihm_description unihm_common unihm_data unihm_perception unihm_planner unihm_refiner unihm_drivers"

log() { echo "[setup] $*"; }
digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

# ---- system packages: a C++ toolchain + cmake for rosidl, libusb for open3d
missing=""
command -v cmake >/dev/null || missing="$missing cmake"
command -v g++ >/dev/null || missing="$missing g++"
ldconfig -p 2>/dev/null | grep -q libusb-1.0.so.0 || missing="$missing libusb-1.0-0"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing system packages:$missing"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "[setup] missing system packages:$missing — install them (sudo apt-get install$missing)" >&2
    exit 1
  fi
fi

# ---- interpreter and venv
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for c in python3.11 python3; do
    if command -v $c >/dev/null && $c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then PY=$c; break; fi
  done
fi
[ -n "$PY" ] || { echo "[setup] Python 3.11 is required (the ROS 2 wheels are cp311)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $PY"
  $PY -m venv "$VENV"
fi
mkdir -p "$STAMPS"
PIP="$VENV/bin/python -m pip --disable-pip-version-check"

# ---- pinned requirements (torch==2.13.0 comes from local disk)
req=$(digest requirements.txt)
if [ "$(cat "$STAMPS/requirements" 2>/dev/null)" != "$req" ]; then
  log "installing requirements.txt"
  $PIP install -q -r requirements.txt 2>&1 | grep -v "is ignored: it is neither" || true
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "[setup] pip install failed" >&2; exit 1; }
  $VENV/bin/python -c "import rclpy, torch, pinocchio" || exit 1
  echo "$req" > "$STAMPS/requirements"
fi

# ---- unihm_msgs: real rosidl build, installed into the venv prefix
msgs=$(digest $(find unihm_msgs -type f | sort) requirements.txt)
if [ "$(cat "$STAMPS/msgs" 2>/dev/null)" != "$msgs" ] || ! $VENV/bin/python -c "import unihm_msgs.action" 2>/dev/null; then
  log "building unihm_msgs (rosidl)"
  rm -rf build/unihm_msgs
  mkdir -p build
  (
    export VIRTUAL_ENV=$VENV PATH=$VENV/bin:$PATH CMAKE_PREFIX_PATH=$VENV AMENT_PREFIX_PATH=$VENV
    cmake -S unihm_msgs -B build/unihm_msgs -DCMAKE_INSTALL_PREFIX="$VENV" \
      -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF > build/unihm_msgs.log 2>&1 &&
    cmake --build build/unihm_msgs -j"$(nproc)" >> build/unihm_msgs.log 2>&1 &&
    cmake --install build/unihm_msgs >> build/unihm_msgs.log 2>&1
  ) || { echo "[setup] unihm_msgs build failed; see build/unihm_msgs.log" >&2; tail -30 build/unihm_msgs.log >&2; exit 1; }
  $VENV/bin/python -c "from unihm_msgs.msg import HandTrajectory; from unihm_msgs.action import Manipulate"
  echo "$msgs" > "$STAMPS/msgs"
fi

# ---- the stack's packages, editable (compat mode: plain path entries, no import hooks)
pk=$(digest $(for p in $PACKAGES; do echo $p/setup.py $p/package.xml; done))
if [ "$(cat "$STAMPS/packages" 2>/dev/null)" != "$pk" ]; then
  log "installing the unihm packages (editable)"
  args=""
  for p in $PACKAGES; do args="$args -e ./$p"; done
  $PIP install -q --no-deps --no-build-isolation --config-settings editable_mode=compat $args 2>&1 \
    | grep -v "is ignored: it is neither" || true
  echo "$pk" > "$STAMPS/packages"
fi
log "ready: $VENV (activate with: source .venv/bin/activate)"
