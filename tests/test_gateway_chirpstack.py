"""ChirpStack v4 gateways: the MQTT integration and the HTTP integration (webhook)."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Callable
import copy
from dataclasses import dataclass
from datetime import timedelta
import json
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_IGNORE,
    SOURCE_INTEGRATION_DISCOVERY,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryData,
)
from homeassistant.const import CONF_NAME, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClientGenerator,
)

from custom_components.ange_iot.angelib.codecs import elsys
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.pipeline import Outcome
from custom_components.ange_iot.const import (
    CONF_APPLICATION_ID,
    CONF_DEV_EUI,
    CONF_GATEWAY,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    CONF_SECRET,
    CONF_SILENCE_LIMIT,
    CONF_TOPIC_TEMPLATE,
    CONF_WEBHOOK_ID,
    DOMAIN,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    MAX_BODY_BYTES,
    SECRET_HEADER,
    SUBENTRY_DEVICE,
)
from custom_components.ange_iot.gateway.chirpstack import (
    ChirpStackHttpGateway,
    ChirpStackMqttGateway,
)
from custom_components.ange_iot.gateway.hub import GatewayHub
from custom_components.ange_iot.router import get_router

from .common import LogRecords, capture_logs, home_assistant_restarts
from .conftest import START

# Activity and per-uplink timestamp entities are off by default (privacy, logbook):
# these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

APP = "ca739e26-7b67-4f14-b69e-d568c22a5a75"  # the sheet's application
OTHER_APP = "17c82e96-be03-4f38-aef3-f83d48582d97"
ERS = "1000000000000001"  # the sheet's Elsys ERS
LITE = "0101010101010101"  # the sheet's status example
UNKNOWN = "a81758fffe0a9999"
HOOK = "chirpstack-test-hook"
SECRET = "Zq3-very-secret-value-9xK"

# The fact sheet's example `up` (shared/specs/lns-messages.md); `time` is set to "now".
SHEET_UP: dict[str, Any] = {
    "deduplicationId": "57433366-50a6-4dc2-8145-2df1bbc70d9e",
    "time": "2023-05-22T07:47:05.404859+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "ChirpStack",
        "applicationId": APP,
        "applicationName": "Chirpstack application",
        "deviceProfileId": "605d08d4-65f5-4d2c-8a5a-3d2457662f79",
        "deviceProfileName": "Elsys ERS Sound",
        "deviceName": "Device name",
        "devEui": ERS,
        "tags": {},
    },
    "devAddr": "20000001",
    "adr": True,
    "dr": 5,
    "fCnt": 4,
    "fPort": 85,
    "confirmed": False,
    "data": "AQDiAikEACcFBgcNYhUHEA==",
    "rxInfo": [
        {
            "gatewayId": "6a7e111a10000000",
            "uplinkId": 24022,
            "rssi": -35,
            "snr": 11.5,
            "channel": 2,
            "rfChain": 1,
            "context": "EFwMtA==",
            "crcStatus": "CRC_OK",
        }
    ],
    "txInfo": {
        "frequency": 868500000,
        "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}},
    },
}
SHEET_STATUS: dict[str, Any] = {
    "deduplicationId": "bf2a9746-1c8b-49be-a92e-f0b89c8534e4",
    "time": "2022-07-18T09:35:06.927172638+00:00",
    "deviceInfo": {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "ChirpStack",
        "applicationId": APP,
        "applicationName": "Test application",
        "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
        "deviceProfileName": "Test device-profile",
        "deviceName": "Test device",
        "devEui": LITE,
    },
    "margin": 10,
    "batteryLevel": 88.3,
}
SHEET_VALUES = {
    "temperature": "22.6",
    "humidity": "41",
    "illuminance": "39",
    "motion_count": "6",
    "battery_voltage": "3.426",
}


def up(dev_eui: str = ERS, **changes: Any) -> dict[str, Any]:
    """The sheet's `up` event for ``dev_eui``, stamped now; ``None`` drops a field."""
    event = copy.deepcopy(SHEET_UP)
    event["time"] = dt_util.utcnow().isoformat()
    event["deviceInfo"]["devEui"] = dev_eui
    for name, value in changes.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def elsys_up(fcnt: int, temperature: float, dev_eui: str = ERS) -> dict[str, Any]:
    """An `up` of an Elsys ERS reporting ``temperature`` (and nothing else)."""
    payload = elsys.encode({"temperature": temperature, "humidity": 40})
    return up(dev_eui, fCnt=fcnt, fPort=5, data=_b64(payload), deduplicationId=f"dedup-{fcnt}")


def join(dev_eui: str = ERS) -> dict[str, Any]:
    """A `join` event (proto3 JSON as ChirpStack v4 sends it)."""
    info = copy.deepcopy(SHEET_UP["deviceInfo"])
    info["devEui"] = dev_eui
    return {
        "deduplicationId": "c9dbe358-2578-4fb7-b295-66b44edc45a6",
        "time": dt_util.utcnow().isoformat(),
        "deviceInfo": info,
        "devAddr": "00189440",
    }


def _b64(payload: bytes) -> str:
    return base64.b64encode(payload).decode()


def _device(dev_eui: str, title: str, model: str = "elsys_ers") -> ConfigSubentryData:
    return ConfigSubentryData(
        data={CONF_DEV_EUI: dev_eui, CONF_MODEL: model, CONF_REPORT_INTERVAL: 600},
        subentry_type=SUBENTRY_DEVICE,
        title=title,
        unique_id=dev_eui,
    )


DEVICES = [_device(ERS, "Lgh 1101 hall"), _device(LITE, "Lgh 1102 sovrum", "elsys_ers_lite")]


