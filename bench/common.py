"""Helpers shared by the benchmark sections.

- ``load_angelib``: the integration's pure library, imported on its own (no Home Assistant).
- ``percentile``, ``machine_info``, ``format_table``: figures and how they are shown.
- ``Broker``: a private Mosquitto on 127.0.0.1 with a free port.
- ``PublisherProcess`` (and ``publisher_main``): a separate process that publishes
  pre-built MQTT messages over a raw MQTT 3.1.1 socket (QoS 0) at a paced rate, so the
  publisher is never the bottleneck and costs Home Assistant nothing.
- ``write_config_dir``, ``run_hass``, ``add_config_entry``, ``add_mqtt_entry``: a real
  Home Assistant in this process, set up by ``homeassistant.bootstrap`` from a config dir
  exactly as ``hass`` does it (same event loop setup as ``homeassistant.runner``).
- ``run_child``: run a section's measurement in a fresh interpreter (memory and CPU
  figures of one Home Assistant are then not disturbed by the previous one).
- ``cpu_seconds``, ``rss_bytes``, ``peak_rss_bytes``: what a process costs.

Nothing here imports Home Assistant at module level, so the publisher process and the
orchestrator stay light; Home Assistant is imported inside the functions that run it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
import contextlib
import ctypes
from dataclasses import dataclass
from datetime import UTC, datetime
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
from pathlib import Path
import platform
import pwd
import re
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry
    from homeassistant.core import HomeAssistant

REPO = Path(__file__).resolve().parents[1]
INTEGRATION = REPO / "custom_components" / "ange_iot"
DOMAIN = "ange_iot"


# -- the pure library -----------------------------------------------------------------------


def load_angelib() -> ModuleType:
    """``custom_components/ange_iot/angelib`` as the top-level package ``angelib``.

    Imported from its folder only (not via ``custom_components.ange_iot``), so neither Home
    Assistant nor the integration's ``__init__`` is imported (as ``scripts/fuzz.py`` does).
    """
    if (module := sys.modules.get("angelib")) is None:  # another script may have loaded it
        folder = INTEGRATION / "angelib"
        spec = importlib.util.spec_from_file_location(
            "angelib", folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["angelib"] = module
        spec.loader.exec_module(module)
    for name in ("catalog", "codecs", "lns.chirpstack", "simulator"):
        importlib.import_module(f"angelib.{name}")
    return module


# -- figures ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def fmt(value: float | None, digits: int = 0, unit: str = "") -> str:
    """A number for a table cell (thousands separated by a thin space); "—" for None."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    text = f"{value:,.{digits}f}".replace(",", " ")
    return f"{text} {unit}".rstrip()


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in _read("/proc/meminfo").splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])

    def version(dist: str) -> str | None:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return None

    mosquitto = None
    if (binary := find_mosquitto()) is not None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [binary, "-h"], capture_output=True, text=True, timeout=5, check=False
            ).stdout
            mosquitto = out.splitlines()[0].removeprefix("mosquitto version ").strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "kernel": platform.release(),
        "python": platform.python_version(),
        "home_assistant": version("homeassistant"),
        "paho_mqtt": version("paho-mqtt"),
        "mosquitto": mosquitto,
    }


type Row = tuple[str, str, str, str]


def format_table(title: str, rows: Iterable[Row]) -> str:
    """One section's table: figure | ours | peer | target / verdict."""
    header: Row = ("figure", "ours", "peer", "target / verdict")
    body = [header, *rows]
    widths = [max(len(row[i]) for row in body) for i in range(4)]
    lines = [title, "-" * len(title)]
    for index, row in enumerate(body):
        cells = [row[0].ljust(widths[0])] + [row[i].rjust(widths[i]) for i in (1, 2)]
        cells.append(row[3].ljust(widths[3]))
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


