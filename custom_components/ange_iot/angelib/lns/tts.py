"""The Things Stack v3 (TTN, TTS Cloud/Enterprise, open source): MQTT, webhooks, storage.

All three carry the same ``ApplicationUp`` JSON (``lorawan-stack`` ``messages.proto``): one of
``uplink_message``, ``uplink_normalized``, ``join_accept``, ``downlink_ack|nack|sent|failed|
queued|queue_invalidated``, ``location_solved`` or ``service_data`` beside ``end_device_ids``,
``correlation_ids``, ``received_at`` and ``simulated``. Empty, zero and false fields are
omitted (a missing ``f_port``/``f_cnt`` is 0, a missing ``frm_payload`` is empty).

Hardware is identified by ``end_device_ids.dev_eui`` (upper-case hex), never by the
user-chosen ``device_id`` that the MQTT topic and webhook paths carry.

Console-simulated uplinks (``"simulated": true``) are accepted but marked: their ``source``
ends in ``SIMULATED_SUFFIX`` (``Uplink`` has no flag for it); see ``is_simulated``.

Sources checked: TTS docs "MQTT Server", "Data Formats", "Storage Integration / Retrieve
messages" and ``api/ttn/lorawan/v3/applicationserver_integrations_storage.proto``:
* ``version_ids`` sits inside ``uplink_message`` (``ApplicationUplink.version_ids``, TTS 3.13+)
  and, since TTS 3.34, inside ``join_accept``; a top-level one is read as a fallback.
* The storage API's HTTP response is ``Content-Type: text/event-stream`` but its body is
  newline-delimited JSON, one ``{"result": ApplicationUp}`` (or ``{"error": Status}``) per
  line; ``data:``-prefixed SSE framing is accepted too.
* Query parameters: ``after``/``before`` (RFC 3339), ``limit``, ``order`` (``received_at`` or
  ``-received_at``), ``field_mask``, ``f_port``, ``continuation_token`` and ``last`` (a
  duration such as ``24h``; deprecated upstream, and not combinable with after/before). The
  message type is the last path segment (``uplink_message``), not a ``type`` parameter.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
import re
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ..uplink import MessageError, Uplink, normalise_dev_eui
from .chirpstack import JoinEvent, b64, load_object, number, parse_time

PROTOBUF_HINT = (
    "the message is binary, not JSON: The Things Stack is sending Protocol Buffers. Set the "
    "webhook's format to JSON (MQTT always sends JSON)"
)
SIMULATED_SUFFIX = "+simulated"

# ApplicationUp's oneof "up", by body key.
UPLINK = "uplink_message"
JOIN = "join_accept"
IGNORED_KINDS = (
    "uplink_normalized",
    "downlink_ack",
    "downlink_nack",
    "downlink_sent",
    "downlink_failed",
    "downlink_queued",
    "downlink_queue_invalidated",
    "location_solved",
    "service_data",
)
KINDS = (UPLINK, JOIN, *IGNORED_KINDS)
# MQTT topic suffix (after v3/{app}/devices/{device}/) -> body key.
TOPIC_SUFFIXES = {
    "up": UPLINK,
    "join": JOIN,
    "down/queued": "downlink_queued",
    "down/sent": "downlink_sent",
    "down/ack": "downlink_ack",
    "down/nack": "downlink_nack",
    "down/failed": "downlink_failed",
    "service/data": "service_data",
    "location/solved": "location_solved",
}

# TTS identifiers (application, device, tenant): lower-case alphanumerics and single dashes.
_ID_RE = re.compile(r"^[a-z0-9](?:-?[a-z0-9]){2,}$")
_DURATION_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$")


def loads(body: bytes | str) -> dict[str, Any]:
    """Parse one TTS JSON message (64 KiB limit; Protobuf and non-objects refused)."""
    return load_object(body, binary_hint=PROTOBUF_HINT)


def is_simulated(uplink: Uplink) -> bool:
    """Whether ``uplink`` was simulated in the TTS Console rather than sent by the device."""
    return uplink.source.endswith(SIMULATED_SUFFIX)


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise MessageError(f"missing or non-object '{key}'")
    return value


def _dev_eui(data: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    ids = _mapping(data, "end_device_ids")
    if ids.get("dev_eui") in (None, ""):
        raise MessageError(
            "missing 'end_device_ids.dev_eui' (a device registered without a DevEUI cannot "
            "be identified)"
        )
    return normalise_dev_eui(ids["dev_eui"]), ids


def _int(data: Mapping[str, Any], key: str, hi: int) -> int:
    value = data.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
        raise MessageError(f"'{key}' must be an integer 0..{hi}, got {value!r}")
    return value


def _time(*candidates: tuple[str, object]) -> datetime:
    """The first present time among (name, value) pairs."""
    for name, value in candidates:
        if value is not None:
            return parse_time(value, name)
    names = " or ".join(f"'{name}'" for name, _ in candidates)
    raise MessageError(f"missing {names}")


def _profile_hint(*holders: Mapping[str, Any]) -> str | None:
    for holder in holders:
        ids = holder.get("version_ids")
        if isinstance(ids, Mapping):
            brand, model = ids.get("brand_id"), ids.get("model_id")
            if isinstance(brand, str) and brand and isinstance(model, str) and model:
                return f"{brand}/{model}"
    return None


def _warnings(up: Mapping[str, Any]) -> tuple[str, ...]:
    """The payload formatter's warnings (decoded and normalized), at most five."""
    found: list[str] = []
    for key in ("decoded_payload_warnings", "normalized_payload_warnings"):
        value = up.get(key)
        if isinstance(value, list):
            found.extend(str(w)[:200] for w in value if isinstance(w, str | int | float))
    return tuple(found[:5])


