"""Config flow of Ånge IoT: the first menu, discovery, and each entry kind's flows.

A gateway entry (a network server or the simulator, its sensors as device subentries) is
set up by the steps in ``gateway/config_flow.py``; a building entry (apartments, water
meters and snow-clearing sites as subentries) by ``building/config_flow.py``. Options and
subentry flows are chosen by the entry's kind (``entries.is_building``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryFlow,
    OptionsFlow,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.selector import TextSelector
import voluptuous as vol

from .angelib import generic
from .angelib.catalog import GENERIC
from .building.config_flow import (
    CARE_ERRORS,
    WATER_ERRORS,
    BuildingOptionsFlow,
    BuildingSteps,
)
from .building.part_flows import (
    ApartmentSubentryFlow,
    SnowSiteSubentryFlow,
    WaterMeterSubentryFlow,
)
from .building.phone_check_flow import SUBENTRY_PHONE_CHECK, PhoneCheckSubentryFlow
from .const import (
    CONF_DEV_EUI,
    CONF_GATEWAY,
    CONF_INVERT_DOOR,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_REPORT_INTERVAL,
    CONF_SEEN_FIELDS,
    DOMAIN,
    GATEWAY_SIMULATED,
    GATEWAYS,
    KIND_BUILDING,
    SUBENTRY_APARTMENT,
    SUBENTRY_DEVICE,
    SUBENTRY_SNOW_SITE,
    SUBENTRY_WATER_METER,
)
from .entries import is_building
from .flow_helpers import flow_schema
from .gateway.config_flow import GatewaySteps, demo_subentries
from .gateway.device_flow import INTERVAL_MINUTES, DeviceSubentryFlow, model_selector, to_data
from .gateway.generic_flow import fields_summary
from .gateway.options_flow import GatewayOptionsFlow, SimulatorOptionsFlow
from .router import get_router

# Imported from here by tests and tools written before the flows moved into the wings.
__all__ = ["CARE_ERRORS", "WATER_ERRORS", "AngeConfigFlow", "demo_subentries"]


class AngeConfigFlow(GatewaySteps, BuildingSteps, domain=DOMAIN):
    """Add a gateway (where uplinks come from) or a building (what is watched)."""

    VERSION = 1

    _discovery: dict[str, Any]

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose where uplinks come from, or a building."""
        return self.async_show_menu(step_id="user", menu_options=[*GATEWAYS, KIND_BUILDING])

    # -- devices the network server knows and this site has not added ----------------

    async def async_step_integration_discovery(
        self, discovery_info: dict[str, Any]
    ) -> ConfigFlowResult:
        """An uplink from an unknown DevEUI: offer to add it (or to ignore it)."""
        dev_eui = discovery_info["dev_eui"]
        await self.async_set_unique_id(f"device:{dev_eui}")
        self._abort_if_unique_id_configured()
        if get_router(self.hass).owners.get(dev_eui):
            return self.async_abort(reason="device_already_added")
        self._discovery = discovery_info
        self.context["title_placeholders"] = {
            "dev_eui": dev_eui,
            "gateway": discovery_info["gateway"],
            "profile": discovery_info.get("profile") or "-",
        }
        return await self.async_step_discovery_confirm()

    async def async_step_discovery_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the model (pre-selected from the network server's profile) and a name."""
        info = self._discovery
        gateway = self.hass.config_entries.async_get_entry(info["gateway_entry_id"])
        if gateway is None or gateway.domain != DOMAIN:
            return self.async_abort(reason="gateway_removed")
        if user_input is not None:
            data = to_data(
                {**user_input, CONF_MISSED_REPORTS: 3, CONF_INVERT_DOOR: False},
                {CONF_DEV_EUI: info["dev_eui"]},
            )
            if data[CONF_MODEL] == GENERIC.id:
                data[CONF_MODEL_TEXT] = (user_input.get(CONF_MODEL_TEXT) or "").strip() or None
                data[CONF_SEEN_FIELDS] = info.get("fields") or []
            self.hass.config_entries.async_add_subentry(
                gateway,
                ConfigSubentry(
                    data=MappingProxyType(data),
                    subentry_type=SUBENTRY_DEVICE,
                    title=user_input[CONF_NAME].strip() or info["dev_eui"],
                    unique_id=info["dev_eui"],
                ),
            )
            return self.async_abort(reason="device_added")
        return self.async_show_form(
            step_id="discovery_confirm",
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(
                    {
                        vol.Required(CONF_NAME): TextSelector(),
                        vol.Required(CONF_MODEL): model_selector(),
                        vol.Optional(CONF_MODEL_TEXT): TextSelector(),
                        vol.Optional(CONF_REPORT_INTERVAL): INTERVAL_MINUTES,
                    }
                ),
                {
                    CONF_NAME: "",
                    CONF_MODEL: info.get("model"),
                    # The generic device's suggested model text: the network server's name.
                    CONF_MODEL_TEXT: info.get("profile") or "",
                },
            ),
            description_placeholders={
                "dev_eui": info["dev_eui"],
                "gateway": info["gateway"],
                "profile": info.get("profile") or "-",
                "fields": await fields_summary(
                    self.hass,
                    [
                        spec
                        for raw in info.get("fields") or []
                        if (spec := generic.FieldSpec.from_dict(raw)) is not None
                    ],
                    info.get("values") or {},
                ),
            },
        )  # fmt: skip

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """A building's defaults, the simulator's scenarios, or a gateway's silence limit."""
        if is_building(config_entry):
            return BuildingOptionsFlow()
        if config_entry.data.get(CONF_GATEWAY) == GATEWAY_SIMULATED:
            return SimulatorOptionsFlow()
        return GatewayOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Sensors are subentries of their gateway; apartments of their building."""
        if is_building(config_entry):
            return {
                SUBENTRY_APARTMENT: ApartmentSubentryFlow,
                SUBENTRY_WATER_METER: WaterMeterSubentryFlow,
                SUBENTRY_SNOW_SITE: SnowSiteSubentryFlow,
                SUBENTRY_PHONE_CHECK: PhoneCheckSubentryFlow,  # building/phone_check_flow.py
            }
        return {SUBENTRY_DEVICE: DeviceSubentryFlow}
