"""What every codec's tests check the same way: vectors, canonical fields, typed errors.

test_codec_vectors.py runs the shared and own vectors of every codec through these; each
codec's module (test_codecs_*.py) keeps its own vectors, malformed frames, encoders and
properties, and uses the same checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS, Codec, only_known

# The shared fact sheet's vectors, committed beside the tests (test_vectors_file keeps
# the copy in step with ../shared/specs/vectors.json when that is present).
VECTORS_PATH = Path(__file__).resolve().parent / "data" / "vectors.json"
ERROR = {"error": True}  # a shared vector's "expected" for a frame that must not decode


def shared_vectors(codec_id: str) -> list[dict[str, Any]]:
    """The shared vectors of one codec (none when the file is absent)."""
    if not VECTORS_PATH.is_file():
        return []
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    return [v for v in vectors if v["codec"] == codec_id]


def valid_frames(codec_id: str, own: list[tuple[int, str]]) -> list[tuple[int, bytes]]:
    """(fport, payload) of every frame that decodes: own vectors, then shared ones."""
    return [(fport, bytes.fromhex(h)) for fport, h in own] + [
        (v["fport"], bytes.fromhex(v["hex"]))
        for v in shared_vectors(codec_id)
        if v["expected"] != ERROR
    ]


def assert_canonical(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Canonical fields (a log's time stamps aside) equal ``expected`` exactly.

    Booleans by identity, floats and lists of numbers approximately, the rest by equality.
    """
    canonical = {
        k: v for k, v in actual.items() if k in CANONICAL_FIELDS and k != "volume_log_times"
    }
    assert canonical.keys() == expected.keys()
    for key, want in expected.items():
        got = canonical[key]
        if isinstance(want, bool) or isinstance(got, bool):
            assert got is want, key
        elif isinstance(want, float) or isinstance(got, float) or _numbers(want):
            assert got == pytest.approx(want), key
        else:
            assert got == want, key


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, int | float) for v in value)


def assert_log_times(result: dict[str, Any], *, on_the_hour: bool) -> None:
    """``volume_log_times`` matches the log, hour by hour (on the hour, if so), in UTC."""
    if "volume_log_m3" not in result:
        assert "volume_log_times" not in result
        return
    stamps = result["volume_log_times"]
    assert len(stamps) == len(result["volume_log_m3"])
    times = [datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ") for s in stamps]
    if on_the_hour:
        assert all(t.minute == 0 and t.second == 0 for t in times)
    assert all(b - a == timedelta(hours=1) for a, b in itertools.pairwise(times))


# Axioma floors its log time to the hour; flowIQ's log ends at its date record's minute.
LOG_ON_THE_HOUR = {"axioma_w1": True, "kamstrup_flowiq": False}


def check(codec: Codec, result: dict[str, Any]) -> None:
    """Only names the codec declares; a meter log's time stamps match the log."""
    assert isinstance(result, dict)
    assert only_known(result, codec.extra_fields)
    assert_log_times(result, on_the_hour=LOG_ON_THE_HOUR.get(codec.id, True))


def decodes_or_typed_error(codec: Codec, fport: int, payload: bytes) -> None:
    """Any frame decodes to known fields or raises the codec's typed error, nothing else."""
    try:
        result = codec.decode(fport, payload)
    except codec.error:
        return
    check(codec, result)


def truncations_and_bit_flips(codec: Codec, frames: list[tuple[int, bytes]]) -> None:
    """Every truncation and every single-bit flip of every frame (exhaustive)."""
    for fport, frame in frames:
        for cut in range(len(frame)):
            decodes_or_typed_error(codec, fport, frame[:cut])
        for bit in range(len(frame) * 8):
            flipped = bytearray(frame)
            flipped[bit // 8] ^= 1 << (bit % 8)
            decodes_or_typed_error(codec, fport, bytes(flipped))
