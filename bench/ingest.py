"""Sections 2 and 3 and the malformed-traffic run: uplinks through HA's MQTT path.

What runs (each side in its own fresh ``hass`` process, see ``child_main``):

- A private Mosquitto on 127.0.0.1 and a real Home Assistant in one process, set up from a
  config dir by ``homeassistant.bootstrap`` (``bench.common.run_hass``): MQTT from a config
  entry, ``http`` + ``webhook`` loaded for both sides, **recorder off for both** (unless
  ``--ingest-recorder``: then SQLite on for both, the same ``commit_interval``). The
  recorder writes in a thread of the same process, so its CPU is in the process's; a phase
  ends only when the recorder has committed what the phase queued (its backlog would
  otherwise be billed to the next phase), and the start-up's backlog is written before
  anything is measured.
- A site of ``--ingest-devices`` devices in the demo site's mix (per 16: 6 Elsys ERS
  motion, 1 Sensative door strip, 1 Axioma W1 building meter, 6 Kamstrup flowIQ apartment
  meters, 2 Milesight EM500-UDL snow sensors); the uplinks are the demo simulator's
  (``angelib.simulator``), in its time order, as ChirpStack v4 JSON ``up`` events on
  ``application/<app>/device/<devEui>/event/up``. ``time`` is set to the moment the event
  is published; ``rxInfo[0].rssi`` cycles per device so that every uplink changes the RSSI
  entity on both sides (the proof that it was written; ours has it disabled by default, so
  the benchmark enables it).
- **ours**: a ChirpStack-MQTT gateway entry with every device as a subentry; the events
  carry base64 ``data`` only, decoded by us.
- **peer**: the same events plus ChirpStack's decoded ``object`` (the same fields our codec
  returns), read by MQTT discovery sensors, one per field and device, with value templates
  (``{{ value_json.object.temperature }}``), for every entity ours creates enabled that a
  template can express (``rssi`` from ``rxInfo[0]``, ``last_seen`` from ``time``, snow
  depth from ``distance``). Discovery configs are retained on the broker before HA starts,
  as ChirpStack-to-HA bridges publish them.
- **floor**: HA with one MQTT subscription whose callback does nothing: what HA's MQTT path
  (paho in Python, HA's MQTT client, the event loop) costs per message before any
  integration runs. Subtracted, it shows what each side adds.
- A publisher process (``bench.common.publisher_main``, raw MQTT, QoS 0) plays ChirpStack;
  the broker has ``set_tcp_nodelay true`` (without it Nagle + delayed ACKs add up to ~40 ms).

Phases, in order, in each side's process (``gc.collect()`` before each, outside the window,
so each starts from the same collector state; the collector's own time is reported too):

1. warm-up: every device's first uplinks (first states written, subscriptions live);
2. **cpu** (section 2): ``--ingest-uplinks`` uplinks at ``--ingest-rate``/s; the process's
   CPU seconds (all threads, ``getrusage``) from the first publish to the moment the last
   uplink has been handled = "CPU s per 1,000 uplinks"; also the event-loop thread's own
   CPU, the time in the cyclic GC, and the states changed per uplink;
3. **direct**: half as many uplinks injected straight into paho's ``on_message`` of HA's
   client (no socket, broker or publisher; much less noise): CPU per uplink and how many
   uplinks per second one core handles that way;
4. **malformed** (ours and floor): first every garbage kind once per device and each unknown
   DevEUI once (``mal-first``: the one-off costs, a warning per device, kind and hour and a
   discovery flow per unknown DevEUI), then clean and 10 %-garbage blocks alternating
   (bad JSON, bad base64, unknown DevEUI, truncated frames, 70 kB bodies): "good uplinks per
   CPU second" with and without garbage; then each kind alone, injected (``bad-<kind>``);
5. **steps** (section 3): offered rates ``--ingest-steps`` for ``--ingest-step-seconds``
   each; a step is sustained when every uplink was handled, the publisher reached the rate
   and the lag (publish → handled) did not grow (last fifth's median lag ≤ first fifth's
   + 0.2 s, p99 < 1 s); stepping stops at the first step that is not;
6. **latency** (section 3; ours and peer): ``--ingest-latency-rate``/s, each uplink paced
   on its own, for ``--ingest-latency-seconds``: p50/p99 from arrival in HA (paho's
   timestamp when it parsed the PUBLISH, i.e. when HA's MQTT client got it) to the end of
   HA's MQTT message callback, by which time every entity state of that uplink has been
   written (both sides write states synchronously in that callback); also publish → state
   (broker, socket and any event-loop stall included, e.g. a full GC pass).

With ``--ingest-profile`` extra, uncounted phases run under cProfile (``profile-*.prof`` and
``.txt`` in the work dir; ``--ingest-workdir`` keeps them). ``--ingest-experiment`` patches
the child process only (never the integration's files) to measure a proposed change.

"Handled" is observed by wrapping HA's paho ``on_message`` (two clock reads per message);
states are verified afterwards: state_changed events of each device's RSSI entity must equal
the uplinks sent to it, the final states of ours and the peer after the cpu phase must
agree, and HA's log must hold no error from the integration, MQTT or the dispatcher.
"""
# ruff: noqa: PLC0415 (Home Assistant is imported only in the child processes)

from __future__ import annotations

import argparse
import asyncio
import base64
from collections import Counter
from collections.abc import Callable
import contextlib
import cProfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import gc
import io
import json
from pathlib import Path
import pstats
import random
import re
import shutil
import sys
import tempfile
import time
from typing import Any

from .common import (
    INTEGRATION,
    REPO,
    Broker,
    PublisherProcess,
    add_config_entry,
    add_mqtt_entry,
    cpu_seconds,
    device_subentries,
    expand,
    fmt,
    load_angelib,
    percentile,
    read_messages,
    run_child,
    run_hass,
    site_devices,
    write_config_dir,
    write_messages,
)

NAME = "ingest"
TITLE = "2–3. Ingest through HA's MQTT path (real HA + Mosquitto), ours vs MQTT template sensors"

START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
MARK = "@@TIME@@"
PEER_PREFIX = "cs_"
SIDES = ("ours", "peer", "floor")
GARBAGE_KINDS = ("bad_json", "bad_base64", "unknown_deveui", "truncated_payload", "oversized")
UNKNOWN_DEVICES = 50  # a neighbour's devices on the same ChirpStack: a fixed set of DevEUIs
OVERSIZED_BYTES = 70_000  # > 64 KiB, the integration's limit

