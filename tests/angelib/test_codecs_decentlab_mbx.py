"""Decentlab DL-MBX codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import decentlab_mbx
from custom_components.ange_iot.angelib.codecs.decentlab_mbx import (
    DecentlabDecodeError,
    decode,
    encode,
)

from .codec_harness import assert_canonical, decodes_or_typed_error

EXTRA = decentlab_mbx.EXTRA_FIELDS
CODEC = decentlab_mbx.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)


# Own vectors, run by test_codec_vectors.py:
# (fport, hex, expected canonical fields, expected extras).
OWN_VECTORS: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
    # decentlab/decentlab-decoders DL-MBX/DL-MBX.py example (same in TTN dl-mbx-codec.yaml).
    (
        1,
        "02012f000304d200010bb1",
        {"distance": 1234, "valid_samples": 1, "battery_voltage": 2.993},
        {"device_id": 0x012F},
    ),
    # Battery-only frame, same source.
    (1, "02012f00020bb1", {"battery_voltage": 2.993}, {"device_id": 0x012F}),
    # Constructed from the layout: no sensor flags -> header only, still a valid frame.
    (1, "02ffff0000", {}, {"device_id": 0xFFFF}),
    # Constructed: far distance, many samples, on another port.
    (
        10,
        "020a0b0003271000200e10",
        {"distance": 10000, "valid_samples": 32, "battery_voltage": 3.6},
        {"device_id": 0x0A0B},
    ),
]


def test_codec_record() -> None:
    """The registry record points at this module."""
    codec = decentlab_mbx.CODEC
    assert codec.id == "decentlab_mbx" == DecentlabDecodeError.codec
    assert codec.decode is decode
    assert codec.error is DecentlabDecodeError
    assert codec.extra_fields == EXTRA == frozenset({"device_id"})


@pytest.mark.parametrize(
    ("hex_payload", "offset", "needle"),
    [
        ("", 0, "empty payload"),
        ("01012f000304d200010bb1", 0, "protocol version 1, expected 2"),
        ("03012f00020bb1", 0, "protocol version 3, expected 2"),
        ("02012f00", 0, "truncated header (version, device id, flags): need 5 byte(s), 4 left"),
        ("02012f000304d20001", 9, "truncated battery voltage word: need 2 byte(s), 0 left"),
        ("02012f000304d2", 5, "truncated distance and valid-samples words: need 4 byte(s)"),
        ("02012f00020b", 5, "truncated battery voltage word: need 2 byte(s), 1 left"),
        ("02012f00070bb1", 3, "sensor flags 0x0007 set bits other than 0-1"),
        ("02012f00020bb100", 7, "1 unexpected trailing byte(s)"),
    ],
)
def test_malformed(hex_payload: str, offset: int, needle: str) -> None:
    """Malformed frames raise the typed error naming what and where."""
    with pytest.raises(DecentlabDecodeError) as info:
        decode(1, bytes.fromhex(hex_payload))
    assert info.value.offset == offset
    assert needle in str(info.value)
    assert f"at byte {offset}" in str(info.value)
    assert str(info.value).startswith("decentlab_mbx: ")


@pytest.mark.parametrize("fport", [0, 224, 255, -1, 256])
def test_wrong_port(fport: int) -> None:
    """MAC (0) and reserved ports (224-255) are not sensor data."""
    with pytest.raises(DecentlabDecodeError, match=f"fPort {fport}"):
        decode(fport, bytes.fromhex("02012f00020bb1"))


# --- properties ------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=255), st.binary(max_size=24))
def test_random_bytes_only_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or the typed error, nothing else."""
    _decodes_or_typed_error(fport, payload)


@settings(deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(max_size=10))
def test_structured_fuzz_only_typed_error(device_id: int, flags: int, words: bytes) -> None:
    """Valid headers with random flags and word data."""
    payload = bytes([2]) + device_id.to_bytes(2, "big") + flags.to_bytes(2, "big") + words
    _decodes_or_typed_error(1, payload)


@st.composite
def _frames(draw: st.DrawFn) -> tuple[int, dict[str, Any]]:
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["distance"] = draw(st.integers(0, 0xFFFF))
        fields["valid_samples"] = draw(st.integers(0, 0xFFFF))
    if draw(st.booleans()):
        fields["battery_voltage"] = draw(st.integers(0, 0xFFFF)) / 1000
    return draw(st.integers(0, 0xFFFF)), fields


@settings(deadline=None)
@given(_frames())
def test_encode_decode_round_trip(frame: tuple[int, dict[str, Any]]) -> None:
    """encode -> decode is the identity on canonical fields, and keeps the device id."""
    device_id, fields = frame
    result = decode(1, encode(fields, device_id=device_id))
    assert_canonical(result, fields)
    assert result["device_id"] == device_id


def test_encode_matches_vendor_example() -> None:
    """The vendor example frame is reproduced byte for byte."""
    fields = {"distance": 1234, "valid_samples": 1, "battery_voltage": 2.993}
    assert encode(fields, device_id=0x012F) == bytes.fromhex("02012f000304d200010bb1")


@pytest.mark.parametrize(
    ("fields", "device_id", "error"),
    [
        ({"distance": 1234}, 1, ValueError),
        ({"valid_samples": 1}, 1, ValueError),
        ({"distance": 70000, "valid_samples": 1}, 1, ValueError),
        ({"battery_voltage": 66.0}, 1, ValueError),
        ({"battery_voltage": -0.1}, 1, ValueError),
        ({"battery_voltage": 3.0}, 0x10000, ValueError),
        ({"tilt": True}, 1, ValueError),
        ({"battery_voltage": "3V"}, 1, TypeError),
        ({"battery_voltage": 3.0}, True, TypeError),
    ],
)
def test_encode_rejects(fields: dict[str, Any], device_id: Any, error: type[Exception]) -> None:
    """Out-of-range values, unknown fields and wrong types are refused."""
    with pytest.raises(error):
        encode(fields, device_id=device_id)
