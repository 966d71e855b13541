"""A building's parts: apartments (care checks), water meters and snow-clearing sites.

Each is a subentry of the building with one form to add it and the same form to change it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigSubentry, ConfigSubentryFlow, SubentryFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    TextSelector,
    TimeSelector,
)
from homeassistant.helpers.translation import async_get_translations
import voluptuous as vol

from ..angelib.care import CareSettings
from ..angelib.catalog import GENERIC, MODELS, Kind, Model
from ..angelib.device import device_kinds
from ..angelib.meters import MeterSettings
from ..angelib.snow import SnowSettings
from ..const import (
    CONF_CONTINUOUS,
    CONF_COUNTED,
    CONF_DEV_EUI,
    CONF_LABEL,
    CONF_MIN_RISE,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_MOUNTING_HEIGHT,
    CONF_SENSORS,
    CONF_SITE_NAME,
    CONF_THRESHOLD,
    DOMAIN,
    SUBENTRY_DEVICE,
    SUBENTRY_SNOW_SITE,
    SUBENTRY_WATER_METER,
)
from ..flow_helpers import choices, flow_schema, number
from ..router import get_router
from .config_flow import (
    CARE_DURATIONS,
    DURATION,
    building_defaults,
    care_settings_error,
    water_fields,
)
from .water import meter_settings_from

# -- apartments (care checks) ---------------------------------------------------------


def _known_sensors(hass: HomeAssistant, generic: str) -> list[tuple[str, str]]:
    """Motion, presence and door sensors of any gateway, as (DevEUI, "title (model)").

    Meters, snow and climate sensors say nothing about a resident.
    """
    return _known_devices(hass, (Kind.ACTIVITY,), generic)


# The apartment's own times: a collapsed section of the form, stored flat in the subentry
# (as before the section existed), each empty one meaning "the building's".
OWN_TIMES = "own_times"
_OWN_TIME_FIELDS = (
    "morning_start",
    "morning_deadline",
    "inactivity_limit",
    "active_start",
    "active_end",
    "night_start",
    "night_end",
    "grace",
)


def _apartment_schema(hass: HomeAssistant, generic: str) -> Any:
    known = _known_sensors(hass, generic)
    own_times = flow_schema(
        {
            vol.Optional(key): (DURATION if key in CARE_DURATIONS else TimeSelector())
            for key in _OWN_TIME_FIELDS
        }
    )
    return flow_schema(
        {
            vol.Required(CONF_LABEL): TextSelector(),
            vol.Required(CONF_SENSORS, default=[]): choices(known, multiple=True),
            vol.Required("enabled", default=True): BooleanSelector(),
            vol.Required("morning_check", default=True): BooleanSelector(),
            vol.Required("inactivity_check", default=True): BooleanSelector(),
            vol.Required("night_door", default=False): BooleanSelector(),
            # Optional: an API caller (scripts/develop) may leave the section out.
            vol.Optional(OWN_TIMES, default={}): section(own_times, {"collapsed": True}),
        }
    )


def _apartment_from_form(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Form values → stored apartment data: the own-times section flattened."""
    data = {k: v for k, v in user_input.items() if k != OWN_TIMES}
    data.update(user_input.get(OWN_TIMES) or {})
    return data


def _apartment_to_form(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored apartment data → form values: the own times inside their section."""
    values = {k: v for k, v in data.items() if k not in _OWN_TIME_FIELDS}
    values[OWN_TIMES] = {k: data[k] for k in _OWN_TIME_FIELDS if k in data}
    return values


def _hm_text(delta: timedelta) -> str:
    """A duration as the forms show it: "4 h", "15 min", "1 h 30 min"."""
    minutes = round(delta.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    return f"{hours} h" if hours else f"{minutes} min"


def _defaults_placeholders(settings: CareSettings) -> dict[str, str]:
    """The building's times, shown on the apartment form (what "empty" means)."""
    return {
        "morning_start": f"{settings.morning_start:%H:%M}",
        "morning_deadline": f"{settings.morning_deadline:%H:%M}",
        "active_start": f"{settings.active_start:%H:%M}",
        "active_end": f"{settings.active_end:%H:%M}",
        "inactivity_limit": _hm_text(settings.inactivity_limit),
        "night_start": f"{settings.night_start:%H:%M}",
        "night_end": f"{settings.night_end:%H:%M}",
        "grace": _hm_text(settings.grace),
    }


class BuildingPartSubentryFlow(ConfigSubentryFlow):
    """A subentry of a building (apartment, water meter, site): one form to add or change."""

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add one."""
        return await self._async_form("user", user_input, None)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change one."""
        return await self._async_form("reconfigure", user_input, self._get_reconfigure_subentry())

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        raise NotImplementedError


class ApartmentSubentryFlow(BuildingPartSubentryFlow):
    """Add or change an apartment: its label, sensors and care-check settings."""

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        base = building_defaults(self.hass, entry)
        if user_input is not None:
            form = user_input
            user_input = _apartment_from_form(user_input)
            label = user_input[CONF_LABEL].strip()
            taken = {
                s.data.get(CONF_LABEL, "").casefold()
                for s in entry.subentries.values()
                if subentry is None or s.subentry_id != subentry.subentry_id
            }
            if not label:
                errors[CONF_LABEL] = "label_required"
            elif label.casefold() in taken:
                errors[CONF_LABEL] = "label_taken"
            elif not user_input.get(CONF_SENSORS):
                errors[CONF_SENSORS] = "sensors_required"
            elif error := care_settings_error(self.hass, user_input, base):
                errors["base"], placeholders = error
            else:
                data = {**user_input, CONF_LABEL: label}
                if subentry is None:
                    return self.async_create_entry(title=label, data=data)
                return self.async_update_and_abort(entry, subentry, title=label, data=data)
            suggested = form
        else:
            suggested = _apartment_to_form(subentry.data if subentry else {})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                _apartment_schema(self.hass, await async_generic_label(self.hass)), suggested
            ),
            description_placeholders={**_defaults_placeholders(base), **placeholders},
            errors=errors,
        )