def mqtt_config_entry(
    *,
    template: str = chirpstack.DEFAULT_EVENT_TOPIC,
    application_id: str | None = APP,
    subentries: list[ConfigSubentryData] | None = None,
) -> MockConfigEntry:
    """A ChirpStack MQTT gateway entry as the config flow creates it."""
    topic = chirpstack.subscription_topic(template, application_id)
    return MockConfigEntry(
        domain=DOMAIN,
        title="ChirpStack MQTT",
        unique_id=f"{GATEWAY_CHIRPSTACK_MQTT}:{topic}",
        data={
            CONF_GATEWAY: GATEWAY_CHIRPSTACK_MQTT,
            CONF_TOPIC_TEMPLATE: template,
            CONF_APPLICATION_ID: application_id,
        },
        options={CONF_SILENCE_LIMIT: 60},
        subentries_data=DEVICES if subentries is None else subentries,
    )


def http_config_entry(
    *,
    application_id: str | None = None,
    subentries: list[ConfigSubentryData] | None = None,
    webhook_id: str = HOOK,
) -> MockConfigEntry:
    """A ChirpStack HTTP gateway entry as the config flow creates it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="ChirpStack HTTP",
        unique_id=f"{GATEWAY_CHIRPSTACK_HTTP}:{webhook_id}",
        data={
            CONF_GATEWAY: GATEWAY_CHIRPSTACK_HTTP,
            CONF_WEBHOOK_ID: webhook_id,
            CONF_SECRET: SECRET,
            CONF_APPLICATION_ID: application_id,
        },
        options={CONF_SILENCE_LIMIT: 60},
        subentries_data=DEVICES if subentries is None else subentries,
    )


@pytest.fixture
def mqtt_entry() -> MockConfigEntry:
    """The ChirpStack MQTT gateway (application filter on) with two devices."""
    return mqtt_config_entry()


@pytest.fixture
def http_entry() -> MockConfigEntry:
    """The ChirpStack HTTP gateway (no application filter) with two devices."""
    return http_config_entry()


@pytest.fixture(autouse=True)
async def _frozen(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> AsyncGenerator[None]:
    """Every test starts at the same moment.

    At the end a second passes, so MQTT's one-shot misc timer (a mocked client never
    reschedules it) does not linger under the frozen clock.
    """
    freezer.move_to(START)
    yield
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
    await hass.async_block_till_done()


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> MockConfigEntry:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


def _body(event: dict[str, Any] | bytes | str) -> bytes:
    if isinstance(event, dict):
        return json.dumps(event).encode()
    return event.encode() if isinstance(event, str) else event


@dataclass
class Sender:
    """Delivers ChirpStack events over one transport, as ChirpStack would."""

    hass: HomeAssistant
    entry: MockConfigEntry
    kind: str
    client: Any = None

    @property
    def hub(self) -> GatewayHub:
        hub: GatewayHub = self.entry.runtime_data
        return hub

    async def send(
        self,
        event: dict[str, Any] | bytes | str,
        name: str = "up",
        *,
        dev_eui: str | None = None,
        app: str = APP,
        topic: str | None = None,
    ) -> int | None:
        """Publish on the event topic (MQTT) or POST with ?event= (HTTP)."""
        if self.kind == GATEWAY_CHIRPSTACK_MQTT:
            if topic is None:
                if dev_eui is None:
                    dev_eui = event["deviceInfo"]["devEui"] if isinstance(event, dict) else ERS
                topic = chirpstack.topic_for(app, dev_eui, name)
            async_fire_mqtt_message(self.hass, topic, _body(event))
            await self.hass.async_block_till_done()
            return None
        return await self.post(event, f"?event={name}")

    async def post(
        self,
        event: dict[str, Any] | bytes | str,
        query: str = "?event=up",
        *,
        headers: dict[str, str] | None = None,
        webhook_id: str = HOOK,
    ) -> int:
        """POST to the webhook with the secret header (unless ``headers`` replace it)."""
        resp = await self.client.post(
            f"/api/webhook/{webhook_id}{query}",
            data=_body(event),
            headers={SECRET_HEADER: SECRET} if headers is None else headers,
        )
        await self.hass.async_block_till_done()
        return resp.status


@pytest.fixture(params=[GATEWAY_CHIRPSTACK_MQTT, GATEWAY_CHIRPSTACK_HTTP])
async def sender(
    request: pytest.FixtureRequest,
    hass: HomeAssistant,
    mock_hass_config: None,
    mqtt_mock_entry: MqttMockHAClientGenerator,
    hass_client_no_auth: ClientSessionGenerator,
) -> Sender:
    """Each test once per transport: the entry is loaded with DEVICES."""
    kind: str = request.param
    if kind == GATEWAY_CHIRPSTACK_MQTT:
        await mqtt_mock_entry()
        return Sender(hass, await _setup(hass, mqtt_config_entry()), kind)
    entry = await _setup(hass, http_config_entry())
    return Sender(hass, entry, kind, await hass_client_no_auth())


@pytest.fixture
def log_records(caplog: pytest.LogCaptureFixture) -> LogRecords:
    """The integration's log records (pytest's caplog, from the fixture's setup on)."""
    return LogRecords(caplog)


def _eid(registry: er.EntityRegistry, dev_eui: str, key: str, platform: str = "sensor") -> str:
    found = registry.async_get_entity_id(platform, DOMAIN, f"{dev_eui}_{key}")
    assert found is not None, (dev_eui, key)
    return found


def _state(hass: HomeAssistant, eid: str) -> str:
    state = hass.states.get(eid)
    assert state is not None, eid
    return state.state


