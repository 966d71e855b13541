"""The building wing's dispatcher signals, declared once and typed.

Each is formatted with the building's entry id (and a subentry id for a part's own
signal). Event signals carry ``(event type, data)`` to an event entity; update signals
carry nothing and tell entities to write their state. The device signal a building
follows (a sensor's uplinks, on any gateway) is the integration's, not declared here.
"""

from __future__ import annotations

from typing import Any

from homeassistant.util.signal_type import SignalTypeFormat

from ..const import DOMAIN

# Care: the building's care events, one apartment's evaluations, building-wide figures.
CARE_EVENT: SignalTypeFormat[str, dict[str, Any]] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_care_event"  # entry id
)
APARTMENT_UPDATED: SignalTypeFormat[()] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_{{}}_care"  # entry id, apartment subentry id
)
BUILDING_UPDATED: SignalTypeFormat[()] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_building"  # entry id
)

# Water: the building's meter alerts, and its meters' evaluations.
METER_EVENT: SignalTypeFormat[str, dict[str, Any]] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_meter_event"  # entry id
)
WATER_UPDATED: SignalTypeFormat[()] = SignalTypeFormat(f"{DOMAIN}_{{}}_water")  # entry id

# Snow: one site's clearing events, and its updates.
SNOW_EVENT: SignalTypeFormat[str, dict[str, Any]] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_{{}}_snow_event"  # entry id, site subentry id
)
SITE_UPDATED: SignalTypeFormat[()] = SignalTypeFormat(
    f"{DOMAIN}_{{}}_{{}}_snow"  # entry id, site subentry id
)
