"""Sensative Strips (Comfort, Guard, Drip, Presence): big-endian report items.

Sources: ``shared/specs/payloads.md``; Sensative's own decoders
(Sensative/strips-lora-translator-open-source ``raw-translate.js`` and ``strips-translate.js``,
Sensative/strips-lora-translator-chirpstack ``sensative-strips-decoder-chirpstack-v4.js``) and
TheThingsNetwork/lorawan-devices ``vendor/sensative/strips.js``.

Ports:

* fPort 1, live data: 2-byte history sequence number (0xFFFF = history unused), then
  ``[type][data]`` items. Bit 7 of the type byte flags an item that was also stored in the
  history log (the vendor decrements ``prevHistSeqNr`` for each); the value is still decoded
  as the current reading. The count of flagged items is the extra ``history_flagged_items``.
* fPort 2, history answer: 2-byte first sequence number, then ``[4 B seconds ago][type][data]``
  records -> ``{"history": [{"seconds_ago": n, **fields}, ...], "history_first_seq": seq}``.
* fPort 11, answer to a settings command: exactly ``03 <status>`` (the Chirpstack v4 decoder
  from Sensative) -> ``{"command_status": "ok" | "bad_settings" | "bad_length" |
  "value_not_accepted" | "unknown_command"}``.

Any other port is an error. An unknown report id raises: ``strips-translate.js`` throws
"Unknown channel" (the legacy ``raw-translate.js`` silently misreads the rest of the frame).
Report id 0 is the vendor's "empty frame" (no data bytes) and is accepted. Repeated ids: the
last wins.

Field notes: ``door`` / ``door_alarm`` are the raw device value (the vendor decoders disagree
on polarity; it is a device setting). Tamper (11/12) goes to the extras ``tamper_report`` /
``tamper_alarm``: the canonical ``tamper`` belongs to meter status codes on the sheet.
Report 110 (check-in) follows the sheet and ``raw-translate.js``: 4-byte version then four
1-byte counters (the Chirpstack decoder shows the last 4 bytes as opaque "idd data").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import struct
from typing import Any, Final

from .base import Codec, DecodeError, Fields, require, scaled_int as _scaled


class SensativeDecodeError(DecodeError):
    """A malformed Sensative Strips frame."""

    codec = "sensative_strips"


EXTRA_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "temperature_alarm_high",
        "temperature_alarm_low",
        "average_temperature",  # degC
        "average_temperature_alarm_high",
        "average_temperature_alarm_low",
        "illuminance_2",  # lx, second lux report
        "tamper_report",
        "tamper_alarm",
        "foil_alarm",
        "user_switch_alarm",
        "door_count",
        "ir_proximity",
        "ir_close_proximity",
        "disinfect_alarm",  # 0-3 as sent
        "disinfect_state",  # "dirty" | "occupied" | "cleaning" | "clean"
        "firmware_version",  # 8 hex digits
        "startup_count",
        "watchdog_count",
        "stack_tx_fail_reboot_count",
        "bad_conditions_count",
        "capacitance_flood",
        "capacitance_pad",
        "capacitance_end",
        "history_seq",  # port 1 sequence number, when history is in use (not 0xFFFF)
        "history_flagged_items",  # port 1 items with the history bit set
        "history",  # port 2: list of {"seconds_ago": int, **fields}
        "history_first_seq",  # port 2 sequence number of the first record
        "command_status",  # port 11
    }
)

PORT_LIVE: Final = 1
PORT_HISTORY: Final = 2
PORT_COMMAND: Final = 11
SEQ_UNUSED: Final = 0xFFFF
HISTORY_FLAG: Final = 0x80

COMMAND_STATUS: Final[dict[int, str]] = {
    0: "ok",
    1: "bad_settings",
    2: "bad_length",
    3: "value_not_accepted",
    4: "unknown_command",
}
DISINFECT_STATE: Final[dict[int, str]] = {0: "dirty", 1: "occupied", 2: "cleaning", 3: "clean"}

type _Handler = Callable[[bytes, int, Fields], None]


def _i16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">h", data, pos)[0]
    return value


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">H", data, pos)[0]
    return value


def _uint8(key: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out[key] = data[pos]

    return handler


def _uint16(key: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out[key] = _u16(data, pos)

    return handler


def _flag(key: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out[key] = data[pos] != 0

    return handler


def _tenths(key: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out[key] = _i16(data, pos) / 10

    return handler


def _alarm_pair(prefix: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out[f"{prefix}_high"] = bool(data[pos] & 0x01)
        out[f"{prefix}_low"] = bool(data[pos] & 0x02)

    return handler


def _empty(data: bytes, pos: int, out: Fields) -> None:
    """Report id 0: the vendor's empty frame, no data."""


