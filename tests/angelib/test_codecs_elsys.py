"""Elsys codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import elsys
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS, only_known
from custom_components.ange_iot.angelib.codecs.elsys import ElsysDecodeError, decode, encode

# The shared fact sheet's vectors, committed beside the tests (test_vectors_file keeps
# the copy in step with ../shared/specs/vectors.json when that is present).
VECTORS_PATH = Path(__file__).resolve().parent / "data" / "vectors.json"


def _shared_vectors(codec_id: str) -> list[Any]:
    if not VECTORS_PATH.is_file():
        return []
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return [
        pytest.param(v, id=f"{v['model']}:{v['hex']}") for v in vectors if v["codec"] == codec_id
    ]


def _assert_canonical(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    canonical = {k: v for k, v in actual.items() if k in CANONICAL_FIELDS}
    assert canonical.keys() == expected.keys()
    for key, want in expected.items():
        got = canonical[key]
        if isinstance(want, bool) or isinstance(got, bool):
            assert got is want, key
        elif isinstance(want, float) or isinstance(got, float):
            assert got == pytest.approx(want), key
        else:
            assert got == want, key


# Own vectors: (fport, hex, expected canonical fields, expected extras (subset)).
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


@pytest.mark.parametrize("vector", _shared_vectors("elsys"))
def test_shared_vector(vector: dict[str, Any]) -> None:
    """Every checked vector decodes to exactly its canonical fields."""
    payload = bytes.fromhex(vector["hex"])
    if vector["expected"] == {"error": True}:
        with pytest.raises(ElsysDecodeError):
            decode(vector["fport"], payload)
        return
    result = decode(vector["fport"], payload)
    _assert_canonical(result, vector["expected"])
    assert only_known(result, elsys.EXTRA_FIELDS)


@pytest.mark.parametrize(("fport", "hex_payload", "canonical", "extras"), OWN_VECTORS)
def test_own_vector(
    fport: int, hex_payload: str, canonical: dict[str, Any], extras: dict[str, Any]
) -> None:
    """Vendor examples and constructed frames for what the shared file lacks."""
    result = decode(fport, bytes.fromhex(hex_payload))
    _assert_canonical(result, canonical)
    for key, value in extras.items():
        if isinstance(value, bool):
            assert result[key] is value, key
        else:
            assert result[key] == pytest.approx(value), key
    assert only_known(result, elsys.EXTRA_FIELDS)
    json.dumps(result)  # JSON-safe for persistence


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


def _valid_frames() -> list[tuple[int, bytes]]:
    frames = [(fport, bytes.fromhex(h)) for fport, h, _, _ in OWN_VECTORS]
    if VECTORS_PATH.is_file():
        frames += [
            (v["fport"], bytes.fromhex(v["hex"]))
            for v in json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
            if v["codec"] == "elsys"
        ]
    return frames


def _decodes_or_typed_error(fport: int, payload: bytes) -> None:
    try:
        result = decode(fport, payload)
    except ElsysDecodeError:
        return
    assert isinstance(result, dict)
    assert only_known(result, elsys.EXTRA_FIELDS)


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


def test_truncations_and_bit_flips_only_typed_error() -> None:
    """Every truncation and every single-bit flip of every valid frame (exhaustive)."""
    for fport, frame in _valid_frames():
        for cut in range(len(frame)):
            _decodes_or_typed_error(fport, frame[:cut])
        for bit in range(len(frame) * 8):
            flipped = bytearray(frame)
            flipped[bit // 8] ^= 1 << (bit % 8)
            _decodes_or_typed_error(fport, bytes(flipped))


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
    _assert_canonical(decode(5, encode(fields)), fields)


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
