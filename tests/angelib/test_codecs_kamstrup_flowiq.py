"""Kamstrup flowIQ 2200 (OMS) codec: shared vectors, vendor frames, malformed frames, properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ange_iot.angelib.codecs import kamstrup_flowiq
from custom_components.ange_iot.angelib.codecs.base import (
    DecodeError,
)
from custom_components.ange_iot.angelib.codecs.kamstrup_flowiq import (
    KamstrupDecodeError,
    KamstrupEncryptedFrameError,
    decode,
    encode,
)

from .codec_harness import ERROR, assert_canonical, check, decodes_or_typed_error, shared_vectors

EXTRA = kamstrup_flowiq.EXTRA_FIELDS
CODEC = kamstrup_flowiq.CODEC
_decodes_or_typed_error = partial(decodes_or_typed_error, CODEC)
INFO_FLAGS = ("dry", "reverse_flow", "leak", "burst", "tamper", "low_battery")


def test_shared_profile_vector_times() -> None:
    """Vendor example times: 33 hourly values ending at the date record, 19:00."""
    payload = bytes.fromhex("78446d003318374413030000004d9313226101" + "00" * 3 + "03" + "00" * 28)
    result = decode(1, payload)
    assert result["volume_log_times"][0] == "2024-07-23T11:00:00Z"
    assert result["volume_log_times"][-1] == "2024-07-24T19:00:00Z"


# The vendor installation frame (mbusparser.yaml "Installation frame with config number"):
# long header 72, id 53885758, manufacturer 2C37 = KAW, version 3C, device type 16 (cold
# water), access no D6, status 10, configuration word 0008 (security mode 0).
LONG_HEADER = "7258578853372c3c16d6100800"
MIDNIGHT_RECORDS = "446d0020f32a4413ec00000052ff25100042ff1c0500623b0000523b0000615b80515b80"

# Own vectors, run by test_codec_vectors.py:
# (hex, expected canonical fields, expected extras).
OWN_VECTORS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # Installation frame, vendor mbusparser.yaml: only the config number record.
    (
        LONG_HEADER + "04ff16bf587000",
        {},
        {
            "meter_id": "53885758",
            "manufacturer": "KAW",
            "access_number": 0xD6,
            "config_number": 7362751,
        },
    ),
    # Constructed: the vendor long header followed by the vendor midnight-log records.
    (
        LONG_HEADER + MIDNIGHT_RECORDS,
        {
            "meter_time": "2023-10-19T00:00:00Z",
            "volume": 0.236,
            "dry": False,
            "reverse_flow": False,
            "leak": False,
            "burst": False,
            "tamper": True,
            "low_battery": False,
        },
        {"meter_id": "53885758", "acoustic_leak": 5, "flow_min_m3h": 0.0, "flow_max_m3h": 0.0},
    ),
    # Constructed (EN 13757-3 type I, read as mbusparser.js TypeI): 46 6D, 2024-03-05 10:15:30.
    ("78466d1e0f0a053300", {"meter_time": "2024-03-05T10:15:30Z"}, {}),
    # Constructed: IV bit of the type F date set -> no meter time, volume still read.
    ("78446d80331837441303000000", {"volume": 0.003}, {}),
    # Constructed: decrement mode (bits 6-7 = 2) adds going back, as mbusparser.js does.
    (
        "78446d00331837" + "44130a000000" + "4d931305a101020300",
        {
            "meter_time": "2024-07-24T19:00:00Z",
            "volume": 0.010,
            "volume_log_m3": [0.015, 0.015, 0.012, 0.010],
        },
        {},
    ),
    # Constructed: signed-difference mode (3), int8 elements 2 and -2.
    (
        "78446d00331837" + "44130a000000" + "4d931304e10102fe",
        {
            "meter_time": "2024-07-24T19:00:00Z",
            "volume": 0.010,
            "volume_log_m3": [0.010, 0.008, 0.010],
        },
        {},
    ),
    # Constructed: an invalid element (0xFF) ends the profile, as in mbusparser.js.
    (
        "78446d00331837" + "44130a000000" + "4d931305610102ff03",
        {"meter_time": "2024-07-24T19:00:00Z", "volume": 0.010, "volume_log_m3": [0.008, 0.010]},
        {},
    ),
    # Constructed: a daily profile (unit 3) is checked but is not an hourly log.
    (
        "78446d00331837" + "44130a000000" + "4d931303710101",
        {"meter_time": "2024-07-24T19:00:00Z", "volume": 0.010},
        {},
    ),
    # Constructed: valid min/max/instantaneous water temperature and flow; filler bytes.
    (
        "782f2f" + "4413e8030000" + "415b0c" + "615b05" + "515b14" + "623b0a00" + "523be803",
        {"volume": 1.0, "water_temperature": 12.0},
        {
            "water_temperature_min": 5.0,
            "water_temperature_max": 20.0,
            "flow_min_m3h": 0.01,
            "flow_max_m3h": 1.0,
        },
    ),
    # Constructed: volume in 10^-6 m3 (VIF 10) rounds to litres; ALD 4095 means invalid.
    ("78" + "0410d6120000" + "02ff1cff0f", {"volume": 0.005}, {}),
    # Constructed: a short header with mode 0 and no records at all.
    ("7a2a000000", {}, {"access_number": 0x2A}),
]


@pytest.mark.parametrize(
    ("hex_payload", "mode", "offset"),
    [
        # Vendor integration-guide frame (7A 08 00 00 00 ...) with configuration word 0510:
        # security mode 5 (AES-128-CBC, EN 13757-7), encrypted data as received.
        ("7a08001005" + "b7e1c0a1f4d2c39e8a5f6b7c2d1e0f9a", 5, 3),
        # The vendor long header with configuration word 0710: mode 7.
        ("7258578853372c3c16d6101007" + "00112233445566778899aabbccddeeff", 7, 11),
        # Mode 13 (TLS) in a short header, nothing after it.
        ("7a01000d0d", 13, 3),
    ],
)
def test_encrypted_frame(hex_payload: str, mode: int, offset: int) -> None:
    """Security mode != 0: a dedicated error saying the frame is encrypted."""
    with pytest.raises(KamstrupEncryptedFrameError) as err:
        decode(1, bytes.fromhex(hex_payload))
    assert isinstance(err.value, KamstrupDecodeError)
    assert isinstance(err.value, DecodeError)
    assert err.value.security_mode == mode
    assert err.value.offset == offset
    message = str(err.value)
    assert f"encrypted (security mode {mode})" in message
    assert "meter key" in message


@pytest.mark.parametrize(
    ("fport", "hex_payload", "offset", "words"),
    [
        (2, "78", None, "fPort 2"),
        (0, "78", None, "fPort 0"),
        (1, "", 0, "truncated CI field"),
        (1, "00", 0, "bad CI byte 0x00"),
        (1, "68", 0, "bad CI byte 0x68"),
        (1, "7a0800", 1, "truncated short header"),
        (1, "7258578853372c", 1, "truncated long header"),
        (1, "78441303", 3, "truncated data of the record at byte 1"),
        (1, "7844", 2, "truncated VIF"),
        (1, "7884", 2, "truncated DIFE"),
        (1, "7804ed", 3, "truncated VIFE"),
        (1, "7884" + "80" * 10 + "0013", 12, "more than 10 DIFEs"),
        (1, "78046f00000000", 2, "unknown or unsupported VIF 0x6F"),
        (1, "78047c00000000", 2, "VIF 0x7C"),
        (1, "7802ff990000", 3, "manufacturer VIFE 0x99"),
        (1, "78049305000000", 3, "orthogonal VIFE 0x05"),
        (1, "780f0102", 1, "special DIF 0x0F"),
        (1, "781f", 1, "special DIF 0x1F"),
        (1, "787f", 1, "special DIF 0x7F"),
        (1, "780713" + "00" * 8, 1, "64-bit"),
        (1, "780d1303616161", 1, "only supported for an inverse compact profile"),
        (1, "784413030000004d93130261", 10, "at least 3"),
        (1, "784d931303610100", 1, "without base volume"),
        (1, "78441303000000" + "4d9313036101" + "00", 7, "without base time"),
        (1, "78446d80331837441303000000" + "4d9313036101" + "00", 13, "without base time"),
        (1, "78446d00331837" + "441300000080" + "4d9313036101" + "00", 13, "marked invalid"),
        (1, "78446d00331837441303000000" + "4d9313032101" + "00", 17, "absolute-value mode"),
        (1, "78446d00331837441303000000" + "4d9313036001" + "00", 17, "element size 0"),
        (1, "78446d00331837441303000000" + "4d9313066501" + "00000000", 17, "element size 5"),
        (1, "78446d00331837441303000000" + "4d9313056201" + "000000", 19, "not a multiple"),
        (1, "78446d000c010d", 3, "month 13"),
        (1, "78446d000c1e02", 3, "day 30 of 1900-02"),
        (1, "78446d0020fe22", 3, "day 30 of 2023-02"),
        (1, "78446d3d0c0101", 3, "time 12:61:00"),
        (1, "78446d00180101", 3, "time 24:00:00"),
        (1, "78446d0000e1f1", 3, "year 127"),
    ],
)
def test_malformed_frame(fport: int, hex_payload: str, offset: int | None, words: str) -> None:
    """A malformed frame raises the typed error naming the problem and the byte offset."""
    with pytest.raises(KamstrupDecodeError) as err:
        decode(fport, bytes.fromhex(hex_payload))
    assert not isinstance(err.value, KamstrupEncryptedFrameError)
    assert err.value.offset == offset
    assert words in str(err.value)
    if offset is not None:
        assert f"at byte {offset}" in str(err.value)


def test_info_code_bits() -> None:
    """Each info-code bit maps to its own flag (mbusparser.js InfocodeTableWater)."""
    names = (*INFO_FLAGS, "low_ambient_temperature", "high_ambient_temperature")
    meter = datetime(2025, 1, 1, tzinfo=UTC)
    for bit, name in enumerate(names):
        result = decode(1, encode(meter_time=meter, volume_l=1, info_code=1 << bit))
        assert [n for n in names if result[n]] == [name]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"meter_time": datetime(2024, 1, 1)},  # naive
        {"meter_time": datetime(1899, 12, 31, 23, 0, tzinfo=UTC)},
        {"meter_time": datetime(2300, 1, 1, tzinfo=UTC)},
        {"volume_l": -1},
        {"volume_l": 1 << 31},
        {"info_code": 1 << 16},
        {"info_code": -1},
        {"profile_increments_l": []},
        {"profile_increments_l": [1] * 127},
        {"profile_increments_l": [0xFFFF]},  # all ones is the invalid marker
        {"profile_increments_l": [1], "element_size": 0},
        {"profile_increments_l": [1], "element_size": 5},
        {"profile_increments_l": [-1]},
        {"profile_increments_l": [600, 500]},  # more than the volume
    ],
)
def test_encode_rejects_out_of_range(kwargs: dict[str, Any]) -> None:
    """The encoder refuses what the frame cannot carry."""
    args: dict[str, Any] = {"meter_time": datetime(2024, 1, 1, tzinfo=UTC), "volume_l": 1000}
    args.update(kwargs)
    with pytest.raises(ValueError):  # noqa: PT011 - any range complaint will do
        encode(**args)


def test_encode_matches_the_vendor_example() -> None:
    """The encoder reproduces the vendor integration-guide records (CI 0x78 instead of 7A)."""
    increments = [0x127, 0x122, 0x122, 0x126, 0x122, 0x122, 0x121, 0x127, 0x122, 0x122, 0x127]
    payload = encode(
        meter_time=datetime(2023, 8, 29, 12, 0, 42, tzinfo=UTC),
        volume_l=7842497,
        profile_increments_l=increments,
    )
    vendor = (
        "7a08000000446d002cfd284413c1aa77004d931318620127012201220126012201220121012701220122"
        "0127012f"
    )
    assert payload.hex() == "78" + vendor[10:-2]


# -- properties ------------------------------------------------------------------------------

VALID_FRAMES: list[bytes] = [
    bytes.fromhex(v["hex"]) for v in shared_vectors("kamstrup_flowiq") if v["expected"] != ERROR
] + [bytes.fromhex(h) for h, _, _ in OWN_VECTORS]

PROPERTY = settings(deadline=None, max_examples=300)


@PROPERTY
@given(fport=st.integers(min_value=0, max_value=255), payload=st.binary(max_size=64))
def test_random_bytes_only_raise_the_typed_error(fport: int, payload: bytes) -> None:
    """Any bytes on any port: a result of known fields or KamstrupDecodeError, nothing else."""
    _decodes_or_typed_error(fport, payload)


@PROPERTY
@given(
    header=st.sampled_from(["78", "7a01000000", LONG_HEADER, "78446d00331837"]),
    records=st.binary(max_size=80),
)
def test_random_records_only_raise_the_typed_error(header: str, records: bytes) -> None:
    """Random record bytes behind a valid header exercise the record parser."""
    _decodes_or_typed_error(1, bytes.fromhex(header) + records)


@PROPERTY
@given(
    prefix=st.sampled_from(
        ["78446d00331837441303000000", "78441303000000", "78446d0033183744130300000052ff25"]
    ),
    record=st.lists(
        st.sampled_from(
            [b"\x4d\x93\x13", b"\x44\x6d", b"\x44\x13", b"\x2f", b"\x52\xff\x25", b"\x61\x5b"]
        ),
        max_size=4,
    ),
    tail=st.binary(max_size=40),
)
def test_structured_garbage_only_raises_the_typed_error(
    prefix: str, record: list[bytes], tail: bytes
) -> None:
    """Plausible record heads followed by random bytes (profiles, dates, info codes)."""
    _decodes_or_typed_error(1, bytes.fromhex(prefix) + b"".join(record) + tail)


@pytest.mark.parametrize("payload", VALID_FRAMES)
def test_truncations_only_raise_the_typed_error(payload: bytes) -> None:
    """Every prefix of a valid frame decodes or raises KamstrupDecodeError."""
    for end in range(len(payload)):
        _decodes_or_typed_error(1, payload[:end])


@PROPERTY
@given(frame=st.sampled_from(VALID_FRAMES), bit=st.integers(min_value=0, max_value=2047))
def test_bit_flips_only_raise_the_typed_error(frame: bytes, bit: int) -> None:
    """A single flipped bit of a valid frame decodes or raises KamstrupDecodeError."""
    flipped = bytearray(frame)
    flipped[(bit // 8) % len(flipped)] ^= 1 << (bit % 8)
    _decodes_or_typed_error(1, bytes(flipped))


@st.composite
def _encoder_inputs(draw: st.DrawFn) -> dict[str, Any]:
    minutes = draw(st.integers(min_value=0, max_value=(2299 - 1900 + 1) * 365 * 24 * 60 - 1))
    meter_time = datetime(1900, 1, 1, tzinfo=UTC) + timedelta(
        minutes=minutes, seconds=draw(st.integers(min_value=0, max_value=59))
    )
    element_size = draw(st.integers(min_value=1, max_value=4))
    maximum = min((1 << (8 * element_size)) - 2, 1 << 22)
    increments = draw(
        st.none()
        | st.lists(
            st.integers(min_value=0, max_value=maximum),
            min_size=1,
            max_size=(0xFF - 2) // element_size,
        )
    )
    floor = sum(increments) if increments else 0
    volume = draw(st.integers(min_value=floor, max_value=0x7FFF_FFFF))
    info_code = draw(st.none() | st.integers(min_value=0, max_value=0xFFFF))
    return {
        "meter_time": meter_time,
        "volume_l": volume,
        "info_code": info_code,
        "profile_increments_l": increments,
        "element_size": element_size,
    }


@PROPERTY
@given(inputs=_encoder_inputs())
def test_round_trip(inputs: dict[str, Any]) -> None:
    """Encode -> decode gives back every canonical field."""
    result = decode(1, encode(**inputs))
    meter_time = inputs["meter_time"].replace(second=0)
    expected: dict[str, Any] = {
        "meter_time": meter_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "volume": round(inputs["volume_l"] / 1000, 3),
    }
    if inputs["info_code"] is not None:
        expected.update(
            {name: bool(inputs["info_code"] & 1 << bit) for bit, name in enumerate(INFO_FLAGS)}
        )
    increments = inputs["profile_increments_l"]
    if increments is not None:
        newest_first = [inputs["volume_l"]]
        for increment in increments:
            newest_first.append(newest_first[-1] - increment)
        expected["volume_log_m3"] = [round(v / 1000, 3) for v in reversed(newest_first)]
        assert result["volume_log_times"][-1] == expected["meter_time"]
    assert_canonical(result, expected)
    check(CODEC, result)
