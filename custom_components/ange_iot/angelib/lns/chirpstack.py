"""ChirpStack v4 integration events (MQTT and HTTP integrations share the JSON shape).

proto3 JSON omits fields equal to 0/false/empty: a missing ``fCnt`` or ``fPort`` means 0
and a missing ``object`` means the device profile has no codec.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
import json
from typing import Any

from ..uplink import MessageError, Uplink, normalise_dev_eui

MAX_BODY_BYTES = 64 * 1024  # a LoRaWAN frame is < 256 B; a ChirpStack event a few kB


def loads(body: bytes | str) -> dict[str, Any]:
    """Parse a JSON event body, refusing protobuf, oversized or non-object bodies."""
    if len(body) > MAX_BODY_BYTES:
        raise MessageError(f"message of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MessageError(
                "message is not UTF-8 JSON; is the ChirpStack integration set to "
                "protobuf (json=false)? Only JSON is supported"
            ) from None
    try:
        data = json.loads(body)
    except json.JSONDecodeError as err:
        raise MessageError(f"malformed JSON: {err.msg} at position {err.pos}") from None
    if not isinstance(data, dict):
        raise MessageError(f"expected a JSON object, got {type(data).__name__}")
    return data


def parse_time(value: object) -> datetime:
    """Parse an RFC 3339 time (nanosecond precision allowed) into aware UTC."""
    if not isinstance(value, str):
        raise MessageError("missing or non-string 'time'")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    # Python parses at most 6 fractional digits; ChirpStack may send 9.
    if "." in text:
        head, _, rest = text.partition(".")
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise MessageError(f"invalid time {value!r}") from None
    if parsed.tzinfo is None:
        raise MessageError(f"time {value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def _int(data: Mapping[str, Any], key: str, lo: int, hi: int) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise MessageError(f"'{key}' must be an integer {lo}..{hi}, got {value!r}")
    return value


def parse_up(data: Mapping[str, Any], *, source: str) -> Uplink:
    """Turn a ChirpStack v4 ``up`` event into an ``Uplink``."""
    info = data.get("deviceInfo")
    if not isinstance(info, Mapping):
        raise MessageError("missing 'deviceInfo'")
    dev_eui = normalise_dev_eui(info.get("devEui"))
    raw = data.get("data", "")
    if not isinstance(raw, str):
        raise MessageError("'data' must be a base64 string")
    try:
        payload = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise MessageError("'data' is not valid base64") from None
    rssi: float | None = None
    snr: float | None = None
    rx_info = data.get("rxInfo") or []
    if not isinstance(rx_info, Sequence) or isinstance(rx_info, str):
        raise MessageError("'rxInfo' must be a list")
    for rx in rx_info:
        if not isinstance(rx, Mapping):
            continue
        r, s = rx.get("rssi", 0), rx.get("snr", 0)
        if isinstance(r, int | float) and not isinstance(r, bool) and (rssi is None or r > rssi):
            rssi = float(r)
            snr = float(s) if isinstance(s, int | float) and not isinstance(s, bool) else None
    obj = data.get("object")
    profile = info.get("deviceProfileName")
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
        gateway_count=len(rx_info),
        lns_object=obj if isinstance(obj, Mapping) else None,
        dedup_id=dedup if isinstance(dedup, str) else None,
        profile_hint=profile if isinstance(profile, str) else None,
    )


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
        "deviceInfo": {
            "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
            "tenantName": "Ånge kommun",
            "applicationId": application_id,
            "applicationName": "Ånge IoT demo",
            "deviceProfileId": "605d08d4-65f5-4d2c-8a5a-3d2457662f79",
            "deviceProfileName": profile_name,
            "deviceName": device_name,
            "devEui": dev_eui,
        },
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
    return event


def topic_for(application_id: str, dev_eui: str, event: str = "up") -> str:
    """The default ChirpStack v4 MQTT event topic."""
    return f"application/{application_id}/device/{dev_eui}/event/{event}"
