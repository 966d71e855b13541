"""Config flow of Ånge IoT: a gateway per entry, its sensors as device subentries."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta
import secrets
from types import MappingProxyType
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentry,
    ConfigSubentryData,
    ConfigSubentryFlow,
    OptionsFlow,
    SubentryFlowResult,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant, callback
from homeassistant.data_entry_flow import section
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    DurationSelector,
    DurationSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
    TimeSelector,
)
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .angelib import generic
from .angelib.care import CareSettings
from .angelib.catalog import GENERIC, MODELS, Kind, Model, model_by_id
from .angelib.device import device_kinds
from .angelib.errors import SettingsError
from .angelib.lns import chirpstack, tts
from .angelib.meters import MeterSettings
from .angelib.simulator import APARTMENTS, DEMO_DEVICES, DEMO_SITE_NAME, Role
from .angelib.snow import SnowSettings
from .angelib.uplink import MessageError, normalise_dev_eui
from .building.care import settings_from
from .building.phone_check_flow import SUBENTRY_PHONE_CHECK, PhoneCheckSubentryFlow
from .building.water import meter_settings_from
from .const import (
    CONF_API_KEY,
    CONF_APPLICATION_ID,
    CONF_AREA,
    CONF_BACKFILL,
    CONF_CONTINUOUS,
    CONF_COUNTED,
    CONF_DAILY_LIMIT,
    CONF_DEV_EUI,
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_HIGH_USE_FACTOR,
    CONF_HOST,
    CONF_INVERT_DOOR,
    CONF_KIND,
    CONF_LABEL,
    CONF_LEAKING_METER,
    CONF_MIN_RISE,
    CONF_MISSED_REPORTS,
    CONF_MODEL,
    CONF_MODEL_TEXT,
    CONF_MOUNTING_HEIGHT,
    CONF_NIGHT_FLOW,
    CONF_REPORT_INTERVAL,
    CONF_RESIDENT_NOT_UP,
    CONF_SECRET,
    CONF_SEED,
    CONF_SEEN_FIELDS,
    CONF_SENSORS,
    CONF_SILENCE_LIMIT,
    CONF_SILENT_DEVICE,
    CONF_SILENT_HOURS,
    CONF_SITE_NAME,
    CONF_SNOWFALL,
    CONF_SPEED,
    CONF_TENANT,
    CONF_THRESHOLD,
    CONF_TOPIC_TEMPLATE,
    CONF_WATER_NIGHT_CHECK,
    CONF_WATER_NIGHT_END,
    CONF_WATER_NIGHT_START,
    CONF_WEBHOOK_ID,
    DEFAULT_SEED,
    DEFAULT_SILENCE_LIMIT_MIN,
    DEFAULT_SPEED,
    DOMAIN,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    GATEWAY_SIMULATED,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    GATEWAYS,
    KIND_BUILDING,
    NONE_OPTION,
    SECRET_HEADER,
    SPEEDS,
    SUBENTRY_APARTMENT,
    SUBENTRY_DEVICE,
    SUBENTRY_SNOW_SITE,
    SUBENTRY_WATER_METER,
)
from .gateway.generic_flow import GenericFieldsMixin, fields_summary
from .router import get_router


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

    _discovery: dict[str, Any]

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose where uplinks come from."""
        return self.async_show_menu(step_id="user", menu_options=[*GATEWAYS, KIND_BUILDING])

    async def async_step_building(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A building (group home): care checks for its apartments, with default times."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            defaults = {k: v for k, v in user_input.items() if k != CONF_NAME}
            if error := _care_settings_error(self.hass, defaults):
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

    # -- ChirpStack v4 ---------------------------------------------------------------

    async def async_step_chirpstack_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """ChirpStack's MQTT integration, read through Home Assistant's MQTT broker."""
        if not self.hass.config_entries.async_entries("mqtt"):
            return self.async_abort(
                reason="mqtt_not_configured",
                description_placeholders={"mqtt_url": "/config/integrations/integration/mqtt"},
            )
        errors: dict[str, str] = {}
        if user_input is not None:
            template = user_input[CONF_TOPIC_TEMPLATE].strip()
            application_id = (user_input.get(CONF_APPLICATION_ID) or "").strip() or None
            try:
                topic = chirpstack.subscription_topic(template, application_id)
            except ValueError:
                errors[CONF_TOPIC_TEMPLATE] = "invalid_topic_template"
            else:
                await self.async_set_unique_id(f"{GATEWAY_CHIRPSTACK_MQTT}:{topic}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip() or "ChirpStack",
                    data={
                        CONF_GATEWAY: GATEWAY_CHIRPSTACK_MQTT,
                        CONF_TOPIC_TEMPLATE: template,
                        CONF_APPLICATION_ID: application_id,
                    },
                    options={CONF_SILENCE_LIMIT: DEFAULT_SILENCE_LIMIT_MIN},
                )
        return self.async_show_form(
            step_id=GATEWAY_CHIRPSTACK_MQTT,
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(
                    {
                        vol.Required(CONF_NAME, default="ChirpStack"): TextSelector(),
                        vol.Required(
                            CONF_TOPIC_TEMPLATE, default=chirpstack.DEFAULT_EVENT_TOPIC
                        ): TextSelector(),
                        vol.Optional(CONF_APPLICATION_ID): TextSelector(),
                    }
                ),
                user_input or {},
            ),
            errors=errors,
        )

    async def async_step_chirpstack_http(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """ChirpStack's HTTP integration, posting to a Home Assistant webhook."""
        return await self._async_webhook_gateway(GATEWAY_CHIRPSTACK_HTTP, "ChirpStack", user_input)

    # -- The Things Stack v3 ---------------------------------------------------------

    async def async_step_tts_webhook(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """A The Things Stack webhook posting to Home Assistant."""
        return await self._async_webhook_gateway(
            GATEWAY_TTS_WEBHOOK, "The Things Stack", user_input, backfill=True
        )

    async def async_step_tts_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The Things Stack uplinks bridged onto Home Assistant's MQTT broker."""
        if not self.hass.config_entries.async_entries("mqtt"):
            return self.async_abort(
                reason="mqtt_not_configured",
                description_placeholders={"mqtt_url": "/config/integrations/integration/mqtt"},
            )
        errors: dict[str, str] = {}
        if user_input is not None:
            application_id = user_input[CONF_APPLICATION_ID].strip()
            tenant = (user_input.get(CONF_TENANT) or "").strip() or None
            if not _valid_tts_id(application_id):
                errors[CONF_APPLICATION_ID] = "invalid_application_id"
            elif tenant and not _valid_tts_id(tenant):
                errors[CONF_TENANT] = "invalid_tenant"
            else:
                errors = await _async_check_backfill(self.hass, user_input, application_id)
            if not errors:
                topic = tts.subscription_topic(application_id, tenant)
                await self.async_set_unique_id(f"{GATEWAY_TTS_MQTT}:{topic}")
                self._abort_if_unique_id_configured()
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip() or "The Things Stack",
                    data={
                        CONF_GATEWAY: GATEWAY_TTS_MQTT,
                        CONF_APPLICATION_ID: application_id,
                        CONF_TENANT: tenant,
                        **_backfill_data(user_input),
                    },
                    options={CONF_SILENCE_LIMIT: DEFAULT_SILENCE_LIMIT_MIN},
                )
        return self.async_show_form(
            step_id=GATEWAY_TTS_MQTT,
            data_schema=self.add_suggested_values_to_schema(
                flow_schema(
                    {
                        vol.Required(CONF_NAME, default="The Things Stack"): TextSelector(),
                        vol.Required(CONF_APPLICATION_ID): TextSelector(),
                        vol.Optional(CONF_TENANT, default="ttn"): TextSelector(),
                        **_BACKFILL_FIELDS,
                    }
                ),
                user_input or {},
            ),
            errors=errors,
        )

    async def _async_webhook_gateway(
        self,
        kind: str,
        default_name: str,
        user_input: dict[str, Any] | None,
        *,
        backfill: bool = False,
    ) -> ConfigFlowResult:
        """A gateway that receives on a webhook: generate its id and shared secret."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if backfill:
                errors = await _async_check_backfill(
                    self.hass, user_input, (user_input.get(CONF_APPLICATION_ID) or "").strip()
                )
            if not errors:
                webhook_id = webhook.async_generate_id()
                secret = secrets.token_urlsafe(24)
                await self.async_set_unique_id(f"{kind}:{webhook_id}")
                data = {
                    CONF_GATEWAY: kind,
                    CONF_WEBHOOK_ID: webhook_id,
                    CONF_SECRET: secret,
                    CONF_APPLICATION_ID: (user_input.get(CONF_APPLICATION_ID) or "").strip()
                    or None,
                    **(_backfill_data(user_input) if backfill else {}),
                }
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip() or default_name,
                    data=data,
                    options={CONF_SILENCE_LIMIT: DEFAULT_SILENCE_LIMIT_MIN},
                    description=kind,
                    description_placeholders=webhook_placeholders(self.hass, data),
                )
        fields: dict[Any, Any] = {vol.Required(CONF_NAME, default=default_name): TextSelector()}
        if backfill:
            fields[vol.Optional(CONF_APPLICATION_ID)] = TextSelector()
            fields.update(_BACKFILL_FIELDS)
        return self.async_show_form(
            step_id=kind,
            data_schema=self.add_suggested_values_to_schema(flow_schema(fields), user_input or {}),
            errors=errors,
        )

    # -- reauthentication and reconfiguration -----------------------------------------

    def _async_update_and_reload(self, entry: ConfigEntry, **changes: Any) -> ConfigFlowResult:
        """Store the new connection settings and reload the gateway with them.

        The reload is scheduled here, explicitly: the entry's update listener applies
        options and devices in place and never reloads (HA's guidance for integrations
        with an update listener, from 2026.12 on).
        """
        result = self.async_update_and_abort(entry, **changes)
        self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return result

    async def async_step_reauth(self, entry_data: Mapping[str, Any]) -> ConfigFlowResult:
        """The Things Stack refused the storage API key."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new API key and check it."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            api_key = user_input[CONF_API_KEY].strip()
            candidate = {**entry.data, CONF_API_KEY: api_key}
            errors = await _async_check_backfill(
                self.hass, {**candidate, CONF_BACKFILL: True}, entry.data[CONF_APPLICATION_ID]
            )
            if CONF_HOST in errors:  # the form has no host field
                errors = {"base": errors[CONF_HOST]}
            if not errors:
                return self._async_update_and_reload(entry, data_updates={CONF_API_KEY: api_key})
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=flow_schema({vol.Required(CONF_API_KEY): _PASSWORD}),
            description_placeholders={
                "gateway": entry.title,
                "host": entry.data.get(CONF_HOST) or "",
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change how a gateway connects (topic, storage host, API key)."""
        entry = self._get_reconfigure_entry()
        kind = entry.data[CONF_GATEWAY]
        errors: dict[str, str] = {}
        if kind == GATEWAY_CHIRPSTACK_MQTT:
            if user_input is not None:
                template = user_input[CONF_TOPIC_TEMPLATE].strip()
                application_id = (user_input.get(CONF_APPLICATION_ID) or "").strip() or None
                try:
                    topic = chirpstack.subscription_topic(template, application_id)
                except ValueError:
                    errors[CONF_TOPIC_TEMPLATE] = "invalid_topic_template"
                else:
                    # The unique id follows the subscription; another gateway's is refused.
                    unique_id = f"{GATEWAY_CHIRPSTACK_MQTT}:{topic}"
                    if any(
                        other.unique_id == unique_id and other.entry_id != entry.entry_id
                        for other in self._async_current_entries(include_ignore=False)
                    ):
                        return self.async_abort(reason="already_configured")
                    return self._async_update_and_reload(
                        entry,
                        unique_id=unique_id,
                        data_updates={
                            CONF_TOPIC_TEMPLATE: template,
                            CONF_APPLICATION_ID: application_id,
                        },
                    )
            schema = flow_schema(
                {
                    vol.Required(CONF_TOPIC_TEMPLATE): TextSelector(),
                    vol.Optional(CONF_APPLICATION_ID): TextSelector(),
                }
            )
        elif kind in (GATEWAY_TTS_WEBHOOK, GATEWAY_TTS_MQTT):
            if user_input is not None:
                # The MQTT topic names the application; a webhook's filter may be cleared.
                application_id = (
                    (user_input.get(CONF_APPLICATION_ID) or "")
                    if kind == GATEWAY_TTS_WEBHOOK
                    else (entry.data.get(CONF_APPLICATION_ID) or "")
                ).strip()
                if not user_input.get(CONF_API_KEY) and entry.data.get(CONF_API_KEY):
                    user_input = {**user_input, CONF_API_KEY: entry.data[CONF_API_KEY]}
                errors = await _async_check_backfill(self.hass, user_input, application_id)
                if not errors:
                    return self._async_update_and_reload(
                        entry,
                        data_updates={
                            CONF_APPLICATION_ID: application_id or None,
                            **_backfill_data(user_input),
                        },
                    )
            fields: dict[Any, Any] = {}
            if kind == GATEWAY_TTS_WEBHOOK:
                fields[vol.Optional(CONF_APPLICATION_ID)] = TextSelector()
            fields.update(_BACKFILL_FIELDS)
            schema = flow_schema(fields)
        else:
            return self.async_abort(reason="nothing_to_reconfigure")
        # The stored API key is never sent back to the browser (left empty keeps it).
        suggested = {k: v for k, v in (user_input or entry.data).items() if k != CONF_API_KEY}
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            description_placeholders={"gateway": entry.title},
            errors=errors,
        )

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
            data = _to_data(
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
                        vol.Required(CONF_MODEL): _model_selector(),
                        vol.Optional(CONF_MODEL_TEXT): TextSelector(),
                        vol.Optional(CONF_REPORT_INTERVAL): NumberSelector(
                            NumberSelectorConfig(
                                min=1, max=1440, mode=NumberSelectorMode.BOX,
                                unit_of_measurement="min",
                            )
                        ),
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
        """Options of the gateway (or a building's default care-check times)."""
        if config_entry.data.get(CONF_KIND) == KIND_BUILDING:
            return BuildingOptionsFlow()
        if config_entry.data.get(CONF_GATEWAY) == GATEWAY_SIMULATED:
            return AngeOptionsFlow()
        return GatewayOptionsFlow()

    @classmethod
    @callback
    def async_get_supported_subentry_types(
        cls, config_entry: ConfigEntry
    ) -> dict[str, type[ConfigSubentryFlow]]:
        """Sensors are subentries of their gateway; apartments of their building."""
        if config_entry.data.get(CONF_KIND) == KIND_BUILDING:
            return {
                SUBENTRY_APARTMENT: ApartmentSubentryFlow,
                SUBENTRY_WATER_METER: WaterMeterSubentryFlow,
                SUBENTRY_SNOW_SITE: SnowSiteSubentryFlow,
                SUBENTRY_PHONE_CHECK: PhoneCheckSubentryFlow,  # building/phone_check_flow.py
            }
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


class GatewayOptionsFlow(OptionsFlow):
    """Options of a real gateway: when to warn that it went silent; its connection."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The one step (translated as ``gateway``; ``init`` is the simulated gateway's)."""
        return await self.async_step_gateway(user_input)

    async def async_step_gateway(
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
            step_id="gateway",
            data_schema=flow_schema(
                {
                    vol.Required(
                        CONF_SILENCE_LIMIT,
                        default=entry.options.get(CONF_SILENCE_LIMIT, DEFAULT_SILENCE_LIMIT_MIN),
                    ): NumberSelector(
                        NumberSelectorConfig(
                            min=5, max=10080, step=5, mode=NumberSelectorMode.BOX,
                            unit_of_measurement="min",
                        )
                    ),
                }
            ),
            description_placeholders=connection_placeholders(self.hass, entry.data),
        )  # fmt: skip


def webhook_placeholders(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """URL, header and secret a network server needs to post to this gateway."""
    try:
        url = webhook.async_generate_url(hass, data[CONF_WEBHOOK_ID])
    except NoURLAvailableError:
        url = webhook.async_generate_path(data[CONF_WEBHOOK_ID])
    event = "?event=up" if data[CONF_GATEWAY] == GATEWAY_CHIRPSTACK_HTTP else ""
    return {"url": url, "event": event, "header": SECRET_HEADER, "secret": data[CONF_SECRET]}


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


_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_BACKFILL_FIELDS: dict[Any, Any] = {
    vol.Required(CONF_BACKFILL, default=False): BooleanSelector(),
    vol.Optional(CONF_HOST): TextSelector(),
    vol.Optional(CONF_API_KEY): _PASSWORD,
}


def _valid_tts_id(value: str) -> bool:
    """TTS ids: 3-36 lower-case letters a-z, digits and single dashes (``tts.check_id``)."""
    try:
        tts.check_id(value, "id")
    except ValueError:
        return False
    return True


def _backfill_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    if not user_input.get(CONF_BACKFILL):
        return {CONF_BACKFILL: False, CONF_HOST: None, CONF_API_KEY: None}
    return {
        CONF_BACKFILL: True,
        CONF_HOST: _clean_host(user_input[CONF_HOST]),
        CONF_API_KEY: user_input[CONF_API_KEY].strip(),
    }


def _clean_host(value: str) -> str:
    host = value.strip().removeprefix("https://").removeprefix("http://")
    return host.split("/", 1)[0]


async def _async_check_backfill(
    hass: HomeAssistant, user_input: Mapping[str, Any], application_id: str
) -> dict[str, str]:
    """Check a given application id and, with backfill on, the storage-integration settings."""
    if application_id and not _valid_tts_id(application_id):
        return {CONF_APPLICATION_ID: "invalid_application_id"}
    if not user_input.get(CONF_BACKFILL):
        return {}
    if not user_input.get(CONF_HOST) or not _clean_host(user_input[CONF_HOST]):
        return {CONF_HOST: "host_required"}
    if not user_input.get(CONF_API_KEY):
        return {CONF_API_KEY: "api_key_required"}
    if not application_id or not _valid_tts_id(application_id):
        return {CONF_APPLICATION_ID: "invalid_application_id"}
    from .gateway.tts import StorageAuthError, async_check_storage  # noqa: PLC0415

    try:
        await async_check_storage(
            hass, _clean_host(user_input[CONF_HOST]), application_id, user_input[CONF_API_KEY]
        )
    except StorageAuthError:
        return {CONF_API_KEY: "invalid_api_key"}
    except Exception:
        return {CONF_HOST: "cannot_connect"}
    return {}


def _model_selector() -> SelectSelector:
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
        ] = NumberSelector(
            NumberSelectorConfig(
                min=100, max=10000, step=1, mode=NumberSelectorMode.BOX, unit_of_measurement="mm"
            )
        )
    return fields


def _to_data(user_input: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
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
                _device_schema({}, with_eui=True), user_input or {}
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
            data_schema=_device_schema(
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
                data=_to_data(values, {CONF_DEV_EUI: dev_eui}),
                unique_id=dev_eui,
            )
        subentry = self._get_reconfigure_subentry()
        title = values[CONF_NAME].strip() or subentry.title
        data = _to_data(values, stored)
        if data[CONF_MODEL] == GENERIC.id:
            # Then each field: meaning, unit, hidden, role.
            return await self.async_start_fields(title, data)
        return self.async_update_and_abort(self._get_entry(), subentry, title=title, data=data)


# -- buildings and apartments (care checks) -----------------------------------------

_CARE_TIMES = ("morning_start", "morning_deadline", "active_start", "active_end")
# Hours and minutes: a care-check time in seconds makes no sense.
DURATION = DurationSelector(DurationSelectorConfig(enable_second=False))
_NIGHT_TIMES = ("night_start", "night_end")
_CARE_DURATIONS = ("inactivity_limit", "grace", "reminder_interval")


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
    for key in _CARE_DURATIONS:
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


def _care_settings_error(
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


def _building_defaults(hass: HomeAssistant, entry: ConfigEntry) -> CareSettings:
    """A building's stored default times (also while it is not loaded)."""
    return settings_from(entry.options, CareSettings(timezone=str(hass.config.time_zone)))


class BuildingOptionsFlow(OptionsFlow):
    """A building's defaults: care-check times, and water-meter alert thresholds."""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose which defaults to change."""
        return await self.async_step_defaults()

    async def async_step_defaults(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The menu (its own step id: ``init`` is translated for the simulated gateway)."""
        return self.async_show_menu(step_id="defaults", menu_options=["building", "water"])

    async def async_step_building(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The care-check defaults; the building reloads with them (state is kept)."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            if error := _care_settings_error(self.hass, user_input):
                errors["base"], placeholders = error
            else:
                return self.async_create_entry(data={**self.config_entry.options, **user_input})
        current = _building_defaults(self.hass, self.config_entry)
        return self.async_show_form(
            step_id="building",
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
                flow_schema(_water_fields(night=True, required=True)),
                user_input or _water_suggestions(current, night=True),
            ),
            description_placeholders=placeholders,
            errors=errors,
        )


def _known_sensors(hass: HomeAssistant) -> list[tuple[str, str]]:
    """Motion, presence and door sensors of any gateway, as (DevEUI, "title (model)").

    Meters, snow and climate sensors say nothing about a resident.
    """
    return _known_devices(hass, (Kind.ACTIVITY,))


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


def _apartment_schema(hass: HomeAssistant) -> Any:
    known = _known_sensors(hass)
    own_times = flow_schema(
        {
            vol.Optional(key): (DURATION if key in _CARE_DURATIONS else TimeSelector())
            for key in _OWN_TIME_FIELDS
        }
    )
    return flow_schema(
        {
            vol.Required(CONF_LABEL): TextSelector(),
            vol.Required(CONF_SENSORS, default=[]): SelectSelector(
                SelectSelectorConfig(
                    options=[SelectOptionDict(value=v, label=label) for v, label in known],
                    multiple=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
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
        base = _building_defaults(self.hass, entry)
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
            elif error := _care_settings_error(self.hass, user_input, base):
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
                _apartment_schema(self.hass), suggested
            ),
            description_placeholders={**_defaults_placeholders(base), **placeholders},
            errors=errors,
        )


# -- water meters of a building ------------------------------------------------------

_WATER_NIGHT = (CONF_WATER_NIGHT_START, CONF_WATER_NIGHT_END, CONF_WATER_NIGHT_CHECK)


def _number(low: float, high: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(
            min=low, max=high, step=step, unit_of_measurement=unit, mode=NumberSelectorMode.BOX
        )
    )


def _water_fields(*, night: bool, required: bool) -> dict[Any, Any]:
    """Alert thresholds: required on the building, optional overrides on a meter."""
    key = vol.Required if required else vol.Optional
    fields: dict[Any, Any] = {}
    if night:
        for name in _WATER_NIGHT:
            fields[vol.Required(name)] = TimeSelector()
    fields[key(CONF_NIGHT_FLOW)] = _number(0, 10_000, 0.5, "L/h")
    fields[key(CONF_HIGH_USE_FACTOR)] = _number(1, 100, 0.5, "×")
    fields[vol.Optional(CONF_DAILY_LIMIT)] = _number(0, 10_000_000, 1, "L")
    fields[key(CONF_SILENT_HOURS)] = _number(1, 24 * 90, 1, "h")
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
    try:
        MeterSettings.from_dict({k: v for k, v in mapping.items() if v is not None}, base)
    except ValueError as err:
        return _form_error(err, WATER_ERRORS, "invalid_water_settings")
    return None


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


def _device_label(subentry: ConfigSubentry, model: Model) -> str:
    if model is GENERIC:
        return f"{subentry.title} ({subentry.data.get(CONF_MODEL_TEXT) or model.name})"
    return f"{subentry.title} ({model.manufacturer} {model.name})"


def _known_devices(hass: HomeAssistant, kinds: tuple[Kind, ...]) -> list[tuple[str, str]]:
    """Devices of the given kinds on any gateway, as (DevEUI, "title (model)")."""
    found = [
        (s.data[CONF_DEV_EUI], _device_label(s, m)) for s, m in _device_subentries(hass, kinds)
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
        meters = [m for m in _known_devices(self.hass, (Kind.WATER_METER,)) if m[0] not in taken]
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
            fields[vol.Required(CONF_DEV_EUI)] = _choices(meters)
        fields[vol.Required(CONF_COUNTED, default=True)] = BooleanSelector()
        fields[vol.Required(CONF_CONTINUOUS, default=False)] = BooleanSelector()
        fields.update(_water_fields(night=False, required=False))
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


def _distance_sensors(hass: HomeAssistant) -> dict[str, tuple[str, int | None]]:
    """Distance sensors of any gateway: DevEUI -> (label, mounting height mm)."""
    found: dict[str, tuple[str, int | None]] = {}
    for subentry, model in _device_subentries(hass, (Kind.DISTANCE,)):
        height = subentry.data.get(CONF_MOUNTING_HEIGHT)
        found[subentry.data[CONF_DEV_EUI]] = (
            _device_label(subentry, model),
            height if isinstance(height, int) else None,
        )
    return found


class SnowSiteSubentryFlow(BuildingPartSubentryFlow):
    """Add a snow-clearing site: a lot or named area with its distance sensors."""

    async def _async_form(
        self, step_id: str, user_input: dict[str, Any] | None, subentry: ConfigSubentry | None
    ) -> SubentryFlowResult:
        entry = self._get_entry()
        sensors = _distance_sensors(self.hass)
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
                vol.Required(CONF_SENSORS, default=[]): SelectSelector(
                    SelectSelectorConfig(
                        options=[
                            SelectOptionDict(value=d, label=label)
                            for d, (label, _h) in sorted(sensors.items(), key=lambda i: i[1][0])
                        ],
                        multiple=True,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                ),
                vol.Required(CONF_THRESHOLD, default=defaults.threshold_cm): _number(
                    0.5, 500, 0.5, "cm"
                ),
                vol.Required(CONF_MIN_RISE, default=defaults.min_rise_cm): _number(
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
