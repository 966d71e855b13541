"""Kamstrup flowIQ 2200 water meter: OMS (wireless M-Bus application layer) over LoRaWAN.

Sources: ``shared/specs/payloads.md``; the Kamstrup decoder published in
TheThingsNetwork/lorawan-devices ``vendor/kamstrup/mbusparser.js`` and its examples in
``mbusparser.yaml`` (EN 13757-7 transport layer, EN 13757-3:2018 data records).

Transport layer (byte 0 = CI): 0x78 no header; 0x7A short header (access number, status,
2-byte configuration word); 0x72 long header (4-byte BCD identification number, 2-byte
manufacturer, version, device type, access number, status, configuration word). Security mode
= configuration word bits 8-12; anything but 0 means the application data is encrypted and
raises :class:`KamstrupEncryptedFrameError` (the vendor decoder refuses it too).

Records: DIF (+ DIFEs) VIF (+ VIFEs) data, little-endian. What we read:

* ``x4 6D`` date/time type F (``x6 6D`` type I) -> ``meter_time``. The vendor decoder builds
  it with ``Date.UTC`` and then strips the ``Z`` (the meter clock carries no zone); the
  vectors give it as UTC with ``Z``, and so do we. Year = 1900 + 100 x hundred-year bits +
  year (type F, as the vendor). A set IV bit means "time invalid": no ``meter_time``. Field
  values out of range (month 13, minute 61, 30 February, year > 99) are a decode error.
* ``x4 10..17`` volume, 10^-6 .. 10 m3 -> ``volume`` (m3, rounded to litres).
* ``xD 9x 13 LL`` inverse compact profile (Annex F): spacing control (bits 0-3 element size
  1-4 bytes, bits 4-5 unit s/min/h/day, bits 6-7 mode 1 increments / 2 decrements / 3 signed
  differences; mode 0 is refused as by the vendor), spacing value, then elements going back in
  time from the base value: the volume record with the same VIF and storage number, stamped
  with the date/time record of that storage number (vendor rule; no base volume or no base
  time is an error). An invalid element (all ones, or the minimum for signed) ends the
  profile, as the vendor does. An hourly profile becomes ``volume_log_m3`` (oldest first) and
  ``volume_log_times``; a profile with another spacing is checked but not output.
* ``xx FF 25`` info code: bit 0 dry, 1 reverse, 2 leak, 3 burst, 4 tamper, 5 low battery,
  6 low / 7 high ambient temperature.
* ``xx FF 1C`` acoustic leak detection (last day; 4095 = invalid) -> ``acoustic_leak``;
  ``xx FF 16`` module type / configuration number -> ``config_number``.
* ``3B`` volume flow with DIF function max / min -> ``flow_max_m3h`` / ``flow_min_m3h``;
  ``58..5B`` flow (water) temperature instantaneous / max / min -> ``water_temperature`` /
  ``water_temperature_max`` / ``water_temperature_min``. Invalid values (0x80, 0x8000, ...)
  are left out.
* 0x2F is a filler byte. Other known records are skipped by their length.

Storage numbers: the flowIQ 2200 sends everything with storage number 1 (DIF bit 6 set), so
no storage number is special; ``meter_time`` and ``volume`` come from the lowest storage
number present.

Refused like the vendor decoder: special DIFs (0x0F/0x1F manufacturer data, 0x7F and the
reserved ``xF`` values), 64-bit data fields, variable-length data that is not a profile,
VIF 0x6F / 0x7C, an unknown orthogonal VIFE, an unknown manufacturer VIFE after 0xFF.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
import struct
from typing import Final

from .base import Codec, DecodeError, Fields, require


class KamstrupDecodeError(DecodeError):
    """A malformed Kamstrup flowIQ (OMS) frame."""

    codec = "kamstrup_flowiq"


class KamstrupEncryptedFrameError(KamstrupDecodeError):
    """The frame is encrypted (security mode != 0); it needs the meter's AES key."""

    def __init__(self, security_mode: int, *, offset: int | None = None) -> None:
        """Name the security mode in the message."""
        self.security_mode = security_mode
        super().__init__(
            f"frame is encrypted (security mode {security_mode}) and cannot be read without "
            "the meter key; configure the meter for unencrypted OMS or decrypt it upstream",
            offset=offset,
        )


