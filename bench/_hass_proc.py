"""Real ``hass`` processes and a Mosquitto broker for the scale and care benchmarks.

Private helpers of ``bench/scale.py`` and ``bench/care.py``. Everything listens on
127.0.0.1 only; every child runs in its own process group and gets SIGKILL when the
benchmark process dies (``PR_SET_PDEATHSIG``), as in ``tests/e2e/harness.py``.

A config dir is written by hand (``.storage`` files in the formats Home Assistant 2026.10
reads) instead of going through onboarding and config flows: thousands of subentries
through the REST API would take longer than what is measured. A small custom integration,
``bench_probe``, is loaded from ``configuration.yaml``; it counts entities whose state is
not ``unavailable`` on the state machine's own ``state_changed`` events (no polling, no
per-entity memory) and writes a marker file with the time and the resident memory once
the expected number is reached and Home Assistant has started.
"""

from __future__ import annotations

from collections.abc import Iterable
import contextlib
import ctypes
import json
import os
from pathlib import Path
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from typing import Any
import uuid

REPO = Path(__file__).resolve().parents[1]
HASS = Path(sys.executable).with_name("hass")
PROBE = "bench_probe"
TIME_ZONE = "Europe/Stockholm"

try:  # loaded in the parent: the child after fork only makes the call
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


class BenchError(RuntimeError):
    """A benchmark process did not do what it should; the message says what."""


