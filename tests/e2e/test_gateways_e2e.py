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

from custom_components.ange_iot.angelib.catalog import Kind, model_by_id
from custom_components.ange_iot.angelib.codecs import elsys

from .harness import (
    Hass,
    Mosquitto,
    Publisher,
    TtsStorage,
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
DOMAIN_ID = "ange_iot"  # the integration's domain, first half of its device identifiers


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
    storage: TtsStorage
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
    """Add a sensor through the REST subentry flow; wait until its entities exist."""
    model = model_by_id(device.model)
    # Door, distance and generic sensors get a second form with their own settings.
    own_settings: list[dict[str, Any]] = (
        [{}]
        if model.kind in (Kind.DISTANCE, Kind.GENERIC) or model.fields & {"door", "door_alarm"}
        else []
    )
    hass.flow(
        "subentries/flow",
        {"handler": [entry_id, "device"]},
        {"dev_eui": device.dev_eui, "name": device.name, "model": device.model},
        *own_settings,
    )
    # Applied in place (no reload): its entities are added as soon as the subentry exists.
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
    storage = TtsStorage(work)
    # Home Assistant's HTTP clients trust the storage server's test CA (and only it).
    hass = Hass(work / "config", develop.free_port(), {"REQUESTS_CA_BUNDLE": str(storage.ca_file)})
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
        result = Site(broker, hass, entry_id, storage, hass.entity_ids(entry_id))
        # Starting and setting up (config and subentry flows) logged no problem of ours.
        assert hass.errors_since((0, 0)) == []
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
            storage.stop()
        note("module total (setup to teardown)", time.monotonic() - started)


class LogCheck:
    """The site's log since the test started (or since the last ``take``)."""

    def __init__(self, hass: Hass) -> None:
        self.hass = hass
        self.mark = hass.log_mark()

    def take(self) -> list[str]:
        """The problem lines logged since the mark (``Hass.errors_since``); moves the mark."""
        problems = self.hass.errors_since(self.mark)
        self.mark = self.hass.log_mark()
        return problems


@pytest.fixture(autouse=True)
def log_check(site: Site) -> Iterator[LogCheck]:
    """No test may make the integration log an ERROR, a deprecation report or a warning."""
    check = LogCheck(site.hass)
    yield check
    assert check.take() == []


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
        site.entity(SNOW, "battery"): numeric(97),  # (RSSI is off by default)
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

    # Counted (the "rejected messages" entity is off by default: read the diagnostics).
    def rejected() -> int | None:
        diagnostics = hass.request("GET", f"/api/diagnostics/config_entry/{entry_id}")
        count = sum(diagnostics["data"]["gateway"]["rejected"].values())
        return count if count >= 3 else None

    assert wait_until(rejected, 10, "three rejected messages") == 3
    assert float(hass.value(entity("temperature"))) == 22.6


# -- generic devices (decoded by the network server) ----------------------------------

GENERIC_DIR = Path(__file__).parents[1] / "angelib" / "data" / "generic"


def _recorded(name: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((GENERIC_DIR / f"{name}.json").read_text())["message"]
    return message


def _field_entity(hass: Hass, entry_id: str, dev_eui: str, key: str) -> str:
    """The entity of a generic field: it appears with the first uplink that carries it."""
    unique_id = f"{dev_eui}_field_{key}"
    wait_until(
        lambda: unique_id in hass.entity_ids(entry_id), 20, f"entity {unique_id}", interval=0.2
    )
    return hass.entity_ids(entry_id)[unique_id]


@pytest.mark.timeout(150)
def test_generic_devices_chirpstack_object_and_tts_normalized(site: Site) -> None:
    """A ChirpStack object over MQTT and a TTS normalized payload over a webhook: typed states."""
    hass = site.hass
    # ChirpStack: a Dragino LDS02 door sensor, decoded by its device profile's codec.
    door = Device("a84041000e2e0b02", "E2E generisk dörr", "generic", "", "Dragino LDS02")
    add_device(hass, site.entry_id, door)
    event = _recorded("dragino_lds02_chirpstack")
    uplink = {
        "dev_eui": door.dev_eui, "name": door.name, "profile": door.profile, "codec": None,
        "fport": 10, "hex": base64.b64decode(event["data"]).hex(),
        "object": {**event["object"], "DOOR_OPEN_STATUS": 1}, "fcnt": 1,
    }  # fmt: skip
    with Publisher(site.broker.port, APPLICATION_ID, [uplink], 1) as publisher:
        opened = _field_entity(hass, site.entry_id, door.dev_eui, "DOOR_OPEN_STATUS")
        battery = _field_entity(hass, site.entry_id, door.dev_eui, "BAT_V")
        hass.wait_states({opened: equals("on"), battery: numeric(2.952)}, timeout=10)
        publisher.results()
    state = hass.state(battery)
    assert state is not None
    assert state["attributes"]["device_class"] == "voltage"
    assert state["attributes"]["unit_of_measurement"] == "V"
    door_state = hass.state(opened)
    assert door_state is not None
    assert door_state["attributes"]["device_class"] == "door"

    # The Things Stack webhook: a Quandify CubicMeter with normalized_payload (litres → m³).
    created = hass.flow(
        "flow", {"handler": "ange_iot"}, "tts_webhook", {"name": "TTS generisk", "backfill": False}
    )
    placeholders = created["description_placeholders"]
    url = hass.api.base + urlsplit(placeholders["url"]).path
    entry_id = created["result"]["entry_id"]
    hass.wait_loaded(entry_id)
    body = _recorded("quandify_cubicmeter_tts_normalized")
    meter = Device(body["end_device_ids"]["dev_eui"].lower(), "E2E generisk vattenmätare",
                   "generic", "", "")  # fmt: skip
    add_device(hass, entry_id, meter)
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
    body["received_at"] = body["uplink_message"]["received_at"] = now
    headers = {"Content-Type": "application/json", SECRET_HEADER: placeholders["secret"]}
    assert post(url, json.dumps(body).encode(), headers) == 200
    volume = _field_entity(hass, entry_id, meter.dev_eui, "metering.water.total")
    leak = _field_entity(hass, entry_id, meter.dev_eui, "water.leak")
    temperature = _field_entity(hass, entry_id, meter.dev_eui, "air.temperature")
    hass.wait_states(
        {volume: numeric(5.342), leak: equals("off"), temperature: numeric(22.5)}, timeout=10
    )
    state = hass.state(volume)
    assert state is not None
    assert state["attributes"]["device_class"] == "water"
    assert state["attributes"]["unit_of_measurement"] == "m³"
    assert state["attributes"]["state_class"] == "total_increasing"
    assert state["attributes"]["guessed"] is False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- deleting a device from the UI --------------------------------------------------------


@pytest.mark.timeout(120)
def test_delete_device_from_ui(site: Site) -> None:
    """The device page's *Delete*: its subentry, entities and device go; the rest stays."""
    hass = site.hass
    spare = Device("a81758fffe0e2e09", "E2E Förråd rörelse", "elsys_ers", "elsys", "Elsys ERS")
    add_device(hass, site.entry_id, spare)
    devices = hass.ws({"type": "config/device_registry/list"})
    device_id = next(d["id"] for d in devices if [DOMAIN_ID, spare.dev_eui] in d["identifiers"])
    hass.ws({"type": "config/device_registry/remove", "device_id": device_id})
    wait_until(
        lambda: not any(u.startswith(spare.dev_eui) for u in hass.entity_ids(site.entry_id)),
        30,
        f"the entities of {spare.name} to go",
        interval=0.2,
    )
    hass.wait_loaded(site.entry_id)
    subentries = hass.ws({"type": "config_entries/subentries/list", "entry_id": site.entry_id})
    assert spare.dev_eui not in {s["unique_id"] for s in subentries}
    assert {ERS.dev_eui, METER.dev_eui, SNOW.dev_eui} <= {s["unique_id"] for s in subentries}
    devices = hass.ws({"type": "config/device_registry/list"})
    assert not [d for d in devices if [DOMAIN_ID, spare.dev_eui] in d["identifiers"]]
    assert site.entities.items() <= hass.entity_ids(site.entry_id).items()


# -- reauthentication and reconfiguration of a gateway -------------------------------------


class DeprecationReports(AssertionError):
    """Home Assistant reported our use of an API it deprecates (see the test below)."""


def reauth_flow(hass: Hass, entry_id: str) -> dict[str, Any] | None:
    """The reauth flow in progress for ``entry_id`` (what the frontend's notice opens)."""
    for flow in hass.ws({"type": "config_entries/flow/progress"}):
        context = flow.get("context", {})
        if context.get("source") == "reauth" and context.get("entry_id") == entry_id:
            return dict(flow)
    return None


@pytest.mark.timeout(180)
def test_tts_backfill_reauth_and_reconfigure(site: Site, log_check: LogCheck) -> None:
    """A revoked storage API key: reauth with a new key; then reconfigure the application.

    The Things Stack's storage integration is a real HTTPS server (``TtsStorage``); the
    flows go through Home Assistant's REST API as the frontend drives them. Ends by checking
    that Home Assistant reported no deprecated API use of ours during the flows.
    """
    hass, storage = site.hass, site.storage
    storage.keys = {"key-one"}
    created = hass.flow(
        "flow",
        {"handler": "ange_iot"},
        "tts_webhook",
        {
            "name": "TTS backfill",
            "application_id": "ange-e2e",
            "backfill": True,
            "host": storage.host,
            "api_key": "key-one",
        },
    )
    entry_id = created["result"]["entry_id"]
    hass.wait_loaded(entry_id)
    # The flow checked the key, the gateway's start fetched what was missed.
    wait_until(lambda: storage.used("ange-e2e", "key-one") >= 2, 30, "the first backfill")

    # The key is revoked: the next backfill (at the reload) is refused and asks for a new one.
    storage.keys = {"key-two"}
    hass.request("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    flow = wait_until(lambda: reauth_flow(hass, entry_id), 30, "a reauth flow")
    assert flow["step_id"] == "reauth_confirm"
    url = f"/api/config/config_entries/flow/{flow['flow_id']}"
    result = hass.request("POST", url, {"api_key": "key-one"})
    assert result["errors"] == {"api_key": "invalid_api_key"}
    result = hass.request("POST", url, {"api_key": "key-two"})
    assert (result["type"], result["reason"]) == ("abort", "reauth_successful")
    # Reloaded with the new key: its backfill uses it (the flow's check was the first use).
    wait_until(lambda: storage.used("ange-e2e", "key-two") >= 2, 30, "a backfill with key-two")
    hass.wait_loaded(entry_id)
    assert reauth_flow(hass, entry_id) is None

    # Reconfigure: another application; an empty API key field keeps the stored key.
    result = hass.request(
        "POST", "/api/config/config_entries/flow", {"handler": "ange_iot", "entry_id": entry_id}
    )
    assert result["step_id"] == "reconfigure"
    result = hass.request(
        "POST",
        f"/api/config/config_entries/flow/{result['flow_id']}",
        {"application_id": "ange-e2e-two", "backfill": True, "host": storage.host},
    )
    assert (result["type"], result["reason"]) == ("abort", "reconfigure_successful")
    wait_until(
        lambda: storage.used("ange-e2e-two", "key-two") >= 2, 30, "a backfill of ange-e2e-two"
    )
    hass.wait_loaded(entry_id)
    assert not [a for a, key in storage.requests if key not in ("key-one", "key-two")]

    problems = log_check.take()
    reports = [line for line in problems if develop.REPORT_MARK in line]
    assert [line for line in problems if line not in reports] == []
    if reports:
        raise DeprecationReports("\n".join(reports))


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