EXTRA_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "meter_id",  # 0x72 header identification number (8 BCD digits as text)
        "manufacturer",  # 0x72 header manufacturer code, "KAW"
        "access_number",  # 0x7A / 0x72 header access number
        "acoustic_leak",  # FF 1C acoustic leak detection, last day
        "config_number",  # FF 16 module type / configuration number
        "flow_min_m3h",
        "flow_max_m3h",
        "water_temperature_min",
        "water_temperature_max",
        "low_ambient_temperature",  # info code bit 6
        "high_ambient_temperature",  # info code bit 7
    }
)

FPORT: Final = 1

CI_NO_HEADER: Final = 0x78
CI_SHORT_HEADER: Final = 0x7A
CI_LONG_HEADER: Final = 0x72
SECURITY_MODE_SHIFT: Final = 8
SECURITY_MODE_MASK: Final = 0x1F

FILLER: Final = 0x2F
MAX_EXTENSIONS: Final = 10
DF_LVAR: Final = 0x0D
DF_REAL: Final = 0x05
DF_SPECIAL: Final = 0x0F
DF_INT64: Final = 0x07
# data field -> byte count (0x7, 0xD and 0xF are handled separately)
DATA_SIZES: Final[dict[int, int]] = {
    0x0: 0,
    0x1: 1,
    0x2: 2,
    0x3: 3,
    0x4: 4,
    0x5: 4,
    0x6: 6,
    0x8: 0,
    0x9: 1,
    0xA: 2,
    0xB: 3,
    0xC: 4,
    0xE: 6,
}
BCD_FIELDS: Final = frozenset({0x9, 0xA, 0xB, 0xC, 0xE})
BINARY_FIELDS: Final = frozenset({0x1, 0x2, 0x3, 0x4, 0x6})

FUNCTION_INSTANT: Final = 0
FUNCTION_MAX: Final = 1
FUNCTION_MIN: Final = 2

VIF_VOLUME_FIRST: Final = 0x10
VIF_VOLUME_LAST: Final = 0x17
VIF_DATETIME: Final = 0x6D
VIF_FLOW_FIRST: Final = 0x38
VIF_FLOW_LAST: Final = 0x3F
VIF_FLOW_TEMP_FIRST: Final = 0x58
VIF_FLOW_TEMP_LAST: Final = 0x5B
VIF_MANUFACTURER_EXT: Final = 0xFF
VIFE_PROFILE: Final = 0x13
VIFE_CONFIG_NUMBER: Final = 0x16
VIFE_ALD: Final = 0x1B
VIFE_ALD_LAST_DAY: Final = 0x1C
VIFE_INFO_MC4: Final = 0x22
VIFE_INFO_CODE: Final = 0x25
KAMSTRUP_VIFES: Final = frozenset(
    {VIFE_CONFIG_NUMBER, VIFE_ALD, VIFE_ALD_LAST_DAY, VIFE_INFO_MC4, VIFE_INFO_CODE}
)
UNKNOWN_VIFS: Final = frozenset({0x6F, 0x7C})
EXTENSION_TABLE_VIFS: Final = frozenset({0x7B, 0x7D})
ORTHOGONAL_VIFE_RESERVED: Final = frozenset({0x4C, 0x4D})
ALD_INVALID: Final = 4095

INFO_FLAGS: Final = (
    (0x01, "dry"),
    (0x02, "reverse_flow"),
    (0x04, "leak"),
    (0x08, "burst"),
    (0x10, "tamper"),
    (0x20, "low_battery"),
    (0x40, "low_ambient_temperature"),
    (0x80, "high_ambient_temperature"),
)

