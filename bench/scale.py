"""Section 4, scale: start-up time and resident memory with 1,000 / 5,000 / 10,000 devices.

Every figure comes from a real ``hass`` process (``hass -c <tmpdir> --skip-pip``) on a
config dir written by ``bench/_hass_proc.py``: Home Assistant's default integrations, no
recorder (off for ours, the peer and the baseline alike), HTTP on 127.0.0.1, and HA's MQTT
integration connected to a private Mosquitto on 127.0.0.1.

* **ours**: ChirpStack-MQTT gateway entries (one per 900 devices, i.e. per ChirpStack
  application: HA 2026.10 allows 10,000 enabled entities per config entry) with N device
  subentries of a municipal mix (Elsys ERS motion, Sensative Strips Guard door, Kamstrup
  flowIQ 2200 and Axioma W1 water meters, Milesight EM500-UDL snow depth) and the device
  stores ``ange_iot.<entry_id>.devices`` holding each device's last report (decoded by our
  own codecs from realistic frames, last seen within its report interval): restored state,
  no traffic.
* **peer**: the same devices as MQTT discovery sensors, one retained discovery config per
  entity on the broker (``homeassistant/<component>/<DevEUI>/<key>/config`` with a
  ``value_template`` on the ChirpStack ``up`` topic, as a ChirpStack→HA bridge creates
  them), exactly our enabled sensor and binary-sensor entities per device (copied from our
  own entity registry); no traffic, so their state is ``unknown``.
* **baseline**: the same instance with neither (the faster of two boots).

Each configuration boots twice: the *first boot* creates the device and entity registries
(as right after adding the devices); the *restart* finds them, as every later start does.
Between the two, the registry gets what HA settles in a long-running install anyway
(``steady_state_registry``). Time: from creating the process until the last of the N
devices' enabled sensor and binary-sensor entities has a state other than ``unavailable``,
seen by a tiny probe integration counting ``state_changed`` events (no polling, no
per-entity memory). Memory: VmRSS once that is reached *and* HA has started. Per device:
(RSS − baseline) / N and (time − baseline start) / N; per *added* device between sizes,
which removes fixed costs and shows whether growth is linear. The probe also records the
cyclic garbage collector's pauses. ``--scale-profile ours`` samples one more restart of the
largest size with py-spy and summarises where the time goes.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime, timedelta
import importlib
import itertools
import json
from pathlib import Path
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import ModuleType
from typing import Any

from . import _hass_proc as hp

NAME = "scale"
TITLE = "4. Scale: start-up and memory with N devices configured (real hass, restored state)"

FULL_SIZES = (1000, 5000, 10000)
QUICK_SIZES = (200, 500)
# The peer at 10,000 devices (99,000 MQTT discovery sensors) needs ~4 min for its two boots
# on a 2-core machine, more than the section's budget: opt in with --scale-peer-sizes.
FULL_PEER_SIZES = (1000, 5000)
QUICK_PEER_SIZES = (200,)
MIN_SIZE_FOR_VERDICT = 1000
TARGET_START_S = 15.0  # 10,000 devices start in < 15 s
TARGET_MEMORY_RATIO = 1.5  # memory per device <= 1.5x the peer's

PREFIX = "bench_"
SAMPLE = "bench_000"  # the first 100 devices: our entities, copied for the peer
APPLICATION_ID = "0b5e1c2d-3f4a-4b6c-8d9e-a1b2c3d4e5f6"
MOUNTING_HEIGHT_MM = 2000
# One ChirpStack application (gateway entry) per 900 devices: HA 2026.10 allows 10,000
# enabled entities per config entry, and this mix had 10.0 per device (buttons included)
# before issue 13 disabled the radio diagnostics and grouped the meter alarms (3.2 since);
# kept at 900 so figures compare across runs. ``--scale-model`` boots one model only, e.g.
# 2,500 Elsys ERS in one entry (the enabled-entity cap exactly).
DEVICES_PER_ENTRY = 900
MAX_ENABLED_PER_ENTRY = 10000  # homeassistant.helpers.entity_platform, HA 2026.10
# A municipal mix per 20 devices: apartments with motion and door sensors and a water
# meter each, building meters, and a few snow-depth sensors on the lots.
MIX = (
    ("elsys_ers", 7),
    ("sensative_strips_guard", 4),
    ("kamstrup_flowiq_2200", 6),
    ("axioma_w1", 2),
    ("milesight_em500_udl", 1),
)
CYCLE = tuple(
    sorted(
        ((model, k) for model, count in MIX for k in range(count)),
        key=lambda mk: (mk[1], [m for m, _ in MIX].index(mk[0])),
    )
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sizes, boot timeout and profiling of the scale section."""
    parser.add_argument(
        "--scale-sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=None,
        help="device counts, comma-separated (default 1000,5000,10000; --quick: 200,500)",
    )
    parser.add_argument(
        "--scale-peer-sizes",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        default=None,
        help="device counts for the MQTT peer (default 1000,5000; --quick: 200)",
    )
    parser.add_argument(
        "--scale-timeout", type=float, default=240.0, help="seconds one boot may take"
    )
    parser.add_argument(
        "--scale-devices-per-entry",
        type=int,
        default=DEVICES_PER_ENTRY,
        help="devices per gateway entry (HA allows 10,000 enabled entities per entry)",
    )
    parser.add_argument(
        "--scale-model",
        default=None,
        help="every device of this catalogue model instead of the municipal mix "
        "(e.g. elsys_ers with --scale-devices-per-entry 2500: one entry at HA's cap)",
    )
    parser.add_argument("--scale-no-peer", action="store_true", help="skip the MQTT discovery peer")
    parser.add_argument(
        "--scale-profile",
        choices=("none", "ours", "peer", "both"),
        default="none",
        help="boot the largest size once more under py-spy (or cProfile) and summarise",
    )
    parser.add_argument(
        "--scale-keep", type=Path, default=None, help="keep config dirs and logs under DIR"
    )


