"""Start, watch and stop the node processes of a graph: the launcher for installs without launch_ros.

Each node runs as its own process (as `ros2 launch` does), with its output prefixed on the
console and written to `<log_dir>/<node>.log`. A node that exits is restarted after its
`respawn_delay_s` if it has `respawn` (at most `max_restarts` times), except on exit code 2, which
UniHM nodes use for configuration errors that a restart cannot fix. A `required` node that exits
for good stops the graph. `stop()` sends SIGINT, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TextIO

from unihm_common.errors import ConfigError
from unihm_common.launch_graph import NodeSpec

CONFIG_ERROR_EXIT = 2


def executable_command(package: str, executable: str) -> list[str]:
    """The command that runs `ros2 run <package> <executable>` here (console-script entry point)."""
    try:
        dist = distribution(package)
    except PackageNotFoundError as exc:
        raise ConfigError(f"package {package!r} is not installed (run scripts/setup.sh)") from exc
    for ep in dist.entry_points:
        if ep.group == "console_scripts" and ep.name == executable:
            script = Path(sys.executable).parent / executable
            if script.is_file():
                return [str(script)]
            module, func = ep.value.split(":")
            return [sys.executable, "-c", f"import sys; from {module} import {func} as f; sys.exit(f())"]
    names = sorted(ep.name for ep in dist.entry_points if ep.group == "console_scripts")
    raise ConfigError(f"package {package!r} has no executable {executable!r} (it has: {names})")


@dataclass
class ManagedProcess:
    spec: NodeSpec
    command: list[str]
    process: subprocess.Popen | None = None
    restarts: int = 0
    exit_codes: list[int] = field(default_factory=list)
    next_start_s: float | None = None  # when a pending restart is due
    finished: bool = False  # exited for good


@dataclass(frozen=True)
class Event:
    t_s: float
    node: str
    kind: str  # started | exited | restarting | gave_up | stopping
    detail: str = ""


class Supervisor:
    """Runs a list of NodeSpecs as supervised processes."""

    def __init__(
        self,
        specs: list[NodeSpec],
        env: dict[str, str],
        log_dir: str | Path,
        max_restarts: int = 5,
        shutdown_timeout_s: float = 5.0,
        echo: TextIO | None = sys.stderr,
    ) -> None:
        names = [s.name for s in specs]
        if len(set(zip(names, [s.namespace for s in specs]))) != len(specs):
            raise ConfigError(f"duplicate node names in graph: {names}")
        self.env = env
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.max_restarts = max_restarts
        self.shutdown_timeout_s = shutdown_timeout_s
        self.echo = echo
        self.events: list[Event] = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self.procs = {s.qualified_name: ManagedProcess(s, executable_command(s.package, s.executable) + s.ros_args())
                      for s in specs}
        self.stop_requested = threading.Event()
        self.failed: str | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        for mp in self.procs.values():
            self._spawn(mp)

    def pid(self, name: str) -> int | None:
        p = self.procs[name].process
        return p.pid if p is not None and p.poll() is None else None

    def _log(self, node: str, kind: str, detail: str = "") -> None:
        ev = Event(round(time.monotonic() - self._t0, 3), node, kind, detail)
        with self._lock:
            self.events.append(ev)
        if self.echo is not None:
            print(f"[bringup] {node}: {kind} {detail}".rstrip(), file=self.echo, flush=True)

    def _spawn(self, mp: ManagedProcess) -> None:
        log_file = open(self.log_dir / f"{mp.spec.qualified_name.replace('/', '.')}.log", "ab")
        mp.process = subprocess.Popen(
            mp.command,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # terminal Ctrl-C reaches us only; we forward it in order
        )
        mp.next_start_s = None
        threading.Thread(target=self._pump, args=(mp.spec.qualified_name, mp.process, log_file), daemon=True).start()
        self._log(mp.spec.qualified_name, "started", f"pid {mp.process.pid}")

    def _pump(self, name: str, process: subprocess.Popen, log_file) -> None:
        assert process.stdout is not None
        with log_file:
            for line in process.stdout:
                log_file.write(line)
                log_file.flush()
                if self.echo is not None:
                    self.echo.write(f"[{name}] {line.decode(errors='replace')}")
                    self.echo.flush()

    def poll(self) -> None:
        """Reap exited processes, schedule and perform restarts. Call periodically."""
        now = time.monotonic()
        for name, mp in self.procs.items():
            if mp.finished or self.stop_requested.is_set():
                continue
            if mp.process is not None and mp.next_start_s is None:
                code = mp.process.poll()
                if code is None:
                    continue
                mp.exit_codes.append(code)
                self._log(name, "exited", f"code {code}")
                if code == CONFIG_ERROR_EXIT:
                    self._give_up(mp, "configuration error (see the log above); not restarting")
                elif mp.spec.respawn and mp.restarts < self.max_restarts:
                    mp.next_start_s = now + mp.spec.respawn_delay_s
                    self._log(name, "restarting", f"in {mp.spec.respawn_delay_s:.1f} s")
                else:
                    self._give_up(mp, "not respawned")
            elif mp.next_start_s is not None and now >= mp.next_start_s:
                mp.restarts += 1
                self._spawn(mp)

    def _give_up(self, mp: ManagedProcess, why: str) -> None:
        mp.finished = True
        self._log(mp.spec.qualified_name, "gave_up", why)
        if mp.spec.required:
            self.failed = f"required node {mp.spec.qualified_name!r} stopped: {why}"
            self.stop_requested.set()

    def run(self, duration_s: float | None = None, poll_s: float = 0.05) -> int:
        """Start everything and supervise until stop is requested or `duration_s` passes."""
        self.start()
        deadline = None if duration_s is None else time.monotonic() + duration_s
        try:
            while not self.stop_requested.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self.poll()
                if all(mp.finished for mp in self.procs.values()):
                    break
                time.sleep(poll_s)
        finally:
            self.stop()
        return 1 if self.failed else 0

    def stop(self) -> None:
        """SIGINT every node, wait, then escalate. Idempotent."""
        self.stop_requested.set()
        alive = [mp for mp in self.procs.values() if mp.process is not None and mp.process.poll() is None]
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            if not alive:
                break
            for mp in alive:
                self._log(mp.spec.qualified_name, "stopping", sig.name)
                try:
                    os.killpg(mp.process.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + self.shutdown_timeout_s
            while alive and time.monotonic() < deadline:
                alive = [mp for mp in alive if mp.process.poll() is None]
                time.sleep(0.02)
        for mp in self.procs.values():
            if mp.process is not None and mp.process.returncode is not None and not mp.finished:
                mp.finished = True