PROFILE_MODE_INCREMENTS: Final = 1
PROFILE_MODE_DECREMENTS: Final = 2
PROFILE_MODE_SIGNED: Final = 3
PROFILE_UNITS: Final = ("seconds", "minutes", "hours", "days")
PROFILE_MAX_SPACING: Final = 250
HOUR: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class _Record:
    """One EN 13757-3 data record, split but not yet interpreted."""

    offset: int  # of the DIF
    function: int
    storage: int
    data_field: int
    vif: int
    vifes: tuple[int, ...]
    data: bytes
    data_offset: int

    @property
    def plain_vif(self) -> int | None:
        """The primary VIF when the record has no VIFE, else None."""
        return None if self.vifes else self.vif


@dataclass(frozen=True, slots=True)
class _Profile:
    record: _Record
    vif: int  # primary VIF of the profile (volume resolution)


def _iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- header -----------------------------------------------------------------------------------


def _manufacturer(code: int) -> str:
    return "".join(chr(((code >> shift) & 0x1F) + 64) for shift in (10, 5, 0))


def _header(data: bytes, fields: Fields) -> int:
    """Check the transport layer, fill header extras, return where the records start."""
    require(data, 0, 1, "CI field", KamstrupDecodeError)
    ci = data[0]
    if ci == CI_NO_HEADER:
        return 1
    if ci == CI_SHORT_HEADER:
        require(data, 1, 4, "short header (access no, status, config)", KamstrupDecodeError)
        fields["access_number"] = data[1]
        config_at = 3
    elif ci == CI_LONG_HEADER:
        require(
            data,
            1,
            12,
            "long header (id, manufacturer, version, type, acc, status, config)",
            KamstrupDecodeError,
        )
        fields["meter_id"] = data[1:5][::-1].hex().upper()
        fields["manufacturer"] = _manufacturer(int.from_bytes(data[5:7], "little"))
        fields["access_number"] = data[9]
        config_at = 11
    else:
        raise KamstrupDecodeError(
            f"bad CI byte 0x{ci:02X}, expected 0x78 (no header), 0x7A (short header) or "
            "0x72 (long header)",
            offset=0,
        )
    config = int.from_bytes(data[config_at : config_at + 2], "little")
    mode = (config >> SECURITY_MODE_SHIFT) & SECURITY_MODE_MASK
    if mode:
        raise KamstrupEncryptedFrameError(mode, offset=config_at)
    return config_at + 2


# -- record layer -----------------------------------------------------------------------------


def _is_profile(vif: int, vifes: Sequence[int]) -> bool:
    return (
        VIF_VOLUME_FIRST <= vif & 0x7F <= VIF_VOLUME_LAST
        and len(vifes) == 1
        and vifes[0] & 0x7F == VIFE_PROFILE
    )


def _check_vif(vif: int, vifes: Sequence[int], vif_at: int) -> None:
    primary = vif & 0x7F
    if vif == VIF_MANUFACTURER_EXT:
        if vifes[0] & 0x7F not in KAMSTRUP_VIFES:
            known = ", ".join(f"0x{v:02X}" for v in sorted(KAMSTRUP_VIFES))
            raise KamstrupDecodeError(
                f"unknown manufacturer VIFE 0x{vifes[0]:02X} after VIF 0xFF, expected one of "
                f"{known}",
                offset=vif_at + 1,
            )
        return
    if primary in UNKNOWN_VIFS:
        raise KamstrupDecodeError(
            f"unknown or unsupported VIF 0x{vif:02X}, expected an EN 13757-3 primary VIF",
            offset=vif_at,
        )
    if vifes and primary not in EXTENSION_TABLE_VIFS and primary != 0x7F:
        first = vifes[0] & 0x7F
        if first < 0x12 or first in ORTHOGONAL_VIFE_RESERVED:
            raise KamstrupDecodeError(
                f"unknown orthogonal VIFE 0x{vifes[0]:02X} after VIF 0x{vif:02X}",
                offset=vif_at + 1,
            )


