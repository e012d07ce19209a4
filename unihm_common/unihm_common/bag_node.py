"""rclpy side of `unihm bag record|play`: raw CDR in, raw CDR out (no deserialisation).

Record: topics are discovered on the graph (type and durability from the publishers' info); each is
subscribed with `raw=True` and every message is written with its receive time. Play: one publisher per
recorded topic (reliable; transient local for topics recorded as latched), messages published as bytes
at their recorded relative times divided by `rate`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from unihm_common.bag.mcap_io import BagWriter, apply_namespace, bag_info, play_offsets, read_messages
from unihm_common.echo_node import message_type
from unihm_common.errors import ConfigError, InputError

SKIP_WITH_ALL = frozenset({"/rosout", "/parameter_events"})


def qos_for(latched: bool) -> QoSProfile:
    if latched:
        return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    return QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


class Recorder:
    """Subscribes (raw) to `topics` (or every topic when None) as they appear and writes them to `writer`."""

    def __init__(self, node, writer: BagWriter, topics: list[str] | None, discovery_period_s: float = 0.1) -> None:
        self.node, self.writer = node, writer
        self.wanted = None if topics is None else {node.resolve_topic_name(t) for t in topics}
        self.subs: dict[str, object] = {}
        self.skipped: dict[str, str] = {}  # topic -> why (e.g. type unknown to the rosbags type store)
        self.count = 0
        self.lock = threading.Lock()
        self.closed = False
        self.discover()
        self.timer = node.create_timer(discovery_period_s, self.discover)

    def discover(self) -> None:
        for name, types in self.node.get_topic_names_and_types():
            if name in self.subs or name in self.skipped:
                continue
            if self.wanted is None and name in SKIP_WITH_ALL or self.wanted is not None and name not in self.wanted:
                continue
            pubs = self.node.get_publishers_info_by_topic(name)
            if not pubs:  # only subscribers so far: nothing to record yet
                continue
            latched = any(p.qos_profile.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in pubs)
            try:
                msg_cls = message_type(types[0])
                self.writer.add_topic(name, types[0], latched)
            except (ConfigError, InputError) as exc:
                self.skipped[name] = str(exc)
                self.node.get_logger().warning(f"not recording {name}: {exc}")
                continue
            self.subs[name] = self.node.create_subscription(msg_cls, name, self._callback(name), qos_for(latched),
                                                            raw=True)

    def _callback(self, topic: str) -> Callable[[bytes], None]:
        def cb(data: bytes) -> None:
            with self.lock:
                if not self.closed:
                    self.writer.write(topic, self.node.get_clock().now().nanoseconds, data)
                    self.count += 1
        return cb

    def missing(self) -> list[str]:
        return sorted((self.wanted or set()) - set(self.subs))

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.writer.close()


class Player:
    """Republishes a bag's raw messages with their recorded relative timing."""

    def __init__(self, node, path: str | Path, topics: list[str] | None = None, remaps: dict[str, str] | None = None,
                 namespace: str = "") -> None:
        self.node = node
        info = bag_info(path)
        self.infos = {t.topic: t for t in info["topics"]}
        self.messages = list(read_messages(path, topics))
        remaps = remaps or {}
        unknown = sorted(set(remaps) - set(self.infos))
        if unknown:
            raise InputError(f"remapped topics {unknown} are not in the bag; it has {sorted(self.infos)}")
        self.out_name = {t: apply_namespace(remaps.get(t, t), namespace) for t in self.infos}
        self.pubs = {}
        for topic in {m.topic for m in self.messages}:
            ti = self.infos[topic]
            self.pubs[topic] = node.create_publisher(message_type(ti.msgtype), self.out_name[topic],
                                                     qos_for(ti.latched))
        self.published = 0

    def wait_for_subscribers(self, timeout_s: float) -> bool:
        """Wait until every non-latched topic has a subscriber (latched ones reach late joiners anyway)."""
        deadline = time.monotonic() + timeout_s
        streams = [p for t, p in self.pubs.items() if not self.infos[t].latched]
        while time.monotonic() < deadline:
            if all(p.get_subscription_count() > 0 for p in streams):
                return True
            time.sleep(0.02)
        return False

    def play(self, rate: float = 1.0, stop: Callable[[], bool] = lambda: False) -> int:
        offsets = play_offsets([m.log_time_ns for m in self.messages], rate)
        start = time.monotonic()
        for off, m in zip(offsets, self.messages):
            while not stop():
                wait = start + off - time.monotonic()
                if wait <= 0:
                    break
                time.sleep(min(wait, 0.05))
            if stop():
                break
            self.pubs[m.topic].publish(m.data)
            self.published += 1
        return self.published


def _session(context):
    own = context is None
    if own:
        context = rclpy.Context()
        rclpy.init(context=context)
    return context, own


def record_bag(out: str | Path, topics: list[str] | None, duration_s: float = 0.0, context=None,
               namespace: str = "/", stop: Callable[[], bool] = lambda: False, max_messages: int = 0) -> dict:
    """Record until `duration_s` (0 = no limit), `max_messages` (0 = no limit), Ctrl-C or `stop()`.

    Returns {"path", "messages", "topics", "missing" (requested, never seen), "skipped" (topic: why)}."""
    context, own = _session(context)
    node = rclpy.create_node("unihm_bag_record", namespace=namespace, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    rec = Recorder(node, BagWriter(out), topics)
    deadline = time.monotonic() + duration_s if duration_s > 0 else float("inf")
    try:
        while time.monotonic() < deadline and not stop() and context.ok() and not (
                max_messages and rec.count >= max_messages):
            executor.spin_once(timeout_sec=0.05)
    except KeyboardInterrupt:
        pass
    finally:
        rec.close()
        executor.shutdown()
        node.destroy_node()
        if own:
            rclpy.try_shutdown(context=context)
    return {"path": str(out), "messages": rec.count, "topics": sorted(rec.subs), "missing": rec.missing(),
            "skipped": rec.skipped}


def play_bag(path: str | Path, rate: float = 1.0, loop: bool = False, topics: list[str] | None = None,
             remaps: dict[str, str] | None = None, namespace: str = "", start_delay_s: float = 0.5,
             wait_subscribers_s: float = 0.0, linger_s: float = 0.0, context=None,
             stop: Callable[[], bool] = lambda: False) -> dict:
    """Play the bag once (or until Ctrl-C with `loop`); returns {"published", "loops"}."""
    context, own = _session(context)
    node = rclpy.create_node("unihm_bag_play", context=context)
    player, loops = None, 0
    try:
        player = Player(node, path, topics, remaps, namespace)
        if wait_subscribers_s > 0 and not player.wait_for_subscribers(wait_subscribers_s):
            print(f"unihm bag play: not every topic got a subscriber within {wait_subscribers_s:g} s; playing anyway",
                  file=sys.stderr)
        time.sleep(start_delay_s)
        while not stop():
            player.play(rate, stop)
            loops += 1
            if not loop:
                break
        end = time.monotonic() + linger_s
        while time.monotonic() < end and not stop():  # latched samples stay available to late subscribers
            time.sleep(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        if own:
            rclpy.try_shutdown(context=context)
    return {"path": str(path), "published": player.published if player else 0, "loops": loops}