def _values(hass: HomeAssistant, registry: er.EntityRegistry, dev_eui: str = ERS) -> dict[str, str]:
    return {key: _state(hass, _eid(registry, dev_eui, key)) for key in SHEET_VALUES}


def _discovery_flows(hass: HomeAssistant) -> list[Any]:
    return [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["handler"] == DOMAIN and flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
    ]


# -- messages that update devices ------------------------------------------------------


async def test_sheet_up_updates_entities(
    hass: HomeAssistant, sender: Sender, entity_registry: er.EntityRegistry
) -> None:
    """The fact sheet's example uplink (fPort 85) sets the Elsys ERS's entities."""
    assert _state(hass, _eid(entity_registry, ERS, "temperature")) == STATE_UNAVAILABLE
    status = await sender.send(up())
    assert status in (None, 200)
    assert _values(hass, entity_registry) == SHEET_VALUES
    assert _state(hass, _eid(entity_registry, ERS, "rssi")) == "-35.0"
    hub = sender.hub
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    assert hub.stats.uplinks == 1
    assert hub.stats.rejected_total == 0
    # The other device of the entry is untouched.
    assert _state(hass, _eid(entity_registry, LITE, "temperature")) == STATE_UNAVAILABLE


async def test_status_sets_lns_battery(
    hass: HomeAssistant,
    entity_registry_enabled_by_default: None,
    sender: Sender,
    entity_registry: er.EntityRegistry,
) -> None:
    """A `status` event gives the battery level as the network server sees it."""
    battery = _eid(entity_registry, LITE, "lns_battery")
    assert _state(hass, battery) in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    await sender.send(SHEET_STATUS, "status")
    assert sender.hub.device(LITE).state.values["lns_battery"] == 88
    await sender.send(up(LITE))  # the device reports: available, battery shown
    assert _state(hass, battery) == "88"
    assert sender.hub.stats.rejected_total == 0
    assert sender.hub.stats.uplinks == 1  # a status event is no uplink


async def test_join_clears_dedup_memory(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, sender: Sender
) -> None:
    """After a (re)join an fCnt reset with a frame seen before is applied, not dropped."""
    hub = sender.hub
    await sender.send(up(fCnt=1))
    first_seen = hub.device(ERS).state.last_seen
    assert hub.pipeline.counters[Outcome.APPLIED] == 1

    await _tick(hass, freezer, timedelta(minutes=10))
    await sender.send(up(fCnt=1))
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 1  # same fCnt and frame: a retry
    assert hub.device(ERS).state.last_seen == first_seen

    await sender.send(join(), "join")
    await _tick(hass, freezer, timedelta(minutes=10))
    await sender.send(up(fCnt=1))
    assert hub.pipeline.counters[Outcome.APPLIED] == 2
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 1
    assert hub.device(ERS).state.last_seen == dt_util.utcnow()
    assert hub.stats.rejected_total == 0
    assert hub.stats.uplinks == 3  # the join is no uplink


@pytest.mark.parametrize("name", ["ack", "txack", "log", "integration", "location"])
async def test_ignored_events_change_nothing(
    hass: HomeAssistant, sender: Sender, name: str, log_records: LogRecords
) -> None:
    """Events we do not use are counted as traffic, never as rejections, and not parsed."""
    hub = sender.hub
    for body in (up(), b"\x0a\x10protobuf\xff"):
        status = await sender.send(body, name, dev_eui=ERS)
        assert status in (None, 200)
    assert hub.stats.messages == 2
    assert hub.stats.rejected_total == 0
    assert hub.stats.uplinks == 0
    assert hub.pipeline.counters[Outcome.APPLIED] == 0
    assert hub.device(ERS).state.last_seen is None
    assert log_records.messages(logging.WARNING) == []


async def test_messages_for_one_device_applied_in_order(
    hass: HomeAssistant, sender: Sender, entity_registry: er.EntityRegistry
) -> None:
    """Back-to-back uplinks end with the last one's values; a late one does not roll back."""
    temperature = _eid(entity_registry, ERS, "temperature")
    for fcnt, value in ((10, 20.0), (11, 21.0), (12, 22.5)):
        await sender.send(elsys_up(fcnt, value))
    assert _state(hass, temperature) == "22.5"
    late = elsys_up(9, 19.0)
    late["time"] = (dt_util.utcnow() - timedelta(minutes=10)).isoformat()
    await sender.send(late)
    assert _state(hass, temperature) == "22.5"
    assert sender.hub.pipeline.counters[Outcome.APPLIED] == 4
    assert sender.hub.device(ERS).state.fcnt == 12


# -- bad input ---------------------------------------------------------------------------


