"""ChirpStack v4 events: the fact sheet's examples, omitted zeros, topics, bad input."""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime
import json
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import decode
from custom_components.ange_iot.angelib.lns import chirpstack
from custom_components.ange_iot.angelib.lns.chirpstack import (
    DEFAULT_EVENT_TOPIC,
    JoinEvent,
    StatusEvent,
    parse_event,
    parse_join,
    parse_mqtt,
    parse_status,
    parse_topic,
    parse_up,
    subscription_topic,
)
from custom_components.ange_iot.angelib.uplink import MessageError, Uplink

# The fact sheet's examples (lns-messages.md), verbatim.
SHEET_UP = """{"deduplicationId":"57433366-50a6-4dc2-8145-2df1bbc70d9e","time":"2023-05-22T07:47:05.404859+00:00",
 "deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack",
  "applicationId":"ca739e26-7b67-4f14-b69e-d568c22a5a75","applicationName":"Chirpstack application",
  "deviceProfileId":"605d08d4-65f5-4d2c-8a5a-3d2457662f79","deviceProfileName":"Elsys ERS Sound",
  "deviceName":"Device name","devEui":"1000000000000001","tags":{}},
 "devAddr":"20000001","adr":true,"dr":5,"fCnt":4,"fPort":85,"confirmed":false,
 "data":"AQDiAikEACcFBgcNYhUHEA==",
 "rxInfo":[{"gatewayId":"6a7e111a10000000","uplinkId":24022,"rssi":-35,"snr":11.5,"channel":2,
  "rfChain":1,"context":"EFwMtA==","crcStatus":"CRC_OK"}],
 "txInfo":{"frequency":868500000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}}}"""  # noqa: E501
SHEET_UP_TOPIC = "application/ca739e26-7b67-4f14-b69e-d568c22a5a75/device/1000000000000001/event/up"
SHEET_STATUS = """{"deduplicationId":"bf2a9746-1c8b-49be-a92e-f0b89c8534e4","time":"2022-07-18T09:35:06.927172638+00:00",
 "deviceInfo":{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack",
  "applicationId":"17c82e96-be03-4f38-aef3-f83d48582d97","applicationName":"Test application",
  "deviceProfileId":"14855bf7-d10d-4aee-b618-ebfcb64dc7ad","deviceProfileName":"Test device-profile",
  "deviceName":"Test device","devEui":"0101010101010101"},"margin":10,"batteryLevel":88.3}"""  # noqa: E501
# The shape of a v4 join event (integration.proto JoinEvent: deduplicationId, time, deviceInfo,
# devAddr).
JOIN = {
    "deduplicationId": "c9dbe358-2578-4fb7-b295-66b44edc45a6",
    "time": "2023-05-22T07:46:59.123456789Z",
    "deviceInfo": {
        "applicationId": "ca739e26-7b67-4f14-b69e-d568c22a5a75",
        "deviceProfileName": "Kamstrup flowIQ 2200",
        "deviceName": "Meter 1101",
        "devEui": "1000000000001101",
    },
    "devAddr": "00A1B2C3",
}
# A v4 UplinkEvent in Protobuf: field 1 (deduplication_id) "0a 24 <uuid>", field 2 (time) ...
PROTOBUF_UP = (
    b"\n$57433366-50a6-4dc2-8145-2df1bbc70d9e\x12\x0c\x08\xd9\xd6\xac\xa3\x06\x10\xf8\xc6\xc9"
    b"\xc0\x01\x1a\x10\x12\x04test\x1a\x10100000000000000112\x04\x08\x01\x10\x02"
)
# Protobuf that happens to be valid UTF-8 (every byte < 0x80): still refused as binary.
PROTOBUF_ASCII = b"\n$57433366-50a6-4dc2-8145-2df1bbc70d9e\x1a\x14\n\x10100000000000000155"


