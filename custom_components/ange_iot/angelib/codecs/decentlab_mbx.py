"""Decentlab DL-MBX ultrasonic distance sensor: Decentlab protocol version 2, big-endian.

Sources: ``shared/specs/payloads.md``; decentlab/decentlab-decoders ``DL-MBX/DL-MBX.py``
(and the identical TheThingsNetwork/lorawan-devices ``vendor/decentlab/dl-mbx.js``).

Layout: ``[0]`` protocol version (must be 2), ``[1-2]`` device id, ``[3-4]`` sensor flags,
then 16-bit words for each flagged sensor group in bit order:

* bit 0 -> 2 words: ``distance`` (mm), ``valid_samples``
* bit 1 -> 1 word: ``battery_voltage`` (word / 1000 V)

A battery-only frame (flags = 0x0002) is valid. Zero valid samples means the sensor got no
echo; the vendor still reports the distance word (usually 0), and so do we, next to
``valid_samples = 0`` so the consumer can ignore it. The device id is the extra ``device_id``.

Stricter than the vendor decoder (which silently ignores both): flag bits 2-15 (DL-MBX has
only two sensor groups; such a frame is most likely another Decentlab model decoded with the
wrong codec) and bytes left over after the flagged words are errors.
"""

from __future__ import annotations

from collections.abc import Mapping
import struct
from typing import Any, Final

from .base import Codec, DecodeError, Fields, require, scaled_int as _scaled


class DecentlabDecodeError(DecodeError):
    """A malformed Decentlab DL-MBX frame."""

    codec = "decentlab_mbx"


EXTRA_FIELDS: Final[frozenset[str]] = frozenset({"device_id"})

PROTOCOL_VERSION: Final = 2
FLAG_DISTANCE: Final = 0x0001
FLAG_BATTERY: Final = 0x0002
KNOWN_FLAGS: Final = FLAG_DISTANCE | FLAG_BATTERY
HEADER_LENGTH: Final = 5


def decode(fport: int, payload: bytes) -> Fields:
    """Decode one DL-MBX uplink into canonical fields plus ``device_id``."""
    data = bytes(payload)
    if not 1 <= fport <= 223:
        raise DecentlabDecodeError(f"fPort {fport} is not an application port (expected 1-223)")
    if not data:
        raise DecentlabDecodeError("empty payload, expected a 5-byte header", offset=0)
    if data[0] != PROTOCOL_VERSION:
        raise DecentlabDecodeError(
            f"protocol version {data[0]}, expected {PROTOCOL_VERSION}", offset=0
        )
    require(data, 0, HEADER_LENGTH, "header (version, device id, flags)", DecentlabDecodeError)
    device_id, flags = struct.unpack_from(">HH", data, 1)
    if flags & ~KNOWN_FLAGS:
        raise DecentlabDecodeError(
            f"sensor flags 0x{flags:04X} set bits other than 0-1 (DL-MBX has two sensor "
            "groups; is this another Decentlab model?)",
            offset=3,
        )
    out: Fields = {"device_id": device_id}
    pos = HEADER_LENGTH
    if flags & FLAG_DISTANCE:
        require(data, pos, 4, "distance and valid-samples words", DecentlabDecodeError)
        out["distance"], out["valid_samples"] = struct.unpack_from(">HH", data, pos)
        pos += 4
    if flags & FLAG_BATTERY:
        require(data, pos, 2, "battery voltage word", DecentlabDecodeError)
        out["battery_voltage"] = struct.unpack_from(">H", data, pos)[0] / 1000
        pos += 2
    if pos != len(data):
        raise DecentlabDecodeError(
            f"{len(data) - pos} unexpected trailing byte(s) after the words that flags "
            f"0x{flags:04X} announce, expected the frame to end",
            offset=pos,
        )
    return out


# --- encoder (simulator and round-trip tests) -----------------------------------------------

_ENCODABLE: Final = frozenset({"distance", "valid_samples", "battery_voltage"})


def encode(fields: Mapping[str, Any], *, device_id: int = 0) -> bytes:
    """Encode canonical fields as a DL-MBX frame.

    ``distance`` and ``valid_samples`` travel together and must both be given.
    Raises ``ValueError`` for an unknown key, a missing partner or an out-of-range value,
    ``TypeError`` for a value of the wrong type.
    """
    unknown = sorted(set(fields) - _ENCODABLE)
    if unknown:
        raise ValueError(f"decentlab_mbx cannot encode field(s) {', '.join(unknown)}")
    if ("distance" in fields) != ("valid_samples" in fields):
        raise ValueError("distance and valid_samples must be given together")
    if isinstance(device_id, bool) or not isinstance(device_id, int):
        raise TypeError(f"device_id must be an int, got {device_id!r}")
    if not 0 <= device_id <= 0xFFFF:
        raise ValueError(f"device_id={device_id} out of range (0 to 65535)")
    flags = 0
    words = bytearray()
    if "distance" in fields:
        flags |= FLAG_DISTANCE
        words += struct.pack(
            ">HH",
            _scaled(fields, "distance", 1, 0, 0xFFFF),
            _scaled(fields, "valid_samples", 1, 0, 0xFFFF),
        )
    if "battery_voltage" in fields:
        flags |= FLAG_BATTERY
        words += struct.pack(">H", _scaled(fields, "battery_voltage", 1000, 0, 0xFFFF))
    return struct.pack(">BHH", PROTOCOL_VERSION, device_id, flags) + bytes(words)


CODEC: Final = Codec(
    id="decentlab_mbx",
    name="Decentlab DL-MBX",
    models=("DL-MBX",),
    default_fport=1,
    decode=decode,
    error=DecentlabDecodeError,
    extra_fields=EXTRA_FIELDS,
    doc=(
        "Decentlab protocol v2, big-endian: version 2, device id, sensor flags, then words "
        "(bit 0: distance mm + valid samples; bit 1: battery mV). Battery-only frames are valid."
    ),
)
