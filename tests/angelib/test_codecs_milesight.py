"""Milesight EM codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import milesight
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS
from custom_components.ange_iot.angelib.codecs.milesight import (
    MilesightDecodeError,
    decode,
    encode,
)

from .codec_harness import assert_canonical, decodes_or_typed_error

EXTRA = milesight.EXTRA_FIELDS
CODEC = milesight.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)


# Own vectors, run by test_codec_vectors.py:
# (fport, hex, expected canonical fields, expected extras (subset)).
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
    assert_canonical(decode(85, encode(fields, model=model)), fields)


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
