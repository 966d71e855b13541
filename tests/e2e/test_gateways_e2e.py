"""Real network-server traffic end to end: Mosquitto + Home Assistant + Ånge IoT.

One module-scoped site (``site``): a private Mosquitto broker and a real ``hass`` (both on
127.0.0.1), onboarded and configured only through Home Assistant's REST APIs: HA's MQTT
integration pointed at the broker, an Ånge IoT ``chirpstack_mqtt`` gateway and three sensors
added as ``device`` subentries. Uplinks come from a separate process
(``chirpstack_publish.py``) that publishes ChirpStack v4 JSON events as ChirpStack would; the
tests read the entity states back over the REST API. Each test only relies on the site's
setup, not on another test, so they run in any order (and under xdist).

Timings are printed as ``e2e timing:`` lines (visible with ``-s`` or in a failure report).
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
import json
from pathlib import Path
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_socket

from custom_components.ange_iot.angelib.catalog import MODELS, Kind
from custom_components.ange_iot.angelib.codecs import elsys

from .harness import (
    Hass,
    Mosquitto,
    Publisher,
    bound_sockets,
    develop,
    post,
    process_tree,
    wait_until,
)

pytestmark = pytest.mark.e2e

APPLICATION_ID = "ca739e26-7b67-4f14-b69e-d568c22a5a75"
TOPIC = f"application/{APPLICATION_ID}/device/+/event/+"
SECRET_HEADER = "X-Ange-Secret"
MAX_LATENCY_S = 3.0  # publish -> state, on a loaded 2-core CI machine
RECONNECT_LIMIT_S = 30.0  # HA's MQTT client retries every 10 s
MDNS_PORT = 5353


@dataclass(frozen=True)
class Device:
    """One sensor of the test site."""

    dev_eui: str
    name: str
    model: str
    codec: str
    profile: str


ERS = Device("a81758fffe0e2e01", "E2E Lgh 1101 rörelse", "elsys_ers", "elsys", "Elsys ERS")
METER = Device(
    "8c83fc050e2e0002", "E2E Lgh 1101 vatten", "kamstrup_flowiq_2200", "kamstrup_flowiq",
    "Kamstrup flowIQ 2200",
)  # fmt: skip
SNOW = Device(
    "24e124713e2e0003", "E2E Tak snödjup", "milesight_em500_udl", "milesight",
    "Milesight EM500-UDL",
)  # fmt: skip
DEVICES = (ERS, METER, SNOW)

# The sheet's TTS uplink (shared/specs/lns-messages.md), verbatim but for the times.
TTS_DEV_EUI = "1000000000000001"
TTS_UPLINK = """\
{"end_device_ids":{"device_id":"eui-1000000000000001","application_ids":{"application_id":"application-tts-name"},
  "dev_eui":"1000000000000001","join_eui":"2000000000000001","dev_addr":"20000001"},
 "correlation_ids":["as:up:01H0S7ZJQ9MQPMVY49FT3SE07M"],"received_at":"2023-05-19T05:33:35.848446463Z",
 "uplink_message":{"session_key_id":"AYfqmb0pc/1uRZv9xUydgQ==","f_port":85,"f_cnt":10335,
  "frm_payload":"AQDiAikEACcFBgcNYhUHEA==",
  "rx_metadata":[{"gateway_ids":{"gateway_id":"eui-6a7e111a10000000","eui":"6A7E111A10000000"},
   "rssi":-35,"channel_rssi":-35,"snr":13.2,"received_at":"2023-05-19T05:33:35.607383681Z"}],
  "settings":{"data_rate":{"lora":{"bandwidth":125000,"spreading_factor":7,"coding_rate":"4/5"}},"frequency":"867100000"},
  "received_at":"2023-05-19T05:33:35.641841782Z","consumed_airtime":"0.056576s"}}
