"""Logbook descriptions: who acknowledged or paused an apartment's care checks, and when.

Motion itself is never logged per event; only these staff actions are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import LOGBOOK_ENTRY_MESSAGE, LOGBOOK_ENTRY_NAME
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_CARE_LOG

_MESSAGES = {
    "en": {
        "acknowledged": "care check acknowledged by {user}",
        "paused": "care checks paused by {user}{until}",
        "resumed": "care checks resumed by {user}",
        "until": " until {until}",
    },
    "sv": {
        "acknowledged": "tillsyn kvitterad av {user}",
        "paused": "tillsyn pausad av {user}{until}",
        "resumed": "tillsyn återupptagen av {user}",
        "until": " till {until}",
    },
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the care-check log events."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        texts = _MESSAGES.get(hass.config.language, _MESSAGES["en"])
        until = texts["until"].format(until=_local(data["until"])) if data.get("until") else ""
        template = texts.get(data.get("action", ""), "{user}")
        return {
            LOGBOOK_ENTRY_NAME: str(data.get("apartment", "")),
            LOGBOOK_ENTRY_MESSAGE: template.format(user=data.get("user", "?"), until=until),
        }

    async_describe_event(DOMAIN, EVENT_CARE_LOG, describe)


def _local(value: object) -> str:
    """A stored UTC time as Home Assistant's local wall-clock time ("2026-11-23 09:45")."""
    parsed = dt_util.parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.UTC)
    return dt_util.as_local(parsed).strftime("%Y-%m-%d %H:%M")
