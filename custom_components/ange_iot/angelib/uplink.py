"""The one uplink model every transport normalises to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Uplink:
    """One LoRaWAN uplink as received from a network server.

    ``dev_eui`` is always 16 lower-case hex digits; ``received_at`` is timezone-aware UTC.
    """

    dev_eui: str
    fport: int
    fcnt: int
    payload: bytes
    received_at: datetime
    source: str
    rssi: float | None = None
    snr: float | None = None
    gateway_count: int = 0
    lns_object: Mapping[str, Any] | None = None  # ChirpStack ``object``, TTS ``decoded_payload``
    # TTS ``normalized_payload`` (TTN Device Repository schema): a list of measurements.
    lns_normalized: tuple[Mapping[str, Any], ...] | None = None
    lns_warnings: tuple[str, ...] = ()  # the network server's decoder warnings
    dedup_id: str | None = None
    profile_hint: str | None = None


class MessageError(ValueError):
    """An LNS message that cannot be turned into an ``Uplink``."""


_HEX_DIGITS = frozenset("0123456789abcdef")


def normalise_dev_eui(value: object) -> str:
    """Return ``value`` as 16 lower-case hex digits or raise ``MessageError``."""
    if not isinstance(value, str):
        raise MessageError(f"DevEUI must be a string, got {type(value).__name__}")
    text = value.strip().replace("-", "").replace(":", "").lower()
    if len(text) != 16 or not _HEX_DIGITS.issuperset(text):
        raise MessageError(f"DevEUI must be 16 hex digits, got {value!r}")
    return text
