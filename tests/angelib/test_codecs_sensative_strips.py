"""Sensative Strips codec: shared vectors, vendor examples, malformed frames, properties."""

from __future__ import annotations

from functools import partial
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import sensative_strips
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS, only_known
from custom_components.ange_iot.angelib.codecs.sensative_strips import (
    SensativeDecodeError,
    decode,
    encode,
)

from .codec_harness import assert_canonical, decodes_or_typed_error

EXTRA = sensative_strips.EXTRA_FIELDS
CODEC = sensative_strips.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)


# Own vectors, run by test_codec_vectors.py:
# (fport, hex, expected canonical fields, expected extras (subset)).
OWN_VECTORS: list[tuple[int, str, dict[str, Any], dict[str, Any]]] = [
    # TheThingsNetwork/lorawan-devices vendor/sensative/strips-codec.yaml: temperature alarm
    # (03 00), flood (0D 00), flood alarm (0E 00), user switch alarm (10 00).
    (
        1,
        "ffff01500200ea03000d000e001000",
        {"battery": 80, "temperature": 23.4, "wetness": 0, "water_leak": False},
        {
            "temperature_alarm_high": False,
            "temperature_alarm_low": False,
            "user_switch_alarm": False,
        },
    ),
    # Strips Guard, constructed from raw-translate.js: door report 9 and door alarm 10.
    (1, "ffff09010a00", {"door": True, "door_alarm": False}, {}),
    # Constructed from raw-translate.js: report 82 door + temperature (negative).
    (1, "ffff5200ff9c", {"door": False, "temperature": -10.0}, {}),
    # History bit (type 0x82 = report 2 with bit 7) with history in use: the value is still
    # the current temperature; the vendor counts flagged items (prevHistSeqNr--).
    (1, "00078200ea", {"temperature": 23.4}, {"history_seq": 7, "history_flagged_items": 1}),
    # Strips Presence, constructed from raw-translate.js: presence, IR proximity, close
    # proximity alarm, disinfect alarm.
    (
        1,
        "ffff120113012314004515011603",
        {"presence": True, "close_proximity": True},
        {
            "ir_proximity": 0x123,
            "ir_close_proximity": 0x45,
            "disinfect_alarm": 3,
            "disinfect_state": "clean",
        },
    ),
    # Strips Comfort, constructed from raw-translate.js: humidity (6, /2), lux, lux2, report
    # 80 humidity + temperature, report 81 humidity + average temperature.
    (
        1,
        "ffff0651070190080002506400ea",
        {"humidity": 50.0, "illuminance": 400, "temperature": 23.4},
        {"illuminance_2": 2},
    ),
    (
        1,
        "ffff5165ff380400c80502",
        {"humidity": 50.5},
        {
            "average_temperature": 20.0,
            "average_temperature_alarm_high": False,
            "average_temperature_alarm_low": True,
        },
    ),
    # Constructed from raw-translate.js: tamper report/alarm, foil alarm, door count,
    # capacitance raw values, empty frame (report 0).
    (
        1,
        "ffff0b010c000f0111010270010071020072030000",
        {},
        {
            "tamper_report": True,
            "tamper_alarm": False,
            "foil_alarm": True,
            "door_count": 258,
            "capacitance_flood": 256,
            "capacitance_pad": 512,
            "capacitance_end": 768,
        },
    ),
    # Constructed from raw-translate.js case 110: version (4 B) + four counters.
    (
        1,
        "ffff6e0a1b2c3d01020304",
        {},
        {
            "firmware_version": "0a1b2c3d",
            "startup_count": 1,
            "watchdog_count": 2,
            "stack_tx_fail_reboot_count": 3,
            "bad_conditions_count": 4,
        },
    ),
    # Sequence number only: a valid, empty live frame.
    (1, "ffff", {}, {}),
    # Port 11 answers, Sensative/strips-lora-translator-chirpstack decoder-chirpstack-v4.js.
    (11, "0300", {}, {"command_status": "ok"}),
    (11, "0301", {}, {"command_status": "bad_settings"}),
    (11, "0302", {}, {"command_status": "bad_length"}),
    (11, "0303", {}, {"command_status": "value_not_accepted"}),
    (11, "0304", {}, {"command_status": "unknown_command"}),
    # Port 2 history, constructed from raw-translate.js case 2: first seq 5, then
    # [4 B seconds ago][type][data] records. Historical values stay inside "history".
    (
        2,
        "00050000003c0200ea00000078090100000e108e01",
        {},
        {
            "history_first_seq": 5,
            "history": [
                {"seconds_ago": 60, "temperature": 23.4},
                {"seconds_ago": 120, "door": True},
                {"seconds_ago": 3600, "water_leak": True},
            ],
        },
    ),
    (2, "0010", {}, {"history_first_seq": 16, "history": []}),
]


def test_history_records_use_known_fields() -> None:
    """History entries hold seconds_ago plus the same field names as live frames."""
    result = decode(2, bytes.fromhex("00010000000a06510000000b1201"))
    for record in result["history"]:
        assert isinstance(record["seconds_ago"], int)
        assert only_known({k: v for k, v in record.items() if k != "seconds_ago"}, EXTRA)
    assert result["history"][0]["humidity"] == 40.5
    assert result["history"][1]["presence"] is True


