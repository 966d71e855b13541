"""Transports: where a gateway entry's messages come from, and where they go.

Each gateway entry runs one ``Transport``: the simulator (``simulated.py``), ChirpStack
(``chirpstack.py``) or The Things Stack (``tts.py``); the HTTP ones share ``webhook.py``.
A transport knows only the small ``MessageSink`` below, never the hub that implements it:
it hands over raw messages with a parser (``async_handle_message``), rejects what it
refuses before parsing (``async_reject``) and, for a backfill, feeds parsed uplinks
(``async_receive``). The sink counts, parses, logs rejections and routes each event
to the entry that owns its device.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..angelib.lns.chirpstack import JoinEvent, StatusEvent
from ..angelib.pipeline import Result, TrackedDevice
from ..angelib.uplink import Uplink

type LnsEvent = Uplink | StatusEvent | JoinEvent


class Reject:
    """Kinds of bad input a gateway counts in its "rejected messages" sensor."""

    MALFORMED = "malformed"  # not JSON, wrong shape, bad base64, missing DevEUI, ...
    OVERSIZED = "oversized"
    UNAUTHORIZED = "unauthorized"  # webhook call without or with a wrong secret
    DECODE = "decode"  # the device's codec refused the payload


class MessageSink(Protocol):
    """What a transport may ask of the entry it delivers to (the hub implements it)."""

    @property
    def backfill_position(self) -> datetime | None:
        """The newest uplink received so far (persisted), for a backfill."""

    def tracked(self, dev_eui: str) -> TrackedDevice | None:
        """The device's config and state, if this entry runs it."""

    def async_handle_message(
        self,
        parse: Callable[[], LnsEvent | None],
        *,
        source: str,
        key: str | Callable[[], str] | None = None,
    ) -> Result | None:
        """Count one message, parse it (a ``MessageError`` is a rejection) and route it."""

    def async_handle_chirpstack(self, body: bytes | str, *, source: str) -> Result | None:
        """Handle one ChirpStack v4 ``up`` event body."""

    def async_reject(self, kind: str, key: str, detail: str) -> None:
        """Count a message refused before parsing (one of ``Reject``) and log it."""

    def async_receive(self, event: LnsEvent) -> Result | None:
        """Route an already parsed event (a backfilled uplink) to its device's owner."""

    def async_set_backfill_position(self, received_at: datetime) -> None:
        """Move the backfill position forward (never back)."""


class Transport:
    """One source of messages, started with its entry and stopped with it."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Bind to the entry (its settings) and the sink its messages go to."""
        self.hass = hass
        self.entry = entry
        self.sink = sink

    async def async_start(self) -> None:
        """Start receiving (subscribe, register a webhook, ...)."""
        raise NotImplementedError

    @callback
    def async_stop(self) -> None:
        """Stop receiving; called when the entry unloads."""

    @callback
    def async_traffic_resumed(self) -> None:
        """Messages arrive again after a silence (a transport may backfill what it missed)."""

    @callback
    def async_device_added(self, dev_eui: str) -> None:
        """A sensor was added while the transport runs (the demo starts its sensor then)."""

    def connection_info(self) -> dict[str, str]:
        """What a user needs to connect the network server (shown in the options flow)."""
        return {}

    def diagnostics(self) -> dict[str, object]:
        """Transport details for diagnostics (no secrets)."""
        return {}
