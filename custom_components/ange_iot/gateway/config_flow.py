"""A gateway's config-flow steps: each network server, the simulator, reauth, reconfigure.

``GatewaySteps`` is mixed into the integration's one ``ConfigFlow`` (``config_flow.py``),
which routes the first menu's gateway choices here.
"""

from __future__ import annotations

from collections.abc import Mapping
import secrets
from typing import Any

from homeassistant.components import webhook
from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    ConfigSubentryData,
)
from homeassistant.const import CONF_NAME
from homeassistant.core import HomeAssistant
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.util import dt as dt_util
import voluptuous as vol

from ..angelib.lns import chirpstack, tts
from ..angelib.simulator import DEMO_DEVICES, DEMO_SITE_NAME
from ..const import (
    CONF_API_KEY,
    CONF_APPLICATION_ID,
    CONF_AREA,
    CONF_BACKFILL,
    CONF_DEV_EUI,
    CONF_EPOCH,
    CONF_GATEWAY,
    CONF_HOST,
    CONF_MODEL,
    CONF_MOUNTING_HEIGHT,
    CONF_REPORT_INTERVAL,
    CONF_SECRET,
    CONF_SEED,
    CONF_SILENCE_LIMIT,
    CONF_SPEED,
    CONF_TENANT,
    CONF_TOPIC_TEMPLATE,
    CONF_WEBHOOK_ID,
    DEFAULT_SEED,
    DEFAULT_SILENCE_LIMIT_MIN,
    DEFAULT_SPEED,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    GATEWAY_SIMULATED,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    SECRET_HEADER,
    SPEEDS,
    SUBENTRY_DEVICE,
)
from ..flow_helpers import flow_schema

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


class GatewaySteps(ConfigFlow):
    """Set up a gateway: where uplinks come from; change or reauthenticate its connection."""

    def _async_abort_without_mqtt(self) -> ConfigFlowResult | None:
        """An MQTT gateway needs Home Assistant's MQTT integration set up first."""
        if self.hass.config_entries.async_entries("mqtt"):
            return None
        return self.async_abort(
            reason="mqtt_not_configured",
            description_placeholders={"mqtt_url": "/config/integrations/integration/mqtt"},
        )

    # -- ChirpStack v4 ---------------------------------------------------------------

    async def async_step_chirpstack_mqtt(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """ChirpStack's MQTT integration, read through Home Assistant's MQTT broker."""
        if abort := self._async_abort_without_mqtt():
            return abort
        errors: dict[str, str] = {}
        if user_input is not None:
            template, application_id = _chirpstack_subscription(user_input)
            try:
                topic = chirpstack.subscription_topic(template, application_id)
            except ValueError:
                errors[CONF_TOPIC_TEMPLATE] = "invalid_topic_template"
            else:
                return await self._async_create_mqtt_gateway(
                    GATEWAY_CHIRPSTACK_MQTT,
                    topic,
                    user_input[CONF_NAME].strip() or "ChirpStack",
                    {CONF_TOPIC_TEMPLATE: template, CONF_APPLICATION_ID: application_id},
                )
        return self._async_show_gateway_form(
            GATEWAY_CHIRPSTACK_MQTT,
            {
                vol.Required(CONF_NAME, default="ChirpStack"): TextSelector(),
                vol.Required(
                    CONF_TOPIC_TEMPLATE, default=chirpstack.DEFAULT_EVENT_TOPIC
                ): TextSelector(),
                vol.Optional(CONF_APPLICATION_ID): TextSelector(),
            },
            user_input,
            errors,
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
        if abort := self._async_abort_without_mqtt():
            return abort
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
                return await self._async_create_mqtt_gateway(
                    GATEWAY_TTS_MQTT,
                    tts.subscription_topic(application_id, tenant),
                    user_input[CONF_NAME].strip() or "The Things Stack",
                    {
                        CONF_APPLICATION_ID: application_id,
                        CONF_TENANT: tenant,
                        **_backfill_data(user_input),
                    },
                )
        return self._async_show_gateway_form(
            GATEWAY_TTS_MQTT,
            {
                vol.Required(CONF_NAME, default="The Things Stack"): TextSelector(),
                vol.Required(CONF_APPLICATION_ID): TextSelector(),
                vol.Optional(CONF_TENANT, default="ttn"): TextSelector(),
                **_BACKFILL_FIELDS,
            },
            user_input,
            errors,
        )

    async def _async_create_mqtt_gateway(
        self, kind: str, topic: str, title: str, data: dict[str, Any]
    ) -> ConfigFlowResult:
        """An MQTT gateway: one per subscription (its topic is the unique id)."""
        await self.async_set_unique_id(f"{kind}:{topic}")
        self._abort_if_unique_id_configured()
        return self.async_create_entry(
            title=title,
            data={CONF_GATEWAY: kind, **data},
            options={CONF_SILENCE_LIMIT: DEFAULT_SILENCE_LIMIT_MIN},
        )

    def _async_show_gateway_form(
        self,
        step_id: str,
        fields: dict[Any, Any],
        user_input: dict[str, Any] | None,
        errors: dict[str, str],
    ) -> ConfigFlowResult:
        """A gateway's form, keeping what the user typed when it comes back with errors."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(flow_schema(fields), user_input or {}),
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
        return self._async_show_gateway_form(kind, fields, user_input, errors)

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
        kind = entry.data.get(CONF_GATEWAY)  # a building has no connection to change
        errors: dict[str, str] = {}
        if kind == GATEWAY_CHIRPSTACK_MQTT:
            if user_input is not None:
                template, application_id = _chirpstack_subscription(user_input)
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

    # -- the built-in demo site -------------------------------------------------------

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


def webhook_placeholders(hass: HomeAssistant, data: Mapping[str, Any]) -> dict[str, str]:
    """URL, header and secret a network server needs to post to this gateway."""
    try:
        url = webhook.async_generate_url(hass, data[CONF_WEBHOOK_ID])
    except NoURLAvailableError:
        url = webhook.async_generate_path(data[CONF_WEBHOOK_ID])
    event = "?event=up" if data[CONF_GATEWAY] == GATEWAY_CHIRPSTACK_HTTP else ""
    return {"url": url, "event": event, "header": SECRET_HEADER, "secret": data[CONF_SECRET]}


_PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_BACKFILL_FIELDS: dict[Any, Any] = {
    vol.Required(CONF_BACKFILL, default=False): BooleanSelector(),
    vol.Optional(CONF_HOST): TextSelector(),
    vol.Optional(CONF_API_KEY): _PASSWORD,
}


def _chirpstack_subscription(user_input: Mapping[str, Any]) -> tuple[str, str | None]:
    """The topic template and application filter as typed (stripped; empty is no filter)."""
    template: str = user_input[CONF_TOPIC_TEMPLATE].strip()
    return template, (user_input.get(CONF_APPLICATION_ID) or "").strip() or None


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
    from .tts import StorageAuthError, async_check_storage  # noqa: PLC0415

    try:
        await async_check_storage(
            hass, _clean_host(user_input[CONF_HOST]), application_id, user_input[CONF_API_KEY]
        )
    except StorageAuthError:
        return {CONF_API_KEY: "invalid_api_key"}
    except Exception:
        return {CONF_HOST: "cannot_connect"}
    return {}