# -- what a process costs ------------------------------------------------------------------


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _status_kib(field: str, pid: int | None = None) -> int:
    for line in _read(f"/proc/{pid or 'self'}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def rss_bytes(pid: int | None = None) -> int:
    """Resident set size now (bytes)."""
    return _status_kib("VmRSS", pid) * 1024


def peak_rss_bytes(pid: int | None = None) -> int:
    """Peak resident set size so far (bytes)."""
    return _status_kib("VmHWM", pid) * 1024


# -- processes -------------------------------------------------------------------------------


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


try:  # loaded in the parent: the child after fork only makes the call
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def die_with_parent() -> None:
    """In a child before exec: SIGKILL when the parent goes away (Linux)."""
    if _LIBC is not None:
        with contextlib.suppress(AttributeError):
            _LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def find_mosquitto() -> str | None:
    """The broker binary (``scripts/bootstrap --with-mosquitto`` installs it)."""
    if found := shutil.which("mosquitto"):
        return found
    return "/usr/sbin/mosquitto" if os.access("/usr/sbin/mosquitto", os.X_OK) else None


MOSQUITTO_CONF = """\
# Written by bench/common.py for one benchmark run.
listener {port} 127.0.0.1
allow_anonymous true
persistence false
# QoS 0 messages to a slow subscriber are queued, never dropped: an overloaded Home
# Assistant then shows up as a growing lag, not as lost messages.
max_queued_messages 0
# Without TCP_NODELAY, Nagle's algorithm on the broker's socket meets delayed ACKs on the
# subscriber's: a message can wait up to ~40 ms, which would swamp what is measured.
set_tcp_nodelay true
user {user}
log_dest file {log}
log_type error
log_type warning
"""


class Broker:
    """A private Mosquitto on 127.0.0.1 (a context manager)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        """Prepare (not started); ``port`` defaults to a free one."""
        binary = find_mosquitto()
        if binary is None:
            raise RuntimeError("mosquitto is not installed: run scripts/bootstrap --with-mosquitto")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10) -> None:
        """Start; returns once it accepts connections."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            MOSQUITTO_CONF.format(
                port=self.port,
                user=pwd.getpwuid(os.getuid()).pw_name,
                log=self.workdir / "mosquitto.log",
            )
        )
        with (self.workdir / "mosquitto.out").open("wb") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=die_with_parent,  # noqa: PLW1509 (one prctl call)
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"mosquitto exited with {self.proc.returncode}: "
                    + _read(str(self.workdir / "mosquitto.out"))[-2000:]
                )
            with socket.socket() as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen on 127.0.0.1:{self.port}")
            time.sleep(0.05)

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs."""
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; idempotent."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def __enter__(self) -> Broker:
        """Start the broker."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the broker."""
        self.stop()


# -- a raw MQTT 3.1.1 publisher ----------------------------------------------------------


def _remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length % 128, length // 128
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def mqtt_publish_packet(topic: bytes, payload: bytes, *, retain: bool = False) -> bytes:
    """One MQTT 3.1.1 PUBLISH packet, QoS 0."""
    body = struct.pack("!H", len(topic)) + topic + payload
    return bytes((0x31 if retain else 0x30,)) + _remaining_length(len(body)) + body