BAD_INPUTS: dict[str, Callable[[], bytes | str]] = {
    "malformed_json": lambda: b'{"deviceInfo": {"devEui": "1000000000000001"',
    "protobuf": lambda: b"\n$57433366-50a6-4dc2\x12\x10\x00\x01\xff",
    "not_an_object": lambda: b"[1, 2, 3]",
    "missing_dev_eui": lambda: json.dumps(up(deviceInfo={"applicationId": APP})),
    "bad_base64": lambda: json.dumps(up(data="not base64!")),
    "bad_time": lambda: json.dumps(up(time="yesterday")),
    "codec_rejected": lambda: json.dumps(up(data=_b64(b"\x01\x00"))),
}
EXPECTED_LOG = {
    "malformed_json": "malformed JSON",
    "protobuf": "Switch the integration to JSON",
    "not_an_object": "expected a JSON object",
    "missing_dev_eui": "DevEUI must be a string",
    "bad_base64": "'data' is not valid base64",
    "bad_time": "invalid 'time'",
    "codec_rejected": "Rejected a frame from Lgh 1101 hall",
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
async def test_bad_input_is_rejected(
    hass: HomeAssistant,
    sender: Sender,
    case: str,
    log_records: LogRecords,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each kind of bad message is counted, logged once with the reason, and applies nothing."""
    hub = sender.hub
    status = await sender.send(BAD_INPUTS[case](), dev_eui=ERS)
    assert status in (None, 200)  # a network server would only retry the same bad message
    assert hub.stats.rejected_total == 1
    assert hub.pipeline.counters[Outcome.APPLIED] == 0
    assert hub.device(ERS).state.last_seen is None
    warnings = log_records.messages(logging.WARNING)
    assert len(warnings) == 1
    assert EXPECTED_LOG[case] in warnings[0]
    # A good message afterwards is applied.
    await sender.send(up())
    assert _values(hass, entity_registry) == SHEET_VALUES
    assert hub.stats.rejected_total == 1


async def test_unknown_event_is_rejected(hass: HomeAssistant, sender: Sender) -> None:
    """An event name ChirpStack does not send is a rejection (a misconfigured URL/topic)."""
    await sender.send(up(), "upp", dev_eui=ERS)
    assert sender.hub.stats.rejected_total == 1
    assert sender.hub.device(ERS).state.last_seen is None


async def test_flood_of_bad_messages(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sender: Sender,
    log_records: LogRecords,
    entity_registry: er.EntityRegistry,
) -> None:
    """200 bad messages: 200 rejected, one warning per kind and key an hour, then a good one."""
    hub = sender.hub
    for index in range(100):
        await sender.send(b"{broken", dev_eui=ERS)
        await sender.send(json.dumps(up(fCnt=index + 1, data=_b64(b"\x01\x00"))))
    assert hub.stats.rejected_total == 200
    assert hub.stats.rejected["malformed"] == 100
    assert hub.stats.rejected["decode"] == 100
    assert len(log_records.messages(logging.WARNING)) == 2  # one malformed, one decode
    assert len(log_records.messages(logging.DEBUG, "malformed JSON")) == 99
    await _tick(hass, freezer, timedelta(seconds=1))
    rejected = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{sender.entry.entry_id}_rejected_messages"
    )
    assert rejected is not None
    assert _state(hass, rejected) == "200"

    await sender.send(up(fCnt=500))
    assert _values(hass, entity_registry) == SHEET_VALUES

    # An hour later the same trouble is news again.
    await _tick(hass, freezer, timedelta(minutes=61))
    await sender.send(b"{broken", dev_eui=ERS)
    assert len(log_records.messages(logging.WARNING, "malformed JSON")) == 2
    assert hub.stats.rejected_total == 201


# -- MQTT only ---------------------------------------------------------------------------


async def test_mqtt_subscribes_to_the_application_topic(
    hass: HomeAssistant, mqtt_mock: Any, mqtt_entry: MockConfigEntry
) -> None:
    """The subscription filters by application: other applications never arrive."""
    await _setup(hass, mqtt_entry)
    hub: GatewayHub = mqtt_entry.runtime_data
    gateway = hub.gateway
    assert isinstance(gateway, ChirpStackMqttGateway)
    assert gateway.topic == f"application/{APP}/device/+/event/+"
    assert gateway.connection_info() == {"topic": gateway.topic}
    diagnostics = gateway.diagnostics()
    assert APP not in json.dumps(diagnostics)
    assert diagnostics["subscribed"] is True

    async_fire_mqtt_message(hass, chirpstack.topic_for(OTHER_APP, ERS), _body(up()))
    await hass.async_block_till_done()
    assert hub.stats.messages == 0

    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, ERS), _body(up()))
    await hass.async_block_till_done()
    assert hub.stats.messages == 1
    assert hub.pipeline.counters[Outcome.APPLIED] == 1


async def test_mqtt_all_applications_without_filter(hass: HomeAssistant, mqtt_mock: Any) -> None:
    """Without an application id every application's events are read."""
    entry = await _setup(hass, mqtt_config_entry(application_id=None))
    hub: GatewayHub = entry.runtime_data
    assert isinstance(hub.gateway, ChirpStackMqttGateway)
    assert hub.gateway.topic == "application/+/device/+/event/+"
    async_fire_mqtt_message(hass, chirpstack.topic_for(OTHER_APP, ERS), _body(up()))
    await hass.async_block_till_done()
    assert hub.pipeline.counters[Outcome.APPLIED] == 1


async def test_mqtt_custom_template_filters_on_the_body(
    hass: HomeAssistant, mqtt_mock: Any, log_records: LogRecords
) -> None:
    """A template without {applicationId} cannot filter: the body's applicationId does."""
    entry = await _setup(
        hass, mqtt_config_entry(template="lora/{{ dev_eui }}/{{ event }}", application_id=APP)
    )
    hub: GatewayHub = entry.runtime_data
    assert isinstance(hub.gateway, ChirpStackMqttGateway)
    assert hub.gateway.topic == "lora/+/+"
    other = up()
    other["deviceInfo"]["applicationId"] = OTHER_APP
    async_fire_mqtt_message(hass, f"lora/{ERS}/up", _body(other))
    await hass.async_block_till_done()
    assert hub.stats.messages == 1
    assert hub.stats.rejected_total == 0
    assert hub.pipeline.counters[Outcome.APPLIED] == 0

    async_fire_mqtt_message(hass, f"lora/{ERS}/up", _body(up()))
    await hass.async_block_till_done()
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    # The topic's DevEUI is still checked against the body's.
    async_fire_mqtt_message(hass, f"lora/{LITE}/up", _body(up(fCnt=5)))
    await hass.async_block_till_done()
    assert hub.stats.rejected_total == 1
    assert log_records.messages(logging.WARNING, "does not match")


async def test_mqtt_topic_body_dev_eui_mismatch(
    hass: HomeAssistant, mqtt_mock: Any, mqtt_entry: MockConfigEntry, log_records: LogRecords
) -> None:
    """An event whose topic names another device than its body is rejected, not applied."""
    await _setup(hass, mqtt_entry)
    hub: GatewayHub = mqtt_entry.runtime_data
    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, LITE), _body(up(ERS)))
    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, "not-an-eui"), _body(up(ERS)))
    await hass.async_block_till_done()
    assert hub.stats.rejected_total == 2
    assert hub.pipeline.counters[Outcome.APPLIED] == 0
    assert hub.device(ERS).state.last_seen is None
    assert hub.device(LITE).state.last_seen is None
    warnings = log_records.messages(logging.WARNING)
    assert len(warnings) == 2  # keyed by the topic's DevEUI (or the topic): two keys
    assert f"topic DevEUI {LITE} does not match the body's deviceInfo.devEui {ERS}" in warnings[0]


