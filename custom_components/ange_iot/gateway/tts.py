"""The Things Stack v3 gateways: webhook or MQTT, with backfill from the storage integration.

Both carry the same ``ApplicationUp`` JSON (parsed by ``angelib.lns.tts``); hardware is
identified by ``end_device_ids.dev_eui``, never by the user-chosen device id in the topic.

Backfill (``CONF_BACKFILL``): when the gateway starts, and when messages arrive again after
a silence (``async_traffic_resumed``), the uplinks stored by The Things Stack's storage
integration since the *backfill position* are fetched in the background and fed, oldest
first, through ``MessageSink.async_receive``:

* The position is the ``received_at`` of the newest uplink this gateway received, live or
  backfilled. It is persisted with the device states, so a restart continues from there;
  the first time (no position yet) the last ``FIRST_BACKFILL`` is fetched. Each fetch starts
  ``BACKFILL_OVERLAP`` before the position (uplinks can arrive out of order) and never more
  than ``MAX_LOOKBACK`` back; the owning device's dedup makes a replay apply once, and
  ``DeviceState.apply`` never lets a late uplink roll newer values back.
* Uplinks simulated in the TTS Console are applied (they carry a real DevEUI and someone
  sent them on purpose) but never move the position: a test uplink sent while the real
  traffic was lost must not mark that gap as covered.
* Lines of the stream that cannot be parsed are counted as rejected messages; the rest is
  applied. A refused API key (HTTP 401/403) starts a reauth flow; any other failure is
  logged once and retried on the next start or resume. The API key is never logged.
* Fetches are paged (``PAGE_SIZE`` uplinks, at most ``MAX_PAGES`` per run); what remains
  after that is fetched on the next run, since the position has moved on.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from http import HTTPStatus
import logging
from typing import Any

from aiohttp import ClientError, ClientTimeout, web
from homeassistant.components import mqtt, webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from ..angelib.lns import tts
from ..angelib.pipeline import Outcome
from ..angelib.uplink import MessageError, Uplink
from ..const import (
    CONF_API_KEY,
    CONF_APPLICATION_ID,
    CONF_BACKFILL,
    CONF_HOST,
    CONF_TENANT,
    CONF_WEBHOOK_ID,
    DOMAIN,
    GATEWAY_TTS_MQTT,
    GATEWAY_TTS_WEBHOOK,
    LOGGER,
    SECRET_HEADER,
)
from .transport import LnsEvent, MessageSink, Reject, Transport
from .webhook import async_register_webhook

SOURCE_WEBHOOK = "tts_webhook"
SOURCE_MQTT = "tts_mqtt"
SOURCE_STORAGE = "tts_storage"

# Placeholders for the topic in diagnostics (valid TTS ids, so the topic still builds).
REDACTED_APPLICATION = "redacted-application"
REDACTED_TENANT = "redacted-tenant"

FIRST_BACKFILL = timedelta(hours=1)
BACKFILL_OVERLAP = timedelta(minutes=1)
MAX_LOOKBACK = timedelta(days=7)
PAGE_SIZE = 1000
MAX_PAGES = 20
FETCH_TIMEOUT = ClientTimeout(total=60)
CHECK_TIMEOUT = ClientTimeout(total=15)


class StorageError(Exception):
    """The storage integration could not be read (network, HTTP error, bad host)."""


class StorageAuthError(StorageError):
    """The Things Stack refused the API key (HTTP 401 or 403)."""


async def _async_fetch(
    hass: HomeAssistant,
    host: str,
    application_id: str,
    api_key: str,
    *,
    after: datetime,
    limit: int,
    request_timeout: ClientTimeout,
) -> bytes:
    """One storage integration request; the body as bytes. Messages never hold the key."""
    try:
        url = tts.storage_url(host, application_id, after=after, limit=limit)
    except ValueError as err:
        raise StorageError(str(err)) from err
    session = async_get_clientsession(hass)
    try:
        async with session.get(
            url, headers=tts.storage_headers(api_key), timeout=request_timeout
        ) as response:
            if response.status in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN):
                raise StorageAuthError(f"HTTP {response.status}")
            if response.status >= HTTPStatus.BAD_REQUEST:
                raise StorageError(f"HTTP {response.status}")
            return await response.read()
    except TimeoutError as err:
        raise StorageError("timed out") from err
    except ClientError as err:
        raise StorageError(type(err).__name__) from err
    except ValueError as err:  # e.g. an API key that is not a valid header value
        raise StorageError("invalid request") from err


async def async_check_storage(
    hass: HomeAssistant, host: str, application_id: str, api_key: str
) -> None:
    """Make one small storage request; ``StorageAuthError`` if the key is refused.

    Any other problem (unknown host, timeout, storage integration not enabled, ...) raises
    ``StorageError``.
    """
    await _async_fetch(
        hass,
        host,
        application_id,
        api_key,
        after=dt_util.utcnow() - timedelta(minutes=1),
        limit=1,
        request_timeout=CHECK_TIMEOUT,
    )


def create_tts_transport(
    hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink, kind: str
) -> Transport:
    """The transport of a The Things Stack entry."""
    if kind == GATEWAY_TTS_WEBHOOK:
        return TtsWebhookGateway(hass, entry, sink)
    if kind == GATEWAY_TTS_MQTT:
        return TtsMqttGateway(hass, entry, sink)
    raise ValueError(f"not a The Things Stack gateway: {kind!r}")


def _application_of(data: dict[str, Any]) -> str | None:
    """``end_device_ids.application_ids.application_id`` of a message, if present."""
    ids = data.get("end_device_ids")
    app_ids = ids.get("application_ids") if isinstance(ids, dict) else None
    app = app_ids.get("application_id") if isinstance(app_ids, dict) else None
    return app if isinstance(app, str) else None


class TtsGateway(Transport):
    """What both The Things Stack transports share: the application and the backfill."""

    source: str
    transport: str

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Read the entry's settings."""
        super().__init__(hass, entry, sink)
        data = entry.data
        self.application_id: str | None = data.get(CONF_APPLICATION_ID) or None
        self.host: str | None = data.get(CONF_HOST) or None
        self._api_key: str | None = data.get(CONF_API_KEY) or None
        self.backfill_enabled = bool(
            data.get(CONF_BACKFILL) and self.host and self._api_key and self.application_id
        )
        self._backfill_task: asyncio.Task[None] | None = None
        self._failing = False  # the last backfill failed (logged once until it works)
        self.last_backfill: dict[str, Any] = {}

    @callback
    def async_stop(self) -> None:
        """Cancel a running backfill."""
        if self._backfill_task is not None and not self._backfill_task.done():
            self._backfill_task.cancel()
        self._backfill_task = None

    @callback
    def async_traffic_resumed(self) -> None:
        """Fetch what was missed while no messages arrived."""
        self.async_start_backfill("traffic resumed")

    @callback
    def _note_received(self, event: LnsEvent | None) -> None:
        """A live uplink moves the backfill position (console-simulated ones do not)."""
        if self.backfill_enabled and isinstance(event, Uplink) and not tts.is_simulated(event):
            self.sink.async_set_backfill_position(min(event.received_at, dt_util.utcnow()))

    @callback
    def async_start_backfill(self, reason: str) -> None:
        """Start a backfill in the background (never blocks setup); one at a time."""
        if not self.backfill_enabled:
            return
        if self._backfill_task is not None and not self._backfill_task.done():
            LOGGER.debug("%s: backfill already running (%s)", self.entry.title, reason)
            return
        now = dt_util.utcnow()
        position = self.sink.backfill_position
        # Taken now: a message that triggered this may move the position right after.
        since = (
            now - FIRST_BACKFILL
            if position is None
            else max(position - BACKFILL_OVERLAP, now - MAX_LOOKBACK)
        )
        LOGGER.debug("%s: fetching uplinks stored since %s (%s)", self.entry.title, since, reason)
        self._backfill_task = self.entry.async_create_background_task(
            self.hass, self._async_backfill(since), f"{DOMAIN} backfill {self.entry.title}"
        )

    async def _async_backfill(self, since: datetime) -> None:
        """Fetch and apply the stored uplinks received after ``since``, page by page."""
        assert self.host is not None
        assert self.application_id is not None
        assert self._api_key is not None
        title = self.entry.title
        stats: dict[str, Any] = {"fetched": 0, "applied": 0, "errors": 0}
        self.last_backfill = {"since": since.isoformat(), "result": "running", **stats}
        after = since
        try:
            for _page in range(MAX_PAGES):
                body = await _async_fetch(
                    self.hass,
                    self.host,
                    self.application_id,
                    self._api_key,
                    after=after,
                    limit=PAGE_SIZE,
                    request_timeout=FETCH_TIMEOUT,
                )
                uplinks, errors = tts.parse_storage_stream(body, source=SOURCE_STORAGE)
                self._apply(uplinks, errors, stats)
                newest = max((u.received_at for u in uplinks), default=None)
                if len(uplinks) + len(errors) < PAGE_SIZE or newest is None or newest <= after:
                    break
                after = newest
            else:
                LOGGER.info(
                    "%s: more than %d missed uplinks; the rest is fetched next time",
                    title,
                    MAX_PAGES * PAGE_SIZE,
                )
        except StorageAuthError as err:
            stats["result"] = "auth_failed"
            self._failed(f"refused the API key ({err})", auth=True)
            self.entry.async_start_reauth(self.hass)
            return
        except StorageError as err:
            stats["result"] = "failed"
            self._failed(str(err), auth=False)
            return
        else:
            stats["result"] = "ok"
        finally:
            self.last_backfill = {"at": dt_util.utcnow().isoformat(), "since": since.isoformat()}
            self.last_backfill.update(stats)
        if self._failing:
            self._failing = False
            LOGGER.info("%s: fetching missed uplinks works again", title)
        LOGGER.log(
            logging.INFO if stats["applied"] else logging.DEBUG,
            "%s: fetched %d stored uplinks since %s, %d of them new",
            title,
            stats["fetched"],
            since.isoformat(timespec="seconds"),
            stats["applied"],
        )

    @callback
    def _apply(self, uplinks: list[Uplink], errors: list[str], stats: dict[str, Any]) -> None:
        """Feed one page in order; count bad lines; move the position."""
        for error in errors:
            self.sink.async_reject(
                Reject.MALFORMED, SOURCE_STORAGE, f"from the storage integration: {error}"
            )
        stats["errors"] += len(errors)
        newest: datetime | None = None
        for uplink in uplinks:
            stats["fetched"] += 1
            result = self.sink.async_receive(uplink)
            if result is not None and result.outcome is Outcome.APPLIED:
                stats["applied"] += 1
            if not tts.is_simulated(uplink) and (newest is None or uplink.received_at > newest):
                newest = uplink.received_at
        if newest is not None:
            self.sink.async_set_backfill_position(min(newest, dt_util.utcnow()))

    def _failed(self, detail: str, *, auth: bool) -> None:
        """Log a failed backfill once (until one works again); retried on start/resume."""
        if self._failing:
            LOGGER.debug("%s: fetching missed uplinks failed again: %s", self.entry.title, detail)
            return
        self._failing = True
        LOGGER.warning(
            "%s: could not fetch missed uplinks from The Things Stack at %s: %s%s",
            self.entry.title,
            self.host,
            detail,
            "; enter a new API key" if auth else "; retried on the next restart or outage",
        )

    def diagnostics(self) -> dict[str, object]:
        """Transport and backfill state (no API key, secret, webhook id, host or application)."""
        position = self.sink.backfill_position
        return {
            "transport": self.transport,
            "application_filter": self.application_id is not None,
            "backfill": {
                "enabled": self.backfill_enabled,
                "position": position.isoformat() if position else None,
                "running": self._backfill_task is not None and not self._backfill_task.done(),
                "last_run": dict(self.last_backfill),
            },
        }