class RawMqtt:
    """A minimal MQTT 3.1.1 client: connect, publish QoS 0, ping (a barrier)."""

    def __init__(self, port: int, client_id: str) -> None:
        """Connect to 127.0.0.1:port (clean session, no keep-alive)."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        body = (
            b"\x00\x04MQTT\x04\x02\x00\x00"  # protocol, level 4, clean session, keep-alive 0
            + struct.pack("!H", len(cid))
            + cid
        )
        self.sock.sendall(b"\x10" + _remaining_length(len(body)) + body)
        connack = self._recv(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"MQTT connect refused: {connack!r}")

    def _recv(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise RuntimeError("MQTT broker closed the connection")
            data += chunk
        return data

    def send(self, packets: bytes) -> None:
        """Write already built packets."""
        self.sock.sendall(packets)

    def sync(self) -> None:
        """PINGREQ/PINGRESP: the broker has handled everything sent before."""
        self.sock.sendall(b"\xc0\x00")
        if self._recv(2) != b"\xd0\x00":
            raise RuntimeError("unexpected answer to PINGREQ")

    def close(self) -> None:
        """DISCONNECT and close."""
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")
        self.sock.close()


_PAD_RE = re.compile(r"@@PAD(\d+)@@")


def expand(text: str) -> str:
    """``@@PAD<n>@@`` becomes n × "x" (keeps oversized test bodies out of message files)."""
    if "@@PAD" not in text:
        return text
    return _PAD_RE.sub(lambda m: "x" * int(m.group(1)), text)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def publisher_main(argv: Sequence[str]) -> int:
    """The publisher process: ``python -m bench.common publish MESSAGES PORT``.

    ``MESSAGES`` holds one JSON ``[topic, head, tail]`` per line (``write_messages``): the
    body is ``head`` alone when ``tail`` is null, else ``head + <now, RFC 3339> + tail`` (the
    ChirpStack ``time`` of an uplink is the moment it is published); ``@@PAD<n>@@`` in either
    part is expanded (``expand``). After loading and connecting it prints ``ready``; then
    each JSON line on stdin is a command::

        {"start": 0, "count": 20000, "rate": 1000, "exact": false, "retain": false,
         "times": false}

    ``rate`` 0 publishes as fast as possible; ``exact`` paces every message on its own
    (for latency runs) instead of in 2 ms ticks; ``times`` returns each message's
    ``time.monotonic()`` just before it was written (CLOCK_MONOTONIC is system-wide on
    Linux, so Home Assistant's clock can be compared with it). Each command is answered
    with one JSON line once the broker has handled every message (a PINGREQ barrier).
    ``{"quit": true}`` or end of input ends the process.
    """
    messages_file, port = argv[0], int(argv[1])
    raw = read_messages(Path(messages_file))
    messages = [
        (topic.encode(), expand(head), None if tail is None else expand(tail))
        for topic, head, tail in raw
    ]
    client = RawMqtt(port, f"bench-publisher-{os.getpid()}")
    print("ready", flush=True)
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd.get("quit"):
                break
            result = _publish(client, messages, cmd)
            print(json.dumps(result), flush=True)
    finally:
        client.close()
    return 0


def _publish(
    client: RawMqtt, messages: list[tuple[bytes, str, str | None]], cmd: dict[str, Any]
) -> dict[str, Any]:
    start, count = int(cmd["start"]), int(cmd["count"])
    rate = float(cmd.get("rate", 0))
    retain = bool(cmd.get("retain", False))
    if start + count > len(messages):
        raise ValueError(f"{start}+{count} is beyond the {len(messages)} messages")

    def packet(index: int) -> bytes:
        topic, head, tail = messages[index]
        body = head if tail is None else head + _now_iso() + tail
        return mqtt_publish_packet(topic, body.encode(), retain=retain)

    times: list[float] = []
    t0 = time.monotonic()
    sent = 0
    if rate > 0 and cmd.get("exact"):
        for k in range(count):
            due = t0 + k / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            data = packet(start + k)
            times.append(time.monotonic())
            client.send(data)
        sent = count
    else:
        tick = 0.002
        while sent < count:
            now = time.monotonic()
            due = count if rate <= 0 else min(count, int((now - t0) * rate) + 1)
            due = min(due, sent + 2000)
            if due > sent:
                batch = b"".join(packet(start + k) for k in range(sent, due))
                stamp = time.monotonic()
                times.extend([stamp] * (due - sent))
                client.send(batch)
                sent = due
            if rate > 0 and sent < count:
                time.sleep(max(0.0, tick - (time.monotonic() - now)))
    t1 = time.monotonic()
    client.sync()
    result: dict[str, Any] = {
        "sent": sent,
        "started": t0,
        "ended": t1,
        "rate": sent / (t1 - t0) if t1 > t0 else None,
    }
    if cmd.get("times"):
        result["times"] = times
    return result


class PublisherProcess:
    """``publisher_main`` in its own process; ``publish`` sends one command."""

    def __init__(self, messages: Path, port: int, log: Path) -> None:
        """Start it and wait until it has loaded the messages and connected."""
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.common", "publish", str(messages), str(port)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 (one prctl call)
        )
        self._expect_line("ready")

    def _expect_line(self, what: str) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait(timeout=10)
            raise RuntimeError(
                f"publisher exited ({self.proc.returncode}) instead of sending {what}; "
                f"see {self._log.name}"
            )
        return line

    def publish(
        self,
        start: int,
        count: int,
        rate: float,
        *,
        exact: bool = False,
        retain: bool = False,
        times: bool = False,
    ) -> dict[str, Any]:
        """Publish ``count`` messages from index ``start``; the publisher's report."""
        assert self.proc.stdin is not None
        cmd = {
            "start": start,
            "count": count,
            "rate": rate,
            "exact": exact,
            "retain": retain,
            "times": times,
        }
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        result: dict[str, Any] = json.loads(self._expect_line("a report"))
        return result

    def close(self) -> None:
        """Tell it to quit and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.proc.stdin is not None
                self.proc.stdin.write('{"quit": true}\n')
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> PublisherProcess:
        """Nothing more to start."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the process."""
        self.close()


def write_messages(path: Path, messages: Iterable[tuple[str, str, str | None]]) -> int:
    """Write a message file (one JSON ``[topic, head, tail]`` per line); how many it holds."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for item in messages:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_messages(
    path: Path, start: int = 0, count: int | None = None
) -> list[tuple[str, str, str | None]]:
    """Messages ``start`` .. ``start + count`` of a file written by ``write_messages``.

    Only those lines are parsed (a Home Assistant process under measurement should not hold
    a whole message file: its tuples would be on the heap the garbage collector walks).
    """
    out: list[tuple[str, str, str | None]] = []
    end = None if count is None else start + count
    with path.open(encoding="utf-8") as lines:
        for index, line in enumerate(lines):
            if index < start:
                continue
            if end is not None and index >= end:
                break
            topic, head, tail = json.loads(line)
            out.append((topic, head, tail))
    return out


# -- a site of devices -----------------------------------------------------------------------


def site_devices(count: int) -> list[Any]:
    """``count`` demo devices: the demo site's mix repeated (``angelib.simulator``).

    Per 16 devices: 6 Elsys ERS motion sensors, 1 Sensative door strip, 1 Axioma W1
    building meter, 6 Kamstrup flowIQ apartment meters and 2 Milesight EM500-UDL snow
    sensors. DevEUIs keep the demo's prefix with a running number; areas get the copy's
    number, so each copy is its own building.
    """
    angelib = load_angelib()
    simulator = angelib.simulator
    devices = []
    index = 0
    while len(devices) < count:
        for demo in simulator.DEMO_DEVICES:
            if len(devices) == count:
                break
            copy = index // len(simulator.DEMO_DEVICES)
            devices.append(
                type(demo)(
                    dev_eui=demo.dev_eui[:-6] + f"{index:06x}",
                    model_id=demo.model_id,
                    name=f"{demo.name} #{copy}",
                    role=demo.role,
                    profile_name=demo.profile_name,
                    interval_s=demo.interval_s,
                    area=f"{demo.area} #{copy}",
                    mounting_height_mm=demo.mounting_height_mm,
                )
            )
            index += 1
    return devices


def device_subentries(devices: Iterable[Any]) -> list[dict[str, Any]]:
    """Device subentries (``ConfigSubentryData`` as plain dicts) for a gateway entry."""
    subentries = []
    for device in devices:
        data: dict[str, Any] = {
            "dev_eui": device.dev_eui,
            "model": device.model_id,
            "report_interval": device.interval_s,
            "area": device.area,
        }
        if device.mounting_height_mm:
            data["mounting_height"] = device.mounting_height_mm
        subentries.append(
            {
                "data": data,
                "subentry_type": "device",
                "title": device.name,
                "unique_id": device.dev_eui,
            }
        )
    return subentries


# -- Home Assistant in this process ------------------------------------------------------

CONFIGURATION_YAML = """\
# Written by bench/common.py: a bare Home Assistant (no default_config).
homeassistant:
  name: Ånge IoT benchmark
  latitude: 62.5247
  longitude: 15.6598
  elevation: 260
  unit_system: metric
  time_zone: Europe/Stockholm
  country: SE

http:
  server_host: 127.0.0.1
  server_port: {http_port}

webhook:

logger:
  default: warning
{recorder}{extra}"""

RECORDER_YAML = """
recorder:
  db_url: sqlite:///{db}
  commit_interval: 1
"""


def write_config_dir(
    config_dir: Path,
    *,
    http_port: int | None = None,
    recorder: bool = False,
    extra: str = "",
    integration: Path = INTEGRATION,
) -> Path:
    """A config dir for ``run_hass``: configuration.yaml and the integration linked in.

    Both ours and the peer load the same integrations: ``http`` and ``webhook`` (which the
    integration depends on) and MQTT (from a config entry). The recorder is off unless
    ``recorder`` (then a fresh SQLite file in the config dir). ``integration`` is the
    folder linked in as ``custom_components/ange_iot`` (another checkout to compare with).
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION_YAML.format(
            http_port=http_port or free_port(),
            recorder=RECORDER_YAML.format(db=config_dir / "home-assistant_v2.db")
            if recorder
            else "",
            extra=extra,
        ),
        encoding="utf-8",
    )
    link = config_dir / "custom_components" / DOMAIN
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(integration, target_is_directory=True)
    return config_dir


