"""Every codec against its vectors: the shared fact sheet's and each codec's own.

One harness (codec_harness.py) for the six codecs; their own vectors stay in their modules
(test_codecs_*.py), next to what else is particular to each.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from custom_components.ange_iot.angelib.codecs import (
    axioma_w1,
    decentlab_mbx,
    elsys,
    kamstrup_flowiq,
    milesight,
    sensative_strips,
)
from custom_components.ange_iot.angelib.codecs.base import CANONICAL_FIELDS, Codec

from . import (
    test_codecs_axioma_w1,
    test_codecs_decentlab_mbx,
    test_codecs_elsys,
    test_codecs_kamstrup_flowiq,
    test_codecs_milesight,
    test_codecs_sensative_strips,
)
from .codec_harness import (
    ERROR,
    assert_canonical,
    check,
    shared_vectors,
    truncations_and_bit_flips,
    valid_frames,
)

CODECS: dict[str, Codec] = {
    c.id: c
    for c in (
        axioma_w1.CODEC,
        decentlab_mbx.CODEC,
        elsys.CODEC,
        kamstrup_flowiq.CODEC,
        milesight.CODEC,
        sensative_strips.CODEC,
    )
}
# Each codec's own vectors as (fport, hex, canonical, extras); flowIQ's are all on port 1.
OWN_VECTORS: dict[str, list[tuple[int, str, dict[str, Any], dict[str, Any]]]] = {
    "axioma_w1": test_codecs_axioma_w1.OWN_VECTORS,
    "decentlab_mbx": test_codecs_decentlab_mbx.OWN_VECTORS,
    "elsys": test_codecs_elsys.OWN_VECTORS,
    "kamstrup_flowiq": [(1, *v) for v in test_codecs_kamstrup_flowiq.OWN_VECTORS],
    "milesight": test_codecs_milesight.OWN_VECTORS,
    "sensative_strips": test_codecs_sensative_strips.OWN_VECTORS,
}
# The codecs whose extras a vector lists in full (the others: the ones it names).
ALL_EXTRAS = {"decentlab_mbx"}


def _shared_params() -> list[Any]:
    return [
        pytest.param(v, id=f"{codec_id}:{v['model']}:{v['hex'][:24]}")
        for codec_id in CODECS
        for v in shared_vectors(codec_id)
    ]


def _own_params() -> list[Any]:
    return [
        pytest.param(codec_id, *vector, id=f"{codec_id}-{n}")
        for codec_id, vectors in OWN_VECTORS.items()
        for n, vector in enumerate(vectors)
    ]


@pytest.mark.parametrize("vector", _shared_params())
def test_shared_vector(vector: dict[str, Any]) -> None:
    """Every checked vector decodes to exactly its canonical fields (or raises)."""
    codec = CODECS[vector["codec"]]
    payload = bytes.fromhex(vector["hex"])
    if vector["expected"] == ERROR:
        with pytest.raises(codec.error):
            codec.decode(vector["fport"], payload)
        return
    result = codec.decode(vector["fport"], payload)
    expected = dict(vector["expected"])
    # Vendor over sheet: Axioma's status 0xD0 is tamper, which the shared vectors omit.
    if codec.id == "axioma_w1" and "leak" in expected:
        expected.setdefault("tamper", False)
    assert_canonical(result, expected)
    check(codec, result)


@pytest.mark.parametrize(("codec_id", "fport", "hex_payload", "canonical", "extras"), _own_params())
def test_own_vector(
    codec_id: str, fport: int, hex_payload: str, canonical: dict[str, Any], extras: dict[str, Any]
) -> None:
    """Vendor examples and constructed frames for what the shared file lacks."""
    codec = CODECS[codec_id]
    result = codec.decode(fport, bytes.fromhex(hex_payload))
    assert_canonical(result, canonical)
    if codec_id in ALL_EXTRAS:
        assert {k: v for k, v in result.items() if k not in CANONICAL_FIELDS} == extras
    for key, value in extras.items():
        if isinstance(value, bool):
            assert result[key] is value, key
        elif isinstance(value, float):
            assert result[key] == pytest.approx(value), key
        else:
            assert result[key] == value, key
            assert type(result[key]) is type(value), key
    check(codec, result)
    json.dumps(result)  # JSON-safe for persistence


@pytest.mark.parametrize("codec_id", ["decentlab_mbx", "elsys", "milesight", "sensative_strips"])
def test_truncations_and_bit_flips_only_typed_error(codec_id: str) -> None:
    """Every truncation and every single-bit flip of every valid frame (exhaustive).

    (Axioma and flowIQ have longer frames: their modules sample the flips.)
    """
    own = [(fport, h) for fport, h, _, _ in OWN_VECTORS[codec_id]]
    truncations_and_bit_flips(CODECS[codec_id], valid_frames(codec_id, own))