# -- the site -----------------------------------------------------------------------------


def _angelib() -> dict[str, ModuleType]:
    """The integration's pure core (no Home Assistant import), from the benchmarked tree."""
    root = str(hp.integration_dir())
    if root not in sys.path:
        sys.path.insert(0, root)
    names = (
        "catalog",
        "device",
        "pipeline",
        "uplink",
        "lns.chirpstack",
        "codecs.elsys",
        "codecs.sensative_strips",
        "codecs.kamstrup_flowiq",
        "codecs.axioma_w1",
        "codecs.milesight",
    )
    return {n: importlib.import_module(f"angelib.{n}") for n in names}


def dev_eui(index: int) -> str:
    """The benchmark's DevEUIs: 16 hex digits, unique per index."""
    return f"0be0{index:012x}"


def device_name(index: int, model_name: str) -> str:
    """Object ids start with ``bench_<index>_`` (what the probe matches)."""
    return f"Bench {index:05d} {model_name}"


def _frame(lib: dict[str, ModuleType], model_id: str, i: int, at: datetime) -> tuple[int, bytes]:
    """The fPort and a realistic frame of ``model_id`` for device ``i`` at ``at``."""
    if model_id == "elsys_ers":
        fields = {
            "temperature": round(20.0 + (i % 40) / 10, 1),
            "humidity": 30 + i % 25,
            "illuminance": 40 + i % 300,
            "motion_count": i % 4,
            "battery_voltage": 3.6,
        }
        return 5, lib["codecs.elsys"].encode(fields)
    if model_id == "sensative_strips_guard":
        fields = {"battery": 90 + i % 10, "temperature": 20.5, "door": bool(i % 2)}
        return 1, lib["codecs.sensative_strips"].encode(fields)
    if model_id == "milesight_em500_udl":
        fields = {"battery": 95, "distance": 1500 + i % 300}
        return 85, lib["codecs.milesight"].encode(fields, model="EM500-UDL")
    hour = at.replace(minute=0, second=0, microsecond=0)
    volume_l = 100_000 + i * 37
    if model_id == "kamstrup_flowiq_2200":
        return 1, lib["codecs.kamstrup_flowiq"].encode(
            meter_time=hour,
            volume_l=volume_l,
            info_code=0,
            profile_increments_l=[(i + k) % 9 for k in range(12)],
        )
    if model_id == "axioma_w1":
        deltas = [(i + k) % 7 for k in range(15)]
        return 100, lib["codecs.axioma_w1"].encode_extended(
            meter_time=at,
            volume_l=volume_l + sum(deltas),
            log_time=hour - timedelta(hours=15),
            log_volume_l=volume_l,
            deltas_l=deltas,
        )
    raise ValueError(model_id)


def build_site(n: int, now: datetime, only_model: str | None = None) -> dict[str, Any]:
    """N device subentries and their stored states (decoded by our codecs).

    Each device was last heard within its report interval, so it is available at start.
    ``only_model``: every device of that model instead of the mix.
    """
    lib = _angelib()
    catalog, device, pipeline, uplink = (
        lib[k] for k in ("catalog", "device", "pipeline", "uplink")
    )
    pipe = pipeline.Pipeline()
    subentries, states, devices = [], {}, []
    for i in range(n):
        model_id = only_model or CYCLE[i % len(CYCLE)][0]
        model = catalog.MODELS[model_id]
        eui = dev_eui(i)
        name = device_name(i, model.name)
        height = MOUNTING_HEIGHT_MM if model_id == "milesight_em500_udl" else None
        data = {
            "dev_eui": eui,
            "model": model_id,
            "missed_reports": 3,
            "invert_door": False,
            "report_interval": None,
            "mounting_height": height,
        }
        subentries.append(
            {
                "data": data,
                "subentry_id": hp.new_id(),
                "subentry_type": "device",
                "title": name,
                "unique_id": eui,
            }
        )
        config = device.DeviceConfig(
            dev_eui=eui, model_id=model_id, name=name, mounting_height_mm=height
        )
        tracked = pipe.add_device(config)
        at = now - timedelta(seconds=60 + (i * 7) % max(60, model.report_interval_s - 120))
        fport, payload = _frame(lib, model_id, i, at)
        result = pipe.handle(
            uplink.Uplink(
                dev_eui=eui,
                fport=fport,
                fcnt=1000 + i % 5000,
                payload=payload,
                received_at=at,
                source="chirpstack_mqtt",
                rssi=-70 - i % 40,
                snr=round(-3 + (i % 120) / 10, 1),
                gateway_count=1,
            )
        )
        if str(result.outcome) != "applied":
            raise hp.BenchError(f"{model_id} frame for {eui} was {result.outcome}: {result.error}")
        states[eui] = tracked.state.as_dict()
        devices.append((i, eui, model_id, name))
    return {"subentries": subentries, "states": states, "devices": devices, "lib": lib}


