"""The building's phone check subentry: shift start times, the phones, the grace.

One per building ("Phone check at shift start"); up to four optional time fields (a list of
time selectors does not exist, and four fields are what a facility manager expects from
"shift times"), the Companion-app phones (a device selector on ``mobile_app``), and the
grace in minutes. Reconfigure changes it in place; removing it stops the checks.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.helpers.selector import (
    DeviceSelector,
    DeviceSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TimeSelector,
)
import voluptuous as vol

from ..angelib.phone_check import DEFAULT_GRACE, MAX_GRACE, PhoneCheckSettings
from .phone_check import CONF_GRACE, CONF_PHONES, CONF_SHIFTS, SUBENTRY_PHONE_CHECK

__all__ = ["SUBENTRY_PHONE_CHECK", "PhoneCheckSubentryFlow"]

DEFAULT_SHIFTS = ("07:00:00", "15:00:00", "21:30:00")


class PhoneCheckSubentryFlow(ConfigSubentryFlow):
    """Add or change the building's phone check at shift start."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add it (one per building)."""
        entry = self._get_entry()
        if any(s.subentry_type == SUBENTRY_PHONE_CHECK for s in entry.subentries.values()):
            return self.async_abort(reason="already_configured")
        return await self._async_form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change it."""
        return await self._async_form("reconfigure", user_input, self._get_reconfigure_subentry())

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {k: v for k, v in user_input.items() if v not in (None, "")}
            if not any(data.get(key) for key in CONF_SHIFTS):
                errors["base"] = "shift_required"
            elif not data.get(CONF_PHONES):
                errors[CONF_PHONES] = "phones_required"
            else:
                try:
                    PhoneCheckSettings.from_form(data, timezone="UTC", shift_keys=CONF_SHIFTS)
                except ValueError:
                    errors["base"] = "invalid_settings"
                else:
                    title = self._title()
                    if subentry is None:
                        return self.async_create_entry(title=title, data=data)
                    return self.async_update_and_abort(
                        self._get_entry(), subentry, title=title, data=data
                    )
        fields: dict[Any, Any] = {vol.Optional(key): TimeSelector() for key in CONF_SHIFTS}
        # Any: HA 2026.10 annotates flow schemas as probatio's but takes voluptuous ones
        # (as config_flow.flow_schema does).
        schema: Any = vol.Schema(
            {
                **fields,
                vol.Required(CONF_PHONES, default=[]): DeviceSelector(
                    DeviceSelectorConfig(integration="mobile_app", multiple=True)
                ),
                vol.Required(
                    CONF_GRACE, default=round(DEFAULT_GRACE.total_seconds() / 60)
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=1,
                        max=MAX_GRACE.total_seconds() / 60,
                        step=1,
                        unit_of_measurement="min",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )
        if user_input is not None:
            suggested: dict[str, Any] = user_input
        elif subentry is not None:
            suggested = dict(subentry.data)
        else:
            suggested = dict(zip(CONF_SHIFTS, DEFAULT_SHIFTS, strict=False))
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
        )

    def _title(self) -> str:
        language = (self.hass.config.language or "en").split("-")[0]
        return "Telefonkontroll vid passbyte" if language == "sv" else "Phone check at shift start"