def _dedup_id(data: Mapping[str, Any]) -> str | None:
    ids = data.get("correlation_ids")
    if isinstance(ids, list):
        for item in ids:
            if isinstance(item, str) and item.startswith("as:up:") and len(item) > 6:
                return item
    return None


def parse_up(data: Mapping[str, Any], *, source: str) -> Uplink:
    """Turn a TTS ``ApplicationUp`` carrying ``uplink_message`` into an ``Uplink``.

    Best signal: the highest ``rssi`` (else ``channel_rssi``) over ``rx_metadata`` with its
    ``snr``; ``gateway_count`` counts distinct ``gateway_ids.gateway_id`` (``rx_metadata`` has
    one entry per antenna). A simulated uplink gets ``SIMULATED_SUFFIX`` on its source.
    """
    dev_eui, _ = _dev_eui(data)
    up = _mapping(data, UPLINK)
    rx_metadata = up.get("rx_metadata", [])
    if not isinstance(rx_metadata, list):
        raise MessageError("'rx_metadata' must be a list")
    rssi: float | None = None
    snr: float | None = None
    gateways: set[object] = set()
    for index, rx in enumerate(rx_metadata):
        if not isinstance(rx, Mapping):
            continue
        ids = rx.get("gateway_ids")
        gateway = ids.get("gateway_id") if isinstance(ids, Mapping) else None
        gateways.add(gateway if isinstance(gateway, str) and gateway else index)
        r = number(rx.get("rssi"))
        if r is None:
            r = number(rx.get("channel_rssi"))
        if r is not None and (rssi is None or r > rssi):
            rssi, snr = r, number(rx.get("snr", 0))
    simulated = data.get("simulated", False)
    if not isinstance(simulated, bool):
        raise MessageError(f"'simulated' must be true or false, got {simulated!r}")
    decoded = up.get("decoded_payload")
    normalized = up.get("normalized_payload")
    return Uplink(
        dev_eui=dev_eui,
        fport=_int(up, "f_port", 255),
        fcnt=_int(up, "f_cnt", 0xFFFFFFFF),
        payload=b64(up.get("frm_payload"), "frm_payload"),
        received_at=_time(
            ("uplink_message.received_at", up.get("received_at")),
            ("received_at", data.get("received_at")),
        ),
        source=source + SIMULATED_SUFFIX if simulated else source,
        rssi=rssi,
        snr=snr,
        gateway_count=len(gateways),
        lns_object=decoded if isinstance(decoded, Mapping) else None,
        lns_normalized=(
            tuple(m for m in normalized if isinstance(m, Mapping))
            if isinstance(normalized, list)
            else None
        ),
        lns_warnings=_warnings(up),
        dedup_id=_dedup_id(data),
        profile_hint=_profile_hint(up, data),
    )