def _die_with_parent() -> None:
    if _LIBC is not None:
        with contextlib.suppress(AttributeError):
            _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int) -> bool:
    """Does something accept TCP connections on 127.0.0.1:port?"""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB (None once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of ``pid`` so far (from /proc/<pid>/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _catches(pid: int, sig: int) -> bool:
    """Has ``pid`` installed a handler for ``sig`` (SigCgt in /proc/<pid>/status)?"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return False


def _kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


# -- Mosquitto ----------------------------------------------------------------------------

BROKER_CONF = """\
# Written by bench/_hass_proc.py for one benchmark run.
listener {port} 127.0.0.1
allow_anonymous true
persistence false
user {user}
log_dest file {log}
log_type error
log_type warning
max_queued_messages 0
max_inflight_messages 0
"""


def find_mosquitto() -> str | None:
    """The broker binary (``scripts/bootstrap --with-mosquitto`` installs it)."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


class Broker:
    """A private Mosquitto on 127.0.0.1 (a context manager); quiet log, unlimited queues."""

    def __init__(self, workdir: Path) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise BenchError(
                "the mosquitto broker is not installed; run scripts/bootstrap --with-mosquitto"
            )
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Start; returns once it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        log = self.workdir / f"mosquitto-{self.port}.log"
        conf.write_text(
            BROKER_CONF.format(port=self.port, user=pwd.getpwuid(os.getuid()).pw_name, log=log)
        )
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise BenchError(f"mosquitto did not start; see {log}")
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; idempotent."""
        if self.proc is None:
            return
        _kill_group(self.proc, signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc)
            self.proc.wait(timeout=10)
        self.proc = None


def _mqtt_packet(kind: int, body: bytes) -> bytes:
    length = len(body)
    encoded = bytearray()
    while True:
        byte, length = length % 128, length // 128
        encoded.append(byte | (0x80 if length else 0))
        if not length:
            break
    return bytes([kind]) + bytes(encoded) + body


def _mqtt_str(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return len(raw).to_bytes(2, "big") + raw


def publish_retained(port: int, messages: Iterable[tuple[str, bytes]]) -> int:
    """Publish retained QoS 0 messages over one MQTT 3.1.1 connection; returns the count.

    A minimal client (CONNECT, PUBLISH…, PINGREQ): the broker handles a connection's packets
    in order, so once the PINGRESP arrives every message before it is stored.
    """
    count = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        client_id = f"bench-{uuid.uuid4().hex[:8]}"
        connect = _mqtt_str("MQTT") + bytes([4, 0x02]) + (60).to_bytes(2, "big")
        sock.sendall(_mqtt_packet(0x10, connect + _mqtt_str(client_id)))
        if sock.recv(4)[:1] != b"\x20":
            raise BenchError("the broker refused the benchmark's MQTT connection")
        batch = bytearray()
        for topic, payload in messages:
            batch += _mqtt_packet(0x31, _mqtt_str(topic) + payload)  # PUBLISH, retain
            count += 1
            if len(batch) > 1 << 20:
                sock.sendall(batch)
                batch.clear()
        sock.sendall(bytes(batch) + b"\xc0\x00")  # PINGREQ
        reply = b""
        while b"\xd0\x00" not in reply:
            chunk = sock.recv(64)
            if not chunk:
                raise BenchError("the broker closed the benchmark's MQTT connection")
            reply += chunk
        sock.sendall(b"\xe0\x00")  # DISCONNECT
    return count


# -- config dir -----------------------------------------------------------------------------

CONFIGURATION_YAML = """\
# Written by bench/_hass_proc.py: HA's default integrations only (no recorder).
homeassistant:
  name: Ånge IoT benchmark
  latitude: 62.5247
  longitude: 15.6598
  elevation: 260
  unit_system: metric
  currency: SEK
  country: SE
  time_zone: {tz}
  language: en

logger:
  default: warning

{probe}:
  marker: "{marker}"
  prefix: "{prefix}"
  expected: {expected}
  platform: {platform}
  sample: {sample}
  save_registries: {save}
{extra}"""

PROBE_MANIFEST = {
    "domain": PROBE,
    "name": "Benchmark probe",
    "codeowners": [],
    "documentation": "https://example.invalid/bench",
    "iot_class": "local_push",
    "version": "1.0.0",
}

PROBE_CODE = """\
\"\"\"Benchmark probe: when are N entities available, and how much memory does HA use then.\"\"\"

from datetime import timedelta
import gc
import json
import os
import time

from homeassistant.const import EVENT_HOMEASSISTANT_STARTED, EVENT_STATE_CHANGED
from homeassistant.core import CoreState, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.setup import async_get_setup_timings

DOMAIN = "bench_probe"
DOMAINS = ("sensor", "binary_sensor")
UNAVAILABLE = "unavailable"


def _rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        json.dump(data, out)
    os.replace(tmp, path)


async def async_setup(hass, config):
    conf = config[DOMAIN]
    marker = conf["marker"]
    prefix = conf["prefix"]
    expected = int(conf["expected"])  # -1: the platform's enabled entities, once started
    platform = conf.get("platform")
    sample = conf.get("sample")
    save_registries = bool(conf.get("save_registries"))
    info = {"setup_at": time.time(), "expected": expected, "count": 0, "pid": os.getpid()}
    # Time spent in the cyclic garbage collector from here on, per generation.
    gc_time = {"s": 0.0, "collections": [0, 0, 0], "max": [0.0, 0.0, 0.0], "t0": 0.0}

    def on_gc(phase, gc_info):
        if phase == "start":
            gc_time["t0"] = time.perf_counter()
        else:
            pause = time.perf_counter() - gc_time["t0"]
            gc_time["s"] += pause
            generation = gc_info.get("generation", 0)
            if 0 <= generation < 3:
                gc_time["collections"][generation] += 1
                gc_time["max"][generation] = max(gc_time["max"][generation], pause)

    gc.callbacks.append(on_gc)

    def matches(entity_id):
        domain, _, object_id = entity_id.partition(".")
        return domain in DOMAINS and object_id.startswith(prefix)

    def good(state):
        return state is not None and state.state != UNAVAILABLE

    # Entities added before this setup ran (none expected, but never miss one).
    info["count"] = sum(
        1 for s in hass.states.async_all(DOMAINS) if matches(s.entity_id) and good(s)
    )
    info["last_up_at"] = time.time()

    def finish():
        if "ready_at" in info and "started_at" in info and not info.get("written"):
            info["written"] = True
            info["setup_timings"] = async_get_setup_timings(hass)
            info["states_total"] = len(hass.states.async_entity_ids())
            hass.async_add_executor_job(_write, marker, dict(info))
            if save_registries:
                hass.async_create_task(save())

    async def save():
        # Write the registries now (HA delays the first save by 180 s after a start), so
        # the benchmark can end this boot without a clean stop; then say so.
        from homeassistant.helpers import device_registry as dr

        began = time.time()
        for registry in (er.async_get(hass), dr.async_get(hass)):
            await registry._store.async_save(registry._data_to_save())
        await hass.async_add_executor_job(
            _write, marker + ".saved", {"seconds": time.time() - began}
        )

    def ready_now(at):
        info["ready_at"] = at
        info["rss_ready_kib"] = _rss_kib()
        info["gc_counts"] = gc.get_count()
        info["gc_s_ready"] = round(gc_time["s"], 3)
        info["gc_collections_ready"] = list(gc_time["collections"])
        info["gc_max_pause_ready"] = [round(m, 3) for m in gc_time["max"]]
        finish()

    @callback
    def changed(event):
        data = event.data
        entity_id = data["entity_id"]
        if not matches(entity_id):
            return
        was, now = good(data["old_state"]), good(data["new_state"])
        if was == now:
            return
        if now:
            info["count"] += 1
            info["last_up_at"] = time.time()
            if expected >= 0 and "ready_at" not in info and info["count"] >= expected:
                ready_now(info["last_up_at"])
        else:
            info["count"] -= 1

    hass.bus.async_listen(EVENT_STATE_CHANGED, changed)

    def registry_facts():
        registry = er.async_get(hass)
        enabled = disabled = other_domains = 0
        samples = []
        for entry in registry.entities.values():
            if entry.platform != platform:
                continue
            domain, _, object_id = entry.entity_id.partition(".")
            if not object_id.startswith(prefix):
                continue
            if domain not in DOMAINS:
                other_domains += 1
            elif entry.disabled_by is not None:
                disabled += 1
            else:
                enabled += 1
            if sample and object_id.startswith(sample):
                samples.append({
                    "entity_id": entry.entity_id,
                    "unique_id": entry.unique_id,
                    "enabled": entry.disabled_by is None,
                    "device_class": entry.original_device_class,
                    "unit": entry.unit_of_measurement,
                    "capabilities": dict(entry.capabilities or {}),
                    "entity_category": entry.entity_category,
                    "name": entry.original_name,
                    "translation_key": entry.translation_key,
                })
        info["registry"] = {
            "enabled": enabled, "disabled": disabled, "other_domains": other_domains
        }
        info["samples"] = samples
        return enabled

    @callback
    def started(_event=None):
        info["started_at"] = time.time()
        info["rss_started_kib"] = _rss_kib()
        nonlocal expected
        if platform:
            enabled = registry_facts()
            if expected < 0:
                expected = info["expected"] = enabled
        if "ready_at" not in info and info["count"] >= expected:
            ready_now(info["last_up_at"])
        finish()

    if hass.state is CoreState.running:
        started()
    else:
        hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STARTED, started)
    if expected >= 0 and "ready_at" not in info and info["count"] >= expected:
        ready_now(time.time())

    @callback
    def progress(_now):
        if not info.get("written"):
            hass.async_add_executor_job(
                _write,
                marker + ".progress",
                {"count": info["count"], "expected": expected, "at": time.time()},
            )

    async_track_time_interval(hass, progress, timedelta(seconds=2))
    return True
"""


def write_storage(config_dir: Path, key: str, data: Any, version: int = 1, minor: int = 1) -> None:
    """One ``.storage`` file as ``homeassistant.helpers.storage.Store`` writes it."""
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    body = {"version": version, "minor_version": minor, "key": key, "data": data}
    (storage / key).write_text(json.dumps(body, separators=(",", ":")))


def new_id() -> str:
    """An id shaped like HA's ULIDs (26 characters), unique enough for a benchmark."""
    return uuid.uuid4().hex[:26].upper()


def config_entry(
    domain: str,
    title: str,
    data: dict[str, Any],
    *,
    options: dict[str, Any] | None = None,
    subentries: list[dict[str, Any]] | None = None,
    unique_id: str | None = None,
    version: int = 1,
    minor_version: int = 1,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """A config entry as ``ConfigEntry.as_dict`` stores it (HA 2026.10, storage 1.5)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    return {
        "created_at": now,
        "data": data,
        "discovery_keys": {},
        "disabled_by": None,
        "domain": domain,
        "entry_id": entry_id or new_id(),
        "minor_version": minor_version,
        "modified_at": now,
        "options": options or {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": subentries or [],
        "title": title,
        "unique_id": unique_id,
        "version": version,
    }


def mqtt_entry(broker_port: int) -> dict[str, Any]:
    """Home Assistant's MQTT integration on the benchmark broker (MQTT 5, discovery on)."""
    return config_entry(
        "mqtt",
        "Mosquitto",
        {"broker": "127.0.0.1", "port": broker_port, "protocol": "5"},
        options={"discovery": True, "discovery_prefix": "homeassistant"},
        version=2,
        minor_version=1,
    )


def write_config_entries(config_dir: Path, entries: list[dict[str, Any]]) -> None:
    """``core.config_entries`` (storage version 1.5 in HA 2026.10)."""
    write_storage(config_dir, "core.config_entries", {"entries": entries}, 1, 5)


def _http_storage(port: int) -> dict[str, Any]:
    """The HTTP settings as confirmed in storage: 127.0.0.1 only, no YAML to migrate."""
    from homeassistant.components.http.config import HTTP_STORAGE_SCHEMA  # noqa: PLC0415

    stable = dict(HTTP_STORAGE_SCHEMA({"server_host": ["127.0.0.1"], "server_port": port}))
    stable.update(
        created_at=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        error=None,
        error_message=None,
    )
    return {"stable": stable, "pending": None, "yaml_migration_done": True}


def integration_dir() -> Path:
    """The integration the benchmark runs (``ANGE_BENCH_INTEGRATION`` overrides the repo's)."""
    override = os.environ.get("ANGE_BENCH_INTEGRATION")
    return Path(override).resolve() if override else REPO / "custom_components" / "ange_iot"


def prepare_config_dir(
    config_dir: Path,
    *,
    prefix: str,
    expected: int,
    platform: str | None = None,
    sample: str | None = None,
    save_registries: bool = True,
    extra_yaml: str = "",
) -> Path:
    """Write configuration.yaml, the HTTP store and the probe; link the integration in.

    The probe waits for ``expected`` entities (sensor and binary_sensor) whose object id
    starts with ``prefix`` to have a state other than ``unavailable``; ``expected=-1``
    means: the enabled ones of ``platform`` in the entity registry once HA has started.
    With ``save_registries`` the probe then writes the entity and device registries and
    a ``.saved`` marker, so a boot can be ended with SIGKILL (a clean stop of HA with
    10^5 entities takes 30-70 s here, mostly writing those same files).
    Returns the marker path the probe writes. Config entries are written by the caller.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    marker = config_dir / "bench-marker.json"
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(
            tz=TIME_ZONE,
            probe=PROBE,
            marker=marker,
            prefix=prefix,
            expected=expected,
            platform=json.dumps(platform),
            sample=json.dumps(sample),
            save=json.dumps(save_registries),
            extra=extra_yaml,
        )
    )
    http = _http_storage(free_port())
    write_storage(config_dir, "http", http, 2, 2)
    probe = config_dir / "custom_components" / PROBE
    probe.mkdir(parents=True, exist_ok=True)
    (probe / "manifest.json").write_text(json.dumps(PROBE_MANIFEST))
    (probe / "__init__.py").write_text(PROBE_CODE)
    ours = config_dir / "custom_components" / "ange_iot"
    if not ours.exists():
        ours.symlink_to(integration_dir(), target_is_directory=True)
    return marker


# -- Home Assistant -----------------------------------------------------------------------


class HassRun:
    """One ``hass`` process on a prepared config dir, until the probe's marker appears."""

    def __init__(self, config_dir: Path, *, argv_prefix: list[str] | None = None) -> None:
        self.config_dir = config_dir
        self.marker = config_dir / "bench-marker.json"
        self.log_file = config_dir / "home-assistant.log"
        self.argv_prefix = argv_prefix
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0  # time.time() just before the process was created

    def start(self) -> None:
        """Start ``hass -c <dir> --skip-pip`` (or under ``argv_prefix``, e.g. a profiler)."""
        for suffix in ("", ".progress", ".saved"):
            stale = self.marker.with_name(self.marker.name + suffix)
            stale.unlink(missing_ok=True)
        command = [
            str(HASS),
            "--config",
            str(self.config_dir),
            "--skip-pip",
            "--log-file",
            str(self.log_file),
        ]
        if self.argv_prefix:
            command = [*self.argv_prefix, "-m", "homeassistant", *command[1:]]
        self.started_at = time.time()
        self.proc = subprocess.Popen(
            command,
            cwd=self.config_dir,  # under ``-m`` the cwd is on sys.path: never the repo's
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509
        )

    def wait_marker(self, timeout: float) -> dict[str, Any]:
        """The probe's marker (ready and started); ``BenchError`` after ``timeout`` s."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.marker.exists():
                with contextlib.suppress(json.JSONDecodeError):
                    return dict(json.loads(self.marker.read_text()))
            if self.proc.poll() is not None:
                raise BenchError(
                    f"hass exited with {self.proc.returncode} before its entities were ready; "
                    f"see {self.log_file}"
                )
            if time.monotonic() > deadline:
                progress = self.marker.with_name(self.marker.name + ".progress")
                seen = progress.read_text() if progress.exists() else "no progress file"
                raise BenchError(
                    f"entities not ready within {timeout:g} s ({seen}); see {self.log_file}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 180) -> float:
        """Stop cleanly (SIGTERM: HA writes its registries); the seconds that took."""
        assert self.proc is not None
        began = time.monotonic()
        # HA installs its SIGTERM handler only after the "started" event; until then the
        # default action kills it without saving anything. Wait for the handler.
        while not _catches(self.proc.pid, signal.SIGTERM):
            if self.proc.poll() is not None or time.monotonic() - began > 30:
                break
            time.sleep(0.02)
        _kill_group(self.proc, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise BenchError(f"hass did not stop within {timeout:g} s") from None
        self.proc = None
        if code != 0:
            raise BenchError(f"hass exited with {code} after SIGTERM; see {self.log_file}")
        return time.monotonic() - began

    def wait_registries_saved(self, timeout: float) -> float:
        """Wait for the probe's ``.saved`` marker; the seconds the probe's save took."""
        saved = self.marker.with_name(self.marker.name + ".saved")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if saved.exists():
                with contextlib.suppress(json.JSONDecodeError):
                    return float(json.loads(saved.read_text())["seconds"])
            if self.proc is not None and self.proc.poll() is not None:
                raise BenchError(f"hass exited before saving its registries; see {self.log_file}")
            time.sleep(0.05)
        raise BenchError(f"registries not saved within {timeout:g} s; see {self.log_file}")

    def wait_saved(self, keys: tuple[str, ...], timeout: float) -> float:
        """Wait until the ``.storage`` files ``keys`` exist and stay unchanged for 1 s.

        Returns the seconds since the process was created (``BenchError`` on timeout).
        """
        storage = self.config_dir / ".storage"
        deadline = time.monotonic() + timeout
        last: tuple[tuple[int, int], ...] | None = None
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            try:
                now = tuple(
                    (int(st.st_mtime_ns), st.st_size)
                    for st in ((storage / key).stat() for key in keys)
                )
            except FileNotFoundError:
                now = None
            if now is not None and now == last:
                if time.monotonic() - stable_since >= 1:
                    return time.time() - self.started_at
            else:
                last, stable_since = now, time.monotonic()
            time.sleep(0.1)
        raise BenchError(f"{', '.join(keys)} not written within {timeout:g} s")

    def stored(self) -> list[str]:
        """The ``.storage`` files now in the config dir."""
        return sorted(p.name for p in (self.config_dir / ".storage").iterdir())

    def kill(self) -> None:
        """SIGKILL the process group (nothing is saved); idempotent."""
        if self.proc is None:
            return
        _kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.proc = None

    def log_text(self) -> str:
        """The current log."""
        try:
            return self.log_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def errors(self) -> list[str]:
        """ERROR lines of the log (any logger), for the report."""
        return [line for line in self.log_text().splitlines() if " ERROR " in line][:50]
