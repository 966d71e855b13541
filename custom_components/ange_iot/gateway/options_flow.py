"""A gateway's options: the simulator's speed and scenarios, a server's silence limit.

Home Assistant has one ``options`` translation namespace per domain, so each options flow of
the integration has step ids of its own: the simulator's ``simulation``, a real gateway's
``connection`` (the building's are ``init``, ``care`` and ``water``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import BooleanSelector
import voluptuous as vol

from ..angelib.lns import chirpstack, tts
from ..angelib.simulator import APARTMENTS, DEMO_DEVICES, Role
from ..const import (
    CONF_APPLICATION_ID,
    CONF_GATEWAY,
    CONF_LEAKING_METER,
    CONF_RESIDENT_NOT_UP,
    CONF_SILENCE_LIMIT,
    CONF_SILENT_DEVICE,
    CONF_SNOWFALL,
    CONF_SPEED,
    CONF_TENANT,
    CONF_TOPIC_TEMPLATE,
    DEFAULT_SILENCE_LIMIT_MIN,
    DEFAULT_SPEED,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    NONE_OPTION,
)
from ..flow_helpers import choices, flow_schema, number
from .config_flow import SPEED_SELECTOR, webhook_placeholders


class SimulatorOptionsFlow(OptionsFlow):
    """Simulation speed and demo scenarios of the simulated gateway."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Straight to the one form."""
        return await self.async_step_simulation(user_input)

    async def async_step_simulation(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form; changes apply without a restart."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        options = self.config_entry.options
        none = (NONE_OPTION, "—")
        schema = flow_schema(
            {
                vol.Required(
                    CONF_SPEED, default=str(options.get(CONF_SPEED, DEFAULT_SPEED))
                ): SPEED_SELECTOR,
                vol.Required(
                    CONF_RESIDENT_NOT_UP, default=options.get(CONF_RESIDENT_NOT_UP, NONE_OPTION)
                ): choices([none, *((a, a) for a in APARTMENTS)]),
                vol.Required(
                    CONF_SILENT_DEVICE, default=options.get(CONF_SILENT_DEVICE, NONE_OPTION)
                ): choices([none, *((d.dev_eui, d.name) for d in DEMO_DEVICES)]),
                vol.Required(
                    CONF_LEAKING_METER, default=options.get(CONF_LEAKING_METER, NONE_OPTION)
                ): choices(
                    [
                        none,
                        *(
                            (d.dev_eui, d.name)
                            for d in DEMO_DEVICES
                            if d.role in (Role.APARTMENT_METER, Role.BUILDING_METER)
                        ),
                    ]
                ),
                vol.Required(CONF_SNOWFALL, default=options.get(CONF_SNOWFALL, False)): (
                    BooleanSelector()
                ),
            }
        )
        return self.async_show_form(step_id="simulation", data_schema=schema)


class GatewayOptionsFlow(OptionsFlow):
    """Options of a real gateway: when to warn that it went silent; its connection."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Straight to the one form."""
        return await self.async_step_connection(user_input)

    async def async_step_connection(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """One form; the webhook URL and secret are shown again for copying."""
        if user_input is not None:
            return self.async_create_entry(
                data={
                    **self.config_entry.options,
                    CONF_SILENCE_LIMIT: user_input[CONF_SILENCE_LIMIT],
                }
            )
        entry = self.config_entry
        return self.async_show_form(
            step_id="connection",
            data_schema=flow_schema(
                {
                    vol.Required(
                        CONF_SILENCE_LIMIT,
                        default=entry.options.get(CONF_SILENCE_LIMIT, DEFAULT_SILENCE_LIMIT_MIN),
                    ): number(5, 10080, 5, "min"),
                }
            ),
            description_placeholders=connection_placeholders(self.hass, entry.data),
        )


def connection_placeholders(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """What the options form shows about how the network server connects."""
    kind = data[CONF_GATEWAY]
    if kind in (GATEWAY_CHIRPSTACK_HTTP, GATEWAY_TTS_WEBHOOK):
        placeholders = webhook_placeholders(hass, data)
        return {
            "connection": f"URL: {placeholders['url']}{placeholders['event']}\n"
            f"{placeholders['header']}: {placeholders['secret']}"
        }
    if kind == GATEWAY_CHIRPSTACK_MQTT:
        topic = chirpstack.subscription_topic(
            data[CONF_TOPIC_TEMPLATE], data.get(CONF_APPLICATION_ID)
        )
        return {"connection": f"MQTT: {topic}"}
    if kind == GATEWAY_TTS_MQTT:
        return {
            "connection": "MQTT: "
            + tts.subscription_topic(data[CONF_APPLICATION_ID], data.get(CONF_TENANT))
        }
    return {"connection": "-"}
