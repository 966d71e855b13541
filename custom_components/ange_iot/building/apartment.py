"""One apartment of a building, and how its care state is stored.

An apartment is an ``apartment`` subentry of its building: a label, care settings (the
building's defaults under its own), its sensors' DevEUIs. Its care state is kept in the
building's care store (``ange_iot.<entry>.care``); the care index store
(``ange_iot.<entry>.care_index``) says which apartments have stored state, so a lost care
store is noticed and judged again, not trusted as "all is well".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from ..angelib.care import ApartmentState, CareSettings, Evaluation, SensorHealth
from ..const import LOGGER
from .part import part_store


@dataclass
class ApartmentRuntime:
    """One apartment: its settings, sensors (DevEUIs), engine state and last evaluation."""

    subentry_id: str
    label: str
    settings: CareSettings
    sensors: tuple[str, ...]
    state: ApartmentState
    evaluation: Evaluation | None = None
    # Escalations armed by a notification automation: alert id -> when to escalate.
    escalations: dict[str, datetime] = field(default_factory=dict)


def care_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Where a building keeps its apartments' care state."""
    return part_store(hass, entry_id, "care")


def care_index_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Which apartments have stored care state: a lost care store is noticed, not trusted."""
    return part_store(hass, entry_id, "care_index")


def settings_from(data: Any, base: CareSettings | None) -> CareSettings:
    """Care settings from entry options / subentry data on top of ``base``.

    Invalid stored values fall back to ``base`` (logged), never to no checks at all.
    """
    keys = {f for f in CareSettings.__dataclass_fields__ if f != "timezone"}
    values = {k: data[k] for k in keys if k in data and data[k] is not None}
    try:
        return CareSettings.from_dict(values, base)
    except ValueError as err:
        LOGGER.error("Invalid care-check settings (%s); using the building's defaults", err)
        return base or CareSettings()


def parse_sensors(data: object) -> dict[str, SensorHealth]:
    """The stored last report and silence limit of each sensor (unreadable ones dropped)."""
    out: dict[str, SensorHealth] = {}
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        if not isinstance(key, str) or not isinstance(value, dict):
            continue
        limit = value.get("silence_limit")
        raw_seen = value.get("last_seen")
        seen = dt_util.parse_datetime(raw_seen) if isinstance(raw_seen, str) else None
        if not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0:
            continue
        if seen is not None and seen.tzinfo is None:
            seen = None
        out[key] = SensorHealth(key=key, last_seen=seen, silence_limit=timedelta(seconds=limit))
    return out


def parse_escalations(data: object) -> dict[str, datetime]:
    """An apartment's stored escalations: alert id -> when (unreadable ones dropped)."""
    out: dict[str, datetime] = {}
    if isinstance(data, dict):
        for alert_id, due in data.items():
            parsed = dt_util.parse_datetime(due) if isinstance(due, str) else None
            if isinstance(alert_id, str) and parsed is not None and parsed.tzinfo is not None:
                out[alert_id] = parsed
    return out