# -- the sensors of every gateway a part may use --------------------------------------


def _device_subentries(
    hass: HomeAssistant, kinds: tuple[Kind, ...] | None = None
) -> Iterator[tuple[ConfigSubentry, Model]]:
    """The sensors added to any gateway (of the given kinds), with their models."""
    for entry in hass.config_entries.async_entries(DOMAIN):
        for subentry in entry.subentries.values():
            if subentry.subentry_type != SUBENTRY_DEVICE:
                continue
            model_id = subentry.data.get(CONF_MODEL, "")
            if model_id == GENERIC.id:
                if kinds is None or _generic_kinds(hass, subentry) & set(kinds):
                    yield subentry, GENERIC
                continue
            model = MODELS.get(model_id)
            if model is not None and (kinds is None or model.kind in kinds):
                yield subentry, model


def _generic_kinds(hass: HomeAssistant, subentry: ConfigSubentry) -> frozenset[Kind]:
    """What a generic device is for: the roles of its fields (as its gateway runs it)."""
    dev_eui = subentry.data.get(CONF_DEV_EUI, "")
    tracked = get_router(hass).tracked(dev_eui)
    return device_kinds(tracked.config, tracked.state) if tracked is not None else frozenset()


async def async_generic_label(hass: HomeAssistant) -> str:
    """What a generic device without a profile name is called, in the instance's language.

    The sensor dropdowns list the sensors the user added (dynamic options), which the
    frontend cannot translate by itself, and a flow is not told its user's language: the
    label comes from the translation files in the instance's language.
    """
    strings = await async_get_translations(hass, hass.config.language, "selector", [DOMAIN])
    return strings.get(f"component.{DOMAIN}.selector.device_label.options.generic", GENERIC.name)


def _device_label(subentry: ConfigSubentry, model: Model, generic: str) -> str:
    """Title and model: "Lgh 1101 rörelse (Elsys ERS)"; a generic one its profile if known."""
    if model is GENERIC:
        return f"{subentry.title} ({subentry.data.get(CONF_MODEL_TEXT) or generic})"
    return f"{subentry.title} ({model.manufacturer} {model.name})"


def _known_devices(
    hass: HomeAssistant, kinds: tuple[Kind, ...], generic: str
) -> list[tuple[str, str]]:
    """Devices of the given kinds on any gateway, as (DevEUI, "title (model)")."""
    found = [
        (s.data[CONF_DEV_EUI], _device_label(s, m, generic))
        for s, m in _device_subentries(hass, kinds)
    ]
    return sorted(found, key=lambda item: item[1])


def _device_title(hass: HomeAssistant, dev_eui: str) -> str:
    for subentry, _model in _device_subentries(hass):
        if subentry.data[CONF_DEV_EUI] == dev_eui:
            return subentry.title
    return dev_eui


async def _async_meter_title(hass: HomeAssistant, dev_eui: str) -> str:
    """A building's meter subentry title: "Meter alerts and statistics: <the sensor's title>".

    The gateway's sensor subentry carries the bare title ("Lgh 1101 vattenmätare"); the
    building's says what it is, in the instance's language, so the two are told apart on
    the integration page. Stored data and unique ids do not depend on it.
    """
    sensor = _device_title(hass, dev_eui)
    strings = await async_get_translations(
        hass, hass.config.language, "config_subentries", [DOMAIN]
    )
    kind = strings.get(f"component.{DOMAIN}.config_subentries.{SUBENTRY_WATER_METER}.entry_type")
    return f"{kind}: {sensor}" if kind else sensor


# -- water meters of a building ------------------------------------------------------


