"""Elsys codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import elsys
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS
from custom_components.ange_iot.angelib.codecs.elsys import ElsysDecodeError, decode, encode

from .codec_harness import assert_canonical, decodes_or_typed_error

CODEC = elsys.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)


# Own vectors, run by test_codec_vectors.py:
# (fport, hex, expected canonical fields, expected extras (subset)).
OWN_VECTORS: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
    # TheThingsNetwork/lorawan-devices vendor/elsys/ers-sound-codec.yaml
    (
        1,
        "0100e202290400270506150101",
        {
            "temperature": 22.6,
            "humidity": 41,
            "illuminance": 39,
            "motion_count": 6,
            "sound_peak": 1,
            "sound_avg": 1,
        },
        {},
    ),
    # TheThingsNetwork/lorawan-devices vendor/elsys/ems-door-codec.yaml (acc, pulse1, pulseAbs)
    (
        1,
        "030127050a11010b000a0011",
        {},
        {
            "acceleration_x": 1,
            "acceleration_y": 39,
            "acceleration_z": 5,
            "pulse_count_1": 4353,
            "pulse_count_1_total": 655377,
        },
    ),
    # TheThingsNetwork/lorawan-devices vendor/elsys/elt-2-codec.yaml (commented example)
    (
        1,
        "0100e20229030127051406010111",
        {"temperature": 22.6, "humidity": 41, "pressure": 100729.105},
        {"acceleration_x": 1, "acceleration_y": 39, "acceleration_z": 5},
    ),
    # Shared EMS vector: water leak 0x12 is the extra level, never canonical water_leak;
    # pulse1 appears twice and the last one wins.
    (
        1,
        "0100e20229030127050a110112110a2111",
        {"temperature": 22.6, "humidity": 41},
        {"water_leak_level": 0x11, "pulse_count_1": 0x2111},
    ),
    # Constructed from the sheet / elsys.js: negative temperature, CO2, VDD, TVOC, external
    # temperature, distance (ELT Ultrasonic/Snow).
    (
        5,
        "01ff9c0603e8070e101c01900cff380e0bb8",
        {
            "temperature": -10.0,
            "co2": 1000,
            "battery_voltage": 3.6,
            "tvoc": 400,
            "external_temperature": -20.0,
            "distance": 3000,
        },
        {},
    ),
    # Constructed from elsys.js: 0x19 repeats (two 1-wire probes) -> first value kept in
    # external_temperature_2, all values in external_temperature_2_all.
    (
        5,
        "1900e21900a3",
        {},
        {"external_temperature_2": 22.6, "external_temperature_2_all": [22.6, 16.3]},
    ),
    # Shared ERS CO2 vector from aws-samples (ends with two 0x19 items).
    (
        5,
        "0100e202290400270506060308070d621900e21900a3",
        {
            "temperature": 22.6,
            "humidity": 41,
            "illuminance": 39,
            "motion_count": 6,
            "co2": 776,
            "battery_voltage": 3.426,
        },
        {"external_temperature_2": 22.6, "external_temperature_2_all": [22.6, 16.3]},
    ),
    # Constructed from elsys.js: IR temperature, occupancy, digital inputs, analog, uV,
    # acc motion, absolute pulse 2, GPS (ignored) and debug (ignored).
    (
        5,
        "1000fa00c811020d011a000804d218162e1bfffffc180f071700010000160200090102030405063d01020304",
        {"occupancy": 2},
        {
            "ir_internal_temperature": 25.0,
            "ir_external_temperature": 20.0,
            "digital_input_1": 1,
            "digital_input_2": 0,
            "analog1_mv": 1234,
            "analog2_mv": 5678,
            "external_analog_uv": -1000,
            "acc_motion_count": 7,
            "pulse_count_2_total": 65536,
            "pulse_count_2": 512,
        },
    ),
    # Constructed from elsys.js: Grid-EYE, ref 20 + pixel / 10.
    (
        5,
        "1314" + "05" * 64,
        {},
        {"grid_eye_reference": 20, "grid_eye": [20.5] * 64},
    ),
    # Settings frame (sheet: first byte 0x3E, sent once at start-up on port + 1); the bytes
    # after 0x3E are constructed, only the header matters.
    (6, "3e0c0705000000000fa0", {}, {"settings_frame": True}),
    # Unknown type after valid items: decoding stops (vendor: `default: i = data.length`).
    (5, "0100e202297f0102", {"temperature": 22.6, "humidity": 41}, {"undecoded_offset": 5}),
]


def test_settings_frame_is_not_measurements() -> None:
    """A 0x3E frame is only recognised, whatever follows."""
    assert decode(6, bytes.fromhex("3e0100e2")) == {"settings_frame": True}


def test_codec_record() -> None:
    """The registry record points at this module."""
    assert elsys.CODEC.id == "elsys" == ElsysDecodeError.codec
    assert elsys.CODEC.decode is decode
    assert elsys.CODEC.error is ElsysDecodeError
    assert elsys.CODEC.extra_fields == elsys.EXTRA_FIELDS
    assert not elsys.EXTRA_FIELDS & CANONICAL_FIELDS
    assert "water_leak" not in elsys.EXTRA_FIELDS


@pytest.mark.parametrize(
    ("fport", "hex_payload", "offset", "needle"),
    [
        (5, "", 0, "empty payload"),
        (5, "0100", 1, "truncated temperature item (type 0x01): need 2 byte(s), 1 left"),
        (5, "0100e202", 4, "truncated humidity item (type 0x02): need 1 byte(s), 0 left"),
        (5, "0100e21400", 4, "truncated pressure item (type 0x14): need 4 byte(s), 1 left"),
        (5, "1314" + "00" * 10, 1, "truncated Grid-EYE item (type 0x13): need 65 byte(s)"),
        (5, "150a", 1, "truncated sound item (type 0x15)"),
        (5, "ff0100", 0, "unknown type 0xFF"),
        (5, "00", 0, "unknown type 0x00"),
    ],
)
def test_malformed(fport: int, hex_payload: str, offset: int, needle: str) -> None:
    """Malformed frames raise the typed error naming what and where."""
    with pytest.raises(ElsysDecodeError) as info:
        decode(fport, bytes.fromhex(hex_payload))
    assert info.value.offset == offset
    assert needle in str(info.value)
    assert f"at byte {offset}" in str(info.value)
    assert str(info.value).startswith("elsys: ")


@pytest.mark.parametrize("fport", [0, 224, 255, -1, 256])
def test_wrong_port(fport: int) -> None:
    """MAC (0) and reserved ports (224-255) are not Elsys data."""
    with pytest.raises(ElsysDecodeError, match=f"fPort {fport}"):
        decode(fport, bytes.fromhex("0100e2"))


# --- properties ------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=255), st.binary(max_size=96))
def test_random_bytes_only_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or the typed error, nothing else."""
    _decodes_or_typed_error(fport, payload)