async def test_mqtt_not_configured_aborts_flow(hass: HomeAssistant) -> None:
    """Without Home Assistant's MQTT integration the MQTT step aborts with a link."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_CHIRPSTACK_MQTT}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_mqtt_flow_creates_entry(hass: HomeAssistant, mqtt_mock: Any) -> None:
    """The MQTT step: a bad template is an error, then the entry is created and runs."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_CHIRPSTACK_MQTT}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_NAME: "Site A", CONF_TOPIC_TEMPLATE: "application/+/device/{devEui}/event/{event}"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOPIC_TEMPLATE: "invalid_topic_template"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "Site A",
            CONF_TOPIC_TEMPLATE: chirpstack.DEFAULT_EVENT_TOPIC,
            CONF_APPLICATION_ID: f" {APP} ",
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"] == {
        CONF_GATEWAY: GATEWAY_CHIRPSTACK_MQTT,
        CONF_TOPIC_TEMPLATE: chirpstack.DEFAULT_EVENT_TOPIC,
        CONF_APPLICATION_ID: APP,
    }
    await hass.async_block_till_done()
    entry = result["result"]
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data.gateway, ChirpStackMqttGateway)

    # The same subscription twice is refused.
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_CHIRPSTACK_MQTT}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_NAME: "B",
            CONF_TOPIC_TEMPLATE: chirpstack.DEFAULT_EVENT_TOPIC,
            "application_id": APP,
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_setup_not_ready_without_mqtt(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """No MQTT integration: setup is retried (ConfigEntryNotReady), cleanly each time."""
    mqtt_entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(mqtt_entry.entry_id)
    await hass.async_block_till_done()
    assert mqtt_entry.state is ConfigEntryState.SETUP_RETRY
    assert mqtt_entry.reason == "Home Assistant's MQTT integration is not available yet"
    uplinks = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{mqtt_entry.entry_id}_uplinks"
    )
    assert uplinks is not None
    state = hass.states.get(uplinks)
    assert state is not None
    assert state.state == STATE_UNAVAILABLE
    assert state.attributes.get("restored")  # no live entity of the failed attempt
    # The retry finds the platforms unloaded again (no "already been setup" error).
    await _tick(hass, freezer, timedelta(seconds=30))
    assert mqtt_entry.state is ConfigEntryState.SETUP_RETRY
    assert get_router(hass).owners == {}


async def test_setup_retries_until_mqtt_is_available(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: Any,
    mqtt_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """MQTT's client not available at first: retried, then subscribed and receiving."""
    mqtt_entry.add_to_hass(hass)
    with patch(
        "custom_components.ange_iot.gateway.chirpstack.mqtt.async_wait_for_mqtt_client",
        return_value=False,
    ):
        assert not await hass.config_entries.async_setup(mqtt_entry.entry_id)
        await hass.async_block_till_done()
    assert mqtt_entry.state is ConfigEntryState.SETUP_RETRY

    await _tick(hass, freezer, timedelta(seconds=30))
    assert mqtt_entry.state is ConfigEntryState.LOADED
    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, ERS), _body(up()))
    await hass.async_block_till_done()
    assert mqtt_entry.runtime_data.pipeline.counters[Outcome.APPLIED] == 1
    assert _values(hass, entity_registry) == SHEET_VALUES


async def test_mqtt_reconfigure_topic_template(
    hass: HomeAssistant, mqtt_mock: Any, mqtt_entry: MockConfigEntry
) -> None:
    """Reconfigure: an invalid template is an error; a valid one resubscribes."""
    await _setup(hass, mqtt_entry)
    result = await mqtt_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_TOPIC_TEMPLATE: "cs/{applicationId}/{devEui}-{event}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TOPIC_TEMPLATE: "invalid_topic_template"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOPIC_TEMPLATE: "cs/{applicationId}/{devEui}/{event}", CONF_APPLICATION_ID: APP},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert mqtt_entry.data[CONF_TOPIC_TEMPLATE] == "cs/{applicationId}/{devEui}/{event}"
    assert mqtt_entry.unique_id == f"{GATEWAY_CHIRPSTACK_MQTT}:cs/{APP}/+/+"
    assert mqtt_entry.state is ConfigEntryState.LOADED
    hub: GatewayHub = mqtt_entry.runtime_data

    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, ERS), _body(up()))
    await hass.async_block_till_done()
    assert hub.stats.messages == 0  # the old topic is no longer read
    async_fire_mqtt_message(hass, f"cs/{APP}/{ERS}/up", _body(up()))
    await hass.async_block_till_done()
    assert hub.pipeline.counters[Outcome.APPLIED] == 1