def _humidity(data: bytes, pos: int, out: Fields) -> None:
    out["humidity"] = data[pos] / 2


def _disinfect(data: bytes, pos: int, out: Fields) -> None:
    out["disinfect_alarm"] = data[pos]
    state = DISINFECT_STATE.get(data[pos])
    if state is not None:
        out["disinfect_state"] = state
    else:
        out.pop("disinfect_state", None)


def _temp_hum(temperature_key: str) -> _Handler:
    def handler(data: bytes, pos: int, out: Fields) -> None:
        out["humidity"] = data[pos] / 2
        out[temperature_key] = _i16(data, pos + 1) / 10

    return handler


def _temp_door(data: bytes, pos: int, out: Fields) -> None:
    out["door"] = data[pos] != 0
    out["temperature"] = _i16(data, pos + 1) / 10


def _check_in(data: bytes, pos: int, out: Fields) -> None:
    out["firmware_version"] = data[pos : pos + 4].hex()
    out["startup_count"] = data[pos + 4]
    out["watchdog_count"] = data[pos + 5]
    out["stack_tx_fail_reboot_count"] = data[pos + 6]
    out["bad_conditions_count"] = data[pos + 7]


# report id -> (data length, name for messages, handler)
_REPORTS: Final[dict[int, tuple[int, str, _Handler]]] = {
    0: (0, "empty frame", _empty),
    1: (1, "battery", _uint8("battery")),
    2: (2, "temperature", _tenths("temperature")),
    3: (1, "temperature alarm", _alarm_pair("temperature_alarm")),
    4: (2, "average temperature", _tenths("average_temperature")),
    5: (1, "average temperature alarm", _alarm_pair("average_temperature_alarm")),
    6: (1, "humidity", _humidity),
    7: (2, "lux", _uint16("illuminance")),
    8: (2, "lux 2", _uint16("illuminance_2")),
    9: (1, "door", _flag("door")),
    10: (1, "door alarm", _flag("door_alarm")),
    11: (1, "tamper report", _flag("tamper_report")),
    12: (1, "tamper alarm", _flag("tamper_alarm")),
    13: (1, "flood", _uint8("wetness")),
    14: (1, "flood alarm", _flag("water_leak")),
    15: (1, "foil alarm", _flag("foil_alarm")),
    16: (1, "user switch 1 alarm", _flag("user_switch_alarm")),
    17: (2, "door count", _uint16("door_count")),
    18: (1, "presence", _flag("presence")),
    19: (2, "IR proximity", _uint16("ir_proximity")),
    20: (2, "IR close proximity", _uint16("ir_close_proximity")),
    21: (1, "close proximity alarm", _flag("close_proximity")),
    22: (1, "disinfect alarm", _disinfect),
    80: (3, "humidity and temperature", _temp_hum("temperature")),
    81: (3, "humidity and average temperature", _temp_hum("average_temperature")),
    82: (3, "door and temperature", _temp_door),
    110: (8, "check-in", _check_in),
    112: (2, "capacitance flood", _uint16("capacitance_flood")),
    113: (2, "capacitance pad", _uint16("capacitance_pad")),
    114: (2, "capacitance end", _uint16("capacitance_end")),
}


def _item(data: bytes, pos: int, out: Fields) -> int:
    """Decode the report item whose type byte is at ``pos``; return the next offset."""
    report_id = data[pos] & 0x7F
    spec = _REPORTS.get(report_id)
    if spec is None:
        raise SensativeDecodeError(
            f"unknown report id {report_id} (type byte 0x{data[pos]:02X}), "
            "expected a Strips report id (0-22, 80-82, 110, 112-114)",
            offset=pos,
        )
    length, name, handler = spec
    require(data, pos + 1, length, f"{name} report (id {report_id})", SensativeDecodeError)
    handler(data, pos + 1, out)
    return pos + 1 + length