def parse_join(data: Mapping[str, Any]) -> JoinEvent:
    """Turn a TTS ``ApplicationUp`` carrying ``join_accept`` into a ``JoinEvent``."""
    dev_eui, ids = _dev_eui(data)
    join = _mapping(data, JOIN)
    dev_addr = ids.get("dev_addr")
    if dev_addr is not None and not isinstance(dev_addr, str):
        raise MessageError(f"'end_device_ids.dev_addr' must be a string, got {dev_addr!r}")
    return JoinEvent(
        dev_eui=dev_eui,
        time=_time(
            ("join_accept.received_at", join.get("received_at")),
            ("received_at", data.get("received_at")),
        ),
        dev_addr=(dev_addr or "").lower() or None,
        profile_hint=_profile_hint(join, data),
    )


def message_kind(data: Mapping[str, Any]) -> str:
    """Which ``ApplicationUp`` kind ``data`` is (``uplink_message``, ``join_accept``, ...)."""
    present = [key for key in KINDS if key in data]
    if len(present) != 1:
        found = ", ".join(present) if present else "none"
        raise MessageError(
            f"expected exactly one of {', '.join(KINDS)} in the message, found {found}"
        )
    return present[0]


def parse_event(
    path_or_topic_suffix: str | None, data: Mapping[str, Any], *, source: str
) -> Uplink | JoinEvent | None:
    """Parse a webhook body or MQTT payload, telling the kind by its body keys.

    ``None`` for kinds ignored quietly (downlink events, location, service data, normalized
    uplinks). When ``path_or_topic_suffix`` is a known MQTT suffix (``up``, ``join``,
    ``down/ack`` ...) it must agree with the body; webhook paths are user-chosen and are not
    checked.
    """
    kind = message_kind(data)
    suffix = (path_or_topic_suffix or "").strip("/")
    expected = TOPIC_SUFFIXES.get(suffix)
    if expected is not None and expected != kind:
        raise MessageError(f"topic suffix {suffix!r} carries {expected}, but the body is {kind}")
    if kind == UPLINK:
        return parse_up(data, source=source)
    if kind == JOIN:
        return parse_join(data)
    return None


# -- MQTT ---------------------------------------------------------------------------


def check_id(value: str, what: str) -> str:
    """Return ``value`` if it is a valid TTS identifier, else raise ``ValueError``."""
    if not isinstance(value, str) or len(value) > 36 or not _ID_RE.match(value):
        raise ValueError(
            f"{what} {value!r} is not a TTS identifier (3-36 lower-case letters, digits and "
            "single dashes, not starting or ending with a dash)"
        )
    return value


def subscription_topic(application_id: str | None, tenant: str | None, *, event: str = "up") -> str:
    """The MQTT subscription: ``v3/{app}@{tenant}/devices/+/up``.

    No ``@tenant`` when ``tenant`` is None/empty (TTS open source); ``v3/+/devices/+/up``
    without an application filter. ``event`` is a topic suffix (``up``, ``join``, ...) or
    ``#`` for everything.
    """
    if event != "#" and event not in TOPIC_SUFFIXES:
        raise ValueError(f"unknown TTS topic suffix {event!r}")
    if not application_id:
        return f"v3/+/devices/+/{event}"
    app = check_id(application_id, "application id")
    if tenant:
        app = f"{app}@{check_id(tenant, 'tenant id')}"
    return f"v3/{app}/devices/+/{event}"


def parse_topic(topic: str) -> tuple[str, str | None, str, str]:
    """``v3/{app}[@{tenant}]/devices/{device}/{event}`` -> (app, tenant, device, event)."""
    parts = topic.split("/")
    if len(parts) < 5 or parts[0] != "v3" or parts[2] != "devices":
        raise MessageError(
            f"topic {topic!r} is not a TTS topic v3/{{application}}/devices/{{device}}/{{event}}"
        )
    app, _, tenant = parts[1].partition("@")
    if not app or "@" in tenant or parts[1].endswith("@"):
        raise MessageError(f"topic {topic!r} has an invalid application {parts[1]!r}")
    if not parts[3] or any(not p for p in parts[4:]):
        raise MessageError(f"topic {topic!r} has an empty level")
    return app, tenant or None, parts[3], "/".join(parts[4:])


