"""ChirpStack v4 integration events (MQTT and HTTP integrations share the JSON shape).

proto3 JSON omits fields equal to 0/false/empty: a missing ``fCnt`` or ``fPort`` means 0
and a missing ``object`` means the device profile has no codec.

Verified against ChirpStack v4 (``chirpstack/src/integration/mqtt.rs`` and ``http.rs``): every
event, ``up``, ``status`` and ``join`` included, is published on the one ``event_topic``
template (handlebars: ``application/{{application_id}}/device/{{dev_eui}}/event/{{event}}``);
the HTTP integration POSTs the same body with ``?event=<name>``. The encoding is JSON only when
``[integration.mqtt] json=true`` in ``chirpstack.toml`` (MQTT) or when the application's HTTP
integration has "Payload encoding: JSON"; otherwise the body is Protobuf (binary).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
import functools
import json
import math
import re
from typing import Any, TypeIs

from ..uplink import MessageError, Uplink, normalise_dev_eui

MAX_BODY_BYTES = 64 * 1024  # a LoRaWAN frame is < 256 B; a ChirpStack event a few kB

PROTOBUF_HINT = (
    "the message is binary, not JSON: ChirpStack is sending Protobuf. Switch the integration "
    "to JSON: for MQTT set `json=true` under [integration.mqtt] in chirpstack.toml and restart "
    "ChirpStack; for the HTTP integration choose Payload encoding: JSON (called Marshaler: JSON "
    "in ChirpStack v3)"
)

EVENTS_HANDLED = ("up", "status", "join")
EVENTS_IGNORED = ("ack", "txack", "log", "integration", "location")

DEFAULT_EVENT_TOPIC = "application/{applicationId}/device/{devEui}/event/{event}"
TOPIC_PLACEHOLDERS = ("applicationId", "devEui", "event")
# ChirpStack's own (handlebars) spelling of the same placeholders, as in chirpstack.toml.
_HANDLEBARS = {"application_id": "applicationId", "dev_eui": "devEui", "event": "event"}
_HANDLEBARS_RE = re.compile(r"\{\{\s*([A-Za-z_]+)\s*\}\}")
_PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
# A raw control character other than tab, newline or carriage return: never in JSON text.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True, slots=True, kw_only=True)
class StatusEvent:
    """A ChirpStack ``status`` event: the device's answer to a DevStatusReq MAC command.

    ``battery_level`` is percent, ``None`` when the device cannot measure it or runs on
    external power. ``margin`` is the demodulation SNR (dB) of the last DevStatusReq; proto3
    omits 0, so a missing ``margin`` is 0.
    """

    dev_eui: str
    time: datetime
    battery_level: float | None
    external_power: bool
    margin: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinEvent:
    """A device (re)joined (OTAA); sent with its first uplink after the join."""

    dev_eui: str
    time: datetime
    dev_addr: str | None
    profile_hint: str | None


def load_object(body: bytes | str, *, binary_hint: str) -> dict[str, Any]:
    """Parse a JSON object body; refuse binary, oversized or non-object bodies.

    ``binary_hint`` is the message given when the body looks binary (e.g. Protobuf): JSON text
    is UTF-8 and never holds a raw control character other than whitespace.
    """
    if len(body) > MAX_BODY_BYTES:
        raise MessageError(f"message of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MessageError(binary_hint) from None
    else:
        text = body
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_BODY_BYTES:
            raise MessageError(f"message of {size} bytes exceeds {MAX_BODY_BYTES}")
    if _CONTROL_RE.search(text):  # a regex, not a per-character loop: this is per message
        raise MessageError(binary_hint)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise MessageError(f"malformed JSON: {err.msg} at position {err.pos}") from None
    except RecursionError:
        raise MessageError("malformed JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise MessageError(f"expected a JSON object, got {type(data).__name__}")
    return data


def loads(body: bytes | str) -> dict[str, Any]:
    """Parse a ChirpStack JSON event body, refusing Protobuf, oversized or non-object bodies."""
    return load_object(body, binary_hint=PROTOBUF_HINT)


def parse_time(value: object, name: str = "time") -> datetime:
    """Parse an RFC 3339 time (nanosecond precision allowed) into aware UTC."""
    if not isinstance(value, str):
        raise MessageError(f"missing or non-string '{name}'")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python parses at most 6 fractional digits; ChirpStack and TTS send 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0] in "0123456789":
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MessageError(f"invalid '{name}' {value!r}") from None
    if parsed.tzinfo is None:
        raise MessageError(f"'{name}' {value!r} has no UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 pushed out of range by the offset
        raise MessageError(f"invalid '{name}' {value!r}") from None


def _int(data: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MessageError(f"'{key}' must be an integer {lo}..{hi}, got {value!r}")
    return value


def _bool(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise MessageError(f"'{key}' must be true or false, got {value!r}")
    return value


_NUMBER = (int, float)


def _is_mapping(value: object) -> TypeIs[Mapping[str, Any]]:
    """``isinstance(value, Mapping)``, with JSON's dict first (an ABC check per message costs)."""
    return type(value) is dict or isinstance(value, Mapping)