def _live(data: bytes) -> Fields:
    require(data, 0, 2, "history sequence number", SensativeDecodeError)
    out: Fields = {}
    seq = _u16(data, 0)
    flagged = 0
    pos = 2
    while pos < len(data):
        if data[pos] & HISTORY_FLAG:
            flagged += 1
        pos = _item(data, pos, out)
    if seq != SEQ_UNUSED:
        out["history_seq"] = seq
    if flagged:
        out["history_flagged_items"] = flagged
    return out


def _history(data: bytes) -> Fields:
    require(data, 0, 2, "first history sequence number", SensativeDecodeError)
    records: list[Fields] = []
    pos = 2
    while pos < len(data):
        require(data, pos, 4, "history record time (seconds ago)", SensativeDecodeError)
        seconds_ago: int = struct.unpack_from(">I", data, pos)[0]
        require(data, pos + 4, 1, "history record type byte", SensativeDecodeError)
        record: Fields = {"seconds_ago": seconds_ago}
        pos = _item(data, pos + 4, record)
        records.append(record)
    return {"history": records, "history_first_seq": _u16(data, 0)}


def _command(data: bytes) -> Fields:
    if len(data) != 2:
        raise SensativeDecodeError(
            f"command answer is {len(data)} byte(s), expected 2 (03 <status>)",
            offset=min(len(data), 2),
        )
    if data[0] != 0x03:
        raise SensativeDecodeError(
            f"command answer starts with 0x{data[0]:02X}, expected 0x03", offset=0
        )
    status = COMMAND_STATUS.get(data[1])
    if status is None:
        raise SensativeDecodeError(f"unknown command status {data[1]}, expected 0-4", offset=1)
    return {"command_status": status}


def decode(fport: int, payload: bytes) -> Fields:
    """Decode one Strips uplink into canonical fields plus ``EXTRA_FIELDS``."""
    data = bytes(payload)
    if fport == PORT_LIVE:
        return _live(data)
    if fport == PORT_HISTORY:
        return _history(data)
    if fport == PORT_COMMAND:
        return _command(data)
    raise SensativeDecodeError(
        f"fPort {fport} is not a Strips uplink port (expected 1 live, 2 history, 11 command answer)"
    )


# --- encoder (simulator and round-trip tests) -----------------------------------------------

_BOOLS: Final[dict[str, int]] = {
    "door": 9,
    "door_alarm": 10,
    "water_leak": 14,
    "presence": 18,
    "close_proximity": 21,
}
_ENCODABLE: Final = frozenset(
    {"battery", "temperature", "humidity", "illuminance", "wetness", *_BOOLS}
)


def encode(fields: Mapping[str, Any]) -> bytes:
    """Encode canonical fields as a live (port 1) Strips frame, sequence number 0xFFFF.

    Raises ``ValueError`` for an unknown key or a value out of range, ``TypeError`` for a
    value of the wrong type.
    """
    unknown = sorted(set(fields) - _ENCODABLE)
    if unknown:
        raise ValueError(f"sensative_strips cannot encode field(s) {', '.join(unknown)}")
    out = bytearray(struct.pack(">H", SEQ_UNUSED))
    if "battery" in fields:
        out += struct.pack(">BB", 1, _scaled(fields, "battery", 1, 0, 100))
    if "temperature" in fields:
        out += struct.pack(">Bh", 2, _scaled(fields, "temperature", 10, -32768, 32767))
    if "humidity" in fields:
        out += struct.pack(">BB", 6, _scaled(fields, "humidity", 2, 0, 200))
    if "illuminance" in fields:
        out += struct.pack(">BH", 7, _scaled(fields, "illuminance", 1, 0, 0xFFFF))
    if "wetness" in fields:
        out += struct.pack(">BB", 13, _scaled(fields, "wetness", 1, 0, 100))
    for key, report_id in _BOOLS.items():
        if key in fields:
            value = fields[key]
            if not isinstance(value, bool):
                raise TypeError(f"{key} must be a bool, got {value!r}")
            out += struct.pack(">BB", report_id, int(value))
    return bytes(out)


CODEC: Final = Codec(
    id="sensative_strips",
    name="Sensative Strips",
    models=("Strips Comfort", "Strips Guard", "Strips Drip", "Strips Presence"),
    default_fport=PORT_LIVE,
    decode=decode,
    error=SensativeDecodeError,
    extra_fields=EXTRA_FIELDS,
    doc=(
        "Port 1 live reports (sequence number + [type][data] items, bit 7 = history flag), "
        "port 2 history records, port 11 settings-command answers. Big-endian."
    ),
)
