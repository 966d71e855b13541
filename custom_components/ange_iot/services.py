"""Services of Ånge IoT."""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .angelib.simulator import Scenario
from .angelib.uplink import MessageError, normalise_dev_eui
from .const import (
    ATTR_ACTIVE,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_SCENARIO,
    ATTR_TARGET,
    DOMAIN,
    SERVICE_SET_SCENARIO,
)
from .coordinator import AngeConfigEntry

# Voluptuous, as everywhere in this project; typed Any because HA 2026.10 annotates
# service schemas as probatio's while accepting voluptuous (see config_flow.flow_schema).
SET_SCENARIO_SCHEMA: Any = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Required(ATTR_SCENARIO): vol.In([s.value for s in Scenario]),
        vol.Optional(ATTR_TARGET, default=""): cv.string,
        vol.Optional(ATTR_ACTIVE, default=True): cv.boolean,
    }
)


def _get_entry(hass: HomeAssistant, entry_id: str) -> AngeConfigEntry:
    entry: AngeConfigEntry | None = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    return entry


async def _async_set_scenario(call: ServiceCall) -> None:
    entry = _get_entry(call.hass, call.data[ATTR_CONFIG_ENTRY_ID])
    gateway = entry.runtime_data.gateway
    if gateway is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_simulated",
            translation_placeholders={"title": entry.title},
        )
    scenario = Scenario(call.data[ATTR_SCENARIO])
    target: str = call.data[ATTR_TARGET]
    if scenario in (Scenario.SENSOR_SILENT, Scenario.LEAK):
        # A DevEUI as shown on the device page (the upper-case serial number) works too.
        with suppress(MessageError):
            target = normalise_dev_eui(target)
    try:
        gateway.async_set_scenario(scenario, call.data[ATTR_ACTIVE], target)
    except ValueError as err:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="bad_scenario_target",
            translation_placeholders={
                "scenario": scenario.value,
                "target": target,
                "error": str(err),
            },
        ) from err


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services (once, in ``async_setup``)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_SCENARIO, _async_set_scenario, schema=SET_SCENARIO_SCHEMA
    )
