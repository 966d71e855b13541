"""The Things Stack v3 gateways: webhook, MQTT and the storage-integration backfill."""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator, Generator
import copy
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import json
import logging
from typing import Any
from unittest.mock import AsyncMock, patch

from aiohttp import ClientConnectionError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import (
    SOURCE_REAUTH,
    SOURCE_USER,
    ConfigEntryState,
    ConfigSubentryData,
)
from homeassistant.const import CONF_NAME, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_mqtt_message,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    MqttMockHAClient,
)

from custom_components.ange_iot.angelib.codecs import elsys
from custom_components.ange_iot.angelib.pipeline import Outcome
from custom_components.ange_iot.const import (
    CONF_API_KEY,
    CONF_APPLICATION_ID,
    CONF_BACKFILL,
    CONF_DEV_EUI,
    CONF_GATEWAY,
    CONF_HOST,
    CONF_MODEL,
    CONF_REPORT_INTERVAL,
    CONF_SECRET,
    CONF_SILENCE_LIMIT,
    CONF_TENANT,
    CONF_WEBHOOK_ID,
    DOMAIN,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    MAX_BODY_BYTES,
    SECRET_HEADER,
    SUBENTRY_DEVICE,
)
from custom_components.ange_iot.diagnostics import async_get_config_entry_diagnostics
from custom_components.ange_iot.gateway.hub import GatewayHub
from custom_components.ange_iot.gateway.tts import (
    BACKFILL_OVERLAP,
    FIRST_BACKFILL,
    PAGE_SIZE,
    TtsGateway,
    TtsMqttGateway,
    TtsWebhookGateway,
)

from .common import capture_logs

# Activity and per-uplink timestamp entities are off by default (privacy, logbook):
# these tests read them.
pytestmark = pytest.mark.usefixtures("entity_registry_enabled_by_default")

APP = "application-tts-name"  # the sheet's application
SOUND = "1000000000000001"  # the sheet's Elsys (ERS Sound)
ERS = "a81758fffe0a2002"
LITE = "a81758fffe0a2003"
HOOK = "tts-test-hook"
SECRET = "Tq8-very-secret-value-4mZ"
HOST = "eu1.cloud.thethings.network"
API_KEY = "NNSXS.TESTKEYTESTKEY.SECRETPARTOFTHEKEY"
NEW_KEY = "NNSXS.NEWKEYNEWKEY.ANOTHERSECRETPART"
STORAGE = f"https://{HOST}/api/v3/as/applications/{APP}/packages/storage/uplink_message"
TOPIC = f"v3/{APP}@ttn/devices/eui-1000000000000001/up"

# The fact sheet's example uplink (shared/specs/lns-messages.md), verbatim.
SHEET_UPLINK: dict[str, Any] = {
    "end_device_ids": {
        "device_id": "eui-1000000000000001",
        "application_ids": {"application_id": APP},
        "dev_eui": "1000000000000001",
        "join_eui": "2000000000000001",
        "dev_addr": "20000001",
    },
    "correlation_ids": ["as:up:01H0S7ZJQ9MQPMVY49FT3SE07M"],
    "received_at": "2023-05-19T05:33:35.848446463Z",
    "uplink_message": {
        "session_key_id": "AYfqmb0pc/1uRZv9xUydgQ==",
        "f_port": 85,
        "f_cnt": 10335,
        "frm_payload": "AQDiAikEACcFBgcNYhUHEA==",
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": "eui-6a7e111a10000000", "eui": "6A7E111A10000000"},
                "rssi": -35,
                "channel_rssi": -35,
                "snr": 13.2,
                "received_at": "2023-05-19T05:33:35.607383681Z",
            }
        ],
        "settings": {
            "data_rate": {
                "lora": {"bandwidth": 125000, "spreading_factor": 7, "coding_rate": "4/5"}
            },
            "frequency": "867100000",
        },
        "received_at": "2023-05-19T05:33:35.641841782Z",
        "consumed_airtime": "0.056576s",
    },
}
SHEET_RECEIVED = datetime(2023, 5, 19, 5, 33, 35, 641841, tzinfo=UTC)
SHEET_VALUES = {
    "temperature": "22.6",
    "humidity": "41",
    "illuminance": "39",
    "motion_count": "6",
    "battery_voltage": "3.426",
    "sound_peak": "7",
    "sound_avg": "16",
}
# A Monday morning in Ånge (UTC).
NOW = datetime(2026, 11, 23, 6, 30, tzinfo=UTC)


def _tts_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def uplink(
    *,
    dev_eui: str = ERS,
    fcnt: int,
    temperature: float,
    when: datetime,
    device_id: str | None = None,
    app: str = APP,
    simulated: bool = False,
) -> dict[str, Any]:
    """The sheet's uplink shape for another device, frame and time (an Elsys report).

    ``uplink_message.received_at`` (what the integration calls the uplink's time) is
    ``when``; the application server stamps its own ``received_at`` 0.2 s later.
    """
    message = copy.deepcopy(SHEET_UPLINK)
    ids = message["end_device_ids"]
    ids["dev_eui"] = dev_eui.upper()
    ids["device_id"] = device_id or f"eui-{dev_eui}"
    ids["application_ids"]["application_id"] = app
    message["correlation_ids"] = [f"as:up:{dev_eui}-{fcnt}"]
    message["received_at"] = _tts_time(when + timedelta(milliseconds=200))
    up = message["uplink_message"]
    up["f_port"] = 5
    up["f_cnt"] = fcnt
    up["frm_payload"] = base64.b64encode(
        elsys.encode({"temperature": temperature, "humidity": 40})
    ).decode()
    up["received_at"] = _tts_time(when)
    up["rx_metadata"][0]["received_at"] = _tts_time(when - timedelta(milliseconds=30))
    if simulated:
        message["simulated"] = True
    return message


