"""Milesight EM codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import milesight
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS, only_known
from custom_components.ange_iot.angelib.codecs.milesight import (
    MilesightDecodeError,
    decode,
    encode,
)

# The shared fact sheet's vectors, committed beside the tests (test_vectors_file keeps
# the copy in step with ../shared/specs/vectors.json when that is present).
VECTORS_PATH = Path(__file__).resolve().parent / "data" / "vectors.json"
EXTRA = milesight.EXTRA_FIELDS


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
    # Milesight-IoT/SensorDecoders EM310-UDL/README.md example (also TTN em310-udl-codec.yaml).
    (85, "01755c03824408040001", {"battery": 92, "distance": 2116, "tilt": True}, {}),
    # Milesight-IoT/SensorDecoders EM400-TLD/README.md example 1 (TTN em400-udl-codec.yaml).
    (
        85,
        "01755c0367010104824408050001",
        {"battery": 92, "temperature": 25.7, "distance": 2116, "tilt": True},
        {},
    ),
    # Milesight-IoT/SensorDecoders EM400-TLD/README.md example 2: alarm records 83 67 / 84 82.
    (
        85,
        "8367e800018482410601",
        {"temperature": 23.2, "distance": 1601},
        {"temperature_alarm": True, "distance_alarm": True},
    ),
    # Same layout, alarms released (status 0), negative temperature.
    (
        85,
        "83679cff008482e80300",
        {"temperature": -10.0, "distance": 1000},
        {"temperature_alarm": False, "distance_alarm": False},
    ),
    # TTN em500-udl-codec.yaml second example.
    (85, "01756403821e00", {"battery": 100, "distance": 30}, {}),
    # EM500-UDL history records (EM500-UDL/README.md: 20 CE, timestamp(4B) + distance(2B)),
    # constructed: 1700000000 s, 1500 mm and 1700000600 s, 1480 mm.
    (
        85,
        "20ce00f15365dc0520ce58f35365c805",
        {},
        {
            "history": [
                {"timestamp": 1700000000, "distance": 1500},
                {"timestamp": 1700000600, "distance": 1480},
            ]
        },
    ),
    # EM500-UDL distance mutation record 83 E9 (EM500-UDL_Decoder.js), constructed:
    # status 2 = mutation alarm. Only the alarm state is taken from it.
    (
        85,
        "83e9dc05640002",
        {},
        {"distance_alarm": True, "distance_mutation_alarm": True},
    ),
    # Device information records (EM310-UDL/README.md attribute table; values constructed).
    (
        85,
        "ff0bffff0101ff166136d38030570017ff090140ff0a0114ff0f00ff0101",
        {},
        {
            "device_status_on": True,
            "ipso_version": "v0.1",
            "serial_number": "6136d38030570017",
            "hardware_version": "v1.4",
            "firmware_version": "v1.20",
            "lorawan_class": "A",
        },
    ),
    # Configuration answer: report interval 300 s (TTN em400-udl-codec.yaml downlink example,
    # echoed by the device) followed by a battery record.
    (85, "ff032c01017550", {"battery": 80}, {"config_responses": ["ff032c01"]}),
    (85, "fe1001fffe01", {}, {"config_responses": ["fe1001"], "reset_event": True}),
    # Unknown record after valid ones: decoding stops (vendor: `else { break; }`).
    (85, "0175640999aabb", {"battery": 100}, {"undecoded_offset": 3}),
    (85, "017564ff5501", {"battery": 100}, {"undecoded_offset": 3}),
]


@pytest.mark.parametrize("vector", _shared_vectors("milesight"))
def test_shared_vector(vector: dict[str, Any]) -> None:
    """Every checked vector decodes to exactly its canonical fields."""
    payload = bytes.fromhex(vector["hex"])
    if vector["expected"] == {"error": True}:
        with pytest.raises(MilesightDecodeError):
            decode(vector["fport"], payload)
        return
    expected = vector["expected"]
    result = decode(vector["fport"], payload)
    _assert_canonical(result, expected)
    assert only_known(result, EXTRA)


@pytest.mark.parametrize(("fport", "hex_payload", "canonical", "extras"), OWN_VECTORS)
def test_own_vector(
    fport: int, hex_payload: str, canonical: dict[str, Any], extras: dict[str, Any]
) -> None:
    """Vendor examples and constructed frames for what the shared file lacks."""
    result = decode(fport, bytes.fromhex(hex_payload))
    _assert_canonical(result, canonical)
    for key, value in extras.items():
        assert result[key] == value, key
        assert type(result[key]) is type(value), key
    assert only_known(result, EXTRA)
    json.dumps(result)


def test_codec_record() -> None:
    """The registry record points at this module."""
    codec = milesight.CODEC
    assert codec.id == "milesight" == MilesightDecodeError.codec
    assert codec.decode is decode
    assert codec.error is MilesightDecodeError
    assert codec.extra_fields == EXTRA
    assert codec.default_fport == 85
    assert not EXTRA & CANONICAL_FIELDS


@pytest.mark.parametrize(
    ("fport", "hex_payload", "offset", "needle"),
    [
        (85, "", 0, "empty payload"),
        (85, "01", 0, "truncated record header (channel, type): need 2 byte(s), 1 left"),
        (85, "01756403", 3, "truncated record header (channel, type)"),
        (85, "0175", 2, "truncated battery record (01 75): need 1 byte(s), 0 left"),
        (85, "0175640382e8", 5, "truncated distance record (03 82): need 2 byte(s), 1 left"),
        (85, "8482410600"[:8], 2, "truncated distance alarm record (84 82): need 3 byte(s)"),
        (85, "20ce00f15365dc", 2, "truncated history record (20 CE): need 6 byte(s), 5 left"),
        (85, "ff16613603", 2, "truncated serial number record (FF 16): need 8 byte(s)"),
        (85, "ff06010203", 2, "truncated configuration answer (FF 06): need 9 byte(s)"),
        (85, "0999", 0, "unknown record 09 99"),
        (85, "ff55", 0, "unknown record FF 55"),
    ],
)
def test_malformed(fport: int, hex_payload: str, offset: int, needle: str) -> None:
    """Malformed frames raise the typed error naming what and where."""
    with pytest.raises(MilesightDecodeError) as info:
        decode(fport, bytes.fromhex(hex_payload))
    assert info.value.offset == offset
    assert needle in str(info.value)
    assert f"at byte {offset}" in str(info.value)
    assert str(info.value).startswith("milesight: ")


@pytest.mark.parametrize("fport", [0, 224, 255, -5, 300])
def test_wrong_port(fport: int) -> None:
    """MAC (0) and reserved ports (224-255) are not sensor data."""
    with pytest.raises(MilesightDecodeError, match=f"fPort {fport}"):
        decode(fport, bytes.fromhex("017564"))


# --- properties ------------------------------------------------------------------------------


def _valid_frames() -> list[tuple[int, bytes]]:
    frames = [(fport, bytes.fromhex(h)) for fport, h, _, _ in OWN_VECTORS]
    if VECTORS_PATH.is_file():
        frames += [
            (v["fport"], bytes.fromhex(v["hex"]))
            for v in json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
            if v["codec"] == "milesight"
        ]
    return frames


def _decodes_or_typed_error(fport: int, payload: bytes) -> None:
    try:
        result = decode(fport, payload)
    except MilesightDecodeError:
        return
    assert isinstance(result, dict)
    assert only_known(result, EXTRA)


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=255), st.binary(max_size=64))
def test_random_bytes_only_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or the typed error, nothing else."""
    _decodes_or_typed_error(fport, payload)