"""


def note(name: str, seconds: float) -> None:
    """Print one timing (shown with ``-s``, and in a failure's captured output)."""
    print(f"e2e timing: {name} = {seconds:.3f} s", file=sys.stderr, flush=True)


def numeric(expected: float, tolerance: float = 1e-6) -> Callable[[str], bool]:
    """A state check: the state is the number ``expected``."""

    def check(state: str) -> bool:
        try:
            return abs(float(state) - expected) <= tolerance
        except ValueError:
            return False

    return check


def equals(expected: str) -> Callable[[str], bool]:
    return lambda state: state == expected


@dataclass
class Site:
    """The running site: broker, hass, the ChirpStack gateway entry and its entities."""

    broker: Mosquitto
    hass: Hass
    entry_id: str
    entities: dict[str, str] = field(default_factory=dict)  # unique_id -> entity_id
    fcnt: Counter[str] = field(default_factory=Counter)

    def entity(self, device: Device, key: str) -> str:
        return self.entities[f"{device.dev_eui}_{key}"]

    def uplink(self, device: Device, **fields: Any) -> dict[str, Any]:
        """A publisher request line for ``device``, with its next frame counter."""
        self.fcnt[device.dev_eui] += 1
        return {
            "dev_eui": device.dev_eui,
            "name": device.name,
            "profile": device.profile,
            "codec": device.codec,
            "fields": fields,
            "fcnt": self.fcnt[device.dev_eui],
        }

    def publish_and_wait(
        self, uplinks: list[dict[str, Any]], checks: dict[str, Callable[[str], bool]], qos: int
    ) -> dict[str, float]:
        """Publish from a separate process while polling the states; latency per entity.

        Latency: from just before the publisher's ``publish()`` to the first REST poll that
        shows the expected state (an upper bound: polls are 20 ms apart and take a few ms).
        """
        with Publisher(self.broker.port, APPLICATION_ID, uplinks, qos) as publisher:
            seen = self.hass.wait_states(checks, timeout=20)
            published = {line["dev_eui"]: line["sent_at"] for line in publisher.results()}
        latencies = {}
        for entity_id, when in seen.items():
            dev_eui = next(d for d in published if entity_id in self.device_entities(d))
            latencies[entity_id] = when - published[dev_eui]
        return latencies

    def device_entities(self, dev_eui: str) -> set[str]:
        return {e for u, e in self.entities.items() if u.startswith(f"{dev_eui}_")}


# -- setup --------------------------------------------------------------------------------


def add_device(hass: Hass, entry_id: str, device: Device) -> None:
    """Add a sensor through the REST subentry flow; wait for the entry's reload."""
    model = MODELS[device.model]
    # Door sensors and distance sensors get a second form with their own settings.
    own_settings: list[dict[str, Any]] = (
        [{}] if model.kind is Kind.DISTANCE or model.fields & {"door", "door_alarm"} else []
    )
    hass.flow(
        "subentries/flow",
        {"handler": [entry_id, "device"]},
        {"dev_eui": device.dev_eui, "name": device.name, "model": device.model},
        *own_settings,
    )
    # Its entities exist once the reload the new subentry triggers has set the platforms up.
    wait_until(
        lambda: any(u.startswith(device.dev_eui) for u in hass.entity_ids(entry_id)),
        30,
        f"entities of {device.name}",
        interval=0.2,
    )
    hass.wait_loaded(entry_id)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return f"({path} does not exist)"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Broker + hass + MQTT integration + ChirpStack gateway with three sensors."""
    # Module fixtures run before the per-test socket_enabled fixture: allow 127.0.0.1 here.
    pytest_socket.enable_socket()
    work = tmp_path_factory.mktemp("gateways-e2e")
    broker = Mosquitto(work, develop.free_port())
    hass = Hass(work / "config", develop.free_port())
    started = time.monotonic()
    failed = False
    try:
        broker.start()
        note("hass start (process to API up, onboarded)", hass.start())
        hass.flow(
            "flow",
            {"handler": "mqtt"},
            {
                "broker": "127.0.0.1",
                "port": broker.port,
                "other_settings": {
                    "set_client_cert": False,
                    "set_ca_cert": "off",
                    "transport": "tcp",
                },
            },
        )
        created = hass.flow(
            "flow",
            {"handler": "ange_iot"},
            "chirpstack_mqtt",
            {
                "name": "ChirpStack Ånge",
                "topic_template": "application/{applicationId}/device/{devEui}/event/{event}",
                "application_id": APPLICATION_ID,
            },
        )
        entry_id = created["result"]["entry_id"]
        hass.wait_loaded(entry_id)
        for device in DEVICES:
            add_device(hass, entry_id, device)
        wait_until(lambda: broker.subscribed(TOPIC), 30, f"HA's subscription to {TOPIC}")
        result = Site(broker, hass, entry_id, hass.entity_ids(entry_id))
        note("site setup (broker start to subscribed)", time.monotonic() - started)
        yield result
    except BaseException:
        failed = True
        print(f"--- home-assistant.log ---\n{tail(hass.log_file)}", file=sys.stderr)
        print(f"--- {broker.log_file.name} ---\n{tail(broker.log_file, 20)}", file=sys.stderr)
        raise
    finally:
        pytest_socket.enable_socket()
        stopping = time.monotonic()
        try:
            # A clean stop (it flushes HA's storage) unless setting up failed: then kill.
            if not failed and hass.proc is not None and hass.proc.poll() is None:
                hass.stop()
                note("hass stop", time.monotonic() - stopping)
        finally:
            hass.kill()
            broker.stop()
        note("module total (setup to teardown)", time.monotonic() - started)


@pytest.fixture(autouse=True)
def _no_integration_errors(site: Site) -> Iterator[None]:
    """No test may make the integration log an ERROR."""
    mark = site.hass.log_mark()
    yield
    assert site.hass.errors_since(mark) == []


# -- ChirpStack v4 over MQTT --------------------------------------------------------------


@pytest.mark.timeout(150)
def test_chirpstack_uplinks_over_mqtt(site: Site) -> None:
    """Three sensors' uplinks, QoS 1 then QoS 0, reach their entities within seconds."""
    checks = {
        site.entity(ERS, "temperature"): numeric(21.4),
        site.entity(ERS, "humidity"): numeric(38),
        # (motion is off by default: a resident's activity, see README "Privacy")
        site.entity(METER, "volume"): numeric(123.456),
        site.entity(SNOW, "distance"): numeric(1234),
        site.entity(SNOW, "rssi"): numeric(-87),
    }
    latencies = site.publish_and_wait(
        [
            site.uplink(ERS, temperature=21.4, humidity=38, motion_count=3),
            site.uplink(METER, volume_l=123_456),
            site.uplink(SNOW, distance=1234, battery=97),
        ],
        checks,
        qos=1,
    )
    note("uplink latency, QoS 1 (max of 3 devices)", max(latencies.values()))
    assert max(latencies.values()) < MAX_LATENCY_S, latencies

    latencies = site.publish_and_wait(
        [site.uplink(ERS, temperature=22.9, humidity=37, motion_count=0)],
        {site.entity(ERS, "temperature"): numeric(22.9), site.entity(ERS, "humidity"): numeric(37)},
        qos=0,
    )
    note("uplink latency, QoS 0", max(latencies.values()))
    assert max(latencies.values()) < MAX_LATENCY_S, latencies
    assert float(site.hass.value(site.entity(METER, "volume"))) == 123.456


@pytest.mark.timeout(150)
def test_broker_restart(site: Site) -> None:
    """Kill the broker, start it again on the same port: HA reconnects, uplinks arrive."""
    site.broker.kill()
    down = time.monotonic()
    site.broker.start()
    wait_until(
        lambda: site.broker.subscribed(TOPIC),
        RECONNECT_LIMIT_S,
        f"HA to reconnect and subscribe to {TOPIC} again",
        interval=0.1,
    )
    note("broker restart to HA re-subscribed", time.monotonic() - down)

    latencies = site.publish_and_wait(
        [site.uplink(SNOW, distance=987, battery=96)],
        {site.entity(SNOW, "distance"): numeric(987)},
        qos=1,
    )
    note("uplink latency after broker restart", max(latencies.values()))
    assert max(latencies.values()) < MAX_LATENCY_S, latencies


@pytest.mark.timeout(180)
def test_hass_restart_restores_state(site: Site) -> None:
    """Stop HA (homeassistant.stop), start it again: values are back before any uplink."""
    values = {
        site.entity(ERS, "temperature"): numeric(18.3),
        site.entity(ERS, "humidity"): numeric(45),
        site.entity(METER, "volume"): numeric(130.001),
        site.entity(SNOW, "distance"): numeric(1500),
    }
    site.publish_and_wait(
        [
            site.uplink(ERS, temperature=18.3, humidity=45, motion_count=1),
            site.uplink(METER, volume_l=130_001),
            site.uplink(SNOW, distance=1500, battery=95),
        ],
        values,
        qos=1,
    )
    hass = site.hass
    stopping = time.monotonic()
    assert hass.stop() == 0
    note("hass stop (homeassistant.stop to exit)", time.monotonic() - stopping)

    note("hass restart (process to API up, logged in)", hass.start())
    hass.wait_loaded(site.entry_id)
    # Restored from what was stored at shutdown: nothing has been published since.
    hass.wait_states(values, timeout=30)
    note("hass restart to restored states", time.monotonic() - stopping)

    wait_until(lambda: site.broker.subscribed(TOPIC), 30, f"HA's subscription to {TOPIC}")
    latencies = site.publish_and_wait(
        [site.uplink(ERS, temperature=19.0, humidity=44, motion_count=2)],
        {site.entity(ERS, "temperature"): numeric(19.0)},
        qos=1,
    )
    note("uplink latency after hass restart", max(latencies.values()))
    assert max(latencies.values()) < MAX_LATENCY_S, latencies


# -- The Things Stack v3 webhook over HTTP -------------------------------------------------


@pytest.mark.timeout(150)
def test_tts_webhook(site: Site) -> None:
    """The sheet's TTS uplink over real HTTP: 200 and states; bad secret 401; 70 KiB 413."""
    hass = site.hass
    created = hass.flow(
        "flow",
        {"handler": "ange_iot"},
        "tts_webhook",
        {"name": "TTS Ånge", "backfill": False},
    )
    placeholders = created["description_placeholders"]
    assert placeholders["header"] == SECRET_HEADER
    secret = placeholders["secret"]
    path = urlsplit(placeholders["url"]).path
    assert path.startswith("/api/webhook/"), placeholders["url"]
    url = hass.api.base + path
    entry_id = created["result"]["entry_id"]
    hass.wait_loaded(entry_id)
    sound = Device(TTS_DEV_EUI, "E2E TTS ERS Sound", "elsys_ers_sound", "elsys", "")
    add_device(hass, entry_id, sound)
    entities = hass.entity_ids(entry_id)

    def entity(key: str) -> str:
        return entities[f"{TTS_DEV_EUI}_{key}"]

    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    body = json.loads(TTS_UPLINK)
    body["received_at"] = body["uplink_message"]["received_at"] = now
    body["uplink_message"]["rx_metadata"][0]["received_at"] = now
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", SECRET_HEADER: secret}

    sent = time.time()
    assert post(url, raw, headers) == 200
    seen = hass.wait_states(
        {
            entity("temperature"): numeric(22.6),
            entity("humidity"): numeric(41),
            entity("illuminance"): numeric(39),
            entity("sound_peak"): numeric(7),
            entity("sound_avg"): numeric(16),
            entity("rssi"): numeric(-35),
        },
        timeout=10,
    )
    note("webhook POST to state", max(seen.values()) - sent)
    assert max(seen.values()) - sent < MAX_LATENCY_S

    # A different reading with a wrong or missing secret is refused and not applied.
    body["uplink_message"]["f_cnt"] += 1
    body["uplink_message"]["frm_payload"] = _b64(elsys.encode({"temperature": 30.5}))
    forged = json.dumps(body).encode()
    assert post(url, forged, {**headers, SECRET_HEADER: secret + "x"}) == 401
    assert post(url, forged, {"Content-Type": "application/json"}) == 401
    # Over the 64 KiB limit, even with the right secret.
    big = dict(body, padding="x" * (70 * 1024))
    assert post(url, json.dumps(big).encode(), headers) == 413

    rejected = entities[f"{entry_id}_rejected_messages"]
    hass.wait_states({rejected: numeric(3)}, timeout=10)
    assert float(hass.value(entity("temperature"))) == 22.6


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- nothing but loopback -----------------------------------------------------------------


@pytest.mark.timeout(120)
def test_only_loopback_listeners(site: Site) -> None:
    """hass and the broker listen on 127.0.0.1 only (TCP listeners, unconnected UDP).

    One exception, HA core's and not avoidable by configuration: the shared aiohttp client
    session resolves ``.local`` names over mDNS (aiohttp-asyncmdnsresolver), whose zeroconf
    instance binds UDP 5353 on every interface as soon as any integration fetches a URL. It
    answers mDNS only; no service of ours is announced. Anything else fails the test.
    """
    assert site.hass.proc is not None
    assert site.broker.proc is not None
    hass_sockets = [s for pid in process_tree(site.hass.proc.pid) for s in bound_sockets(pid)]
    broker_sockets = bound_sockets(site.broker.proc.pid)
    assert ("tcp", "127.0.0.1", site.hass.port) in hass_sockets
    assert broker_sockets == [("tcp", "127.0.0.1", site.broker.port)]
    exposed = [
        s
        for s in hass_sockets
        if s[1] not in ("127.0.0.1", "::1") and not (s[0].startswith("udp") and s[2] == MDNS_PORT)
    ]
    assert exposed == [], f"hass binds non-loopback addresses: {exposed}"
    tcp = [s for s in hass_sockets if s[0].startswith("tcp")]
    assert all(s[1] == "127.0.0.1" for s in tcp), tcp