class TtsWebhookGateway(TtsGateway):
    """A The Things Stack webhook posting ``ApplicationUp`` JSON to Home Assistant."""

    source = SOURCE_WEBHOOK
    transport = "webhook"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Prepare; ``async_start`` registers the webhook."""
        super().__init__(hass, entry, sink)
        self._webhook_id: str = entry.data[CONF_WEBHOOK_ID]
        self._unregister: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Register the webhook, then fetch what was missed."""
        self._unregister = async_register_webhook(
            self.hass, self.entry, self.sink, self._parse, source=SOURCE_WEBHOOK
        )
        self.async_start_backfill("start")

    @callback
    def async_stop(self) -> None:
        """Unregister the webhook and stop a running backfill."""
        super().async_stop()
        if self._unregister is not None:
            self._unregister()
            self._unregister = None

    def _parse(self, body: bytes, request: web.Request) -> LnsEvent | None:
        """Parse one webhook body; another application's messages are ignored quietly."""
        data = tts.loads(body)
        app = _application_of(data)
        if self.application_id is not None and app is not None and app != self.application_id:
            LOGGER.debug("%s: ignored a message of application %s", self.entry.title, app)
            return None
        suffix = request.path.removeprefix(webhook.async_generate_path(self._webhook_id))
        event = tts.parse_event(suffix, data, source=SOURCE_WEBHOOK)
        self._note_received(event)
        return event

    def connection_info(self) -> dict[str, str]:
        """Where The Things Stack posts to and which header carries the secret."""
        try:
            url = webhook.async_generate_url(self.hass, self._webhook_id)
        except NoURLAvailableError:
            url = webhook.async_generate_path(self._webhook_id)
        return {"url": url, "header": SECRET_HEADER}

    def diagnostics(self) -> dict[str, object]:
        """Webhook and backfill state (no webhook id, secret or API key)."""
        return {**super().diagnostics(), "registered": self._unregister is not None}


