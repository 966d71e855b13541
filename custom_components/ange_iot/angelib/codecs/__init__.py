"""Payload codecs, one module per sensor family, selected by codec id."""

from __future__ import annotations

from . import axioma_w1, decentlab_mbx, elsys, kamstrup_flowiq, milesight, sensative_strips
from .base import CANONICAL_FIELDS, Codec, DecodeError, Fields

CODECS: dict[str, Codec] = {
    codec.id: codec
    for codec in (
        elsys.CODEC,
        sensative_strips.CODEC,
        milesight.CODEC,
        decentlab_mbx.CODEC,
        axioma_w1.CODEC,
        kamstrup_flowiq.CODEC,
    )
}


class UnknownCodecError(KeyError):
    """No codec has this id."""


def get_codec(codec_id: str) -> Codec:
    """Return the codec for ``codec_id`` or raise ``UnknownCodecError``."""
    try:
        return CODECS[codec_id]
    except KeyError:
        raise UnknownCodecError(codec_id) from None


def decode(codec_id: str, fport: int, payload: bytes) -> Fields:
    """Decode one frame; raises only ``DecodeError`` (or ``UnknownCodecError``)."""
    return get_codec(codec_id).decode(fport, payload)


__all__ = [
    "CANONICAL_FIELDS",
    "CODECS",
    "Codec",
    "DecodeError",
    "Fields",
    "UnknownCodecError",
    "decode",
    "get_codec",
]