def _extensions(data: bytes, pos: int, what: str) -> tuple[list[int], int]:
    """Read extension bytes while the previous byte has bit 7 set."""
    values: list[int] = []
    more = data[pos - 1] & 0x80
    while more:
        if len(values) == MAX_EXTENSIONS:
            raise KamstrupDecodeError(
                f"more than {MAX_EXTENSIONS} {what}s, expected the extension chain to end",
                offset=pos,
            )
        require(data, pos, 1, what, KamstrupDecodeError)
        values.append(data[pos])
        more = data[pos] & 0x80
        pos += 1
    return values, pos


def _records(data: bytes, pos: int) -> list[_Record]:
    records: list[_Record] = []
    while pos < len(data):
        dif_at = pos
        dif = data[pos]
        pos += 1
        if dif == FILLER:
            continue
        data_field = dif & 0x0F
        if data_field == DF_SPECIAL:
            raise KamstrupDecodeError(
                f"unsupported special DIF 0x{dif:02X} (manufacturer data, readout request or "
                "reserved), expected a data record or 0x2F filler",
                offset=dif_at,
            )
        if data_field == DF_INT64:
            raise KamstrupDecodeError(
                f"DIF 0x{dif:02X} announces a 64-bit value; only up to 6 bytes are supported",
                offset=dif_at,
            )
        difes, pos = _extensions(data, pos, "DIFE")
        storage = (dif >> 6) & 1
        for i, dife in enumerate(difes):
            storage |= (dife & 0x0F) << (1 + 4 * i)
        require(data, pos, 1, f"VIF of the record at byte {dif_at}", KamstrupDecodeError)
        vif_at = pos
        vif = data[pos]
        vifes, pos = _extensions(data, pos + 1, "VIFE")
        _check_vif(vif, vifes, vif_at)
        if data_field == DF_LVAR:
            require(data, pos, 1, "LVAR length byte", KamstrupDecodeError)
            if not _is_profile(vif, vifes):
                raise KamstrupDecodeError(
                    "variable-length data is only supported for an inverse compact profile "
                    "(VIF 0x90-0x97 + VIFE 0x13)",
                    offset=dif_at,
                )
            length = data[pos]
            if length < 3:
                raise KamstrupDecodeError(
                    f"inverse compact profile of {length} bytes, expected at least 3 "
                    "(spacing control, spacing value, one element)",
                    offset=pos,
                )
            pos += 1
        else:
            length = DATA_SIZES[data_field]
        require(data, pos, length, f"data of the record at byte {dif_at}", KamstrupDecodeError)
        records.append(
            _Record(
                offset=dif_at,
                function=(dif >> 4) & 0x03,
                storage=storage,
                data_field=data_field,
                vif=vif,
                vifes=tuple(vifes),
                data=data[pos : pos + length],
                data_offset=pos,
            )
        )
        pos += length
    return records


# -- value types (EN 13757-3 Annex A) ---------------------------------------------------------


def _binary(raw: bytes, *, signed: bool) -> int | None:
    """Type B (signed) / C (unsigned) integer; the reserved invalid pattern gives None."""
    value = int.from_bytes(raw, "little", signed=signed)
    bits = 8 * len(raw)
    invalid = -(1 << (bits - 1)) if signed else (1 << bits) - 1
    return None if value == invalid else value


def _bcd(raw: bytes) -> int | None:
    """Type A: unsigned BCD; a non-decimal nibble (sign or error code) gives None."""
    digits = raw[::-1].hex()
    return int(digits) if digits.isdigit() else None


def _number(record: _Record, *, signed: bool) -> int | float | None:
    if record.data_field in BCD_FIELDS:
        return _bcd(record.data)
    if record.data_field == DF_REAL:
        value: float = struct.unpack("<f", record.data)[0]
        return value if math.isfinite(value) else None
    if record.data_field in BINARY_FIELDS:
        return _binary(record.data, signed=signed)
    return None  # no data


def _scaled(value: int | float, exponent: int, decimals: int) -> float:
    """``value * 10**exponent`` rounded, without binary-float noise for integers."""
    scaled = value / 10**-exponent if exponent < 0 else value * 10**exponent
    return round(float(scaled), decimals)


