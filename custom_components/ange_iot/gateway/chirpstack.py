"""ChirpStack v4 gateways: the MQTT integration (via HA's broker) and the HTTP integration.

Both hand raw bodies to the pure parsers in ``angelib.lns.chirpstack`` through
``MessageSink.async_handle_message``, which counts every message, turns a ``MessageError`` into
a counted, rate-limited rejection and routes ``up``/``status``/``join`` to the device's owner.
Other events (``ack``, ``txack``, ``log``, ...) are ignored quietly.

With an application id configured, events of other ChirpStack applications are ignored
quietly too: the MQTT subscription filters them when the topic template has
``{applicationId}``; otherwise (and for HTTP) the body's ``deviceInfo.applicationId`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web
from homeassistant.components import mqtt, webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.network import NoURLAvailableError

from ..angelib.lns import chirpstack
from ..angelib.uplink import MessageError, normalise_dev_eui
from ..const import (
    CONF_APPLICATION_ID,
    CONF_TOPIC_TEMPLATE,
    CONF_WEBHOOK_ID,
    DOMAIN,
    GATEWAY_CHIRPSTACK_HTTP,
    GATEWAY_CHIRPSTACK_MQTT,
    SECRET_HEADER,
)
from .transport import LnsEvent, MessageSink, Transport
from .webhook import async_register_webhook

SOURCE_MQTT = GATEWAY_CHIRPSTACK_MQTT
SOURCE_HTTP = GATEWAY_CHIRPSTACK_HTTP
REDACTED_APPLICATION = "**REDACTED**"


def create_chirpstack_transport(
    hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink, kind: str
) -> Transport:
    """The ChirpStack transport of an entry (``kind`` is its gateway type)."""
    if kind == GATEWAY_CHIRPSTACK_MQTT:
        return ChirpStackMqttGateway(hass, entry, sink)
    if kind == GATEWAY_CHIRPSTACK_HTTP:
        return ChirpStackHttpGateway(hass, entry, sink)
    raise ValueError(f"not a ChirpStack gateway type: {kind!r}")


def _application_filter(data: Mapping[str, Any]) -> str | None:
    """The configured application id (lower case), or None for all applications."""
    value = data.get(CONF_APPLICATION_ID)
    return (value.strip().lower() or None) if isinstance(value, str) else None


def other_application(body: Mapping[str, Any], application_id: str | None) -> bool:
    """True when ``body`` names a ChirpStack application other than ``application_id``.

    A body without ``deviceInfo.applicationId`` cannot be told apart and is kept.
    """
    if application_id is None:
        return False
    info = body.get("deviceInfo")
    app = info.get("applicationId") if isinstance(info, Mapping) else None
    return isinstance(app, str) and bool(app) and app.strip().lower() != application_id


class ChirpStackMqttGateway(Transport):
    """ChirpStack's MQTT integration, read from Home Assistant's MQTT broker (JSON only)."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Read the topic template and the optional application filter from the entry."""
        super().__init__(hass, entry, sink)
        data = entry.data
        self.template: str = chirpstack.validate_topic_template(data[CONF_TOPIC_TEMPLATE])
        self.application_id = _application_filter(data)
        self.topic = chirpstack.subscription_topic(self.template, data.get(CONF_APPLICATION_ID))
        levels = self.template.split("/")
        self._dev_eui_level = levels.index("{devEui}")
        self._levels = len(levels)
        # The subscription filters by application only if the template names it.
        self._filter_body = self.application_id is not None and "{applicationId}" not in levels
        self._unsubscribe: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Subscribe once Home Assistant's MQTT client is available."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
        self._unsubscribe = await mqtt.async_subscribe(
            self.hass, self.topic, self._async_message, qos=0, encoding=None
        )

    @callback
    def async_stop(self) -> None:
        """Unsubscribe."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _async_message(self, msg: mqtt.ReceiveMessage) -> None:
        """One MQTT message: parsed, counted and routed by the sink (cheap, no INFO logging)."""
        topic = msg.topic
        payload = bytes(msg.payload) if isinstance(msg.payload, bytearray) else msg.payload
        self.sink.async_handle_message(
            lambda: self.parse(topic, payload),
            source=SOURCE_MQTT,
            key=lambda: self._key(topic),  # only needed to log a rejection
        )

    def parse(self, topic: str, payload: bytes | str) -> LnsEvent | None:
        """Topic and raw payload to an event; None when ignored on purpose."""
        if not self._filter_body:
            return chirpstack.parse_mqtt(self.template, topic, payload, source=SOURCE_MQTT)
        # As chirpstack.parse_mqtt, plus the application filter on the body.
        fields = chirpstack.parse_topic(self.template, topic)
        event = fields["event"]
        if event in chirpstack.EVENTS_IGNORED:
            return None
        data = chirpstack.loads(payload)
        if other_application(data, self.application_id):
            return None
        parsed = chirpstack.parse_event(event, data, source=SOURCE_MQTT)
        if parsed is not None:
            chirpstack.check_topic_dev_eui(fields["devEui"], parsed)
        return parsed

    def _key(self, topic: str) -> str:
        """Groups log lines: the topic's DevEUI when it has one, else the topic."""
        parts = topic.split("/")
        if len(parts) == self._levels:
            try:
                return normalise_dev_eui(parts[self._dev_eui_level])
            except MessageError:
                pass
        return topic

    def connection_info(self) -> dict[str, str]:
        """The topic subscribed to on Home Assistant's broker."""
        return {"topic": self.topic}

    def diagnostics(self) -> dict[str, object]:
        """Subscription details; the application id is redacted."""
        topic = self.topic
        if self.application_id is not None and not self._filter_body:
            levels = self.template.split("/")
            parts = topic.split("/")
            parts[levels.index("{applicationId}")] = REDACTED_APPLICATION
            topic = "/".join(parts)
        return {
            "transport": "mqtt",
            "topic": topic,
            "subscribed": self._unsubscribe is not None,
            "application_filter": self.application_id is not None,
        }