def stream(*messages: dict[str, Any] | str) -> str:
    """A storage integration response: one ``{"result": ...}`` per line (raw lines as is)."""
    lines = [m if isinstance(m, str) else json.dumps({"result": m}) for m in messages]
    return "\n".join(lines) + "\n"


def _device(dev_eui: str, title: str, model: str) -> ConfigSubentryData:
    return ConfigSubentryData(
        data={CONF_DEV_EUI: dev_eui, CONF_MODEL: model, CONF_REPORT_INTERVAL: 600},
        subentry_type=SUBENTRY_DEVICE,
        title=title,
        unique_id=dev_eui,
    )


DEVICES = [
    _device(SOUND, "Lgh 1101 hall", "elsys_ers_sound"),
    _device(ERS, "Lgh 1102 hall", "elsys_ers"),
    _device(LITE, "Lgh 1103 sovrum", "elsys_ers_lite"),
]


def tts_config_entry(
    kind: str,
    *,
    backfill: bool = False,
    application_id: str | None = APP,
    tenant: str | None = "ttn",
) -> MockConfigEntry:
    """A The Things Stack gateway entry as the config flow creates it."""
    data: dict[str, Any] = {
        CONF_GATEWAY: kind,
        CONF_APPLICATION_ID: application_id,
        CONF_BACKFILL: backfill,
        CONF_HOST: HOST if backfill else None,
        CONF_API_KEY: API_KEY if backfill else None,
    }
    if kind == GATEWAY_TTS_WEBHOOK:
        data |= {CONF_WEBHOOK_ID: HOOK, CONF_SECRET: SECRET}
        unique_id = f"{kind}:{HOOK}"
    else:
        data[CONF_TENANT] = tenant
        unique_id = f"{kind}:v3/{application_id}@{tenant}/devices/+/up"
    return MockConfigEntry(
        domain=DOMAIN,
        title="The Things Stack",
        unique_id=unique_id,
        data=data,
        options={CONF_SILENCE_LIMIT: 60},
        subentries_data=DEVICES,
    )


@pytest.fixture
def webhook_entry() -> MockConfigEntry:
    """A TTS webhook gateway without backfill, filtering on the sheet's application."""
    return tts_config_entry(GATEWAY_TTS_WEBHOOK)


@pytest.fixture
def backfill_entry() -> MockConfigEntry:
    """A TTS webhook gateway that fetches missed uplinks from the storage integration."""
    return tts_config_entry(GATEWAY_TTS_WEBHOOK, backfill=True)


@pytest.fixture
def mqtt_entry() -> MockConfigEntry:
    """A TTS MQTT gateway on The Things Network (tenant ttn), without backfill."""
    return tts_config_entry(GATEWAY_TTS_MQTT)


@pytest.fixture(autouse=True)
def _frozen(freezer: FrozenDateTimeFactory) -> None:
    freezer.move_to(NOW)


@pytest.fixture
def state_changes(hass: HomeAssistant) -> list[tuple[str, str]]:
    """(entity id, new state) of every state change, in order."""
    changes: list[tuple[str, str]] = []

    @callback
    def _record(event: Event[Any]) -> None:
        if (new := event.data["new_state"]) is not None:
            changes.append((event.data["entity_id"], new.state))

    hass.bus.async_listen(EVENT_STATE_CHANGED, _record)
    return changes


async def _settle(hass: HomeAssistant) -> None:
    await hass.async_block_till_done(wait_background_tasks=True)


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> GatewayHub:
    if entry.state is ConfigEntryState.NOT_LOADED and entry.entry_id not in {
        e.entry_id for e in hass.config_entries.async_entries(DOMAIN)
    }:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await _settle(hass)
    assert entry.state is ConfigEntryState.LOADED
    hub: GatewayHub = entry.runtime_data
    return hub


