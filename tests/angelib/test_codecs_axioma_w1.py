"""Axioma Qalcosonic W1 codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from hypothesis import assume, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import axioma_w1
from custom_components.ange_iot.angelib.codecs.axioma_w1 import (
    AxiomaDecodeError,
    decode,
    encode_alarm,
    encode_enhanced,
    encode_extended,
    encode_extended_temperature,
)

from .codec_harness import ERROR, assert_canonical, check, decodes_or_typed_error, shared_vectors

EXTRA = axioma_w1.EXTRA_FIELDS
CODEC = axioma_w1.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)
FLAGS = (
    "low_battery",
    "permanent_error",
    "dry",
    "burst",
    "reverse_flow",
    "leak",
    "freeze",
    "tamper",
)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _flags(**true: bool) -> dict[str, bool]:
    return {flag: true.get(flag, False) for flag in FLAGS}


# Own vectors, run by test_codec_vectors.py:
# (fport, hex, expected canonical fields, expected extras).
OWN_VECTORS: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
    # Extended + temperature, 47 B: diwise/iot-agent decoder.qalcosonic_test.go
    # TestQalcosonic_w1t (temperature 2578 -> 25.78 degC, current 302578 L, 15 log values).
    # Status 0x7C = reverse flow (0x70) + permanent error + low battery.
    (
        100,
        "55cb585f7cf29d0400120ae0fe575f8a570400cd04cb04cc04cd04ca04c404c504c404f004e604dc04d604"
        "b9057905",
        {
            "meter_time": "2020-09-09T12:32:21Z",
            "volume": 302.578,
            "water_temperature": 25.78,
            **_flags(low_battery=True, permanent_error=True, reverse_flow=True),
            "volume_log_m3": [
                284.554,
                285.783,
                287.01,
                288.238,
                289.467,
                290.693,
                291.913,
                293.134,
                294.354,
                295.618,
                296.872,
                298.116,
                299.354,
                300.819,
                302.22,
            ],
        },
        {"frame_format": "extended_temperature", "alarm_code": 0x7C},
    ),
    # Extended + temperature from a real meter (diwise TestDecodeW1t, "9/30/2025, 8:35:29 AM").
    (
        100,
        "3883B268007BB06B008D0560B2B1681F806B00A50465067E06B706BB03A6028501AC00620053006300CF01"
        "4E03A604",
        {
            "meter_time": "2025-08-30T04:51:04Z",
            "volume": 7057.531,
            "water_temperature": 14.21,
            **_flags(),
            "volume_log_m3": [
                7045.151,
                7046.34,
                7047.977,
                7049.639,
                7051.358,
                7052.313,
                7052.991,
                7053.38,
                7053.552,
                7053.65,
                7053.733,
                7053.832,
                7054.295,
                7055.141,
                7056.331,
            ],
        },
        {"frame_format": "extended_temperature", "alarm_code": 0},
    ),
    # Plain extended from a newly installed, empty meter: aws-samples/aws-iot-core-lorawan
    # axioma_w1.py "Actual meter reading" (base64 eoFaXxAD...). Status 0x10 alone = dry.
    (
        100,
        "7a815a5f1003000000c0a4595f03000000000000000000000000000000000000000000000000000000000000"
        "000000",
        {
            "meter_time": "2020-09-10T19:41:46Z",
            "volume": 0.003,
            **_flags(dry=True),
            "volume_log_m3": [0.003] * 16,
        },
        {"frame_format": "extended", "alarm_code": 0x10},
    ),
    # Enhanced 24 h, 51 B: diwise TestQalcosonic_w1h (Axioma example; status 48 = leak,
    # current 573662 L, value 16 of the log 560.639 m3).
    (
        100,
        "011fbfd05e30cd0f0800d4879e41865c1b42470d7283b8201608fec181981dd007f3919460218247b6317"
        "84c1c9e87b8e17600",
        {
            "meter_time": "2020-05-29T07:51:59Z",
            "volume": 573.662,
            **_flags(leak=True),
            "volume_log_m3": [
                528.333,
                530.337,
                531.995,
                534.143,
                535.894,
                537.752,
                539.853,
                541.956,
                544.05,
                546.12,
                548.16,
                550.236,
                552.13,
                554.13,
                556.126,
                558.503,
                560.639,
                562.561,
                564.314,
                566.237,
                568.048,
                569.998,
                571.76,
                573.662,
            ],
        },
        {"frame_format": "enhanced_24h", "alarm_code": 0x30, "history_multiplier": 0},
    ),
    # Alarm frame on fPort 103: diwise TestQalcosonicAlarmMessage (code 136 = 0x88), read
    # with the status-byte meaning: permanent error (0x08) + freeze (0x80).
    (
        103,
        "43b1315d88",
        {"meter_time": "2019-07-19T12:02:11Z", **_flags(permanent_error=True, freeze=True)},
        {"frame_format": "alarm", "alarm_code": 0x88},
    ),
    # The same alarm frame delivered on the data port (diwise decodes 5 bytes on fPort 100).
    (
        100,
        "43b1315d88",
        {"meter_time": "2019-07-19T12:02:11Z", **_flags(permanent_error=True, freeze=True)},
        {"frame_format": "alarm", "alarm_code": 0x88},
    ),
]


# Axioma "W1 LoRa payload" document example (diwise w1e test, aws-samples axioma_w1.py).
DOC_EXAMPLE = (
    "0ea0355d302935000054c0345de7290000b800b900b800b800b800b900b800b800b800b800b800b800b900b900b900"
)


def test_extended_log_times_floor_to_the_hour() -> None:
    """The log time 2019-07-21T19:43:16Z is floored; 16 values run 19:00 .. 10:00."""
    result = decode(100, bytes.fromhex(DOC_EXAMPLE))
    assert result["volume_log_times"][0] == "2019-07-21T19:00:00Z"
    assert result["volume_log_times"][-1] == "2019-07-22T10:00:00Z"


def test_enhanced_log_spans_previous_day_0100_to_midnight() -> None:
    """Base value at 01:00 UTC of the day before the meter's date, last value at 00:00."""
    meter = datetime(2026, 9, 2, 23, 9, 34, tzinfo=UTC)
    payload = encode_enhanced(meter_time=meter, base_volume_l=5938, deltas_l=[1] * 23)
    result = decode(100, payload)
    assert result["volume_log_times"][0] == "2026-09-01T01:00:00Z"
    assert result["volume_log_times"][-1] == "2026-09-02T00:00:00Z"
    assert result["volume"] == pytest.approx(5.961)