async def test_mqtt_reconfigure_to_a_taken_topic_aborts(
    hass: HomeAssistant, mqtt_mock: Any, mqtt_entry: MockConfigEntry
) -> None:
    """Reconfiguring onto another gateway's subscription is refused."""
    other = await _setup(hass, mqtt_config_entry(application_id=OTHER_APP, subentries=[]))
    await _setup(hass, mqtt_entry)
    result = await mqtt_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_TOPIC_TEMPLATE: chirpstack.DEFAULT_EVENT_TOPIC, CONF_APPLICATION_ID: OTHER_APP},
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert mqtt_entry.data[CONF_APPLICATION_ID] == APP
    assert other.state is ConfigEntryState.LOADED


# -- HTTP only ---------------------------------------------------------------------------


async def test_http_flow_creates_entry(hass: HomeAssistant) -> None:
    """The HTTP step creates an id and a secret and shows where ChirpStack should post."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_CHIRPSTACK_HTTP}
    )
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NAME: "ChirpStack"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data[CONF_GATEWAY] == GATEWAY_CHIRPSTACK_HTTP
    assert len(data[CONF_SECRET]) >= 24
    placeholders = result["description_placeholders"]
    assert placeholders is not None
    assert placeholders["url"].endswith(f"/api/webhook/{data[CONF_WEBHOOK_ID]}")
    assert placeholders["event"] == "?event=up"
    assert placeholders["secret"] == data[CONF_SECRET]
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.fixture
async def http_client(
    hass: HomeAssistant, http_entry: MockConfigEntry, hass_client_no_auth: ClientSessionGenerator
) -> Sender:
    """The HTTP gateway loaded, with a client posting to it."""
    await _setup(hass, http_entry)
    return Sender(hass, http_entry, GATEWAY_CHIRPSTACK_HTTP, await hass_client_no_auth())


async def test_http_missing_event_query(
    hass: HomeAssistant, http_client: Sender, log_records: LogRecords
) -> None:
    """Without ?event= the body cannot be interpreted: rejected with a hint."""
    assert await http_client.post(up(), "") == 200
    assert http_client.hub.stats.rejected_total == 1
    assert http_client.hub.device(ERS).state.last_seen is None
    assert log_records.messages(logging.WARNING, "missing ?event=")


async def test_http_oversized_body(
    hass: HomeAssistant, http_client: Sender, log_records: LogRecords
) -> None:
    """More than 64 KiB: 413 without parsing; counted as oversized."""
    body = json.dumps(up(padding="x" * MAX_BODY_BYTES)).encode()
    assert await http_client.post(body) == 413
    assert http_client.hub.stats.rejected == {"oversized": 1}
    assert http_client.hub.device(ERS).state.last_seen is None

    # Streamed without a Content-Length: still cut off.
    async def chunks() -> Any:
        for start in range(0, len(body), 4096):
            yield body[start : start + 4096]

    resp = await http_client.client.post(
        f"/api/webhook/{HOOK}?event=up", data=chunks(), headers={SECRET_HEADER: SECRET}
    )
    await hass.async_block_till_done()
    assert resp.status == 413
    assert http_client.hub.stats.rejected == {"oversized": 2}
    assert len(log_records.messages(logging.WARNING, "oversized")) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}, {"X-Other": SECRET}],
    ids=["missing", "wrong", "prefix", "other_header"],
)
async def test_http_secret_required(
    hass: HomeAssistant,
    http_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    headers: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A missing or wrong secret: 401, counted, nothing applied, the secret never logged."""
    with capture_logs(caplog, everything=True) as records:
        await _setup(hass, http_entry)
        sender = Sender(hass, http_entry, GATEWAY_CHIRPSTACK_HTTP, await hass_client_no_auth())
        assert await sender.post(up(), headers=headers) == 401
        assert await sender.post(up(), headers=headers) == 401
        assert await sender.post(up()) == 200
    hub = sender.hub
    assert hub.stats.rejected == {"unauthorized": 2}
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    assert records.records, "nothing captured"
    unauthorized = [r for r in records.records if "unauthorized" in r.getMessage()]
    assert [r.levelno for r in unauthorized] == [logging.WARNING, logging.DEBUG]
    for record in records.records:
        text = record.getMessage() + str(record.args) + str(record.exc_text)
        assert SECRET not in text, record.getMessage()
        assert SECRET[:-1] not in text, record.getMessage()


async def test_http_application_filter(hass: HomeAssistant, hass_client_no_auth: Any) -> None:
    """With an application id, other applications' events are ignored quietly."""
    entry = await _setup(hass, http_config_entry(application_id=APP.upper()))
    sender = Sender(hass, entry, GATEWAY_CHIRPSTACK_HTTP, await hass_client_no_auth())
    other = up()
    other["deviceInfo"]["applicationId"] = OTHER_APP
    assert await sender.post(other) == 200
    other_status = copy.deepcopy(SHEET_STATUS)
    other_status["deviceInfo"]["applicationId"] = OTHER_APP
    assert await sender.post(other_status, "?event=status") == 200
    hub = sender.hub
    assert hub.stats.messages == 2
    assert hub.stats.rejected_total == 0
    assert hub.stats.uplinks == 0
    assert "lns_battery" not in hub.device(LITE).state.values
    assert await sender.post(up()) == 200
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    gateway = hub.gateway
    assert isinstance(gateway, ChirpStackHttpGateway)
    assert gateway.diagnostics() == {
        "transport": "webhook",
        "registered": True,
        "application_filter": True,
    }
    info = gateway.connection_info()
    assert info["url"].endswith(f"/api/webhook/{HOOK}")
    assert SECRET not in json.dumps(info)


# -- both gateways at once ---------------------------------------------------------------