def _invalid_date(what: str, record: _Record) -> KamstrupDecodeError:
    return KamstrupDecodeError(f"invalid date/time: {what}", offset=record.data_offset)


def _datetime(record: _Record) -> datetime | None:
    """Type F (4 bytes) or type I (6 bytes); None when the meter flags it invalid."""
    raw = record.data
    if len(raw) == 4:  # type F
        if raw[0] & 0x80:
            return None
        second = 0
        minute = raw[0] & 0x3F
        hour = raw[1] & 0x1F
        day = raw[2] & 0x1F
        month = raw[3] & 0x0F
        year_in_century = (raw[2] >> 5) | (raw[3] >> 4) << 3
        if year_in_century > 99:
            raise _invalid_date(f"year {year_in_century} > 99", record)
        year = 1900 + 100 * ((raw[1] >> 5) & 0x03) + year_in_century
    elif len(raw) == 6:  # type I, read as the vendor decoder does
        if raw[1] & 0x80:
            return None
        second = raw[0] & 0x3F
        minute = raw[1] & 0x3F
        hour = raw[2] & 0x1F
        day = raw[3] & 0x1F
        month = raw[4] & 0x0F
        year = 2000 + ((raw[3] >> 5) | (raw[4] >> 4) << 3)
    else:
        return None  # other date/time sizes carry no meter time; ignored like the vendor
    if not 1 <= month <= 12:
        raise _invalid_date(f"month {month}", record)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise _invalid_date(f"day {day} of {year}-{month:02d}", record)
    if hour > 23 or minute > 59 or second > 59:
        raise _invalid_date(f"time {hour:02d}:{minute:02d}:{second:02d}", record)
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# -- interpretation ---------------------------------------------------------------------------


def _profile_log(
    profile: _Record,
    bases: dict[tuple[int, int], int | float | None],
    times: dict[int, datetime | None],
) -> tuple[list[float], list[str]] | None:
    """Resolve one inverse compact profile; return the hourly log (oldest first) or None."""
    vif = profile.vif & 0x7F
    key = (profile.storage, vif)
    if key not in bases:
        raise KamstrupDecodeError(
            f"inverse compact profile without base volume: no volume record with VIF "
            f"0x{vif:02X} and storage number {profile.storage}",
            offset=profile.offset,
        )
    base = bases[key]
    if base is None:
        raise KamstrupDecodeError(
            "the base volume of the inverse compact profile is marked invalid",
            offset=profile.offset,
        )
    base_time = times.get(profile.storage)
    if base_time is None:
        raise KamstrupDecodeError(
            f"inverse compact profile without base time: no valid date/time record with "
            f"storage number {profile.storage}",
            offset=profile.offset,
        )
    control, spacing_value = profile.data[0], profile.data[1]
    size = control & 0x0F
    unit = (control >> 4) & 0x03
    mode = (control >> 6) & 0x03
    elements = profile.data[2:]
    if mode == 0:
        raise KamstrupDecodeError(
            "inverse compact profile in absolute-value mode (spacing control bits 6-7 = 0) "
            "is not supported, expected increments, decrements or signed differences",
            offset=profile.data_offset,
        )
    if not 1 <= size <= 4:
        raise KamstrupDecodeError(
            f"inverse compact profile element size {size}, expected 1-4 bytes",
            offset=profile.data_offset,
        )
    if len(elements) % size:
        raise KamstrupDecodeError(
            f"inverse compact profile holds {len(elements)} data bytes, not a multiple of "
            f"its element size {size}",
            offset=profile.data_offset + 2,
        )
    values: list[int | float] = [base]
    for start in range(0, len(elements), size):
        element = _binary(elements[start : start + size], signed=mode == PROFILE_MODE_SIGNED)
        if element is None:
            break  # invalid element: the vendor stops the profile here
        values.append(
            values[-1] + element if mode == PROFILE_MODE_DECREMENTS else values[-1] - element
        )
    if not 1 <= spacing_value <= PROFILE_MAX_SPACING:
        return None  # month-based or reserved spacing: not an hourly log
    spacing = timedelta(**{PROFILE_UNITS[unit]: spacing_value})
    if spacing != HOUR:
        return None
    exponent = vif - VIF_VOLUME_FIRST - 6
    log = [_scaled(v, exponent, 3) for v in reversed(values)]
    stamps = [_iso(base_time - k * spacing) for k in reversed(range(len(values)))]
    return log, stamps