class ChirpStackHttpGateway(Transport):
    """ChirpStack's HTTP integration, posting events to a webhook with ``?event=<name>``."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Read the optional application filter from the entry."""
        super().__init__(hass, entry, sink)
        self.application_id = _application_filter(entry.data)
        self._unregister: Callable[[], None] | None = None

    async def async_start(self) -> None:
        """Register the webhook."""
        self._unregister = async_register_webhook(
            self.hass, self.entry, self.sink, self.parse, source=SOURCE_HTTP
        )

    @callback
    def async_stop(self) -> None:
        """Unregister the webhook."""
        if self._unregister is not None:
            self._unregister()
            self._unregister = None

    def parse(self, body: bytes, request: web.Request) -> LnsEvent | None:
        """One POSTed body; the event name comes from the URL's ``?event=``."""
        event = request.query.get("event")
        if not event:
            raise MessageError(
                "missing ?event= in the URL: ChirpStack's HTTP integration adds it; use the "
                "URL shown in the gateway's options"
            )
        if event in chirpstack.EVENTS_IGNORED:
            return None
        data = chirpstack.loads(body)
        if other_application(data, self.application_id):
            return None
        return chirpstack.parse_event(event, data, source=SOURCE_HTTP)

    def connection_info(self) -> dict[str, str]:
        """The URL ChirpStack posts to and the header that carries the secret."""
        webhook_id = self.entry.data[CONF_WEBHOOK_ID]
        try:
            url = webhook.async_generate_url(self.hass, webhook_id)
        except NoURLAvailableError:
            url = webhook.async_generate_path(webhook_id)
        return {"url": url, "header": SECRET_HEADER}

    def diagnostics(self) -> dict[str, object]:
        """Webhook state (no id, no secret)."""
        return {
            "transport": "webhook",
            "registered": self._unregister is not None,
            "application_filter": self.application_id is not None,
        }