_HEADERS = [
    b"\x01\x75",
    b"\x03\x82",
    b"\x04\x82",
    b"\x03\x67",
    b"\x04\x00",
    b"\x05\x00",
    b"\x83\x67",
    b"\x84\x82",
    b"\x83\xe9",
    b"\x20\xce",
    *(bytes([0xFF, t]) for t in (0x01, 0x09, 0x0A, 0xFF, 0x16, 0x0F, 0xFE, 0x0B, 0x03, 0x06)),
    b"\xfe\x10",
    b"\x09\x99",
]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_HEADERS), st.binary(max_size=10)), max_size=10))
def test_structured_fuzz_only_typed_error(items: list[tuple[bytes, bytes]]) -> None:
    """Frames built from real channel/type pairs with random data reach deep into the parser."""
    _decodes_or_typed_error(85, b"".join(header + data for header, data in items))


def test_truncations_and_bit_flips_only_typed_error() -> None:
    """Every truncation and every single-bit flip of every valid frame (exhaustive)."""
    for fport, frame in _valid_frames():
        for cut in range(len(frame)):
            _decodes_or_typed_error(fport, frame[:cut])
        for bit in range(len(frame) * 8):
            flipped = bytearray(frame)
            flipped[bit // 8] ^= 1 << (bit % 8)
            _decodes_or_typed_error(fport, bytes(flipped))


_FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "battery": st.integers(0, 100),
    "distance": st.integers(0, 65535),
    "temperature": st.integers(-300, 700).map(lambda x: x / 10),
    "tilt": st.booleans(),
}
_MODEL_FIELDS = {
    "EM310-UDL": ("battery", "distance", "tilt"),
    "EM500-UDL": ("battery", "distance"),
    "EM400-UDL": ("battery", "distance", "temperature", "tilt"),
    "EM400-TLD": ("battery", "distance", "temperature", "tilt"),
}


@st.composite
def _model_and_fields(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    model = draw(st.sampled_from(sorted(_MODEL_FIELDS)))
    keys = draw(st.sets(st.sampled_from(_MODEL_FIELDS[model]), min_size=1))
    return model, {key: draw(_FIELD_STRATEGIES[key]) for key in keys}


@settings(deadline=None)
@given(_model_and_fields())
def test_encode_decode_round_trip(model_fields: tuple[str, dict[str, Any]]) -> None:
    """encode -> decode is the identity on canonical fields, for every model."""
    model, fields = model_fields
    _assert_canonical(decode(85, encode(fields, model=model)), fields)


def test_encode_uses_model_channels() -> None:
    """EM310/EM500 send distance on channel 03, EM400 on 04; tilt on 04 vs 05."""
    assert encode({"distance": 30}) == bytes.fromhex("03821e00")
    assert encode({"distance": 30, "tilt": True}, model="EM310-UDL") == bytes.fromhex(
        "03821e00040001"
    )
    assert encode(
        {"battery": 92, "temperature": 25.7, "distance": 2116, "tilt": True}, model="EM400-TLD"
    ) == bytes.fromhex("01755c0367010104824408050001")


@pytest.mark.parametrize(
    ("fields", "model", "error"),
    [
        ({"battery": 101}, "EM500-UDL", ValueError),
        ({"distance": 70000}, "EM310-UDL", ValueError),
        ({"temperature": 20.0}, "EM500-UDL", ValueError),
        ({"tilt": True}, "EM500-UDL", ValueError),
        ({"battery": 50}, "EM999", ValueError),
        ({"temperature": float("inf")}, "EM400-TLD", ValueError),
        ({"tilt": 1}, "EM310-UDL", TypeError),
        ({"distance": "far"}, "EM310-UDL", TypeError),
    ],
)
def test_encode_rejects(fields: dict[str, Any], model: str, error: type[Exception]) -> None:
    """Out-of-range values, fields the model lacks and wrong types are refused."""
    with pytest.raises(error):
        encode(fields, model=model)
