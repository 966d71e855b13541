"""Milesight EM310-UDL, EM500-UDL, EM400-UDL/TLD: little-endian channel/type records.

Sources: ``shared/specs/payloads.md``; Milesight-IoT/SensorDecoders ``EM310-UDL_Decoder.js``,
``EM500-UDL_Decoder.js``, ``EM400-TLD_Decoder.js`` (+ README examples) and
``EM400-UDL_Chirpstack.js``; TheThingsNetwork/lorawan-devices ``vendor/milesight-iot``.

One decoder serves all three models: their channel/type pairs do not collide.

| record | model | fields |
|---|---|---|
| ``01 75`` u8 | all | ``battery`` % |
| ``03 82`` u16 | EM310, EM500 | ``distance`` mm |
| ``04 82`` u16 | EM400 | ``distance`` mm |
| ``03 67`` i16 /10 | EM400 | ``temperature`` degC |
| ``04 00`` / ``05 00`` u8 | EM310 / EM400 | ``tilt`` (0 normal, else tilted) |
| ``83 67`` i16 + u8 | EM400 | ``temperature`` + ``temperature_alarm`` |
| ``84 82`` u16 + u8 | EM400 | ``distance`` + ``distance_alarm`` |
| ``83 E9`` 5 B | EM500 | ``distance_alarm`` / ``distance_mutation_alarm`` only (see below) |
| ``20 CE`` u32 + u16 | EM500 | ``history`` list of ``{"timestamp": unix s, "distance": mm}`` |
| ``FF 01/09/0A/FF/16/0F/FE/0B`` | all | device information (extras) |
| ``FE``/``FF`` + other known type | all | configuration answers -> ``config_responses`` |

Decisions:

* **Unknown record**: the vendor decoders ``break`` out of the loop on an unknown channel and
  return what they have (they throw on an unknown ``FF``/``FE`` answer type). A record of
  unknown length makes the rest unreadable, so decoding stops there for both cases and the
  offset is reported in ``undecoded_offset``; if nothing at all was decoded (unknown first
  record) the frame is rejected with ``MilesightDecodeError``. A truncated record is an error.
* ``83 E9`` (EM500-UDL distance mutation): the vendor divides both its distance values by 10
  without stating a unit, unlike ``03 82`` which is plain mm. Rather than guess, only the
  alarm state is reported from it; the regular ``03 82`` record still carries the distance.
* ``tilt``: the vendor maps 0 -> normal, 1 -> tilt (newer decoders: anything else "unknown";
  ``EM400-UDL_Chirpstack.js``: non-zero -> tilt). We use non-zero -> tilted.
* Repeated records: last wins, except ``20 CE`` history points, which accumulate in order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import struct
from typing import Any, Final

from .base import Codec, DecodeError, Fields, require, scaled_int as _scaled


class MilesightDecodeError(DecodeError):
    """A malformed Milesight frame."""

    codec = "milesight"


EXTRA_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "temperature_alarm",  # bool, from 83 67
        "distance_alarm",  # bool, from 84 82 / 83 E9
        "distance_mutation_alarm",  # bool, from 83 E9
        "history",  # list of {"timestamp": int unix seconds, "distance": int mm}
        "ipso_version",
        "hardware_version",
        "firmware_version",
        "tsl_version",
        "serial_number",
        "lorawan_class",
        "reset_event",  # True when the device reports a reset
        "device_status_on",  # True when the device reports power-on
        "config_responses",  # list of hex strings, one per configuration answer record
        "undecoded_offset",  # byte offset where an unknown record stopped decoding
    }
)

MODELS: Final = ("EM310-UDL", "EM500-UDL", "EM400-UDL", "EM400-TLD")

type _Handler = Callable[[bytes, int, Fields], None]


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<H", data, pos)[0]
    return value


def _i16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<h", data, pos)[0]
    return value


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from("<I", data, pos)[0]
    return value


def _battery(data: bytes, pos: int, out: Fields) -> None:
    out["battery"] = data[pos]


def _distance(data: bytes, pos: int, out: Fields) -> None:
    out["distance"] = _u16(data, pos)


def _temperature(data: bytes, pos: int, out: Fields) -> None:
    out["temperature"] = _i16(data, pos) / 10


def _position(data: bytes, pos: int, out: Fields) -> None:
    out["tilt"] = data[pos] != 0


def _temperature_alarm(data: bytes, pos: int, out: Fields) -> None:
    out["temperature"] = _i16(data, pos) / 10
    out["temperature_alarm"] = data[pos + 2] != 0


def _distance_alarm(data: bytes, pos: int, out: Fields) -> None:
    out["distance"] = _u16(data, pos)
    out["distance_alarm"] = data[pos + 2] != 0


def _distance_mutation(data: bytes, pos: int, out: Fields) -> None:
    # 0 normal, 1 threshold alarm, 2 mutation alarm (EM500-UDL_Decoder.js readDistanceAlarm).
    status = data[pos + 4]
    out["distance_alarm"] = status != 0
    out["distance_mutation_alarm"] = status == 2


def _history(data: bytes, pos: int, out: Fields) -> None:
    points: list[Fields] = out.setdefault("history", [])
    points.append({"timestamp": _u32(data, pos), "distance": _u16(data, pos + 4)})


def _ipso_version(data: bytes, pos: int, out: Fields) -> None:
    out["ipso_version"] = f"v{data[pos] >> 4}.{data[pos] & 0x0F}"


def _hardware_version(data: bytes, pos: int, out: Fields) -> None:
    out["hardware_version"] = f"v{data[pos]}.{data[pos + 1] >> 4}"


def _firmware_version(data: bytes, pos: int, out: Fields) -> None:
    out["firmware_version"] = f"v{data[pos]}.{data[pos + 1]}"


def _tsl_version(data: bytes, pos: int, out: Fields) -> None:
    out["tsl_version"] = f"v{data[pos]}.{data[pos + 1]}"


def _serial_number(data: bytes, pos: int, out: Fields) -> None:
    out["serial_number"] = data[pos : pos + 8].hex()


_LORAWAN_CLASS: Final[dict[int, str]] = {0: "A", 1: "B", 2: "C", 3: "CtoB"}


def _lorawan_class(data: bytes, pos: int, out: Fields) -> None:
    out["lorawan_class"] = _LORAWAN_CLASS.get(data[pos], f"unknown({data[pos]})")


def _reset_event(data: bytes, pos: int, out: Fields) -> None:
    out["reset_event"] = True


def _device_status(data: bytes, pos: int, out: Fields) -> None:
    out["device_status_on"] = True


# (channel, type) -> (data length, name for messages, handler)
_RECORDS: Final[dict[tuple[int, int], tuple[int, str, _Handler]]] = {
    (0x01, 0x75): (1, "battery", _battery),
    (0x03, 0x82): (2, "distance", _distance),
    (0x04, 0x82): (2, "distance (EM400)", _distance),
    (0x03, 0x67): (2, "temperature", _temperature),
    (0x04, 0x00): (1, "position (EM310)", _position),
    (0x05, 0x00): (1, "position (EM400)", _position),
    (0x83, 0x67): (3, "temperature alarm", _temperature_alarm),
    (0x84, 0x82): (3, "distance alarm", _distance_alarm),
    (0x83, 0xE9): (5, "distance mutation", _distance_mutation),
    (0x20, 0xCE): (6, "history", _history),
    (0xFF, 0x01): (1, "IPSO version", _ipso_version),
    (0xFF, 0x09): (2, "hardware version", _hardware_version),
    (0xFF, 0x0A): (2, "firmware version", _firmware_version),
    (0xFF, 0xFF): (2, "TSL version", _tsl_version),
    (0xFF, 0x16): (8, "serial number", _serial_number),
    (0xFF, 0x0F): (1, "LoRaWAN class", _lorawan_class),
    (0xFF, 0xFE): (1, "reset event", _reset_event),
    (0xFF, 0x0B): (1, "device status", _device_status),
}

# Configuration answers on channel FE or FF: type -> data length (union of the three
# vendor decoders' ``handle_downlink_response``; lengths agree where they overlap).
_CONFIG_ANSWERS: Final[dict[int, int]] = {
    0x02: 2,  # collection interval
    0x03: 2,  # report interval
    0x06: 9,  # alarm config
    0x10: 1,  # reboot
    0x11: 4,  # timestamp
    0x13: 1,  # install height enable
    0x17: 2,  # timezone
    0x1C: 2,  # recollection config
    0x27: 1,  # clear history
    0x28: 1,  # report / query status
    0x35: 8,  # D2D key
    0x3B: 1,  # time sync enable
    0x3E: 1,  # tilt linkage distance enable
    0x4A: 1,  # sync time
    0x56: 1,  # ToF detection enable
    0x68: 1,  # history enable
    0x69: 1,  # retransmit enable
    0x6A: 3,  # retransmit / resend interval
    0x70: 2,  # people existing height
    0x71: 1,  # working mode
    0x77: 2,  # install height
    0x84: 1,  # D2D enable
    0x96: 8,  # D2D master config
    0xF1: 4,  # distance calibration
    0xF2: 2,  # alarm report counts
    0xF5: 1,  # threshold alarm release enable
}


def decode(fport: int, payload: bytes) -> Fields:
    """Decode one Milesight EM uplink into canonical fields plus ``EXTRA_FIELDS``."""
    data = bytes(payload)
    if not 1 <= fport <= 223:
        raise MilesightDecodeError(f"fPort {fport} is not an application port (expected 1-223)")
    if not data:
        raise MilesightDecodeError("empty payload, expected channel/type records", offset=0)
    out: Fields = {}
    pos = 0
    while pos < len(data):
        require(data, pos, 2, "record header (channel, type)", MilesightDecodeError)
        channel, kind = data[pos], data[pos + 1]
        spec = _RECORDS.get((channel, kind))
        if spec is not None:
            length, name, handler = spec
            require(
                data,
                pos + 2,
                length,
                f"{name} record ({channel:02X} {kind:02X})",
                MilesightDecodeError,
            )
            handler(data, pos + 2, out)
        elif channel in (0xFE, 0xFF) and kind in _CONFIG_ANSWERS:
            length = _CONFIG_ANSWERS[kind]
            require(
                data,
                pos + 2,
                length,
                f"configuration answer ({channel:02X} {kind:02X})",
                MilesightDecodeError,
            )
            answers: list[str] = out.setdefault("config_responses", [])
            answers.append(data[pos : pos + 2 + length].hex())
        else:
            if pos == 0:
                raise MilesightDecodeError(
                    f"unknown record {channel:02X} {kind:02X}, expected a known "
                    "EM310/EM500/EM400 channel/type pair",
                    offset=0,
                )
            out["undecoded_offset"] = pos
            break
        pos += 2 + length
    return out


# --- encoder (simulator and round-trip tests) -----------------------------------------------

_ENCODABLE: Final[dict[str, frozenset[str]]] = {
    "EM310-UDL": frozenset({"battery", "distance", "tilt"}),
    "EM500-UDL": frozenset({"battery", "distance"}),
    "EM400-UDL": frozenset({"battery", "temperature", "distance", "tilt"}),
    "EM400-TLD": frozenset({"battery", "temperature", "distance", "tilt"}),
}


def encode(fields: Mapping[str, Any], model: str = "EM500-UDL") -> bytes:
    """Encode canonical fields as a periodic report of ``model``.

    Raises ``ValueError`` for an unknown model, a field the model does not report, or a
    value out of range; ``TypeError`` for a value of the wrong type.
    """
    allowed = _ENCODABLE.get(model)
    if allowed is None:
        raise ValueError(f"unknown Milesight model {model!r}, expected one of {MODELS}")
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValueError(f"{model} cannot encode field(s) {', '.join(unknown)}")
    em400 = model.startswith("EM400")
    out = bytearray()
    if "battery" in fields:
        out += struct.pack("<BBB", 0x01, 0x75, _scaled(fields, "battery", 1, 0, 100))
    if "temperature" in fields:
        out += struct.pack("<BBh", 0x03, 0x67, _scaled(fields, "temperature", 10, -32768, 32767))
    if "distance" in fields:
        channel = 0x04 if em400 else 0x03
        out += struct.pack("<BBH", channel, 0x82, _scaled(fields, "distance", 1, 0, 0xFFFF))
    if "tilt" in fields:
        tilt = fields["tilt"]
        if not isinstance(tilt, bool):
            raise TypeError(f"tilt must be a bool, got {tilt!r}")
        out += struct.pack("<BBB", 0x05 if em400 else 0x04, 0x00, int(tilt))
    return bytes(out)


CODEC: Final = Codec(
    id="milesight",
    name="Milesight EM distance sensors",
    models=MODELS,
    default_fport=85,
    decode=decode,
    error=MilesightDecodeError,
    extra_fields=EXTRA_FIELDS,
    doc=(
        "Little-endian channel/type records (default fPort 85) for EM310-UDL, EM500-UDL and "
        "EM400-UDL/TLD. Device-information (FF) and configuration-answer records are kept as "
        "extras; decoding stops at an unknown record, keeping what came before."
    ),
)