def _interpret(records: list[_Record], fields: Fields) -> None:
    times: dict[int, datetime | None] = {}
    bases: dict[tuple[int, int], int | float | None] = {}
    profiles: list[_Record] = []
    for record in records:
        plain = record.plain_vif
        if plain == VIF_DATETIME:
            times.setdefault(record.storage, _datetime(record))
        elif (
            plain is not None
            and VIF_VOLUME_FIRST <= plain <= VIF_VOLUME_LAST
            and record.function == FUNCTION_INSTANT
        ):
            bases.setdefault((record.storage, plain), _number(record, signed=True))
        elif record.data_field == DF_LVAR:
            profiles.append(record)  # _records only lets profiles through with LVAR
        elif record.vif == VIF_MANUFACTURER_EXT:
            _manufacturer_record(record, fields)
        elif plain is not None and VIF_FLOW_FIRST <= plain <= VIF_FLOW_LAST:
            name = {FUNCTION_MAX: "flow_max_m3h", FUNCTION_MIN: "flow_min_m3h"}.get(record.function)
            value = _number(record, signed=True)
            if name and value is not None and name not in fields:
                exponent = plain - VIF_FLOW_FIRST - 6
                fields[name] = _scaled(value, exponent, max(0, -exponent))
        elif plain is not None and VIF_FLOW_TEMP_FIRST <= plain <= VIF_FLOW_TEMP_LAST:
            name = {
                FUNCTION_INSTANT: "water_temperature",
                FUNCTION_MAX: "water_temperature_max",
                FUNCTION_MIN: "water_temperature_min",
            }.get(record.function)
            value = _number(record, signed=True)
            if name and value is not None and name not in fields:
                exponent = plain - VIF_FLOW_TEMP_FIRST - 3
                fields[name] = _scaled(value, exponent, max(0, -exponent))
    valid_times = sorted((s, t) for s, t in times.items() if t is not None)
    if valid_times:
        fields["meter_time"] = _iso(valid_times[0][1])
    volumes = sorted((s, vif, v) for (s, vif), v in bases.items() if v is not None)
    if volumes:
        _, vif, value = volumes[0]
        fields["volume"] = _scaled(value, vif - VIF_VOLUME_FIRST - 6, 3)
    for profile in profiles:
        log = _profile_log(profile, bases, times)
        if log is not None and "volume_log_m3" not in fields:
            fields["volume_log_m3"], fields["volume_log_times"] = log


def _manufacturer_record(record: _Record, fields: Fields) -> None:
    vife = record.vifes[0] & 0x7F
    if vife == VIFE_INFO_CODE and "dry" not in fields:
        # Type D bit field: every pattern is valid (all ones = every flag set), as the vendor.
        if record.data_field in BINARY_FIELDS:
            code = int.from_bytes(record.data, "little")
            for bit, name in INFO_FLAGS:
                fields[name] = bool(code & bit)
    elif vife == VIFE_ALD_LAST_DAY and "acoustic_leak" not in fields:
        value = _number(record, signed=False)
        if isinstance(value, int) and value != ALD_INVALID:
            fields["acoustic_leak"] = value
    elif vife == VIFE_CONFIG_NUMBER and "config_number" not in fields:
        value = _number(record, signed=False)
        if isinstance(value, int):
            fields["config_number"] = value