class TtsMqttGateway(TtsGateway):
    """The Things Stack's MQTT uplinks, bridged onto Home Assistant's broker (QoS 0)."""

    source = SOURCE_MQTT
    transport = "mqtt"

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, sink: MessageSink) -> None:
        """Prepare the subscription topic; ``async_start`` subscribes."""
        super().__init__(hass, entry, sink)
        self.tenant: str | None = entry.data.get(CONF_TENANT) or None
        self.topic = tts.subscription_topic(self.application_id, self.tenant)
        self._unsubscribe: CALLBACK_TYPE | None = None

    async def async_start(self) -> None:
        """Subscribe once Home Assistant's MQTT client is available, then backfill."""
        if not await mqtt.async_wait_for_mqtt_client(self.hass):
            raise ConfigEntryNotReady(translation_domain=DOMAIN, translation_key="mqtt_not_ready")
        self._unsubscribe = await mqtt.async_subscribe(
            self.hass, self.topic, self._async_message_received, qos=0, encoding=None
        )
        self.async_start_backfill("start")

    @callback
    def async_stop(self) -> None:
        """Unsubscribe and stop a running backfill."""
        super().async_stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @callback
    def _async_message_received(self, msg: mqtt.ReceiveMessage) -> None:
        topic, payload = msg.topic, msg.payload
        parts = topic.split("/")
        device_id = parts[3] if len(parts) > 3 and parts[3] else topic

        def parse() -> LnsEvent | None:
            if not isinstance(payload, bytes | str):
                raise MessageError(f"unexpected payload type {type(payload).__name__}")
            event = tts.parse_mqtt(topic, payload, source=SOURCE_MQTT)
            self._note_received(event)
            return event

        self.sink.async_handle_message(parse, source=SOURCE_MQTT, key=device_id)

    def connection_info(self) -> dict[str, str]:
        """The topic Home Assistant reads."""
        return {"topic": self.topic}

    def diagnostics(self) -> dict[str, object]:
        """Transport, subscription and backfill state (the application id redacted)."""
        return {
            **super().diagnostics(),
            "topic": tts.subscription_topic(
                REDACTED_APPLICATION if self.application_id else None,
                REDACTED_TENANT if self.tenant else None,
            ),
            "subscribed": self._unsubscribe is not None,
        }