def write_ours(
    config_dir: Path,
    site: dict[str, Any],
    broker_port: int,
    now: datetime,
    per_entry: int = DEVICES_PER_ENTRY,
) -> int:
    """Config entries (MQTT + gateways of ``per_entry`` devices each) and device stores.

    Home Assistant 2026.10 refuses more than 10,000 enabled entities per config entry
    (``MAX_ENABLED_ENTITIES_PER_CONFIG_ENTRY``; MQTT is exempt, we are not), so a large
    site is several gateway entries, one per ChirpStack application, as it would be set up.
    Returns the number of gateway entries.
    """
    chirpstack = site["lib"]["lns.chirpstack"]
    template = chirpstack.DEFAULT_EVENT_TOPIC
    entries = [hp.mqtt_entry(broker_port)]
    subentries = site["subentries"]
    for k, first in enumerate(range(0, len(subentries), per_entry)):
        application_id = f"{APPLICATION_ID[:-4]}{k:04x}"
        topic = chirpstack.subscription_topic(template, application_id)
        chunk = subentries[first : first + per_entry]
        entry = hp.config_entry(
            "ange_iot",
            f"ChirpStack {k + 1}",
            {
                "gateway": "chirpstack_mqtt",
                "topic_template": template,
                "application_id": application_id,
            },
            options={"silence_limit": 60},
            subentries=chunk,
            unique_id=f"chirpstack_mqtt:{topic}",
        )
        entries.append(entry)
        hp.write_storage(
            config_dir,
            f"ange_iot.{entry['entry_id']}.devices",
            {
                "devices": {s["unique_id"]: site["states"][s["unique_id"]] for s in chunk},
                "gateway": {"last_message": (now - timedelta(seconds=5)).isoformat()},
                "backfill": {"last_received_at": None},
            },
        )
    hp.write_config_entries(config_dir, entries)
    return len(entries) - 1


# -- the peer -------------------------------------------------------------------------------

_SPECIAL_TEMPLATES = {
    "rssi": "{{ value_json.rxInfo[0].rssi }}",
    "snr": "{{ value_json.rxInfo[0].snr }}",
    "last_seen": "{{ value_json.time }}",
    "last_activity": "{{ value_json.time }}",
    "rejected_frames": "{{ value_json.fCnt }}",
    "snow_depth": (
        f"{{{{ (({MOUNTING_HEIGHT_MM} - value_json.object.distance) / 10) | round(1) }}}}"
    ),
    "motion": "{{ 'ON' if value_json.object.motion_count > 0 else 'OFF' }}",
}


def peer_specs(samples: list[dict[str, Any]], devices: list[tuple[int, str, str, str]]) -> dict:
    """Per model: the enabled sensor/binary-sensor entities ours creates, as peer specs."""
    model_of = {eui: model for _, eui, model, _ in devices}
    specs: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for sample in samples:
        component = sample["entity_id"].split(".")[0]
        if not sample["enabled"] or component not in ("sensor", "binary_sensor"):
            continue  # disabled by default, or a button (never "available" by design)
        eui, _, key = sample["unique_id"].partition("_")
        model = model_of.get(eui)
        if model is None:
            continue
        specs[model][key] = {
            "component": component,
            "device_class": sample["device_class"],
            "unit": sample["unit"],
            "state_class": (sample["capabilities"] or {}).get("state_class"),
            "entity_category": sample["entity_category"],
        }
    return {model: dict(keys) for model, keys in specs.items()}