def decode(fport: int, payload: bytes) -> Fields:
    """Decode one flowIQ 2200 OMS uplink into canonical fields plus the declared extras."""
    data = bytes(payload)
    if fport != FPORT:
        raise KamstrupDecodeError(
            f"unsupported fPort {fport}: the flowIQ 2200 sends its OMS frames on fPort {FPORT}"
        )
    fields: Fields = {}
    start = _header(data, fields)
    _interpret(_records(data, start), fields)
    return fields


# -- encoder (simulator and round-trip tests) -------------------------------------------------


def _type_f(value: datetime) -> bytes:
    if value.tzinfo is None:
        raise ValueError("meter_time must be timezone-aware")
    utc = value.astimezone(UTC)
    if not 1900 <= utc.year <= 2299:
        raise ValueError(f"meter_time year {utc.year} outside the type F range 1900-2299")
    hundred, year = divmod(utc.year - 1900, 100)
    return bytes(
        [
            utc.minute,
            utc.hour | hundred << 5,
            utc.day | (year & 0x07) << 5,
            utc.month | (year >> 3) << 4,
        ]
    )


def encode(
    *,
    meter_time: datetime,
    volume_l: int,
    info_code: int | None = None,
    profile_increments_l: Sequence[int] | None = None,
    element_size: int = 2,
) -> bytes:
    """Build an unencrypted CI 0x78 frame: date/time, volume (L), optional hourly profile, info.

    ``meter_time`` is written in UTC and truncated to the minute (type F has no seconds).
    ``profile_increments_l[0]`` is the consumption of the newest hour (base volume minus the
    volume one hour before), the next one an hour earlier, and so on.
    """
    if not 0 <= volume_l <= 0x7FFF_FFFF:
        raise ValueError(f"volume_l={volume_l} out of range 0..{0x7FFF_FFFF}")
    out = bytearray([CI_NO_HEADER, 0x44, VIF_DATETIME])
    out += _type_f(meter_time)
    out += bytes([0x44, 0x13]) + volume_l.to_bytes(4, "little", signed=True)
    if profile_increments_l is not None:
        increments = list(profile_increments_l)
        if not 1 <= element_size <= 4:
            raise ValueError(f"element_size={element_size} out of range 1..4")
        maximum = (1 << (8 * element_size)) - 2  # all ones means "invalid"
        if not increments or 2 + len(increments) * element_size > 0xFF:
            raise ValueError(
                f"{len(increments)} increments of {element_size} bytes do not fit one profile"
            )
        for i, increment in enumerate(increments):
            if not 0 <= increment <= maximum:
                raise ValueError(f"profile_increments_l[{i}]={increment} out of range 0..{maximum}")
        if sum(increments) > volume_l:
            raise ValueError("profile increments add up to more than volume_l")
        control = PROFILE_MODE_INCREMENTS << 6 | PROFILE_UNITS.index("hours") << 4 | element_size
        out += bytes([0x4D, 0x80 | 0x13, VIFE_PROFILE, 2 + len(increments) * element_size])
        out += bytes([control, 1])
        for increment in increments:
            out += increment.to_bytes(element_size, "little")
    if info_code is not None:
        if not 0 <= info_code <= 0xFFFF:
            raise ValueError(f"info_code={info_code} out of range 0..65535")
        out += bytes([0x52, VIF_MANUFACTURER_EXT, VIFE_INFO_CODE]) + info_code.to_bytes(2, "little")
    return bytes(out)


CODEC: Final = Codec(
    id="kamstrup_flowiq",
    name="Kamstrup flowIQ",
    models=("flowIQ 2200",),
    default_fport=FPORT,
    decode=decode,
    error=KamstrupDecodeError,
    extra_fields=EXTRA_FIELDS,
    doc=(
        "Kamstrup flowIQ 2200 water meter, OMS over LoRaWAN (EN 13757-7 CI 0x78/0x7A/0x72 "
        "then EN 13757-3 records) on fPort 1: meter time, volume in m3, hourly volume log from "
        "the inverse compact profile, info-code alarms, acoustic leak, min/max flow and water "
        "temperature. Encrypted frames (security mode != 0) are refused with a clear error."
    ),
)