def number(value: object) -> float | None:
    """``value`` as a finite float, or None for anything else (bool, string, NaN, 1e400)."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        return None
    try:
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


def b64(value: object, name: str) -> bytes:
    """Decode a base64 JSON string (proto3 ``bytes``); a missing field is ``b""``."""
    if value is None:
        return b""
    if not isinstance(value, str):
        raise MessageError(f"'{name}' must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MessageError(f"'{name}' is not valid base64") from None


def _list(value: object, name: str) -> Sequence[object]:
    if value is None:
        return ()
    if type(value) is list:  # what JSON gives: no abstract-class check per message
        return value
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise MessageError(f"'{name}' must be a list")
    return value


def _device(data: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    info = data.get("deviceInfo")
    if not _is_mapping(info):
        raise MessageError("missing 'deviceInfo'")
    return normalise_dev_eui(info.get("devEui")), info


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_up(data: Mapping[str, Any], *, source: str) -> Uplink:
    """Turn a ChirpStack v4 ``up`` event into an ``Uplink``.

    The best (highest RSSI) gateway gives ``rssi``/``snr``; ``gateway_count`` counts distinct
    ``gatewayId`` values (entries without one count once each).
    """
    dev_eui, info = _device(data)
    payload = b64(data.get("data"), "data")
    rssi: float | None = None
    snr: float | None = None
    rx_info = _list(data.get("rxInfo"), "rxInfo")
    gateways: set[object] = set()
    for index, rx in enumerate(rx_info):
        if not _is_mapping(rx):
            continue
        gateway = rx.get("gatewayId")
        gateways.add(gateway if isinstance(gateway, str) and gateway else index)
        r = number(rx.get("rssi", 0))
        if r is not None and (rssi is None or r > rssi):
            rssi, snr = r, number(rx.get("snr", 0))
    obj = data.get("object")
    dedup = data.get("deduplicationId")
    return Uplink(
        dev_eui=dev_eui,
        fport=_int(data, "fPort", 0, 255),
        fcnt=_int(data, "fCnt", 0, 0xFFFFFFFF),
        payload=payload,
        received_at=parse_time(data.get("time")),
        source=source,
        rssi=rssi,
        snr=snr,
        gateway_count=len(gateways),
        lns_object=obj if _is_mapping(obj) else None,
        dedup_id=_str(dedup),
        profile_hint=_str(info.get("deviceProfileName")),
    )


def parse_status(data: Mapping[str, Any]) -> StatusEvent:
    """Turn a ChirpStack v4 ``status`` event into a ``StatusEvent``."""
    dev_eui, _ = _device(data)
    external = _bool(data, "externalPowerSource")
    unavailable = _bool(data, "batteryLevelUnavailable")
    raw_level = data.get("batteryLevel", 0)
    level = number(raw_level)
    if level is None or not 0 <= level <= 100:
        raise MessageError(f"'batteryLevel' must be a percentage 0..100, got {raw_level!r}")
    return StatusEvent(
        dev_eui=dev_eui,
        time=parse_time(data.get("time")),
        battery_level=None if external or unavailable else level,
        external_power=external,
        margin=_int(data, "margin", -128, 127),
    )


def parse_join(data: Mapping[str, Any]) -> JoinEvent:
    """Turn a ChirpStack v4 ``join`` event into a ``JoinEvent``."""
    dev_eui, info = _device(data)
    dev_addr = data.get("devAddr")
    if dev_addr is not None and not isinstance(dev_addr, str):
        raise MessageError(f"'devAddr' must be a string, got {dev_addr!r}")
    return JoinEvent(
        dev_eui=dev_eui,
        time=parse_time(data.get("time")),
        dev_addr=(dev_addr or "").lower() or None,
        profile_hint=_str(info.get("deviceProfileName")),
    )


def parse_event(
    event: str, data: Mapping[str, Any], *, source: str
) -> Uplink | StatusEvent | JoinEvent | None:
    """Parse one event by name (MQTT topic ``{event}`` or the HTTP ``?event=``).

    ``None`` for the events ignored quietly (``EVENTS_IGNORED``); ``MessageError`` for an
    unknown event name or a bad body.
    """
    if event == "up":
        return parse_up(data, source=source)
    if event == "status":
        return parse_status(data)
    if event == "join":
        return parse_join(data)
    if event in EVENTS_IGNORED:
        return None
    raise MessageError(
        f"unknown ChirpStack event {event!r}; expected one of "
        f"{', '.join(EVENTS_HANDLED + EVENTS_IGNORED)}"
    )


# -- MQTT topics ------------------------------------------------------------------------


def _template_levels(template: str) -> list[tuple[bool, str]]:
    """Validate ``template``; its levels as (is_placeholder, placeholder name or literal)."""
    if not isinstance(template, str) or not template.strip():
        raise ValueError("the event topic template is empty")
    text = _HANDLEBARS_RE.sub(
        lambda m: "{" + _HANDLEBARS.get(m.group(1), m.group(1)) + "}", template.strip()
    )
    levels: list[tuple[bool, str]] = []
    seen: set[str] = set()
    for level in text.split("/"):
        names = _PLACEHOLDER_RE.findall(level)
        if not names:
            if "{" in level or "}" in level:
                raise ValueError(f"unbalanced brace in topic level {level!r} of {template!r}")
            if "+" in level or "#" in level:
                raise ValueError(
                    f"MQTT wildcards (+, #) are not allowed in the topic template {template!r}; "
                    "use the placeholders {applicationId}, {devEui} and {event}"
                )
            if "\x00" in level:
                raise ValueError("the topic template contains a NUL character")
            levels.append((False, level))
            continue
        for name in names:
            if name not in TOPIC_PLACEHOLDERS:
                raise ValueError(
                    f"unknown placeholder {{{name}}} in {template!r}; known: "
                    + ", ".join(f"{{{p}}}" for p in TOPIC_PLACEHOLDERS)
                )
        if len(names) > 1 or level != "{" + names[0] + "}":
            raise ValueError(
                f"placeholder {{{names[0]}}} must fill a whole topic level (between '/'), "
                f"not {level!r}, in {template!r}"
            )
        if names[0] in seen:
            raise ValueError(f"placeholder {{{names[0]}}} appears twice in {template!r}")
        seen.add(names[0])
        levels.append((True, names[0]))
    for required in ("devEui", "event"):
        if required not in seen:
            raise ValueError(f"the topic template {template!r} must contain {{{required}}}")
    return levels


@functools.lru_cache(maxsize=16)
def _cached_levels(template: str) -> tuple[tuple[bool, str], ...]:
    """``_template_levels`` once per template: ``parse_topic`` runs for every message."""
    return tuple(_template_levels(template))


def validate_topic_template(template: str) -> str:
    """Return ``template`` in ``{placeholder}`` spelling, or raise ``ValueError``.

    ChirpStack's own handlebars spelling (``{{ application_id }}``, ``{{ dev_eui }}``,
    ``{{ event }}``, as in ``chirpstack.toml``) is accepted too.
    """
    return "/".join("{" + v + "}" if p else v for p, v in _template_levels(template))


def subscription_topic(template: str, application_id: str | None) -> str:
    """The MQTT subscription for ``template``: ``{applicationId}`` is the filter or ``+``."""
    if application_id is not None and application_id != "":
        if any(c in application_id for c in "/+#\x00"):
            raise ValueError(f"application id {application_id!r} cannot contain / + # or NUL")
        app = application_id
    else:
        app = "+"
    return "/".join(
        (app if v == "applicationId" else "+") if p else v for p, v in _template_levels(template)
    )


def parse_topic(template: str, topic: str) -> dict[str, str]:
    """The placeholder values of ``topic`` under ``template``; ``MessageError`` if no match."""
    levels = _cached_levels(template)
    parts = topic.split("/")
    if len(parts) != len(levels):
        raise MessageError(
            f"topic {topic!r} does not match {validate_topic_template(template)!r}: "
            f"{len(parts)} levels, expected {len(levels)}"
        )
    values: dict[str, str] = {}
    for (is_placeholder, value), part in zip(levels, parts, strict=True):
        if is_placeholder:
            if not part:
                raise MessageError(f"topic {topic!r} has an empty {{{value}}}")
            values[value] = part
        elif part != value:
            raise MessageError(
                f"topic {topic!r} does not match {validate_topic_template(template)!r} "
                f"at {part!r} (expected {value!r})"
            )
    return values


def check_topic_dev_eui(topic_dev_eui: str, parsed: Uplink | StatusEvent | JoinEvent) -> None:
    """Raise ``MessageError`` unless the topic's DevEUI is the body's."""
    if topic_dev_eui == parsed.dev_eui:  # already normalised (ChirpStack's own spelling)
        return
    try:
        from_topic = normalise_dev_eui(topic_dev_eui)
    except MessageError as err:
        raise MessageError(f"topic DevEUI: {err}") from None
    if from_topic != parsed.dev_eui:
        raise MessageError(
            f"topic DevEUI {topic_dev_eui} does not match the body's deviceInfo.devEui "
            f"{parsed.dev_eui}"
        )


def parse_mqtt(
    template: str, topic: str, payload: bytes | str, *, source: str
) -> Uplink | StatusEvent | JoinEvent | None:
    """Topic and payload of one MQTT message in, the parsed event (or None if ignored) out.

    Ignored events are not parsed at all. ``MessageError`` when the topic does not match,
    the body is bad or its DevEUI is not the topic's.
    """
    fields = parse_topic(template, topic)
    event = fields["event"]
    if event in EVENTS_IGNORED:
        return None
    parsed = parse_event(event, loads(payload), source=source)
    if parsed is not None:
        check_topic_dev_eui(fields["devEui"], parsed)
    return parsed


# -- builders (simulator and tests) -----------------------------------------------------


def build_up(
    *,
    dev_eui: str,
    fport: int,
    fcnt: int,
    payload: bytes,
    time: datetime,
    device_name: str,
    profile_name: str,
    application_id: str,
    dedup_id: str,
    rssi: int,
    snr: float,
    gateway_id: str = "00800000a0001234",
) -> dict[str, Any]:
    """Build an ``up`` event exactly as ChirpStack v4 would publish it (proto3 JSON)."""
    event: dict[str, Any] = {
        "deduplicationId": dedup_id,
        "time": time.astimezone(UTC).isoformat(),
        "deviceInfo": _device_info(dev_eui, device_name, profile_name, application_id),
        "devAddr": "260b" + dev_eui[-4:],
        "adr": True,
        "dr": 5,
        "data": base64.b64encode(payload).decode("ascii"),
        "rxInfo": [{"gatewayId": gateway_id, "rssi": rssi, "snr": snr, "crcStatus": "CRC_OK"}],
        "txInfo": {
            "frequency": 868100000,
            "modulation": {
                "lora": {"bandwidth": 125000, "spreadingFactor": 7, "codeRate": "CR_4_5"}
            },
        },
    }
    # proto3 JSON omits zero values.
    if fcnt:
        event["fCnt"] = fcnt
    if fport:
        event["fPort"] = fport
    if not payload:
        del event["data"]
    return event


def build_status(
    *,
    dev_eui: str,
    time: datetime,
    battery_level: float | None,
    external_power: bool = False,
    margin: int = 0,
    device_name: str = "Device",
    profile_name: str = "",
    application_id: str = "ca739e26-7b67-4f14-b69e-d568c22a5a75",
    dedup_id: str = "bf2a9746-1c8b-49be-a92e-f0b89c8534e4",
) -> dict[str, Any]:
    """Build a ``status`` event as ChirpStack v4 would publish it (zero fields omitted)."""
    event: dict[str, Any] = {
        "deduplicationId": dedup_id,
        "time": time.astimezone(UTC).isoformat(),
        "deviceInfo": _device_info(dev_eui, device_name, profile_name, application_id),
    }
    if margin:
        event["margin"] = margin
    if external_power:
        event["externalPowerSource"] = True
    if battery_level is None and not external_power:
        event["batteryLevelUnavailable"] = True
    elif battery_level:
        event["batteryLevel"] = battery_level
    return event


def _device_info(
    dev_eui: str, device_name: str, profile_name: str, application_id: str
) -> dict[str, Any]:
    info = {
        "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
        "tenantName": "Ånge kommun",
        "applicationId": application_id,
        "applicationName": "Ånge IoT demo",
        "deviceProfileId": "605d08d4-65f5-4d2c-8a5a-3d2457662f79",
        "deviceProfileName": profile_name,
        "deviceName": device_name,
        "devEui": dev_eui,
    }
    return {k: v for k, v in info.items() if v}


def topic_for(application_id: str, dev_eui: str, event: str = "up") -> str:
    """The default ChirpStack v4 MQTT event topic."""
    return f"application/{application_id}/device/{dev_eui}/event/{event}"