def test_enhanced_52_bytes_ignores_the_last_byte() -> None:
    """A 52-byte enhanced frame decodes like its first 51 bytes."""
    meter = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)
    payload = encode_enhanced(meter_time=meter, base_volume_l=10, deltas_l=list(range(23)))
    assert decode(100, payload + b"\xaa") == decode(100, payload)


def test_enhanced_history_multiplier_keeps_only_the_base_reading() -> None:
    """Unknown delta scaling: no volume, the log holds only the absolute base value."""
    meter = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)
    payload = encode_enhanced(
        meter_time=meter, base_volume_l=1234, deltas_l=[5] * 23, history_multiplier=3
    )
    result = decode(100, payload)
    assert "volume" not in result
    assert result["history_multiplier"] == 3
    assert result["volume_log_m3"] == [1.234]
    assert result["volume_log_times"] == ["2026-01-04T01:00:00Z"]


@pytest.mark.parametrize(
    ("status", "true_flags"),
    [
        (0x00, set()),
        (0x04, {"low_battery"}),
        (0x08, {"permanent_error"}),
        (0x0C, {"low_battery", "permanent_error"}),
        (0x10, {"dry"}),
        (0x14, {"dry", "low_battery"}),
        (0x30, {"leak"}),
        (0x70, {"reverse_flow"}),
        (0x90, {"freeze"}),
        (0xB0, {"burst"}),
        (0xBC, {"burst", "low_battery", "permanent_error"}),
        (0xD0, {"tamper"}),  # "manipulation" in the Axioma W1 payload document
        # Bit-only readings of diwise / the TTN codec (without the 0x10 companion bit).
        (0x20, {"leak"}),
        (0x60, {"reverse_flow"}),
        (0x80, {"freeze"}),
        (0xA0, {"burst"}),
    ],
)
def test_status_byte(status: int, true_flags: set[str]) -> None:
    """Status alarms: sheet / aws-samples values plus the vendor bit readings."""
    result = decode(103, encode_alarm(meter_time=EPOCH, alarm_code=status))
    assert {flag for flag in FLAGS if result[flag]} == true_flags
    assert result["alarm_code"] == status