# Targets of issue #7 (the CPU ratios as issue 13 restated them: with the recorder on, as
# every real instance runs, and without it)
TARGET_RATIO = 3.0  # recorder on
TARGET_RATIO_NO_RECORDER = 1.5
TARGET_RATE = 2000
TARGET_P99_MS = 50.0
TARGET_GARBAGE_DROP = 10.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of this section (defaults in brackets; ``--quick`` shrinks them)."""
    g = parser.add_argument_group("ingest")
    g.add_argument("--ingest-devices", type=int, help="devices on the site [500; quick 50]")
    g.add_argument("--ingest-uplinks", type=int, help="uplinks in the CPU run [20000; 1000]")
    g.add_argument("--ingest-rate", type=float, help="uplinks/s offered in the CPU run [1000]")
    g.add_argument(
        "--ingest-steps",
        help="offered rates of the sustained-rate run [500,1000,2000,3000,4000; 2000]",
    )
    g.add_argument("--ingest-step-seconds", type=float, help="seconds per step [3; 1]")
    g.add_argument("--ingest-latency-rate", type=float, help="uplinks/s of the latency run [200]")
    g.add_argument("--ingest-latency-seconds", type=float, help="latency run length [30; 3]")
    g.add_argument("--ingest-garbage", type=float, help="share of garbage [0.10]")
    g.add_argument("--ingest-sides", help="which sides to run [ours,peer,floor; ours,peer]")
    g.add_argument(
        "--ingest-recorder", action="store_true", help="recorder on (SQLite) for both sides"
    )
    g.add_argument(
        "--ingest-profile",
        action="store_true",
        help="add a cProfile'd run (not counted) per side; .prof files kept in the work dir",
    )
    g.add_argument("--ingest-workdir", type=Path, help="keep config dirs, logs and profiles here")
    g.add_argument(
        "--ingest-integration",
        type=Path,
        help="ours from this custom_components/ange_iot folder (e.g. another checkout)",
    )
    g.add_argument(
        "--ingest-experiment",
        choices=("skip-unchanged-writes", "gc-freeze"),
        help=(
            "skip-unchanged-writes: ours with a patched entity base; gc-freeze: gc.freeze() "
            "after setup on every side (evidence for a change, not what ships)"
        ),
    )


@dataclass(slots=True)
class Settings:
    """The section's parameters after defaults and ``--quick``."""

    devices: int
    uplinks: int
    rate: float
    steps: list[float]
    step_seconds: float
    latency_rate: float
    latency_seconds: float
    garbage: float
    sides: list[str]
    recorder: bool
    profile: bool
    workdir: Path | None
    experiment: str | None
    quick: bool
    integration: Path | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Settings:
        """Read ``args`` (missing attributes take the defaults)."""
        quick = bool(getattr(args, "quick", False))

        def get(name: str, full: Any, small: Any) -> Any:
            value = getattr(args, f"ingest_{name}", None)
            return value if value is not None else (small if quick else full)

        steps = get("steps", "500,1000,2000,3000,4000", "2000")
        return cls(
            devices=int(get("devices", 500, 50)),
            uplinks=int(get("uplinks", 20_000, 1_000)),
            rate=float(get("rate", 1000, 1000)),
            steps=[float(s) for s in str(steps).split(",") if s.strip()],
            step_seconds=float(get("step_seconds", 3.0, 1.0)),
            latency_rate=float(get("latency_rate", 200, 200)),
            latency_seconds=float(get("latency_seconds", 30.0, 3.0)),
            garbage=float(get("garbage", 0.10, 0.10)),
            sides=[x.strip() for x in str(get("sides", ",".join(SIDES), "ours,peer")).split(",")],
            quick=quick,
            recorder=bool(getattr(args, "ingest_recorder", False)),
            profile=bool(getattr(args, "ingest_profile", False)),
            workdir=getattr(args, "ingest_workdir", None),
            experiment=getattr(args, "ingest_experiment", None),
            integration=getattr(args, "ingest_integration", None),
        )


# -- the uplink stream -----------------------------------------------------------------------


@dataclass(slots=True)
class Uplink:
    """One simulated uplink of the stream."""

    dev_eui: str
    model_id: str
    event: dict[str, Any]
    fields: dict[str, Any]  # what our codec decodes (the peer's ``object``)


def generate_stream(devices: list[Any], count: int) -> list[Uplink]:
    """The first ``count`` uplinks of the simulated site, in time order."""
    angelib = load_angelib()
    models = angelib.catalog.MODELS
    codecs = angelib.codecs.CODECS
    sim = angelib.simulator.Simulator(seed=2026, start=START, devices=devices)
    out: list[Uplink] = []
    until = START
    while len(out) < count:
        until += timedelta(hours=1)
        for message in sim.advance(until):
            device = sim.devices[message.dev_eui]
            event = message.event
            codec = codecs[models[device.model_id].codec]
            payload = base64.b64decode(event.get("data", ""))
            fields = codec.decode(int(event.get("fPort", 0)), payload)
            out.append(Uplink(message.dev_eui, device.model_id, event, fields))
    return out[:count]


def split_body(event: dict[str, Any]) -> tuple[str, str]:
    """Compact JSON (as ChirpStack writes it) around the ``time`` value."""
    text = json.dumps({**event, "time": MARK}, ensure_ascii=False, separators=(",", ":"))
    head, tail = text.split(MARK)
    return head, tail


def topic_of(dev_eui: str) -> str:
    """ChirpStack's default event topic of an ``up`` event."""
    app = load_angelib().simulator.DEMO_APPLICATION_ID
    return f"application/{app}/device/{dev_eui}/event/up"


@dataclass(slots=True)
class SideMessages:
    """One side's message file, built phase by phase."""

    items: list[tuple[str, str, str | None]] = field(default_factory=list)
    rssi_counter: Counter[str] = field(default_factory=Counter)
    last_rssi: dict[str, int] = field(default_factory=dict)

    def add(self, uplink: Uplink, *, with_object: bool) -> None:
        """A good uplink; its RSSI differs from the device's previous one."""
        k = self.rssi_counter[uplink.dev_eui]
        self.rssi_counter[uplink.dev_eui] += 1
        rssi = -70 - k % 40
        self.last_rssi[uplink.dev_eui] = rssi
        event = dict(uplink.event)
        event["rxInfo"] = [{**event["rxInfo"][0], "rssi": rssi}]
        if with_object:
            event["object"] = uplink.fields
        head, tail = split_body(event)
        self.items.append((topic_of(uplink.dev_eui), head, tail))

    def add_raw(self, topic: str, head: str, tail: str | None) -> None:
        """A message as is (garbage, discovery config)."""
        self.items.append((topic, head, tail))