def run_hass[T](config_dir: Path, main: Callable[[HomeAssistant], Awaitable[T]]) -> T:
    """Set up Home Assistant from ``config_dir``, start it, run ``main(hass)``, stop it.

    The event loop is made as ``homeassistant.runner`` makes it (``loop.time`` is
    ``time.monotonic``, HA's executor); setup is ``bootstrap.async_setup_hass``, so logging
    goes to ``home-assistant.log`` in the config dir (and warnings to stderr).
    """
    from homeassistant import bootstrap, runner  # noqa: PLC0415 (only in HA processes)

    loop = runner.create_event_loop()
    asyncio.set_event_loop(loop)

    async def _run() -> T:
        config = runner.RuntimeConfig(
            config_dir=str(config_dir),
            skip_pip=True,
            log_file=str(config_dir / "home-assistant.log"),
            log_no_color=True,
        )
        hass = await bootstrap.async_setup_hass(config)
        if hass is None or hass.config.recovery_mode:
            raise RuntimeError(f"Home Assistant did not set up; see {config.log_file}")
        await hass.async_start()
        try:
            return await main(hass)
        finally:
            await hass.async_stop()

    try:
        return loop.run_until_complete(_run())
    finally:
        try:
            runner._cancel_all_tasks_with_timeout(loop, 5)
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def add_config_entry(
    hass: HomeAssistant,
    *,
    domain: str,
    title: str,
    data: dict[str, Any],
    options: dict[str, Any] | None = None,
    subentries: Sequence[dict[str, Any]] = (),
    unique_id: str | None = None,
    version: int = 1,
    minor_version: int = 1,
) -> ConfigEntry:
    """Add a config entry (as a finished config flow would) and set it up."""
    from types import MappingProxyType  # noqa: PLC0415

    from homeassistant.config_entries import (  # noqa: PLC0415 (only in HA processes)
        SOURCE_USER,
        ConfigEntry,
        ConfigEntryState,
    )

    entry = ConfigEntry(
        domain=domain,
        title=title,
        data=data,
        options=options or {},
        source=SOURCE_USER,
        unique_id=unique_id,
        version=version,
        minor_version=minor_version,
        discovery_keys=MappingProxyType({}),
        subentries_data=subentries,  # type: ignore[arg-type]
    )
    await hass.config_entries.async_add(entry)
    await hass.async_block_till_done()
    if entry.state is not ConfigEntryState.LOADED:
        raise RuntimeError(f"{domain} entry {title!r} is {entry.state}: {entry.reason}")
    return entry