def test_47_bytes_plausible_log_time_is_the_plain_layout() -> None:
    """Plain layout first: a plausible log time wins even with a temperature-like byte 9."""
    meter = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    payload = encode_extended(
        meter_time=meter,
        volume_l=1000,
        log_time=meter - timedelta(hours=15),
        log_volume_l=900,
        deltas_l=[1] * 15,
    )
    assert decode(100, payload)["frame_format"] == "extended"


def test_47_bytes_both_layouts_implausible_stays_plain() -> None:
    """When neither log time is plausible the plain layout is kept (as for 43-46 B)."""
    payload = bytearray(47)
    payload[0:4] = (1_700_000_000).to_bytes(4, "little")
    result = decode(100, bytes(payload))
    assert result["frame_format"] == "extended"
    assert result["volume_log_times"][0] == "1970-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("fport", "hex_payload", "offset", "words"),
    [
        (1, "00" * 47, None, "fPort 1"),
        (101, "00" * 47, None, "fPort 101"),
        (100, "", 0, "truncated"),
        (100, "00" * 30, 30, "truncated"),
        (100, "00" * 42, 42, "truncated"),
        (100, "00" * 44, 43, "half a delta"),
        (100, "00" * 46, 45, "half a delta"),
        (100, "00" * 48, 47, "unexpected data"),
        (100, "00" * 50, 47, "unexpected data"),
        (100, "00" * 53, 52, "unexpected data"),
        (100, "02" + "00" * 50, 0, "version 0x02"),
        (103, "00" * 4, 4, "5 bytes"),
        (103, "00" * 6, 5, "5 bytes"),
    ],
)
def test_malformed_frame(fport: int, hex_payload: str, offset: int | None, words: str) -> None:
    """A malformed frame raises the typed error naming the problem and the byte offset."""
    with pytest.raises(AxiomaDecodeError) as err:
        decode(fport, bytes.fromhex(hex_payload))
    assert err.value.offset == offset
    assert words in str(err.value)
    if offset is not None:
        assert f"at byte {offset}" in str(err.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"meter_time": datetime(2024, 1, 1)},  # naive
        {"meter_time": datetime(1969, 12, 31, tzinfo=UTC)},
        {"volume_l": -1},
        {"volume_l": 1 << 32},
        {"log_volume_l": -1},
        {"status": 256},
        {"deltas_l": [1] * 12},
        {"deltas_l": [1] * 16},
        {"deltas_l": [70000] * 15},
        {"log_time": datetime(2024, 1, 4, tzinfo=UTC)},  # > 48 h after meter_time
        {"log_time": datetime(2023, 12, 30, tzinfo=UTC)},  # > 24 h before meter_time
    ],
)
def test_encode_extended_rejects_out_of_range(kwargs: dict[str, Any]) -> None:
    """The encoder refuses what the frame cannot carry or the decoder would misread."""
    meter = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    args: dict[str, Any] = {
        "meter_time": meter,
        "volume_l": 10,
        "log_time": meter - timedelta(hours=15),
        "log_volume_l": 5,
        "deltas_l": [0] * 15,
    }
    args.update(kwargs)
    with pytest.raises(ValueError):  # noqa: PT011 - any range complaint will do
        encode_extended(**args)


