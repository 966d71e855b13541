"""Config flow of Ånge IoT: a gateway per entry, its sensors as device subentries."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .angelib.catalog import MODELS, Kind
from .angelib.simulator import APARTMENTS, DEMO_DEVICES, DEMO_SITE_NAME, Role
from .angelib.uplink import MessageError, normalise_dev_eui
from .const import (
    CONF_AREA,
    CONF_DEV_EUI,
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_INVERT_DOOR,
    CONF_LEAKING_METER,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    CONF_RESIDENT_NOT_UP,
    CONF_SEED,
    CONF_SILENT_DEVICE,
    CONF_SNOWFALL,
    CONF_SPEED,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    DOMAIN,
    GATEWAY_SIMULATED,
    NONE_OPTION,
    SPEEDS,
    SUBENTRY_DEVICE,
)


def flow_schema(fields: dict[Any, Any]) -> Any:
    """A voluptuous schema for a flow form.

    Voluptuous is this project's schema library. HA 2026.10 validates with probatio
    and annotates flow schemas as ``probatio.Schema`` but accepts voluptuous schemas
    (tested in test_config_flow); ``Any`` bridges the annotation, nothing else.
    """
    return vol.Schema(fields)


SPEED_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=list(SPEEDS), translation_key="speed", mode=SelectSelectorMode.LIST
    )
)


def demo_subentries() -> list[ConfigSubentryData]:
    """The demo site's devices, added with the simulated gateway."""
    subentries: list[ConfigSubentryData] = []
    for device in DEMO_DEVICES:
        data: dict[str, Any] = {
            CONF_DEV_EUI: device.dev_eui,
            CONF_MODEL: device.model_id,
            CONF_REPORT_INTERVAL: device.interval_s,
            CONF_AREA: device.area,
        }
        if device.mounting_height_mm:
            data[CONF_MOUNTING_HEIGHT] = device.mounting_height_mm
        subentries.append(
            ConfigSubentryData(
                data=data,
                subentry_type=SUBENTRY_DEVICE,
                title=device.name,
                unique_id=device.dev_eui,
            )
        )
    return subentries


class AngeConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a gateway: where uplinks come from."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the gateway type (more arrive with the real network servers)."""
        return self.async_show_menu(step_id="user", menu_options=[GATEWAY_SIMULATED])

    async def async_step_simulated(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The built-in demo site; one per Home Assistant."""
        await self.async_set_unique_id(GATEWAY_SIMULATED)
        self._abort_if_unique_id_configured()
        if user_input is not None:
            return self.async_create_entry(
                title=user_input[CONF_NAME],
                data={
                    CONF_GATEWAY: GATEWAY_SIMULATED,
                    CONF_SEED: DEFAULT_SEED,
                    CONF_EPOCH: dt_util.utcnow().isoformat(),
                },
                options={CONF_SPEED: user_input[CONF_SPEED]},
                subentries=demo_subentries(),
            )
        return self.async_show_form(
            step_id="simulated",
            data_schema=flow_schema(
                {
                    vol.Required(CONF_NAME, default=DEMO_SITE_NAME): TextSelector(),
                    vol.Required(CONF_SPEED, default=str(DEFAULT_SPEED)): SPEED_SELECTOR,
                }
            ),
        )

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options of the gateway."""
        return AngeOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Sensors are added, changed and removed as subentries of their gateway."""
        return {SUBENTRY_DEVICE: DeviceSubentryFlow}


def _choices(values: list[tuple[str, str]]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(
            options=[SelectOptionDict(value=v, label=label) for v, label in values],
            mode=SelectSelectorMode.DROPDOWN,
        )
    )


class AngeOptionsFlow(OptionsFlow):
    """Simulation speed and demo scenarios of the simulated gateway."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
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
                ): _choices([none, *((a, a) for a in APARTMENTS)]),
                vol.Required(
                    CONF_SILENT_DEVICE, default=options.get(CONF_SILENT_DEVICE, NONE_OPTION)
                ): _choices([none, *((d.dev_eui, d.name) for d in DEMO_DEVICES)]),
                vol.Required(
                    CONF_LEAKING_METER, default=options.get(CONF_LEAKING_METER, NONE_OPTION)
                ): _choices(
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
        return self.async_show_form(step_id="init", data_schema=schema)


def _model_selector() -> SelectSelector:
    return _choices(
        sorted(((m.id, f"{m.manufacturer} {m.name}") for m in MODELS.values()), key=lambda x: x[1])
    )


def _device_schema(defaults: dict[str, Any], *, with_eui: bool) -> Any:
    fields: dict[Any, Any] = {}
    if with_eui:
        fields[vol.Required(CONF_DEV_EUI, default=defaults.get(CONF_DEV_EUI, ""))] = TextSelector()
    fields.update(
        {
            vol.Required(CONF_NAME, default=defaults.get(CONF_NAME, "")): TextSelector(),
            vol.Required(CONF_MODEL, default=defaults.get(CONF_MODEL, "elsys_ers")): (
                _model_selector()
            ),
            vol.Optional(
                CONF_REPORT_INTERVAL,
                description={"suggested_value": defaults.get(CONF_REPORT_INTERVAL)},
            ): NumberSelector(
                NumberSelectorConfig(
                    min=1, max=1440, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="min"
                )
            ),
            vol.Required(CONF_MISSED_REPORTS, default=defaults.get(CONF_MISSED_REPORTS, 3)): (
                NumberSelector(
                    NumberSelectorConfig(min=1, max=50, step=1, mode=NumberSelectorMode.BOX)
                )
            ),
            vol.Required(CONF_INVERT_DOOR, default=defaults.get(CONF_INVERT_DOOR, False)): (
                BooleanSelector()
            ),
            vol.Optional(
                CONF_MOUNTING_HEIGHT,
                description={"suggested_value": defaults.get(CONF_MOUNTING_HEIGHT)},
            ): NumberSelector(
                NumberSelectorConfig(
                    min=100,
                    max=10000,
                    step=1,
                    mode=NumberSelectorMode.BOX,
                    unit_of_measurement="mm",
                )
            ),
        }
    )
    return flow_schema(fields)


def _to_data(user_input: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Form values → stored subentry data (interval minutes → seconds)."""
    data = dict(base)
    data[CONF_MODEL] = user_input[CONF_MODEL]
    data[CONF_MISSED_REPORTS] = int(user_input[CONF_MISSED_REPORTS])
    data[CONF_INVERT_DOOR] = bool(user_input[CONF_INVERT_DOOR])
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


class DeviceSubentryFlow(ConfigSubentryFlow):
    """Add or change one LoRaWAN sensor of a gateway."""

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
                elif error := _check_model(user_input):
                    errors[CONF_MOUNTING_HEIGHT] = error
                else:
                    return self.async_create_entry(
                        title=user_input[CONF_NAME].strip() or dev_eui,
                        data=_to_data(user_input, {CONF_DEV_EUI: dev_eui}),
                        unique_id=dev_eui,
                    )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _device_schema({}, with_eui=True), user_input or {}
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Change a sensor's name, model, report interval and settings."""
        entry = self._get_entry()
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if error := _check_model(user_input):
                errors[CONF_MOUNTING_HEIGHT] = error
            else:
                return self.async_update_and_abort(
                    entry,
                    subentry,
                    title=user_input[CONF_NAME].strip() or subentry.title,
                    data=_to_data(user_input, dict(subentry.data)),
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=_device_schema(
                user_input or _to_form(dict(subentry.data), subentry.title), with_eui=False
            ),
            description_placeholders={"dev_eui": subentry.data[CONF_DEV_EUI]},
            errors=errors,
        )


def _check_model(user_input: dict[str, Any]) -> str | None:
    """A distance sensor's mounting height must be given for snow depth, else none."""
    model = MODELS[user_input[CONF_MODEL]]
    if user_input.get(CONF_MOUNTING_HEIGHT) and model.kind is not Kind.DISTANCE:
        return "mounting_height_not_distance"
    return None