def enabled_per_model(
    samples: list[dict[str, Any]], devices: list[tuple[int, str, str, str]]
) -> dict[str, dict[str, float]]:
    """Per model in the sample: enabled entities per device, every platform (buttons too).

    With how many such devices one gateway entry holds under HA's cap.
    """
    model_of = {eui: model for _, eui, model, _ in devices}
    enabled: dict[str, int] = defaultdict(int)
    seen: dict[str, set[str]] = defaultdict(set)
    for sample in samples:
        eui = sample["unique_id"].partition("_")[0]
        if (model := model_of.get(eui)) is None:
            continue
        seen[model].add(eui)
        enabled[model] += bool(sample["enabled"])
    out = {}
    for model, euis in seen.items():
        per_device = enabled[model] / len(euis)
        out[model] = {
            "enabled_per_device": round(per_device, 2),
            "devices_per_entry": int(MAX_ENABLED_PER_ENTRY // per_device) if per_device else 0,
        }
    return out


def discovery_messages(
    devices: list[tuple[int, str, str, str]], specs: dict[str, dict[str, dict[str, Any]]]
) -> list[tuple[str, bytes]]:
    """Retained discovery configs, one per entity, as a ChirpStack→HA bridge publishes them."""
    catalog = _angelib()["catalog"]
    out = []
    for _, eui, model_id, name in devices:
        model = catalog.MODELS[model_id]
        state_topic = f"application/{APPLICATION_ID}/device/{eui}/event/up"
        device = {
            "identifiers": [f"chirpstack_{eui}"],
            "name": name,
            "manufacturer": model.manufacturer,
            "model": model.name,
            "serial_number": eui.upper(),
        }
        for key, spec in specs[model_id].items():
            component = spec["component"]
            if key in _SPECIAL_TEMPLATES:
                template = _SPECIAL_TEMPLATES[key]
            elif component == "binary_sensor":
                template = f"{{{{ 'ON' if value_json.object.{key} else 'OFF' }}}}"
            else:
                template = f"{{{{ value_json.object.{key} }}}}"
            config: dict[str, Any] = {
                "name": key.replace("_", " ").capitalize(),
                "unique_id": f"chirpstack_{eui}_{key}",
                "state_topic": state_topic,
                "value_template": template,
                "device": device,
                "origin": {"name": "ChirpStack bridge (benchmark)"},
            }
            for field, value in (
                ("device_class", spec["device_class"]),
                ("unit_of_measurement", spec["unit"] if component == "sensor" else None),
                ("state_class", spec["state_class"] if component == "sensor" else None),
                ("entity_category", spec["entity_category"]),
            ):
                if value is not None:
                    config[field] = value
            topic = f"homeassistant/{component}/{eui}/{key}/config"
            out.append((topic, json.dumps(config, separators=(",", ":")).encode()))
    return out


# -- running --------------------------------------------------------------------------------


def _boot(
    config_dir: Path, timeout: float, *, save: bool, argv_prefix: list[str] | None = None
) -> dict[str, Any]:
    """One boot: wait for the probe, read CPU time; with ``save``, registries get written.

    Every boot ends with SIGKILL; ``save`` (first boots) has the probe write the registries
    first, so the next boot finds them.
    """
    run = hp.HassRun(config_dir, argv_prefix=argv_prefix)
    run.start()
    try:
        marker = run.wait_marker(timeout)
        assert run.proc is not None
        cpu = hp.cpu_seconds(run.proc.pid)
        save_s = run.wait_registries_saved(timeout) if save else None
    finally:
        run.kill()
    saved = set(run.stored())
    if (
        save
        and marker["expected"]
        and not {"core.entity_registry", "core.device_registry"} <= saved
    ):
        raise hp.BenchError(f"registries not written: {sorted(saved)}")
    log = run.log_text()
    if "Reached the maximum of" in log:
        raise hp.BenchError(
            "Home Assistant refused entities (10,000 enabled entities per config entry); "
            f"lower --scale-devices-per-entry; see {run.log_file}"
        )
    t0 = run.started_at
    ready, started = marker["ready_at"], marker["started_at"]
    rss = marker["rss_ready_kib"] if ready >= started else marker["rss_started_kib"]
    return {
        "ready_s": round(ready - t0, 3),
        "started_s": round(started - t0, 3),
        "rss_mib": round(rss / 1024, 1),
        "cpu_s": round(cpu, 2) if cpu is not None else None,
        "registry_save_s": round(save_s, 2) if save_s is not None else None,
        "entities": marker["expected"],
        "gc_s": marker.get("gc_s_ready"),  # cyclic GC pauses from the probe's setup to ready
        "gc_collections": marker.get("gc_collections_ready"),
        "gc_max_pause_s": marker.get("gc_max_pause_ready"),  # per generation 0, 1, 2
        "states_total": marker.get("states_total"),
        "registry": marker.get("registry"),
        "setup_top": sorted(
            ((d, round(s, 2)) for d, s in (marker.get("setup_timings") or {}).items()),
            key=lambda ds: -ds[1],
        )[:3],
        "samples": marker.get("samples"),
        "errors": [
            line
            for line in run.errors()
            if "ange_iot" in line or "mqtt" in line or "custom_components" in line
        ][:5],
    }


def _two_boots(config_dir: Path, timeout: float) -> dict[str, Any]:
    first = _boot(config_dir, timeout, save=True)
    first["exposure_settled"] = steady_state_registry(config_dir)
    second = _boot(config_dir, timeout, save=False)
    return {"first": first, "second": second}


def steady_state_registry(config_dir: Path) -> int:
    """Settle what HA would settle in the first minutes of a long-running install.

    When Home Assistant starts, the conversation agent gives every entity without one a
    default "exposed to Assist" option, firing one registry update per entity inside the
    ``homeassistant_started`` event; HA 2026.10 refuses to queue more than 10,000 events
    from one event's listeners, so after a first boot with >10,000 entities (ours; the
    peer's entities appear after "started", one at a time) the rest is done at the next
    starts, 10,000 per start. A site restarted for years has them all: write the same
    default (``ExposedEntities._is_default_exposed``) into the stored registry. Returns
    how many entities were settled.
    """
    from homeassistant.components.homeassistant import exposed_entities as ee  # noqa: PLC0415

    path = config_dir / ".storage" / "core.entity_registry"
    stored = json.loads(path.read_text())
    settled = 0
    for entity in stored["data"]["entities"]:
        options = entity.setdefault("options", {})
        if "should_expose" in options.get("conversation", {}):
            continue
        domain = entity["entity_id"].split(".")[0]
        device_class = entity.get("device_class") or entity.get("original_device_class")
        by_class = {
            "binary_sensor": ee.DEFAULT_EXPOSED_BINARY_SENSOR_DEVICE_CLASSES,
            "sensor": ee.DEFAULT_EXPOSED_SENSOR_DEVICE_CLASSES,
        }
        exposed = (
            entity.get("entity_category") is None
            and entity.get("hidden_by") is None
            and (domain in ee.DEFAULT_EXPOSED_DOMAINS or device_class in by_class.get(domain, ()))
        )
        options["conversation"] = {**options.get("conversation", {}), "should_expose": exposed}
        settled += 1
    if settled:
        path.write_text(json.dumps(stored, separators=(",", ":")))
    return settled


def _profile(config_dir: Path, timeout: float, out: Path) -> dict[str, Any]:
    """Boot once more under a sampling profiler, from process start until ready.

    py-spy (``uv pip install --python .venv/bin/python py-spy``) samples the whole
    process at 250 Hz without slowing it much, and stops exactly when the probe's marker
    appears; without py-spy, cProfile profiles the event-loop thread until a clean exit.
    """
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return _cprofile(config_dir, timeout, out)
    raw = out / "py-spy.txt"
    run = hp.HassRun(config_dir)
    run.start()
    assert run.proc is not None
    recorder = subprocess.Popen(
        [str(spy), "record", "--pid", str(run.proc.pid), "--rate", "250", "--format", "raw",
         "--threads", "--nonblocking", "-o", str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        marker = run.wait_marker(timeout)
        recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        recorder.wait(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
        run.kill()
    summary = summarise_stacks(raw.read_text())
    summary["ready_s"] = round(marker["ready_at"] - run.started_at, 2)
    summary["profiler"] = "py-spy 250 Hz, non-idle samples, process start → all entities ready"
    return summary


def summarise_stacks(text: str, top: int = 20) -> dict[str, Any]:
    """Own and inclusive sample shares per function from py-spy's raw (collapsed) output."""
    own: dict[str, int] = defaultdict(int)
    incl: dict[str, int] = defaultdict(int)
    threads: dict[str, int] = defaultdict(int)
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0] if frames and frames[0].startswith("thread") else "?"
        frames = [f for f in frames if not f.startswith(("thread", "process"))]
        if not frames:
            continue
        total += count
        threads[thread] += count
        own[_frame_name(frames[-1])] += count
        for name in {_frame_name(f) for f in frames}:
            incl[name] += count

    def share(table: dict[str, int], keep: Any) -> list[dict[str, Any]]:
        rows = sorted(((n, c) for n, c in table.items() if keep(n)), key=lambda nc: -nc[1])
        return [{"function": n, "share": round(c / total, 3)} for n, c in rows[:top]]

    return {
        "samples": total,
        "threads": {
            t: round(c / total, 3) for t, c in sorted(threads.items(), key=lambda tc: -tc[1])[:5]
        },
        "top_own": share(own, lambda n: True),
        "top_inclusive_ours": share(incl, lambda n: "ange_iot" in n),
        "top_inclusive_ha": share(
            incl,
            lambda n: "helpers/entity" in n or "helpers/device_registry" in n
            or "helpers/event" in n or "components/mqtt" in n or "helpers/storage" in n
            or "helpers/dispatcher" in n,
        ),
    }  # fmt: skip


def _frame_name(frame: str) -> str:
    """``func (path/to/file.py:123)`` → ``func (to/file.py)``: per function, not per line."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = path.split("/")
    short = "/".join(parts[-3:]) if "site-packages" in path or "ange_iot" in path else path
    return f"{name} ({short})"


def _cprofile(config_dir: Path, timeout: float, out: Path) -> dict[str, Any]:
    """Boot under cProfile (event-loop thread, whole process life); the top functions."""
    import pstats  # noqa: PLC0415

    prof = out / "hass.prof"
    run = hp.HassRun(config_dir, argv_prefix=[sys.executable, "-m", "cProfile", "-o", str(prof)])
    run.start()
    try:
        run.wait_marker(timeout * 3)
        run.stop()  # cProfile writes its file at a clean exit
    finally:
        run.kill()
    stats = pstats.Stats(str(prof))
    rows = [
        {
            "function": f"{func} ({'/'.join(Path(filename).parts[-3:])})",
            "calls": calls,
            "own_s": round(tottime, 3),
            "cum_s": round(cumtime, 3),
        }
        for (filename, _line, func), (_cc, calls, tottime, cumtime, _) in stats.stats.items()  # type: ignore[attr-defined]
    ]
    return {
        "profiler": "cProfile, event-loop thread, process start → clean exit",
        "top_own": sorted(rows, key=lambda r: -r["own_s"])[:20],
        "top_inclusive_ours": sorted(
            (r for r in rows if "ange_iot" in r["function"]), key=lambda r: -r["cum_s"]
        )[:20],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Boot baseline, ours and the peer at each size; figures per size and boot."""
    quick = bool(getattr(args, "quick", False))
    sizes = tuple(sorted(args.scale_sizes or (QUICK_SIZES if quick else FULL_SIZES)))
    peer_sizes = (
        ()
        if args.scale_no_peer
        else tuple(
            sorted(args.scale_peer_sizes or (QUICK_PEER_SIZES if quick else FULL_PEER_SIZES))
        )
    )
    timeout = args.scale_timeout
    keep: Path | None = args.scale_keep
    per_entry = args.scale_devices_per_entry
    profile = args.scale_profile
    work = Path(tempfile.mkdtemp(prefix="ange-bench-scale-"))
    began = time.monotonic()
    result: dict[str, Any] = {
        "sizes": list(sizes),
        "peer_sizes": list(peer_sizes),
        "devices_per_gateway_entry": per_entry,
        "mix_per_20_devices": {args.scale_model: 20} if args.scale_model else dict(MIX),
        "recorder": "off (not loaded) for baseline, ours and peer",
        "method": (
            "real hass process each (hass -c <tmp> --skip-pip; HA's default integrations, "
            "no recorder, MQTT on a private Mosquitto); time from process creation until "
            "every enabled sensor/binary_sensor entity of the N devices has a state other "
            "than unavailable (a probe integration counting state_changed events, no "
            "polling); RSS = VmRSS once that is reached and HA has started; first boot = "
            "registries created, restart = registries present"
        ),
        "baseline": {},
        "ours": {},
        "peer": {},
    }
    specs: dict[str, Any] | None = None
    try:
        with hp.Broker(work / "broker-ours") as broker:
            base_dir = work / "baseline"
            hp.prepare_config_dir(base_dir, prefix=PREFIX, expected=0)
            hp.write_config_entries(base_dir, [hp.mqtt_entry(broker.port)])
            # HA alone: its start is the fixed part of every figure, so take the faster of
            # two boots (one for a smoke run); first boot and restart are alike for it.
            boots = [_boot(base_dir, timeout, save=False) for _ in range(1 if quick else 2)]
            base = min(boots, key=lambda b: b["started_s"])
            base.pop("samples", None)
            base["boots_started_s"] = [b["started_s"] for b in boots]
            result["baseline"] = {"first": base, "second": base}
            for n in sizes:
                now = datetime.now(UTC)
                site = build_site(n, now, args.scale_model)
                ours_dir = work / f"ours-{n}"
                hp.prepare_config_dir(
                    ours_dir, prefix=PREFIX, expected=-1, platform="ange_iot", sample=SAMPLE
                )
                gateways = write_ours(ours_dir, site, broker.port, now, per_entry)
                boots = _two_boots(ours_dir, timeout)
                specs = specs or peer_specs(boots["first"]["samples"] or [], site["devices"])
                result.setdefault(
                    "enabled_per_model",
                    enabled_per_model(boots["first"]["samples"] or [], site["devices"]),
                )
                wanted = sum(len(specs[model]) for _, _, model, _ in site["devices"])
                for boot in ("first", "second"):
                    if boots[boot]["entities"] != wanted:
                        raise hp.BenchError(
                            f"{n} devices, {boot} boot: {boots[boot]['entities']} enabled "
                            f"entities in the registry, expected {wanted} from the first "
                            f"{len(CYCLE)}-device cycle"
                        )
                boots["gateway_entries"] = gateways
                result["ours"][str(n)] = _strip(boots)
                if n == sizes[-1] and profile in ("ours", "both"):
                    result["profile_ours"] = {"devices": n, **_profile(ours_dir, timeout, work)}
                if n in peer_sizes:
                    result["peer"][str(n)] = _run_peer(
                        work, n, site, specs, timeout,
                        profile=n == peer_sizes[-1] and profile in ("peer", "both"),
                        keep=keep is not None,
                    )  # fmt: skip
                if keep is None:
                    shutil.rmtree(ours_dir, ignore_errors=True)
            for n in peer_sizes:
                if str(n) not in result["peer"] and specs:  # a peer-only size
                    site = build_site(n, datetime.now(UTC), args.scale_model)
                    result["peer"][str(n)] = _run_peer(work, n, site, specs, timeout)
            result["entities_per_device"] = {
                model: len(keys) for model, keys in (specs or {}).items()
            }
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work, keep / work.name, symlinks=True, dirs_exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
    result["derived"] = derive(result)
    result["section_seconds"] = round(time.monotonic() - began, 1)
    return result


def _run_peer(
    work: Path,
    n: int,
    site: dict[str, Any],
    specs: dict[str, Any],
    timeout: float,
    *,
    profile: bool = False,
    keep: bool = False,
) -> Any:
    """The peer at size n: a fresh broker holding the retained discovery configs."""
    messages = discovery_messages(site["devices"], specs)
    with hp.Broker(work / f"broker-peer-{n}") as broker:
        began = time.monotonic()
        hp.publish_retained(broker.port, messages)
        publish_s = time.monotonic() - began
        peer_dir = work / f"peer-{n}"
        hp.prepare_config_dir(peer_dir, prefix=PREFIX, expected=len(messages))
        hp.write_config_entries(peer_dir, [hp.mqtt_entry(broker.port)])
        try:
            boots = _strip(_two_boots(peer_dir, timeout))
            if profile:
                boots["profile"] = _profile(peer_dir, timeout, work)
        finally:
            if not keep:
                shutil.rmtree(peer_dir, ignore_errors=True)
    boots["discovery_messages"] = len(messages)
    boots["publish_s"] = round(publish_s, 2)
    return boots


def _strip(boots: dict[str, Any]) -> dict[str, Any]:
    for boot in boots.values():
        if isinstance(boot, dict):
            boot.pop("samples", None)
    return boots


def derive(result: dict[str, Any]) -> dict[str, Any]:
    """Per-device time and memory, step-wise growth and verdicts."""
    out: dict[str, Any] = {}
    for boot in ("first", "second"):
        base = result["baseline"].get(boot)
        if not base:
            continue
        for side in ("ours", "peer"):
            rows: dict[str, Any] = {}
            sizes = sorted(int(n) for n in result[side])
            for n in sizes:
                fig = result[side][str(n)].get(boot)
                if not fig:
                    continue
                rows[str(n)] = {
                    "ready_s": fig["ready_s"],
                    "ms_per_device": round(1000 * (fig["ready_s"] - base["started_s"]) / n, 3),
                    "kib_per_device": round(1024 * (fig["rss_mib"] - base["rss_mib"]) / n, 1),
                    "rss_mib": fig["rss_mib"],
                    "gc_s": fig.get("gc_s"),
                    "gc_full_max_s": (fig.get("gc_max_pause_s") or [None] * 3)[2],
                }
            steps = []
            present = [n for n in sizes if str(n) in rows]
            for lo, hi in itertools.pairwise(present):
                a, b = rows[str(lo)], rows[str(hi)]
                steps.append(
                    {
                        "from": lo,
                        "to": hi,
                        "ms_per_added_device": round(
                            1000 * (b["ready_s"] - a["ready_s"]) / (hi - lo), 3
                        ),
                        "kib_per_added_device": round(
                            1024 * (b["rss_mib"] - a["rss_mib"]) / (hi - lo), 1
                        ),
                    }
                )
            if steps:
                rows["steps"] = steps
                # Linear or better: the devices added in the last step cost no more each
                # than those of the first step (one step: than the smallest size's average,
                # which still carries fixed costs); 25 % allowed for a shared machine's noise.
                first = rows[str(present[0])]
                for key, avg, flag in (
                    ("ms_per_added_device", "ms_per_device", "time_linear"),
                    ("kib_per_added_device", "kib_per_device", "memory_linear"),
                ):
                    reference = steps[0][key] if len(steps) >= 2 else first[avg]
                    rows[flag] = (
                        steps[-1][key] <= 1.25 * reference
                        if present[0] >= MIN_SIZE_FOR_VERDICT
                        else None  # a smoke run: too small to tell growth from noise
                    )
            out[f"{side}_{boot}"] = rows
    ours = out.get("ours_second", {})
    peer = out.get("peer_second", {})
    ours_sizes = [int(n) for n in ours if n.isdigit()]
    if ours_sizes:
        largest = max(ours_sizes)
        out["start_largest"] = {"devices": largest, "ready_s": ours[str(largest)]["ready_s"]}
        out["start_target_met"] = (
            ours[str(largest)]["ready_s"] < TARGET_START_S if largest >= 10000 else None
        )
    common = sorted(set(ours_sizes) & {int(n) for n in peer if n.isdigit()})
    if common and peer[str(common[-1])]["kib_per_device"] > 0:
        n = common[-1]
        ratio = ours[str(n)]["kib_per_device"] / peer[str(n)]["kib_per_device"]
        out["memory_ratio"] = {"devices": n, "ours_over_peer": round(ratio, 2)}
        out["memory_target_met"] = ratio <= TARGET_MEMORY_RATIO
        out["start_ratio"] = {
            "devices": n,
            "peer_over_ours": round(ours and peer[str(n)]["ready_s"] / ours[str(n)]["ready_s"], 2),
        }
    return out


# -- the table ------------------------------------------------------------------------------


def _k(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 else f"{n:,}"


def _per_device(ms: float) -> str:
    """Start time per device beyond HA alone; below HA's own boot-to-boot noise: ≈ 0."""
    return f"{ms:.2f} ms/dev" if ms > 0 else "≈ 0 ms/dev, in the noise"


def _verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, ours, peer, target/verdict) rows for the orchestrator's table."""
    out: list[tuple[str, str, str, str]] = []
    derived = result.get("derived", {})
    base = result.get("baseline", {}).get("second")
    if base:
        out.append(
            (
                "HA alone (MQTT, no devices): started / RSS",
                f"{base['started_s']:.1f} s / {base['rss_mib']:.0f} MiB",
                "(same)",
                "baseline",
            )
        )
    ours_r, peer_r = derived.get("ours_second", {}), derived.get("peer_second", {})
    sizes = sorted({int(n) for n in (*ours_r, *peer_r) if n.isdigit()})
    for n in sizes:
        o, p = ours_r.get(str(n)), peer_r.get(str(n))
        verdict = ""
        if n >= 10000 and o:
            verdict = f"< {TARGET_START_S:g} s: {_verdict(o['ready_s'] < TARGET_START_S)}"
        out.append(
            (
                f"{n:,} devices, restart: all entities available",
                f"{o['ready_s']:.1f} s ({_per_device(o['ms_per_device'])})" if o else "—",
                f"{p['ready_s']:.1f} s ({_per_device(p['ms_per_device'])})" if p else "—",
                verdict,
            )
        )
    first_o, first_p = derived.get("ours_first", {}), derived.get("peer_first", {})
    for n in sizes:
        o, p = first_o.get(str(n)), first_p.get(str(n))
        out.append(
            (
                f"{n:,} devices, first boot (registries created)",
                f"{o['ready_s']:.1f} s" if o else "—",
                f"{p['ready_s']:.1f} s" if p else "—",
                "",
            )
        )
    ratio = derived.get("memory_ratio", {})
    for n in sizes:
        o, p = ours_r.get(str(n)), peer_r.get(str(n))
        verdict = ""
        if ratio.get("devices") == n:
            verdict = (
                f"≤ {TARGET_MEMORY_RATIO}× peer: {ratio['ours_over_peer']:.2f}× "
                f"{_verdict(derived.get('memory_target_met'))}"
            )
        out.append(
            (
                f"{n:,} devices, restart: RSS / per device",
                f"{o['rss_mib']:.0f} MiB / {o['kib_per_device']:.0f} KiB" if o else "—",
                f"{p['rss_mib']:.0f} MiB / {p['kib_per_device']:.0f} KiB" if p else "—",
                verdict,
            )
        )
    for key, unit, label in (
        ("ms_per_added_device", "ms", "start time"),
        ("kib_per_added_device", "KiB", "memory"),
    ):
        o_steps, p_steps = ours_r.get("steps", []), peer_r.get("steps", [])
        if not o_steps:
            continue
        flag = "time_linear" if unit == "ms" else "memory_linear"
        fmt = "{:.2f}" if unit == "ms" else "{:.0f}"
        out.append(
            (
                f"{label} per added device, "
                + " / ".join(f"{_k(s['from'])}→{_k(s['to'])}" for s in o_steps),
                " / ".join(fmt.format(s[key]) for s in o_steps) + f" {unit}",
                (" / ".join(fmt.format(s[key]) for s in p_steps) + f" {unit}") if p_steps else "—",
                "no faster than linear: "
                + (_verdict(ours_r.get(flag)) or "sizes too small to judge")
                + ("" if not p_steps else f" (peer: {_verdict(peer_r.get(flag))})"),
            )
        )  # fmt: skip
    if sizes:
        n = max(int(k) for k in ours_r if k.isdigit()) if ours_r else sizes[-1]
        o, p = ours_r.get(str(n)), peer_r.get(str(n))
        if o and o.get("gc_s") is not None:
            full = o.get("gc_full_max_s")
            out.append(
                (
                    f"{n:,} devices, restart: of which cyclic-GC pauses",
                    f"{o['gc_s']:.1f} s",
                    f"{p['gc_s']:.1f} s" if p and p.get("gc_s") is not None else "—",
                    f"longest full collection {full:.2f} s: the event loop stops that long"
                    if full
                    else "",
                )
            )
    for model, fig in sorted((result.get("enabled_per_model") or {}).items()):
        out.append(
            (
                f"{model}: enabled entities per device (all platforms)",
                f"{fig['enabled_per_device']:g}",
                "—",
                f"{fig['devices_per_entry']:,} per gateway entry at HA's "
                f"{MAX_ENABLED_PER_ENTRY:,}-entity cap",
            )
        )
    per_device = result.get("entities_per_device")
    if per_device:
        weights = result.get("mix_per_20_devices") or dict(MIX)
        avg = sum(weights[m] * k for m, k in per_device.items()) / sum(weights.values())
        out.append(
            (
                "enabled sensor + binary_sensor entities per device (mix)",
                f"{avg:.1f}",
                f"{avg:.1f}",
                f"{result.get('devices_per_gateway_entry')} devices per gateway entry",
            )
        )
    return out
