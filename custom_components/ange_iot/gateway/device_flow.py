"""A gateway's sensors: the device subentry flow, and the model choice discovery shares."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
import voluptuous as vol

from ..angelib.catalog import GENERIC, MODELS, Kind, model_by_id
from ..angelib.uplink import MessageError, normalise_dev_eui
from ..const import (
    CONF_DEV_EUI,
    CONF_INVERT_DOOR,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
)
from ..flow_helpers import flow_schema, number
from .generic_flow import GenericFieldsMixin

# A sensor's report interval, in minutes (stored in seconds).
INTERVAL_MINUTES = number(1, 1440, 1, "min")


def model_selector() -> SelectSelector:
    """The catalogue, then the generic device (its label is translated: ``selector.model``)."""
    models = sorted(
        ((m.id, f"{m.manufacturer} {m.name}") for m in MODELS.values()), key=lambda x: x[1]
    )
    return SelectSelector(
        SelectSelectorConfig(
            options=[
                SelectOptionDict(value=v, label=label)
                for v, label in [*models, (GENERIC.id, GENERIC.name)]
            ],
            mode=SelectSelectorMode.DROPDOWN,
            translation_key="model",
        )
    )


def device_schema(defaults: dict[str, Any], *, with_eui: bool) -> Any:
    """The first form: what every sensor has (DevEUI when adding, name, model, reports)."""
    fields: dict[Any, Any] = {}
    if with_eui:
        fields[vol.Required(CONF_DEV_EUI, default=defaults.get(CONF_DEV_EUI, ""))] = TextSelector()
    fields.update(
        {
            vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, "")): TextSelector(),
            vol.Required(CONF_MODEL, default=defaults.get(CONF_MODEL, "elsys_ers")): (
                model_selector()
            ),
            vol.Optional(
                CONF_REPORT_INTERVAL,
                description={"suggested_value": defaults.get(CONF_REPORT_INTERVAL)},
            ): INTERVAL_MINUTES,
            vol.Required(CONF_MISSED_REPORTS, default=defaults.get(CONF_MISSED_REPORTS, 3)): (
                number(1, 50, 1)
            ),
        }
    )
    return flow_schema(fields)


def _model_fields(model_id: str, defaults: Mapping[str, Any]) -> dict[Any, Any]:
    """The settings only some models use: door polarity (doors), mounting height (distance)."""
    model = model_by_id(model_id)
    fields: dict[Any, Any] = {}
    if model.fields & {"door", "door_alarm"} or model.kind is Kind.GENERIC:
        fields[vol.Required(CONF_INVERT_DOOR, default=bool(defaults.get(CONF_INVERT_DOOR)))] = (
            BooleanSelector()
        )
    if model.kind in (Kind.DISTANCE, Kind.GENERIC):
        fields[
            vol.Optional(
                CONF_MOUNTING_HEIGHT,
                description={"suggested_value": defaults.get(CONF_MOUNTING_HEIGHT)},
            )
        ] = number(100, 10000, 1, "mm")
    return fields


def to_data(user_input: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Form values → stored subentry data (interval minutes → seconds).

    Settings the model does not use are stored as off/empty, as before the forms split.
    """
    data = dict(base)
    data[CONF_MODEL] = user_input[CONF_MODEL]
    data[CONF_MISSED_REPORTS] = int(user_input[CONF_MISSED_REPORTS])
    data[CONF_INVERT_DOOR] = bool(user_input.get(CONF_INVERT_DOOR))
    interval = user_input.get(CONF_REPORT_INTERVAL)
    data[CONF_REPORT_INTERVAL] = int(interval * 60) if interval else None
    height = user_input.get(CONF_MOUNTING_HEIGHT)
    data[CONF_MOUNTING_HEIGHT] = int(height) if height else None
    return data


def _to_form(data: dict[str, Any], title: str) -> dict[str, Any]:
    interval = data.get(CONF_REPORT_INTERVAL)
    return {
        **data,
        CONF_NAME: title,
        CONF_REPORT_INTERVAL: interval // 60 if interval else None,
    }


class DeviceSubentryFlow(GenericFieldsMixin, ConfigSubentryFlow):
    """Add or change one LoRaWAN sensor of a gateway.

    The first form asks what every sensor has (DevEUI, name, model, reports); a second one
    follows only for a model with settings of its own: door polarity for door sensors, the
    mounting height for distance sensors (and a generic device, which may measure distance).
    Reconfiguring a generic device then goes through its fields.
    """

    _first_form: dict[str, Any]  # the first form's values (and the DevEUI), for the second

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> SubentryFlowResult:
        """Add a sensor by its DevEUI."""
        errors: dict[str, str] = {}
        if user_input is not None:
            try:
                dev_eui = normalise_dev_eui(user_input[CONF_DEV_EUI])
            except MessageError:
                errors[CONF_DEV_EUI] = "invalid_dev_eui"
            else:
                entry = self._get_entry()
                if any(s.unique_id == dev_eui for s in entry.subentries.values()):
                    errors[CONF_DEV_EUI] = "already_configured"
                else:
                    self._first_form = {**user_input, CONF_DEV_EUI: dev_eui}
                    return await self.async_step_model_options()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                device_schema({}, with_eui=True), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a sensor's name, model, report interval and settings."""
        subentry = self._get_reconfigure_subentry()
        if user_input is not None:
            self._first_form = {**user_input, CONF_DEV_EUI: subentry.data[CONF_DEV_EUI]}
            return await self.async_step_model_options()
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=device_schema(
                _to_form(dict(subentry.data), subentry.title), with_eui=False
            ),
            description_placeholders={"dev_eui": subentry.data[CONF_DEV_EUI]},
        )

    async def async_step_model_options(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The chosen model's own settings (skipped for a model without any)."""
        first = self._first_form
        dev_eui = first[CONF_DEV_EUI]
        reconfiguring = self.source == SOURCE_RECONFIGURE
        stored = dict(self._get_reconfigure_subentry().data) if reconfiguring else {}
        fields = _model_fields(first[CONF_MODEL], stored)
        if user_input is None and fields:
            return self.async_show_form(
                step_id="model_options",
                data_schema=flow_schema(fields),
                description_placeholders={"dev_eui": dev_eui},
            )
        values = {**first, **(user_input or {})}
        if not reconfiguring:
            return self.async_create_entry(
                title=values[CONF_NAME].strip() or dev_eui,
                data=to_data(values, {CONF_DEV_EUI: dev_eui}),
                unique_id=dev_eui,
            )
        subentry = self._get_reconfigure_subentry()
        title = values[CONF_NAME].strip() or subentry.title
        data = to_data(values, stored)
        if data[CONF_MODEL] == GENERIC.id:
            # Then each field: meaning, unit, hidden, role.
            return await self.async_start_fields(title, data)
        return self.async_update_and_abort(self._get_entry(), subentry, title=title, data=data)
