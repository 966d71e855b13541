"""Elsys ERS / EMS / ELT family: one big-endian type-length-value stream.

Sources: ``shared/specs/payloads.md`` and the vendor decoder ``elsys.js`` (Elsys AB, as
published in TheThingsNetwork/lorawan-devices ``vendor/elsys/elsys.js``).

Decisions (vendor decoder quoted where it decides):

* **Unknown type**: the vendor decoder stops at the first type it does not know
  (``default: i = data.length`` - "something is wrong with data") and returns what it had
  decoded so far. We do the same, because a type we cannot size makes every later byte
  meaningless, while the items before it were complete and valid. The offset where decoding
  stopped is reported in the extra field ``undecoded_offset``. A frame whose *first* type is
  unknown yields nothing at all; that is not an Elsys frame, so it raises ``ElsysDecodeError``.
* **Truncated item**: an error (the vendor reads ``undefined`` and produces NaN).
* **Repeated types**: the last one wins (the vendor overwrites its object key), except 0x19
  external temperature 2, which the vendor collects into an array when it repeats (one per
  1-wire probe). We keep the *first* value in ``external_temperature_2`` (probe 1, a stable
  float) and every value, in frame order, in ``external_temperature_2_all``.
* **0x12 water leak** is a 0-255 level, not a bool: it goes to the extra ``water_leak_level``,
  never to the canonical ``water_leak``.
* **0x09 GPS** is consumed and ignored (layout is firmware dependent); **0x3D debug** is
  listed on the sheet but not in the vendor decoder: consumed (4 bytes) and ignored.
* **Settings frame**: a payload starting with 0x3E is the start-up settings report; it is
  recognised (``{"settings_frame": True}``) and not decoded as measurements.
* 0x0B / 0x17 absolute pulse counts and 0x14 pressure are read unsigned (the vendor's JS
  ``<<24`` makes them signed by accident; its own comment says 0..0xFFFFFFFF); 0x1B external
  analog is a signed int32 as the vendor comment says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import struct
from typing import Any, Final

from .base import Codec, DecodeError, Fields, require, scaled_int as _scaled


class ElsysDecodeError(DecodeError):
    """A malformed Elsys frame."""

    codec = "elsys"


EXTRA_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "acceleration_x",  # raw int8, +-63 = 1 g
        "acceleration_y",
        "acceleration_z",
        "analog1_mv",
        "analog2_mv",
        "pulse_count_1",  # pulses since last report
        "pulse_count_1_total",  # absolute counter
        "pulse_count_2",
        "pulse_count_2_total",
        "digital_input_1",  # 0/1 as sent
        "digital_input_2",
        "acc_motion_count",
        "ir_internal_temperature",  # degC
        "ir_external_temperature",  # degC
        "water_leak_level",  # 0-255
        "grid_eye_reference",  # degC, integer reference of the Grid-EYE frame
        "grid_eye",  # list of 64 pixel temperatures, degC
        "external_temperature_2",  # degC, first 0x19 item of the frame
        "external_temperature_2_all",  # list of every 0x19 value, frame order
        "external_analog_uv",  # signed microvolts
        "settings_frame",  # True for a 0x3E start-up settings frame
        "undecoded_offset",  # byte offset where an unknown type stopped decoding
    }
)

SETTINGS_FRAME_TYPE: Final = 0x3E

type _Handler = Callable[[bytes, int, Fields], None]


def _i16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">h", data, pos)[0]
    return value


def _u16(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">H", data, pos)[0]
    return value


def _u32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">I", data, pos)[0]
    return value


def _i32(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">i", data, pos)[0]
    return value


def _i8(data: bytes, pos: int) -> int:
    value: int = struct.unpack_from(">b", data, pos)[0]
    return value


def _temperature(data: bytes, pos: int, out: Fields) -> None:
    out["temperature"] = _i16(data, pos) / 10


def _humidity(data: bytes, pos: int, out: Fields) -> None:
    out["humidity"] = data[pos]


def _acceleration(data: bytes, pos: int, out: Fields) -> None:
    out["acceleration_x"] = _i8(data, pos)
    out["acceleration_y"] = _i8(data, pos + 1)
    out["acceleration_z"] = _i8(data, pos + 2)


def _light(data: bytes, pos: int, out: Fields) -> None:
    out["illuminance"] = _u16(data, pos)


def _motion(data: bytes, pos: int, out: Fields) -> None:
    out["motion_count"] = data[pos]


def _co2(data: bytes, pos: int, out: Fields) -> None:
    out["co2"] = _u16(data, pos)


def _vdd(data: bytes, pos: int, out: Fields) -> None:
    out["battery_voltage"] = _u16(data, pos) / 1000


def _analog1(data: bytes, pos: int, out: Fields) -> None:
    out["analog1_mv"] = _u16(data, pos)


def _ignore(data: bytes, pos: int, out: Fields) -> None:
    """GPS (firmware dependent) and debug items: consumed, not reported."""


def _pulse1(data: bytes, pos: int, out: Fields) -> None:
    out["pulse_count_1"] = _u16(data, pos)


def _pulse1_abs(data: bytes, pos: int, out: Fields) -> None:
    out["pulse_count_1_total"] = _u32(data, pos)


def _ext_temp1(data: bytes, pos: int, out: Fields) -> None:
    out["external_temperature"] = _i16(data, pos) / 10


def _digital1(data: bytes, pos: int, out: Fields) -> None:
    out["digital_input_1"] = data[pos]


def _distance(data: bytes, pos: int, out: Fields) -> None:
    out["distance"] = _u16(data, pos)


def _acc_motion(data: bytes, pos: int, out: Fields) -> None:
    out["acc_motion_count"] = data[pos]


def _ir_temp(data: bytes, pos: int, out: Fields) -> None:
    out["ir_internal_temperature"] = _i16(data, pos) / 10
    out["ir_external_temperature"] = _i16(data, pos + 2) / 10


def _occupancy(data: bytes, pos: int, out: Fields) -> None:
    out["occupancy"] = data[pos]


def _water_leak(data: bytes, pos: int, out: Fields) -> None:
    out["water_leak_level"] = data[pos]


def _grid_eye(data: bytes, pos: int, out: Fields) -> None:
    # Vendor: pixel = ref + byte / 10, ref read unsigned.
    ref = data[pos]
    out["grid_eye_reference"] = ref
    out["grid_eye"] = [round(ref + data[pos + 1 + j] / 10, 1) for j in range(64)]


def _pressure(data: bytes, pos: int, out: Fields) -> None:
    out["pressure"] = _u32(data, pos) / 1000


def _sound(data: bytes, pos: int, out: Fields) -> None:
    out["sound_peak"] = data[pos]
    out["sound_avg"] = data[pos + 1]


def _pulse2(data: bytes, pos: int, out: Fields) -> None:
    out["pulse_count_2"] = _u16(data, pos)


def _pulse2_abs(data: bytes, pos: int, out: Fields) -> None:
    out["pulse_count_2_total"] = _u32(data, pos)


def _analog2(data: bytes, pos: int, out: Fields) -> None:
    out["analog2_mv"] = _u16(data, pos)


def _ext_temp2(data: bytes, pos: int, out: Fields) -> None:
    value = _i16(data, pos) / 10
    every: list[float] = out.setdefault("external_temperature_2_all", [])
    every.append(value)
    out.setdefault("external_temperature_2", value)


def _digital2(data: bytes, pos: int, out: Fields) -> None:
    out["digital_input_2"] = data[pos]


def _analog_uv(data: bytes, pos: int, out: Fields) -> None:
    out["external_analog_uv"] = _i32(data, pos)


def _tvoc(data: bytes, pos: int, out: Fields) -> None:
    out["tvoc"] = _u16(data, pos)


# type byte -> (data length, name for messages, handler)
_TYPES: Final[dict[int, tuple[int, str, _Handler]]] = {
    0x01: (2, "temperature", _temperature),
    0x02: (1, "humidity", _humidity),
    0x03: (3, "acceleration", _acceleration),
    0x04: (2, "light", _light),
    0x05: (1, "motion count", _motion),
    0x06: (2, "CO2", _co2),
    0x07: (2, "VDD", _vdd),
    0x08: (2, "analog 1", _analog1),
    0x09: (6, "GPS", _ignore),
    0x0A: (2, "pulse 1", _pulse1),
    0x0B: (4, "pulse 1 absolute", _pulse1_abs),
    0x0C: (2, "external temperature", _ext_temp1),
    0x0D: (1, "external digital", _digital1),
    0x0E: (2, "external distance", _distance),
    0x0F: (1, "acceleration motion count", _acc_motion),
    0x10: (4, "IR temperature", _ir_temp),
    0x11: (1, "occupancy", _occupancy),
    0x12: (1, "water leak", _water_leak),
    0x13: (65, "Grid-EYE", _grid_eye),
    0x14: (4, "pressure", _pressure),
    0x15: (2, "sound", _sound),
    0x16: (2, "pulse 2", _pulse2),
    0x17: (4, "pulse 2 absolute", _pulse2_abs),
    0x18: (2, "analog 2", _analog2),
    0x19: (2, "external temperature 2", _ext_temp2),
    0x1A: (1, "external digital 2", _digital2),
    0x1B: (4, "external analog uV", _analog_uv),
    0x1C: (2, "TVOC", _tvoc),
    0x3D: (4, "debug", _ignore),
}


def decode(fport: int, payload: bytes) -> Fields:
    """Decode one Elsys uplink into canonical fields plus ``EXTRA_FIELDS``."""
    data = bytes(payload)
    if not 1 <= fport <= 223:
        raise ElsysDecodeError(f"fPort {fport} is not an application port (expected 1-223)")
    if not data:
        raise ElsysDecodeError("empty payload, expected at least one type byte", offset=0)
    if data[0] == SETTINGS_FRAME_TYPE:
        return {"settings_frame": True}
    out: Fields = {}
    pos = 0
    while pos < len(data):
        item_type = data[pos]
        spec = _TYPES.get(item_type)
        if spec is None:
            if pos == 0:
                raise ElsysDecodeError(
                    f"unknown type 0x{item_type:02X}, expected a known Elsys type "
                    "(0x01-0x1C, 0x3D) or a 0x3E settings frame",
                    offset=0,
                )
            out["undecoded_offset"] = pos
            break
        length, name, handler = spec
        require(data, pos + 1, length, f"{name} item (type 0x{item_type:02X})", ElsysDecodeError)
        handler(data, pos + 1, out)
        pos += 1 + length
    return out


# --- encoder (simulator and round-trip tests) -----------------------------------------------

# canonical field -> (type byte, struct format of the value, scale, low raw, high raw),
# in the order the items are written.
_ENCODERS: Final[dict[str, tuple[int, str, float, int, int]]] = {
    "temperature": (0x01, ">h", 10, -32768, 32767),
    "humidity": (0x02, ">B", 1, 0, 255),
    "illuminance": (0x04, ">H", 1, 0, 0xFFFF),
    "motion_count": (0x05, ">B", 1, 0, 255),
    "co2": (0x06, ">H", 1, 0, 0xFFFF),
    "battery_voltage": (0x07, ">H", 1000, 0, 0xFFFF),
    "external_temperature": (0x0C, ">h", 10, -32768, 32767),
    "distance": (0x0E, ">H", 1, 0, 0xFFFF),
    "occupancy": (0x11, ">B", 1, 0, 2),
    "pressure": (0x14, ">I", 1000, 0, 0xFFFFFFFF),
    "tvoc": (0x1C, ">H", 1, 0, 0xFFFF),
}
_SOUND: Final = ("sound_peak", "sound_avg")


def encode(fields: Mapping[str, Any]) -> bytes:
    """Encode canonical measurement fields as an Elsys frame (values rounded to resolution).

    Raises ``ValueError`` for an unknown key or an out-of-range value, ``TypeError`` for a
    value that is not a number. ``sound_peak`` and ``sound_avg`` share one item and must be
    given together.
    """
    unknown = sorted(set(fields) - set(_ENCODERS) - set(_SOUND))
    if unknown:
        raise ValueError(f"elsys cannot encode field(s) {', '.join(unknown)}")
    if (_SOUND[0] in fields) != (_SOUND[1] in fields):
        raise ValueError("sound_peak and sound_avg must be given together")
    out = bytearray()
    for key, (item_type, fmt, scale, low, high) in _ENCODERS.items():
        if key in fields:
            out.append(item_type)
            out += struct.pack(fmt, _scaled(fields, key, scale, low, high))
    if _SOUND[0] in fields:
        out.append(0x15)
        out += bytes(_scaled(fields, key, 1, 0, 255) for key in _SOUND)
    return bytes(out)


CODEC: Final = Codec(
    id="elsys",
    name="Elsys",
    models=(
        "ERS",
        "ERS Lite",
        "ERS CO2",
        "ERS Eye",
        "ERS Desk",
        "ERS Sound",
        "ERS VOC",
        "EMS",
        "EMS Desk",
        "ELT Lite",
        "ELT 2",
        "ELT Ultrasonic",
        "ELT Snow",
    ),
    default_fport=5,
    decode=decode,
    error=ElsysDecodeError,
    extra_fields=EXTRA_FIELDS,
    doc=(
        "Big-endian type/length/value stream on any application port (default 5). "
        "0x3E frames are start-up settings reports. Decoding stops at an unknown type "
        "(as the vendor decoder does); the items before it are kept."
    ),
)