class WaterMeterSubentryFlow(BuildingPartSubentryFlow):
    """Add a water meter to a building: alerts, hourly statistics, the building total."""

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        # A meter belongs to one building (its hourly statistic has one owner).
        taken = {
            s.data.get(CONF_DEV_EUI)
            for e in self.hass.config_entries.async_entries(DOMAIN)
            for s in e.subentries.values()
            if s.subentry_type == SUBENTRY_WATER_METER
            and (subentry is None or s.subentry_id != subentry.subentry_id)
        }
        meters = [
            m
            for m in _known_devices(
                self.hass, (Kind.WATER_METER,), await async_generic_label(self.hass)
            )
            if m[0] not in taken
        ]
        if subentry is None and not meters:
            return self.async_abort(reason="no_meters")
        if user_input is not None:  # the selectors keep overrides in the engine's range
            dev_eui = subentry.data[CONF_DEV_EUI] if subentry else user_input[CONF_DEV_EUI]
            data = {**user_input, CONF_DEV_EUI: dev_eui}
            title = await _async_meter_title(self.hass, dev_eui)
            if subentry is None:
                return self.async_create_entry(title=title, data=data, unique_id=dev_eui)
            return self.async_update_and_abort(entry, subentry, title=title, data=data)
        fields: dict[Any, Any] = {}
        if subentry is None:
            fields[vol.Required(CONF_DEV_EUI)] = choices(meters)
        fields[vol.Required(CONF_COUNTED, default=True)] = BooleanSelector()
        fields[vol.Required(CONF_CONTINUOUS, default=False)] = BooleanSelector()
        fields.update(water_fields(night=False, required=False))
        suggested = dict(subentry.data) if subentry else {}
        building = meter_settings_from(
            entry.options,
            MeterSettings(timezone=str(self.hass.config.time_zone)),
            prefix_night=True,
        )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(flow_schema(fields), suggested),
            description_placeholders=_water_defaults_placeholders(building),
        )


def _water_defaults_placeholders(settings: MeterSettings) -> dict[str, str]:
    """The building's thresholds, shown on the meter form (what "empty" means)."""
    daily = settings.daily_limit_l
    return {
        "night_flow_lph": f"{settings.night_flow_lph:g}",
        "high_use_factor": f"{settings.high_use_factor:g}",
        "daily_limit_l": "–" if daily is None else f"{daily:g}",
        "silent_hours": f"{settings.silent_after.total_seconds() / 3600:g}",
    }


# -- snow-clearing sites of a building -----------------------------------------------


def _distance_sensors(hass: HomeAssistant, generic: str) -> dict[str, tuple[str, int | None]]:
    """Distance sensors of any gateway: DevEUI -> (label, mounting height mm)."""
    found: dict[str, tuple[str, int | None]] = {}
    for subentry, model in _device_subentries(hass, (Kind.DISTANCE,)):
        height = subentry.data.get(CONF_MOUNTING_HEIGHT)
        found[subentry.data[CONF_DEV_EUI]] = (
            _device_label(subentry, model, generic),
            height if isinstance(height, int) else None,
        )
    return found


class SnowSiteSubentryFlow(BuildingPartSubentryFlow):
    """Add a snow-clearing site: a lot or named area with its distance sensors."""

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        sensors = _distance_sensors(self.hass, await async_generic_label(self.hass))
        if subentry is None and not sensors:
            return self.async_abort(reason="no_distance_sensors")
        errors: dict[str, str] = {}
        placeholders = {"sensor": ""}
        if user_input is not None:
            name = user_input[CONF_SITE_NAME].strip()
            chosen = user_input.get(CONF_SENSORS) or []
            without = [sensors[d][0] for d in chosen if d in sensors and sensors[d][1] is None]
            taken = {
                s.data.get(CONF_SITE_NAME, "").casefold()
                for s in entry.subentries.values()
                if s.subentry_type == SUBENTRY_SNOW_SITE
                and (subentry is None or s.subentry_id != subentry.subentry_id)
            }
            if not name:
                errors[CONF_SITE_NAME] = "label_required"
            elif name.casefold() in taken:
                errors[CONF_SITE_NAME] = "label_taken"
            elif not chosen:
                errors[CONF_SENSORS] = "sensors_required"
            elif without:
                errors[CONF_SENSORS] = "mounting_height_required"
                placeholders["sensor"] = ", ".join(without)
            else:  # the selectors keep the thresholds in the engine's range
                data = {**user_input, CONF_SITE_NAME: name}
                if subentry is None:
                    return self.async_create_entry(title=name, data=data)
                return self.async_update_and_abort(entry, subentry, title=name, data=data)
        defaults = SnowSettings()
        schema = flow_schema(
            {
                vol.Required(CONF_SITE_NAME): TextSelector(),
                vol.Required(CONF_SENSORS, default=[]): choices(
                    sorted(((d, label) for d, (label, _h) in sensors.items()), key=lambda i: i[1]),
                    multiple=True,
                ),
                vol.Required(CONF_THRESHOLD, default=defaults.threshold_cm): number(
                    0.5, 500, 0.5, "cm"
                ),
                vol.Required(CONF_MIN_RISE, default=defaults.min_rise_cm): number(
                    0, 500, 0.5, "cm"
                ),
            }
        )
        suggested = user_input or (dict(subentry.data) if subentry else {})
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders=placeholders,
            errors=errors,
        )