async def test_same_uplink_over_mqtt_and_http_applied_once(
    hass: HomeAssistant,
    mqtt_mock: Any,
    mqtt_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
) -> None:
    """ChirpStack with both integrations on: the device's owner applies each uplink once."""
    await _setup(hass, mqtt_entry)
    http = await _setup(hass, http_config_entry(subentries=[_device(UNKNOWN, "Lgh 1103 hall")]))
    sender = Sender(hass, http, GATEWAY_CHIRPSTACK_HTTP, await hass_client_no_auth())
    owner: GatewayHub = mqtt_entry.runtime_data

    event = up()
    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, ERS), _body(event))
    await hass.async_block_till_done()
    assert await sender.post(event) == 200
    assert owner.pipeline.counters[Outcome.APPLIED] == 1
    assert owner.pipeline.counters[Outcome.DUPLICATE] == 1
    assert sender.hub.stats.uplinks == 1  # handed on to the owner
    assert sender.hub.pipeline.counters[Outcome.APPLIED] == 0
    assert _values(hass, entity_registry) == SHEET_VALUES
    # In the other order too.
    second = elsys_up(5, 21.5)
    assert await sender.post(second) == 200
    async_fire_mqtt_message(hass, chirpstack.topic_for(APP, ERS), _body(second))
    await hass.async_block_till_done()
    assert owner.pipeline.counters[Outcome.APPLIED] == 2
    assert owner.pipeline.counters[Outcome.DUPLICATE] == 2
    assert _state(hass, _eid(entity_registry, ERS, "temperature")) == "21.5"
    # No discovery for a device another gateway owns.
    assert _discovery_flows(hass) == []


# -- unknown devices ---------------------------------------------------------------------


async def test_unknown_device_discovery(
    hass: HomeAssistant, sender: Sender, entity_registry: er.EntityRegistry
) -> None:
    """An unknown DevEUI raises one discovery flow; confirming it adds the device."""
    event = up(UNKNOWN)
    event["deviceInfo"]["deviceProfileName"] = "Elsys ERS"
    for fcnt in (1, 2, 3):
        await sender.send({**event, "fCnt": fcnt})
    flows = _discovery_flows(hass)
    assert len(flows) == 1
    assert flows[0]["context"]["unique_id"] == f"device:{UNKNOWN}"
    assert sender.hub.pipeline.counters[Outcome.UNKNOWN_DEVICE] == 3
    assert sender.hub.stats.rejected_total == 0

    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery_confirm"
    assert result["description_placeholders"] == {
        "dev_eui": UNKNOWN,
        "gateway": sender.entry.title,
        "profile": "Elsys ERS",
        "fields": "-",  # the sheet's uplink carries no decoded object
    }
    suggested = {
        str(marker): (marker.description or {}).get("suggested_value")
        for marker in result["data_schema"].schema
    }
    assert suggested[CONF_MODEL] == "elsys_ers"

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_NAME: "Lgh 1103 hall", CONF_MODEL: "elsys_ers"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "device_added"
    await hass.async_block_till_done()
    assert sender.entry.state is ConfigEntryState.LOADED
    added = [s for s in sender.entry.subentries.values() if s.unique_id == UNKNOWN]
    assert len(added) == 1
    assert added[0].title == "Lgh 1103 hall"
    assert added[0].data[CONF_MODEL] == "elsys_ers"

    await sender.send({**up(UNKNOWN), "fCnt": 10})
    assert _values(hass, entity_registry, UNKNOWN) == SHEET_VALUES
    assert _discovery_flows(hass) == []