def parse_mqtt(topic: str, payload: bytes | str, *, source: str) -> Uplink | JoinEvent | None:
    """Topic and payload of one MQTT message in, the parsed message (or None) out.

    The body's ``end_device_ids`` must name the topic's device and application.
    """
    app, _, device, event = parse_topic(topic)
    if event in TOPIC_SUFFIXES and TOPIC_SUFFIXES[event] in IGNORED_KINDS:
        return None
    data = loads(payload)
    ids = _mapping(data, "end_device_ids")
    if ids.get("device_id") != device:
        raise MessageError(
            f"topic device {device!r} does not match the body's device_id {ids.get('device_id')!r}"
        )
    app_ids = ids.get("application_ids")
    body_app = app_ids.get("application_id") if isinstance(app_ids, Mapping) else None
    if body_app is not None and body_app != app:
        raise MessageError(
            f"topic application {app!r} does not match the body's application_id {body_app!r}"
        )
    return parse_event(event, data, source=source)


# -- storage integration (backfill) ---------------------------------------------------


def storage_url(
    host: str,
    application_id: str,
    *,
    after: datetime | None = None,
    last: str | timedelta | None = None,
    limit: int | None = None,
) -> str:
    """The storage integration URL for an application's stored uplinks, oldest first.

    Send it with ``storage_headers(api_key)`` (the key needs "Read application traffic").
    ``after`` (timezone-aware) and ``last`` (``"24h"``, ``"90m"`` or a ``timedelta``) cannot
    be combined.
    """
    text = host.strip().rstrip("/")
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme != "https" or parts.path or parts.query or parts.fragment:
            raise ValueError(f"host must be a bare host name or https:// URL, got {host!r}")
        text = parts.netloc
    if not _HOST_RE.match(text):
        raise ValueError(f"invalid host {host!r}")
    app = check_id(application_id, "application id")
    params: list[tuple[str, str]] = [("order", "received_at")]
    if after is not None and last is not None:
        raise ValueError("'after' and 'last' cannot be combined (TTS refuses it)")
    if after is not None:
        if after.tzinfo is None:
            raise ValueError("'after' must be timezone-aware")
        params.append(("after", after.astimezone(UTC).isoformat().replace("+00:00", "Z")))
    if last is not None:
        if isinstance(last, timedelta):
            seconds = int(last.total_seconds())
            if seconds <= 0:
                raise ValueError(f"'last' must be positive, got {last!r}")
            last = f"{seconds}s"
        if not _DURATION_RE.match(last):
            raise ValueError(f"'last' must be a duration like 24h, 90m or 3600s, got {last!r}")
        params.append(("last", last))
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"'limit' must be a positive integer, got {limit!r}")
        params.append(("limit", str(limit)))
    query = urlencode(params, safe=":", quote_via=quote)
    path = f"/api/v3/as/applications/{quote(app)}/packages/storage/{UPLINK}"
    return f"https://{text}{path}?{query}"


def storage_headers(api_key: str) -> dict[str, str]:
    """Request headers for ``storage_url``."""
    return {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}


def _stream_records(body: str | bytes) -> list[tuple[int, str | None]]:
    """(line number, JSON text) per record; text None for a line that is not UTF-8.

    Plain lines are records (newline-delimited JSON, what TTS sends). SSE ``data:`` lines are
    joined until a blank line (one event); ``event:``/``id:``/``retry:`` and ``:`` comment
    lines are skipped.
    """
    raw_lines: list[bytes | str] = [
        *(body.split(b"\n") if isinstance(body, bytes) else body.split("\n"))
    ]
    records: list[tuple[int, str | None]] = []
    sse: list[str] = []
    sse_line = 0

    def flush() -> None:
        nonlocal sse
        if sse:
            records.append((sse_line, "\n".join(sse)))
            sse = []

    for lineno, raw in enumerate(raw_lines, start=1):
        line: str
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                flush()
                records.append((lineno, None))
                continue
        else:
            line = raw
        line = line.rstrip("\r")
        if not line.strip():
            flush()
            continue
        if line.startswith("data:"):
            if not sse:
                sse_line = lineno
            sse.append(line[5:].removeprefix(" "))
            continue
        if line.startswith(":") or line.split(":", 1)[0] in ("event", "id", "retry"):
            continue
        flush()
        records.append((lineno, line))
    flush()
    return records


