"""Logbook lines of Ånge IoT: care alerts, acknowledgements, pauses and meter alerts.

Nothing here is per uplink: motion, presence and door changes and the per-report
timestamps are not logbook lines (those entities are off by default, see the README's
Privacy section). Each line names the apartment (or meter), carries an icon and the
apartment's (meter's) device id and entity id, so it shows in that device's own logbook.

The words come from the ``logbook`` section of the translation files, in the instance's
language (Settings › System › General): the logbook builds its lines on the server, once for
every viewer, like the care board's texts. Describing is synchronous, so the texts are
loaded when the integration is set up and again when the instance's language changes
(``async_setup_texts``), and read from Home Assistant's translation cache here. A string
missing in the instance's language is the English one; with no texts at all (not loaded)
a line shows its codes rather than fail.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import re
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_ICON,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.const import EVENT_CORE_CONFIG_UPDATE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.translation import (
    async_get_cached_translations,
    async_get_translations,
)
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_CARE_LOG, EVENT_METER_LOG

CATEGORY = "logbook"  # the translation files' section
FALLBACK_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

CARE_ICONS = {
    "acknowledged": "mdi:account-check",
    "paused": "mdi:pause-circle",
    "resumed": "mdi:play-circle",
    "check_needed": "mdi:account-alert",
    "sensor_offline": "mdi:account-question",
    "escalated": "mdi:bell-ring",
    "resolved": "mdi:account-heart",
    "phone_check_failed": "mdi:cellphone-remove",
    "phone_check_unreachable": "mdi:cellphone-off",
    "phone_check_confirmed": "mdi:cellphone-check",
}
METER_ICONS = {
    "alert_started": "mdi:water-alert",
    "alert_cleared": "mdi:water-check",
    "alert_acknowledged": "mdi:account-check",
    "escalated": "mdi:bell-ring",
}


async def async_setup_texts(hass: HomeAssistant) -> None:
    """Load the logbook's texts now and whenever the instance's language changes."""
    await async_load_texts(hass)

    async def _language_changed(_event: Event) -> None:
        await async_load_texts(hass)

    @callback
    def _is_language(data: Mapping[str, Any]) -> bool:
        return "language" in data

    hass.bus.async_listen(EVENT_CORE_CONFIG_UPDATE, _language_changed, event_filter=_is_language)


async def async_load_texts(hass: HomeAssistant) -> None:
    """Load the logbook's texts for the instance's language (and English, the fallback).

    They stay in Home Assistant's translation cache (a cache hit when already loaded).
    """
    await async_get_translations(hass, hass.config.language, CATEGORY, [DOMAIN])
    if hass.config.language != FALLBACK_LANGUAGE:
        await async_get_translations(hass, FALLBACK_LANGUAGE, CATEGORY, [DOMAIN])


class _Texts:
    """The loaded logbook texts of the instance's language, English where one is missing."""

    def __init__(self, hass: HomeAssistant) -> None:
        language = hass.config.language
        self._texts = [async_get_cached_translations(hass, language, CATEGORY, DOMAIN)]
        if language != FALLBACK_LANGUAGE:
            english = async_get_cached_translations(hass, FALLBACK_LANGUAGE, CATEGORY, DOMAIN)
            self._texts.append(english)

    def get(self, key: str) -> str | None:
        """The text of ``key`` (e.g. ``care.check_needed``), or None when there is none."""
        full_key = f"component.{DOMAIN}.{CATEGORY}.{key}"
        for texts in self._texts:
            if text := texts.get(full_key):
                return text
        return None

    def line(self, group: str, action: str, variants: list[str]) -> str | None:
        """The first of ``action``'s variants that has a text (``check_needed_late``)."""
        for key in [f"{action}_{variant}" for variant in variants] + [action]:
            if text := self.get(f"{group}.{key}"):
                return text
        return None

    def name(self, group: str, code: str) -> str:
        """A reason's or meter alert's name; its code when it has none."""
        return self.get(f"{group}.{code}") or code


def _fill(template: str, placeholders: Mapping[str, str]) -> str:
    """A translation string with its ``{name}`` placeholders filled in (never raises).

    In one pass, so a user called "{reason}" stays so; a name not given stays as written.
    """
    return _PLACEHOLDER.sub(lambda match: placeholders.get(match[1], match[0]), template)


def _codes(*codes: str) -> str:
    """A line without texts: its codes ("check_needed: no_morning_activity")."""
    return ": ".join(code for code in codes if code)


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe the care-check and meter log events."""

    @callback
    def describe_care(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        texts = _Texts(hass)
        action = str(data.get("action", ""))
        until = _local(data["until"]) if data.get("until") else ""
        reason = str(data.get("reason") or "")
        resolution = str(data.get("resolution") or "")
        placeholders = {
            "user": str(data.get("user") or "?"),
            "until": until,
            "reason": texts.name("reason", reason),
            "resolution": texts.name("reason", resolution),
            "shift": str(data.get("shift") or ""),  # phone check (building/phone_check.py)
        }
        variants = [name for name, used in (("until", until), ("late", data.get("late"))) if used]
        template = texts.line("care", action, variants)
        described = {
            LOGBOOK_ENTRY_NAME: str(data.get("apartment") or data.get("phone") or ""),
            LOGBOOK_ENTRY_MESSAGE: (
                _fill(template, placeholders) if template else _codes(action, reason, resolution)
            ),
            LOGBOOK_ENTRY_ICON: CARE_ICONS.get(action, "mdi:account-heart"),
        }
        if entity_id := data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    @callback
    def describe_meter(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        texts = _Texts(hass)
        action = str(data.get("action", ""))
        alert = str(data.get("alert") or "")
        rate = data.get("leak_rate_lph")
        placeholders = {
            "alert": texts.name("meter_alert", alert),
            "user": str(data.get("user") or "?"),
            "rate": str(round(rate)) if rate else "",
        }
        variants = [name for name, used in (("rate", rate), ("late", data.get("late"))) if used]
        template = texts.line("meter", action, variants)
        described = {
            LOGBOOK_ENTRY_NAME: str(data.get("meter") or ""),
            LOGBOOK_ENTRY_MESSAGE: (
                _fill(template, placeholders) if template else _codes(action, alert)
            ),
            LOGBOOK_ENTRY_ICON: METER_ICONS.get(action, "mdi:water-alert"),
        }
        if entity_id := data.get("entity_id"):
            described[LOGBOOK_ENTRY_ENTITY_ID] = str(entity_id)
        return described

    async_describe_event(DOMAIN, EVENT_CARE_LOG, describe_care)
    async_describe_event(DOMAIN, EVENT_METER_LOG, describe_meter)


def _local(value: object) -> str:
    """A stored UTC time as Home Assistant's local wall-clock time ("2026-11-23 09:45")."""
    parsed = dt_util.parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        return str(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt_util.UTC)
    return dt_util.as_local(parsed).strftime("%Y-%m-%d %H:%M")