_ITEM_TYPES = [*range(0x01, 0x1D), 0x3D, 0x3E, 0x00, 0x7F, 0xFF]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(_ITEM_TYPES), st.binary(max_size=8)),
        max_size=12,
    )
)
def test_structured_fuzz_only_typed_error(items: list[tuple[int, bytes]]) -> None:
    """Frames built from real type bytes with random data lengths reach deep into the parser."""
    payload = b"".join(bytes([t]) + data for t, data in items)
    _decodes_or_typed_error(5, payload)


def _tenths(low: int, high: int) -> st.SearchStrategy[float]:
    return st.integers(low, high).map(lambda x: x / 10)


_FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "temperature": _tenths(-400, 850),
    "humidity": st.integers(0, 100),
    "illuminance": st.integers(0, 65535),
    "motion_count": st.integers(0, 255),
    "co2": st.integers(0, 10000),
    "battery_voltage": st.integers(0, 65535).map(lambda x: x / 1000),
    "occupancy": st.integers(0, 2),
    "distance": st.integers(0, 65535),
    "pressure": st.integers(0, 0xFFFFFFFF).map(lambda x: x / 1000),
    "tvoc": st.integers(0, 65535),
    "external_temperature": _tenths(-550, 1250),
}


@st.composite
def _measurements(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.sets(st.sampled_from(sorted(_FIELD_STRATEGIES)), min_size=1))
    fields = {key: draw(_FIELD_STRATEGIES[key]) for key in keys}
    if draw(st.booleans()):
        fields["sound_peak"] = draw(st.integers(0, 255))
        fields["sound_avg"] = draw(st.integers(0, 255))
    return fields


@settings(deadline=None)
@given(_measurements())
def test_encode_decode_round_trip(fields: dict[str, Any]) -> None:
    """encode -> decode is the identity on canonical fields."""
    assert_canonical(decode(5, encode(fields)), fields)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"temperature": 4000.0}, ValueError),
        ({"humidity": 256}, ValueError),
        ({"humidity": -1}, ValueError),
        ({"occupancy": 3}, ValueError),
        ({"battery_voltage": 70.0}, ValueError),
        ({"co2": float("nan")}, ValueError),
        ({"pressure": float("inf")}, ValueError),
        ({"distance": 10**400}, ValueError),
        ({"sound_peak": 60}, ValueError),
        ({"water_leak": True}, ValueError),
        ({"temperature": "20"}, TypeError),
        ({"motion_count": True}, TypeError),
    ],
)
def test_encode_rejects(fields: dict[str, Any], error: type[Exception]) -> None:
    """Out-of-range values, unknown fields and wrong types are refused."""
    with pytest.raises(error):
        encode(fields)