def make_garbage(
    kind: str, uplink: Uplink, rng: random.Random, unknown: int | None = None
) -> tuple[str, str, str | None]:
    """One bad message of ``kind``, derived from a real uplink.

    ``unknown`` picks which of the ``UNKNOWN_DEVICES`` DevEUIs an unknown-device message
    uses (default: a random one).
    """
    angelib = load_angelib()
    codec = angelib.codecs.CODECS[angelib.catalog.MODELS[uplink.model_id].codec]
    event = dict(uplink.event)
    topic = topic_of(uplink.dev_eui)
    if kind == "bad_json":
        head, tail = split_body(event)
        body = head + datetime.now(UTC).isoformat() + tail
        return topic, body[: len(body) * 3 // 5], None
    if kind == "bad_base64":
        event["data"] = "@@ not base64 @@"
    elif kind == "unknown_deveui":
        index = rng.randrange(UNKNOWN_DEVICES) if unknown is None else unknown
        eui = f"00ff00ff00{index:06x}"
        event["deviceInfo"] = {**event["deviceInfo"], "devEui": eui}
        topic = topic_of(eui)
    elif kind == "truncated_payload":
        frame = base64.b64decode(event.get("data", ""))
        fport = int(event.get("fPort", 0))
        for cut in range(len(frame) // 2, 0, -1):
            try:
                codec.decode(fport, frame[:cut])
            except angelib.codecs.DecodeError:
                frame = frame[:cut]
                break
        else:
            frame = b"\xff\xff\xff"
        event["data"] = base64.b64encode(frame).decode()
    elif kind == "oversized":
        event["padding"] = f"@@PAD{OVERSIZED_BYTES}@@"  # expanded when loaded
    head, tail = split_body(event)
    return topic, head, tail


# -- the peer: MQTT discovery sensors with value templates ---------------------------------


def peer_template(
    platform: str, key: str, always: set[str], mounting_height: int | None
) -> str | None:
    """The value template a user would write for one of our entities; None if none fits."""
    if platform == "sensor":
        if key == "rssi":
            return "{{ value_json.rxInfo[0].rssi }}"
        if key == "last_seen":
            return "{{ value_json.time }}"
        if key == "snow_depth" and mounting_height and "distance" in always:
            return f"{{{{ (({mounting_height} - value_json.object.distance) / 10) | round(1) }}}}"
        if key in always:
            return f"{{{{ value_json.object.{key} }}}}"
        return None
    if key == "motion" and "motion_count" in always:
        return "{{ 'ON' if value_json.object.motion_count > 0 else 'OFF' }}"
    if key in always:
        return f"{{{{ 'ON' if value_json.object.{key} else 'OFF' }}}}"
    return None


def peer_discovery(
    devices: list[Any], entity_keys: dict[str, dict[str, dict[str, Any]]], stream: list[Uplink]
) -> tuple[list[tuple[str, str, str | None]], dict[str, list[str]], dict[str, list[str]]]:
    """Retained discovery configs; per model the keys the peer has and the ones it lacks."""
    always: dict[str, set[str]] = {}
    for uplink in stream:
        keys = set(uplink.fields)
        always[uplink.model_id] = always.get(uplink.model_id, keys) & keys
    models = load_angelib().catalog.MODELS
    configs: list[tuple[str, str, str | None]] = []
    covered: dict[str, list[str]] = {}
    missing: dict[str, list[str]] = {}
    for device in devices:
        model = models[device.model_id]
        for key, info in sorted(entity_keys.get(device.model_id, {}).items()):
            platform = info["platform"]
            template = peer_template(
                platform, key, always.get(device.model_id, set()), device.mounting_height_mm
            )
            bucket = covered if template else missing
            if key not in bucket.setdefault(device.model_id, []):
                bucket[device.model_id].append(key)
            if template is None:
                continue
            config: dict[str, Any] = {
                "name": key.replace("_", " ").capitalize(),
                "unique_id": f"{PEER_PREFIX}{device.dev_eui}_{key}",
                "state_topic": topic_of(device.dev_eui),
                "value_template": template,
                "device": {
                    "identifiers": [f"chirpstack_{device.dev_eui}"],
                    "name": device.name,
                    "manufacturer": model.manufacturer,
                    "model": model.name,
                },
            }
            for name, attr in (
                ("device_class", "device_class"),
                ("unit", "unit_of_measurement"),
                ("state_class", "state_class"),
                ("entity_category", "entity_category"),
            ):
                if info.get(name):
                    config[attr] = info[name]
            topic = f"homeassistant/{platform}/{device.dev_eui}/{key}/config"
            configs.append((topic, json.dumps(config, ensure_ascii=False), None))
    return configs, covered, missing


# -- the parent: build, run both sides, compare -----------------------------------------------


def _phase(name: str, start: int, count: int, rate: float, **extra: Any) -> dict[str, Any]:
    return {"name": name, "start": start, "count": count, "rate": rate, **extra}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Measure both sides; figures, verification and the settings used."""
    s = Settings.from_args(args)
    workdir = s.workdir or Path(tempfile.mkdtemp(prefix="ange-bench-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        return _run(s, workdir)
    finally:
        if s.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(s: Settings, workdir: Path) -> dict[str, Any]:
    started = time.monotonic()
    devices = site_devices(s.devices)
    step_counts = [round(rate * s.step_seconds) for rate in s.steps]
    latency_count = round(s.latency_rate * s.latency_seconds)
    # Warm-up: the stream's prefix up to every device's first uplink (+ 10 %).
    generated = generate_stream(devices, s.devices * 3)
    seen: set[str] = set()
    warmup = len(generated)
    for index, uplink in enumerate(generated):
        seen.add(uplink.dev_eui)
        if len(seen) == s.devices:
            warmup = index + 1 + s.devices // 10
            break
    # The phases, each a slice of the stream (in this order for every side).
    plan: list[dict[str, Any]] = [
        {"name": "warmup", "count": warmup, "rate": 2000},
        {"name": "cpu", "count": s.uplinks, "rate": s.rate},
        {"name": "direct", "count": max(1000, s.uplinks // 2), "rate": 0, "direct": True},
    ]
    # Malformed traffic (ours): clean and 10 %-garbage blocks alternate, so a drift in what
    # else the machine does hits both alike; the good-message rates are summed per kind.
    blocks = 2 if s.quick else 5
    block = max(200, s.uplinks // (2 * blocks))
    # First, every kind of garbage once per device (and each unknown DevEUI once): one-off
    # costs (a warning per device and kind and hour, a discovery flow per unknown DevEUI)
    # are measured here, so the blocks below show the steady state.
    plan.append({"name": "mal-first", "count": 0, "first": True, "rate": s.rate,
                 "sides": ("ours", "floor")})  # fmt: skip
    for index in range(1, blocks + 1):
        plan.append({"name": f"mal-clean#{index}", "count": block, "rate": s.rate,
                     "sides": ("ours", "floor")})  # fmt: skip
        plan.append({"name": f"mal-garbage#{index}", "count": block, "rate": s.rate,
                     "garbage": True, "sides": ("ours", "floor")})  # fmt: skip
    # What one bad message of each kind costs ours, injected alone (after the mixed run,
    # so the unknown DevEUIs' one-off discovery flows are already raised).
    per_kind = max(400, s.uplinks // 20)  # the first half warms up (not timed)
    plan.extend(
        {"name": f"bad-{kind}", "count": 0, "only": kind, "n": per_kind, "rate": 0,
         "direct": True, "sides": ("ours",)}
        for kind in GARBAGE_KINDS
    )  # fmt: skip
    if s.profile:
        plan.append({"name": "profile", "count": s.uplinks // 2, "rate": s.rate, "profile": True})
        plan.append({"name": "profile-direct", "count": s.uplinks // 2, "rate": 0,
                     "profile": True, "direct": True})  # fmt: skip
        plan.append({"name": "profile-garbage", "count": s.uplinks // 2, "rate": s.rate,
                     "profile": True, "garbage": True, "sides": ("ours",)})  # fmt: skip
    plan.extend(
        {"name": f"step-{rate:g}", "count": n, "rate": rate, "times": True, "step": True}
        for rate, n in zip(s.steps, step_counts, strict=True)
    )
    plan.append({"name": "latency", "count": latency_count, "rate": s.latency_rate,
                 "times": True, "exact": True, "sides": ("ours", "peer")})  # fmt: skip
    pos = 0
    for item in plan:
        item["lo"], item["hi"] = pos, pos + item["count"]
        pos += item["count"]
    total = pos
    stream = generate_stream(devices, total)
    gen_seconds = time.monotonic() - started

    results: dict[str, Any] = {
        "settings": {
            "devices": s.devices,
            "uplinks": s.uplinks,
            "rate": s.rate,
            "steps": s.steps,
            "step_seconds": s.step_seconds,
            "latency_rate": s.latency_rate,
            "latency_seconds": s.latency_seconds,
            "garbage_share": s.garbage,
            "recorder": s.recorder,
            "experiment": s.experiment,
            "integration": str(s.integration) if s.integration else None,
            "warmup_uplinks": warmup,
            "stream_seconds_to_generate": round(gen_seconds, 1),
        },
        "mix": dict(Counter(u.model_id for u in stream[plan[1]["lo"] : plan[1]["hi"]])),
    }
    subentries = device_subentries(devices)
    entity_keys: dict[str, Any] = {}
    sides: dict[str, Any] = {}
    expected: dict[str, dict[str, dict[str, int]]] = {}
    last_rssi: dict[str, dict[str, int]] = {}
    for side in SIDES:
        if side not in s.sides:
            continue
        if side == "peer" and not entity_keys:
            raise RuntimeError("the peer needs ours' entities: run ours first (--ingest-sides)")
        msgs = SideMessages()
        phases: list[dict[str, Any]] = []
        expected[side] = {}
        rng = random.Random(f"garbage:{side}")
        for item in plan:
            name, lo, hi = item["name"], item["lo"], item["hi"]
            synthetic = "only" in item or "first" in item  # garbage only, no stream slice
            if side not in item.get("sides", SIDES) or (hi == lo and not synthetic):
                continue
            start = len(msgs.items)
            if item.get("first"):
                pool = stream[plan[1]["lo"] : plan[1]["hi"]]
                by_device = {u.dev_eui: u for u in pool}
                for uplink in by_device.values():
                    for kind in GARBAGE_KINDS:
                        if kind != "unknown_deveui":
                            msgs.add_raw(*make_garbage(kind, uplink, rng))
                for index in range(UNKNOWN_DEVICES):
                    msgs.add_raw(*make_garbage("unknown_deveui", pool[index], rng, index))
                count = len(msgs.items) - start
                phases.append(_phase(name, start, count, item["rate"], good=0,
                                     garbage={"each kind per device": count}))  # fmt: skip
                expected[side][name] = {}
                continue
            if kind := item.get("only"):
                pool = stream[plan[1]["lo"] : plan[1]["hi"]]
                for _ in range(item["n"]):
                    msgs.add_raw(*make_garbage(kind, pool[rng.randrange(len(pool))], rng))
                warm = item["n"] // 2
                phases.append(_phase(name, start + warm, item["n"] - warm, 0, direct=True,
                                     warm=warm, good=0,
                                     garbage={kind: item["n"] - warm}))  # fmt: skip
                expected[side][name] = {}
                continue
            per_device: Counter[str] = Counter()
            garbage_kinds: Counter[str] = Counter()
            share = s.garbage if item.get("garbage") else 0.0
            n_garbage = round((hi - lo) * share / (1 - share))
            garbage_at = set(rng.sample(range(hi - lo + n_garbage), n_garbage))
            good = iter(stream[lo:hi])
            for slot in range(hi - lo + n_garbage):
                if slot in garbage_at:
                    kind = GARBAGE_KINDS[sum(garbage_kinds.values()) % len(GARBAGE_KINDS)]
                    garbage_kinds[kind] += 1
                    msgs.add_raw(*make_garbage(kind, stream[rng.randrange(lo, hi)], rng))
                    continue
                uplink = next(good)
                msgs.add(uplink, with_object=side == "peer")
                per_device[uplink.dev_eui] += 1
            expected[side][name] = dict(per_device)
            options = {
                k: item[k] for k in ("times", "exact", "step", "profile", "direct") if k in item
            }
            phase = _phase(name, start, len(msgs.items) - start, item["rate"], **options)
            phase["good"] = hi - lo
            if n_garbage:
                phase["garbage"] = dict(garbage_kinds)
            phases.append(phase)
            if name == "cpu":
                last_rssi[side] = dict(msgs.last_rssi)
        side_dir = workdir / side
        side_dir.mkdir(parents=True, exist_ok=True)
        messages_file = side_dir / "messages.json"
        write_messages(messages_file, msgs.items)
        spec: dict[str, Any] = {
            "name": side,
            "side": side,
            "config_dir": str(side_dir / "config"),
            "messages": str(messages_file),
            "phases": phases,
            "devices": [d.dev_eui for d in devices],
            "recorder": s.recorder,
            "experiment": (s.experiment if side == "ours" or s.experiment == "gc-freeze" else None),
            "quick": s.quick,
            "integration": str(s.integration.resolve()) if s.integration else None,
            "pause_s": 0.1 if s.quick else 0.5,  # between phases
            "settle_s": 1.5 if s.quick else 3.0,  # subscriptions reach the broker
        }
        with Broker(side_dir / "broker") as broker:
            spec["port"] = broker.port
            if side == "ours":
                spec["subentries"] = subentries
            elif side == "peer":
                configs, covered, missing = peer_discovery(devices, entity_keys, stream)
                discovery_file = side_dir / "discovery.json"
                write_messages(discovery_file, configs)
                with PublisherProcess(discovery_file, broker.port, side_dir / "pub.log") as pub:
                    pub.publish(0, len(configs), 0, retain=True)
                spec["expected_entities"] = len(configs)
                results["peer_entities"] = {
                    "discovery_configs": len(configs),
                    "per_model": covered,
                    "not_replicated": missing,
                }
            sides[side] = run_child("bench.ingest", spec, side_dir, timeout=1800)
        if side == "ours":
            entity_keys = sides[side]["entity_keys"]
    results["sides"] = sides
    results["verification"] = verify(sides, expected, last_rssi)
    results.update(summarise(sides, s))
    results["settings"]["seconds"] = round(time.monotonic() - started, 1)
    return results


def verify(
    sides: dict[str, Any],
    expected: dict[str, dict[str, dict[str, int]]],
    last_rssi: dict[str, dict[str, int]],
) -> dict[str, Any]:
    """Did every uplink write its state? Do both sides end with the same states?"""
    out: dict[str, Any] = {}
    for side, result in sides.items():
        if side == "floor":
            continue
        per_phase = {}
        for phase in result["phases"]:
            want = expected[side].get(phase["name"], {})
            got = phase.get("state_changes", {})
            short = {
                eui: (want.get(eui, 0), got.get(eui, 0))
                for eui in want.keys() | got.keys()
                if got.get(eui, 0) != want.get(eui, 0)
            }
            per_phase[phase["name"]] = {
                "uplinks_expected": sum(want.values()),
                "rssi_states_written": sum(got.values()),
                "devices_mismatched": len(short),
                "examples": dict(list(short.items())[:5]),
            }
        final = result.get("snapshot", {})
        wrong_rssi = [
            eui
            for eui, rssi in last_rssi.get(side, {}).items()
            if _number(final.get(f"{eui}/rssi")) != float(rssi)
        ]
        errors = {
            k: n
            for k, n in result.get("log", {}).items()
            if k.startswith(("ERROR", "CRITICAL"))
            and any(x in k for x in ("ange_iot", "dispatcher", "mqtt", "homeassistant.core"))
        }
        out[side] = {
            "phases": per_phase,
            "final_rssi_wrong": len(wrong_rssi),
            "errors_logged": errors,
        }
    if "ours" in sides and "peer" in sides:
        ours_states = sides["ours"].get("snapshot", {})
        peer_states = sides["peer"].get("snapshot", {})
        common = [k for k in ours_states if k in peer_states and not k.endswith("/last_seen")]
        differ = {
            key: (ours_states[key], peer_states[key])
            for key in common
            if not _same(ours_states[key], peer_states[key])
        }
        out["ours_vs_peer_after_cpu_run"] = {
            "states_compared": len(common),
            "differ": len(differ),
            "examples": dict(list(differ.items())[:8]),
        }
    return out


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    x, y = _number(a), _number(b)
    return x is not None and y is not None and abs(x - y) <= 1e-6 * max(1.0, abs(x))


def summarise(sides: dict[str, Any], s: Settings) -> dict[str, Any]:
    """The headline figures of both sides."""

    def phase(side: str, name: str) -> dict[str, Any] | None:
        for item in sides.get(side, {}).get("phases", []):
            if item["name"] == name:
                return dict(item)
        return None

    out: dict[str, Any] = {"cpu": {}, "direct": {}, "sustained": {}, "latency": {}}
    for side, side_result in sides.items():
        if direct := phase(side, "direct"):
            out["direct"][side] = {
                k: direct.get(k)
                for k in (
                    "cpu_s_per_1000",
                    "gc_s_per_1000",
                    "cpu_excl_gc_s_per_1000",
                    "throughput",
                    "count",
                )
            }
        cpu = phase(side, "cpu")
        if cpu:
            out["cpu"][side] = {
                k: cpu.get(k)
                for k in ("cpu_s_per_1000", "loop_cpu_s_per_1000", "gc_s_per_1000", "throughput",
                          "cpu_excl_gc_s_per_1000", "gc_collections", "wall_s",
                          "cpu_s", "count", "entities_per_device", "state_changes_per_uplink")
            }  # fmt: skip
        steps = [p for p in side_result["phases"] if p.get("step")]
        sustained = [p["rate"] for p in steps if p.get("sustained")]
        out["sustained"][side] = {
            "highest_sustained_rate": max(sustained) if sustained else None,
            "first_failed_rate": next((p["rate"] for p in steps if not p.get("sustained")), None),
            "saturated_throughput": max((p.get("throughput") or 0 for p in steps), default=None),
            "steps": [
                {k: p.get(k) for k in ("rate", "sustained", "why", "throughput", "lag")}
                for p in steps
            ],
        }
        if latency := phase(side, "latency"):
            out["latency"][side] = latency.get("latency")
        out.setdefault("idle_cpu_s_per_s", {})[side] = side_result.get("idle_cpu_s_per_s")
    ours, peer = out["cpu"].get("ours"), out["cpu"].get("peer")
    if ours and peer and ours.get("cpu_s_per_1000"):
        out["cpu"]["ratio"] = peer["cpu_s_per_1000"] / ours["cpu_s_per_1000"]
        out["cpu"]["ratio_excl_gc"] = (
            peer["cpu_excl_gc_s_per_1000"] / ours["cpu_excl_gc_s_per_1000"]
        )
        out["cpu"]["loop_ratio"] = peer["loop_cpu_s_per_1000"] / ours["loop_cpu_s_per_1000"]
        floor = out["cpu"].get("floor")
        if floor and ours["cpu_s_per_1000"] > floor["cpu_s_per_1000"]:
            # What each adds on top of HA's MQTT path (paho, HA's MQTT client, the loop).
            out["cpu"]["above_floor_ratio"] = (peer["cpu_s_per_1000"] - floor["cpu_s_per_1000"]) / (
                ours["cpu_s_per_1000"] - floor["cpu_s_per_1000"]
            )
    do, dp, df = (out["direct"].get(k) for k in ("ours", "peer", "floor"))
    if do and dp:
        out["direct"]["ratio"] = dp["cpu_s_per_1000"] / do["cpu_s_per_1000"]
        out["direct"]["ratio_excl_gc"] = dp["cpu_excl_gc_s_per_1000"] / do["cpu_excl_gc_s_per_1000"]
        if df and do["cpu_s_per_1000"] > df["cpu_s_per_1000"]:
            out["direct"]["above_floor_ratio"] = (dp["cpu_s_per_1000"] - df["cpu_s_per_1000"]) / (
                do["cpu_s_per_1000"] - df["cpu_s_per_1000"]
            )
    clean = _blocks(sides, "mal-clean#")
    garbage = _blocks(sides, "mal-garbage#")
    if garbage and clean:
        clean_rate = clean["good"] / clean["cpu_s"]
        garbage_rate = garbage["good"] / garbage["cpu_s"]
        clean_ex = clean["good"] / clean["cpu_excl_gc_s"]
        garbage_ex = garbage["good"] / garbage["cpu_excl_gc_s"]
        direct = phase("ours", "direct")
        out["malformed"] = {
            "share": s.garbage,
            "blocks": clean["blocks"],
            "good_uplinks": {"clean": clean["good"], "with_garbage": garbage["good"]},
            "kinds": garbage.get("garbage"),
            "good_per_cpu_s_clean": clean_rate,
            "good_per_cpu_s_with_garbage": garbage_rate,
            "drop_pct": 100 * (1 - garbage_rate / clean_rate),
            "good_per_cpu_s_clean_excl_gc": clean_ex,
            "good_per_cpu_s_with_garbage_excl_gc": garbage_ex,
            "drop_pct_excl_gc": 100 * (1 - garbage_ex / clean_ex),
            "hub_counters": garbage.get("hub"),
            # CPU a garbage message costs, transport included: the garbage blocks' CPU minus
            # their good uplinks at the clean blocks' price, per garbage message.
            "us_per_garbage_message": _garbage_cost(clean, garbage),
            "us_per_garbage_message_floor": _garbage_cost(
                _blocks(sides, "mal-clean#", "floor"), _blocks(sides, "mal-garbage#", "floor")
            ),
            "first_occurrence": _first(sides),
            # CPU outside the event loop (HA's logging thread writes the warnings, executor)
            "other_threads_cpu_s": {
                "clean": clean["cpu_s"] - clean["loop_cpu_s"],
                "with_garbage": garbage["cpu_s"] - garbage["loop_cpu_s"],
            },
            # µs of CPU per message, injected directly (steady state, one kind at a time)
            "us_per_message_injected": {
                "good uplink": direct["cpu_s_per_1000"] * 1000 if direct else None,
                **{
                    kind: p["cpu_s_per_1000"] * 1000
                    for kind in GARBAGE_KINDS
                    if (p := phase("ours", f"bad-{kind}"))
                },
            },
        }
    return out


def _blocks(sides: dict[str, Any], prefix: str, side: str = "ours") -> dict[str, Any] | None:
    """A side's phases named ``prefix<n>`` added up."""
    items = [p for p in sides.get(side, {}).get("phases", []) if p["name"].startswith(prefix)]
    if not items:
        return None
    kinds: Counter[str] = Counter()
    hub: Counter[str] = Counter()
    for item in items:
        kinds.update(item.get("garbage") or {})
        hub.update(item.get("hub") or {})
    return {
        "blocks": len(items),
        "good": sum(p["good"] for p in items),
        "count": sum(p["count"] for p in items),
        "cpu_s": sum(p["cpu_s"] for p in items),
        "cpu_excl_gc_s": sum(p["cpu_excl_gc_s_per_1000"] * p["count"] / 1000 for p in items),
        "loop_cpu_s": sum(p["loop_cpu_s"] for p in items),
        "garbage": dict(kinds),
        "hub": dict(hub),
    }


def _first(sides: dict[str, Any]) -> dict[str, Any] | None:
    """The one-off cost of each garbage kind's first message per device (``mal-first``)."""
    found = {}
    for side in ("ours", "floor"):
        for item in sides.get(side, {}).get("phases", []):
            if item["name"] == "mal-first":
                found[side] = item
    if "ours" not in found:
        return None
    ours = found["ours"]
    floor = found.get("floor")
    return {
        "messages": ours["count"],
        "cpu_s": ours["cpu_s"],
        "floor_cpu_s": floor["cpu_s"] if floor else None,
        "us_each": 1e6 * ours["cpu_s"] / ours["count"],
        "us_each_above_floor": (
            1e6 * (ours["cpu_s"] - floor["cpu_s"]) / ours["count"] if floor else None
        ),
    }


def _garbage_cost(clean: dict[str, Any] | None, garbage: dict[str, Any] | None) -> float | None:
    if not clean or not garbage or garbage["count"] == garbage["good"]:
        return None
    per_good = clean["cpu_s"] / clean["good"]
    extra = garbage["cpu_s"] - garbage["good"] * per_good
    return 1e6 * extra / (garbage["count"] - garbage["good"])


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "MISS")


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """The section's table."""
    out: list[tuple[str, str, str, str]] = []
    cpu = result.get("cpu", {})
    ours, peer = cpu.get("ours") or {}, cpu.get("peer") or {}
    settings = result["settings"]
    ratio = cpu.get("ratio")
    recorder = "on" if settings.get("recorder") else "off"
    target = TARGET_RATIO if settings.get("recorder") else TARGET_RATIO_NO_RECORDER
    out.append(
        (
            f"CPU s / 1,000 uplinks ({settings['uplinks']} at {settings['rate']:g}/s)",
            fmt(ours.get("cpu_s_per_1000"), 3),
            fmt(peer.get("cpu_s_per_1000"), 3),
            f"peer/ours {fmt(ratio, 2)}× (≥ {target:g}×, recorder {recorder}) "
            + _verdict(None if ratio is None else ratio >= target),
        )
    )
    out.append(
        (
            "  event-loop thread only",
            fmt(ours.get("loop_cpu_s_per_1000"), 3),
            fmt(peer.get("loop_cpu_s_per_1000"), 3),
            f"peer/ours {fmt(cpu.get('loop_ratio'), 2)}×",
        )
    )
    out.append(
        (
            "  of which in the cyclic GC",
            fmt(ours.get("gc_s_per_1000"), 3),
            fmt(peer.get("gc_s_per_1000"), 3),
            "gc.callbacks; a full pass of this heap: "
            + " / ".join(
                fmt(side["full_gc_s"] * 1000, 0, "ms") if (side := result["sides"].get(k)) else "—"
                for k in ("ours", "peer")
            ),
        )
    )
    out.append(
        (
            "  excluding the GC",
            fmt(ours.get("cpu_excl_gc_s_per_1000"), 3),
            fmt(peer.get("cpu_excl_gc_s_per_1000"), 3),
            f"peer/ours {fmt(cpu.get('ratio_excl_gc'), 2)}×",
        )
    )
    floor = cpu.get("floor") or {}
    if floor:
        f = floor.get("cpu_s_per_1000")
        out.append(
            (
                "  HA's MQTT path alone (no-op subscriber)",
                fmt(f, 3),
                fmt(f, 3),
                "paho + HA's MQTT client + event loop",
            )
        )
        above = cpu.get("above_floor_ratio")
        out.append(
            (
                "  above that floor",
                fmt((ours.get("cpu_s_per_1000") or 0) - (f or 0), 3),
                fmt((peer.get("cpu_s_per_1000") or 0) - (f or 0), 3),
                f"peer/ours {fmt(above, 2)}×",
            )
        )
    direct = result.get("direct", {})
    dours, dpeer, dfloor = (direct.get(k) or {} for k in ("ours", "peer", "floor"))
    if dours:
        out.append(
            (
                "CPU s / 1,000 uplinks injected into HA's MQTT client",
                fmt(dours.get("cpu_s_per_1000"), 3),
                fmt(dpeer.get("cpu_s_per_1000"), 3),
                f"peer/ours {fmt(direct.get('ratio'), 2)}×; excl. GC "
                f"{fmt(dours.get('cpu_excl_gc_s_per_1000'), 3)} / "
                f"{fmt(dpeer.get('cpu_excl_gc_s_per_1000'), 3)} = "
                f"{fmt(direct.get('ratio_excl_gc'), 2)}×",
            )
        )
        if dfloor:
            out.append(
                (
                    "  above the no-op subscriber",
                    fmt(dours["cpu_s_per_1000"] - dfloor["cpu_s_per_1000"], 3),
                    fmt((dpeer.get("cpu_s_per_1000") or 0) - dfloor["cpu_s_per_1000"], 3),
                    f"peer/ours {fmt(direct.get('above_floor_ratio'), 2)}×; "
                    f"floor {fmt(dfloor['cpu_s_per_1000'], 3)}",
                )
            )
        out.append(
            (
                "  uplinks/s one core can handle that way",
                fmt(dours.get("throughput")),
                fmt(dpeer.get("throughput")),
                f"no-op subscriber: {fmt(dfloor.get('throughput'))}/s",
            )
        )
    writes = {
        side: item["state_writes_per_message"]
        for side in ("ours", "peer")
        for item in result.get("sides", {}).get(side, {}).get("phases", [])
        if item["name"] == "profile-direct" and "state_writes_per_message" in item
    }
    if writes:
        out.append(
            (
                "  entity state writes / uplink (changed or not)",
                fmt(writes.get("ours"), 1),
                fmt(writes.get("peer"), 1),
                "counted by the profiler (--ingest-profile)",
            )
        )
    out.append(
        (
            "  entity states changed / uplink",
            fmt(ours.get("state_changes_per_uplink"), 1),
            fmt(peer.get("state_changes_per_uplink"), 1),
            "state_changed events (unchanged writes not counted)",
        )
    )
    sustained = result.get("sustained", {})
    so, sp = sustained.get("ours") or {}, sustained.get("peer") or {}
    best = so.get("highest_sustained_rate")
    out.append(
        (
            "highest sustained rate (uplinks/s offered)",
            fmt(best),
            fmt(sp.get("highest_sustained_rate")),
            f"≥ {TARGET_RATE:,}/s ".replace(",", " ")
            + _verdict(None if not so else (best or 0) >= TARGET_RATE),
        )
    )
    if sf := sustained.get("floor"):
        out.append(
            (
                "  HA's MQTT path alone (no-op subscriber)",
                fmt(sf.get("highest_sustained_rate")),
                fmt(sf.get("highest_sustained_rate")),
                "the ceiling of any MQTT-fed integration here",
            )
        )
    out.append(
        (
            "  throughput at the highest step (uplinks/s)",
            fmt(so.get("saturated_throughput")),
            fmt(sp.get("saturated_throughput")),
            f"first step not sustained: {fmt(so.get('first_failed_rate'))} / "
            f"{fmt(sp.get('first_failed_rate'))}",
        )
    )
    latency = result.get("latency", {})
    lo, lp = latency.get("ours") or {}, latency.get("peer") or {}
    rate = settings["latency_rate"]
    for label, key in (("p50", "p50_ms"), ("p99", "p99_ms")):
        ok = (
            None
            if lo.get("arrival_to_state") is None
            else (lo["arrival_to_state"][key] < TARGET_P99_MS)
        )
        out.append(
            (
                f"{label} arrival → state at {rate:g}/s (ms)",
                fmt((lo.get("arrival_to_state") or {}).get(key), 2),
                fmt((lp.get("arrival_to_state") or {}).get(key), 2),
                f"< {TARGET_P99_MS:g} ms " + _verdict(ok) if label == "p99" else "",
            )
        )
    for label, key in (("p50", "p50_ms"), ("p99", "p99_ms")):
        out.append(
            (
                f"{label} publish → state (broker incl., ms)",
                fmt((lo.get("publish_to_state") or {}).get(key), 2),
                fmt((lp.get("publish_to_state") or {}).get(key), 2),
                "",
            )
        )
    if mal := result.get("malformed"):
        drop = mal["drop_pct"]
        out.append(
            (
                "good uplinks / CPU s, clean",
                fmt(mal["good_per_cpu_s_clean"]),
                "—",
                "",
            )
        )
        out.append(
            (
                f"good uplinks / CPU s, {mal['share']:.0%} garbage",
                fmt(mal["good_per_cpu_s_with_garbage"]),
                "—",
                f"drop {fmt(drop, 1)} % (≤ {TARGET_GARBAGE_DROP:g} %) "
                + _verdict(drop <= TARGET_GARBAGE_DROP)
                + f"; excl. GC {fmt(mal.get('drop_pct_excl_gc'), 1)} %",
            )
        )
        out.append(
            (
                "  µs CPU per garbage message (transport incl.)",
                fmt(mal.get("us_per_garbage_message")),
                "—",
                "HA's MQTT path alone (no-op subscriber): "
                + fmt(mal.get("us_per_garbage_message_floor")),
            )
        )
        if first := mal.get("first_occurrence"):
            floor_each = (
                first["floor_cpu_s"] * 1e6 / first["messages"] if first["floor_cpu_s"] else None
            )
            out.append(
                (
                    "  one-off: first bad message per device and kind (µs)",
                    fmt(first["us_each"]),
                    "—",
                    f"{first['messages']} messages, once per device, kind and hour; "
                    f"HA's MQTT path alone {fmt(floor_each)}",
                )
            )
        costs = mal.get("us_per_message_injected") or {}
        if costs:
            out.append(
                (
                    "  µs CPU per message, injected, by kind",
                    "",
                    "",
                    ", ".join(f"{k.replace('_', ' ')} {fmt(v)}" for k, v in costs.items()),
                )
            )
    idle = result.get("idle_cpu_s_per_s", {})
    out.append(
        (
            "idle CPU before the runs (CPU s / s)",
            fmt(idle.get("ours"), 4),
            fmt(idle.get("peer"), 4),
            "",
        )
    )
    checks = []
    for side, info in result.get("verification", {}).items():
        if side.startswith("ours_vs"):
            checks.append(f"ours≠peer states: {info['differ']}/{info['states_compared']}")
            continue
        bad = sum(p["devices_mismatched"] for p in info["phases"].values())
        errors = sum(info.get("errors_logged", {}).values())
        checks.append(
            f"{side}: {bad} devices with a wrong state count, "
            f"{info['final_rssi_wrong']} wrong final RSSI, "
            f"{errors} errors logged"
        )
    out.append(("verification (every uplink wrote state)", "", "", "; ".join(checks)))
    return out


# -- the child: one Home Assistant process --------------------------------------------------


@dataclass(slots=True)
class Recorder:
    """Counts (and optionally times) the uplinks HA's MQTT client has handled."""

    count: int = 0
    expected: int = 0
    timing: bool = False
    arrival: list[float] = field(default_factory=list)
    done: list[float] = field(default_factory=list)
    event: asyncio.Event | None = None
    handler: Callable[..., None] | None = None  # the wrapped paho on_message
    client: Any = None

    def reset(self, expected: int, timing: bool) -> asyncio.Event:
        """Start counting a new phase."""
        self.count, self.expected, self.timing = 0, expected, timing
        self.arrival, self.done = [], []
        self.event = asyncio.Event()
        return self.event


def install_recorder(hass: Any, recorder: Recorder) -> None:
    """Wrap paho's ``on_message`` of HA's MQTT client (HA's own callback runs first)."""
    from homeassistant.components.mqtt.models import DATA_MQTT

    mqttc = hass.data[DATA_MQTT].client._mqttc
    original: Callable[..., None] = mqttc.on_message
    monotonic = time.monotonic
    prefix = b"application/"

    def on_message(client: Any, userdata: Any, msg: Any) -> None:
        original(client, userdata, msg)
        if msg._topic.startswith(prefix):
            rec = recorder
            rec.count += 1
            if rec.timing:
                rec.done.append(monotonic())
                rec.arrival.append(msg.timestamp)
            if rec.count == rec.expected and rec.event is not None:
                rec.event.set()

    mqttc.on_message = on_message
    recorder.handler = on_message
    recorder.client = mqttc


@dataclass(slots=True)
class GcClock:
    """Time spent in the cyclic garbage collector (``gc.callbacks``), per generation."""

    seconds: float = 0.0
    collections: Counter[int] = field(default_factory=Counter)
    pauses: list[tuple[float, float, int]] = field(default_factory=list)  # > 20 ms
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        """A ``gc.callbacks`` hook."""
        if phase == "start":
            self._started = time.perf_counter()
        else:
            took = time.perf_counter() - self._started
            self.seconds += took
            generation = int(info.get("generation", -1))
            self.collections[generation] += 1
            if took > 0.02:
                self.pauses.append((time.monotonic(), took, generation))

    def snapshot(self) -> tuple[float, dict[int, int]]:
        """Seconds so far and collections per generation."""
        return self.seconds, dict(self.collections)


def _ms_stats(values: list[float]) -> dict[str, float | None]:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else None,
    }