async def _tick(hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await _settle(hass)


def _state(hass: HomeAssistant, dev_eui: str, key: str, platform: str = "sensor") -> str:
    entity_id = er.async_get(hass).async_get_entity_id(platform, DOMAIN, f"{dev_eui}_{key}")
    assert entity_id is not None, f"no {key} entity for {dev_eui}"
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


def _entity_id(hass: HomeAssistant, dev_eui: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{dev_eui}_{key}")
    assert entity_id is not None
    return entity_id


def _storage_calls(aioclient_mock: AiohttpClientMocker) -> list[tuple[Any, Any]]:
    """(URL, headers) of each storage request made."""
    return [(url, headers) for _method, url, _data, headers in aioclient_mock.mock_calls]


def _after(url: Any) -> datetime:
    after = dt_util.parse_datetime(url.query["after"])
    assert after is not None
    return after


# -- webhook --------------------------------------------------------------------------


@pytest.fixture
async def post(hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator) -> Generator[Any]:
    """POST a body to the gateway's webhook, with the right secret unless told otherwise."""
    client = None

    async def _post(
        body: dict[str, Any] | bytes | str,
        *,
        secret: str | None = SECRET,
        hook: str = HOOK,
    ) -> int:
        nonlocal client
        if client is None:
            client = await hass_client_no_auth()
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        response = await client.post(f"/api/webhook/{hook}", data=data, headers=headers)
        await _settle(hass)
        return response.status

    return _post


async def test_webhook_sheet_uplink_updates_entities(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, webhook_entry: MockConfigEntry, post: Any
) -> None:
    """The sheet's uplink (upper-case DevEUI in end_device_ids) updates its device."""
    freezer.move_to(SHEET_RECEIVED + timedelta(seconds=10))
    hub = await _setup(hass, webhook_entry)
    assert isinstance(hub.gateway, TtsWebhookGateway)

    assert await post(SHEET_UPLINK) == HTTPStatus.OK

    for key, value in SHEET_VALUES.items():
        assert _state(hass, SOUND, key) == value, key
    assert _state(hass, SOUND, "rssi") == "-35.0"
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    assert hub.stats.rejected_total == 0


async def test_webhook_identifies_hardware_by_dev_eui_not_device_id(
    hass: HomeAssistant, webhook_entry: MockConfigEntry, post: Any
) -> None:
    """The user-chosen device id means nothing; ``end_device_ids.dev_eui`` decides."""
    await _setup(hass, webhook_entry)
    # A device id that looks like another configured device's DevEUI.
    message = uplink(dev_eui=ERS, fcnt=1, temperature=19.5, when=NOW, device_id=f"eui-{LITE}")

    assert await post(message) == HTTPStatus.OK

    assert _state(hass, ERS, "temperature") == "19.5"
    assert _state(hass, LITE, "temperature") == "unavailable"


def _without_dev_eui() -> dict[str, Any]:
    message = copy.deepcopy(SHEET_UPLINK)
    del message["end_device_ids"]["dev_eui"]
    return message


def _bad_base64() -> dict[str, Any]:
    message = copy.deepcopy(SHEET_UPLINK)
    message["uplink_message"]["frm_payload"] = "not base64!"
    return message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(b'{"end_device_ids": {', "malformed JSON", id="malformed_json"),
        pytest.param(_without_dev_eui(), "end_device_ids.dev_eui", id="missing_dev_eui"),
        pytest.param(_bad_base64(), "frm_payload", id="bad_base64"),
        pytest.param(b"\x0a\x14\x0a\x12", "Protocol Buffers", id="protobuf"),
    ],
)
async def test_webhook_bad_input_is_counted_and_logged(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    webhook_entry: MockConfigEntry,
    post: Any,
    body: dict[str, Any] | bytes,
    expected: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bad body answers 200 (no retries), is counted as rejected and logged once."""
    freezer.move_to(SHEET_RECEIVED + timedelta(seconds=10))
    hub = await _setup(hass, webhook_entry)

    with capture_logs(caplog) as logs:
        assert await post(body) == HTTPStatus.OK
        assert await post(body) == HTTPStatus.OK

    assert hub.stats.rejected["malformed"] == 2
    assert hub.stats.messages == 2
    warnings = logs.messages(logging.WARNING, "rejected a message")
    assert len(warnings) == 1  # the second one only at debug
    assert expected in warnings[0]
    # The good uplink still works afterwards.
    assert await post(SHEET_UPLINK) == HTTPStatus.OK
    assert _state(hass, SOUND, "temperature") == "22.6"


async def test_webhook_oversized_body(
    hass: HomeAssistant, webhook_entry: MockConfigEntry, post: Any
) -> None:
    """More than 64 KiB: 413, counted, nothing parsed."""
    hub = await _setup(hass, webhook_entry)
    message = uplink(fcnt=1, temperature=20.0, when=NOW)
    message["padding"] = "x" * MAX_BODY_BYTES

    assert await post(message) == HTTPStatus.REQUEST_ENTITY_TOO_LARGE

    assert hub.stats.rejected["oversized"] == 1
    assert hub.pipeline.counters[Outcome.APPLIED] == 0


@pytest.mark.parametrize("secret", [None, "wrong-secret-value-123", SECRET[:-1]])
async def test_webhook_secret_required_and_never_logged(
    hass: HomeAssistant,
    webhook_entry: MockConfigEntry,
    post: Any,
    secret: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Missing or wrong secret: 401, counted, and neither secret appears in the log."""
    hub = await _setup(hass, webhook_entry)
    message = uplink(fcnt=1, temperature=20.0, when=NOW)

    with capture_logs(caplog) as logs:
        assert await post(message, secret=secret) == HTTPStatus.UNAUTHORIZED
        assert await post(message) == HTTPStatus.OK

    assert hub.stats.rejected["unauthorized"] == 1
    assert hub.pipeline.counters[Outcome.APPLIED] == 1
    assert logs.messages(logging.WARNING, "unauthorized")
    text = "\n".join(r.getMessage() for r in logs.records)
    assert SECRET not in text
    if secret:
        assert secret not in text


async def test_webhook_other_application_ignored_quietly(
    hass: HomeAssistant,
    webhook_entry: MockConfigEntry,
    post: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With an application filter, another application's uplinks are no error."""
    hub = await _setup(hass, webhook_entry)

    with capture_logs(caplog) as logs:
        status = await post(uplink(fcnt=1, temperature=20.0, when=NOW, app="other-application"))

    assert status == HTTPStatus.OK
    assert hub.stats.rejected_total == 0
    assert hub.pipeline.counters[Outcome.APPLIED] == 0
    assert not logs.messages(logging.WARNING)
    assert _state(hass, ERS, "temperature") == "unavailable"


async def test_webhook_without_filter_takes_any_application(hass: HomeAssistant, post: Any) -> None:
    """No application id configured (backfill off): every application's uplinks count."""
    await _setup(hass, tts_config_entry(GATEWAY_TTS_WEBHOOK, application_id=None))

    assert await post(uplink(fcnt=1, temperature=20.5, when=NOW, app="other-app")) == 200

    assert _state(hass, ERS, "temperature") == "20.5"


async def test_webhook_join_and_other_kinds_quiet(
    hass: HomeAssistant, webhook_entry: MockConfigEntry, post: Any
) -> None:
    """A join accept clears the dedup memory; downlink events are ignored; no rejections."""
    hub = await _setup(hass, webhook_entry)
    assert await post(uplink(fcnt=0, temperature=20.0, when=NOW)) == 200
    ids = copy.deepcopy(SHEET_UPLINK["end_device_ids"])
    ids["dev_eui"] = ERS.upper()
    join = {
        "end_device_ids": ids,
        "received_at": _tts_time(NOW),
        "join_accept": {
            "session_key_id": "AYfqmb0pc/1uRZv9xUydgQ==",
            "received_at": _tts_time(NOW),
        },
    }
    ack = {"end_device_ids": ids, "received_at": _tts_time(NOW), "downlink_ack": {"f_port": 1}}

    assert await post(join) == 200
    assert await post(ack) == 200
    # After the rejoin the frame counter restarts: the same fCnt with the same frame is new.
    assert await post(uplink(fcnt=0, temperature=20.0, when=NOW + timedelta(minutes=10))) == 200

    assert hub.stats.rejected_total == 0
    assert hub.pipeline.counters[Outcome.APPLIED] == 2
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 0


async def test_webhook_unregistered_on_unload(
    hass: HomeAssistant, webhook_entry: MockConfigEntry, post: Any
) -> None:
    """After unloading, the webhook id is free again (HA answers 200 for unknown ids)."""
    hub = await _setup(hass, webhook_entry)
    assert await hass.config_entries.async_unload(webhook_entry.entry_id)

    assert await post(uplink(fcnt=1, temperature=20.0, when=NOW)) == HTTPStatus.OK
    assert hub.stats.messages == 0


# -- MQTT -----------------------------------------------------------------------------


@pytest.fixture
async def mqtt_mock(hass: HomeAssistant, mqtt_mock: MqttMockHAClient) -> AsyncGenerator[Any]:
    """Home Assistant's MQTT, mocked; its 1 s client timer is stopped after the test.

    The mocked paho client never reports its socket closed, so HA's MQTT client would
    leave that timer running (a lingering-timer failure at teardown).
    """
    yield mqtt_mock
    client = hass.data["mqtt"].client
    if client._misc_timer is not None:
        client._misc_timer.cancel()
        client._misc_timer = None


async def test_mqtt_sheet_uplink_updates_entities(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mqtt_mock: MqttMockHAClient,
    mqtt_entry: MockConfigEntry,
) -> None:
    """The sheet's uplink on its topic updates the device; QoS 0, raw bytes."""
    freezer.move_to(SHEET_RECEIVED + timedelta(seconds=10))
    hub = await _setup(hass, mqtt_entry)
    gateway = hub.gateway
    assert isinstance(gateway, TtsMqttGateway)
    assert gateway.topic == f"v3/{APP}@ttn/devices/+/up"
    mqtt_mock.async_subscribe.assert_any_call(
        gateway.topic, gateway._async_message_received, 0, None, None
    )

    async_fire_mqtt_message(hass, TOPIC, json.dumps(SHEET_UPLINK))
    await _settle(hass)

    for key, value in SHEET_VALUES.items():
        assert _state(hass, SOUND, key) == value, key


async def test_mqtt_device_id_is_not_the_hardware_id(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mqtt_entry: MockConfigEntry
) -> None:
    """A device named "kitchen" in TTS is found by its DevEUI."""
    await _setup(hass, mqtt_entry)
    message = uplink(dev_eui=ERS, fcnt=3, temperature=21.5, when=NOW, device_id="kitchen")

    async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/kitchen/up", json.dumps(message))
    await _settle(hass)

    assert _state(hass, ERS, "temperature") == "21.5"


async def test_mqtt_bad_messages_and_other_topics(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    mqtt_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bad payloads are counted per device id; other applications are not subscribed."""
    hub = await _setup(hass, mqtt_entry)
    message = uplink(dev_eui=ERS, fcnt=3, temperature=21.5, when=NOW, device_id="kitchen")

    with capture_logs(caplog) as logs:
        async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/kitchen/up", b"{not json")
        # The topic names another device than the body.
        async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/hall/up", json.dumps(message))
        # Not subscribed: another application, and this application's downlink events.
        async_fire_mqtt_message(hass, "v3/other-app@ttn/devices/kitchen/up", json.dumps(message))
        async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/kitchen/down/ack", json.dumps(message))
        await _settle(hass)

    assert hub.stats.messages == 2
    assert hub.stats.rejected["malformed"] == 2
    warnings = logs.messages(logging.WARNING, "rejected a message")
    assert len(warnings) == 2  # keyed by device id: "kitchen" and "hall" each once
    assert any("does not match" in w for w in warnings)
    assert _state(hass, ERS, "temperature") == "unavailable"


async def test_mqtt_open_source_topic_has_no_tenant(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient
) -> None:
    """An open-source deployment (no tenant) publishes on v3/{app}/devices/..."""
    hub = await _setup(hass, tts_config_entry(GATEWAY_TTS_MQTT, tenant=None))
    message = uplink(dev_eui=ERS, fcnt=3, temperature=18.0, when=NOW)

    async_fire_mqtt_message(hass, f"v3/{APP}/devices/eui-{ERS}/up", json.dumps(message))
    await _settle(hass)

    assert hub.gateway is not None
    assert hub.gateway.connection_info() == {"topic": f"v3/{APP}/devices/+/up"}
    assert _state(hass, ERS, "temperature") == "18.0"


async def test_mqtt_not_ready_retries_cleanly(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mqtt_entry: MockConfigEntry
) -> None:
    """MQTT unavailable: setup is retried later, and the retry sets everything up again."""
    mqtt_entry.add_to_hass(hass)
    with patch(
        "homeassistant.components.mqtt.async_wait_for_mqtt_client",
        AsyncMock(return_value=False),
    ):
        await hass.config_entries.async_setup(mqtt_entry.entry_id)
        await _settle(hass)
    assert mqtt_entry.state is ConfigEntryState.SETUP_RETRY
    assert mqtt_entry.error_reason_translation_key == "mqtt_not_ready"

    await hass.config_entries.async_reload(mqtt_entry.entry_id)
    await _settle(hass)

    assert mqtt_entry.state is ConfigEntryState.LOADED
    message = uplink(dev_eui=ERS, fcnt=3, temperature=18.0, when=NOW)
    async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/eui-{ERS}/up", json.dumps(message))
    await _settle(hass)
    assert _state(hass, ERS, "temperature") == "18.0"


async def test_mqtt_unsubscribes_on_unload(
    hass: HomeAssistant, mqtt_mock: MqttMockHAClient, mqtt_entry: MockConfigEntry
) -> None:
    """After unloading, messages on the topic reach nothing."""
    hub = await _setup(hass, mqtt_entry)
    assert await hass.config_entries.async_unload(mqtt_entry.entry_id)

    async_fire_mqtt_message(hass, TOPIC, json.dumps(SHEET_UPLINK))
    await _settle(hass)

    assert hub.stats.messages == 0


# -- backfill -------------------------------------------------------------------------


async def test_backfill_on_start_applies_missed_uplinks_in_order(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    state_changes: list[tuple[str, str]],
) -> None:
    """First start: the last hour is fetched; the uplinks apply oldest first, once."""
    # Within the devices' silence limit (3 × 10 min), so the values show.
    times = [NOW - timedelta(minutes=m) for m in (15, 10, 5)]
    # The stream is not in time order: the integration sorts it.
    aioclient_mock.get(
        STORAGE,
        text=stream(
            uplink(fcnt=12, temperature=22.0, when=times[2]),
            uplink(fcnt=10, temperature=20.0, when=times[0]),
            uplink(fcnt=11, temperature=21.0, when=times[1]),
            uplink(dev_eui=LITE, fcnt=5, temperature=18.5, when=times[1]),
        ),
    )

    hub = await _setup(hass, backfill_entry)

    [(url, headers)] = _storage_calls(aioclient_mock)
    assert str(url).startswith(STORAGE)
    assert url.query["order"] == "received_at"
    assert url.query["limit"] == str(PAGE_SIZE)
    assert _after(url) == NOW - FIRST_BACKFILL
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    temperature = _entity_id(hass, ERS, "temperature")
    assert [s for e, s in state_changes if e == temperature and s != "unavailable"] == [
        "20.0",
        "21.0",
        "22.0",
    ]
    assert _state(hass, LITE, "temperature") == "18.5"
    assert hub.pipeline.counters[Outcome.APPLIED] == 4
    assert hub.backfill_position == times[2]
    assert hub.stats.messages == 0  # a backfill is not live traffic


async def test_backfill_replay_adds_nothing(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    state_changes: list[tuple[str, str]],
) -> None:
    """The same stored uplinks fetched again change nothing; the overlap is one minute."""
    body = stream(
        uplink(fcnt=10, temperature=20.0, when=NOW - timedelta(minutes=30)),
        uplink(fcnt=11, temperature=21.0, when=NOW - timedelta(minutes=20)),
    )
    aioclient_mock.get(STORAGE, text=body)
    hub = await _setup(hass, backfill_entry)
    assert hub.gateway is not None
    changes = len(state_changes)

    hub.gateway.async_traffic_resumed()
    await _settle(hass)

    calls = _storage_calls(aioclient_mock)
    assert len(calls) == 2
    assert _after(calls[1][0]) == NOW - timedelta(minutes=20) - BACKFILL_OVERLAP
    assert hub.pipeline.counters[Outcome.APPLIED] == 2
    assert hub.pipeline.counters[Outcome.DUPLICATE] == 2
    assert len(state_changes) == changes
    assert _state(hass, ERS, "temperature") == "21.0"


async def test_backfill_position_survives_restart(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    hass_storage: dict[str, Any],
    backfill_entry: MockConfigEntry,
) -> None:
    """The position is stored; after a restart the fetch continues from it."""
    newest = NOW - timedelta(minutes=20)
    body = stream(
        uplink(fcnt=10, temperature=20.0, when=NOW - timedelta(minutes=30)),
        uplink(fcnt=11, temperature=21.0, when=newest),
    )
    aioclient_mock.get(STORAGE, text=body)
    await _setup(hass, backfill_entry)
    assert await hass.config_entries.async_unload(backfill_entry.entry_id)
    stored = hass_storage[f"{DOMAIN}.{backfill_entry.entry_id}.devices"]["data"]
    assert stored["backfill"] == {"last_received_at": newest.isoformat()}

    # Three hours later: what was stored meanwhile, plus the overlap replayed.
    freezer.tick(timedelta(hours=3))
    aioclient_mock.clear_requests()
    missed = NOW + timedelta(hours=3, minutes=-5)
    aioclient_mock.get(
        STORAGE,
        text=stream(
            uplink(fcnt=11, temperature=21.0, when=newest),
            uplink(fcnt=12, temperature=23.5, when=missed),
        ),
    )
    hub = await _setup(hass, backfill_entry)

    [(url, _headers)] = _storage_calls(aioclient_mock)
    assert _after(url) == newest - BACKFILL_OVERLAP
    assert _state(hass, ERS, "temperature") == "23.5"
    assert hub.backfill_position == missed


async def test_backfill_bad_lines_counted_rest_applied(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A line that cannot be parsed is a rejected message; the other lines still apply."""
    aioclient_mock.get(
        STORAGE,
        text=stream(
            uplink(fcnt=10, temperature=20.0, when=NOW - timedelta(minutes=30)),
            '{"result": {"end_device_ids": {',
            json.dumps({"result": _without_dev_eui()}),
            json.dumps({"error": {"code": 5, "message": "not found"}}),
            uplink(fcnt=11, temperature=21.0, when=NOW - timedelta(minutes=20)),
        ),
    )

    with capture_logs(caplog) as logs:
        hub = await _setup(hass, backfill_entry)

    assert hub.stats.rejected["malformed"] == 3
    assert hub.stats.malformed == 3
    assert len(logs.messages(logging.WARNING, "storage integration")) == 1
    assert _state(hass, ERS, "temperature") == "21.0"
    assert hub.pipeline.counters[Outcome.APPLIED] == 2


async def test_backfill_refused_key_starts_reauth(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """401: a reauth flow starts, the failure is logged once, the key never."""
    aioclient_mock.get(STORAGE, status=HTTPStatus.UNAUTHORIZED)

    with capture_logs(caplog) as logs:
        hub = await _setup(hass, backfill_entry)
        assert hub.gateway is not None
        hub.gateway.async_traffic_resumed()
        await _settle(hass)

    assert aioclient_mock.call_count == 2
    flows = hass.config_entries.flow.async_progress()
    assert [(f["context"]["source"], f["context"]["entry_id"]) for f in flows] == [
        (SOURCE_REAUTH, backfill_entry.entry_id)
    ]
    assert len(logs.messages(logging.WARNING, "API key")) == 1
    assert API_KEY not in "\n".join(r.getMessage() for r in logs.records)
    assert backfill_entry.state is ConfigEntryState.LOADED  # live uplinks still work


@pytest.mark.parametrize(
    "failure",
    [
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR},
        {"status": HTTPStatus.NOT_FOUND},  # storage integration not enabled
        {"exc": TimeoutError()},
        {"exc": ClientConnectionError()},
    ],
)
async def test_backfill_failure_logged_once_and_retried(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    failure: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed fetch is logged once; the next resume tries again (and says it works)."""
    aioclient_mock.get(STORAGE, **failure)
    with capture_logs(caplog) as logs:
        hub = await _setup(hass, backfill_entry)
        gateway = hub.gateway
        assert isinstance(gateway, TtsGateway)
        gateway.async_traffic_resumed()
        await _settle(hass)
        assert len(logs.messages(logging.WARNING, "could not fetch missed uplinks")) == 1
        assert gateway.last_backfill["result"] == "failed"

        aioclient_mock.clear_requests()
        aioclient_mock.get(
            STORAGE, text=stream(uplink(fcnt=1, temperature=19.0, when=NOW - timedelta(minutes=5)))
        )
        gateway.async_traffic_resumed()
        await _settle(hass)

    assert _after(_storage_calls(aioclient_mock)[0][0]) == NOW - FIRST_BACKFILL
    assert _state(hass, ERS, "temperature") == "19.0"
    assert logs.messages(logging.INFO, "works again")
    assert not hass.config_entries.flow.async_progress()
    assert API_KEY not in "\n".join(r.getMessage() for r in logs.records)


async def test_backfill_after_silence(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    post: Any,
) -> None:
    """Messages arrive again after a silence: what was stored in between is fetched."""
    aioclient_mock.get(STORAGE, text="")
    hub = await _setup(hass, backfill_entry)
    live = NOW - timedelta(seconds=1)
    assert await post(uplink(fcnt=1, temperature=20.0, when=live)) == 200
    assert hub.backfill_position == live

    await _tick(hass, freezer, timedelta(minutes=61))
    assert hub.silent
    aioclient_mock.clear_requests()
    missed = NOW + timedelta(minutes=30)
    aioclient_mock.get(STORAGE, text=stream(uplink(fcnt=2, temperature=25.0, when=missed)))

    resumed = dt_util.utcnow()
    assert await post(uplink(fcnt=3, temperature=21.0, when=resumed)) == 200

    [(url, _headers)] = _storage_calls(aioclient_mock)
    assert _after(url) == live - BACKFILL_OVERLAP  # not moved by the message that resumed
    assert not hub.silent
    device = hub.device(ERS)
    assert device.state.fcnt == 3  # the missed uplink did not roll the newer one back
    assert _state(hass, ERS, "temperature") == "21.0"
    assert hub.pipeline.counters[Outcome.APPLIED] == 3
    assert hub.backfill_position == resumed


async def test_backfill_pages(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, backfill_entry: MockConfigEntry
) -> None:
    """A full page is followed by the next one, after the newest uplink of the page."""
    first = [
        uplink(fcnt=i, temperature=20.0, when=NOW - timedelta(minutes=50, seconds=-i))
        for i in range(PAGE_SIZE)
    ]
    last = NOW - timedelta(minutes=5)
    pages = iter([stream(*first), stream(uplink(fcnt=5000, temperature=24.0, when=last))])

    async def _respond(method: str, url: Any, data: Any) -> Any:
        from pytest_homeassistant_custom_component.test_util.aiohttp import (
            AiohttpClientMockResponse,
        )

        return AiohttpClientMockResponse(method, url, text=next(pages))

    aioclient_mock.get(STORAGE, side_effect=_respond)
    hub = await _setup(hass, backfill_entry)

    calls = _storage_calls(aioclient_mock)
    assert len(calls) == 2
    assert _after(calls[1][0]) == NOW - timedelta(minutes=50, seconds=-(PAGE_SIZE - 1))
    assert hub.pipeline.counters[Outcome.APPLIED] == PAGE_SIZE + 1
    assert _state(hass, ERS, "temperature") == "24.0"
    assert hub.backfill_position == last


async def test_backfill_simulated_uplinks_do_not_move_position(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
    post: Any,
) -> None:
    """Console-simulated uplinks are applied but never mark a gap as covered."""
    real = NOW - timedelta(minutes=30)
    aioclient_mock.get(
        STORAGE,
        text=stream(
            uplink(fcnt=1, temperature=20.0, when=real),
            uplink(fcnt=2, temperature=30.0, when=NOW - timedelta(minutes=10), simulated=True),
        ),
    )
    hub = await _setup(hass, backfill_entry)
    assert _state(hass, ERS, "temperature") == "30.0"
    assert hub.backfill_position == real

    status = await post(uplink(fcnt=3, temperature=31.0, when=NOW, simulated=True))

    assert status == HTTPStatus.OK
    assert _state(hass, ERS, "temperature") == "31.0"
    assert hub.backfill_position == real


async def test_backfill_off_makes_no_request(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, webhook_entry: MockConfigEntry
) -> None:
    """Without backfill the storage integration is never asked."""
    hub = await _setup(hass, webhook_entry)
    assert hub.gateway is not None
    hub.gateway.async_traffic_resumed()
    await _settle(hass)

    assert aioclient_mock.call_count == 0


async def test_backfill_over_mqtt(
    hass: HomeAssistant,
    mqtt_mock: MqttMockHAClient,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The MQTT gateway backfills the same way; a live uplink moves the position."""
    aioclient_mock.get(
        STORAGE, text=stream(uplink(fcnt=1, temperature=20.0, when=NOW - timedelta(minutes=9)))
    )
    hub = await _setup(hass, tts_config_entry(GATEWAY_TTS_MQTT, backfill=True))
    assert _state(hass, ERS, "temperature") == "20.0"

    message = uplink(fcnt=2, temperature=21.0, when=NOW)
    async_fire_mqtt_message(hass, f"v3/{APP}@ttn/devices/eui-{ERS}/up", json.dumps(message))
    await _settle(hass)

    assert _state(hass, ERS, "temperature") == "21.0"
    assert hub.backfill_position == NOW


async def test_diagnostics_and_connection_info_hold_no_secrets(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    backfill_entry: MockConfigEntry,
) -> None:
    """Neither the API key, the secret, the webhook id nor the host leak."""
    aioclient_mock.get(
        STORAGE, text=stream(uplink(fcnt=1, temperature=20.0, when=NOW - timedelta(minutes=9)))
    )
    hub = await _setup(hass, backfill_entry)
    assert hub.gateway is not None

    diagnostics = await async_get_config_entry_diagnostics(hass, backfill_entry)
    info = hub.gateway.connection_info()

    text = json.dumps(diagnostics) + json.dumps(hub.gateway.diagnostics())
    for secret in (API_KEY, SECRET, HOOK, HOST):
        assert secret not in text
    backfill = hub.gateway.diagnostics()["backfill"]
    assert isinstance(backfill, dict)
    assert backfill["enabled"] is True
    assert backfill["last_run"]["applied"] == 1
    assert info["url"].endswith(f"/api/webhook/{HOOK}")
    assert info["header"] == SECRET_HEADER
    assert SECRET not in json.dumps(info)


# -- config flow ----------------------------------------------------------------------


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Entries created by the flow are not set up."""
    with patch("custom_components.ange_iot.async_setup_entry", return_value=True) as mock:
        yield mock


def _flow_input(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        CONF_NAME: "Ånge TTN",
        CONF_APPLICATION_ID: APP,
        CONF_BACKFILL: True,
        CONF_HOST: f"https://{HOST}/",
        CONF_API_KEY: API_KEY,
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


async def _start_flow(hass: HomeAssistant, kind: str) -> dict[str, Any]:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": kind}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == kind
    return dict(result)


# (form input changes, storage response, field, error)
FLOW_ERRORS = [
    pytest.param({CONF_HOST: None}, None, CONF_HOST, "host_required", id="host_required"),
    pytest.param({CONF_HOST: " "}, None, CONF_HOST, "host_required", id="host_blank"),
    pytest.param({CONF_API_KEY: None}, None, CONF_API_KEY, "api_key_required", id="no_key"),
    pytest.param(
        {CONF_APPLICATION_ID: "Bad_App"},
        None,
        CONF_APPLICATION_ID,
        "invalid_application_id",
        id="invalid_application_id",
    ),
    pytest.param(
        {}, {"status": HTTPStatus.UNAUTHORIZED}, CONF_API_KEY, "invalid_api_key", id="401"
    ),
    pytest.param({}, {"status": HTTPStatus.FORBIDDEN}, CONF_API_KEY, "invalid_api_key", id="403"),
    pytest.param(
        {}, {"status": HTTPStatus.NOT_FOUND}, CONF_HOST, "cannot_connect", id="not_enabled"
    ),
    pytest.param({}, {"exc": TimeoutError()}, CONF_HOST, "cannot_connect", id="timeout"),
    pytest.param({CONF_HOST: "not a host"}, None, CONF_HOST, "cannot_connect", id="invalid_host"),
]


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(("changes", "response", "field", "error"), FLOW_ERRORS)
async def test_flow_tts_webhook_backfill_errors_and_recovery(
    hass: HomeAssistant,
    *,
    aioclient_mock: AiohttpClientMocker,
    changes: dict[str, Any],
    response: dict[str, Any] | None,
    field: str,
    error: str,
) -> None:
    """Each backfill setting error is shown on its field; fixing it creates the entry."""
    result = await _start_flow(hass, GATEWAY_TTS_WEBHOOK)
    if response is not None:
        aioclient_mock.get(STORAGE, **response)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _flow_input(**changes)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}

    aioclient_mock.clear_requests()
    aioclient_mock.get(STORAGE, text="")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], _flow_input())

    assert result["type"] is FlowResultType.CREATE_ENTRY
    [(url, headers)] = _storage_calls(aioclient_mock)
    assert url.query["limit"] == "1"
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    entry = result["result"]
    assert entry.data[CONF_HOST] == HOST
    assert entry.data[CONF_API_KEY] == API_KEY
    assert entry.data[CONF_APPLICATION_ID] == APP
    placeholders = result["description_placeholders"]
    assert placeholders["url"].endswith(f"/api/webhook/{entry.data[CONF_WEBHOOK_ID]}")
    assert placeholders["secret"] == entry.data[CONF_SECRET]
    assert placeholders["header"] == SECRET_HEADER


@pytest.mark.usefixtures("mock_setup_entry")
async def test_flow_tts_webhook_without_backfill(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Backfill off: no storage check, host and key not stored; a bad filter is refused."""
    result = await _start_flow(hass, GATEWAY_TTS_WEBHOOK)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _flow_input(**{CONF_BACKFILL: False, CONF_APPLICATION_ID: "ab", CONF_API_KEY: None}),
    )
    assert result["errors"] == {CONF_APPLICATION_ID: "invalid_application_id"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        _flow_input(**{CONF_BACKFILL: False, CONF_APPLICATION_ID: None, CONF_API_KEY: None}),
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert aioclient_mock.call_count == 0
    data = result["result"].data
    assert data[CONF_BACKFILL] is False
    assert data[CONF_HOST] is None
    assert data[CONF_API_KEY] is None
    assert data[CONF_APPLICATION_ID] is None


@pytest.mark.usefixtures("mock_setup_entry")
@pytest.mark.parametrize(
    ("changes", "response", "field", "error"),
    [
        *FLOW_ERRORS,
        pytest.param(
            {CONF_TENANT: "TTN!"}, None, CONF_TENANT, "invalid_tenant", id="invalid_tenant"
        ),
        pytest.param(
            {CONF_APPLICATION_ID: "ab"},
            None,
            CONF_APPLICATION_ID,
            "invalid_application_id",
            id="too_short",
        ),
    ],
)
async def test_flow_tts_mqtt_errors_and_recovery(
    hass: HomeAssistant,
    *,
    aioclient_mock: AiohttpClientMocker,
    changes: dict[str, Any],
    response: dict[str, Any] | None,
    field: str,
    error: str,
) -> None:
    """The MQTT variant: the same checks plus the tenant; success stores the topic's ids."""
    MockConfigEntry(domain="mqtt").add_to_hass(hass)
    result = await _start_flow(hass, GATEWAY_TTS_MQTT)
    if response is not None:
        aioclient_mock.get(STORAGE, **response)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _flow_input(**{CONF_TENANT: "ttn", **changes})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {field: error}

    aioclient_mock.clear_requests()
    aioclient_mock.get(STORAGE, text="")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], _flow_input(**{CONF_TENANT: "ttn"})
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == f"{GATEWAY_TTS_MQTT}:v3/{APP}@ttn/devices/+/up"
    assert entry.data == {
        CONF_GATEWAY: GATEWAY_TTS_MQTT,
        CONF_APPLICATION_ID: APP,
        CONF_TENANT: "ttn",
        CONF_BACKFILL: True,
        CONF_HOST: HOST,
        CONF_API_KEY: API_KEY,
    }


async def test_flow_tts_mqtt_needs_mqtt(hass: HomeAssistant) -> None:
    """Without Home Assistant's MQTT integration the MQTT variant aborts."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": GATEWAY_TTS_MQTT}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "mqtt_not_configured"


async def test_reauth_flow(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, backfill_entry: MockConfigEntry
) -> None:
    """A refused key: a bad new key is refused too, a good one is stored and reloads."""
    aioclient_mock.get(STORAGE, status=HTTPStatus.UNAUTHORIZED)
    await _setup(hass, backfill_entry)
    [flow] = hass.config_entries.flow.async_progress()
    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["gateway"] == "The Things Stack"
    assert result["description_placeholders"]["host"] == HOST

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "NNSXS.STILL.WRONG"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}

    aioclient_mock.clear_requests()
    aioclient_mock.get(STORAGE, status=HTTPStatus.BAD_GATEWAY)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: NEW_KEY}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    aioclient_mock.clear_requests()
    aioclient_mock.get(
        STORAGE, text=stream(uplink(fcnt=1, temperature=19.0, when=NOW - timedelta(minutes=5)))
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: f" {NEW_KEY} "}
    )
    await _settle(hass)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert backfill_entry.data[CONF_API_KEY] == NEW_KEY
    assert backfill_entry.state is ConfigEntryState.LOADED
    # The check, then the reloaded gateway's backfill, both with the new key.
    calls = _storage_calls(aioclient_mock)
    assert len(calls) == 2
    assert all(h["Authorization"] == f"Bearer {NEW_KEY}" for _u, h in calls)
    assert _state(hass, ERS, "temperature") == "19.0"
    assert not hass.config_entries.flow.async_progress()


async def test_reconfigure_host_and_key(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, backfill_entry: MockConfigEntry
) -> None:
    """A new host keeps the stored key when the key field is left empty; errors recover."""
    aioclient_mock.get(STORAGE, text="")
    await _setup(hass, backfill_entry)
    result = await backfill_entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    suggested = {
        str(key): key.description.get("suggested_value")
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested[CONF_HOST] == HOST
    assert API_KEY not in suggested.values()  # never sent back to the browser

    new_host = "ange.eu1.cloud.thethings.industries"
    new_storage = STORAGE.replace(HOST, new_host)
    aioclient_mock.clear_requests()
    aioclient_mock.get(new_storage, status=HTTPStatus.FORBIDDEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: APP, CONF_BACKFILL: True, CONF_HOST: new_host},
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}
    assert API_KEY not in {
        key.description.get("suggested_value")
        for key in result["data_schema"].schema
        if key.description
    }
    [(_url, headers)] = _storage_calls(aioclient_mock)
    assert headers["Authorization"] == f"Bearer {API_KEY}"  # the stored key was tried

    aioclient_mock.clear_requests()
    aioclient_mock.get(new_storage, text="")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_APPLICATION_ID: APP, CONF_BACKFILL: True, CONF_HOST: new_host, CONF_API_KEY: NEW_KEY},
    )
    await _settle(hass)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert backfill_entry.data[CONF_HOST] == new_host
    assert backfill_entry.data[CONF_API_KEY] == NEW_KEY
    assert backfill_entry.state is ConfigEntryState.LOADED
    # Reloaded: the gateway now fetches from the new host with the new key.
    assert [str(u).split("?")[0] for u, _h in _storage_calls(aioclient_mock)] == [new_storage] * 2


async def test_reconfigure_backfill_off_and_filter_cleared(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, backfill_entry: MockConfigEntry
) -> None:
    """Switching backfill off forgets host and key; a webhook's filter can be cleared."""
    aioclient_mock.get(STORAGE, text="")
    await _setup(hass, backfill_entry)
    result = await backfill_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_BACKFILL: False}
    )
    await _settle(hass)

    assert result["reason"] == "reconfigure_successful"
    assert backfill_entry.data[CONF_BACKFILL] is False
    assert backfill_entry.data[CONF_HOST] is None
    assert backfill_entry.data[CONF_API_KEY] is None
    assert backfill_entry.data[CONF_APPLICATION_ID] is None
    assert aioclient_mock.call_count == 1  # only the first start's backfill