async def test_unknown_device_ignored(hass: HomeAssistant, sender: Sender) -> None:
    """Ignoring the discovery stops the notice, also after a restart."""
    await sender.send(up(UNKNOWN))
    flows = _discovery_flows(hass)
    assert len(flows) == 1
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IGNORE},
        data={"unique_id": flows[0]["context"]["unique_id"], "title": "Unknown device"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert _discovery_flows(hass) == []

    get_router(hass).discovered.clear()  # as after a restart
    await sender.send(up(UNKNOWN, fCnt=7))
    await hass.async_block_till_done()
    assert _discovery_flows(hass) == []
    assert sender.entry.state is ConfigEntryState.LOADED


async def test_unknown_device_without_known_profile(hass: HomeAssistant, sender: Sender) -> None:
    """A profile name we do not know leaves the model for the user to pick."""
    event = up(UNKNOWN)
    event["deviceInfo"]["deviceProfileName"] = "Test device-profile"
    await sender.send(event)
    flows = _discovery_flows(hass)
    assert len(flows) == 1
    result = await hass.config_entries.flow.async_configure(flows[0]["flow_id"])
    suggested = {
        str(marker): (marker.description or {}).get("suggested_value")
        for marker in result["data_schema"].schema
    }
    assert suggested[CONF_MODEL] is None


# -- gateway health ----------------------------------------------------------------------


async def test_gateway_counters(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sender: Sender,
    entity_registry: er.EntityRegistry,
) -> None:
    """Uplinks, rejected messages and last message, written at most once a second."""
    entry_id = sender.entry.entry_id

    def counter(key: str) -> str:
        found = entity_registry.async_get_entity_id("sensor", DOMAIN, f"{entry_id}_{key}")
        assert found is not None, key
        return _state(hass, found)

    assert (counter("uplinks"), counter("rejected_messages")) == ("0", "0")
    assert counter("last_message") == STATE_UNKNOWN

    await sender.send(up())
    await sender.send(b"{broken", dev_eui=ERS)
    await sender.send(elsys_up(5, 20.0))
    assert counter("uplinks") == "0"  # throttled
    await _tick(hass, freezer, timedelta(seconds=1))
    assert counter("uplinks") == "2"
    assert counter("rejected_messages") == "1"
    assert dt_util.parse_datetime(counter("last_message")) == START.replace(microsecond=0)

    await _tick(hass, freezer, timedelta(minutes=5))
    await sender.send(elsys_up(6, 20.5))
    await _tick(hass, freezer, timedelta(seconds=1))
    assert counter("uplinks") == "3"
    assert dt_util.parse_datetime(counter("last_message")) == START + timedelta(
        minutes=5, seconds=1
    )


async def test_gateway_silence_raises_repair(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sender: Sender,
    issue_registry: ir.IssueRegistry,
) -> None:
    """No message for longer than the silence limit: a repair issue, gone with the next one."""
    issue_id = f"gateway_silent_{sender.entry.entry_id}"
    await sender.send(up())
    await _tick(hass, freezer, timedelta(minutes=59))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await _tick(hass, freezer, timedelta(minutes=2))
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "gateway_silent"
    assert sender.hub.silent

    await sender.send(b"{any message, even a bad one", dev_eui=ERS)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert not sender.hub.silent
    # The watchdog runs again.
    await _tick(hass, freezer, timedelta(minutes=61))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


async def test_gateway_silence_counts_only_while_home_assistant_runs(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sender: Sender,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Home Assistant down 3 h: the gateway gets its whole limit again, no notice at start.

    Nobody listened while Home Assistant was down, so its silence then says nothing about
    the gateway (and care checks must not take every sensor for unheard because of it).
    """
    issue_id = f"gateway_silent_{sender.entry.entry_id}"
    await sender.send(up())
    assert await hass.config_entries.async_unload(sender.entry.entry_id)
    await hass.async_block_till_done()
    home_assistant_restarts(hass)
    freezer.tick(timedelta(hours=3))
    assert await hass.config_entries.async_setup(sender.entry.entry_id)
    await hass.async_block_till_done()
    await _tick(hass, freezer, timedelta(minutes=59))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    assert not sender.hub.silent
    await _tick(hass, freezer, timedelta(minutes=2))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None
    assert sender.hub.silent


async def test_unload_stops_receiving(
    hass: HomeAssistant, sender: Sender, entity_registry: er.EntityRegistry
) -> None:
    """After unload a message does nothing (the webhook answers 200 like for any id)."""
    hub = sender.hub
    await sender.send(up())
    assert await hass.config_entries.async_unload(sender.entry.entry_id)
    await hass.async_block_till_done()
    assert sender.entry.state is ConfigEntryState.NOT_LOADED
    messages = hub.stats.messages
    status = await sender.send(elsys_up(9, 30.0))
    assert status in (None, 200)
    assert hub.stats.messages == messages
    assert hub.device(ERS).state.fcnt == 4

    # Loaded again, it receives again (the webhook id can be registered again).
    assert await hass.config_entries.async_setup(sender.entry.entry_id)
    await hass.async_block_till_done()
    await sender.send(elsys_up(10, 30.0))
    assert sender.hub.device(ERS).state.fcnt == 10
    assert _state(hass, _eid(entity_registry, ERS, "temperature")) == "30.0"


# -- options -----------------------------------------------------------------------------


async def test_options_flow(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sender: Sender,
    issue_registry: ir.IssueRegistry,
) -> None:
    """The gateway options: the silence limit, with the connection details shown."""
    await sender.send(up())  # the silence watchdog runs (60 min)
    result = await hass.config_entries.options.async_init(sender.entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "connection"
    connection = result["description_placeholders"]["connection"]
    if sender.kind == GATEWAY_CHIRPSTACK_MQTT:
        assert connection == f"MQTT: application/{APP}/device/+/event/+"
    else:
        assert f"/api/webhook/{HOOK}?event=up" in connection
        assert f"{SECRET_HEADER}: {SECRET}" in connection
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_SILENCE_LIMIT: 15}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert sender.entry.options[CONF_SILENCE_LIMIT] == 15
    assert sender.hub.silence_limit == timedelta(minutes=15)
    assert sender.entry.state is ConfigEntryState.LOADED
    # The shorter limit applies at once, not after the old one ran out.
    issue_id = f"gateway_silent_{sender.entry.entry_id}"
    await _tick(hass, freezer, timedelta(minutes=14))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await _tick(hass, freezer, timedelta(minutes=2))
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is not None


@pytest.fixture
async def diagnostics_component(hass: HomeAssistant) -> None:
    """Diagnostics set up before a webhook test client freezes the HTTP routes."""
    assert await async_setup_component(hass, "diagnostics", {})


async def test_diagnostics_reveal_no_identities(
    hass: HomeAssistant,
    diagnostics_component: None,
    sender: Sender,
    hass_client: ClientSessionGenerator,
) -> None:
    """Diagnostics show the transport and counters, not the application, hook or secret."""
    await sender.send(up())
    await sender.send(b"{broken", dev_eui=ERS)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, sender.entry)
    gateway = diagnostics["gateway"]
    assert gateway["type"] == sender.kind
    assert gateway["uplinks"] == 1
    assert gateway["rejected"] == {"malformed": 1}
    if sender.kind == GATEWAY_CHIRPSTACK_MQTT:
        assert gateway["transport"] == {
            "transport": "mqtt",
            "topic": "application/**REDACTED**/device/+/event/+",
            "subscribed": True,
            "application_filter": True,
        }
    else:
        assert gateway["transport"] == {
            "transport": "webhook",
            "registered": True,
            "application_filter": False,
        }
    text = json.dumps(diagnostics)
    for identity in (APP, HOOK, SECRET, ERS, LITE):
        assert identity not in text
