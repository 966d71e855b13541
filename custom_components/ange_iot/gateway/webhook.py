"""Webhook transport shared by the HTTP gateways (ChirpStack HTTP, TTS webhooks).

Security: the network server sends a shared secret in ``SECRET_HEADER``, compared in
constant time; a missing or wrong secret gets a bare 401 and is never logged. Bodies over
``MAX_BODY_BYTES`` get 413 without being read whole. Everything else answers 200 at once
(a network server retries on errors, which would only repeat a bad message).
"""

from __future__ import annotations

from collections.abc import Callable
import hmac
from http import HTTPStatus

from aiohttp import web
from aiohttp.hdrs import METH_POST
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback

from ..const import CONF_SECRET, CONF_WEBHOOK_ID, DOMAIN, MAX_BODY_BYTES, SECRET_HEADER
from .transport import LnsEvent, MessageSink, Reject

type BodyParser = Callable[[bytes, web.Request], LnsEvent | None]


async def _read_limited(request: web.Request, limit: int) -> bytes:
    """Read the body up to ``limit`` bytes (``StreamReader.read`` may return less)."""
    body = bytearray()
    while len(body) < limit:
        chunk = await request.content.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


@callback
def async_register_webhook(
    hass: HomeAssistant,
    entry: ConfigEntry,
    sink: MessageSink,
    parse: BodyParser,
    *,
    source: str,
) -> Callable[[], None]:
    """Register the entry's webhook, delivering to ``sink``; returns the unregister callback."""
    webhook_id: str = entry.data[CONF_WEBHOOK_ID]
    secret: str = entry.data[CONF_SECRET]

    async def handle(hass: HomeAssistant, webhook_id: str, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            sink.async_reject(Reject.UNAUTHORIZED, source, f"from {request.remote}")
            return web.Response(status=HTTPStatus.UNAUTHORIZED)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            sink.async_reject(
                Reject.OVERSIZED, source, f"({request.content_length} bytes > {MAX_BODY_BYTES})"
            )
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = await _read_limited(request, MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            sink.async_reject(Reject.OVERSIZED, source, f"(more than {MAX_BODY_BYTES} bytes)")
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        sink.async_handle_message(lambda: parse(body, request), source=source)
        return web.Response(status=HTTPStatus.OK)

    webhook.async_register(
        hass,
        DOMAIN,
        entry.title,
        webhook_id,
        handle,
        allowed_methods=[METH_POST],
        local_only=False,
    )

    @callback
    def unregister() -> None:
        webhook.async_unregister(hass, webhook_id)

    return unregister