def test_other_encoders_reject_out_of_range() -> None:
    """Enhanced, temperature and alarm encoders check their ranges too."""
    meter = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="deltas"):
        encode_enhanced(meter_time=meter, base_volume_l=0, deltas_l=[0] * 22)
    with pytest.raises(ValueError, match="deltas_l"):
        encode_enhanced(meter_time=meter, base_volume_l=0, deltas_l=[1 << 14] * 23)
    with pytest.raises(ValueError, match="history_multiplier"):
        encode_enhanced(meter_time=meter, base_volume_l=0, deltas_l=[0] * 23, history_multiplier=64)
    with pytest.raises(ValueError, match="alarm_code"):
        encode_alarm(meter_time=meter, alarm_code=-1)
    with pytest.raises(ValueError, match="water_temperature"):
        encode_extended_temperature(
            meter_time=meter,
            volume_l=0,
            water_temperature=-1.0,
            log_time=meter,
            log_volume_l=0,
            deltas_l=[0] * 14,
        )


# -- properties ------------------------------------------------------------------------------

VALID_FRAMES: list[tuple[int, bytes]] = [
    (v["fport"], bytes.fromhex(v["hex"]))
    for v in shared_vectors("axioma_w1")
    if v["expected"] != ERROR
] + [(fport, bytes.fromhex(h)) for fport, h, _, _ in OWN_VECTORS]

PROPERTY = settings(deadline=None, max_examples=300)

u32 = st.integers(min_value=0, max_value=0xFFFF_FFFF)
u16 = st.integers(min_value=0, max_value=0xFFFF)
status_bytes = st.integers(min_value=0, max_value=0xFF)
# Meter times leaving room for a log time 24 h before / 48 h after inside the uint32 range.
meter_seconds = st.integers(min_value=24 * 3600, max_value=0xFFFF_FFFF - 48 * 3600)
log_offsets = st.integers(min_value=-24 * 3600, max_value=48 * 3600)


