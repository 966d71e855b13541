"""A building's config-flow step and options: default care-check times, water thresholds.

``BuildingSteps`` is mixed into the integration's one ``ConfigFlow`` (``config_flow.py``).
The building's options flow has step ids of its own (``init`` menu, ``care``, ``water``):
Home Assistant has one ``options`` translation namespace per domain, shared with the
gateway's options flows. Its apartments, meters and sites are in ``part_flows.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult, OptionsFlow
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import (
    BooleanSelector,
    DurationSelector,
    DurationSelectorConfig,
    TextSelector,
    TimeSelector,
)
import voluptuous as vol

from ..angelib.care import CareSettings
from ..angelib.errors import SettingsError
from ..angelib.meters import MeterSettings
from ..const import (
    CONF_DAILY_LIMIT,
    CONF_HIGH_USE_FACTOR,
    CONF_KIND,
    CONF_METER_ESCALATION,
    CONF_METER_REMINDER,
    CONF_NIGHT_FLOW,
    CONF_SILENT_HOURS,
    CONF_WATER_NIGHT_CHECK,
    CONF_WATER_NIGHT_END,
    CONF_WATER_NIGHT_START,
    KIND_BUILDING,
)
from ..flow_helpers import flow_schema, number
from .care import settings_from
from .water import meter_settings_from


class BuildingSteps(ConfigFlow):
    """Set up a building (group home)."""

    async def async_step_building(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A building (group home): care checks for its apartments, with default times."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            defaults = {k: v for k, v in user_input.items() if k != CONF_NAME}
            if error := care_settings_error(self.hass, defaults):
                errors["base"], placeholders = error
            else:
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip() or "Building",
                    data={CONF_KIND: KIND_BUILDING},
                    options=defaults,
                )
        return self.async_show_form(
            step_id=KIND_BUILDING,
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(
                    {
                        vol.Required(CONF_NAME): TextSelector(),
                        **_care_default_fields(),
                    }
                ),
                user_input or _care_suggestions(),
            ),
            description_placeholders=placeholders,
            errors=errors,
        )


# -- the care-check defaults --------------------------------------------------------

_CARE_TIMES = ("morning_start", "morning_deadline", "active_start", "active_end")
# Hours and minutes: a care-check time in seconds makes no sense.
DURATION = DurationSelector(DurationSelectorConfig(enable_second=False))
_NIGHT_TIMES = ("night_start", "night_end")
CARE_DURATIONS = ("inactivity_limit", "grace", "reminder_interval")


def _care_default_fields() -> dict[Any, Any]:
    """The building-wide care-check times (each apartment may override some)."""
    fields: dict[Any, Any] = {}
    for key in _CARE_TIMES:
        fields[vol.Required(key)] = TimeSelector()
    fields[vol.Required("inactivity_limit")] = DURATION
    fields[vol.Required("grace")] = DURATION
    # Optional: left out (an older script, an API caller), the engine's 15 minutes apply.
    fields[vol.Optional("reminder_interval")] = DURATION
    fields[vol.Required("night_door", default=False)] = BooleanSelector()
    for key in _NIGHT_TIMES:
        fields[vol.Required(key)] = TimeSelector()
    return fields


def _duration(delta: timedelta) -> dict[str, int]:
    seconds = int(delta.total_seconds())
    return {"hours": seconds // 3600, "minutes": seconds % 3600 // 60, "seconds": seconds % 60}


def _care_suggestions(settings: CareSettings | None = None) -> dict[str, Any]:
    """Form values from settings (the engine's defaults when none)."""
    settings = settings or CareSettings()
    values: dict[str, Any] = {
        key: getattr(settings, key).strftime("%H:%M:%S") for key in (*_CARE_TIMES, *_NIGHT_TIMES)
    }
    for key in CARE_DURATIONS:
        values[key] = _duration(getattr(settings, key))
    values["night_door"] = settings.night_door
    return values


# The engine's SettingsError codes each form translates (``error`` keys of the form).
CARE_ERRORS = frozenset(
    {
        "morning_deadline_order",
        "active_hours_order",
        "night_window_empty",
        "grace_range",
        "reminder_range",
        "inactivity_too_short",
        "inactivity_too_long",
    }
)
WATER_ERRORS = frozenset(
    {
        "high_use_factor_low",
        "night_flow_negative",
        "daily_limit_negative",
        "silent_after_short",
        "water_night_empty",
        "night_check_in_night",
        "reminder_range",
        "escalation_range",
    }
)


def _form_error(
    err: ValueError, known: frozenset[str], fallback: str
) -> tuple[str, dict[str, str]]:
    """A form error key and its placeholders for an engine error (translated, not English).

    The engine's ``SettingsError`` names the broken rule and the values it quotes; an error
    without a known code (not reachable through the form's selectors) gets the generic key.
    """
    if isinstance(err, SettingsError) and err.code in known:
        return err.code, dict(err.params)
    return fallback, {}


def care_settings_error(
    hass: HomeAssistant, values: Mapping[str, Any], base: CareSettings | None = None
) -> tuple[str, dict[str, str]] | None:
    """Why these settings cannot work (error key, placeholders), or None."""
    try:
        CareSettings.from_dict(
            {k: v for k, v in values.items() if v is not None},
            base or CareSettings(timezone=str(hass.config.time_zone)),
        )
    except ValueError as err:
        return _form_error(err, CARE_ERRORS, "invalid_care_settings")
    return None


def building_defaults(hass: HomeAssistant, entry: ConfigEntry) -> CareSettings:
    """A building's stored default times (also while it is not loaded)."""
    return settings_from(entry.options, CareSettings(timezone=str(hass.config.time_zone)))


class BuildingOptionsFlow(OptionsFlow):
    """A building's defaults: care-check times, and water-meter alert thresholds."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose which defaults to change."""
        return self.async_show_menu(step_id="init", menu_options=["care", "water"])

    async def async_step_care(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The care-check defaults; the building reloads with them (state is kept)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            if error := care_settings_error(self.hass, user_input):
                errors["base"], placeholders = error
            else:
                return self.async_create_entry(data={**self.config_entry.options, **user_input})
        current = building_defaults(self.hass, self.config_entry)
        return self.async_show_form(
            step_id="care",
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(_care_default_fields()), user_input or _care_suggestions(current)
            ),
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_water(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The building's water-meter alert thresholds (each meter may override some)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        base = MeterSettings(timezone=str(self.hass.config.time_zone))
        if user_input is not None:
            if error := _meter_settings_error(user_input, base):
                errors["base"], placeholders = error
            else:
                options = {**self.config_entry.options, **user_input}
                if CONF_DAILY_LIMIT not in user_input:
                    options.pop(CONF_DAILY_LIMIT, None)  # emptied: no fixed limit
                return self.async_create_entry(data=options)
        current = meter_settings_from(self.config_entry.options, base, prefix_night=True)
        return self.async_show_form(
            step_id="water",
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(water_fields(night=True, required=True)),
                user_input or _water_suggestions(current, night=True),
            ),
            description_placeholders=placeholders,
            errors=errors,
        )


# -- the water-meter alert defaults ---------------------------------------------------

_WATER_NIGHT = (CONF_WATER_NIGHT_START, CONF_WATER_NIGHT_END, CONF_WATER_NIGHT_CHECK)
_WATER_FOLLOW_UP = (CONF_METER_REMINDER, CONF_METER_ESCALATION)


def water_fields(*, night: bool, required: bool) -> dict[Any, Any]:
    """Alert thresholds: required on the building, optional overrides on a meter."""
    key = vol.Required if required else vol.Optional
    fields: dict[Any, Any] = {}
    if night:
        for name in _WATER_NIGHT:
            fields[vol.Required(name)] = TimeSelector()
    fields[key(CONF_NIGHT_FLOW)] = number(0, 10_000, 0.5, "L/h")
    fields[key(CONF_HIGH_USE_FACTOR)] = number(1, 100, 0.5, "×")
    fields[vol.Optional(CONF_DAILY_LIMIT)] = number(0, 10_000_000, 1, "L")
    fields[key(CONF_SILENT_HOURS)] = number(1, 24 * 90, 1, "h")
    if night:  # the building's (all its meters'): reminders and escalation of open alerts
        # Optional: left out (an older script, an API caller), the engine's defaults apply.
        for name in _WATER_FOLLOW_UP:
            fields[vol.Optional(name)] = DURATION
    return fields


def _water_suggestions(settings: MeterSettings, *, night: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        CONF_NIGHT_FLOW: settings.night_flow_lph,
        CONF_HIGH_USE_FACTOR: settings.high_use_factor,
        CONF_SILENT_HOURS: round(settings.silent_after.total_seconds() / 3600, 1),
    }
    if settings.daily_limit_l is not None:
        values[CONF_DAILY_LIMIT] = settings.daily_limit_l
    if night:
        values[CONF_METER_REMINDER] = _duration(settings.reminder_interval)
        values[CONF_METER_ESCALATION] = _duration(settings.escalation_delay)
        values[CONF_WATER_NIGHT_START] = settings.night_start.strftime("%H:%M:%S")
        values[CONF_WATER_NIGHT_END] = settings.night_end.strftime("%H:%M:%S")
        values[CONF_WATER_NIGHT_CHECK] = settings.night_check.strftime("%H:%M:%S")
    return values


def _meter_settings_error(
    values: Mapping[str, Any], base: MeterSettings
) -> tuple[str, dict[str, str]] | None:
    """Why these thresholds cannot work (error key, placeholders), or None."""
    mapping: dict[str, Any] = {
        "night_flow_lph": values.get(CONF_NIGHT_FLOW),
        "high_use_factor": values.get(CONF_HIGH_USE_FACTOR),
    }
    hours = values.get(CONF_SILENT_HOURS)
    if isinstance(hours, int | float):
        mapping["silent_after"] = hours * 3600
    mapping["night_start"] = values.get(CONF_WATER_NIGHT_START)
    mapping["night_end"] = values.get(CONF_WATER_NIGHT_END)
    mapping["night_check"] = values.get(CONF_WATER_NIGHT_CHECK)
    mapping["reminder_interval"] = values.get(CONF_METER_REMINDER)
    mapping["escalation_delay"] = values.get(CONF_METER_ESCALATION)
    try:
        MeterSettings.from_dict({k: v for k, v in mapping.items() if v is not None}, base)
    except ValueError as err:
        return _form_error(err, WATER_ERRORS, "invalid_water_settings")
    return None