async def add_mqtt_entry(hass: HomeAssistant, port: int, *, discovery: bool = True) -> ConfigEntry:
    """HA's MQTT integration on the private broker; returns once it is connected."""
    from homeassistant.components import mqtt  # noqa: PLC0415 (only in HA processes)

    entry = await add_config_entry(
        hass,
        domain="mqtt",
        title="Mosquitto (benchmark)",
        data={"broker": "127.0.0.1", "port": port},
        options={"discovery": discovery},
        version=1,
        minor_version=2,  # as pytest-homeassistant-custom-component; migrated to 2.1
    )
    if not await mqtt.async_wait_for_mqtt_client(hass):
        raise RuntimeError("HA's MQTT client did not connect")
    deadline = time.monotonic() + 30
    while not mqtt.is_connected(hass):
        if time.monotonic() > deadline:
            raise RuntimeError("HA's MQTT client did not connect")
        await asyncio.sleep(0.05)
    return entry


# -- a measurement in a fresh interpreter ---------------------------------------------------


@dataclass(slots=True)
class ChildFailed(RuntimeError):
    """A child process failed; ``log`` is the tail of its output."""

    module: str
    returncode: int
    log: str

    def __str__(self) -> str:
        """Say which child and show its last output."""
        return f"{self.module} child exited with {self.returncode}:\n{self.log}"


def run_child(
    module: str, spec: dict[str, Any], workdir: Path, *, timeout: float = 900
) -> dict[str, Any]:
    """Run ``python -m module --child SPEC RESULT`` and return the JSON it wrote to RESULT.

    The child's stdout and stderr go to ``workdir/<name>.log``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    name = spec.get("name", module.rsplit(".", 1)[-1])
    spec_file = workdir / f"{name}.spec.json"
    result_file = workdir / f"{name}.result.json"
    log_file = workdir / f"{name}.log"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    result_file.unlink(missing_ok=True)
    with log_file.open("wb") as log:
        proc = subprocess.run(
            [sys.executable, "-m", module, "--child", str(spec_file), str(result_file)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
            preexec_fn=die_with_parent,
        )
    if proc.returncode != 0 or not result_file.exists():
        tail = _read(str(log_file))[-4000:]
        raise ChildFailed(module, proc.returncode, tail)
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return result


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "publish":
        sys.exit(publisher_main(sys.argv[2:]))
    print("usage: python -m bench.common publish MESSAGES PORT", file=sys.stderr)
    sys.exit(2)