def parse_storage_stream(
    body: str | bytes, *, source: str = "tts_storage"
) -> tuple[list[Uplink], list[str]]:
    """Uplinks from a storage integration response (in received order) and per-line errors.

    Never raises for a bad line: each becomes one ``"line N: ..."`` string. Stored messages of
    other kinds (join accepts, downlink events) are skipped quietly.
    """
    uplinks: list[Uplink] = []
    errors: list[str] = []
    for line, text in _stream_records(body):
        if text is None:
            errors.append(f"line {line}: not UTF-8 text")
            continue
        try:
            record = loads(text)
            if "error" in record and "result" not in record:
                error = record["error"]
                detail = error.get("message") if isinstance(error, Mapping) else error
                raise MessageError(f"the server reported an error: {detail!r}")
            result = record.get("result")
            if not isinstance(result, Mapping):
                raise MessageError('expected {"result": {...}}')
            if message_kind(result) != UPLINK:
                continue
            uplinks.append(parse_up(result, source=source))
        except MessageError as err:
            errors.append(f"line {line}: {err}")
    uplinks.sort(key=lambda u: u.received_at)  # stable: ties keep stream order
    return uplinks, errors


# -- builders (tests, simulator) ------------------------------------------------------


def _tts_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_up(
    *,
    dev_eui: str,
    fport: int,
    fcnt: int,
    payload: bytes,
    time: datetime,
    application_id: str = "ange-iot",
    device_id: str | None = None,
    correlation_id: str = "as:up:01H0S7ZJQ9MQPMVY49FT3SE07M",
    rssi: int = -90,
    snr: float = 7.5,
    gateway_id: str = "eui-6a7e111a10000000",
    decoded_payload: Mapping[str, Any] | None = None,
    normalized_payload: list[dict[str, Any]] | None = None,
    version_ids: tuple[str, str] | None = None,
    simulated: bool = False,
) -> dict[str, Any]:
    """Build an uplink as TTS would publish it (webhook body / MQTT ``up`` payload).

    Zero, empty and false fields are omitted, as TTS does.
    """
    up: dict[str, Any] = {
        "session_key_id": "AYfqmb0pc/1uRZv9xUydgQ==",
        "f_port": fport,
        "f_cnt": fcnt,
        "frm_payload": base64.b64encode(payload).decode("ascii"),
        "decoded_payload": dict(decoded_payload) if decoded_payload else None,
        "normalized_payload": list(normalized_payload) if normalized_payload else None,
        "rx_metadata": [
            {
                "gateway_ids": {"gateway_id": gateway_id, "eui": gateway_id[-16:].upper()},
                "time": _tts_time(time - timedelta(milliseconds=240)),
                "rssi": rssi,
                "channel_rssi": rssi,
                "snr": snr,
                "received_at": _tts_time(time - timedelta(milliseconds=230)),
            }
        ],
        "settings": {
            "data_rate": {
                "lora": {"bandwidth": 125000, "spreading_factor": 7, "coding_rate": "4/5"}
            },
            "frequency": "867100000",
        },
        "received_at": _tts_time(time - timedelta(milliseconds=200)),
        "consumed_airtime": "0.056576s",
    }
    if version_ids:
        up["version_ids"] = {
            "brand_id": version_ids[0],
            "model_id": version_ids[1],
            "hardware_version": "1.0",
            "firmware_version": "1.0",
            "band_id": "EU_863_870",
        }
    message: dict[str, Any] = {
        "end_device_ids": {
            "device_id": device_id or f"eui-{dev_eui.lower()}",
            "application_ids": {"application_id": application_id},
            "dev_eui": dev_eui.upper(),
            "join_eui": "70B3D57ED0000000",
            "dev_addr": "260B" + dev_eui[-4:].upper(),
        },
        "correlation_ids": [correlation_id],
        "received_at": _tts_time(time),
        UPLINK: {k: v for k, v in up.items() if v not in (0, "", None, False)},
        "simulated": simulated,
    }
    message["end_device_ids"] = {k: v for k, v in message["end_device_ids"].items() if v}
    return {k: v for k, v in message.items() if v not in (0, "", None, False, [])}