def up(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(SHEET_UP)
    for key, value in changes.items():
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return event


def test_sheet_up_example() -> None:
    uplink = parse_up(chirpstack.loads(SHEET_UP), source="mqtt")
    assert uplink == Uplink(
        dev_eui="1000000000000001",
        fport=85,
        fcnt=4,
        payload=base64.b64decode("AQDiAikEACcFBgcNYhUHEA=="),
        received_at=datetime(2023, 5, 22, 7, 47, 5, 404859, tzinfo=UTC),
        source="mqtt",
        rssi=-35.0,
        snr=11.5,
        gateway_count=1,
        lns_object=None,
        dedup_id="57433366-50a6-4dc2-8145-2df1bbc70d9e",
        profile_hint="Elsys ERS Sound",
    )
    assert decode("elsys", uplink.fport, uplink.payload) == {
        "temperature": 22.6,
        "humidity": 41,
        "illuminance": 39,
        "motion_count": 6,
        "battery_voltage": 3.426,
        "sound_peak": 7,
        "sound_avg": 16,
    }


def test_sheet_up_example_over_mqtt_and_http() -> None:
    over_mqtt = parse_mqtt(DEFAULT_EVENT_TOPIC, SHEET_UP_TOPIC, SHEET_UP.encode(), source="s")
    over_http = parse_event("up", chirpstack.loads(SHEET_UP), source="s")
    assert isinstance(over_mqtt, Uplink)
    assert over_mqtt == over_http


def test_sheet_status_example() -> None:
    status = parse_status(chirpstack.loads(SHEET_STATUS))
    assert status == StatusEvent(
        dev_eui="0101010101010101",
        time=datetime(2022, 7, 18, 9, 35, 6, 927172, tzinfo=UTC),
        battery_level=88.3,
        external_power=False,
        margin=10,
    )
    assert parse_event("status", chirpstack.loads(SHEET_STATUS), source="s") == status


@pytest.mark.parametrize(
    ("changes", "battery", "external", "margin"),
    [
        ({"batteryLevelUnavailable": True, "batteryLevel": None}, None, False, 10),
        ({"externalPowerSource": True, "batteryLevel": None}, None, True, 10),
        ({"batteryLevel": None}, 0.0, False, 10),  # proto3: 0 % is omitted
        ({"margin": None}, 88.3, False, 0),
        ({"margin": -5}, 88.3, False, -5),
    ],
)
def test_status_omitted_fields(
    changes: dict[str, Any], battery: float | None, external: bool, margin: int
) -> None:
    data = json.loads(SHEET_STATUS)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    status = parse_status(data)
    assert status.battery_level == battery
    assert status.external_power is external
    assert status.margin == margin


def test_status_builder_round_trip() -> None:
    when = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    for level, external in ((55.5, False), (None, False), (None, True)):
        event = chirpstack.build_status(
            dev_eui="0101010101010101", time=when, battery_level=level, external_power=external
        )
        status = parse_status(chirpstack.loads(json.dumps(event)))
        assert (status.battery_level, status.external_power, status.time) == (
            level,
            external,
            when,
        )


def test_join_event() -> None:
    join = parse_event("join", JOIN, source="s")
    assert join == JoinEvent(
        dev_eui="1000000000001101",
        time=datetime(2023, 5, 22, 7, 46, 59, 123456, tzinfo=UTC),
        dev_addr="00a1b2c3",
        profile_hint="Kamstrup flowIQ 2200",
    )
    bare = parse_join({"time": JOIN["time"], "deviceInfo": {"devEui": "1000000000001101"}})
    assert (bare.dev_addr, bare.profile_hint) == (None, None)


def test_omitted_zero_fields() -> None:
    uplink = parse_up(up(fCnt=None, fPort=None, data=None, rxInfo=None), source="s")
    assert (uplink.fcnt, uplink.fport, uplink.payload) == (0, 0, b"")
    assert (uplink.rssi, uplink.snr, uplink.gateway_count) == (None, None, 0)
    event = chirpstack.build_up(
        dev_eui="1000000000000001",
        fport=0,
        fcnt=0,
        payload=b"",
        time=datetime(2024, 1, 1, tzinfo=UTC),
        device_name="d",
        profile_name="",
        application_id="a",
        dedup_id="x",
        rssi=-80,
        snr=1.0,
    )
    assert not {"fCnt", "fPort", "data"} & event.keys()
    assert "deviceProfileName" not in event["deviceInfo"]
    rebuilt = parse_up(chirpstack.loads(json.dumps(event)), source="s")
    assert (rebuilt.fcnt, rebuilt.fport, rebuilt.payload, rebuilt.profile_hint) == (
        0,
        0,
        b"",
        None,
    )


def test_object_and_missing_optional_strings() -> None:
    uplink = parse_up(up(object={"temperature": 22.6}, deduplicationId=None), source="s")
    assert uplink.lns_object == {"temperature": 22.6}
    assert uplink.dedup_id is None


def test_multi_gateway_best_signal() -> None:
    rx = [
        {"gatewayId": "aa00000000000001", "rssi": -110, "snr": -7.5},
        {"gatewayId": "aa00000000000002", "rssi": -71, "snr": 9.25},
        {"gatewayId": "aa00000000000002", "rssi": -75, "snr": 9.5},  # second antenna
        {"gatewayId": "aa00000000000003", "snr": 3},  # rssi omitted: 0 dBm (proto3)
        {"gatewayId": "aa00000000000004", "rssi": "loud"},  # garbage entry: skipped
        "not an object",
    ]
    uplink = parse_up(up(rxInfo=rx), source="s")
    assert (uplink.rssi, uplink.snr) == (0.0, 3.0)
    assert uplink.gateway_count == 4
    uplink = parse_up(up(rxInfo=rx[:3]), source="s")
    assert (uplink.rssi, uplink.snr, uplink.gateway_count) == (-71.0, 9.25, 2)


def test_time_with_nanoseconds_and_zulu() -> None:
    uplink = parse_up(up(time="2023-05-22T07:47:05.404859123Z"), source="s")
    assert uplink.received_at == datetime(2023, 5, 22, 7, 47, 5, 404859, tzinfo=UTC)
    uplink = parse_up(up(time="2023-05-22T09:47:05+02:00"), source="s")
    assert uplink.received_at == datetime(2023, 5, 22, 7, 47, 5, tzinfo=UTC)


BAD_BODIES: list[tuple[bytes | str, str]] = [
    (b"{not json", "malformed JSON"),
    ("", "malformed JSON"),
    (b"[1, 2, 3]", "expected a JSON object, got list"),
    ("null", "expected a JSON object, got NoneType"),
    ('"up"', "expected a JSON object, got str"),
    (PROTOBUF_UP, "json=true"),
    (PROTOBUF_ASCII, "json=true"),
    (b"\xff\xfe\x00", "Payload encoding: JSON"),
    (b" " * (64 * 1024 + 1), "exceeds 65536"),
    ("é" * (32 * 1024 + 1), "exceeds 65536"),  # counted in UTF-8 bytes, not characters
    ("[" * 100_000, "exceeds"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_bodies(body: bytes | str, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        chirpstack.loads(body)


def test_deeply_nested_json_is_a_message_error() -> None:
    with pytest.raises(MessageError, match=r"malformed JSON|expected a JSON object"):
        chirpstack.loads("[" * 30_000 + "]" * 30_000)
    deep = chirpstack.loads('{"object":' * 5_000 + "1" + "}" * 5_000)
    with pytest.raises(MessageError, match="deviceInfo"):
        parse_up(deep, source="s")


def test_protobuf_message_is_actionable() -> None:
    with pytest.raises(MessageError) as err:
        chirpstack.loads(PROTOBUF_UP)
    text = str(err.value)
    assert "Protobuf" in text
    assert "json=true" in text
    assert "[integration.mqtt]" in text
    assert "Payload encoding: JSON" in text


BAD_UPS: list[tuple[dict[str, Any], str]] = [
    ({"deviceInfo": None}, "missing 'deviceInfo'"),
    ({"deviceInfo": "1000000000000001"}, "missing 'deviceInfo'"),
    ({"deviceInfo": {"devEui": None}}, "DevEUI must be a string"),
    ({"deviceInfo": {}}, "DevEUI must be a string"),
    ({"deviceInfo": {"devEui": "nothex"}}, "16 hex digits"),
    ({"deviceInfo": {"devEui": "10000000000000010"}}, "16 hex digits"),
    ({"deviceInfo": {"devEui": 1000000000000001}}, "must be a string"),
    ({"data": "not base64!"}, "'data' is not valid base64"),
    ({"data": "AQID="}, "'data' is not valid base64"),
    ({"data": "é"}, "'data' is not valid base64"),
    ({"data": 12}, "'data' must be a base64 string"),
    ({"time": None}, "missing or non-string 'time'"),
    ({"time": 1684741625}, "missing or non-string 'time'"),
    ({"time": "yesterday"}, "invalid 'time'"),
    ({"time": "2023-05-22T07:47:05"}, "no UTC offset"),
    ({"time": "0001-01-01T00:00:00+01:00"}, "invalid 'time'"),
    ({"fCnt": "7"}, "'fCnt' must be an integer"),
    ({"fCnt": -1}, "'fCnt' must be an integer"),
    ({"fCnt": 2**32}, "'fCnt' must be an integer"),
    ({"fCnt": 4.0}, "'fCnt' must be an integer"),
    ({"fPort": 300}, "'fPort' must be an integer"),
    ({"fPort": True}, "'fPort' must be an integer"),
    ({"rxInfo": "gateway"}, "'rxInfo' must be a list"),
    ({"rxInfo": {"gatewayId": "x"}}, "'rxInfo' must be a list"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_UPS)
def test_bad_up_events(changes: dict[str, Any], message: str) -> None:
    event = up()
    event.update(changes)
    with pytest.raises(MessageError, match=message):
        parse_up(event, source="s")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batteryLevel": "88"}, "'batteryLevel' must be a percentage"),
        ({"batteryLevel": 101}, "'batteryLevel' must be a percentage"),
        ({"batteryLevel": -1}, "'batteryLevel' must be a percentage"),
        ({"externalPowerSource": "yes"}, "'externalPowerSource' must be true or false"),
        ({"batteryLevelUnavailable": 1}, "'batteryLevelUnavailable' must be true or false"),
        ({"margin": 10.5}, "'margin' must be an integer"),
        ({"margin": 1000}, "'margin' must be an integer"),
        ({"time": None}, "'time'"),
        ({"deviceInfo": {"devEui": "x"}}, "16 hex digits"),
    ],
)
def test_bad_status_events(changes: dict[str, Any], message: str) -> None:
    data = json.loads(SHEET_STATUS)
    data.update(changes)
    with pytest.raises(MessageError, match=message):
        parse_status(data)


def test_bad_join_events() -> None:
    with pytest.raises(MessageError, match="'devAddr' must be a string"):
        parse_join({**JOIN, "devAddr": 1234})
    with pytest.raises(MessageError, match="missing 'deviceInfo'"):
        parse_join({"time": JOIN["time"]})


@pytest.mark.parametrize("event", chirpstack.EVENTS_IGNORED)
def test_ignored_events_are_quiet(event: str) -> None:
    assert parse_event(event, {}, source="s") is None


def test_unknown_event_is_an_error() -> None:
    with pytest.raises(MessageError, match="unknown ChirpStack event 'uplink'"):
        parse_event("uplink", up(), source="s")
    assert chirpstack.EVENTS_HANDLED == ("up", "status", "join")


# -- topics -----------------------------------------------------------------------


def test_default_topic_round_trip() -> None:
    topic = chirpstack.topic_for("ca739e26-7b67-4f14-b69e-d568c22a5a75", "1000000000000001")
    assert topic == SHEET_UP_TOPIC
    assert parse_topic(DEFAULT_EVENT_TOPIC, topic) == {
        "applicationId": "ca739e26-7b67-4f14-b69e-d568c22a5a75",
        "devEui": "1000000000000001",
        "event": "up",
    }
    assert subscription_topic(DEFAULT_EVENT_TOPIC, None) == "application/+/device/+/event/+"
    assert subscription_topic(DEFAULT_EVENT_TOPIC, "") == "application/+/device/+/event/+"
    assert (
        subscription_topic(DEFAULT_EVENT_TOPIC, "ca739e26-7b67-4f14-b69e-d568c22a5a75")
        == "application/ca739e26-7b67-4f14-b69e-d568c22a5a75/device/+/event/+"
    )


@pytest.mark.parametrize(
    ("template", "subscription", "topic", "values"),
    [
        (
            "eu868/application/{applicationId}/device/{devEui}/event/{event}",
            "eu868/application/+/device/+/event/+",
            "eu868/application/app/device/1000000000000001/event/status",
            {"applicationId": "app", "devEui": "1000000000000001", "event": "status"},
        ),
        (
            # ChirpStack's own handlebars spelling, copied from chirpstack.toml.
            "application/{{ application_id }}/device/{{dev_eui}}/event/{{ event }}",
            "application/+/device/+/event/+",
            "application/app/device/1000000000000001/event/join",
            {"applicationId": "app", "devEui": "1000000000000001", "event": "join"},
        ),
        (
            "ange/{devEui}/{event}",
            "ange/+/+",
            "ange/1000000000000001/up",
            {"devEui": "1000000000000001", "event": "up"},
        ),
    ],
)
def test_custom_templates_round_trip(
    template: str, subscription: str, topic: str, values: dict[str, str]
) -> None:
    assert subscription_topic(template, None) == subscription
    assert parse_topic(template, topic) == values
    normalised = chirpstack.validate_topic_template(template)
    for name, value in values.items():
        normalised = normalised.replace("{" + name + "}", value)
    assert normalised == topic


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("application/{applicationId}/event/{event}", r"must contain \{devEui\}"),
        ("application/{applicationId}/device/{devEui}", r"must contain \{event\}"),
        ("application/{appId}/device/{devEui}/event/{event}", r"unknown placeholder \{appId\}"),
        ("application/{{ tenant_id }}/{devEui}/{event}", r"unknown placeholder \{tenant_id\}"),
        ("application/+/device/{devEui}/event/{event}", "wildcards"),
        ("application/#/{devEui}/{event}", "wildcards"),
        ("app-{applicationId}/{devEui}/{event}", "whole topic level"),
        ("{devEui}{event}", "whole topic level"),
        ("{devEui}/{devEui}/{event}", "appears twice"),
        ("application/{devEui/{event}", "unbalanced brace"),
        ("application}/{devEui}/{event}", "unbalanced brace"),
        ("a\x00b/{devEui}/{event}", "NUL"),
    ],
)
def test_bad_templates(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        subscription_topic(template, None)
    with pytest.raises(ValueError, match=message):
        parse_topic(template, "application/x/device/y/event/up")


@pytest.mark.parametrize("application_id", ["a/b", "+", "#", "a\x00"])
def test_bad_application_filter(application_id: str) -> None:
    with pytest.raises(ValueError, match="application id"):
        subscription_topic(DEFAULT_EVENT_TOPIC, application_id)


@pytest.mark.parametrize(
    ("topic", "message"),
    [
        ("application/app/device/1000000000000001/event", "5 levels, expected 6"),
        ("application/app/device/1000000000000001/event/up/x", "7 levels, expected 6"),
        ("gateway/app/device/1000000000000001/event/up", "at 'gateway'"),
        ("application/app/devices/1000000000000001/event/up", "at 'devices'"),
        ("application/app/device//event/up", r"empty \{devEui\}"),
        ("", "1 levels"),
    ],
)
def test_topic_mismatch(topic: str, message: str) -> None:
    with pytest.raises(MessageError, match=message):
        parse_topic(DEFAULT_EVENT_TOPIC, topic)


def test_mqtt_topic_and_body_must_agree() -> None:
    other = "application/app/device/2000000000000002/event/up"
    with pytest.raises(MessageError, match=r"does not match the body's deviceInfo\.devEui"):
        parse_mqtt(DEFAULT_EVENT_TOPIC, other, SHEET_UP, source="s")
    with pytest.raises(MessageError, match="topic DevEUI"):
        parse_mqtt(DEFAULT_EVENT_TOPIC, "application/a/device/zz/event/up", SHEET_UP, source="s")
    # Upper-case in the topic is the same DevEUI.
    upper = SHEET_UP_TOPIC.replace("1000000000000001", "1000000000000001".upper())
    assert parse_mqtt(DEFAULT_EVENT_TOPIC, upper, SHEET_UP, source="s") is not None
    status_topic = "application/a/device/0101010101010101/event/status"
    status = parse_mqtt(DEFAULT_EVENT_TOPIC, status_topic, SHEET_STATUS, source="s")
    assert isinstance(status, StatusEvent)


def test_mqtt_ignored_events_are_not_even_parsed() -> None:
    topic = "application/a/device/1000000000000001/event/log"
    assert parse_mqtt(DEFAULT_EVENT_TOPIC, topic, PROTOBUF_UP, source="s") is None
    with pytest.raises(MessageError, match="json=true"):
        parse_mqtt(DEFAULT_EVENT_TOPIC, SHEET_UP_TOPIC, PROTOBUF_UP, source="s")
    with pytest.raises(MessageError, match="unknown ChirpStack event 'upp'"):
        parse_mqtt(DEFAULT_EVENT_TOPIC, SHEET_UP_TOPIC + "p", SHEET_UP, source="s")


# -- properties -------------------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "1000000000000001",
            "AQDiAikEACcFBgcNYhUHEA==",
            "2023-05-22T07:47:05.404859+00:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-05:00",
            "2023-05-22T07:47:05.١٢Z",
        ]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
KEYS = st.sampled_from(
    [
        "deviceInfo",
        "devEui",
        "time",
        "data",
        "fCnt",
        "fPort",
        "rxInfo",
        "rssi",
        "snr",
        "gatewayId",
        "object",
        "deduplicationId",
        "deviceProfileName",
        "margin",
        "batteryLevel",
        "batteryLevelUnavailable",
        "externalPowerSource",
        "devAddr",
    ]
)
EVENT_DICTS = st.recursive(
    st.dictionaries(KEYS, JSON_LEAVES, max_size=8),
    lambda inner: st.dictionaries(KEYS, inner | JSON_LEAVES | st.lists(inner, max_size=3)),
    max_leaves=25,
)


def _only_message_errors(data: Any) -> None:
    for event in ("up", "status", "join", "ack", "what"):
        with contextlib.suppress(MessageError):
            parse_event(event, data, source="fuzz")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(EVENT_DICTS)
def test_random_events_raise_only_message_errors(data: dict[str, Any]) -> None:
    _only_message_errors(data)
    merged = up()
    merged.update(data)
    _only_message_errors(merged)
    status = json.loads(SHEET_STATUS)
    status.update(data)
    _only_message_errors(status)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=8), JSON_VALUES, max_size=6))
def test_random_json_objects_through_loads(data: dict[str, Any]) -> None:
    try:
        body = json.dumps(data).encode()
    except ValueError:
        return
    with contextlib.suppress(MessageError):
        _only_message_errors(chirpstack.loads(body))


@settings(max_examples=300)
@given(st.binary(max_size=300) | st.text(max_size=100))
def test_random_bodies_raise_only_message_errors(body: bytes | str) -> None:
    try:
        data = chirpstack.loads(body)
    except MessageError:
        return
    _only_message_errors(data)


@settings(max_examples=200)
@given(st.text(max_size=60), st.text(max_size=60))
def test_random_topics_and_templates(template: str, topic: str) -> None:
    try:
        subscription_topic(template, None)
    except MessageError:
        raise
    except ValueError:
        return
    with contextlib.suppress(MessageError):
        parse_mqtt(template, topic, SHEET_UP, source="fuzz")