async def _child(hass: Any, spec: dict[str, Any]) -> dict[str, Any]:
    from homeassistant.helpers import entity_registry as er
    from homeassistant.helpers.event import async_track_state_change_event

    side = spec["side"]
    port = spec["port"]
    result: dict[str, Any] = {"side": side, "phases": []}
    t0 = time.monotonic()
    await add_mqtt_entry(hass, port)
    registry = er.async_get(hass)
    devices: list[str] = spec["devices"]
    hub = None
    # (dev_eui, key) -> entity_id of every enabled entity of this side's devices
    entities: dict[tuple[str, str], str] = {}
    if side == "ours":
        if spec.get("experiment") == "skip-unchanged-writes":
            _patch_skip_unchanged_writes()
        # Radio diagnostics are off by default; the RSSI entity is the proof that every
        # uplink was written, so it is enabled here (registered before the entry, as a user
        # who enabled it has it), and the peer gets it too (it mirrors ours' enabled ones).
        for sub in spec["subentries"]:
            registry.async_get_or_create(
                "sensor", "ange_iot", f"{sub['data']['dev_eui']}_rssi", disabled_by=None
            )
        entry = await add_config_entry(
            hass,
            domain="ange_iot",
            title="ChirpStack (benchmark)",
            data={
                "gateway": "chirpstack_mqtt",
                "topic_template": "application/{applicationId}/device/{devEui}/event/{event}",
                "application_id": None,
            },
            options={"silence_limit": 60},
            subentries=spec["subentries"],
            unique_id="chirpstack_mqtt:application/+/device/+/event/+",
        )
        hub = entry.runtime_data
        entity_keys: dict[str, dict[str, dict[str, Any]]] = {}
        model_of = {sub["data"]["dev_eui"]: sub["data"]["model"] for sub in spec["subentries"]}
        for reg in er.async_entries_for_config_entry(registry, entry.entry_id):
            eui, _, key = reg.unique_id.partition("_")
            if eui not in model_of or reg.disabled_by is not None:
                continue
            entities[(eui, key)] = reg.entity_id
            keys = entity_keys.setdefault(model_of[eui], {})
            if key in keys:
                continue
            state = hass.states.get(reg.entity_id)
            keys[key] = {
                "platform": reg.domain,
                "device_class": reg.device_class or reg.original_device_class,
                "unit": reg.unit_of_measurement,
                "state_class": state.attributes.get("state_class") if state else None,
                "entity_category": reg.entity_category.value if reg.entity_category else None,
            }
        result["entity_keys"] = entity_keys
    elif side == "floor":
        from homeassistant.components import mqtt
        from homeassistant.core import callback as ha_callback

        @ha_callback
        def ignore(_msg: Any) -> None:
            """The cheapest possible consumer: HA's MQTT path and nothing else."""

        await mqtt.async_subscribe(
            hass, "application/+/device/+/event/+", ignore, qos=0, encoding=None
        )
    else:
        expected = spec["expected_entities"]
        deadline = time.monotonic() + 600
        while True:
            found = [
                reg
                for reg in registry.entities.values()
                if reg.platform == "mqtt" and reg.unique_id.startswith(PEER_PREFIX)
            ]
            if len(found) >= expected:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(found)} of {expected} MQTT entities discovered")
            await asyncio.sleep(0.2)
        for reg in found:
            eui, _, key = reg.unique_id.removeprefix(PEER_PREFIX).partition("_")
            entities[(eui, key)] = reg.entity_id
    result["entities_per_device"] = len(entities) / len(devices)
    result["setup_s"] = time.monotonic() - t0
    await hass.async_block_till_done()
    await asyncio.sleep(spec["settle_s"])  # (debounced) MQTT subscriptions reach the broker
    # The recorder writes the start-up's states and registry changes in its own thread;
    # that backlog is not ingest: let it finish before anything is measured.
    result["recorder_startup_drain_s"] = await _recorder_drain(hass)

    rssi_entities = {}
    for eui in devices if side != "floor" else ():
        if (found_id := entities.get((eui, "rssi"))) is None:
            raise RuntimeError(f"no RSSI entity for {eui} ({side})")
        rssi_entities[found_id] = eui
    changes: Counter[str] = Counter()
    all_writes = [0]

    from homeassistant.core import callback

    @callback
    def on_rssi(event: Any) -> None:
        changes[event.data["entity_id"]] += 1

    async_track_state_change_event(hass, list(rssi_entities), on_rssi)

    @callback
    def count_writes(_event: Any) -> None:
        all_writes[0] += 1

    from homeassistant.const import EVENT_STATE_CHANGED

    # state_changed only: a state_reported listener would make HA fire an event for every
    # unchanged write, changing what is measured.
    hass.bus.async_listen(EVENT_STATE_CHANGED, count_writes)

    recorder = Recorder()
    install_recorder(hass, recorder)
    gc_clock = GcClock()
    gc.callbacks.append(gc_clock)
    workdir = Path(spec["config_dir"]).parent
    publisher = await hass.async_add_executor_job(
        PublisherProcess, Path(spec["messages"]), port, workdir / "publisher.log"
    )
    # The heap the collector walks: tracked objects and what one full collection costs.
    if spec.get("experiment") == "gc-freeze":
        gc.collect()
        gc.freeze()  # what HA could do once started: the collector skips the startup heap
    started = time.perf_counter()
    gc.collect()
    result["full_gc_s"] = time.perf_counter() - started
    result["gc_tracked_objects"] = len(gc.get_objects())
    result["gc_frozen_objects"] = gc.get_freeze_count()
    # Idle baseline: what this HA costs with no traffic at all.
    c0, w0 = cpu_seconds(), time.monotonic()
    await asyncio.sleep(1.0)
    result["idle_cpu_s_per_s"] = (cpu_seconds() - c0) / (time.monotonic() - w0)

    stepping = True
    try:
        for spec_phase in spec["phases"]:
            if spec_phase.get("step") and not stepping:
                continue
            spec_phase["messages_file"] = spec["messages"]
            spec_phase["quick"] = spec.get("quick", False)
            phase = await _run_phase(
                hass,
                spec_phase,
                publisher=publisher,
                recorder=recorder,
                workdir=workdir,
                changes=changes,
                all_writes=all_writes,
                hub=hub,
                gc_clock=gc_clock,
            )
            phase["state_changes"] = {rssi_entities[e]: n for e, n in changes.items()}
            changes.clear()
            if spec_phase["name"] == "cpu":
                result["snapshot"] = {
                    f"{eui}/{key}": state.state
                    for (eui, key), eid in entities.items()
                    if (state := hass.states.get(eid)) is not None
                }
            if spec_phase.get("step") and not phase.get("sustained"):
                stepping = False
            result["phases"].append(phase)
            await asyncio.sleep(spec["pause_s"])
    finally:
        await hass.async_add_executor_job(publisher.close)
    return result