def test_codec_record() -> None:
    """The registry record points at this module."""
    codec = sensative_strips.CODEC
    assert codec.id == "sensative_strips" == SensativeDecodeError.codec
    assert codec.decode is decode
    assert codec.error is SensativeDecodeError
    assert codec.extra_fields == EXTRA
    assert codec.default_fport == 1
    assert not EXTRA & CANONICAL_FIELDS


@pytest.mark.parametrize(
    ("fport", "hex_payload", "offset", "needle"),
    [
        (1, "", 0, "truncated history sequence number: need 2 byte(s), 0 left"),
        (1, "ff", 0, "truncated history sequence number: need 2 byte(s), 1 left"),
        (1, "ffff17", 2, "unknown report id 23 (type byte 0x17)"),
        (1, "ffff01500200", 5, "truncated temperature report (id 2): need 2 byte(s), 1 left"),
        (1, "ffff5064", 3, "truncated humidity and temperature report (id 80): need 3 byte(s)"),
        (1, "ffff6e0a1b2c3d01", 3, "truncated check-in report (id 110): need 8 byte(s)"),
        (1, "ffffe4", 2, "unknown report id 100 (type byte 0xE4)"),
        (2, "", 0, "truncated first history sequence number"),
        (2, "00050000", 2, "truncated history record time (seconds ago): need 4 byte(s)"),
        (2, "00050000003c", 6, "truncated history record type byte"),
        (2, "00050000003c0200", 7, "truncated temperature report (id 2)"),
        (11, "03", 1, "command answer is 1 byte(s), expected 2"),
        (11, "030000", 2, "command answer is 3 byte(s), expected 2"),
        (11, "0400", 0, "command answer starts with 0x04, expected 0x03"),
        (11, "0305", 1, "unknown command status 5"),
    ],
)
def test_malformed(fport: int, hex_payload: str, offset: int, needle: str) -> None:
    """Malformed frames raise the typed error naming what and where."""
    with pytest.raises(SensativeDecodeError) as info:
        decode(fport, bytes.fromhex(hex_payload))
    assert info.value.offset == offset
    assert needle in str(info.value)
    assert f"at byte {offset}" in str(info.value)
    assert str(info.value).startswith("sensative_strips: ")


@pytest.mark.parametrize("fport", [0, 3, 10, 85, 224, 255, -1])
def test_wrong_port(fport: int) -> None:
    """Only ports 1, 2 and 11 carry Strips uplinks."""
    with pytest.raises(SensativeDecodeError, match=f"fPort {fport} is not a Strips"):
        decode(fport, bytes.fromhex("ffff1201"))


# --- properties ------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=255), st.binary(max_size=64))
def test_random_bytes_only_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or the typed error, nothing else."""
    _decodes_or_typed_error(fport, payload)


_TYPE_BYTES = [*range(0, 23), 80, 81, 82, 110, 112, 113, 114, 23, 127]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([1, 2]),
    st.lists(
        st.tuples(
            st.binary(min_size=4, max_size=4),
            st.sampled_from(_TYPE_BYTES),
            st.booleans(),
            st.binary(max_size=9),
        ),
        max_size=10,
    ),
)
def test_structured_fuzz_only_typed_error(
    fport: int, items: list[tuple[bytes, int, bool, bytes]]
) -> None:
    """Frames built from real report ids with random data lengths reach deep into the parser."""
    payload = b"\x00\x01" + b"".join(
        (ago if fport == 2 else b"") + bytes([kind | (0x80 if flag else 0)]) + data
        for ago, kind, flag, data in items
    )
    _decodes_or_typed_error(fport, payload)


_FIELD_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "battery": st.integers(0, 100),
    "temperature": st.integers(-400, 850).map(lambda x: x / 10),
    "humidity": st.integers(0, 200).map(lambda x: x / 2),
    "illuminance": st.integers(0, 65535),
    "wetness": st.integers(0, 100),
    "door": st.booleans(),
    "door_alarm": st.booleans(),
    "presence": st.booleans(),
    "water_leak": st.booleans(),
    "close_proximity": st.booleans(),
}


@settings(deadline=None)
@given(
    st.sets(st.sampled_from(sorted(_FIELD_STRATEGIES)), min_size=1).flatmap(
        lambda keys: st.fixed_dictionaries({k: _FIELD_STRATEGIES[k] for k in keys})
    )
)
def test_encode_decode_round_trip(fields: dict[str, Any]) -> None:
    """encode -> decode is the identity on canonical fields."""
    payload = encode(fields)
    assert payload[:2] == b"\xff\xff"
    assert_canonical(decode(1, payload), fields)


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"battery": 101}, ValueError),
        ({"humidity": 100.5}, ValueError),
        ({"wetness": -1}, ValueError),
        ({"temperature": 3300.0}, ValueError),
        ({"temperature": float("nan")}, ValueError),
        ({"tamper": True}, ValueError),
        ({"door": 1}, TypeError),
        ({"illuminance": "bright"}, TypeError),
    ],
)
def test_encode_rejects(fields: dict[str, Any], error: type[Exception]) -> None:
    """Out-of-range values, unknown fields and wrong types are refused."""
    with pytest.raises(error):
        encode(fields)
