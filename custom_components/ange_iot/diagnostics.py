"""Diagnostics of Ånge IoT: configuration and device health, nothing about residents."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .building.diagnostics import building_diagnostics
from .entries import AngeConfigEntry, is_building, is_gateway
from .gateway.diagnostics import gateway_diagnostics


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: AngeConfigEntry
) -> dict[str, Any]:
    """A gateway's counters and device health, or a building's settings; redacted."""
    if is_building(entry):
        return building_diagnostics(entry)
    assert is_gateway(entry)  # the other kind
    return gateway_diagnostics(entry)