async def _run_phase(
    hass: Any,
    spec: dict[str, Any],
    *,
    publisher: PublisherProcess,
    recorder: Recorder,
    workdir: Path,
    changes: Counter[str],
    all_writes: list[int],
    hub: Any,
    gc_clock: GcClock,
) -> dict[str, Any]:
    name, count, rate = spec["name"], spec["count"], spec["rate"]
    timing = bool(spec.get("times"))
    if warm := spec.get("warm"):
        # Not timed: the same kind of message first, so one-off costs (a new topic in HA's
        # subscription cache, a discovery flow per unknown DevEUI) are paid before.
        warm_spec = {**spec, "start": spec["start"] - warm, "count": warm}
        recorder.reset(warm, False)
        assert recorder.handler is not None
        for message in _direct_messages(warm_spec):
            recorder.handler(recorder.client, None, message)
        await hass.async_block_till_done()
    done = recorder.reset(count, timing)
    hub_before = _hub_counters(hub)
    writes_before = all_writes[0]
    profiler = cProfile.Profile() if spec.get("profile") else None
    loop = asyncio.get_running_loop()
    injected = _direct_messages(spec) if spec.get("direct") else None
    if not spec.get("quick"):
        gc.collect()  # every phase starts from the same collector state (outside the window)
    gc0, gcn0 = gc_clock.snapshot()
    c0, l0, w0 = cpu_seconds(), time.thread_time(), time.monotonic()
    if profiler:
        profiler.enable()
    finished = True
    if injected is not None:
        # Straight into paho's on_message of HA's client: no socket, broker or publisher.
        assert recorder.handler is not None
        handler, client = recorder.handler, recorder.client
        for index, message in enumerate(injected):
            message.timestamp = time.monotonic()
            handler(client, None, message)
            if index % 50 == 49:
                await asyncio.sleep(0)  # let what the messages scheduled run, as it would
        await asyncio.sleep(0)
        published: dict[str, Any] = {"rate": None}
    else:
        publish = loop.run_in_executor(
            None,
            lambda: publisher.publish(
                spec["start"], count, rate, exact=bool(spec.get("exact")), times=timing
            ),
        )
        timeout = max(60.0, count / max(rate, 1) * 4 + 30)
        try:
            await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            finished = False
    w1 = time.monotonic()  # every uplink handled: its states are written
    # With the recorder on, its thread may still be writing this phase's states: they are
    # this phase's cost, so the phase's CPU ends when the recorder has committed them.
    drain_s = await _recorder_drain(hass)
    c1, l1, w_end = cpu_seconds(), time.thread_time(), time.monotonic()
    gc1, gcn1 = gc_clock.snapshot()
    if profiler:
        profiler.disable()
    if injected is None:
        published = await publish
    phase: dict[str, Any] = {
        "name": name,
        "rate": rate,
        "count": count,
        "processed": recorder.count,
        "finished": finished,
        "wall_s": w1 - w0,
        "cpu_s": c1 - c0,
        "loop_cpu_s": l1 - l0,
        "cpu_s_per_1000": (c1 - c0) / count * 1000,
        "loop_cpu_s_per_1000": (l1 - l0) / count * 1000,
        "throughput": recorder.count / (w1 - w0),
        "gc_s_per_1000": (gc1 - gc0) / count * 1000,
        "cpu_excl_gc_s_per_1000": ((c1 - c0) - (gc1 - gc0)) / count * 1000,
        "gc_collections": {str(g): n - gcn0.get(g, 0) for g, n in gcn1.items()},
        "gc_pauses_over_20ms": [
            {"at_s": round(at - w0, 3), "ms": round(took * 1000, 1), "generation": generation}
            for at, took, generation in gc_clock.pauses
            if w0 <= at <= w_end + 0.001
        ],
        "publisher_rate": published.get("rate"),
        "recorder_drain_s": drain_s,
        "state_changes_per_uplink": (all_writes[0] - writes_before) / max(1, recorder.count),
    }
    for key in ("good", "garbage", "step"):
        if key in spec:
            phase[key] = spec[key]
    if hub is not None:
        after = _hub_counters(hub)
        phase["hub"] = {k: after[k] - hub_before.get(k, 0) for k in after}
    if profiler:
        path = workdir / f"profile-{name}.prof"
        profiler.dump_stats(path)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(35)
        (workdir / f"profile-{name}.txt").write_text(text.getvalue())
        phase["profile"] = str(path)
        # Every entity state write, changed or not (the profiler counts the calls).
        writes = sum(
            counts[1]
            for (_file, _line, func), counts in stats.stats.items()  # type: ignore[attr-defined]
            if func == "_async_write_ha_state"
        )
        phase["state_writes_per_message"] = writes / max(1, count)
    if timing and recorder.done:
        sent = published.get("times") or []
        n = min(len(sent), len(recorder.done))
        lags = [recorder.done[i] - sent[i] for i in range(n)]
        service = [d - a for d, a in zip(recorder.done, recorder.arrival, strict=True)]
        phase["latency"] = {
            "arrival_to_state": _ms_stats(service),
            "publish_to_state": _ms_stats(lags),
        }
        if spec.get("step"):
            fifth = max(1, n // 5)
            first = percentile(lags[:fifth], 50) or 0.0
            last = percentile(lags[-fifth:], 50) or 0.0
            p99 = percentile(lags, 99) or 0.0
            span = recorder.done[-1] - sent[0] if sent else 0.0
            phase["throughput"] = n / span if span > 0 else None
            phase["lag"] = {
                "first_fifth_median_ms": first * 1000,
                "last_fifth_median_ms": last * 1000,
                "p99_ms": p99 * 1000,
            }
            why = []
            if not finished or recorder.count < count:
                why.append(f"only {recorder.count}/{count} handled")
            if (published.get("rate") or 0) < 0.95 * rate:
                why.append(f"publisher reached {published.get('rate') or 0:.0f}/s only")
            if last > first + 0.2:
                why.append(f"lag grew {first * 1000:.0f} → {last * 1000:.0f} ms")
            if p99 > 1.0:
                why.append(f"p99 lag {p99 * 1000:.0f} ms")
            if drain_s is not None and drain_s > 1.0:
                why.append(f"the recorder was {drain_s:.1f} s behind")
            phase["sustained"] = not why
            phase["why"] = "; ".join(why) or "ok"
    if not finished:
        # Drain what is still queued before the next phase (or give up).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), 120)
    return phase


async def _recorder_drain(hass: Any) -> float | None:
    """Wait until the recorder has committed everything queued; seconds waited (None: off)."""
    if "recorder" not in hass.config.components:
        return None
    from homeassistant.helpers.recorder import get_instance

    instance = get_instance(hass)
    started = time.monotonic()
    await instance.async_block_till_done()
    while instance.backlog:  # what arrived meanwhile (the loop keeps running)
        await instance.async_block_till_done()
    return time.monotonic() - started


def _patch_skip_unchanged_writes() -> None:
    """Experiment: device entities write only when value, attributes or availability changed.

    What HA's MQTT entities do. Patched into this process only, to measure what such a
    change to ``entity.py`` would save; the integration's files are not touched.
    """
    from homeassistant.components.binary_sensor import BinarySensorEntity
    from homeassistant.components.sensor import SensorEntity
    from homeassistant.core import callback

    from custom_components.ange_iot.gateway.entity import AngeDeviceEntity

    original = AngeDeviceEntity._handle_update

    @callback
    def _handle_update(self: Any) -> None:
        if isinstance(self, SensorEntity):
            value = self.native_value
        elif isinstance(self, BinarySensorEntity):
            value = self.is_on
        else:
            original(self)
            return
        fingerprint = (self.available, value, self.extra_state_attributes)
        if fingerprint == getattr(self, "_bench_fingerprint", None):
            return
        self._bench_fingerprint = fingerprint
        self.async_write_ha_state()

    AngeDeviceEntity._handle_update = _handle_update  # type: ignore[method-assign]


def _direct_messages(spec: dict[str, Any]) -> list[Any]:
    """The phase's messages as paho ``MQTTMessage`` objects (``time`` = now, per message)."""
    from paho.mqtt.client import MQTTMessage

    items = read_messages(Path(spec["messages_file"]), spec["start"], spec["count"])
    out = []
    for topic, head, tail in items:
        message = MQTTMessage(topic=topic.encode())
        if tail is None:
            body = expand(head)
        else:
            body = expand(head) + datetime.now(UTC).isoformat() + expand(tail)
        message.payload = body.encode()
        out.append(message)
    return out


def _hub_counters(hub: Any) -> dict[str, int]:
    if hub is None:
        return {}
    stats = hub.stats
    counters = {"messages": stats.messages, "uplinks": stats.uplinks}
    counters.update({f"rejected_{k}": v for k, v in stats.rejected.items()})
    counters.update({f"pipeline_{k}": v for k, v in hub.pipeline.counters.items()})
    return counters


_LOG_LINE = re.compile(r"^\S+ \S+ (ERROR|WARNING|CRITICAL) \([^)]*\) \[([^\]]+)\]")


def log_summary(log_file: Path) -> dict[str, int]:
    """Warnings and errors in HA's log per ``LEVEL logger`` (to spot failures and noise)."""
    counts: Counter[str] = Counter()
    with contextlib.suppress(OSError):
        for line in log_file.read_text(errors="replace").splitlines():
            if match := _LOG_LINE.match(line):
                counts[f"{match.group(1)} {match.group(2)}"] += 1
    return dict(counts.most_common(20))


def child_main(argv: list[str]) -> int:
    """``python -m bench.ingest --child SPEC RESULT``: one side in one HA process."""
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    config_dir = write_config_dir(
        Path(spec["config_dir"]),
        recorder=spec.get("recorder", False),
        integration=Path(spec["integration"]) if spec.get("integration") else INTEGRATION,
    )

    # ``custom_components`` is a namespace package: with the config dir first on sys.path
    # its ``custom_components/ange_iot`` link wins over the checkout this runs from
    # (``--ingest-integration``). Home Assistant only mounts the config dir for a moment.
    sys.path.insert(0, str(config_dir))

    async def main(hass: Any) -> dict[str, Any]:
        return await _child(hass, spec)

    result = run_hass(config_dir, main)
    result["log"] = log_summary(config_dir / "home-assistant.log")
    module = sys.modules.get("custom_components.ange_iot")
    result["integration_loaded_from"] = getattr(module, "__file__", None)
    Path(argv[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2:]))
    print(f"usage: python -m bench.ingest --child SPEC RESULT (from {REPO})", file=sys.stderr)
    sys.exit(2)