@PROPERTY
@given(fport=st.integers(min_value=0, max_value=255), payload=st.binary(max_size=64))
def test_random_bytes_only_raise_the_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or AxiomaDecodeError, nothing else."""
    _decodes_or_typed_error(fport, payload)


@PROPERTY
@given(
    fport=st.sampled_from([100, 103]),
    length=st.sampled_from([5, 43, 44, 45, 46, 47, 51, 52]),
    data=st.data(),
)
def test_random_frames_of_valid_lengths(fport: int, length: int, data: st.DataObject) -> None:
    """Random content at the lengths that reach the frame decoders."""
    _decodes_or_typed_error(fport, data.draw(st.binary(min_size=length, max_size=length)))


@pytest.mark.parametrize(("fport", "payload"), VALID_FRAMES)
def test_truncations_only_raise_the_typed_error(fport: int, payload: bytes) -> None:
    """Every prefix of a valid frame decodes or raises AxiomaDecodeError."""
    for end in range(len(payload)):
        _decodes_or_typed_error(fport, payload[:end])


@PROPERTY
@given(frame=st.sampled_from(VALID_FRAMES), bit=st.integers(min_value=0, max_value=52 * 8 - 1))
def test_bit_flips_only_raise_the_typed_error(frame: tuple[int, bytes], bit: int) -> None:
    """A single flipped bit of a valid frame decodes or raises AxiomaDecodeError."""
    fport, payload = frame
    flipped = bytearray(payload)
    flipped[(bit // 8) % len(flipped)] ^= 1 << (bit % 8)
    _decodes_or_typed_error(fport, bytes(flipped))


def _iso(seconds: int) -> str:
    return (EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expected_flags(status: int) -> dict[str, bool]:
    """The status table written out independently of the codec."""
    alarm = {0x20: "leak", 0x60: "reverse_flow", 0x80: "freeze", 0xA0: "burst", 0xC0: "tamper"}.get(
        status & 0xE0
    )
    return {
        "low_battery": status & 0x04 == 0x04,
        "permanent_error": status & 0x08 == 0x08,
        "dry": status & 0xF0 == 0x10,
        "burst": alarm == "burst",
        "reverse_flow": alarm == "reverse_flow",
        "leak": alarm == "leak",
        "tamper": alarm == "tamper",
        "freeze": alarm == "freeze",
    }


def _cumulative(start: int, deltas: list[int]) -> list[float]:
    values = [start]
    for delta in deltas:
        values.append(values[-1] + delta)
    return [round(v / 1000, 3) for v in values]


@PROPERTY
@given(
    meter_s=meter_seconds,
    offset=log_offsets,
    volume=u32,
    log_volume=u32,
    deltas=st.lists(u16, min_size=13, max_size=15),
    status=status_bytes,
)
def test_extended_round_trip(
    *, meter_s: int, offset: int, volume: int, log_volume: int, deltas: list[int], status: int
) -> None:
    """encode_extended -> decode gives back every canonical field."""
    log_s = meter_s + offset
    payload = encode_extended(
        meter_time=EPOCH + timedelta(seconds=meter_s, microseconds=999),
        volume_l=volume,
        log_time=EPOCH + timedelta(seconds=log_s),
        log_volume_l=log_volume,
        deltas_l=deltas,
        status=status,
    )
    result = decode(100, payload)
    assert_canonical(
        result,
        {
            "meter_time": _iso(meter_s),
            "volume": round(volume / 1000, 3),
            **_expected_flags(status),
            "volume_log_m3": _cumulative(log_volume, deltas),
        },
    )
    assert result["volume_log_times"][0] == _iso(log_s - log_s % 3600)
    assert result["frame_format"] == "extended"
    check(CODEC, result)


@PROPERTY
@given(
    meter_s=meter_seconds,
    offset=log_offsets,
    volume=u32,
    raw_temperature=st.integers(min_value=0, max_value=9999),
    log_volume=u32,
    deltas=st.lists(u16, min_size=12, max_size=14),
    status=status_bytes,
)
def test_extended_temperature_round_trip(
    *,
    meter_s: int,
    offset: int,
    volume: int,
    raw_temperature: int,
    log_volume: int,
    deltas: list[int],
    status: int,
) -> None:
    """encode_extended_temperature -> decode gives back every canonical field."""
    log_s = meter_s + offset
    try:
        payload = encode_extended_temperature(
            meter_time=EPOCH + timedelta(seconds=meter_s),
            volume_l=volume,
            water_temperature=raw_temperature / 100,
            log_time=EPOCH + timedelta(seconds=log_s),
            log_volume_l=log_volume,
            deltas_l=deltas,
            status=status,
        )
    except ValueError:
        assume(False)  # the rare combination that reads as a plain frame
        raise
    result = decode(100, payload)
    assert_canonical(
        result,
        {
            "meter_time": _iso(meter_s),
            "volume": round(volume / 1000, 3),
            "water_temperature": raw_temperature / 100,
            **_expected_flags(status),
            "volume_log_m3": _cumulative(log_volume, deltas),
        },
    )
    assert result["volume_log_times"][0] == _iso(log_s - log_s % 3600)
    assert result["frame_format"] == "extended_temperature"
    check(CODEC, result)


@PROPERTY
@given(
    meter_s=u32,
    base=u32,
    deltas=st.lists(st.integers(min_value=0, max_value=0x3FFF), min_size=23, max_size=23),
    status=status_bytes,
)
def test_enhanced_round_trip(meter_s: int, base: int, deltas: list[int], status: int) -> None:
    """encode_enhanced -> decode: 14-bit packing, volume = last log value."""
    payload = encode_enhanced(
        meter_time=EPOCH + timedelta(seconds=meter_s),
        base_volume_l=base,
        deltas_l=deltas,
        status=status,
    )
    assert len(payload) == 51
    result = decode(100, payload)
    log = _cumulative(base, deltas)
    assert_canonical(
        result,
        {
            "meter_time": _iso(meter_s),
            "volume": log[-1],
            **_expected_flags(status),
            "volume_log_m3": log,
        },
    )
    day_s = meter_s - meter_s % 86400
    assert result["volume_log_times"][0] == _iso(day_s - 86400 + 3600)
    check(CODEC, result)


@PROPERTY
@given(meter_s=u32, code=status_bytes, fport=st.sampled_from([100, 103]))
def test_alarm_round_trip(meter_s: int, code: int, fport: int) -> None:
    """encode_alarm -> decode gives the time and the status-byte alarms."""
    result = decode(
        fport, encode_alarm(meter_time=EPOCH + timedelta(seconds=meter_s), alarm_code=code)
    )
    assert_canonical(result, {"meter_time": _iso(meter_s), **_expected_flags(code)})
    assert result["alarm_code"] == code
    check(CODEC, result)
